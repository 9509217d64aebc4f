"""CloudTrail events: landing zones and LookupEvents into `cloudtrail_events`."""
