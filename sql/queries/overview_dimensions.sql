-- Overview (and every page's sidebar): every LOB, application, model, region and account with
-- usage, within the reader's LOB scope, most used first. They are the filter options and fix
-- each LOB's and model's colour.
-- Grain: one row per (kind, name); kind is lob | app | model | region | account. A NULL app is
-- '(none)' and a NULL model '(unresolved)', the labels every query filters them by.
WITH scoped AS (
    SELECT lob, app, model, region, account_id, invocations
    FROM usage_hourly
    WHERE $all_lobs OR list_contains($allowed_lobs::VARCHAR[], lob)
)
-- One aggregate per column (each reads one column) rather than grouping sets over five.
SELECT 'lob' AS kind, lob AS name, sum(invocations)::BIGINT AS invocations
FROM scoped GROUP BY lob
UNION ALL
SELECT 'app', coalesce(app, '(none)'), sum(invocations)::BIGINT FROM scoped GROUP BY app
UNION ALL
SELECT 'model', coalesce(model, '(unresolved)'), sum(invocations)::BIGINT
FROM scoped GROUP BY model
UNION ALL
SELECT 'region', region, sum(invocations)::BIGINT FROM scoped
WHERE region IS NOT NULL GROUP BY region
UNION ALL
SELECT 'account', account_id, sum(invocations)::BIGINT FROM scoped
WHERE account_id IS NOT NULL GROUP BY account_id
ORDER BY kind, name
