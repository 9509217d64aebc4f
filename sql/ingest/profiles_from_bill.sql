-- Application inference profiles the bill names. An ARN the logs used but neither config nor
-- Bedrock resolved (resolved_by 'unresolved'), whose bill lines carry it as their resource id
-- with exactly one model, stands for that model: resolved_by 'bill'. (An ARN whose lines name
-- two models stays unresolved: the bill does not say which call was which.)
-- Grain: ARN. Params: none. Returns the ARNs learned.
INSERT OR REPLACE INTO inference_profiles
SELECT c.resource_id AS arn, any_value(c.model) AS model, NULL AS tags,
       'bill' AS resolved_by, NULL AS error
FROM cost_daily AS c
JOIN inference_profiles AS p ON p.arn = c.resource_id AND p.resolved_by = 'unresolved'
WHERE c.model IS NOT NULL
GROUP BY c.resource_id
HAVING count(DISTINCT c.model) = 1
RETURNING arn;
