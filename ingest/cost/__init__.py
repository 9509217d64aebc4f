"""Cost: Cost Explorer, CUR 2.0 and FOCUS exports into `cost_daily`."""
