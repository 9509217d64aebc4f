-- Bill lines of one batch before classification, in one shape for every source
-- (Cost Explorer groups, CUR 2.0 lines, FOCUS rows); amounts are still the source's text/double.
CREATE OR REPLACE TEMP TABLE cost_rows (
    usage_date          DATE,
    account_id          VARCHAR,
    service             VARCHAR,
    usage_type          VARCHAR,
    product_code        VARCHAR,
    region              VARCHAR,
    tags                MAP(VARCHAR, VARCHAR),
    breakdown           VARCHAR,
    unblended_cost      DECIMAL(18, 10),
    amortized_cost      DECIMAL(18, 10),
    net_unblended_cost  DECIMAL(18, 10),
    usage_quantity      DOUBLE,
    usage_unit          VARCHAR,
    estimated           BOOLEAN,
    source              VARCHAR,
    source_object       VARCHAR,
    payer_account_id    VARCHAR,
    payer_account_name  VARCHAR,
    account_name        VARCHAR,
    invoice_id          VARCHAR,
    invoice_issuer      VARCHAR,
    resource_id         VARCHAR,
    principal_arn       VARCHAR,
    principal_tags      MAP(VARCHAR, VARCHAR),
    list_cost           DECIMAL(18, 10),
    list_unit_price     DECIMAL(18, 10),
    sku_id              VARCHAR,
    sku_price_id        VARCHAR,
    publisher           VARCHAR
);
CREATE OR REPLACE TEMP TABLE cost_classes (
    service         VARCHAR,
    usage_type      VARCHAR,
    product_code    VARCHAR,
    bedrock         BOOLEAN,
    model           VARCHAR,
    token_kind      VARCHAR,
    pricing_scope   VARCHAR,
    region          VARCHAR,
    usage_kind      VARCHAR
);
