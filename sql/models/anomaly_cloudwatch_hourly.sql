-- Hourly CloudWatch sums per ModelId (grain: ts x model x metric), over accounts and regions:
-- calls, throttles and errors. Latency is not read: an hour's mean mixes short and long
-- answers and its p99 of a quiet model is one slow call, too jumpy to alert on (latency is
-- judged per output token from the logs; the Reliability page still shows CloudWatch's).
SELECT date_trunc('hour', ts) AS ts, dimensions['ModelId'] AS model, metric_name AS metric,
    sum(value) AS value
FROM metrics
WHERE namespace = 'AWS/Bedrock' AND dimensions['ModelId'] IS NOT NULL
  AND ts >= $start AND ts < $end
  AND metric_name IN ('Invocations', 'InvocationThrottles', 'InvocationClientErrors',
                      'InvocationServerErrors')
  AND stat = 'Sum'
GROUP BY ALL
ORDER BY model, metric, ts
