"""Models over the warehouse: forecasting, anomaly detection, cost allocation.

Each model is a function over polars frames with no I/O (`fn(frame, *, params) -> frame`);
a runner reads the warehouse, calls them and writes results back. None exist yet: the
forecasting, anomaly and allocation work lands with its own issue.
"""
