-- Overview KPI tiles: totals for the selected period and for the period before it.
-- Grain: one row per period ('current', 'previous'), after the LOB and model filters.
-- Parameters: $start/$end and $prev_start/$prev_end (UTC, end exclusive), $lobs and $models
-- (empty list = all; a NULL model matches '(unresolved)').
-- est_cost_usd sums priced usage only and stays NULL when nothing was priced: unpriced
-- invocations are counted on their own, never priced at $0.
WITH periods (period, period_start, period_end) AS (
    VALUES ('current', $start::TIMESTAMP, $end::TIMESTAMP),
           ('previous', $prev_start::TIMESTAMP, $prev_end::TIMESTAMP)
),
filtered AS (
    SELECT *
    FROM usage_hourly
    WHERE (len($lobs::VARCHAR[]) = 0 OR list_contains($lobs::VARCHAR[], lob))
      AND (len($models::VARCHAR[]) = 0
           OR list_contains($models::VARCHAR[], coalesce(model, '(unresolved)')))
)
SELECT
    p.period,
    coalesce(sum(u.invocations), 0)::BIGINT                           AS invocations,
    sum(u.est_cost_usd)                                               AS est_cost_usd,
    coalesce(sum(u.unpriced_invocations), 0)::BIGINT                  AS unpriced_invocations,
    coalesce(sum(u.input_tokens + u.output_tokens
                 + u.cache_read_tokens + u.cache_write_tokens), 0)::BIGINT AS tokens,
    coalesce(sum(u.errors), 0)::BIGINT                                AS errors,
    coalesce(sum(u.throttles), 0)::BIGINT                             AS throttles,
    coalesce(sum(u.guardrail_invocations), 0)::BIGINT                 AS guardrail_invocations,
    coalesce(sum(u.guardrail_interventions), 0)::BIGINT               AS guardrail_interventions,
    coalesce(sum(u.est_cost_usd) FILTER (WHERE u.lob = 'unattributed'), 0)
                                                                      AS unattributed_cost_usd,
    count(DISTINCT u.lob) FILTER (WHERE u.lob <> 'unattributed' AND u.invocations > 0)
                                                                      AS active_lobs,
    count(DISTINCT [u.lob, u.app]) FILTER (WHERE u.app IS NOT NULL AND u.invocations > 0)
                                                                      AS active_apps
FROM periods AS p
LEFT JOIN filtered AS u ON u.hour >= p.period_start AND u.hour < p.period_end
GROUP BY p.period
ORDER BY p.period
