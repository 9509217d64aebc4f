-- Overview month tiles: estimated spend this month to date against the same elapsed span of
-- last month, and where the month lands against budget (forecast_landing, newest run).
-- Grain: one row. Spend honours the scope and every filter but the period; the landing is per
-- LOB series ('total' when all LOBs are in view), so it honours the LOB filter and the scope
-- only. p_exceed and status are given when exactly one series is in view (they do not add up).
-- Parameters: $mtd_start/$mtd_end and $prev_mtd_start/$prev_mtd_end (UTC, end exclusive),
-- $today (UTC date), $lobs, $apps, $models, $regions, $accounts, $all_lobs/$allowed_lobs.
WITH usage AS (
    SELECT hour, est_cost_usd
    FROM usage_hourly
    WHERE hour >= $prev_mtd_start::TIMESTAMP AND hour < $mtd_end::TIMESTAMP
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
      AND picked($lobs::VARCHAR[], lob)
      AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
      AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
),
landing AS (
    SELECT *
    FROM forecast_landing
    WHERE period_kind = 'month' AND $today::DATE BETWEEN period_start AND period_end
      AND CASE
            WHEN $all_lobs AND len($lobs::VARCHAR[]) = 0 THEN series = 'total'
            ELSE series LIKE 'lob:%'
                 AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], substr(series, 5)))
                 AND picked($lobs::VARCHAR[], substr(series, 5))
          END
    QUALIFY row_number() OVER (PARTITION BY series ORDER BY run_at DESC) = 1
)
SELECT
    (SELECT sum(est_cost_usd) FROM usage
     WHERE hour >= $mtd_start::TIMESTAMP AND hour < $mtd_end::TIMESTAMP)          AS mtd_cost,
    (SELECT sum(est_cost_usd) FROM usage
     WHERE hour >= $prev_mtd_start::TIMESTAMP AND hour < $prev_mtd_end::TIMESTAMP) AS prev_mtd_cost,
    (SELECT count(*) FROM landing)                                                 AS series,
    (SELECT sum(actual_to_date) FROM landing)                                      AS actual_to_date,
    (SELECT sum(landing) FROM landing)                                             AS landing,
    (SELECT sum(budget) FROM landing)                                              AS budget,
    (SELECT count(budget) FROM landing)                                            AS budgets,
    (SELECT CASE WHEN count(*) = 1 THEN any_value(lo80) END FROM landing)          AS lo80,
    (SELECT CASE WHEN count(*) = 1 THEN any_value(hi80) END FROM landing)          AS hi80,
    (SELECT CASE WHEN count(*) = 1 THEN any_value(p_exceed) END FROM landing)      AS p_exceed,
    (SELECT CASE WHEN count(*) = 1 THEN any_value(status) END FROM landing)        AS status,
    (SELECT max(run_at) FROM landing)                                              AS run_at
