-- Governance: interventions per guardrail and policy type as CloudWatch counts them
-- (AWS/Bedrock/Guardrails InvocationsIntervened, usage_metrics_hourly).
-- Grain: guardrail (its id, from the GuardrailArn dimension) x version x policy type x region
-- x account. Metrics carry no LOB, application or model: an all-LOB reader only, and only the
-- period, region and account filters apply.
-- Parameters: $start/$end (UTC, end exclusive), $regions, $accounts, $all_lobs.
SELECT
    coalesce(regexp_extract(dimensions['GuardrailArn'], 'guardrail/([^/:]+)', 1),
             dimensions['GuardrailArn'], '(all guardrails)') AS guardrail,
    coalesce(dimensions['GuardrailVersion'], '') AS version,
    coalesce(dimensions['GuardrailPolicyType'], '(all policies)') AS policy,
    region, account_id,
    sum(sum)::BIGINT AS interventions
FROM usage_metrics_hourly
WHERE $all_lobs
  AND hour >= $start::TIMESTAMP AND hour < $end::TIMESTAMP
  AND namespace = 'AWS/Bedrock/Guardrails'
  AND metric_name = 'InvocationsIntervened'
  AND picked($regions::VARCHAR[], region)
  AND picked($accounts::VARCHAR[], account_id)
GROUP BY ALL
HAVING sum(sum) > 0
ORDER BY interventions DESC, guardrail, policy
