-- Capacity & savings: each application's token mix and when it runs, for the model-swap and
-- batch/flex what-ifs: input, output and cache tokens and estimated spend, split into calls that
-- stream (someone is waiting for the first token) or not, and into off-hours ($batch_start <= UTC
-- hour < $batch_end) or not.
-- Grain: LOB x application (a NULL app is '(none)') x model x streamed x off_hours, after the
-- scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $batch_start/$batch_end (UTC hours), $lobs,
-- $apps, $models, $regions, $accounts, $all_lobs/$allowed_lobs.
SELECT lob, coalesce(app, '(none)') AS app, coalesce(model, '(unresolved)') AS model,
       operation IN ('InvokeModelWithResponseStream', 'ConverseStream') AS streamed,
       hour(hour) >= $batch_start AND hour(hour) < $batch_end AS off_hours,
       sum(invocations)::BIGINT AS invocations,
       sum(input_tokens)::BIGINT AS input_tokens,
       sum(output_tokens)::BIGINT AS output_tokens,
       sum(cache_read_tokens)::BIGINT AS cache_read_tokens,
       sum(cache_write_tokens)::BIGINT AS cache_write_tokens,
       sum(est_cost_usd) AS est_cost_usd,
       sum(unpriced_invocations)::BIGINT AS unpriced_invocations
FROM usage_hourly
WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
  AND picked($lobs::VARCHAR[], lob)
  AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
  AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
ORDER BY lob, app, model, streamed, off_hours
