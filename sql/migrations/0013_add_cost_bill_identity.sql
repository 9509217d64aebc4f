-- What a FOCUS export and principal allocation need from each bill line, kept at ingest
-- (cost_daily) and carried to every allocated share of it (cost_allocated).
--
-- cost_daily: who pays (payer account and its name, the usage account's name), which invoice
-- (bill_invoice_id / InvoiceId, NULL until AWS issues it) and who issued it, the resource
-- (an application inference profile ARN), the caller (CUR 2.0 line_item_iam_principal, and the
-- principal's / STS session's cost-allocation tags), list cost and price, and the SKU ids.
ALTER TABLE cost_daily ADD COLUMN payer_account_id VARCHAR;
ALTER TABLE cost_daily ADD COLUMN payer_account_name VARCHAR;
ALTER TABLE cost_daily ADD COLUMN account_name VARCHAR;
ALTER TABLE cost_daily ADD COLUMN invoice_id VARCHAR;
ALTER TABLE cost_daily ADD COLUMN invoice_issuer VARCHAR;
ALTER TABLE cost_daily ADD COLUMN resource_id VARCHAR;
ALTER TABLE cost_daily ADD COLUMN principal_arn VARCHAR;
ALTER TABLE cost_daily ADD COLUMN principal_tags MAP(VARCHAR, VARCHAR);
ALTER TABLE cost_daily ADD COLUMN list_cost DECIMAL(18, 10);
ALTER TABLE cost_daily ADD COLUMN list_unit_price DECIMAL(18, 10);
ALTER TABLE cost_daily ADD COLUMN sku_id VARCHAR;
ALTER TABLE cost_daily ADD COLUMN sku_price_id VARCHAR;
ALTER TABLE cost_daily ADD COLUMN publisher VARCHAR;
-- What the line buys (ingest/cost_usage_types.py: tokens, batch, provisioned, guardrails, ...):
-- spend that invocation logs never see is classified rather than lumped as unattributed.
ALTER TABLE cost_daily ADD COLUMN usage_kind VARCHAR;

-- cost_allocated: the bill's precision (10 decimals, as cost_daily), so the shares of a line
-- add up to that line exactly; pages round for display only. basis gains 'principal' (the
-- line's own caller mapped by the attribution rules). Each row names the bill line it is a
-- share of (line attributes below) and the share itself (0..1) for its quantities.
ALTER TABLE cost_allocated ALTER allocated_cost TYPE DECIMAL(18, 10);
ALTER TABLE cost_allocated ADD COLUMN share DOUBLE;
ALTER TABLE cost_allocated ADD COLUMN service VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN usage_type VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN account_id VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN account_name VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN payer_account_id VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN payer_account_name VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN region VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN invoice_id VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN invoice_issuer VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN resource_id VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN principal_arn VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN tags MAP(VARCHAR, VARCHAR);
ALTER TABLE cost_allocated ADD COLUMN list_cost DECIMAL(18, 10);
ALTER TABLE cost_allocated ADD COLUMN list_unit_price DECIMAL(18, 10);
ALTER TABLE cost_allocated ADD COLUMN usage_quantity DOUBLE;
ALTER TABLE cost_allocated ADD COLUMN usage_unit VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN sku_id VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN sku_price_id VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN publisher VARCHAR;
ALTER TABLE cost_allocated ADD COLUMN estimated BOOLEAN;
-- The application where the line names it (its caller's rule or name, its app tag).
ALTER TABLE cost_allocated ADD COLUMN app VARCHAR;
