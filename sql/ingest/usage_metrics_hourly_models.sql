-- Name the model of CloudWatch series keyed by an application inference profile once the
-- invocation logs resolve that profile (grain: usage_metrics_hourly rows of the $arns). Metrics
-- may be rolled up before the logs that name the profile arrive; without this their hours kept
-- a NULL model, and the warehouse depended on which source ran first.
UPDATE usage_metrics_hourly AS u
SET model = ip.model
FROM inference_profiles AS ip
WHERE u.model_id = ip.arn
  AND ip.arn IN (SELECT unnest($arns::VARCHAR[]))
  AND u.model IS DISTINCT FROM ip.model;
