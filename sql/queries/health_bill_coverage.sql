-- Data health: how much of the Bedrock-family bill has usage-level records, per kind of spend
-- (cost_daily.usage_kind: tokens, batch, mantle, provisioned, ...). Token spend counts as
-- covered where invocation logs hold calls of that day, model and region; other kinds never
-- reach the logs. One bill source per day (CUR, else FOCUS, else Cost Explorer), as billed
-- (net of discounts). Grain: kind. The bill spans every LOB, so only a reader of all LOBs
-- sees it ($all_lobs). Parameters: $first_day/$last_day (UTC dates, inclusive), $all_lobs.
WITH ranked AS (
    SELECT *, CASE source WHEN 'cur' THEN 0 WHEN 'focus' THEN 1 ELSE 2 END AS rank
    FROM cost_daily
    WHERE breakdown = 'total' AND usage_date BETWEEN $first_day::DATE AND $last_day::DATE
      AND $all_lobs
), bill AS (
    SELECT usage_date, coalesce(usage_kind, 'tokens') AS kind, model, region,
        coalesce(net_unblended_cost, unblended_cost) AS cost
    FROM ranked
    QUALIFY rank = min(rank) OVER (PARTITION BY usage_date)
), logged AS (
    SELECT DISTINCT CAST(hour AS DATE) AS usage_date, model, region
    FROM usage_hourly
    WHERE hour >= $first_day::TIMESTAMP AND hour < $last_day::TIMESTAMP + INTERVAL 1 DAY
      AND invocations > 0
)
SELECT b.kind, CAST(sum(b.cost) AS DOUBLE) AS billed,
    CAST(coalesce(sum(b.cost) FILTER (WHERE b.kind = 'tokens' AND l.model IS NOT NULL), 0)
         AS DOUBLE) AS with_records,
    list(DISTINCT b.region ORDER BY b.region)
        FILTER (WHERE b.kind = 'tokens' AND l.model IS NULL AND b.region IS NOT NULL)
        AS gap_regions
FROM bill AS b
LEFT JOIN logged AS l USING (usage_date, model, region)
GROUP BY b.kind
ORDER BY billed DESC
