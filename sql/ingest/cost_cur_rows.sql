-- CUR 2.0 lines (cost_raw: the export's columns we use, missing optional ones added as NULL)
-- -> cost_rows. Tax lines are left out; credits and refunds stay, as in Cost Explorer's
-- UnblendedCost. Amortized cost moves Savings Plans/RI coverage to its effective cost.
-- resource_tags keys are user_<tag>; only the configured tag keys are kept. The caller
-- (line_item_iam_principal, opt-in "include caller identity") and its IAM principal / STS
-- session tags (resource_tags keys iamPrincipal/<tag>, iamPrincipal_<tag> [assumed spelling])
-- are kept whole: attribution rules match them as they match a log's identity.
INSERT INTO cost_rows BY NAME
SELECT
    CAST(line_item_usage_start_date AS DATE) AS usage_date,
    line_item_usage_account_id AS account_id,
    coalesce(product['product_name'], CASE WHEN line_item_product_code = 'AmazonBedrock'
        THEN 'Amazon Bedrock' ELSE line_item_product_code END) AS service,
    line_item_usage_type AS usage_type,
    line_item_product_code AS product_code,
    nullif(product_region_code, '') AS region,
    map_from_entries(list_filter(
        list_transform(map_entries(coalesce(resource_tags, MAP {})),
            lambda e: {'key': regexp_replace(e.key, '^user_', ''), 'value': e.value}),
        lambda e: list_contains($tag_keys::VARCHAR[], e.key) AND coalesce(e.value, '') <> ''
    )) AS tags,
    map_from_entries(list_transform(list_filter(map_entries(coalesce(resource_tags, MAP {})),
            lambda e: regexp_matches(e.key, '^iam_?principal[/_:]', 'i')
                      AND coalesce(e.value, '') <> ''),
        lambda e: {'key': regexp_replace(e.key, '^iam_?principal[/_:]', '', 'i'),
                   'value': e.value})) AS principal_tags,
    nullif(line_item_iam_principal, '') AS principal_arn,
    nullif(line_item_resource_id, '') AS resource_id,
    bill_payer_account_id AS payer_account_id,
    bill_payer_account_name AS payer_account_name,
    line_item_usage_account_name AS account_name,
    nullif(bill_invoice_id, '') AS invoice_id,
    bill_invoicing_entity AS invoice_issuer,
    CAST(pricing_public_on_demand_cost AS DECIMAL(18, 10)) AS list_cost,
    TRY_CAST(pricing_public_on_demand_rate AS DECIMAL(18, 10)) AS list_unit_price,
    product_sku AS sku_id,
    pricing_rate_id AS sku_price_id,
    nullif(line_item_legal_entity, '') AS publisher,
    'total' AS breakdown,
    CAST(line_item_unblended_cost AS DECIMAL(18, 10)) AS unblended_cost,
    -- Each branch cast on its own: a CSV export's columns are text, a missing one DOUBLE.
    CASE line_item_line_item_type
        WHEN 'SavingsPlanCoveredUsage'
            THEN CAST(savings_plan_savings_plan_effective_cost AS DECIMAL(18, 10))
        WHEN 'DiscountedUsage' THEN CAST(reservation_effective_cost AS DECIMAL(18, 10))
        WHEN 'SavingsPlanNegation' THEN CAST(0 AS DECIMAL(18, 10))
        ELSE CAST(line_item_unblended_cost AS DECIMAL(18, 10)) END AS amortized_cost,
    CAST(line_item_net_unblended_cost AS DECIMAL(18, 10)) AS net_unblended_cost,
    line_item_usage_amount AS usage_quantity,
    pricing_unit AS usage_unit,
    bill_invoice_id IS NULL OR bill_invoice_id = '' AS estimated,
    'cur' AS source,
    source_object
FROM cost_raw
WHERE coalesce(line_item_line_item_type, '') <> 'Tax';
