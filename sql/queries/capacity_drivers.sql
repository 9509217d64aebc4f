-- Capacity & savings: which LOBs drive each model's busiest minutes: over the period, each
-- day's busiest hour per account, Region and model (from the logs), and each LOB's share of
-- the quota tokens in that hour's busiest minute.
-- Grain: region x model x LOB, after the scope and every filter.
-- Parameters: $start/$end (UTC, end exclusive), $lobs, $models, $regions, $accounts,
-- $all_lobs/$allowed_lobs.
WITH peaks AS (
    SELECT *
    FROM quota_peaks_hourly
    WHERE source = 'logs' AND hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
      AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
    QUALIFY dense_rank() OVER (PARTITION BY account_id, region, model, CAST(hour AS DATE)
                               ORDER BY peak_tokens DESC, hour) = 1
)
SELECT region, model, lob, days, peak_tokens,
       peak_tokens / sum(peak_tokens) OVER (PARTITION BY region, model) AS share
FROM (
    SELECT region, coalesce(model, '(unresolved)') AS model, lob,
           count(DISTINCT CAST(hour AS DATE))::BIGINT AS days, sum(lob_tokens) AS peak_tokens
    FROM peaks
    WHERE ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
      AND picked($lobs::VARCHAR[], lob)
    GROUP BY ALL
)
ORDER BY region, model, share DESC
