-- Reliability: failed invocations by error code (ThrottlingException, ValidationException, ...)
-- per day, LOB and model, from the usage_errors_hourly rollup of the invocation logs.
-- Grain: day x error_code x LOB x model, after the scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $apps, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
SELECT
    CAST(hour AS DATE) AS day, error_code, lob, coalesce(model, '(unresolved)') AS model,
    sum(errors)::BIGINT AS errors
FROM usage_errors_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY day, error_code, lob, model
