"""CloudWatch metrics: metric streams and GetMetricData into `metrics`."""
