-- Rebuild quota_peaks_hourly's 'logs' rows for the hours in $hours (grain: hour x account x
-- region x model x LOB): the busiest minute of the hour in quota tokens (input + cache write +
-- output x burndown; cache reads do not count; failed and throttled calls are left out, as
-- EstimatedTPMQuotaUsage leaves them), each LOB's tokens in that minute, the busiest minute in
-- requests, and the hour's calls and throttles. Run beside usage_hourly_refresh.sql.
DELETE FROM quota_peaks_hourly
WHERE source = 'logs' AND hour IN (SELECT unnest($hours::TIMESTAMP[]));
INSERT INTO quota_peaks_hourly BY NAME
WITH rows AS (
    SELECT date_trunc('minute', ts) AS minute, account_id, region, model, lob, error_code,
           CASE WHEN error_code IS NULL THEN
               input_tokens + cache_write_tokens + output_tokens
               * CASE WHEN regexp_matches(coalesce(model, ''),
                      '^anthropic\.claude-(3-7-sonnet|sonnet-4|opus-4|haiku-4)') THEN 5 ELSE 1 END
           ELSE 0 END AS quota_tokens
    FROM invocations
    WHERE ts >= list_min($hours::TIMESTAMP[])
      AND ts < list_max($hours::TIMESTAMP[]) + INTERVAL 1 HOUR
      AND date_trunc('hour', ts) IN (SELECT unnest($hours::TIMESTAMP[]))
), per_lob AS (
    SELECT minute, account_id, region, model, lob, sum(quota_tokens) AS tokens,
           count(*) FILTER (WHERE error_code IS NULL) AS served
    FROM rows GROUP BY ALL
), per_minute AS (
    SELECT minute, account_id, region, model, sum(tokens) AS tokens, sum(served) AS served
    FROM per_lob GROUP BY ALL
), peak AS (
    SELECT date_trunc('hour', minute) AS hour, account_id, region, model,
           -- A tie goes to the earliest minute: a rebuild must read the same.
           first(minute ORDER BY tokens DESC, minute) AS peak_minute, max(tokens) AS peak_tokens,
           max(served) AS peak_requests
    FROM per_minute GROUP BY ALL
), hourly AS (
    SELECT date_trunc('hour', minute) AS hour, account_id, region, model, lob,
           count(*) AS invocations,
           count(*) FILTER (WHERE error_code = 'ThrottlingException') AS throttles
    FROM rows GROUP BY ALL
)
SELECT h.hour, h.account_id, h.region, h.model, 'logs' AS source, h.lob, p.peak_minute,
       p.peak_tokens, p.peak_requests, coalesce(l.tokens, 0) AS lob_tokens, h.throttles,
       h.invocations
FROM hourly AS h
JOIN peak AS p ON p.hour = h.hour AND p.account_id IS NOT DISTINCT FROM h.account_id
    AND p.region IS NOT DISTINCT FROM h.region AND p.model IS NOT DISTINCT FROM h.model
LEFT JOIN per_lob AS l ON l.minute = p.peak_minute
    AND l.account_id IS NOT DISTINCT FROM h.account_id AND l.region IS NOT DISTINCT FROM h.region
    AND l.model IS NOT DISTINCT FROM h.model AND l.lob = h.lob;
