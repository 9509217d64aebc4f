-- The hours whose quota peaks were rolled up before the invocation logs named the model of an
-- application inference profile in $arns: EstimatedTPMQuotaUsage points of the profile exist,
-- but no 'cloudwatch' peak of its model in that hour, account and Region does (the points were
-- left out as model-less). Those hours are rebuilt. Grain: hour. Params: $arns (profile ARNs).
SELECT DISTINCT date_trunc('hour', m.ts) AS hour
FROM metrics AS m
JOIN inference_profiles AS ip ON ip.arn = m.dimensions['ModelId'] AND ip.model IS NOT NULL
WHERE m.namespace = 'AWS/Bedrock' AND m.metric_name = 'EstimatedTPMQuotaUsage'
  AND m.stat = 'Sum' AND m.dimensions['ModelId'] IN (SELECT unnest($arns::VARCHAR[]))
  AND NOT EXISTS (
      SELECT 1 FROM quota_peaks_hourly AS q
      WHERE q.source = 'cloudwatch' AND q.hour = date_trunc('hour', m.ts)
        AND q.account_id = m.account_id AND q.region = m.region AND q.model = ip.model)
ORDER BY 1
