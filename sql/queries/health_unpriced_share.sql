-- Data health / Spend KPI: the share of the window's bill the catalog cannot price (token
-- lines of an unknown model, usage type or tier), and of its logged calls without a price.
-- One source per day as in health_unpriced_bill.sql. Grain: one row.
-- Parameters: $start/$end (UTC, end exclusive), $all_lobs, $allowed_lobs.
WITH lines AS (
    SELECT usage_date, source, model, token_kind, coalesce(service_tier, 'default') AS tier,
        CAST(unblended_cost AS DOUBLE) AS cost
    FROM cost_daily
    WHERE breakdown = 'total' AND usage_date >= $start::DATE AND usage_date < $end::DATE
), pick AS (
    SELECT usage_date,
        arg_min(source, CASE source WHEN 'cur' THEN 1 WHEN 'focus' THEN 2 ELSE 3 END) AS source
    FROM lines GROUP BY usage_date
), bill AS (
    SELECT l.* FROM lines l JOIN pick p USING (usage_date, source)
)
SELECT
    (SELECT sum(cost) FILTER (WHERE
            (model IS NULL AND token_kind <> 'other')
            OR (model IS NOT NULL AND model NOT IN (SELECT model FROM prices))
            OR (token_kind <> 'other'
                AND tier NOT IN (SELECT value FROM price_rules WHERE rule = 'tier')
                  AND EXISTS (SELECT 1 FROM price_rules WHERE rule = 'tier')))
        / nullif(sum(cost), 0) FROM bill WHERE $all_lobs) AS bill_share,
    (SELECT sum(unpriced_invocations)::DOUBLE / nullif(sum(invocations), 0) FROM usage_hourly
        WHERE hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
          AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob))) AS call_share
