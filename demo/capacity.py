"""Three applications planted in the demo estate for the Capacity page's what-if savings, with
their ground truth computed from what the simulator knows (never from the logs):

- `kb-assistant` (engineering): every call sends the same ~6,000-token system manual (a heavy
  repeated prefix) and no cache point, a few minutes apart in business hours;
- `nightly-digest` (marketing): non-streaming Converse calls between 01:00 and 04:00 UTC
  every night, nobody waiting on them (batch-able);
- `fraud-scoring` (retail-banking): in the first two hours of the estate's throttling storm
  (the same model, account and Region), every request is retried within seconds after a
  throttle or a model error, and half are sent again after they succeeded (a retry storm);
  outside it, plain traffic, which a rollout over the ten days before the storm grows to 5x the
  calls with 3x the prompt (so the storm can be seen coming); once the storm is over the team
  trims the prompt back, the calls stay.

Rows have the columns of `demo.estate.simulate`, so every source (logs, metrics, trail, bill)
sees them. Their logs are rendered with the estate's own renderer; only the system prompt of
`kb-assistant` is swapped for the manual after rendering (the renderer has one system prompt).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from base.scalars import as_float
from demo import sim
from demo import tiers as demo_tiers
from demo import world as w
from demo.render import MACROS
from ingest.invocation_logs.pricing import catalog_rows

PREFIX_APP, BATCH_APP, STORM_APP = "kb-assistant", "nightly-digest", "fraud-scoring"
PREFIX_TOKENS = 6000  # the manual's tokens (4 characters a token, as it is written below)
MANUAL = " ".join(
    f"Section {i}: escalate incidents of class {i % 9} to the on-call owner within {i % 50} "
    f"minutes and record the ticket."
    for i in range(10_000)
)[: PREFIX_TOKENS * 4]
BATCH_WINDOW_UTC = (1, 4)  # the nightly job's hours, start inclusive, end exclusive
STORM_HOURS = 2
RETRY_GAP_S = 10  # what the product calls "within seconds"
PLAIN_GAP_S = 150.0  # fraud-scoring's mean gap between calls before its rollout
# The rollout, over RAMP_DAYS up to the storm: RAMP_TO x the calls, each sending PROMPT_TO x the
# transaction history until the storm is over (then the team's fix trims it back; the calls
# stay, so the rest of the estate draws the same random numbers as without the plant's ramp).
RAMP_DAYS, RAMP_TO, PROMPT_TO = 10, 5.0, 3.0
# What a cache write costs against plain input, per TTL (Anthropic's rate card on Bedrock).
WRITE_FACTOR = {"5m": 1.25, "1h": 2.0}
TTL_S = {"5m": 300, "1h": 3600}
_SYS_RENDERED = f'"system":[{{"text":"{MACROS["SYS"]}"}}]'
_SYS_MANUAL = f'"system":[{{"text":"{w.escape(MANUAL)}"}}]'


def _price(model: str) -> tuple[float, float, float | None]:
    p = max((r for r in catalog_rows() if r.model == model and r.region == "*"),
            key=lambda r: r.effective_from)  # fmt: skip
    return p.input, p.output, p.cache_read


def _app(name: str, lob: str, team: str, account: str, model: str) -> dict[str, Any]:
    role = f"{lob}-{name}"
    return {
        "account_id": account, "region": w.USE1, "inference_region": w.USE1,
        "model_id": model, "model_id_form": "foundation", "model": model,
        "provider": w.MODELS[w.MODEL_INDEX[model]].provider,
        "lob": lob, "app": name, "team": team,
        "identity_arn": f"arn:aws:sts::{account}:assumed-role/{role}/{name}-worker",
        "principal_arn": f"arn:aws:iam::{account}:role/{role}",
        "request_metadata": json.dumps({"lob": lob, "app": name, "team": team},
                                       separators=(",", ":")),
    }  # fmt: skip


def _business_times(rng: np.random.Generator, start: int, end: int, mean_gap: float) -> np.ndarray:
    """A Poisson stream of call times (epoch s) on weekdays between 13:00 and 21:00 UTC."""
    gaps = rng.exponential(mean_gap, int((end - start) / mean_gap * 1.2) + 10)
    t = start + np.cumsum(gaps).astype(np.int64)
    t = t[t < end]
    hour, weekday = (t // 3600) % 24, ((t // 86_400) + 3) % 7
    return t[(hour >= 13) & (hour < 21) & (weekday < 5)]


def _prefix_rows(rng: np.random.Generator, start: int, end: int) -> pl.DataFrame:
    t = _business_times(rng, start, end, 240.0)
    n = len(t)
    user = rng.integers(60, 300, n)
    return pl.DataFrame({
        "ts_s": t, "operation": "Converse", "input_tokens": PREFIX_TOKENS + user,
        "output_tokens": rng.integers(150, 500, n), "max_tokens": 1024, "error_code": None,
        "stop_reason": "end_turn", "prompt_idx": rng.choice([12, 15], n),
        "latency_ms": rng.integers(1500, 4000, n), "kind": "prefix",
    }).with_columns(**{k: pl.lit(v) for k, v in _app(PREFIX_APP, "engineering",
                                                     "dev-productivity", w.ACCT_SHARED,
                                                     w.C35H).items()})  # fmt: skip


def _batch_rows(rng: np.random.Generator, start: int, end: int) -> pl.DataFrame:
    days = np.arange(start // 86_400 + 1, end // 86_400)
    a, b = BATCH_WINDOW_UTC
    t = (days[:, None] * 86_400 + a * 3600 + np.arange(0, (b - a) * 3600, 90)[None, :]).ravel()
    t = t + rng.integers(0, 60, len(t))
    n = len(t)
    return pl.DataFrame({
        "ts_s": t, "operation": "Converse", "input_tokens": rng.integers(2000, 4000, n),
        "output_tokens": rng.integers(300, 600, n), "max_tokens": 1024, "error_code": None,
        "stop_reason": "end_turn", "prompt_idx": 22, "latency_ms": rng.integers(2000, 6000, n),
        "kind": "batch",
    }).with_columns(**{k: pl.lit(v) for k, v in _app(BATCH_APP, "marketing", "mkt-content",
                                                     w.ACCT_SHARED, w.C3H).items()})  # fmt: skip


def storm_window(start: int, end: int) -> tuple[int, int]:
    """The first STORM_HOURS of the estate's throttling storm: its callers retrying."""
    from demo.sim import incident_windows

    t0, t1 = incident_windows(*(datetime.fromtimestamp(t, UTC) for t in (start, end)))[
        "throttling_storm"
    ]
    return t0, min(t1, t0 + STORM_HOURS * 3600)


def _rollout(t: np.ndarray, t0: int) -> np.ndarray:
    """fraud-scoring's rollout, 0 to 1: 0 until RAMP_DAYS before the storm (at t0), 1 from the
    storm's day on, linear between (the demand that meets the quota that day)."""
    return np.clip((t - (t0 - RAMP_DAYS * 86_400)) / (RAMP_DAYS * 86_400), 0, 1)


def _storm_over(t0: int) -> int:
    """When the throttling storm that began at t0 is over (its incident's hours)."""
    return t0 + int(w.INCIDENTS["throttling_storm"]["hours"]) * 3600


def _prompt_factor(t: np.ndarray, t0: int) -> np.ndarray:
    """How much history a plain call sends: growing with the rollout to PROMPT_TO x, back to
    1x once the storm is over (the fix)."""
    return np.where(t >= _storm_over(t0), 1.0, 1 + (PROMPT_TO - 1) * _rollout(t, t0))


def _storm_rows(rng: np.random.Generator, start: int, end: int) -> pl.DataFrame:
    """Plain traffic in business hours (ramping up before the storm), and the storm: a request
    every 30 s, each tried after a throttle and a model error (billed input) until it
    succeeds, half of them sent once more after success."""
    t0, t1 = storm_window(start, end)
    plain = _business_times(rng, start, end, PLAIN_GAP_S / RAMP_TO)
    plain = plain[rng.random(len(plain)) < (1 + (RAMP_TO - 1) * _rollout(plain, t0)) / RAMP_TO]
    plain = plain[(plain < t0) | (plain >= t1)]
    rows: list[tuple[int, str | None, int, int]] = [(int(t), None, 0, -1) for t in plain]
    for req, t in enumerate(range(t0, t1, 30)):
        at = t
        rows.append((at, "ThrottlingException", req, 0))
        for _ in range(int(rng.integers(1, 3))):
            at += int(rng.integers(1, 3))
            rows.append((at, "ModelErrorException", req, 1))
        at += int(rng.integers(1, 3))
        rows.append((at, None, req, 2))  # the answer the caller needed
        if rng.random() < 0.5:
            rows.append((at + int(rng.integers(1, 4)), None, req, 3))  # sent again: waste
    ts, reqs, step = (np.array(x) for i, x in enumerate(zip(*rows, strict=True)) if i != 1)
    err = [r[1] for r in rows]
    n = len(ts)
    billed = np.isin(step, (-1, 1, 2, 3))
    answered = np.isin(step, (-1, 2, 3))
    return pl.DataFrame({
        "ts_s": ts, "operation": "Converse",
        # The rollout sends each transaction's history along, more of it as it goes: big
        # prompts, so the pool's busiest minute follows fraud-scoring's ramp.
        "input_tokens": np.where(billed, np.where(
            step < 0, (rng.integers(6000, 10000, n) * _prompt_factor(ts, t0))
            .astype(np.int64), rng.integers(1500, 2500, n)), 0),
        "output_tokens": np.where(answered, rng.integers(100, 250, n), 0), "max_tokens": 512,
        "error_code": pl.Series(err, dtype=pl.String),
        "stop_reason": pl.Series([None if e else "end_turn" for e in err], dtype=pl.String),
        # One prompt per request (the body repeats only within a request's retries).
        "prompt_idx": np.where(step >= 0, reqs % len(w.PROMPTS), 19),
        "latency_ms": np.where(step == 0, 40, rng.integers(400, 1200, n)),
        "kind": pl.Series(np.where(step >= 0, "storm", "plain"), dtype=pl.String),
        "waste": (step == 1) | (step == 3),
    }).with_columns(**{k: pl.lit(v) for k, v in _app(STORM_APP, "retail-banking", "fraud-ops",
                                                     w.ACCT_RETAIL, w.C35H).items()})  # fmt: skip


def planted_rows(start: datetime, end: datetime, seed: int, schema: pl.Schema) -> pl.DataFrame:
    """The three apps' invocations in `schema` (the estate frame's), with a `kind` and `waste`
    column the caller drops after computing the truth."""
    rng = np.random.default_rng(seed + 16)
    s, e = int(start.timestamp()), int(end.timestamp())
    parts = [_prefix_rows(rng, s, e), _batch_rows(rng, s, e), _storm_rows(rng, s, e)]
    frame = pl.concat(parts, how="diagonal_relaxed").sort("ts_s", maintain_order=True)
    n = frame.height
    raw = bytearray(rng.bytes(16 * n))
    ids = []
    for i in range(n):
        b = raw[16 * i : 16 * i + 16]
        b[6], b[8] = (b[6] & 0x0F) | 0x40, (b[8] & 0x3F) | 0x80
        h = b.hex()
        ids.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    zero = pl.lit(0, pl.Int64)
    frame = frame.with_columns(
        request_id=pl.Series(ids, dtype=pl.String),
        ts=pl.from_epoch("ts_s", time_unit="s").dt.replace_time_zone("UTC"),
        waste=pl.col("waste").fill_null(False),
        cache_read_tokens=zero, cache_write_tokens=zero,
        first_byte_ms=pl.lit(None, pl.Int64), guardrail_id=pl.lit(None, pl.String),
        guardrail_version=pl.lit(None, pl.String), guardrail_action=pl.lit(None, pl.String),
        guardrail_policy=pl.lit(None, pl.String), guardrail_variant=pl.lit(-1, pl.Int8),
        response_idx=pl.col("prompt_idx"), canary=pl.lit(False), large_input=pl.lit(False),
        large_output=pl.lit(False), stream_done=pl.lit(False),
        # The estate's record generations: older records use the older key order and predate
        # the cache token fields, as every other app's do.
        key_order=pl.when(pl.col("ts_s") < e - sim.LEGACY_ORDER_DAYS * 86_400)
        .then(pl.lit("legacy")).otherwise(pl.lit("current")),
        cache_fields=pl.col("ts_s") >= e - sim.CACHE_FIELD_DAYS * 86_400,
        logged=pl.lit(True), incident=pl.lit(None, pl.String),
    )  # fmt: skip
    # Attribution and the tier columns are added to the whole estate afterwards.
    later = ("attributed_lob", "attribution_rule", *demo_tiers.ADDS)
    kept = [c for c in schema if c not in later]
    cast = frame.select(*(pl.col(c).cast(schema[c]) for c in kept), "kind", "waste", "ts_s")
    return cast


def render_fix(lines: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """The rendered records of `kb-assistant` with the manual as their system prompt."""
    # Only its rows are rewritten: a replace over every line (then thrown away for all but
    # kb-assistant's) wrote the 24 KB manual into each, 13 s of a 90-day demo's 42.
    mine = frame.select((pl.col("app") == PREFIX_APP).fill_null(False)).to_series().arg_true()
    line = lines["line"].clone()
    line.scatter(mine, line.gather(mine).str.replace(_SYS_RENDERED, _SYS_MANUAL, literal=True))
    return lines.with_columns(line=line)


def truth(planted: pl.DataFrame, start: datetime, end: datetime) -> dict[str, Any]:
    """What each planted app should save, from the simulator's own figures (true prefix
    tokens, the retries it made), priced with the catalog."""
    storm = storm_window(int(start.timestamp()), int(end.timestamp()))
    return {"prompt_caching": _caching_truth(planted.filter(pl.col("kind") == "prefix")),
            "batch": _batch_truth(planted.filter(pl.col("kind") == "batch")),
            "retry_storm": _storm_truth(planted.filter(pl.col("kind") == "storm"),
                                        storm)}  # fmt: skip


def _cost(rows: pl.DataFrame, model: str) -> float:
    p_in, p_out, _ = _price(model)
    return (
        as_float(rows["input_tokens"].sum()) * p_in + as_float(rows["output_tokens"].sum()) * p_out
    ) / 1e6


def _caching_truth(rows: pl.DataFrame) -> dict[str, Any]:
    p_in, _, p_read = _price(w.C35H)
    gaps = rows["ts_s"].diff().to_numpy()
    out: dict[str, Any] = {"lob": "engineering", "app": PREFIX_APP, "model": w.C35H,
                           "calls": rows.height, "prefix_tokens": PREFIX_TOKENS}  # fmt: skip
    for ttl, seconds in TTL_S.items():
        hits = int(np.sum(gaps[1:] < seconds))
        misses = rows.height - hits
        read = p_read if p_read is not None else 0.1 * p_in
        saved = (hits * (p_in - read) - misses * (WRITE_FACTOR[ttl] - 1) * p_in) * PREFIX_TOKENS
        out[f"savings_{ttl}_usd"] = saved / 1e6
    out["best_ttl"] = max(TTL_S, key=lambda t: out[f"savings_{t}_usd"])
    out["savings_usd"] = out[f"savings_{out['best_ttl']}_usd"]
    return out


def _batch_truth(rows: pl.DataFrame) -> dict[str, Any]:
    cost = _cost(rows, w.C3H)
    return {"lob": "marketing", "app": BATCH_APP, "model": w.C3H, "calls": rows.height,
            "cost_usd": cost, "savings_usd": 0.5 * cost,
            "hours_utc": list(BATCH_WINDOW_UTC)}  # fmt: skip


def _storm_truth(rows: pl.DataFrame, window: tuple[int, int]) -> dict[str, Any]:
    start, end = (datetime.fromtimestamp(t, UTC) for t in window)
    waste = rows.filter("waste")
    answers = rows.filter(pl.col("error_code").is_null() & ~pl.col("waste")).height
    return {"lob": "retail-banking", "app": STORM_APP, "model": w.C35H,
            "requests": answers, "retried_calls": rows.height - answers,
            "billed_waste_calls": waste.height, "waste_usd": _cost(waste, w.C35H),
            "start": start.isoformat(), "end": end.isoformat()}  # fmt: skip


def add_to(
    frame: pl.DataFrame, start: datetime, end: datetime, seed: int
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The estate frame with the planted apps' rows merged in time order, and their truth."""
    from demo.frame import expected_attribution

    planted = planted_rows(start, end, seed, frame.schema)
    found = truth(planted, start, end)
    tags = {p.arn: dict(p.tags) for p in w.PROFILES if p.listed}
    rows = expected_attribution(planted.drop("kind", "waste", "ts_s"), w.RULES, tags)
    merged = pl.concat([frame, rows.select(frame.columns).cast(frame.schema)])
    return merged.sort("ts", maintain_order=True), found


QUOTA_HEADROOM = 1.02


def pool_minutes(frame: pl.DataFrame) -> pl.DataFrame:
    """(minute, tokens): the storm pool's (its model, account and Region) quota tokens per
    minute, counted as the quota counts them: served calls' input + cache write + output (x
    the burndown, which is 1 for Claude 3.5 Haiku)."""
    spec = w.INCIDENTS["throttling_storm"]
    pool = frame.filter(
        pl.col("model") == spec["model"], pl.col("account_id") == spec["account"],
        pl.col("region") == spec["region"], pl.col("error_code").is_null(),
    )  # fmt: skip
    tokens = pl.col("input_tokens") + pl.col("cache_write_tokens") + pl.col("output_tokens")
    return pool.group_by(minute=pl.col("ts").dt.truncate("1m")).agg(tokens=tokens.sum())


def quota_truth(frame: pl.DataFrame, start: datetime, end: datetime) -> dict[str, Any]:
    """The tokens-per-minute quota the throttling storm hit, for the demo config: 2% above the
    busiest minute its pool (the storm's model, account and Region) ever reached outside the
    storm, counted as the quota counts it (served calls; input + cache write + output x
    burndown, which is 1 for Claude 3.5 Haiku). So only the storm throttles: fraud-scoring's
    rollout brought organic demand up to the quota, the storm's burst went over it (and the
    prompts were trimmed back)."""
    spec = w.INCIDENTS["throttling_storm"]
    t0 = storm_window(int(start.timestamp()), int(end.timestamp()))[0]
    over = _storm_over(t0)
    # (t0 and the hour after the storm are whole minutes: filtering minutes is filtering calls)
    storm = pl.col("minute").dt.epoch("s").is_between(t0, over + 3600, closed="left")
    organic = pool_minutes(frame).filter(~storm)
    day = datetime.fromtimestamp(t0 // 86_400 * 86_400, UTC).date()
    # The rollout is a planted change in the pool's own series (tokens, cost, calls of its
    # LOB on its model): an anomaly there while it ramps is a finding, not a false alarm.
    ramp_start, ramp_end = (datetime.fromtimestamp(t, UTC) for t in (t0 - RAMP_DAYS * 86_400, over))
    rollout = {"lob": "retail-banking", "app": STORM_APP, "start": ramp_start.isoformat(),
               "end": ramp_end.isoformat()}  # fmt: skip
    return {"model": spec["model"], "account": spec["account"], "region": spec["region"],
            "tpm": round(as_float(organic["tokens"].max()) * QUOTA_HEADROOM),
            "storm_day": day.isoformat(), "rollout": rollout}  # fmt: skip


def config_toml(quota: dict[str, Any]) -> str:
    """The [capacity] section of the demo config: the storm's quota and a legacy model."""
    return (
        "\n[capacity]\n"
        "# The applied quota the throttling storm hit (no Service Quotas offline).\n"
        f'[[capacity.quotas]]\nmodel = "{quota["model"]}"\nregion = "{quota["region"]}"\n'
        f'account = "{quota["account"]}"\n'
        f"tpm = {quota['tpm']:.0f}\n"
        "# Claude 3 Haiku is LEGACY in this estate: the page lists who still calls it.\n"
        f'[[capacity.lifecycle]]\nmodel = "{w.C3H}"\nlegacy_on = 2025-09-01\n'
        "end_of_life = 2026-03-01\n"
    )


def planted_truth(start: datetime, end: datetime, seed: int, schema: pl.Schema) -> dict[str, Any]:
    """The planted apps' truth alone (the rows are drawn again: the draws are seeded)."""
    return truth(planted_rows(start, end, seed, schema), start, end)
