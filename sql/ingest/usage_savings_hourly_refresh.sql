-- Rebuild usage_savings_hourly for the hours in $hours (grain: hour x account x region x LOB x
-- app x model x operation): the facts behind the Capacity page's what-if savings, so the page
-- never scans invocations. Run beside usage_hourly_refresh.sql for the hours a batch touched.
-- Rows an hour before the first hour and a minute after the last are read too, so a repeat
-- (prompt caching) or a retry that crosses an hour boundary is seen from both sides; a repeat
-- that arrives in a later batch than its hour is counted when that hour is next rebuilt.
-- Rules (README, "Capacity & savings"):
--  * prompt caching: calls that succeeded, did not use the cache already and whose prefix is at
--    least 1024 tokens (the smallest a Claude or Nova cache point accepts). Prefix tokens =
--    input tokens x prefix bytes / request bytes, at most prefix bytes / 2. A hit at TTL t =
--    the same prefix MD5 from the same account, region and model less than t before; else a
--    miss (a write).
--  * retry storm: calls with the same request MD5 from the same account, app and model, each
--    within 10 s of the one before, form a chain; a chain with a failed call (throttle or
--    error) is a storm, and every billed call in it but its first success is waste.
--  * cut at max_tokens: stop reason max_tokens/length/LENGTH/MAX_TOKENS. Blocked: a guardrail
--    intervened. Both as the calls' own estimated cost.
-- Calls in the same second are ordered by request_id: which of them is the hit and which the
-- write, or the first success of a chain, must not change from one run to the next.
DELETE FROM usage_savings_hourly WHERE hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO usage_savings_hourly BY NAME
WITH rows AS MATERIALIZED (
    SELECT request_id, ts, account_id, region, lob, app, model, operation, est_cost_usd,
           error_code,
           input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, max_tokens,
           stop_reason, guardrail_action, profile_scope, input_body_md5, prefix_md5,
           -- A prefix holds at most one token per two bytes (English runs ~4, UTF-8 CJK ~3):
           -- the cap keeps a short system prompt short when the request's tokens are mostly
           -- in a part the logs do not show (an attached document, earlier turns).
           CASE WHEN prefix_bytes > 0 AND input_body_bytes > 0
                THEN round(least(input_tokens * least(1.0, prefix_bytes / input_body_bytes),
                                 prefix_bytes / 2))::BIGINT
           END AS prefix_tokens
    FROM invocations
    WHERE ts >= list_min($hours::TIMESTAMP[]) - INTERVAL 1 HOUR
      AND ts < list_max($hours::TIMESTAMP[]) + INTERVAL 61 MINUTE
), prefixed AS (
    SELECT *,
        date_diff('second', lag(ts) OVER (
            PARTITION BY account_id, region, model, prefix_md5 ORDER BY ts, request_id), ts)
            AS prefix_gap
    FROM rows
    WHERE prefix_md5 IS NOT NULL AND error_code IS NULL
      AND cache_read_tokens = 0 AND cache_write_tokens = 0 AND prefix_tokens >= 1024
), chained AS (
    SELECT *,
        sum(CASE WHEN gap IS NULL OR gap > 10 THEN 1 ELSE 0 END) OVER (
            PARTITION BY account_id, app, model, input_body_md5
            ORDER BY ts, error_code NULLS LAST, request_id ROWS UNBOUNDED PRECEDING) AS chain
    FROM (
        SELECT *, date_diff('second', lag(ts) OVER (
            PARTITION BY account_id, app, model, input_body_md5 ORDER BY ts,
            error_code NULLS LAST, request_id), ts) AS gap
        FROM rows WHERE input_body_md5 IS NOT NULL
            -- Only a chain with a failed call is a storm: the window sorts run over the
            -- requests that failed at least once, not every call of the range.
            AND (account_id, app, model, input_body_md5) IN (
                SELECT (account_id, app, model, input_body_md5) FROM rows
                WHERE error_code IS NOT NULL)
    )
), chains AS (
    SELECT *,
        count(*) OVER c AS chain_calls,
        count(error_code) OVER c AS chain_failures,
        row_number() OVER (PARTITION BY account_id, app, model, input_body_md5, chain,
                           error_code IS NULL ORDER BY ts, request_id) AS nth_of_kind
    FROM chained
    WINDOW c AS (PARTITION BY account_id, app, model, input_body_md5, chain)
), storms AS (
    SELECT request_id,
           CASE WHEN chain_calls > 1 AND chain_failures > 0
                     AND NOT (error_code IS NULL AND nth_of_kind = 1)
                THEN coalesce(est_cost_usd, 0) END AS waste,
           chain_calls > 1 AND chain_failures > 0 AND NOT (error_code IS NULL AND nth_of_kind = 1)
               AS retried
    FROM chains
), per_call AS (
    SELECT r.*, p.prefix_gap, p.prefix_tokens AS cacheable, s.waste,
           coalesce(s.retried, false) AS retried
    FROM rows r
    LEFT JOIN prefixed p USING (request_id)
    LEFT JOIN storms s USING (request_id)
    WHERE date_trunc('hour', r.ts) IN (SELECT unnest($hours::TIMESTAMP[]))
)
SELECT
    date_trunc('hour', ts) AS hour, account_id, region, lob, app, model, operation,
    count(*) AS invocations,
    sum(est_cost_usd::DECIMAL(38, 18))::DOUBLE AS est_cost_usd,
    count(cacheable) AS prefix_calls,
    coalesce(sum(cacheable) FILTER (WHERE prefix_gap < 300), 0) AS prefix_hit5_tokens,
    coalesce(sum(cacheable) FILTER (WHERE prefix_gap IS NULL OR prefix_gap >= 300), 0)
        AS prefix_miss5_tokens,
    coalesce(sum(cacheable) FILTER (WHERE prefix_gap < 3600), 0) AS prefix_hit60_tokens,
    coalesce(sum(cacheable) FILTER (WHERE prefix_gap IS NULL OR prefix_gap >= 3600), 0)
        AS prefix_miss60_tokens,
    count(*) FILTER (WHERE profile_scope = 'geo') AS geo_invocations,
    sum(est_cost_usd::DECIMAL(38, 18)) FILTER (WHERE profile_scope = 'geo')::DOUBLE
        AS geo_cost_usd,
    count(*) FILTER (WHERE retried) AS retry_invocations,
    sum(waste::DECIMAL(38, 18))::DOUBLE AS retry_waste_usd,
    count(*) FILTER (WHERE stop_reason IN ('max_tokens', 'length', 'LENGTH', 'MAX_TOKENS'))
        AS cut_invocations,
    sum(est_cost_usd::DECIMAL(38, 18)) FILTER (
        WHERE stop_reason IN ('max_tokens', 'length', 'LENGTH', 'MAX_TOKENS'))::DOUBLE
        AS cut_cost_usd,
    count(*) FILTER (WHERE guardrail_action = 'INTERVENED') AS blocked_invocations,
    sum(est_cost_usd::DECIMAL(38, 18)) FILTER (WHERE guardrail_action = 'INTERVENED')::DOUBLE
        AS blocked_cost_usd,
    count(max_tokens) FILTER (WHERE error_code IS NULL) AS reserved_invocations,
    sum(max_tokens) FILTER (WHERE error_code IS NULL) AS max_tokens_sum,
    sum(output_tokens) FILTER (WHERE error_code IS NULL AND max_tokens IS NOT NULL)
        AS reserved_output_tokens
FROM per_call
GROUP BY ALL;
