-- Daily busiest minute per account, Region and model, for the quota runway: the day's highest
-- hourly peak in quota tokens (CloudWatch's EstimatedTPMQuotaUsage where the day has it, else
-- the logs' estimate), the day's busiest minute in requests, and its calls and throttles.
-- Grain: account x region x model x day. Parameters: $start (DATE, first day).
WITH logs AS (
    SELECT account_id, region, model, CAST(hour AS DATE) AS day,
           max(peak_tokens) AS log_tokens, max(peak_requests) AS peak_requests,
           sum(throttles) AS throttles, sum(invocations) AS invocations
    FROM quota_peaks_hourly
    WHERE source = 'logs' AND hour >= $start::TIMESTAMP AND model IS NOT NULL
    GROUP BY ALL
), cw AS (
    SELECT account_id, region, model, CAST(hour AS DATE) AS day, max(peak_tokens) AS cw_tokens
    FROM quota_peaks_hourly
    WHERE source = 'cloudwatch' AND hour >= $start::TIMESTAMP AND model IS NOT NULL
    GROUP BY ALL
)
SELECT coalesce(l.account_id, c.account_id) AS account_id,
       coalesce(l.region, c.region) AS region, coalesce(l.model, c.model) AS model,
       coalesce(l.day, c.day) AS day,
       coalesce(c.cw_tokens, l.log_tokens) AS peak_tokens,
       CASE WHEN c.cw_tokens IS NOT NULL THEN 'cloudwatch' ELSE 'logs' END AS tokens_source,
       l.peak_requests, coalesce(l.throttles, 0) AS throttles,
       coalesce(l.invocations, 0) AS invocations
FROM logs AS l
FULL JOIN cw AS c ON c.account_id = l.account_id AND c.region = l.region
    AND c.model = l.model AND c.day = l.day
ORDER BY account_id, region, model, day
