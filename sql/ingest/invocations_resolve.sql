-- Resolve parsed records into invocation rows (grain: requestId): the foundation model behind
-- any profile form, the LOB/app from inv_attr (attribution over distinct keys), and the
-- estimated cost: per token kind, the rate learned from the bill (effective_rates) where
-- there is one, else the catalog price in force on the day times the price rules of the
-- call's service tier, latency mode, context size and scope (README: How genai-lens prices
-- a call). inv_parsed holds each
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
        CASE WHEN pr.model IS NOT NULL THEN pr.cache_write_1h_per_1m
             ELSE pa.cache_write_1h_per_1m END AS p_cw1h,
        coalesce(pr.geo_premium, pa.geo_premium, 0) AS p_geo
    FROM days d
    ASOF LEFT JOIN prices pr
        ON pr.model = d.model AND pr.region = d.region AND pr.effective_from <= d.day
    ASOF LEFT JOIN prices pa
        ON pa.model = d.model AND pa.region = d.any_region AND pa.effective_from <= d.day
), modes AS (
    -- The catalog's multipliers per distinct (model, tier, latency mode): a model's own rule
    -- wins over the '*' one. An unknown tier or mode finds no rule: the call is unpriced.
    SELECT m.model, m.service_tier, m.latency_mode,
        coalesce(ts.input_factor, ta.input_factor) AS t_in,
        coalesce(ts.output_factor, ta.output_factor) AS t_out,
        coalesce(ls.input_factor, la.input_factor) AS l_in,
        coalesce(ls.output_factor, la.output_factor) AS l_out,
        coalesce(cs.min_input_tokens, ca.min_input_tokens) AS long_from,
        coalesce(cs.input_factor, ca.input_factor, 1) AS long_in,
        coalesce(cs.output_factor, ca.output_factor, 1) AS long_out,
        coalesce(h1s.input_factor, h1a.input_factor) AS ttl_1h
    FROM (SELECT DISTINCT model, service_tier, latency_mode FROM resolved) m
    LEFT JOIN price_rules ts ON ts.rule = 'tier' AND ts.value = m.service_tier
        AND ts.model = m.model
    LEFT JOIN price_rules ta ON ta.rule = 'tier' AND ta.value = m.service_tier AND ta.model = '*'
    LEFT JOIN price_rules ls ON ls.rule = 'latency' AND ls.value = m.latency_mode
        AND ls.model = m.model
    LEFT JOIN price_rules la ON la.rule = 'latency' AND la.value = m.latency_mode
        AND la.model = '*'
    LEFT JOIN price_rules cs ON cs.rule = 'context' AND cs.value = 'long' AND cs.model = m.model
    LEFT JOIN price_rules ca ON ca.rule = 'context' AND ca.value = 'long' AND ca.model = '*'
    LEFT JOIN price_rules h1s ON h1s.rule = 'cache_ttl' AND h1s.value = '1h'
        AND h1s.model = m.model
    LEFT JOIN price_rules h1a ON h1a.rule = 'cache_ttl' AND h1a.value = '1h' AND h1a.model = '*'
), learned AS (
    -- Rates learned from the bill (models run), per token kind, for each distinct key.
    SELECT k.model, k.service_tier, k.scope, k.region,
        max(per_1m) FILTER (WHERE token_kind = 'input') AS b_in,
        max(per_1m) FILTER (WHERE token_kind = 'output') AS b_out,
        max(per_1m) FILTER (WHERE token_kind = 'cache_read') AS b_cr,
        max(per_1m) FILTER (WHERE token_kind = 'cache_write' AND cache_ttl <> '1h') AS b_cw,
        max(per_1m) FILTER (WHERE token_kind = 'cache_write' AND cache_ttl = '1h') AS b_cw1h
    FROM (SELECT DISTINCT model, service_tier, region,
            CASE WHEN profile_scope = 'global' THEN 'global' ELSE 'regional' END AS scope
          FROM resolved) k
    JOIN effective_rates e ON e.model = k.model AND e.service_tier = k.service_tier
        AND e.pricing_scope = k.scope AND e.region = k.region
    GROUP BY ALL
), priced AS (
    SELECT r.*, t.p_in, t.p_out, t.p_cr, t.p_cw, t.p_geo,
        coalesce(t.p_cw1h, CASE WHEN t.p_cw IS NOT NULL THEN t.p_in * md.ttl_1h END) AS p_cw1h,
        -- Geo and in-region calls pay the premium over global ones (models with a global price).
        CASE WHEN r.profile_scope = 'global' THEN 1 ELSE 1 + t.p_geo END AS scope_f,
        md.long_from IS NOT NULL AND r.input_tokens + r.cache_read_tokens
            + r.cache_write_tokens >= md.long_from AS long_ctx,
        md.t_in * md.l_in * CASE WHEN long_ctx THEN md.long_in ELSE 1 END * scope_f AS f_in,
        md.t_out * md.l_out * CASE WHEN long_ctx THEN md.long_out ELSE 1 END * scope_f AS f_out,
        -- A learned rate already holds tier, scope and discount; it is used for the standard
        -- latency mode and ordinary context sizes, which is what the bill's token lines price.
        r.latency_mode = 'standard' AND NOT long_ctx AND r.service_tier <> 'reserved' AS learnable,
        l.b_in, l.b_out, l.b_cr, l.b_cw, l.b_cw1h
    FROM resolved r
    LEFT JOIN rates t ON t.model IS NOT DISTINCT FROM r.model
        AND t.region IS NOT DISTINCT FROM r.region AND t.day = r.day
    LEFT JOIN modes md ON md.model IS NOT DISTINCT FROM r.model
        AND md.service_tier = r.service_tier AND md.latency_mode = r.latency_mode
    LEFT JOIN learned l ON l.model IS NOT DISTINCT FROM r.model
        AND l.service_tier = r.service_tier AND l.region IS NOT DISTINCT FROM r.region
        AND l.scope = CASE WHEN r.profile_scope = 'global' THEN 'global' ELSE 'regional' END
), kinds AS (
    -- Cost per token kind (USD): the learned rate where there is one, else the list price
    -- with its multipliers; NULL when neither prices tokens that were used.
    SELECT *,
        gl_kind_cost(input_tokens, CASE WHEN learnable THEN b_in END, p_in * f_in) AS c_in,
        gl_kind_cost(output_tokens, CASE WHEN learnable THEN b_out END, p_out * f_out) AS c_out,
        gl_kind_cost(cache_read_tokens, CASE WHEN learnable THEN b_cr END, p_cr * f_in) AS c_cr,
        gl_kind_cost(cache_write_5m_tokens, CASE WHEN learnable THEN b_cw END, p_cw * f_in)
            AS c_cw5,
        gl_kind_cost(cache_write_1h_tokens, CASE WHEN learnable THEN b_cw1h END,
            p_cw1h * f_in) AS c_cw1h,
        [CASE WHEN input_tokens > 0 THEN learnable AND b_in IS NOT NULL END,
         CASE WHEN output_tokens > 0 THEN learnable AND b_out IS NOT NULL END,
         CASE WHEN cache_read_tokens > 0 THEN learnable AND b_cr IS NOT NULL END,
         CASE WHEN cache_write_5m_tokens > 0 THEN learnable AND b_cw IS NOT NULL END,
         CASE WHEN cache_write_1h_tokens > 0 THEN learnable AND b_cw1h IS NOT NULL END] AS from_bill,
        input_tokens + output_tokens + cache_read_tokens + cache_write_tokens > 0 AS used
    FROM priced
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
    -- A token kind without a price makes the whole estimate unknown, never a silent $0; so
    -- does a model (or tier, or latency mode) neither the catalog nor the bill prices, even
    -- on a call without tokens.
    CASE WHEN (p.p_in IS NOT NULL AND p.f_in IS NOT NULL)
              OR (p.learnable AND coalesce(p.b_in, p.b_out, p.b_cr, p.b_cw, p.b_cw1h) IS NOT NULL)
         THEN p.c_in + p.c_out + p.c_cr + p.c_cw5 + p.c_cw1h END AS est_cost_usd,
    p.service_tier, p.latency_mode, p.cache_write_5m_tokens, p.cache_write_1h_tokens,
    CASE WHEN est_cost_usd IS NULL THEN NULL
         WHEN p.service_tier = 'reserved' THEN 'reserved'
         WHEN NOT p.used THEN CASE WHEN p.p_in IS NOT NULL THEN 'list' ELSE 'bill' END
         WHEN list_bool_and(p.from_bill) THEN 'bill'
         WHEN list_bool_or(p.from_bill) THEN 'bill+list'
         ELSE 'list' END AS price_basis,
    p.schema_version,
    o.source_object
FROM kinds p
JOIN inv_attr a ON a.attr_key = p.attr_key
JOIN inv_objects o ON o.local_file = p.local_file
LEFT JOIN inv_policies g ON g.request_id = p.request_id;

-- The source object of each record inv_ready holds (grain: requestId), without the joins that
-- resolve it: what the bookkeeping counts per object.
CREATE OR REPLACE TEMP VIEW inv_loaded AS
SELECT o.source_object
FROM inv_parsed p JOIN inv_objects o USING (local_file)
WHERE p.reason IS NULL;
