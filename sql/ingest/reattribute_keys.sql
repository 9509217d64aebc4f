-- Distinct caller keys over all history (grain: account x identity x model x the
-- requestMetadata keys rules look at), for re-running attribution rules after they change.
CREATE OR REPLACE TEMP TABLE reattr_keys AS
SELECT DISTINCT
    hash(account_id, identity_arn, model_id, gl_md_project(request_metadata, $md_keys))
        AS attr_key,
    account_id, identity_arn, model_id,
    gl_md_project(request_metadata, $md_keys) AS attr_metadata
FROM invocations;
