"""The jobs that run the floors below: scheduler, run journal use, status, retention,
alerting, the model steps, evaluation and the doctor."""
