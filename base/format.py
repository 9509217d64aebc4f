"""How numbers read on every page: money as money, tokens with K/M/B, rates as percent.

All functions take None for "unknown" and return an em dash, so a missing value never
reads as zero.
"""

from __future__ import annotations

import math
from datetime import date, datetime

MISSING = "—"
_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def compact(value: float | None, *, decimals: int = 1, trim: bool = False) -> str:
    """950, 1.2K, 3.4M, 1.2B: for counts and tokens where the leading digits are the news.

    `trim` drops a zero decimal ("1K", not "1.0K"): for axis ticks, which are round anyway.
    """
    if value is None or math.isnan(value):
        return MISSING
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value < 999.5:  # what rounds to 1,000 reads as 1.0K
        return f"{sign}{value:,.0f}"
    # Round before comparing so 999,950 reads "1.0M", not "1000.0K".
    threshold, suffix = next((t, s) for t, s in _SUFFIXES if round(value / t, decimals) >= 1)
    number = f"{value / threshold:.{decimals}f}"
    if trim and "." in number:
        number = number.rstrip("0").rstrip(".")
    return f"{sign}{number}{suffix}"


def money(value: float | None) -> str:
    """$12.34 under a thousand, then $1.2K, $3.4M, $1.2B."""
    if value is None or math.isnan(value):
        return MISSING
    sign = "-" if value < 0 else ""
    value = abs(value)
    if round(value, 2) < 1000:
        return f"{sign}${value:,.2f}"
    return f"{sign}${compact(value)}"


def money_tick(value: float) -> str:
    """Axis ticks: $0, $250, $2.5K, $1M."""
    return f"${compact(value, trim=True)}" if value >= 999.5 else f"${value:,.4g}"


def tokens(value: float | None) -> str:
    return compact(value)


def latency(ms: float | None) -> str:
    """Milliseconds as '850 ms' under a second, then '1.25 s', '12.5 s', '125 s'."""
    if ms is None or math.isnan(ms):
        return MISSING
    if round(ms) < 1000:
        return f"{ms:,.0f} ms"
    seconds = ms / 1000
    return (
        f"{seconds:.2f} s"
        if seconds < 10
        else f"{seconds:.1f} s"
        if seconds < 100
        else f"{seconds:,.0f} s"
    )


def count(value: float | None) -> str:
    """Exact with thousands separators: 1,234 (for counts a reader may act on one by one)."""
    if value is None or math.isnan(value):
        return MISSING
    return f"{value:,.0f}"


def percent(value: float | None, *, decimals: int | None = None) -> str:
    """A ratio (0.042) as 4.2%; small ratios keep enough decimals not to read as 0%."""
    if value is None or math.isnan(value):
        return MISSING
    if decimals is None:
        decimals = 1 if abs(value) >= 0.01 or value == 0 else 2
    return f"{value * 100:.{decimals}f}%"


def change(current: float | None, previous: float | None) -> str | None:
    """Relative change as '+12.3%'; None when there is nothing to compare with."""
    if current is None or previous is None or previous == 0:
        return None
    return f"{(current - previous) / abs(previous) * 100:+.1f}%"


def points(current: float | None, previous: float | None) -> str | None:
    """Change of a rate in percentage points: '+0.12 pp'."""
    if current is None or previous is None:
        return None
    return f"{(current - previous) * 100:+.2f} pp"


def day_span(first: date, last: date) -> str:
    """'3 Nov to 2 Dec 2025' (joined by an en dash), '1 to 30 Nov 2025' inside a month."""
    if first == last:
        return f"{first.day} {first:%b %Y}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day} – {last.day} {last:%b %Y}"
    if first.year == last.year:
        return f"{first.day} {first:%b} – {last.day} {last:%b %Y}"
    return f"{first.day} {first:%b %Y} – {last.day} {last:%b %Y}"


def hour(value: datetime | None) -> str:
    """A UTC hour as '24 Nov 2025 21:00 UTC'."""
    if value is None:
        return MISSING
    return f"{value.day} {value:%b %Y %H:%M} UTC"


# --- Anomaly metrics ---------------------------------------------------------------------

# What each detector metric (jobs/model_anomalies.py) reads as, and its unit; the pages
# and the alert texts both say it so. Anomaly series are hourly.
METRICS: dict[str, tuple[str, str]] = {
    "cost": ("Estimated spend per hour", "money"),
    "tokens": ("Tokens per hour", "count"),
    "invocations": ("Invocations per hour", "count"),
    "error_rate": ("Error rate", "rate"),
    "throttle_rate": ("Throttle rate", "rate"),
    "guardrail_intervention_rate": ("Guardrail intervention rate", "rate"),
    "p95_latency_ms": ("p95 latency", "latency"),
    "ms_per_1k_output_tokens": ("Latency per 1K output tokens", "latency"),
    "ttft_ms": ("Time to first token", "latency"),
    "output_tokens_per_s": ("Output tokens per second", "count"),
    "cw_invocations": ("Invocations per hour (CloudWatch)", "count"),
    "cw_throttle_rate": ("Throttle rate (CloudWatch)", "rate"),
    "cw_error_rate": ("Error rate (CloudWatch)", "rate"),
    "cw_latency_avg_ms": ("Mean latency (CloudWatch)", "latency"),
    "cw_ttft_avg_ms": ("Mean time to first token (CloudWatch)", "latency"),
    "logging_gap": ("Calls missing from the logs", "count"),
}


def metric_label(metric: str) -> str:
    """A detector metric id as a reader says it: 'p95_latency_ms' -> 'p95 latency'."""
    if metric in METRICS:
        return METRICS[metric][0]
    return metric.replace("_", " ").capitalize()


def unit_of(metric: str) -> str:
    if metric in METRICS:
        return METRICS[metric][1]
    lowered = metric.lower()  # a metric this page does not know yet: guess from its name
    if "latency" in lowered or lowered.endswith("ms"):
        return "latency"
    return "rate" if lowered.endswith("rate") else "count"


def value_in(unit: str, value: float | None) -> str:
    if unit == "money":
        return money(value)
    if unit == "latency":
        return latency(value)
    if unit == "rate":  # one decimal: 3.8%, 33.3%, 0.9%
        return percent(value, decimals=1)
    return compact(value)


def metric_value(metric: str, value: float | None) -> str:
    """A value of an anomaly's metric in its own unit."""
    return value_in(unit_of(metric), value)
