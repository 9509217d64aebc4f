"""How `serve` schedules its jobs: one per configured source plus models and vacuum, at the
configured intervals, never two at once, late runs coalesced, and the models woken by new data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import factories as F
from apscheduler.schedulers.background import BackgroundScheduler

from base.settings import Settings
from jobs.scheduler import LensScheduler

DEFAULTS = {  # minutes, as the issue and the example config give them
    "invocation-logs": 5, "metrics": 5, "cloudtrail": 15, "cost": 6 * 60, "models": 60,
    "vacuum": 24 * 60, "model-catalog": 24 * 60,
}  # fmt: skip


def every_source(tmp_path, **schedule) -> Settings:
    zones = {}
    for name in ("invocation_logs", "cloudtrail", "metrics", "cost"):
        (tmp_path / name).mkdir()
        zones[name] = {"landing_zones": [{"uri": str(tmp_path / name)}]}
    return Settings(resolve_profiles_with_api=False, schedule=schedule, **zones)


def paused(sched: LensScheduler, monkeypatch) -> LensScheduler:
    """Jobs added as `serve` adds them, but none fires while the test looks at them."""
    start = partial(BackgroundScheduler.start, sched.scheduler, paused=True)
    monkeypatch.setattr(sched.scheduler, "start", start)
    return sched


def test_every_job_has_its_interval_one_instance_coalescing_grace_and_jitter(
    warehouse, tmp_path, monkeypatch
):
    sched = paused(LensScheduler(every_source(tmp_path), warehouse, tmp_path / "w"), monkeypatch)
    sched.start()
    try:
        jobs = {job.id: job for job in sched.scheduler.get_jobs()}
        assert set(jobs) == set(DEFAULTS)
        for name, minutes in DEFAULTS.items():
            job = jobs[name]
            assert job.trigger.interval == timedelta(minutes=minutes), name
            assert job.trigger.jitter == 30  # the default jitter_seconds
            assert (job.max_instances, job.coalesce, job.misfire_grace_time) == (1, True, 300)
        soon = datetime.now(UTC) + timedelta(minutes=1)
        # ingests start at once; models and vacuum wait for their first interval
        assert all(jobs[s].next_run_time < soon for s in ("invocation-logs", "cost"))
        assert jobs["vacuum"].next_run_time > datetime.now(UTC) + timedelta(hours=23)
    finally:
        sched.shutdown()


def test_configured_intervals_win_and_an_unconfigured_source_has_no_job(
    warehouse, tmp_path, monkeypatch
):
    cfg = Settings(
        resolve_profiles_with_api=False,
        invocation_logs={"landing_zones": [{"uri": str(tmp_path)}]},
        schedule={"invocation_logs_minutes": 2, "models_minutes": 10, "jitter_seconds": 0},
    )
    sched = paused(LensScheduler(cfg, warehouse, tmp_path / "w"), monkeypatch)
    sched.start()
    try:
        jobs = {job.id: job for job in sched.scheduler.get_jobs()}
        assert set(jobs) == {"invocation-logs", "models", "model-catalog", "vacuum"}
        assert jobs["invocation-logs"].trigger.interval == timedelta(minutes=2)
        assert jobs["models"].trigger.interval == timedelta(minutes=10)
        assert jobs["invocation-logs"].trigger.jitter is None
    finally:
        sched.shutdown()


def test_new_invocations_bring_the_models_forward(warehouse, tmp_path, monkeypatch):
    cfg = every_source(tmp_path)
    sched = paused(LensScheduler(cfg, warehouse, tmp_path / "w"), monkeypatch)
    sched.start()
    try:
        hourly = sched.scheduler.get_job("models").next_run_time
        assert hourly > datetime.now(UTC) + timedelta(minutes=55)
        sched.tick("cloudtrail", "schedule")  # nothing new: the models keep their hour
        assert sched.scheduler.get_job("models").next_run_time == hourly
        ts = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
        F.land(tmp_path / "invocation_logs", [F.converse(timestamp=f"{ts:%Y-%m-%dT%H}:05:00Z")], ts)
        sched.tick("invocation-logs", "schedule")
        woken = sched.scheduler.get_job("models").next_run_time
        assert woken < datetime.now(UTC) + timedelta(seconds=30)
    finally:
        sched.shutdown()


def test_list_prices_are_refreshed_weekly_when_pricing_refresh_is_on(
    warehouse, tmp_path, monkeypatch
):
    cfg = Settings(resolve_profiles_with_api=False, pricing={"refresh": True})
    sched = paused(LensScheduler(cfg, warehouse, tmp_path / "w"), monkeypatch)
    sched.start()
    try:
        job = sched.scheduler.get_job("prices")
        assert job is not None and job.trigger.interval == timedelta(weeks=1)
        assert job.args == ("prices", "schedule")
    finally:
        sched.shutdown()
    off = paused(LensScheduler(Settings(), warehouse, tmp_path / "w"), monkeypatch)
    off.start()
    try:
        assert off.scheduler.get_job("prices") is None  # no call to AWS unless asked
    finally:
        off.shutdown()
