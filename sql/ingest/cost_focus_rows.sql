-- FOCUS 1.x rows (cost_raw, as for CUR) -> cost_rows. BilledCost is the unblended charge,
-- EffectiveCost the amortized one; FOCUS has no net-unblended figure. Tax is left out.
-- AWS's x_UsageType carries the same usage types as CUR; Tags keys may carry 'user:'.
-- estimated: FOCUS 1.2 names the invoice (InvoiceId, empty until invoiced). 1.0 and 1.1 have no
-- such column (has_invoice_column, per file), so a row is final once its billing period has
-- closed by $now, the load time: AWS rewrites a period's export after it closes, and that
-- rewrite is what loads as final. BillingPeriodEnd is exclusive; a file without it falls back
-- to the calendar month of the charge, which is AWS's billing period.
INSERT INTO cost_rows BY NAME
SELECT
    CAST(ChargePeriodStart AS DATE) AS usage_date,
    SubAccountId AS account_id,
    ServiceName AS service,
    x_UsageType AS usage_type,
    x_ServiceCode AS product_code,
    nullif(RegionId, '') AS region,
    map_from_entries(list_filter(
        list_transform(map_entries(coalesce(Tags, MAP {})),
            lambda e: {'key': regexp_replace(e.key, '^user[:_]', ''), 'value': e.value}),
        lambda e: list_contains($tag_keys::VARCHAR[], e.key) AND coalesce(e.value, '') <> ''
    )) AS tags,
    nullif(ResourceId, '') AS resource_id,
    BillingAccountId AS payer_account_id,
    BillingAccountName AS payer_account_name,
    SubAccountName AS account_name,
    nullif(InvoiceId, '') AS invoice_id,
    InvoiceIssuerName AS invoice_issuer,
    CAST(ListCost AS DECIMAL(18, 10)) AS list_cost,
    CAST(ListUnitPrice AS DECIMAL(18, 10)) AS list_unit_price,
    SkuId AS sku_id,
    SkuPriceId AS sku_price_id,
    PublisherName AS publisher,
    'total' AS breakdown,
    CAST(BilledCost AS DECIMAL(18, 10)) AS unblended_cost,
    CAST(EffectiveCost AS DECIMAL(18, 10)) AS amortized_cost,
    CAST(NULL AS DECIMAL(18, 10)) AS net_unblended_cost,
    ConsumedQuantity AS usage_quantity,
    ConsumedUnit AS usage_unit,
    CASE WHEN has_invoice_column THEN coalesce(InvoiceId, '') = ''
         ELSE coalesce(BillingPeriodEnd,
                       date_trunc('month', ChargePeriodStart) + INTERVAL 1 MONTH) > $now
    END AS estimated,
    'focus' AS source,
    source_object
FROM cost_raw
WHERE coalesce(ChargeCategory, '') <> 'Tax';
