-- Resolve parsed records into invocation rows (grain: requestId): the foundation model behind
-- any profile form, the LOB/app from inv_attr (attribution over distinct keys), and the
-- estimated cost from the price catalog in force on the day. inv_parsed holds each
-- requestId once (invocations_dedupe.sql runs first when a batch repeats one). Model ids and
-- prices are resolved once per distinct id / (model, region, day), then joined back.
-- A view: the upsert's INSERT computes it, in one pass over inv_parsed (the CTEs are inlined,
-- not materialised: each copy of the batch's rows costs as much as the joins).
CREATE OR REPLACE TEMP VIEW inv_ready AS
WITH ok AS NOT MATERIALIZED (
    SELECT *, ts::DATE AS day FROM inv_parsed WHERE reason IS NULL
), ids AS (
    SELECT model_id,
        CASE WHEN model_id LIKE 'arn:%' THEN regexp_extract(model_id, '/([^/]+)$', 1)
             ELSE model_id END AS short_id,
        CASE WHEN model_id LIKE 'arn:%:application-inference-profile/%' THEN 'application_profile'
             WHEN model_id LIKE 'arn:%:inference-profile/%' THEN 'system_profile'
             WHEN model_id LIKE 'arn:%:foundation-model/%' THEN 'foundation'
             WHEN model_id LIKE 'arn:%' THEN 'other'
             WHEN gl_geo_prefix(model_id) IS NOT NULL THEN 'system_profile'
             ELSE 'foundation' END AS profile_kind
    FROM (SELECT DISTINCT model_id FROM ok)
), models AS (
    SELECT i.model_id, i.profile_kind,
        CASE WHEN i.profile_kind = 'system_profile' THEN
            CASE WHEN gl_geo_prefix(i.short_id) = 'global' THEN 'global' ELSE 'geo' END
        END AS profile_scope,
        CASE WHEN i.profile_kind IN ('application_profile', 'other') THEN ip.model
             ELSE regexp_replace(i.short_id, '^(us|eu|apac|global|us-gov|jp|au|ca|ap)\.', '')
        END AS model,
        CASE WHEN i.profile_kind IN ('application_profile', 'other') AND ip.model IS NULL THEN
            coalesce(ip.error, CASE WHEN i.profile_kind = 'application_profile'
                THEN 'application inference profile not resolved: list it under '
                     '[[inference_profiles]] or set resolve_profiles_with_api = true'
                ELSE 'model ARN is not a foundation model or inference profile: list it '
                     'under [[inference_profiles]]' END)
        END AS model_unresolved
    FROM ids i LEFT JOIN inference_profiles ip ON ip.arn = i.model_id
), resolved AS NOT MATERIALIZED (
    SELECT o.*, m.profile_kind, m.profile_scope, m.model, m.model_unresolved
    FROM ok o JOIN models m USING (model_id)
), days AS (
    SELECT DISTINCT model, region, day, '*' AS any_region FROM resolved
), rates AS (
    SELECT d.model, d.region, d.day,
        coalesce(pr.input_per_1m, pa.input_per_1m) AS p_in,
        coalesce(pr.output_per_1m, pa.output_per_1m) AS p_out,
        CASE WHEN pr.model IS NOT NULL THEN pr.cache_read_per_1m
             ELSE pa.cache_read_per_1m END AS p_cr,
        CASE WHEN pr.model IS NOT NULL THEN pr.cache_write_per_1m
             ELSE pa.cache_write_per_1m END AS p_cw,
        coalesce(pr.geo_premium, pa.geo_premium, 0) AS p_geo
    FROM days d
    ASOF LEFT JOIN prices pr
        ON pr.model = d.model AND pr.region = d.region AND pr.effective_from <= d.day
    ASOF LEFT JOIN prices pa
        ON pa.model = d.model AND pa.region = d.any_region AND pa.effective_from <= d.day
), priced AS (
    SELECT r.*, t.p_in, t.p_out, t.p_cr, t.p_cw, t.p_geo
    FROM resolved r
    LEFT JOIN rates t ON t.model IS NOT DISTINCT FROM r.model
        AND t.region IS NOT DISTINCT FROM r.region AND t.day = r.day
)
SELECT
    p.request_id, p.ts, p.account_id, p.region, p.inference_region, p.operation, p.model_id,
    p.model, p.model_unresolved, p.profile_kind, p.profile_scope, p.identity_arn,
    a.principal_arn, p.request_metadata, a.lob, a.app, a.rule AS attribution_rule,
    p.input_tokens, p.output_tokens, p.cache_read_tokens, p.cache_write_tokens,
    p.latency_ms, p.first_byte_ms, p.stop_reason, p.error_code, p.guardrail_action,
    g.policies AS guardrail_policies,
    p.input_body_bytes, p.output_body_bytes, p.input_body_md5,
    p.max_tokens, p.prefix_md5, p.prefix_bytes,
    p.input_body_s3_path, p.output_body_s3_path,
    -- A token kind without a price makes the whole estimate unknown, never a silent $0.
    CASE WHEN p.p_in IS NULL
              OR (p.cache_read_tokens > 0 AND p.p_cr IS NULL)
              OR (p.cache_write_tokens > 0 AND p.p_cw IS NULL) THEN NULL
         ELSE (p.input_tokens * p.p_in + p.output_tokens * p.p_out
               + p.cache_read_tokens * coalesce(p.p_cr, 0)
               + p.cache_write_tokens * coalesce(p.p_cw, 0)) / 1e6
              * CASE WHEN p.profile_scope = 'geo' THEN 1 + p.p_geo ELSE 1 END
    END AS est_cost_usd,
    p.schema_version,
    o.source_object
FROM priced p
JOIN inv_attr a ON a.attr_key = p.attr_key
JOIN inv_objects o ON o.local_file = p.local_file
LEFT JOIN inv_policies g ON g.request_id = p.request_id;

-- The source object of each record inv_ready holds (grain: requestId), without the joins that
-- resolve it: what the bookkeeping counts per object.
CREATE OR REPLACE TEMP VIEW inv_loaded AS
SELECT o.source_object
FROM inv_parsed p JOIN inv_objects o USING (local_file)
WHERE p.reason IS NULL;
