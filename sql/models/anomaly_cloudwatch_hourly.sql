-- Hourly CloudWatch sums per ModelId (grain: ts x model x metric), over accounts and regions.
-- Latencies come as their Sum and SampleCount ('<metric>#n'), so the runner can merge a
-- model's ModelId variants and take the hour's mean: an hour's p99 of a quiet model is one
-- slow call, far too jumpy to alert on (the Reliability page still shows percentiles).
SELECT date_trunc('hour', ts) AS ts, dimensions['ModelId'] AS model,
    CASE WHEN stat = 'SampleCount' THEN metric_name || '#n' ELSE metric_name END AS metric,
    sum(value) AS value
FROM metrics
WHERE namespace = 'AWS/Bedrock' AND dimensions['ModelId'] IS NOT NULL
  AND ts >= $start AND ts < $end
  AND ((metric_name IN ('Invocations', 'InvocationThrottles', 'InvocationClientErrors',
                        'InvocationServerErrors') AND stat = 'Sum')
       OR (metric_name IN ('InvocationLatency', 'TimeToFirstToken')
           AND stat IN ('Sum', 'SampleCount')))
GROUP BY ALL
ORDER BY model, metric, ts
