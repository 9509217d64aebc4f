-- Spend: the three sources of each day and model side by side, for the three-way
-- reconciliation (models/reconcile.py names each difference): invocation logs (calls and their
-- estimated cost, usage_hourly), CloudWatch AWS/Bedrock (Invocations + InvocationThrottles per
-- model: the logs record throttled calls too), and the bill (cost_reconciliation; whether any
-- of its lines is still estimated, i.e. may be restated). Grain: day x model. Token spend only
-- (the bill's other kinds never reach logs or these metrics). The bill has no LOB: all-LOB
-- readers only. Parameters: $first_day/$last_day (UTC dates, inclusive), $models, $all_lobs.
WITH logs AS (
    SELECT CAST(hour AS DATE) AS day, model, sum(invocations) AS logged_calls
    FROM usage_hourly
    WHERE hour >= $first_day::TIMESTAMP AND hour < $last_day::TIMESTAMP + INTERVAL 1 DAY
      AND model IS NOT NULL
    GROUP BY ALL
), cw AS (
    SELECT CAST(hour AS DATE) AS day, model, sum(sum) AS cw_calls
    FROM usage_metrics_hourly
    WHERE namespace = 'AWS/Bedrock' AND metric_name IN ('Invocations', 'InvocationThrottles')
      AND model IS NOT NULL
      AND hour >= $first_day::TIMESTAMP AND hour < $last_day::TIMESTAMP + INTERVAL 1 DAY
    GROUP BY ALL
), open_bill AS (
    SELECT usage_date AS day, model, bool_or(coalesce(estimated, false)) AS bill_estimated
    FROM cost_daily
    WHERE usage_date BETWEEN $first_day::DATE AND $last_day::DATE AND model IS NOT NULL
      AND coalesce(usage_kind, 'tokens') = 'tokens'
    GROUP BY ALL
)
SELECT r.usage_date AS day, r.model, CAST(r.est_cost AS DOUBLE) AS est_cost,
    CAST(r.billed_cost AS DOUBLE) AS billed_cost, CAST(l.logged_calls AS DOUBLE) AS logged_calls,
    CAST(c.cw_calls AS DOUBLE) AS cw_calls, coalesce(o.bill_estimated, false) AS bill_estimated
FROM cost_reconciliation AS r
LEFT JOIN logs AS l ON l.day = r.usage_date AND l.model = r.model
LEFT JOIN cw AS c ON c.day = r.usage_date AND c.model = r.model
LEFT JOIN open_bill AS o ON o.day = r.usage_date AND o.model = r.model
WHERE $all_lobs
  AND r.usage_date BETWEEN $first_day::DATE AND $last_day::DATE
  AND picked($models::VARCHAR[], r.model)
ORDER BY day, r.model
