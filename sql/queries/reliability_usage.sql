-- Reliability from the invocation logs: volume, failures and latency per day, LOB,
-- application and model, in one scan (the page sums it per LOB and model over time, and per
-- application over the period).
-- Grain: day x LOB x application (a NULL app is '(none)') x model, after the scope and every
-- filter. Latency (to the last token) and first byte (InvokeModelWithResponseStream records
-- carry it): the mean is exact (ms_sum / count); the percentiles come as
-- sums of the hourly percentile x its invocations, and those invocations, so any grouping can
-- average them with invocations as weight (an approximation of the percentile).
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
SELECT
    CAST(hour AS DATE) AS day, lob, coalesce(app, '(none)') AS app,
    coalesce(model, '(unresolved)') AS model,
    sum(invocations)::BIGINT AS invocations,
    sum(errors)::BIGINT AS errors,
    sum(throttles)::BIGINT AS throttles,
    sum(latency_count)::BIGINT AS latency_count,
    sum(latency_ms_sum) AS latency_ms_sum,
    sum(latency_p50_ms * latency_count) AS latency_p50_weighted,
    sum(latency_count) FILTER (WHERE latency_p50_ms IS NOT NULL)::BIGINT AS latency_p50_count,
    sum(latency_p90_ms * latency_count) AS latency_p90_weighted,
    sum(latency_count) FILTER (WHERE latency_p90_ms IS NOT NULL)::BIGINT AS latency_p90_count,
    sum(latency_p95_ms * latency_count) AS latency_p95_weighted,
    sum(latency_count) FILTER (WHERE latency_p95_ms IS NOT NULL)::BIGINT AS latency_p95_count,
    sum(latency_p99_ms * latency_count) AS latency_p99_weighted,
    sum(latency_count) FILTER (WHERE latency_p99_ms IS NOT NULL)::BIGINT AS latency_p99_count,
    sum(first_byte_count)::BIGINT AS first_byte_count,
    sum(first_byte_ms_sum) AS first_byte_ms_sum,
    sum(first_byte_p50_ms * first_byte_count) AS first_byte_p50_weighted,
    sum(first_byte_count) FILTER (WHERE first_byte_p50_ms IS NOT NULL)::BIGINT
        AS first_byte_p50_count,
    sum(first_byte_p90_ms * first_byte_count) AS first_byte_p90_weighted,
    sum(first_byte_count) FILTER (WHERE first_byte_p90_ms IS NOT NULL)::BIGINT
        AS first_byte_p90_count,
    sum(first_byte_p99_ms * first_byte_count) AS first_byte_p99_weighted,
    sum(first_byte_count) FILTER (WHERE first_byte_p99_ms IS NOT NULL)::BIGINT
        AS first_byte_p99_count
FROM usage_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY day, lob, app, model
