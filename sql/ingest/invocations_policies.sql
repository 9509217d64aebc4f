-- Which guardrail policy types acted (grain: requestId), read from the guardrail trace in
-- either shape (Converse trace.guardrail or InvokeModel amazon-bedrock-trace). Names match
-- CloudWatch's GuardrailPolicyType dimension: TopicPolicy, ContentPolicy, WordPolicy, ...
CREATE OR REPLACE TEMP TABLE inv_policies AS
SELECT request_id,
       list_sort(list_distinct(list(
           upper(policy[1]) || policy[2:] || 'Policy'))) AS policies
FROM (
    SELECT p.request_id, regexp_extract(t.path, '\.([A-Za-z]+)Policy\b', 1) AS policy
    FROM inv_parsed p, json_tree(p.guard_trace) t
    WHERE p.guard_trace IS NOT NULL AND p.reason IS NULL
      AND t.key = 'action' AND t.value::VARCHAR IN ('"BLOCKED"', '"ANONYMIZED"')
)
WHERE policy <> ''
GROUP BY request_id;
