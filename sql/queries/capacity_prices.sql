-- Capacity & savings: the catalog's current on-demand price per model (the '*' row, newest
-- effective_from): what the model-swap what-if re-prices an application's tokens with.
-- The catalog is public list prices, no LOB's data: every reader sees all of it (the scope
-- is bound all the same, as for every page query).
-- Grain: model. Parameters: $all_lobs/$allowed_lobs.
SELECT model, input_per_1m, output_per_1m, cache_read_per_1m, cache_write_per_1m
FROM prices
WHERE region = '*' AND ($all_lobs OR len($allowed_lobs::VARCHAR[]) >= 0)
QUALIFY row_number() OVER (PARTITION BY model ORDER BY effective_from DESC) = 1
ORDER BY model
