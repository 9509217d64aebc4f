"""What a job reports: the figures of one run, shared by every floor that runs or records one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

# A live line's update: the run's summary so far, and the share of its time window walked (0..1;
# None where a run cannot tell, as for an API read or the cost exports).
Progress = Callable[[str, float | None], None]
BRIEF_UNITS = ("model rows",)


@dataclass
class RunStats:
    objects: int = 0
    skipped: int = 0
    records: int = 0
    quarantined: int = 0
    batches: int = 0
    missing: int = 0
    zones: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unit: str = "records"
    # Only jobs that delete set these (retention); an ingest leaves them None, not 0.
    deleted: int | None = None
    bytes_freed: int | None = None
    # The share of the run's time window walked so far, for the live line's bar and its ETA
    # (ingest.batches.Walk): objects are listed in key order and their keys carry the hour.
    done: float | None = None

    def add_batch(self, records: int, quarantined: int, objects: int) -> None:
        self.records += records
        self.quarantined += quarantined
        self.objects += objects
        self.batches += 1

    def summary(self) -> str:
        if self.deleted is not None:
            freed = (self.bytes_freed or 0) / 1e6
            return f"{self.deleted:,} rows deleted, {freed:,.1f} MB freed" + "".join(
                f"; {n}" for n in self.notes
            )
        if self.unit in BRIEF_UNITS:  # jobs that read no objects
            return f"{self.records:,} {self.unit}" + "".join(f"; {n}" for n in self.notes)
        return (
            f"{self.records:,} {self.unit} loaded from {self.objects:,} objects "
            f"({self.skipped:,} already loaded, {self.missing:,} vanished), "
            f"{self.quarantined:,} quarantined"
        )


def report(progress: Progress | None, stats: RunStats) -> None:
    if progress:
        progress(stats.summary(), stats.done)


def merge(total: RunStats, part: RunStats) -> None:
    for f in ("objects", "skipped", "records", "quarantined", "batches", "missing"):
        setattr(total, f, getattr(total, f) + getattr(part, f))
    total.zones += part.zones
    total.notes += part.notes
