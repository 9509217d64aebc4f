"""What the sidebar leaves every page: the warehouse marker, the window, the sources' freshness
and the colours, under one session-state key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.values import Freshness
from app.view import Window
from base import format as fmt

CONTEXT = "_genai_lens_context"
# Panel source -> (what the caption calls it, the row of data.sources() that dates it)
SOURCES = {
    "estimate": ("Estimated from invocation logs (tokens × price catalog)", "invocation-logs"),
    "logs": ("Invocation logs", "invocation-logs"),
    "metrics": ("CloudWatch metrics (hourly rollup)", "metrics"),
    "cloudtrail": ("CloudTrail", "cloudtrail"),
    "bill": ("The AWS bill (Cost Explorer / CUR / FOCUS)", "cost"),
    "allocation": ("The bill allocated to LOBs, the estimate after it", "cost"),
    "models": ("genai-lens models (forecasts, anomalies)", "models"),
    "jobs": ("genai-lens job bookkeeping", None),
}


@dataclass(frozen=True)
class Context:
    """Everything a page needs from the sidebar: the marker, the window, sources, colours."""

    version: Freshness
    w: Window
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    lob_colors: dict[str, str] = field(default_factory=dict)
    model_colors: dict[str, str] = field(default_factory=dict)

    @property
    def span(self) -> str:
        return fmt.day_span(*self.w.days)

    def newest(self, source: str) -> datetime | None:
        row = self.sources.get(SOURCES[source][1] or "", {})
        return row.get("newest")
