"""Bedrock model invocation logs: landing zones and CloudWatch Logs into `invocations`."""
