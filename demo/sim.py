"""Simulate the demo estate as one frame: one row per invocation, vectorised with numpy.

The frame holds every attribute needed to render an invocation-log record, and is meant to
feed later renderers too (CloudWatch metrics, CloudTrail, bills) so all sources agree.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from base.errors import ConfigError
from demo import world as w

HOUR = 3600
DAY = 86_400
LEGACY_ORDER_DAYS = 20  # records older than this use the older key order (schemaType first)
CACHE_FIELD_DAYS = 30  # records older than this predate the cache token fields
ERROR_CODES = (*(e for e, _ in w.ERRORS), "ThrottlingException")
THROTTLED = "ThrottlingException"
INCIDENT_KINDS = tuple(w.INCIDENTS)
SERVING_REGIONS = tuple(
    sorted({r for pool in w.SERVING.values() for r, _ in pool} | set(w.REGION_TZ))
)
STOPS = ("end_turn", "max_tokens", "stop_sequence", "tool_use", "guardrail_intervened")
# Guardrail variants: 0 = assessed, nothing done; 1-2 block the input; 3-4 act on the output.
GR_VARIANTS = (None, "topicPolicy", "contentPolicy", "sensitiveInformationPolicy", "wordPolicy")
GR_WEIGHTS = (0.35, 0.15, 0.3, 0.2)
BLOCKED_INPUT_IDX = len(w.RESPONSES)
# Index into w.TEXTS of what the caller gets back for each variant (-1: the normal answer).
RESPONSE_FOR_VARIANT = (-1, BLOCKED_INPUT_IDX, BLOCKED_INPUT_IDX, BLOCKED_INPUT_IDX + 2,
                        BLOCKED_INPUT_IDX + 1)  # fmt: skip
Windows = dict[str, tuple[int, int]]
Cols = dict[str, np.ndarray]


def estate_window(days: int, end: datetime | None) -> tuple[datetime, datetime]:
    """[start, end) of the estate: `end` truncated to the hour, UTC."""
    if days < 7:
        raise ConfigError(f"the demo estate needs at least 7 days to place its incidents, not "
                          f"{days}: pass --days 7 or more")  # fmt: skip
    end = end or datetime.now(UTC)
    end = (end if end.tzinfo else end.replace(tzinfo=UTC)).astimezone(UTC)
    end = end.replace(minute=0, second=0, microsecond=0)
    return end - timedelta(days=days), end


def epoch(t: datetime) -> int:
    return int(t.timestamp())


def _business_start(t: int, region: str, hours: int) -> int:
    """09:00 local on the first day at or after epoch second `t` whose window is all weekdays."""
    tz = w.REGION_TZ[region]
    day = (t + tz * HOUR) // DAY
    while any((d + 3) % 7 >= 5 for d in range(day, day + 1 + hours // 24)):  # 1970-01-01: Thu
        day += 1
    return day * DAY + (9 - tz) * HOUR


def incident_windows(start: datetime, end: datetime) -> Windows:
    """Each incident's [start, end) in epoch seconds: a weekday business morning, in the estate."""
    s, e = epoch(start), epoch(end)
    out = {}
    for kind, spec in w.INCIDENTS.items():
        hours = int(spec["hours"])
        region = str(spec.get("region", "us-east-1"))
        t0 = _business_start(s + int((e - s) * float(spec["at"])), region, hours)
        while t0 + hours * HOUR > e - HOUR and t0 - DAY >= s:
            # Back off a week when there is room, so the window stays on weekdays.
            t0 -= 7 * DAY if t0 - 7 * DAY >= s else DAY
        out[kind] = (t0, t0 + hours * HOUR)
    return out


def _streams() -> tuple[np.ndarray, list[str], np.ndarray]:
    apps, regions, shares = [], [], []
    for i, app in enumerate(w.APPS):
        for region, weight in app.regions:
            apps.append(i)
            regions.append(region)
            shares.append(app.share * weight)
    return np.array(apps), regions, np.array(shares)


def hourly_counts(
    rng: np.random.Generator, start: int, hours: int, per_day: int
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Poisson invocation counts per (app, region) stream and hour: rhythm, growth, launches."""
    s_app, s_region, share = _streams()
    t = start + np.arange(hours) * HOUR
    tz = np.array([w.REGION_TZ[r] for r in s_region])[:, None]
    local = t[None, :] + tz * HOUR
    lh = (local // HOUR) % 24
    weekend = ((local // DAY) + 3) % 7 >= 5
    office = (
        0.08 + np.exp(-0.5 * ((lh - 13) / 3.0) ** 2) + 0.2 * np.exp(-0.5 * ((lh - 20) / 2) ** 2)
    )
    flat = np.array([w.APPS[a].flat for a in s_app])[:, None]
    daily = np.where(flat, 0.75 + 0.25 * office, office)
    weekly = np.where(weekend, np.array([w.APPS[a].weekend for a in s_app])[:, None], 1.0)
    base = share[:, None] * daily * weekly
    frac = np.arange(hours) / hours
    growth = np.array([w.APPS[a].growth for a in s_app])[:, None]
    launch = np.array([w.APPS[a].launch for a in s_app])[:, None]
    ramp = np.clip((frac[None, :] - launch) / 0.1, 0, 1) * (frac[None, :] >= launch)
    live = np.where(launch > 0, ramp, 1.0)  # a launched app ramps up over a tenth of the span
    trend = (1 + (growth - 1) * frac[None, :]) * live
    mood = rng.lognormal(0, 0.12, size=(len(s_app), hours // 24 + 1)).repeat(24, axis=1)
    first_week = min(hours, 7 * 24)
    scale = per_day / ((base * live)[:, :first_week].sum() / (first_week / 24))
    counts = rng.poisson(base * trend * mood[:, :hours] * scale)
    return s_app, s_region, counts


def pick(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per row, each row with its own probability vector probs[rows]."""
    cum = (probs / probs.sum(axis=1, keepdims=True)).cumsum(axis=1)
    u = rng.random(len(rows))
    return np.minimum((u[:, None] >= cum[rows]).sum(axis=1), probs.shape[1] - 1)


def draw_forms(c: Cols, rng: np.random.Generator) -> None:
    """Pick how each call names its model, then fix forms the model cannot be called by."""
    probs = np.array([a.forms for a in w.APPS], dtype=float)
    form = pick(rng, probs, c["app"])
    has_profile = np.zeros((len(w.APPS), len(w.MODELS)), dtype=bool)
    cross_profile = np.zeros_like(has_profile)
    for i, app in enumerate(w.APPS):
        for key in app.profiles:
            p = w.PROFILE_BY_KEY[key]
            has_profile[i, w.MODEL_INDEX[p.model]] = True
            cross_profile[i, w.MODEL_INDEX[p.model]] = p.cross_region
    m = c["model"]
    attr = {
        k: np.array([getattr(x, k) for x in w.MODELS]) for k in ("geo", "global_ok", "profile_only")
    }
    form = np.where((form == 4) & ~has_profile[c["app"], m], 0, form)
    form = np.where((form == 3) & ~attr["global_ok"][m], 1, form)
    form = np.where(np.isin(form, (1, 2, 3)) & ~attr["geo"][m], 0, form)
    form = np.where((form == 0) & attr["profile_only"][m], 1, form)
    c["form"] = form
    c["cross"] = np.isin(form, (1, 2, 3)) | ((form == 4) & cross_profile[c["app"], m])


def draw_serving(c: Cols, rng: np.random.Generator) -> np.ndarray:
    """Index into SERVING_REGIONS: the home Region unless a cross-region profile routed it."""
    serving = np.searchsorted(SERVING_REGIONS, c["region"])
    geo = np.where(c["form"] == 3, "global", np.char.partition(c["region"].astype(str), "-")[:, 0])
    for name, pool in w.SERVING.items():
        rows = np.flatnonzero(c["cross"] & (geo == name))
        picks = rng.choice(len(pool), size=len(rows), p=[p for _, p in pool])
        serving[rows] = np.searchsorted(SERVING_REGIONS, [r for r, _ in pool])[picks]
    return serving


def draw_tokens(c: Cols, rng: np.random.Generator, windows: Windows, end: int) -> None:
    """Lognormal token counts per app; prompt caching only in the last CACHE_FIELD_DAYS (the
    apps adopted it when Bedrock started logging it); the cost runaway multiplies them all."""
    n, a, m = len(c["app"]), c["app"], c["model"]
    tok = np.array([x.tokens for x in w.APPS], dtype=float)
    c["input"] = np.exp(rng.normal(np.log(tok[a, 0]), 0.75)).clip(8, 150_000)
    c["output"] = np.exp(rng.normal(np.log(tok[a, 1]), 0.7)).clip(1, None)
    caches = (
        np.array([x.caches for x in w.APPS])[a]
        & np.array([x.caches for x in w.MODELS])[m]
        & (c["ts"] >= end - CACHE_FIELD_DAYS * DAY)
    )
    r = rng.random(n)
    cached = np.exp(rng.normal(np.log(1.4 * tok[a, 0]), 0.35))
    c["cache_read"] = np.where(caches & (r < 0.55), cached, 0)
    c["cache_write"] = np.where(caches & (r >= 0.55) & (r < 0.63), cached, 0)
    spec = w.INCIDENTS["cost_runaway"]
    hit = _in(c, windows["cost_runaway"], app=spec["app"], account=spec["account"],
              region=spec["region"])  # fmt: skip
    for k in ("input", "output", "cache_read", "cache_write"):
        c[k] = np.where(hit, c[k] * float(spec["factor"]), c[k])
    c["incident"] = np.where(hit, INCIDENT_KINDS.index("cost_runaway"), -1)
    c["max_tokens"] = tok[a, 2].astype(np.int64)
    stop = np.where(c["output"] >= c["max_tokens"], 1, 0)
    u = rng.random(n)
    tools = np.array([x.tools for x in w.APPS])[a]
    stop = np.where((stop == 0) & tools & (u < 0.08), 3, stop)
    c["stop"] = np.where((stop == 0) & (u >= 0.08) & (u < 0.09), 2, stop)
    c["output"] = np.minimum(c["output"], c["max_tokens"])


def _in(c: Cols, window: tuple[int, int], **match: str) -> np.ndarray:
    """Rows inside [start, end) whose app/model/account/region equal the given names."""
    hit = (c["ts"] >= window[0]) & (c["ts"] < window[1])
    codes = {"app": w.APP_INDEX, "model": w.MODEL_INDEX}
    for key, value in match.items():
        hit &= c[key] == (codes[key][value] if key in codes else value)
    return hit


def draw_errors(c: Cols, rng: np.random.Generator) -> None:
    """~1.2% errors and ~0.3% throttles; a call refused up front consumed no input tokens."""
    n = len(c["app"])
    u = rng.random(n)
    err = np.where(u < 0.012, rng.choice(len(w.ERRORS), n, p=[p for _, p in w.ERRORS]), -1)
    c["error"] = np.where((u >= 0.012) & (u < 0.015), ERROR_CODES.index(THROTTLED), err)
    failed = c["error"] >= 0
    keeps_input = np.isin(c["error"], _err("ModelErrorException", "ModelTimeoutException"))
    c["input"] = np.where(failed & ~keeps_input, 0, c["input"])
    for k in ("output", "cache_read", "cache_write"):
        c[k] = np.where(failed, 0, c[k])


def draw_guardrails(c: Cols, rng: np.random.Generator, windows: Windows) -> None:
    """Guardrail outcome per call of a guarded app; a blocked prompt never reaches the model."""
    n, a = len(c["app"]), c["app"]
    rate = np.array([x.guardrail for x in w.APPS])[a]
    spec = w.INCIDENTS["guardrail_burst"]
    burst = _in(c, windows["guardrail_burst"], app=spec["app"], account=spec["account"],
                region=spec["region"])  # fmt: skip
    rate = np.where(burst & (rate > 0), float(spec["rate"]), rate)
    c["incident"] = np.where(burst, INCIDENT_KINDS.index("guardrail_burst"), c["incident"])
    guarded = (rate > 0) & (c["error"] < 0)
    hit = guarded & (rng.random(n) < rate)
    kind = 1 + rng.choice(4, n, p=GR_WEIGHTS)
    c["gr_variant"] = np.where(hit, kind, np.where(guarded, 0, -1))
    blocked_in = np.isin(c["gr_variant"], (1, 2))
    for k in ("input", "output", "cache_read", "cache_write"):
        c[k] = np.where(blocked_in, 0, c[k])
    c["stop"] = np.where(hit, 4, c["stop"])
    c["response"] = np.where(hit, np.array(RESPONSE_FOR_VARIANT)[c["gr_variant"]], c["response"])


# Latency is slower from regions further from the model fleet's busiest home, and in a busy
# hour (calls queue); and it is heavy-tailed, as real Bedrock traffic is: a few calls in a
# hundred take several times the usual (a cold replica, a retry inside the service).
REGION_SLOWDOWN = {"us-east-1": 1.0, "us-west-2": 1.08, "eu-west-1": 1.15}
TAIL_SHARE, TAIL_SHAPE = 0.03, 2.0  # Pareto tail: 3% of calls, 1x-10x+ slower
LOAD_SLOWDOWN = 0.15  # per unit of the hour's calls over the model's mean hour


def draw_latency(c: Cols, rng: np.random.Generator, windows: Windows) -> None:
    """Per-model latency growing with output tokens, region and load, heavy-tailed; and time
    to first byte for streaming calls, which grows with the prompt, region and load."""
    n, m = len(c["app"]), c["model"]
    base = np.array([x.base_ms for x in w.MODELS])[m]
    per = np.array([x.ms_per_token for x in w.MODELS])[m]
    slow = np.array([REGION_SLOWDOWN.get(r, 1.1) for r in c["region"].tolist()]) * _load(c)
    tail = np.where(rng.random(n) < TAIL_SHARE, 1 + rng.pareto(TAIL_SHAPE, n), 1.0)
    first = (0.8 * base + 0.01 * c["input"]) * rng.lognormal(0, 0.3, n) * slow
    first *= np.where(rng.random(n) < TAIL_SHARE, 1 + rng.pareto(TAIL_SHAPE, n), 1.0)
    gen = (0.2 * base + per * c["output"] + 0.015 * c["input"] + 0.003 * c["cache_read"]) * slow
    lat = first + gen * rng.lognormal(0, 0.25, n) * tail
    err = c["error"]
    lat = np.where(np.isin(err, _err(THROTTLED)), rng.uniform(20, 120, n), lat)
    lat = np.where(
        np.isin(err, _err("ValidationException", "AccessDeniedException")),
        rng.uniform(30, 200, n),
        lat,
    )
    lat = np.where(np.isin(err, _err("ModelTimeoutException")), rng.uniform(6e4, 7e4, n), lat)
    lat = np.where(np.isin(c["gr_variant"], (1, 2)), rng.uniform(150, 400, n), lat)
    spec = w.INCIDENTS["latency_regression"]
    slow_calls = _in(c, windows["latency_regression"], model=spec["model"])
    lat = np.where(slow_calls, lat * float(spec["factor"]), lat)
    first = np.where(slow_calls, first * float(spec["factor"]), first)
    c["incident"] = np.where(slow_calls, INCIDENT_KINDS.index("latency_regression"), c["incident"])
    # The queue delays every answered call of the model, streamed or not, by the same time.
    spec = w.INCIDENTS["ttft_regression"]
    late = _in(c, windows["ttft_regression"], model=spec["model"]) & (err < 0)
    delay = np.where(late, float(spec["delay_ms"]) * rng.lognormal(0, 0.2, n), 0.0)
    first, lat = first + delay, lat + delay
    c["incident"] = np.where(late, INCIDENT_KINDS.index("ttft_regression"), c["incident"])
    c["latency"] = lat.round()
    # A blocked prompt streams back only the guardrail's message: first byte is the last.
    first = np.where(np.isin(c["gr_variant"], (1, 2)), lat, np.minimum(first, lat))
    stream = np.isin(c["op"], (1, 3)) & (err < 0)
    c["first_byte"] = np.where(stream, first.round(), np.nan)


def _load(c: Cols) -> np.ndarray:
    """Each call's slowdown from its hour's load: the model's calls that hour over its mean
    hour (hours with calls), above 1 only."""
    hour = c["ts"] // HOUR
    key = c["model"].astype(np.int64) * (int(hour.max()) + 1) + (hour - hour.min())
    _, idx, counts = np.unique(key, return_inverse=True, return_counts=True)
    per_call = counts[idx].astype(float)
    mean = np.zeros(len(w.MODELS))
    for model in np.unique(c["model"]):
        mean[model] = per_call[c["model"] == model].mean()
    return 1 + LOAD_SLOWDOWN * np.clip(per_call / mean[c["model"]] - 1, 0, 3)


def draw_large_bodies(c: Cols, rng: np.random.Generator) -> None:
    """~0.2% of calls carry a document big enough for Bedrock to offload the body to data/."""
    n = len(c["app"])
    ok = (c["error"] < 0) & (c["gr_variant"] <= 0)
    size = len(w.FILLER) // 4
    c["large_input"] = ok & (rng.random(n) < 0.002)
    c["large_output"] = ok & (rng.random(n) < 0.0005)
    c["input"] = np.where(c["large_input"], size + rng.integers(0, 3000, n), c["input"])
    c["output"] = np.where(c["large_output"], size + rng.integers(0, 3000, n), c["output"])
    c["max_tokens"] = np.where(c["large_output"], 32_768, c["max_tokens"])
    c["stop"] = np.where(c["large_output"], 0, c["stop"])


def _err(*names: str) -> list[int]:
    return [ERROR_CODES.index(x) for x in names]
