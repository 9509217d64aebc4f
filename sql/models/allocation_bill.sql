-- The bill's lines (cost_daily rows) for allocation: one row per line with what a FOCUS row
-- needs of it. Grain: a cost_daily row. 'total' rows add up to the bill; Cost Explorer's
-- 'tag:<key>' rows are a second split of the same spend (the runner takes the tagged part from
-- them, the rest from 'total'). cost_units is the exact cost in 1e-10 USD (the DECIMAL(18, 10)
-- scaled, never through a float) as billed: CUR's net unblended cost where it has one (after
-- discounts such as an EDP: what the invoice charges), else the unblended cost; list_units is the
-- line's list (public on-demand) cost. Parameters: $start (first usage day).
SELECT usage_date, model, token_kind, tags, breakdown, source,
    CAST(coalesce(net_unblended_cost, unblended_cost) AS DOUBLE) AS cost,
    CAST(coalesce(net_unblended_cost, unblended_cost) * 10000000000 AS BIGINT) AS cost_units,
    CAST(coalesce(list_cost, unblended_cost) * 10000000000 AS BIGINT) AS list_units,
    service, usage_type, account_id, account_name, payer_account_id, payer_account_name,
    region, invoice_id, invoice_issuer, resource_id, principal_arn, principal_tags,
    list_unit_price, usage_quantity, usage_unit, sku_id, sku_price_id, publisher, estimated
FROM cost_daily
WHERE usage_date >= $start
ORDER BY usage_date, model, token_kind, source, account_id, region, usage_type, resource_id,
    principal_arn, breakdown
