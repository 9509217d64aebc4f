-- Spend: the chargeback behind the downloads: the bill of each day split across LOBs, model
-- and token kind (cost_allocated), with the usage account and region where the bill names
-- exactly one for that day and model. Grain: day x LOB x model x token_kind x basis.
-- It follows the invoice to the cent, so only the period, LOB and model filters apply (the bill
-- has no application, and splitting it by region or account would no longer add up to it).
-- Parameters: $first_day/$last_day (UTC dates, inclusive), $lobs, $models,
-- $all_lobs/$allowed_lobs.
WITH bill_keys AS (
    SELECT usage_date, model,
           CASE WHEN count(DISTINCT account_id) = 1 THEN any_value(account_id) END AS account_id,
           CASE WHEN count(DISTINCT region) = 1 THEN any_value(region) END AS region
    FROM cost_daily
    WHERE breakdown = 'total' AND usage_date BETWEEN $first_day::DATE AND $last_day::DATE
    GROUP BY ALL
)
SELECT a.usage_date AS day, a.lob, a.model, a.token_kind, a.basis, a.bill_source,
       a.allocated_cost, a.est_cost, k.account_id, k.region
FROM cost_allocated AS a
LEFT JOIN bill_keys AS k ON k.usage_date = a.usage_date AND k.model = a.model
WHERE a.usage_date BETWEEN $first_day::DATE AND $last_day::DATE
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], a.lob))
  AND picked($lobs::VARCHAR[], a.lob)
  AND picked($models::VARCHAR[], a.model)
ORDER BY day, a.lob, a.model, a.token_kind, a.basis
