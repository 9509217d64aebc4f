"""The ingest sources, written once: what each is called, where its rows land, what its
config section lists, and the function that runs it.

Every other floor reads this registry (the jobs, `status`, the doctor, the data health page)
instead of keeping its own list of source names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from base.settings import Settings
from base.stats import RunStats
from ingest.cloudtrail import ingester as cloudtrail
from ingest.cost import ingester as cost
from ingest.invocation_logs import ingester as invocation_logs
from ingest.metrics import ingester as metrics

Runner = Callable[..., RunStats]


@dataclass(frozen=True)
class Source:
    name: str  # the job and CLI name, as in `genai-lens ingest <name>` and ingest_runs.source
    key: str  # its config section, and its name in watermarks and quarantine
    table: str  # the table its rows land in
    label: str  # how the pages name it
    apis: str  # the field of its config section that lists its API sources
    # How soon AWS delivers at best: metric points within minutes, log files every few
    # minutes, CloudTrail ~15 minutes after a call, the bill a day after the usage day.
    delivers: timedelta
    run: Runner

    def configured(self, settings: Settings) -> bool:
        """Whether the config names a landing zone or an API source for it."""
        section = getattr(settings, self.key)
        return bool(section.landing_zones or getattr(section, self.apis))


# In the order their data depends on: cost allocation reads the invocations.
SOURCES = (
    Source("invocation-logs", "invocation_logs", "invocations", "Invocation logs",
           "log_groups", timedelta(minutes=15), invocation_logs.run),
    Source("cloudtrail", "cloudtrail", "cloudtrail_events", "CloudTrail",
           "lookups", timedelta(minutes=15), cloudtrail.run),
    Source("metrics", "metrics", "metrics", "Metrics",
           "apis", timedelta(minutes=5), metrics.run),
    Source("cost", "cost", "cost_daily", "Cost",
           "apis", timedelta(days=1), cost.run),
)  # fmt: skip
BY_NAME = {s.name: s for s in SOURCES}
NAMES = tuple(BY_NAME)


def configured(settings: Settings) -> list[str]:
    """The sources with something configured, in the order their data depends on."""
    return [s.name for s in SOURCES if s.configured(settings)]
