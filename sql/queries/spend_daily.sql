-- Spend: allocated spend per day, LOB, model and token kind in the selected period, from the
-- bill where it has arrived and from the estimate after it.
-- Grain: day x LOB x model x token_kind x source ('bill' | 'estimate').
-- Bill days (up to the newest cost_allocated day): cost_allocated, the bill split across LOBs.
-- The application, region and account filters split it further by their share of estimated
-- cost in that day, LOB and model (the bill knows none of them). Later days, or every day when
-- no bill has been allocated: estimated cost from usage_hourly, split into token kinds by each
-- kind's tokens x its price (the prices table, the region's own row before '*'), so the kinds
-- add up to the estimate. Unpriced usage has no estimate and is left out.
-- Parameters: $first_day/$last_day (UTC dates, inclusive), $lobs, $apps, $models, $regions,
-- $accounts (empty = all), $all_lobs/$allowed_lobs.
WITH bill_end AS (SELECT coalesce(max(usage_date), DATE '0001-01-01') AS day FROM cost_allocated),
shares AS (
    -- Only with an application, region or account filter: that slice's share of each day's
    -- estimated cost per LOB and model, to split the bill by (no filter: no scan at all).
    SELECT CAST(hour AS DATE) AS day, lob, coalesce(model, '(unresolved)') AS model,
           sum(est_cost_usd) FILTER (WHERE
               picked($apps::VARCHAR[], coalesce(app, '(none)'))
               AND picked($regions::VARCHAR[], region)
               AND picked($accounts::VARCHAR[], account_id))
           / nullif(sum(est_cost_usd), 0) AS share
    FROM usage_hourly
    WHERE len($apps::VARCHAR[]) + len($regions::VARCHAR[]) + len($accounts::VARCHAR[]) > 0
      AND hour >= $first_day::TIMESTAMP AND hour < $last_day::TIMESTAMP + INTERVAL 1 DAY
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
      AND picked($lobs::VARCHAR[], lob)
      AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
    GROUP BY ALL
),
bill AS (
    SELECT a.usage_date AS day, a.lob, a.model, a.token_kind,
           sum(a.allocated_cost)::DOUBLE * CASE
               WHEN len($apps::VARCHAR[]) + len($regions::VARCHAR[]) + len($accounts::VARCHAR[]) = 0
               THEN 1 ELSE coalesce(any_value(s.share), 0) END AS cost,
           'bill' AS source
    FROM cost_allocated AS a
    LEFT JOIN shares AS s ON s.day = a.usage_date AND s.lob = a.lob AND s.model = a.model
    WHERE a.usage_date BETWEEN $first_day::DATE AND $last_day::DATE
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], a.lob))
      AND picked($lobs::VARCHAR[], a.lob)
      AND picked($models::VARCHAR[], a.model)
    GROUP BY a.usage_date, a.lob, a.model, a.token_kind
),
late AS (
    -- The days after the bill's last one (usually one or two), every filter applied.
    SELECT CAST(hour AS DATE) AS day, lob, coalesce(model, '(unresolved)') AS model, region,
           sum(est_cost_usd) AS est, sum(input_tokens) AS input_t,
           sum(output_tokens) AS output_t, sum(cache_read_tokens) AS read_t,
           sum(cache_write_tokens) AS write_t
    FROM usage_hourly
    WHERE hour >= $first_day::TIMESTAMP AND hour < $last_day::TIMESTAMP + INTERVAL 1 DAY
      AND hour >= (SELECT day FROM bill_end) + INTERVAL 1 DAY
      AND est_cost_usd IS NOT NULL
      AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))
      AND picked($lobs::VARCHAR[], lob)
      AND picked($apps::VARCHAR[], coalesce(app, '(none)'))
      AND picked($models::VARCHAR[], coalesce(model, '(unresolved)'))
      AND picked($regions::VARCHAR[], region)
      AND picked($accounts::VARCHAR[], account_id)
    GROUP BY ALL
),
priced AS (
    SELECT l.*, p.input_per_1m AS p_in, p.output_per_1m AS p_out,
           coalesce(p.cache_read_per_1m, p.input_per_1m) AS p_read,
           coalesce(p.cache_write_per_1m, p.input_per_1m) AS p_write
    FROM late AS l
    LEFT JOIN prices AS p
      ON p.model = l.model AND p.region IN (l.region, '*') AND p.effective_from <= l.day
    QUALIFY row_number() OVER (
        PARTITION BY l.day, l.lob, l.model, l.region
        ORDER BY (p.region = l.region) DESC, p.effective_from DESC) = 1
),
weights AS (
    SELECT day, lob, model, region, est,
           unnest(['input', 'output', 'cache_read', 'cache_write']) AS token_kind,
           unnest([input_t * coalesce(p_in, 1), output_t * coalesce(p_out, 1),
                   read_t * coalesce(p_read, 1), write_t * coalesce(p_write, 1)]) AS w
    FROM priced
),
estimate AS (
    SELECT day, lob, model, token_kind,
           sum(CASE WHEN total_w > 0 THEN est * w / total_w
                    WHEN token_kind = 'input' THEN est ELSE 0 END) AS cost,
           'estimate' AS source
    FROM (SELECT *, sum(w) OVER (PARTITION BY day, lob, model, region) AS total_w FROM weights)
    GROUP BY day, lob, model, token_kind
)
SELECT day, lob, model, token_kind, cost, source FROM bill WHERE cost <> 0
UNION ALL
SELECT day, lob, model, token_kind, cost, source FROM estimate WHERE cost <> 0
ORDER BY day, lob, model, token_kind
