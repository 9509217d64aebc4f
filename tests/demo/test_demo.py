"""The demo estate: real files in a temp dir, checked record by record against aws-formats.md."""

from __future__ import annotations

import csv
import gzip
import json
import re
import zlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from base.errors import ConfigError
from base.settings import load_settings
from demo import capacity as demo_capacity
from demo.estate import (
    DEMO_CANARY,
    Finishing,
    begin_estate,
    finish_estate,
    generate_estate,
    simulate,
)
from genai_lens import PROJECT_ROOT

END = datetime(2026, 3, 2, 17, 40, tzinfo=UTC)  # truncated to 17:00 by the generator
DAYS = 35  # long enough for both key orders and for records without cache fields
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEY = re.compile(
    r"^AWSLogs/(?P<acct>\d{12})/BedrockModelInvocationLogs/(?P<region>[a-z0-9-]+)/"
    r"(?P<hour>\d{4}/\d{2}/\d{2}/\d{2})/(?:(?P<name>\d{8}T\d{6}Z_[0-9a-f]{16}\.json\.gz)|"
    r"data/(?P<rid>[0-9a-f-]{36})_(?P<kind>input|output)\.json\.gz)$"
)
CURRENT_TAIL = ["identity", "inferenceRegion", "schemaType", "schemaVersion"]


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory):
    return generate_estate(
        tmp_path_factory.mktemp("demo"), days=DAYS, seed=11, end=END, per_day=1500
    )


@pytest.fixture(scope="module")
def truth(estate) -> dict:
    return json.loads(estate.ground_truth_path.read_text())


@pytest.fixture(scope="module")
def records(estate, truth) -> list[tuple[str, dict]]:
    """(object key, record) for every line of every record object, minus the planted bad ones."""
    bad_lines = {(b["file"], b["line"]) for b in truth["bad_records"]}
    bad_files = {b["file"] for b in truth["bad_records"] if b["line"] == 0}
    out = []
    for path in sorted(estate.landing.rglob("*.json.gz")):
        key = path.relative_to(estate.landing).as_posix()
        if "/data/" in key or key in bad_files:
            continue
        for n, line in enumerate(gzip.decompress(path.read_bytes()).decode().splitlines(), 1):
            if (key, n) not in bad_lines:
                out.append((key, json.loads(line)))
    return out


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return simulate(days=DAYS, seed=11, end=END, per_day=1500)


def body_text(record: dict, side: str) -> str:
    return json.dumps(record[side].get(f"{side}BodyJson"), ensure_ascii=False)


def test_objects_follow_the_bedrock_s3_layout(estate, records):
    keys = [p.relative_to(estate.landing).as_posix() for p in estate.landing.rglob("*.json.gz")]
    assert keys and all(KEY.match(k) for k in keys), [k for k in keys if not KEY.match(k)][:3]
    for key, rec in records:
        m = KEY.match(key)
        assert (m["acct"], m["region"]) == (rec["accountId"], rec["region"])
        assert m["hour"] == rec["timestamp"][:13].replace("-", "/").replace("T", "/")
    accounts = {r["accountId"] for _, r in records}
    assert len(accounts) == 3 and {r["region"] for _, r in records} == {
        "us-east-1",
        "us-west-2",
        "eu-west-1",
    }
    assert estate.invocations == len(records)
    assert estate.files == sum(1 for k in keys if "/data/" not in k)


def test_every_record_is_well_formed(records):
    seen = set()
    for _, rec in records:
        assert rec["schemaType"] == "ModelInvocationLog" and rec["schemaVersion"] == "1.0"
        assert STAMP.match(rec["timestamp"]) and re.fullmatch(r"\d{12}", rec["accountId"])
        assert UUID.match(rec["requestId"]) and rec["requestId"] not in seen
        seen.add(rec["requestId"])
        assert rec["identity"]["arn"].startswith(
            (
                f"arn:aws:sts::{rec['accountId']}:assumed-role/",
                f"arn:aws:iam::{rec['accountId']}:user/",
            )
        )
        assert rec["operation"] in {
            "InvokeModel",
            "InvokeModelWithResponseStream",
            "Converse",
            "ConverseStream",
        }
        inp, out = rec["input"], rec["output"]
        assert inp["inputContentType"] == "application/json"
        assert ("inputBodyJson" in inp) != ("inputBodyS3Path" in inp)
        assert isinstance(inp["inputTokenCount"], int) and isinstance(out["outputTokenCount"], int)
        if "errorCode" in rec:
            assert out == {"outputTokenCount": 0}
        else:
            assert out["outputContentType"] == "application/json"
            assert ("outputBodyJson" in out) != ("outputBodyS3Path" in out)
        if "requestMetadata" in rec:
            assert rec["operation"].startswith("Converse")
            assert all(isinstance(v, str) for v in rec["requestMetadata"].values())


def test_both_key_orders_and_old_records_lack_new_fields(records):
    legacy = [r for _, r in records if next(iter(r)) == "schemaType"]
    current = [r for _, r in records if next(iter(r)) == "timestamp"]
    assert legacy and current and len(legacy) + len(current) == len(records)
    assert all(list(r)[-4:] == CURRENT_TAIL for r in current)
    assert max(r["timestamp"] for r in legacy) < min(r["timestamp"] for r in current)
    assert not any("inferenceRegion" in r for r in legacy)
    cutoff = (END.replace(minute=0) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = [r for _, r in records if r["timestamp"] < cutoff]
    new = [r for _, r in records if r["timestamp"] >= cutoff]
    assert old and not any("cacheReadInputTokenCount" in r["input"] for r in old)
    assert all("cacheWriteInputTokenCount" in r["input"] for r in new)
    assert any(r["input"]["cacheReadInputTokenCount"] > 0 for r in new)


def test_stream_bodies_carry_metrics_in_the_last_chunk(records):
    streams = [
        r
        for _, r in records
        if r["operation"] == "InvokeModelWithResponseStream" and "outputBodyJson" in r["output"]
    ]
    assert streams
    for rec in streams:
        chunks = rec["output"]["outputBodyJson"]
        assert isinstance(chunks, list)
        objects = [c for c in chunks if isinstance(c, dict)]
        metrics = objects[-1]["amazon-bedrock-invocationMetrics"]
        assert metrics["inputTokenCount"] == rec["input"]["inputTokenCount"]
        assert metrics["outputTokenCount"] == rec["output"]["outputTokenCount"]
        assert 0 < metrics["firstByteLatency"] <= metrics["invocationLatency"]
        if "anthropic" in rec["modelId"]:
            assert objects[0]["type"] == "message_start" and objects[-1]["type"] == "message_stop"
            delta = next(c for c in objects if c["type"] == "message_delta")
            assert (
                delta["delta"]["stop_reason"]
                and delta["usage"]["output_tokens"] == metrics["outputTokenCount"]
            )
    assert any(r["output"]["outputBodyJson"][-1] == "[DONE]" for r in streams)
    assert any(r["output"]["outputBodyJson"][-1] != "[DONE]" for r in streams)


def test_converse_usage_totals_include_cache_tokens(records):
    converse = [
        r
        for _, r in records
        if r["operation"].startswith("Converse") and "outputBodyJson" in r["output"]
    ]
    assert {r["operation"] for r in converse} == {"Converse", "ConverseStream"}
    cached = 0
    for rec in converse:
        body = rec["output"]["outputBodyJson"]
        assert isinstance(body, dict) and isinstance(body["metrics"]["latencyMs"], int)
        usage = body["usage"]
        reads, writes = usage.get("cacheReadInputTokens", 0), usage.get("cacheWriteInputTokens", 0)
        assert usage["totalTokens"] == usage["inputTokens"] + usage["outputTokens"] + reads + writes
        assert usage["inputTokens"] == rec["input"]["inputTokenCount"]
        assert body["stopReason"] in {
            "end_turn",
            "max_tokens",
            "stop_sequence",
            "tool_use",
            "guardrail_intervened",
        }
        cached += reads + writes > 0
    assert cached > 10


def _actions(obj: object) -> list[str]:
    text = json.dumps(obj)
    return re.findall(r'"action": "([A-Z]+)"', text)


def test_guardrail_traces_in_both_shapes(records):
    conv = [r for _, r in records if "trace" in (r["output"].get("outputBodyJson") or {})]
    native = [r for _, r in records if "amazon-bedrock-guardrailAction" in body_text(r, "output")]
    assert conv and native
    for rec in conv:
        guard = rec["output"]["outputBodyJson"]["trace"]["guardrail"]
        (gid,) = guard["inputAssessment"]
        assert re.fullmatch(r"[a-z0-9]{12}", gid)
        assert isinstance(guard.get("outputAssessments", []), list)
        intervened = {"BLOCKED", "ANONYMIZED"} & set(_actions(guard))
        assert (rec["output"]["outputBodyJson"]["stopReason"] == "guardrail_intervened") == bool(
            intervened
        )
        if "BLOCKED" in _actions(guard["inputAssessment"]):
            assert rec["input"]["inputTokenCount"] == 0
    flags = Counter()
    for rec in native:
        body = rec["output"]["outputBodyJson"]
        last = [c for c in body if isinstance(c, dict)][-1] if isinstance(body, list) else body
        flags[last["amazon-bedrock-guardrailAction"]] += 1
        assert "input" in last["amazon-bedrock-trace"]["guardrail"]
    assert set(flags) == {"INTERVENED", "NONE"}
    all_actions = {a for r in conv + native for a in _actions(r["output"]["outputBodyJson"])}
    assert {"BLOCKED", "ANONYMIZED", "NONE"} <= all_actions


def test_model_ids_in_every_form(estate, records):
    forms = Counter()
    for _, rec in records:
        mid = rec["modelId"]
        form = (
            "application"
            if ":application-inference-profile/" in mid
            else "system_arn"
            if ":inference-profile/" in mid
            else "system"
            if re.match(r"^(us|eu|global)\.", mid)
            else "foundation"
        )
        forms[form] += 1
        if form in ("system", "system_arn") and "inferenceRegion" in rec:
            forms["served_elsewhere"] += rec["inferenceRegion"] != rec["region"]
    assert all(
        forms[f] > 0
        for f in ("application", "system_arn", "system", "foundation", "served_elsewhere")
    ), forms
    assert any(r["modelId"].startswith("global.") for _, r in records)
    settings = load_settings(estate.config_path)
    listed = {p.arn for p in settings.inference_profiles}
    used = {r["modelId"] for _, r in records if ":application-inference-profile/" in r["modelId"]}
    assert len(used - listed) == 1  # exactly one profile the config cannot resolve
    priced = {
        row[0]
        for row in csv.reader(
            (PROJECT_ROOT / "ingest/invocation_logs/data/bedrock_prices.csv")
            .read_text()
            .splitlines()
        )
        if not row[0].startswith("#")
    }
    foundation = {
        re.sub(r"^(us|eu|global)\.", "", r["modelId"].rsplit("/", 1)[-1])
        for _, r in records
        if ":application-inference-profile/" not in r["modelId"]
    }
    assert foundation - priced == {"ai21.jamba-1-5-large-v1:0"}
    assert len(foundation) >= 10
    assert {m.split(".")[0] for m in foundation} >= {
        "anthropic",
        "amazon",
        "meta",
        "mistral",
        "cohere",
    }


def test_errors_and_throttles(records):
    codes = Counter(r.get("errorCode") for _, r in records)
    assert {
        "ThrottlingException",
        "ValidationException",
        "ModelErrorException",
        "AccessDeniedException",
    } <= set(codes)
    failed = sum(n for code, n in codes.items() if code and code != "ThrottlingException")
    assert 0.005 < failed / len(records) < 0.03


def test_large_bodies_are_offloaded_to_data_objects(estate, records):
    offloaded = [
        (k, r)
        for k, r in records
        if "inputBodyS3Path" in r["input"] or "outputBodyS3Path" in r["output"]
    ]
    assert 0.0005 < len(offloaded) / len(records) < 0.01
    sides = set()
    for key, rec in offloaded:
        for side in ("input", "output"):
            uri = rec[side].get(f"{side}BodyS3Path")
            if uri is None:
                continue
            sides.add(side)
            folder = key.rsplit("/", 1)[0]
            assert uri == f"s3://demo-bedrock-logs/{folder}/data/{rec['requestId']}_{side}.json.gz"
            raw = gzip.decompress((estate.landing / uri.split("/", 3)[3]).read_bytes())
            assert len(raw) > 100_000 and isinstance(json.loads(raw), dict | list)
    assert sides == {"input", "output"}


def test_canary_in_prompts_and_responses(records):
    prompts = sum(DEMO_CANARY in body_text(r, "input") for _, r in records)
    responses = sum(DEMO_CANARY in body_text(r, "output") for _, r in records)
    assert prompts / len(records) >= 0.01 and responses / len(records) >= 0.01


def test_same_seed_same_bytes_other_seed_other_estate(tmp_path):
    def estate(name: str, seed: int) -> dict[str, bytes]:
        s = generate_estate(tmp_path / name, days=8, seed=seed, end=END, per_day=300)
        roots = (s.landing, s.trail, s.metric_stream)  # invocation logs, CloudTrail, metrics
        return {
            p.relative_to(s.out_dir).as_posix(): p.read_bytes()
            for root in roots
            if root is not None
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    first, again, other = estate("a", 5), estate("b", 5), estate("c", 6)
    assert first == again
    assert set(first) != set(other)
    assert (tmp_path / "a/ground_truth.json").read_text() == (
        tmp_path / "b/ground_truth.json"
    ).read_text()


def test_ground_truth_lists_every_incident(estate, truth, frame):
    kinds = {i["kind"] for i in truth["incidents"]}
    assert kinds == {
        "cost_runaway",
        "latency_regression",
        "ttft_regression",
        "throttling_storm",
        "guardrail_burst",
        "logging_off",
        "guardrail_edit",
    }
    for inc in truth["incidents"]:
        assert STAMP.match(inc["start"]) and inc["start"] <= inc["end"]
        assert truth["start"] <= inc["start"] and inc["end"] <= truth["end"]
    by = {i["kind"]: i for i in truth["incidents"]}
    assert 6 <= by["cost_runaway"]["effect"]["observed_factor"] <= 12
    assert 2 <= by["latency_regression"]["effect"]["observed_factor"] <= 4
    assert by["ttft_regression"]["effect"]["observed_factor"] >= 3  # +2.5 s on ~0.7 s
    assert by["throttling_storm"]["effect"]["during"] > 20
    burst = by["guardrail_burst"]["effect"]
    assert burst["observed_during"] > 4 * max(burst["observed_before"], 0.01)
    edit = by["guardrail_edit"]
    assert edit["principal_arn"].startswith("arn:aws:sts::") and edit["guardrail_id"]
    assert edit["start"] < by["guardrail_burst"]["start"]
    assert set(frame["incident"].drop_nulls().unique()) == kinds - {"guardrail_edit"}


def test_latency_is_heavy_tailed_and_grows_with_tokens_region_and_load(frame):
    ok = frame.filter(pl.col("error_code").is_null() & (pl.col("incident").is_null()))
    top = ok["model"].value_counts(sort=True)["model"][0]
    calls = ok.filter(pl.col("model") == top)
    lat, first = calls["latency_ms"], calls["first_byte_ms"].drop_nulls()
    # a slow tail, as real traffic has: p99 far beyond p90, p90 beyond p50
    assert lat.quantile(0.99) > 2 * lat.quantile(0.9) > 2 * lat.median()
    assert first.quantile(0.99) > 2 * first.median()
    # longer answers take longer; a far region starts later; a busy hour is slower
    long = calls["output_tokens"] > calls["output_tokens"].median()
    assert (
        calls.filter(long)["latency_ms"].median() > 1.5 * calls.filter(~long)["latency_ms"].median()
    )
    by_region = calls.group_by("region").agg(pl.col("first_byte_ms").median())
    fb = dict(by_region.iter_rows())
    assert fb["eu-west-1"] > fb["us-east-1"]
    hourly = calls.group_by(pl.col("ts").dt.truncate("1h")).agg(
        pl.len().alias("n"), pl.col("first_byte_ms").median().alias("fb")
    )
    busy = hourly["n"] > hourly["n"].quantile(0.8)
    assert hourly.filter(busy)["fb"].median() > hourly.filter(~busy)["fb"].median()


def test_logging_off_window_has_no_objects_but_traffic_continued(estate, truth, frame):
    off = next(i for i in truth["incidents"] if i["kind"] == "logging_off")
    assert len(off["missing_prefixes"]) == 6
    for prefix in off["missing_prefixes"]:
        assert not list((estate.landing / prefix).glob("*"))
    after = datetime.fromisoformat(off["end"].replace("Z", "+00:00"))
    prefix = off["missing_prefixes"][0].rsplit("/", 5)[0]  # AWSLogs/<acct>/…/<region>
    assert list((estate.landing / f"{prefix}/{after:%Y/%m/%d/%H}").glob("*.json.gz"))
    suppressed = off["effect"]["suppressed_invocations"]
    assert suppressed > 0 and suppressed == frame.filter(~pl.col("logged")).height
    assert truth["invocations"]["logged"] == estate.invocations


def test_bad_records_are_really_bad(estate, truth):
    kinds = {b["kind"]: b for b in truth["bad_records"]}
    assert set(kinds) == {
        "not_json",
        "missing_request_id",
        "wrong_type",
        "empty_file",
        "truncated_gzip",
    }

    def line(entry: dict) -> str:
        raw = gzip.decompress((estate.landing / entry["file"]).read_bytes()).decode()
        return raw.splitlines()[entry["line"] - 1]

    with pytest.raises(json.JSONDecodeError):
        json.loads(line(kinds["not_json"]))
    assert "requestId" not in json.loads(line(kinds["missing_request_id"]))
    assert json.loads(line(kinds["wrong_type"]))["input"]["inputTokenCount"] == "many"
    assert gzip.decompress((estate.landing / kinds["empty_file"]["file"]).read_bytes()) == b""
    with pytest.raises((EOFError, zlib.error, gzip.BadGzipFile)):
        gzip.decompress((estate.landing / kinds["truncated_gzip"]["file"]).read_bytes())


def test_config_validates_and_uses_every_matcher(estate, truth, frame):
    settings = load_settings(estate.config_path)
    assert settings.warehouse == estate.out_dir / "warehouse.duckdb"
    assert settings.invocation_logs.landing_zones[0].uri == str(estate.landing)
    assert settings.invocation_logs.first_run_days > DAYS
    assert settings.resolve_profiles_with_api is False
    assert {r.kind for r in settings.attribution.rules} == {
        "request_metadata",
        "inference_profile",
        "profile_tag",
        "principal",
        "account",
    }
    assert any(r.principal and ":assumed-role/" in r.principal for r in settings.attribution.rules)
    assert any(r.principal and ":role/" in r.principal for r in settings.attribution.rules)
    share = truth["attribution"]["unattributed_share"]
    assert 0.02 <= share <= 0.08
    owned = frame.filter(pl.col("lob").is_not_null())
    assert (owned["attributed_lob"] == owned["lob"]).all()
    assert set(frame.filter(pl.col("lob").is_null())["attributed_lob"]) == {"unattributed"}


def test_estate_shape_and_rhythm(frame):
    apps = (
        frame.filter(pl.col("lob").is_not_null())
        .group_by("app")
        .agg(
            pl.col("lob").n_unique().alias("lobs"),
            pl.col("principal_arn").first(),
            pl.col("lob").first(),
            pl.col("account_id").first(),
        )
    )
    assert apps.height >= 15 and frame["lob"].n_unique() - 1 >= 6
    assert (apps["lobs"] == 1).all()
    for app, _, principal, lob, account in apps.rows():
        assert principal == f"arn:aws:iam::{account}:role/{lob}-{app}"
    assert frame["model"].n_unique() >= 10 and frame["operation"].n_unique() == 4
    daily = frame.group_by(pl.col("ts").dt.date().alias("d")).len().sort("d").slice(1, DAYS - 1)
    weekday = daily.filter(pl.col("d").dt.weekday() <= 5)["len"].mean()
    weekend = daily.filter(pl.col("d").dt.weekday() >= 6)["len"].mean()
    assert weekend < 0.8 * weekday
    hours = (
        frame.filter(pl.col("region") == "us-east-1")
        .group_by(pl.col("ts").dt.hour().alias("h"))
        .len()
    )
    peak = hours.filter(pl.col("h").is_between(15, 20))["len"].mean()
    night = hours.filter(pl.col("h").is_between(6, 10))["len"].mean()
    assert peak > 2 * night
    # per_day is the organic mean day at the start: the three apps demo.capacity plants for the
    # savings and quota backtests come on top of it.
    planted = (demo_capacity.PREFIX_APP, demo_capacity.BATCH_APP, demo_capacity.STORM_APP)
    organic = frame.filter(~pl.col("app").is_in(planted))
    start = organic["ts"].min()
    first_week = organic.filter(pl.col("ts") < start + timedelta(days=7)).height / 7
    last_week = organic.filter(pl.col("ts") >= organic["ts"].max() - timedelta(days=7)).height / 7
    assert 0.8 * 1500 < first_week < 1.25 * 1500
    assert last_week > first_week  # growth


def test_too_short_an_estate_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="at least 7 days"):
        generate_estate(tmp_path, days=3, end=END, per_day=100)
    assert not (tmp_path / "landing").exists()


def _files(root) -> int:
    return sum(1 for p in root.rglob("*") if p.is_file())


def test_each_source_is_announced_once_its_files_are_all_written(tmp_path):
    """`genai-lens demo` loads each source while the rest of the estate is written: a source is
    announced only once every file of it is there, and the estate is the one written in a row."""
    whole = generate_estate(tmp_path / "in-a-row", days=7, seed=2, end=END, per_day=100)
    begun = begin_estate(tmp_path / "split", days=7, seed=2, end=END, per_day=100)
    assert begun.config_path.exists() and _files(begun.landing) == _files(whole.landing)
    seen: dict[str, int] = {}
    roots = {"cloudtrail": "trail", "metrics": "metric-stream", "cost": "bill"}
    summary = finish_estate(begun, lambda s: seen.setdefault(s, _files(begun.out_dir / roots[s])))
    assert seen == {
        "cloudtrail": summary.trail_files,
        "metrics": summary.metric_files,
        "cost": _files(begun.out_dir / "bill"),
    }
    assert seen["cloudtrail"] > 0 and seen["metrics"] > 0 and seen["cost"] > 0
    assert json.loads(summary.ground_truth_path.read_text()) == json.loads(
        whole.ground_truth_path.read_text().replace("in-a-row", "split")
    )


def test_a_failure_writing_the_rest_reaches_whoever_waits_for_it(tmp_path):
    begun = begin_estate(tmp_path, days=7, seed=2, end=END, per_day=100)
    (tmp_path / "trail").write_text("a file where the trail's folder goes")
    rest = Finishing(begun)
    rest.wait("invocation-logs")  # written already: no waiting, nothing raised
    with pytest.raises(OSError):
        rest.wait("cloudtrail")
    with pytest.raises(OSError):
        rest.result()
