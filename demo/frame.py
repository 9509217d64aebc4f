"""Assemble the demo estate's invocation frame from the per-row draws in `demo_sim`.

Strings are built from a few distinct codes (Python per code, a gather per row), the
throttling storm adds its retries, and every row gets its requestId and expected attribution.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from demo import sim
from demo import world as w
from demo.sim import DAY, HOUR


def _lookup(codes: np.ndarray, render: Callable[[int], str | None]) -> pl.Series:
    """Strings for many rows from few distinct codes: Python per code, gather per row."""
    uniq, inverse = np.unique(codes, return_inverse=True)
    values = pl.Series([render(int(c)) for c in uniq], dtype=pl.String)
    return values.gather(inverse.astype(np.int64))


def _sessions(app: w.App) -> list[str]:
    """The caller ARNs an app shows up as: role sessions named like Lambda, EC2, ECS and
    botocore name them; the strays use their fixed principal."""
    h = hashlib.sha256(app.name.encode()).hexdigest()
    if app.principal and "{session}" in app.principal:
        return [app.principal.format(session=u) for u in w.SSO_USERS]
    if app.principal:
        return [app.principal]
    role = f"arn:aws:sts::{app.account}:assumed-role/{app.role}"
    names = (f"{app.name}-handler", f"i-0{h[:16]}", h[16:48], f"botocore-session-17{h[:8]}")
    return [f"{role}/{n[:64]}" for n in names]


def _model_ids(c: sim.Cols) -> pl.Series:
    """modelId as the caller passed it: a foundation id, a system profile id or ARN, or an
    application profile ARN."""
    n_models, n_forms = len(w.MODELS), len(w.FORMS)
    regions = sorted(w.REGION_TZ)
    reg = np.searchsorted(regions, c["region"])
    code = ((c["app"] * len(regions) + reg) * n_models + c["model"]) * n_forms + c["form"]

    def render(k: int) -> str:
        k, form = divmod(k, n_forms)
        k, m = divmod(k, n_models)
        a, r = divmod(k, len(regions))
        app, model, region = w.APPS[a], w.MODELS[m].id, regions[r]
        geo = region.split("-")[0]
        match w.FORMS[form]:
            case "system_profile":
                return f"{geo}.{model}"
            case "global_profile":
                return f"global.{model}"
            case "system_profile_arn":
                return f"arn:aws:bedrock:{region}:{app.account}:inference-profile/{geo}.{model}"
            case "application_profile":
                return next(
                    w.PROFILE_BY_KEY[p].arn
                    for p in app.profiles
                    if w.PROFILE_BY_KEY[p].model == model
                )
        return model

    return _lookup(code, render)


def _codes(values: list[str] | tuple[str | None, ...], idx: np.ndarray) -> pl.Series:
    """values[idx] as a string column; a negative idx is null."""
    table = pl.Series([*values, None], dtype=pl.String)
    return table.gather(np.where(idx < 0, len(values), idx).astype(np.int64))


def _guardrail_id(app: w.App, region: str) -> str:
    """Guardrails are regional: an app in two Regions runs two guardrails."""
    gid, _ = w.GUARDRAIL_APPS[app.name]
    if region == app.regions[0][0]:
        return gid
    return hashlib.sha256(f"{gid}/{region}".encode()).hexdigest()[:12]


def _frame(c: sim.Cols, serving: np.ndarray) -> pl.DataFrame:
    """The draws as typed columns, strings included."""
    a, n_apps = c["app"], len(w.APPS)
    sessions = [_sessions(app) for app in w.APPS]
    regions = sorted(w.REGION_TZ)
    reg = np.searchsorted(regions, c["region"])
    gv = c["gr_variant"]
    # The IAM principal behind each caller: the role of a session, or the user itself.
    principals = [
        re.sub(r"^arn:aws:sts::(\d+):assumed-role/([^/]+)/.*$", r"arn:aws:iam::\1:role/\2", s[0])
        for s in sessions
    ]

    def metadata(k: int) -> str | None:
        if k >= n_apps:
            return None
        app = w.APPS[k]
        return json.dumps(
            {"lob": app.lob, "app": app.name, "team": app.team}, separators=(",", ":")
        )

    def guardrail(k: int) -> str | None:
        app, region = w.APPS[k // len(regions)], regions[k % len(regions)]
        return _guardrail_id(app, region) if app.name in w.GUARDRAIL_APPS else None

    versions = [w.GUARDRAIL_APPS.get(x.name, (None, None))[1] for x in w.APPS]
    md = np.array([x.metadata for x in w.APPS])[a] & (c["op"] >= 2)
    cols = {
        "ts_s": c["ts"],
        "account_id": _codes(sorted(w.ACCOUNTS), np.searchsorted(sorted(w.ACCOUNTS), c["account"])),
        "region": _codes(regions, reg),
        "inference_region": _codes(sim.SERVING_REGIONS, serving),
        "operation": _codes(list(w.OPERATIONS), c["op"]),
        "model_id": _model_ids(c),
        "model_id_form": _codes(list(w.FORMS), c["form"]),
        "model": _codes([m.id for m in w.MODELS], c["model"]),
        "provider": _codes([m.provider for m in w.MODELS], c["model"]),
        "lob": pl.Series([x.lob for x in w.APPS], dtype=pl.String).gather(a),
        "app": _codes([x.name for x in w.APPS], a),
        "team": _codes([x.team for x in w.APPS], a),
        # At most four sessions per app, so app * 4 + session is a unique code.
        "identity_arn": _lookup(a * 4 + c["session"], lambda k: sessions[k // 4][k % 4]),
        "principal_arn": _codes(principals, a),
        "request_metadata": _lookup(np.where(md, a, n_apps), metadata),
        "input_tokens": c["input"].round().astype(np.int64),
        "output_tokens": c["output"].round().astype(np.int64),
        "cache_read_tokens": c["cache_read"].round().astype(np.int64),
        "cache_write_tokens": c["cache_write"].round().astype(np.int64),
        "max_tokens": c["max_tokens"].astype(np.int64),
        "latency_ms": c["latency"].astype(np.int64),
        "first_byte_ms": pl.Series(c["first_byte"]).fill_nan(None).cast(pl.Int64),
        "stop_reason": _codes(sim.STOPS, np.where(c["error"] < 0, c["stop"], -1)),
        "error_code": _codes(sim.ERROR_CODES, c["error"]),
        "guardrail_id": _lookup(
            np.where(gv >= 0, a * len(regions) + reg, -1),
            lambda k: guardrail(k) if k >= 0 else None,
        ),
        "guardrail_version": pl.Series(versions, dtype=pl.String).gather(a),
        "guardrail_variant": gv.astype(np.int8),
        "prompt_idx": c["prompt"].astype(np.int16),
        "response_idx": c["response"].astype(np.int16),
        "canary": c["canary"],
        "large_input": c["large_input"],
        "large_output": c["large_output"],
        "stream_done": c["done"],
        "incident": _codes(sim.INCIDENT_KINDS, c["incident"]),
    }
    return pl.DataFrame(cols).with_columns(
        guardrail_version=pl.when(pl.col("guardrail_variant") >= 0).then("guardrail_version"),
        guardrail_action=pl.when(pl.col("guardrail_variant") > 0)
        .then(pl.lit("INTERVENED"))
        .when(pl.col("guardrail_variant") == 0)
        .then(pl.lit("NONE")),
        guardrail_policy=pl.col("guardrail_variant").replace_strict(
            dict(enumerate(sim.GR_VARIANTS)), default=None, return_dtype=pl.String
        ),
    )


# How many times their usual traffic the hot model's callers send during the throttling storm.
STORM_BURST = 4


def _storm(frame: pl.DataFrame, rng: np.random.Generator, windows: sim.Windows) -> pl.DataFrame:
    """The throttling storm: the hot model's callers send STORM_BURST times their usual
    traffic; the extra calls that get through push its tokens-per-minute quota usage up, and
    every served call was preceded by throttled tries."""
    spec, (t0, t1) = w.INCIDENTS["throttling_storm"], windows["throttling_storm"]
    hit = frame.select(
        pl.col("ts_s").is_between(t0, t1, closed="left")
        & (pl.col("model") == spec["model"])
        & (pl.col("account_id") == spec["account"])
        & (pl.col("region") == spec["region"])
        & pl.col("error_code").is_null()
    ).to_series()
    idx = np.flatnonzero(hit.to_numpy())
    extra = np.repeat(idx, STORM_BURST - 1)
    # The extra calls are the usual ones again, a little apart (the same minute, give or take).
    shifted = frame["ts_s"].to_numpy()[extra] + rng.integers(-30, 31, len(extra))
    burst = frame[extra].with_columns(ts_s=pl.Series(np.clip(shifted, t0, t1 - 1)))
    frame = pl.concat([frame, burst])
    hit = pl.concat([hit, pl.Series(np.ones(len(extra), dtype=bool))])
    idx = np.concatenate([idx, np.arange(len(frame) - len(extra), len(frame))])
    tries = np.repeat(idx, 1 + rng.poisson(2.0, len(idx)))
    zero = pl.lit(0, dtype=pl.Int64)
    retries = frame[tries].with_columns(
        ts_s=pl.Series(frame["ts_s"].to_numpy()[tries] - rng.integers(1, 40, len(tries))),
        error_code=pl.lit("ThrottlingException"),
        input_tokens=zero,
        output_tokens=zero,
        cache_read_tokens=zero,
        cache_write_tokens=zero,
        first_byte_ms=pl.lit(None, pl.Int64),
        latency_ms=pl.Series(rng.integers(15, 90, len(tries)), dtype=pl.Int64),
        stop_reason=pl.lit(None, pl.String),
        guardrail_id=pl.lit(None, pl.String),
        guardrail_version=pl.lit(None, pl.String),
        guardrail_action=pl.lit(None, pl.String),
        guardrail_policy=pl.lit(None, pl.String),
        guardrail_variant=pl.lit(-1, pl.Int8),
        canary=pl.lit(False),
        large_input=pl.lit(False),
        large_output=pl.lit(False),
        stream_done=pl.lit(False),
    )
    label = pl.when(hit).then(pl.lit("throttling_storm")).otherwise("incident")
    frame = frame.with_columns(incident=label)
    return pl.concat([frame, retries.with_columns(incident=pl.lit("throttling_storm"))])


def _uuids(rng: np.random.Generator, n: int) -> pl.Series:
    """Version-4 UUIDs drawn from the seeded generator, so reruns get the same requestIds."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    hexes = pl.Series(np.frombuffer(raw.tobytes().hex().encode(), dtype="S32")).cast(pl.String)
    parts = [hexes.str.slice(o, k) for o, k in ((0, 8), (8, 4), (12, 4), (16, 4), (20, 12))]
    return pl.select(pl.concat_str(parts, separator="-")).to_series().alias("request_id")


def simulate_rows(
    *, days: int, seed: int, end: datetime | None, per_day: int
) -> tuple[pl.DataFrame, sim.Windows]:
    """The estate's invocations (ts as epoch seconds, sorted) and the incident windows."""
    start_dt, end_dt = sim.estate_window(days, end)
    start, stop = sim.epoch(start_dt), sim.epoch(end_dt)
    rng = np.random.default_rng(seed)
    windows = sim.incident_windows(start_dt, end_dt)
    hours = days * 24
    s_app, s_region, counts = sim.hourly_counts(rng, start, hours, per_day)
    stream, hour = np.divmod(np.repeat(np.arange(counts.size), counts.ravel()), hours)
    n = len(stream)
    c: sim.Cols = {"app": s_app[stream], "region": np.array(s_region)[stream]}
    c["account"] = np.array([x.account for x in w.APPS])[c["app"]]
    c["ts"] = start + hour * HOUR + rng.integers(0, HOUR, n)
    weights = np.zeros((len(w.APPS), len(w.MODELS)))
    for i, app in enumerate(w.APPS):
        for model, weight in app.models:
            weights[i, w.MODEL_INDEX[model]] = weight
    c["model"] = sim.pick(rng, weights, c["app"])
    op = sim.pick(rng, np.array([x.ops for x in w.APPS], dtype=float), c["app"])
    # AI21 is only ever called through Converse here: no native body shape is modelled.
    c["op"] = np.where((c["model"] == w.MODEL_INDEX[w.UNPRICED_MODEL]) & (op < 2), 2, op)
    sim.draw_forms(c, rng)
    serving = sim.draw_serving(c, rng)
    choices = np.array(
        [[w.APP_PROMPTS[x.name][i % len(w.APP_PROMPTS[x.name])] for i in range(4)] for x in w.APPS]
    )
    c["prompt"] = choices[c["app"], rng.integers(0, 4, n)]
    c["response"] = c["prompt"].copy()
    sim.draw_tokens(c, rng, windows, stop)
    sim.draw_errors(c, rng)
    sim.draw_guardrails(c, rng, windows)
    sim.draw_large_bodies(c, rng)
    sim.draw_latency(c, rng, windows)
    c["canary"] = rng.random(n) < 0.015
    c["done"] = (c["op"] == 1) & (rng.random(n) < 0.3)
    n_sessions = np.array([len(_sessions(x)) for x in w.APPS])
    c["session"] = rng.integers(0, n_sessions[c["app"]])
    frame = _storm(_frame(c, serving), rng, windows)
    frame = frame.sort(["ts_s", "account_id", "region", "app"], maintain_order=True)
    frame = frame.with_columns(_uuids(rng, len(frame)))
    off, (t0, t1) = w.INCIDENTS["logging_off"], windows["logging_off"]
    dark = (
        pl.col("ts_s").is_between(t0, t1, closed="left")
        & (pl.col("account_id") == off["account"])
        & (pl.col("region") == off["region"])
    )
    return frame.with_columns(
        logged=~dark,
        incident=pl.when(dark).then(pl.lit("logging_off")).otherwise("incident"),
        key_order=pl.when(pl.col("ts_s") < stop - sim.LEGACY_ORDER_DAYS * DAY)
        .then(pl.lit("legacy"))
        .otherwise(pl.lit("current")),
        cache_fields=pl.col("ts_s") >= stop - sim.CACHE_FIELD_DAYS * DAY,
    ), windows


def expected_attribution(
    frame: pl.DataFrame, rules: tuple[dict[str, Any], ...], tags: dict[str, dict[str, str]]
) -> pl.DataFrame:
    """attributed_lob/attribution_rule per row under the demo config's rules (first match)."""
    keys = ["account_id", "identity_arn", "principal_arn", "model_id", "request_metadata"]
    distinct = frame.select(keys).unique(maintain_order=True)
    lobs, idxs = [], []
    for account, identity, principal, model_id, md_json in distinct.iter_rows():
        md = json.loads(md_json) if md_json else {}
        found = next(
            (
                i
                for i, r in enumerate(rules)
                if _rule_matches(r, account, identity, principal, model_id, md, tags)
            ),
            None,
        )
        lobs.append(rules[found]["lob"] if found is not None else "unattributed")
        idxs.append(found)
    table = distinct.with_columns(
        attributed_lob=pl.Series(lobs, dtype=pl.String),
        attribution_rule=pl.Series(idxs, dtype=pl.Int32),
    )
    return frame.join(table, on=keys, how="left", nulls_equal=True, maintain_order="left")


def _rule_matches(
    rule: dict[str, Any],
    account: str,
    identity: str,
    principal: str,
    model_id: str,
    md: dict[str, str],
    tags: dict[str, dict[str, str]],
) -> bool:
    def glob(value: str | None, pattern: str) -> bool:
        return value is not None and fnmatch.fnmatchcase(value, pattern)

    if "request_metadata" in rule:
        return all(glob(md.get(k), v) for k, v in rule["request_metadata"].items())
    if "inference_profile" in rule:
        return glob(model_id, rule["inference_profile"])
    if "profile_tag" in rule:
        t = tags.get(model_id, {})
        return bool(t) and all(glob(t.get(k), v) for k, v in rule["profile_tag"].items())
    if "principal" in rule:
        return glob(identity, rule["principal"]) or glob(principal, rule["principal"])
    return account == rule["account"]
