-- FOCUS 1.x rows (cost_raw, as for CUR) -> cost_rows. BilledCost is the unblended charge,
-- EffectiveCost the amortized one; FOCUS has no net-unblended figure. Tax is left out.
-- AWS's x_UsageType carries the same usage types as CUR; Tags keys may carry 'user:'.
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
    'total' AS breakdown,
    CAST(BilledCost AS DECIMAL(18, 10)) AS unblended_cost,
    CAST(EffectiveCost AS DECIMAL(18, 10)) AS amortized_cost,
    CAST(NULL AS DECIMAL(18, 10)) AS net_unblended_cost,
    ConsumedQuantity AS usage_quantity,
    ConsumedUnit AS usage_unit,
    InvoiceId IS NULL OR InvoiceId = '' AS estimated,
    'focus' AS source,
    source_object
FROM cost_raw
WHERE coalesce(ChargeCategory, '') <> 'Tax';
