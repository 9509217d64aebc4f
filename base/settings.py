"""Settings, declared once with defaults and help; read from TOML, overridden by environment.

Every key here is documented in ``genai-lens.example.toml`` (a test keeps the two in step).
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from base import clock
from base.errors import ConfigError

DEFAULT_CONFIG = Path("genai-lens.toml")
DEFAULT_WAREHOUSE = Path("data/warehouse.duckdb")


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a config must not silently do nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class LandingZone(Strict):
    uri: str = Field(description="s3://bucket/prefix or a local folder laid out like the bucket")
    name: str | None = Field(None, description="Label used in watermarks and messages")
    region: str | None = Field(None, description="Region of the S3 client (default: boto3's)")
    role_arn: str | None = Field(None, description="Role to assume before reading")
    endpoint_url: str | None = Field(None, description="S3-compatible endpoint (tests, proxies)")

    @property
    def label(self) -> str:
        return self.name or self.uri


class LogGroup(Strict):
    name: str = Field(description="CloudWatch Logs group that Bedrock delivers invocation logs to")
    region: str | None = Field(None, description="Region of the log group (default: boto3's)")
    role_arn: str | None = None
    endpoint_url: str | None = None

    @property
    def label(self) -> str:
        return f"cwlogs://{self.region or 'default'}/{self.name.lstrip('/')}"


class InvocationLogs(Strict):
    landing_zones: list[LandingZone] = []
    log_groups: list[LogGroup] = []
    overlap_hours: int = Field(3, ge=0, le=168, description="Re-read window for late objects")
    first_run_days: int = Field(30, ge=1, le=3650, description="How far back a new source starts")
    # Bedrock writes many small objects (~100 records each when traffic is light): 300,000
    # records in 3,000 of them loaded ~15% faster at 2,000 a transaction than at 500 (fewer
    # commits, each checkpointing the table; peak RSS +60 MB). Busy accounts write bigger
    # objects, and batch_mb caps those batches first.
    batch_files: int = Field(2000, ge=1, le=100_000, description="Most objects per transaction")
    batch_mb: int = Field(128, ge=1, le=4096, description="Most object megabytes per transaction")


class ApiSource(Strict):
    """One account/region read through the AWS API (optionally as an assumed role)."""

    name: str | None = Field(None, description="Label used in watermarks and messages")
    region: str | None = Field(None, description="Region to call (default: boto3's)")
    role_arn: str | None = Field(None, description="Role to assume before calling")
    endpoint_url: str | None = Field(None, description="Endpoint override (tests, proxies)")

    @property
    def label(self) -> str:
        return self.name or f"{self.region or 'default'}|{self.role_arn or 'default-chain'}"


class CloudTrail(Strict):
    landing_zones: list[LandingZone] = []
    lookups: list[ApiSource] = []
    event_sources: list[str] = Field(
        ["bedrock.amazonaws.com"], min_length=1, description="eventSource values kept"
    )
    overlap_hours: int = Field(24, ge=0, le=720, description="Re-read window for late events")
    first_run_days: int = Field(7, ge=1, le=90, description="How far back LookupEvents starts")
    requests_per_second: float = Field(
        2.0, gt=0, le=2.0, description="LookupEvents rate per account and region"
    )
    # A trail has one event per model call; the invocation logs already hold the calls. The
    # per-hour counts (cloudtrail_calls_hourly) are kept either way.
    invocation_events: Literal["keep", "count"] = Field(
        "keep",
        description="Runtime calls (InvokeModel, Converse…): 'keep' stores each event, "
        "'count' only counts them per hour (configuration and access events are kept)",
    )
    # A trail file is small (five minutes of an account and Region, ~10 events in a quiet
    # one): at 500 files a transaction, the commit and bookkeeping of 122 transactions were a
    # third of the 90-day demo's 28 s; 2,000 take 20 s (peak RSS 0.8 -> 1.1 GB; batch_mb still
    # caps a batch of big files). A busy account's files are big, and trail JSON inflates ~11x:
    # at 128 MB (gzip) a batch, 21 days at 238,000 calls a day (6.56M events, 30 KB files, up to
    # 1.2 MB) ran out of the 2 GB memory_limit; 32 MB did too; 16 MB loaded in 153 s at a peak
    # RSS of 2.35 GB, 8 MB in 152 s at 1.67 GB. The demo's 2,000 small files are ~9.5 MB.
    batch_files: int = Field(2000, ge=1, le=100_000)
    batch_mb: int = Field(8, ge=1, le=4096)


class Metrics(Strict):
    landing_zones: list[LandingZone] = []
    apis: list[ApiSource] = []
    namespaces: list[str] = Field(
        ["AWS/Bedrock", "AWS/Bedrock/Guardrails"],
        min_length=1,
        description="CloudWatch namespaces read",
    )
    overlap_hours: int = Field(3, ge=0, le=168, description="Re-read window for late points")
    first_run_days: int = Field(14, ge=1, le=455, description="How far back the API starts")
    # 200 Metric Streams objects hold ~330,000 points: a backfill peaks near 0.9 GB RSS, where
    # 500 took 1.5 GB for no measurable speed (bench/backfill_memory.py).
    batch_files: int = Field(200, ge=1, le=100_000)
    batch_mb: int = Field(128, ge=1, le=4096)


class Cost(Strict):
    landing_zones: list[LandingZone] = []
    apis: list[ApiSource] = []
    tag_keys: list[str] = Field([], description="Cost-allocation tag keys to group the bill by")
    restatement_days: int = Field(
        14, ge=1, le=90, description="Trailing days re-pulled every run (bills are restated)"
    )
    first_run_days: int = Field(90, ge=1, le=400, description="How far back the API starts")
    forecast: bool = Field(True, description="Also store Cost Explorer's own forecast")
    batch_files: int = Field(500, ge=1, le=100_000)
    batch_mb: int = Field(512, ge=1, le=8192)
    # For FOCUS rows the bill cannot name (Cost Explorer has no payer or account names).
    payer_account_id: str | None = Field(
        None, description="Payer (management) account id, for FOCUS BillingAccountId"
    )
    payer_account_name: str | None = Field(None, description="Its name (BillingAccountName)")
    account_names: dict[str, str] = Field(
        {}, description="Usage account id -> name, for FOCUS SubAccountName"
    )


class Rule(Strict):
    """One attribution rule; exactly one matcher is set. First matching rule wins."""

    lob: str = Field(min_length=1)
    app: str | None = None
    request_metadata: dict[str, str] | None = Field(
        None, description="All of these requestMetadata keys must match (values are globs)"
    )
    inference_profile: str | None = Field(None, description="Application profile ARN (glob)")
    profile_tag: dict[str, str] | None = Field(None, description="Tags of the application profile")
    principal: str | None = Field(None, description="IAM principal ARN glob (role or session)")
    account: str | None = Field(None, description="AWS account id")

    @model_validator(mode="after")
    def one_matcher(self) -> Rule:
        matchers = ("request_metadata", "inference_profile", "profile_tag", "principal", "account")
        set_ = [m for m in matchers if getattr(self, m) is not None]
        if len(set_) != 1:
            raise ValueError(
                f"a rule needs exactly one of {', '.join(matchers)}; this one has "
                f"{', '.join(set_) or 'none'}"
            )
        return self

    @property
    def kind(self) -> str:
        for m in ("request_metadata", "inference_profile", "profile_tag", "principal", "account"):
            if getattr(self, m) is not None:
                return m
        raise AssertionError("validated rule without a matcher")


class Attribution(Strict):
    rules: list[Rule] = []
    app_metadata_key: str = Field("app", description="requestMetadata key naming the application")
    app_tag_key: str = Field("app", description="Application profile tag naming the application")


class InferenceProfile(Strict):
    arn: str = Field(pattern=r"^arn:aws[\w-]*:bedrock:[\w-]+:\d*:application-inference-profile/")
    model: str = Field(description="Foundation model id the profile routes to")
    tags: dict[str, str] = {}


class Price(Strict):
    model: str
    region: str = "*"
    input: float = Field(ge=0, description="USD per 1M input tokens")
    output: float = Field(ge=0, description="USD per 1M output tokens")
    cache_read: float | None = Field(None, ge=0)
    cache_write: float | None = Field(None, ge=0)
    cache_write_1h: float | None = Field(None, ge=0, description="1-hour cache write price")
    geo_premium: float = Field(0.0, ge=0, le=1)
    effective_from: date = date(2000, 1, 1)
    source: str = "genai-lens.toml"


class Export(Strict):
    """A chargeback or FOCUS file written by every models run, one per billing period."""

    kind: Literal["focus", "chargeback"] = Field("focus", description="focus or chargeback")
    format: Literal["parquet", "csv"] = Field("parquet", description="parquet or csv (focus)")
    every: Literal["daily", "month_close"] = Field(
        "daily",
        description="daily: this month to date and last month, rewritten each run; "
        "month_close: last month once its bill is final (invoiced)",
    )
    destination: str = Field(description="Local folder or s3://bucket/prefix/")
    lobs: list[str] = Field([], description="Only these LOBs (empty: all)")
    region: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None

    @model_validator(mode="after")
    def csv_chargeback(self) -> Export:
        if self.kind == "chargeback" and self.format != "csv":
            raise ValueError('the chargeback file is CSV only: set format = "csv"')
        return self


class PriceRule(Strict):
    """A multiplier on the standard on-demand price (tier, batch, latency, long context)."""

    rule: str = Field(pattern=r"^(tier|mode|latency|context|cache_ttl)$")
    value: str = Field(min_length=1, description="e.g. priority, flex, batch, optimized, long")
    model: str = Field("*", description="Foundation model id, or * for every model")
    input_factor: float = Field(ge=0)
    output_factor: float = Field(ge=0)
    min_input_tokens: int | None = Field(None, ge=1, description="context rules: from this size")
    source: str = "genai-lens.toml"


class Reservation(Strict):
    """Reserved-tier capacity: a fixed monthly charge per 1K tokens per minute (TPM)."""

    model: str = Field(description="Foundation model id the capacity is reserved for")
    region: str = Field(description="Region of the reservation")
    tpm_thousands: float = Field(gt=0, description="Reserved capacity in 1K tokens per minute")
    monthly_usd_per_1k_tpm: float = Field(ge=0, description="The fixed monthly charge per 1K TPM")


class Pricing(Strict):
    """How calls are priced: the Price List refresh and the rates learned from the bill."""

    regions: list[str] = Field(
        ["us-east-1"], description="Regions whose list prices `prices refresh` reads"
    )
    refresh: bool = Field(
        False, description="`serve` refreshes list prices weekly (calls the AWS Price List API)"
    )
    rate_basis: str = Field(
        "net", pattern=r"^(net|unblended)$",
        description="Learned rates net of discounts and credits (net) or before them (unblended)",
    )  # fmt: skip
    learn_days: int = Field(7, ge=1, le=90, description="Complete billed days rates learn from")
    settle_days: int = Field(2, ge=0, le=14, description="Latest bill days still filling in")
    held_out_days: int = Field(14, ge=1, le=90, description="Days the estimate is checked on")
    reservations: list[Reservation] = []


class Schedule(Strict):
    """How often `genai-lens serve` runs each job; a source without config has no job."""

    invocation_logs_minutes: float = Field(5, gt=0, le=1440, description="Invocation logs")
    metrics_minutes: float = Field(5, gt=0, le=1440, description="CloudWatch metrics")
    cloudtrail_minutes: float = Field(15, gt=0, le=1440, description="CloudTrail")
    cost_hours: float = Field(6, gt=0, le=168, description="Cost (Cost Explorer bills per call)")
    models_minutes: float = Field(60, gt=0, le=1440, description="Models, at the latest")
    vacuum_hours: float = Field(24, gt=0, le=720, description="Retention clean-up")
    catalog_hours: float = Field(24, gt=0, le=720, description="Model lifecycle and quotas")
    jitter_seconds: int = Field(30, ge=0, le=3600, description="Random delay per tick")
    misfire_grace_seconds: int = Field(300, ge=1, le=86400, description="Late runs still run")
    max_backoff_minutes: float = Field(60, gt=0, le=1440, description="Cap of failure backoff")
    enabled: bool = Field(True, description="Run the scheduler inside `genai-lens serve`")


class Retention(Strict):
    invocation_days: int = Field(
        400, ge=7, le=3650, description="Raw invocation rows older than this are deleted"
    )
    text_days: int = Field(30, ge=1, le=3650, description="Captured prompt text is deleted after")


class Budgets(Strict):
    """Monthly budgets in USD; status comes from the month-end landing forecast."""

    total: float | None = Field(None, gt=0, description="Monthly budget for all of Bedrock")
    lobs: dict[str, float] = Field({}, description="Monthly budget per LOB")
    thresholds: list[float] = Field(
        [50, 80, 100], description="Percent of budget that alert (actual and forecast)"
    )

    @model_validator(mode="after")
    def _positive(self) -> Budgets:
        bad = [k for k, v in self.lobs.items() if v <= 0]
        if bad:
            raise ValueError(f"budgets must be greater than 0 (LOB {bad[0]!r})")
        if any(t <= 0 or t > 1000 for t in self.thresholds):
            raise ValueError("thresholds are percents between 0 and 1000")
        return self


class Alerts(Strict):
    urls: list[str] = Field([], description="apprise URLs: slack://, msteams://, mailto://, sns://")
    webhooks: list[str] = Field([], description="Plain JSON webhook URLs (HTTP POST)")
    min_severity: str = Field(
        "high", pattern="^(low|medium|high|critical)$", description="Anomalies that notify"
    )
    retries: int = Field(3, ge=0, le=10, description="Attempts per channel before giving up")
    base_url: str | None = Field(
        None,
        pattern=r"^https?://\S+$",
        description="Where readers open the dashboard; anomaly alerts link to "
        "<base_url>/anomalies?anomaly=<id>",
    )


class Auth(Strict):
    """Roles for signed-in users (sign-in itself: [auth] in .streamlit/secrets.toml)."""

    groups_claim: str = Field(
        "groups",
        description="ID token claim that lists the groups (Cognito: cognito:groups; Entra ID app "
        "roles: roles)",
    )
    roles: dict[str, str] = Field(
        {}, description="group -> admin | finops | viewer:<lob>[,<lob>...]"
    )
    max_session_hours: float = Field(
        8, gt=0, le=720, description="A reader signs in again after this long (groups re-read)"
    )

    @model_validator(mode="after")
    def _roles(self) -> Auth:
        from base.auth import parse_role

        for group, role in self.roles.items():
            try:
                parse_role(role)
            except ValueError as exc:
                raise ValueError(f"group {group!r}: {exc}") from None
        return self


class Quota(Strict):
    """An applied on-demand quota, for accounts where Service Quotas cannot be read."""

    model: str = Field(description="Foundation model id")
    region: str = Field(description="AWS Region")
    account: str | None = Field(None, description="AWS account id (default: every account)")
    tpm: float | None = Field(None, gt=0, description="Tokens per minute")
    rpm: float | None = Field(None, gt=0, description="Requests per minute")


class Lifecycle(Strict):
    """A model's end of life and successor, over the built-in defaults."""

    model: str = Field(description="Foundation model id (or a prefix of ids ending in *)")
    legacy_on: date | None = Field(None, description="Day it became LEGACY")
    end_of_life: date | None = Field(None, description="Day calls start failing: move by then")
    successor: str | None = Field(None, description="Model id to move to")


class Capacity(Strict):
    """The Capacity & savings page: what-if assumptions, applied quotas, model lifecycle."""

    batch_hours_utc: list[int] = Field(
        [0, 6], min_length=2, max_length=2, description="Off-hours [start, end) UTC: batchable"
    )
    batch_apps: list[str] = Field([], description="Applications tagged as not latency-sensitive")
    batch_discount: float = Field(0.5, ge=0, le=1, description="Batch inference discount")
    flex_discount: float = Field(0.5, ge=0, le=1, description="Flex tier discount (assumed)")
    residency_lobs: list[str] = Field(
        [], description="LOBs whose data must stay in its geography: no global profiles"
    )
    apis: list[ApiSource] = Field([], description="Accounts/Regions read by the model-catalog job")
    quotas: list[Quota] = Field([], description="Applied quotas where Service Quotas is closed")
    lifecycle: list[Lifecycle] = Field([], description="End-of-life dates and successors")

    @model_validator(mode="after")
    def _hours(self) -> Capacity:
        a, b = self.batch_hours_utc
        if not (0 <= a < b <= 24):
            raise ValueError("batch_hours_utc is [start, end) with 0 <= start < end <= 24")
        return self


class Settings(BaseSettings):
    """The whole configuration. Environment variables GENAI_LENS_<KEY> override the file."""

    model_config = SettingsConfigDict(
        env_prefix="GENAI_LENS_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    warehouse: Path = DEFAULT_WAREHOUSE
    memory_limit: str = Field(
        "2GB",
        pattern=r"^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$",
        description="DuckDB memory cap; larger work spills to disk beside the warehouse",
    )
    invocation_logs: InvocationLogs = InvocationLogs()
    cloudtrail: CloudTrail = CloudTrail()
    metrics: Metrics = Metrics()
    cost: Cost = Cost()
    attribution: Attribution = Attribution()
    inference_profiles: list[InferenceProfile] = []
    resolve_profiles_with_api: bool = Field(
        True, description="Ask Bedrock GetInferenceProfile for application profiles not in config"
    )
    prices: list[Price] = []
    price_rules: list[PriceRule] = []
    pricing: Pricing = Pricing()
    schedule: Schedule = Schedule()
    exports: list[Export] = []
    retention: Retention = Retention()
    budgets: Budgets = Budgets()
    alerts: Alerts = Alerts()
    auth: Auth = Auth()
    capacity: Capacity = Capacity()
    capture_text: bool = Field(
        False, description="Store prompt/response text, PII-redacted (off: no text is stored)"
    )
    now: datetime | None = Field(
        None, description="Fix the clock at this instant (demos, tests); unset: the real time"
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's contents arrive as init kwargs; the environment must win over the file.
        return (env_settings, init_settings)


def config_path(explicit: Path | None) -> Path | None:
    """The config file to read: the flag, then GENAI_LENS_CONFIG, then ./genai-lens.toml."""
    if explicit is not None:
        return explicit
    env = os.environ.get("GENAI_LENS_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate the config; any problem is one ConfigError line naming the key."""
    path = config_path(path)
    data: dict[str, Any] = {}
    where = "environment"
    if path is not None:
        where = str(path)
        if not path.exists():
            raise ConfigError(
                f"config file {path} does not exist; create it from "
                "genai-lens.example.toml or drop --config"
            )
        try:
            data = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(f"config error in {where}: {describe(exc)}") from None
    clock.fix(settings.now)  # the whole process reads one clock (base.clock)
    return settings


def describe(exc: ValidationError) -> str:
    """All validation errors on one line, each as `key.path: what is expected`."""
    parts = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        if err["type"] == "extra_forbidden":
            parts.append(f"{key}: unknown key (check its spelling against genai-lens.example.toml)")
        else:
            got = err.get("input")
            # Notification URLs carry tokens: an error about one must not print it.
            secret = _SECRET_KEY.search(key) is not None
            shown = f" (got {got!r})" if not isinstance(got, dict | list) and not secret else ""
            parts.append(f"{key}: {err['msg'].rstrip('.')}{shown}")
    return "; ".join(parts)


_SECRET_KEY = re.compile(r"(url|webhook|secret|token|password)", re.I)


def glob_match(value: str | None, pattern: str) -> bool:
    """Case-sensitive shell-style match, the semantics rules use for ARNs and metadata."""
    return value is not None and fnmatch.fnmatchcase(value, pattern)
