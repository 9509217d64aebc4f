-- Stored invocations of application inference profiles the bill resolved after they were
-- loaded (inference_profiles.resolved_by = 'bill', the row's model still NULL), laid out as an
-- ingest batch for invocations_resolve.sql and invocations_upsert.sql: resolved and priced
-- exactly as a fresh record is, with the attribution, guardrail policies and source object
-- they were stored with. Grain: requestId. Params: none.
CREATE OR REPLACE TEMP TABLE inv_parsed AS
SELECT i.* EXCLUDE (model, model_unresolved, profile_kind, profile_scope, lob, app,
                    attribution_rule, principal_arn, guardrail_policies, est_cost_usd,
                    price_basis, source_object),
       i.request_id AS attr_key, i.source_object AS local_file, NULL::VARCHAR AS reason
FROM invocations AS i
JOIN inference_profiles AS p ON p.arn = i.model_id AND p.resolved_by = 'bill'
WHERE i.model IS NULL;

CREATE OR REPLACE TEMP TABLE inv_attr AS
SELECT i.request_id AS attr_key, i.lob, i.app, i.attribution_rule AS rule, i.principal_arn
FROM invocations AS i JOIN inv_parsed AS p USING (request_id, ts);

CREATE OR REPLACE TEMP TABLE inv_objects AS
SELECT DISTINCT local_file, local_file AS source_object FROM inv_parsed;

CREATE OR REPLACE TEMP TABLE inv_policies AS
SELECT i.request_id, i.guardrail_policies AS policies
FROM invocations AS i JOIN inv_parsed AS p USING (request_id, ts)
WHERE i.guardrail_policies IS NOT NULL;
