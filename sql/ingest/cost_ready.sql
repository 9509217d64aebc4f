-- Classified Bedrock rows at the cost_daily grain (see migration 0004): lines that are not
-- Bedrock's (cost_classes.bedrock = false) are dropped here. The bill's own region (CUR's
-- product_region_code, FOCUS RegionId) wins over the usage type's region prefix.
CREATE OR REPLACE TEMP TABLE cost_ready AS
SELECT
    r.usage_date, r.account_id, r.service, r.usage_type,
    c.model, c.token_kind, c.pricing_scope, c.usage_kind,
    coalesce(r.region, c.region) AS region,
    r.tags, r.breakdown,
    r.payer_account_id, r.payer_account_name, r.account_name, r.invoice_id, r.invoice_issuer,
    r.resource_id, r.principal_arn, r.principal_tags, r.sku_id, r.sku_price_id, r.publisher,
    r.list_unit_price,
    CAST(sum(r.list_cost) AS DECIMAL(18, 10)) AS list_cost,
    CAST(sum(r.unblended_cost) AS DECIMAL(18, 10)) AS unblended_cost,
    CAST(sum(r.amortized_cost) AS DECIMAL(18, 10)) AS amortized_cost,
    CAST(sum(r.net_unblended_cost) AS DECIMAL(18, 10)) AS net_unblended_cost,
    sum(r.usage_quantity) AS usage_quantity,
    CASE WHEN count(DISTINCT r.usage_unit) > 1 THEN 'N/A' ELSE any_value(r.usage_unit) END
        AS usage_unit,
    bool_or(r.estimated) AS estimated,
    r.source, r.source_object
FROM cost_rows r
JOIN cost_classes c
    ON c.service IS NOT DISTINCT FROM r.service
    AND c.usage_type IS NOT DISTINCT FROM r.usage_type
    AND c.product_code IS NOT DISTINCT FROM r.product_code
WHERE c.bedrock
GROUP BY ALL;
