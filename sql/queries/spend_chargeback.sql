-- Spend: the chargeback behind the downloads and `genai-lens export`: every share of every bill
-- line (cost_allocated), with the line's payer, usage account, region, invoice, resource,
-- caller, tags, list cost and quantities. Grain: bill line x LOB (x basis).
-- It follows the invoice exactly (10 decimals, the bill's own), so only the period, LOB and
-- model filters apply (the bill has no application, and splitting it by region or account
-- would no longer add up to it).
-- Parameters: $first_day/$last_day (UTC dates, inclusive), $lobs, $models,
-- $all_lobs/$allowed_lobs.
SELECT a.usage_date AS day, a.lob, a.model, a.token_kind, a.basis, a.bill_source,
       a.allocated_cost, a.est_cost, a.share, a.service, a.usage_type,
       a.account_id, a.account_name, a.payer_account_id, a.payer_account_name, a.region,
       a.invoice_id, a.invoice_issuer, a.resource_id, a.principal_arn,
       CAST(to_json(coalesce(a.tags, MAP {})) AS VARCHAR) AS tags_json,
       a.list_cost, a.list_unit_price, a.usage_quantity * a.share AS usage_quantity,
       a.usage_unit, a.sku_id, a.sku_price_id, a.publisher, a.estimated, a.app
FROM cost_allocated AS a
WHERE a.usage_date BETWEEN $first_day::DATE AND $last_day::DATE
  AND ($all_lobs OR list_contains($allowed_lobs::VARCHAR[], a.lob))
  AND picked($lobs::VARCHAR[], a.lob)
  AND picked($models::VARCHAR[], a.model)
ORDER BY day, a.lob, a.model, a.token_kind, a.basis, a.account_id, a.region, a.usage_type,
         a.resource_id, a.principal_arn, a.allocated_cost
