-- Stored invocations of application inference profiles the bill resolved after they were
-- loaded (inference_profiles.resolved_by = 'bill', the row's model still NULL), laid out as an
-- ingest batch for invocations_resolve.sql and invocations_upsert.sql: resolved and priced
-- exactly as a fresh record is, with the attribution, guardrail policies and source object
-- they were stored with. Read from invocations once. Grain: requestId. Params: none.
CREATE OR REPLACE TEMP TABLE inv_stored AS
SELECT i.*
FROM invocations AS i
JOIN inference_profiles AS p ON p.arn = i.model_id AND p.resolved_by = 'bill'
WHERE i.model IS NULL;

CREATE OR REPLACE TEMP TABLE inv_parsed AS
SELECT * EXCLUDE (model, model_unresolved, profile_kind, profile_scope, lob, app,
                  attribution_rule, principal_arn, guardrail_policies, est_cost_usd,
                  price_basis, source_object),
       request_id AS attr_key, source_object AS local_file, NULL::VARCHAR AS reason
FROM inv_stored;

CREATE OR REPLACE TEMP TABLE inv_attr AS
SELECT request_id AS attr_key, lob, app, attribution_rule AS rule, principal_arn
FROM inv_stored;

CREATE OR REPLACE TEMP TABLE inv_objects AS
SELECT DISTINCT source_object AS local_file, source_object FROM inv_stored;

CREATE OR REPLACE TEMP TABLE inv_policies AS
SELECT request_id, guardrail_policies AS policies FROM inv_stored
WHERE guardrail_policies IS NOT NULL;

DROP TABLE inv_stored;
