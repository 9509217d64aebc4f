"""`genai-lens doctor`: can this config, this warehouse and these AWS sources work together?

One line per check: `ok`, `warn` or `FAIL`, what was checked and, for a failure, the fix.
Only FAIL makes the exit code non-zero: a warning (an empty prefix, a warehouse held by a
running server, a check not run because it costs money) is something to know, not to mend.

Each AWS permission is tried with the cheapest read that needs it (one key, one event, one
page). Cost Explorer bills USD 0.01 per request, so its check runs only when asked for.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
import duckdb
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
)

from base import clock
from base.errors import LensError
from base.settings import ApiSource, LandingZone, LogGroup, Settings
from ingest import aws
from ingest.cost import explorer as cost_explorer
from ingest.sources import SOURCES
from warehouse.db import describe_open_error, discover_migrations

Status = Literal["ok", "warn", "FAIL"]
POLICY = "docs/iam-policy.json"
GIB = 1024**3
PROVIDERS = {
    "env": "environment variables",
    "shared-credentials-file": "~/.aws/credentials",
    "config-file": "~/.aws/config",
    "sso": "SSO",
    "assume-role": "a profile's role",
    "assume-role-with-web-identity": "a web identity role",
    "container-role": "the container role",
    "iam-role": "the instance role",
    "custom-process": "a credential process",
}

# A doctor answers in seconds: two attempts, short timeouts (ingest retries for minutes).
DOCTOR_CONFIG = aws.CLIENT_CONFIG.merge(
    Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=5, read_timeout=20)
)
DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403"}
BAD_CREDENTIALS = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
}


@dataclass(frozen=True)
class Check:
    status: Status
    what: str
    detail: str = ""
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.what}"
        text += f": {self.detail}" if self.detail else ""
        return text + (f"; fix: {self.fix}" if self.fix else "")


@dataclass(frozen=True)
class Via:
    """Who a call is made as (a role, or the default chain), through which endpoint, where."""

    role_arn: str | None = None
    endpoint_url: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Identity:
    account: str
    principal: str  # what a fix tells the reader to grant permissions to


Probe = Callable[[Identity], list[Check]]
Source = LandingZone | LogGroup | ApiSource | Via


def doctor_client(
    service: str,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    endpoint_url: str | None = None,
) -> Any:
    """A client like `ingest.aws.client` (same chain, same role handling), quicker to give up."""
    session = aws.session_for(region, role_arn, endpoint_url)
    # The stubs overload client() on literal service names; ours is chosen at run time.
    return session.client(service, config=DOCTOR_CONFIG, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def client(make: Callable[..., Any], service: str, source: Source) -> Any:
    return make(
        service, region=source.region, role_arn=source.role_arn, endpoint_url=source.endpoint_url
    )


def run_checks(
    settings: Settings,
    warehouse_path: Path,
    *,
    cost_explorer: bool = False,
    make: Callable[..., Any] = doctor_client,
    serving: Serving | None = None,
) -> list[Check]:
    """Every check, in the order they are printed. `make` builds clients (tests stub it)."""
    return [
        *config_checks(settings),
        *warehouse_checks(warehouse_path),
        *sign_in_checks(settings, warehouse_path, serving or Serving()),
        *aws_checks(settings, make, cost_explorer=cost_explorer),
    ]


@dataclass(frozen=True)
class Serving:
    """How `serve` will run: the secrets files it reads (the CLI finds them) and where it
    listens."""

    secrets: tuple[Path, ...] = ()
    address: str = "localhost"
    port: int = 8501


def sign_in_checks(settings: Settings, warehouse_path: Path, serving: Serving) -> list[Check]:
    """Can readers sign in (base/sign_in.py), and do the roles name known LOBs?"""
    from base import sign_in

    files = list(serving.secrets)
    found = [
        Check(f.status, f.what, f.detail, f.fix)
        for f in sign_in.checks(files, address=serving.address, port=serving.port)
    ]
    if sign_in.read_auth(files)[1] is not None:
        found.append(roles_check(settings, warehouse_path))
    return found


def roles_check(settings: Settings, warehouse_path: Path) -> Check:
    """Every group maps to a role naming LOBs the warehouse knows (a typo is an empty view)."""
    from base import auth

    what, roles = "sign-in roles", settings.auth.roles
    if not roles:
        return Check("warn", what, "no group maps to a role: every signed-in reader is refused",
                     "map your IdP's groups under [auth.roles] in genai-lens.toml")  # fmt: skip
    known = warehouse_lobs(warehouse_path)
    if known is None:
        return Check("ok", what, f"{len(roles)} groups mapped (LOB names not checked: no "
                     "warehouse to compare with)")  # fmt: skip
    unknown = auth.unknown_lobs(roles, known)
    if unknown:
        named = "; ".join(f"{g}: {', '.join(lobs)}" for g, lobs in unknown.items())
        return Check("warn", what, f"roles name LOBs the warehouse has never seen ({named})",
                     f"correct the LOB names (known: {', '.join(sorted(known))})")  # fmt: skip
    return Check("ok", what, f"{len(roles)} groups mapped, every LOB they name is known")


def warehouse_lobs(path: Path) -> set[str] | None:
    """The LOBs the warehouse has seen; None when it cannot be read now (absent, or held)."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return {
            lob
            for (lob,) in con.execute(
                "SELECT DISTINCT lob FROM usage_hourly WHERE lob IS NOT NULL"
            ).fetchall()
        }
    except duckdb.Error:
        return None
    finally:
        con.close()


def main(
    settings: Settings,
    warehouse_path: Path,
    echo: Callable[[str], Any] = print,
    *,
    cost_explorer: bool = False,
    make: Callable[..., Any] = doctor_client,
    serving: Serving | None = None,
) -> int:
    """Print one line per check and a summary; 0 when nothing failed, else 1."""
    checks = run_checks(
        settings, warehouse_path, cost_explorer=cost_explorer, make=make, serving=serving
    )
    for check in checks:
        echo(check.line())
    count = {s: sum(c.status == s for c in checks) for s in ("ok", "warn", "FAIL")}
    echo(f"doctor: {count['ok']} ok, {count['warn']} warnings, {count['FAIL']} failed")
    return 1 if count["FAIL"] else 0


# --- config ---------------------------------------------------------------------------------


def zones(settings: Settings) -> Iterator[tuple[str, LandingZone]]:
    for src in SOURCES:
        for zone in getattr(settings, src.key).landing_zones:
            yield src.key.replace("_", " "), zone


def config_checks(settings: Settings) -> list[Check]:
    """The settings were validated on load; what is left is whether they name anything."""
    apis = [*settings.cloudtrail.lookups, *settings.metrics.apis, *settings.cost.apis,
            *settings.capacity.apis]  # fmt: skip
    found = [*zones(settings), *settings.invocation_logs.log_groups, *apis]
    if not found:
        return [
            Check(
                "warn",
                "config",
                "no landing zone, log group or API source is configured",
                "add one (see genai-lens.example.toml), or try `genai-lens demo`",
            )
        ]
    out = [Check("ok", "config", f"{len(found)} sources configured")]
    for source, zone in zones(settings):
        if not zone.uri.startswith("s3://"):
            out.append(local_zone(source, zone))
        elif not re.match(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/|$)", zone.uri):
            fix = "write it as s3://bucket/prefix"
            out.append(Check("FAIL", f"{source} landing zone {zone.label}", "bad S3 uri", fix))
    return out


def local_zone(source: str, zone: LandingZone) -> Check:
    what = f"{source} landing zone {zone.label}"
    path = Path(zone.uri).expanduser()
    if not path.is_dir():
        return Check("FAIL", what, f"{path} is not a folder", "create it or correct the uri")
    if not os.access(path, os.R_OK | os.X_OK):
        return Check("FAIL", what, f"{path} is not readable", "let genai-lens's user read it")
    return Check("ok", what, "local folder, readable")


# --- warehouse ------------------------------------------------------------------------------


def warehouse_checks(path: Path) -> list[Check]:
    what = f"warehouse {path}"
    if not path.exists():
        folder = next(p for p in [path.parent, *path.parent.parents] if p.exists())
        if not os.access(folder, os.W_OK):
            fix = "pick a writable --warehouse path or fix the folder's permissions"
            return [Check("FAIL", what, f"cannot be created: {folder} is not writable", fix)]
        created = "does not exist yet; the first ingest or `genai-lens migrate` creates it"
        return [Check("warn", what, created), disk_check(folder, 0)]
    try:
        con = duckdb.connect(str(path))
    except duckdb.Error as exc:
        message = describe_open_error(path, exc)
        if "in use" in message:  # by a running server, most likely: nothing to mend
            held = message.split(";")[0]
            return [Check("warn", what, f"not checked: {held}"), disk_check(path.parent, 0)]
        return [Check("FAIL", what, message, "check the path and the file's permissions")]
    try:
        return [
            Check("ok", what, "opens"),
            migration_check(con, what),
            write_check(con, what),
            disk_check(path.parent, path.stat().st_size),
        ]
    finally:
        con.close()


def migration_check(con: duckdb.DuckDBPyConnection, what: str) -> Check:
    what = f"{what} schema"
    try:
        known = discover_migrations()
    except LensError as exc:
        return Check("FAIL", what, str(exc), "reinstall genai-lens")
    has_table = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
    ).fetchone()
    applied: dict[int, str] = {}
    if has_table and has_table[0]:
        applied = dict(con.execute("SELECT version, checksum FROM schema_migrations").fetchall())
    edited = [m.path.name for m in known if applied.get(m.version, m.checksum) != m.checksum]
    unknown = sorted(set(applied) - {m.version for m in known})
    pending = [m.path.name for m in known if m.version not in applied]
    if edited:
        fix = "restore those files; migrations are forward-only"
        return Check("FAIL", what, f"applied migrations edited since: {', '.join(edited)}", fix)
    if unknown:
        fix = "upgrade genai-lens"
        return Check("FAIL", what, f"migrations {unknown} are newer than this genai-lens", fix)
    if pending:
        fix = "`genai-lens migrate` (any ingest also applies them)"
        return Check("warn", what, f"{len(pending)} migrations pending: {pending[0]}…", fix)
    return Check("ok", what, f"current ({len(known)} migrations)")


def write_check(con: duckdb.DuckDBPyConnection, what: str) -> Check:
    try:
        con.execute("BEGIN")
        con.execute("CREATE TABLE genai_lens_doctor_probe (x INTEGER)")
        con.execute("ROLLBACK")
    except duckdb.Error as exc:
        return Check("FAIL", f"{what} writes", str(exc), "make the file and its folder writable")
    return Check("ok", f"{what} writes", "a table can be created (rolled back)")


def disk_check(folder: Path, size: int, free: int | None = None) -> Check:
    """Room for the warehouse to double (DuckDB rewrites as it checkpoints), at least 1 GiB."""
    free = shutil.disk_usage(folder).free if free is None else free
    need = max(GIB, 2 * size)
    detail = f"{free / GIB:.1f} GiB free in {folder} (warehouse {size / GIB:.2f} GiB)"
    if free < GIB // 4:
        return Check("FAIL", "disk space", detail, "free disk space or move the warehouse")
    if free < need:
        return Check("warn", "disk space", detail, f"keep {need / GIB:.1f} GiB free")
    return Check("ok", "disk space", detail)


# --- AWS ------------------------------------------------------------------------------------


def aws_checks(
    settings: Settings, make: Callable[..., Any], *, cost_explorer: bool = False
) -> list[Check]:
    """Credentials once per endpoint, each role once, then each source through its role."""
    # One client per service and place for the run: a role is assumed once, not per call.
    plan = list(aws_plan(settings, functools.cache(make), cost_explorer))
    if not plan:
        return []
    out: list[Check] = []
    ids: dict[Via, Identity | None] = {}
    for endpoint in dict.fromkeys(via.endpoint_url for via, _ in plan):
        check, ids[Via(None, endpoint)] = credentials_check(endpoint, make)
        out.append(check)
    for via in dict.fromkeys(via for via, _ in plan if via.role_arn):
        if ids[Via(None, via.endpoint_url)] is not None:
            check, ids[via] = role_check(via)
            out.append(check)
    skipped = 0
    for via, run in plan:
        ident = ids.get(via)
        if ident is None:
            skipped += 1
        else:
            out.extend(run(ident))
    if skipped:
        detail = f"{skipped} checks not run: no usable credentials for them (see above)"
        out.append(Check("FAIL", "AWS sources", detail, "fix the credentials or role first"))
    return out


def aws_plan(
    settings: Settings, make: Callable[..., Any], cost_explorer: bool
) -> Iterator[tuple[Via, Probe]]:
    """(who calls, the check) for every configured AWS source, in the order they print."""
    for source, zone in zones(settings):
        if zone.uri.startswith("s3://"):
            yield Via(zone.role_arn, zone.endpoint_url), s3_probe(source, zone, make)
    for group in settings.invocation_logs.log_groups:
        yield Via(group.role_arn, group.endpoint_url), logs_probe(group, make)
    for api in settings.metrics.apis:
        yield Via(api.role_arn, api.endpoint_url), metrics_probe(api, settings, make)
    for api in settings.cloudtrail.lookups:
        yield Via(api.role_arn, api.endpoint_url), cloudtrail_probe(api, make)
    for api in settings.cost.apis:
        yield Via(api.role_arn, api.endpoint_url), cost_probe(api, settings, make, cost_explorer)
    inv = settings.invocation_logs
    for place in bedrock_places(settings):
        who = Via(place.role_arn, place.endpoint_url)
        yield who, logging_probe(place, settings, make)
        if settings.resolve_profiles_with_api and (inv.landing_zones or inv.log_groups):
            yield who, profiles_probe(place, make)
    for api in settings.capacity.apis:
        yield Via(api.role_arn, api.endpoint_url), catalog_probe(api, make)


def bedrock_places(settings: Settings) -> list[Via]:
    """Each region (and role) Bedrock data is read from through AWS: where logging must be on."""
    inv = settings.invocation_logs
    sources: list[Source] = [*filter(is_s3, inv.landing_zones), *inv.log_groups]
    sources += [*settings.metrics.apis, *settings.cloudtrail.lookups]
    return list(dict.fromkeys(Via(s.role_arn, s.endpoint_url, s.region) for s in sources))


def is_s3(zone: LandingZone) -> bool:
    return zone.uri.startswith("s3://")


def credentials_check(
    endpoint: str | None, make: Callable[..., Any]
) -> tuple[Check, Identity | None]:
    """boto3's default chain: which provider answered, or what each one lacked."""
    what = "AWS credentials" + (f" (endpoint {endpoint})" if endpoint else "")
    try:
        creds = boto3.Session().get_credentials()
    except PartialCredentialsError as exc:
        var, provider = exc.kwargs.get("cred_var"), exc.kwargs.get("provider")
        fix = f"set {var} too, or unset the rest of that provider's settings"
        return Check(
            "FAIL", what, f"{provider} has part of a key pair: {var} is missing", fix
        ), None
    except ProfileNotFound as exc:
        fix = "correct AWS_PROFILE or add that profile to ~/.aws/config"
        return Check("FAIL", what, f"{exc}", fix), None
    except BotoCoreError as exc:
        return Check("FAIL", what, str(exc), "see `aws configure list`"), None
    if creds is None:
        return Check("FAIL", what, missing_credentials(), aws.no_credentials("genai-lens")), None
    try:
        me = make("sts", endpoint_url=endpoint).get_caller_identity()
    except ClientError as exc:
        return failure(exc, what, "sts:GetCallerIdentity", "*", "you"), None
    except BotoCoreError as exc:
        return Check("FAIL", what, str(exc), "check network access to AWS STS"), None
    ident = Identity(me["Account"], me["Arn"])
    source = PROVIDERS.get(creds.method, creds.method)
    return Check("ok", what, f"from {source}, calling as {me['Arn']}"), ident


def missing_credentials() -> str:
    """What the default chain looked at, each with what it lacked."""
    profile = os.environ.get("AWS_PROFILE")
    config = os.environ.get("AWS_CONFIG_FILE", "~/.aws/config")
    return "; ".join(
        [
            "none found: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set",
            f"AWS_PROFILE={profile} has no keys, SSO or role"
            if profile
            else f"AWS_PROFILE is not set and {config} has no usable [default]",
            "no container (AWS_CONTAINER_CREDENTIALS_*) or instance role answered",
        ]
    )


def role_check(via: Via) -> tuple[Check, Identity | None]:
    assert via.role_arn is not None
    what = f"assume role {via.role_arn}"
    try:
        aws.session_for(None, via.role_arn, via.endpoint_url).get_credentials()
    except LensError as exc:
        fix = f"grant sts:AssumeRole on {via.role_arn} and trust genai-lens's principal in it"
        return Check("FAIL", what, str(exc), fix), None
    account = via.role_arn.split(":")[4]
    return Check("ok", what, "assumed"), Identity(account, via.role_arn)


def probe(
    what: str, action: str, resource: str, call: Callable[[], Check]
) -> Callable[[Identity], Check]:
    """Run `call`; an AWS error becomes a FAIL naming the permission, resource and principal
    (`{account}` in `resource` is the caller's account)."""

    def run(ident: Identity) -> Check:
        try:
            return call()
        except ClientError as exc:
            scope = resource.replace("{account}", ident.account)
            return failure(exc, what, action, scope, ident.principal)
        except (NoCredentialsError, PartialCredentialsError):
            return Check("FAIL", what, "no AWS credentials", "see the AWS credentials line")
        except NoRegionError:
            fix = "set region on this source, or AWS_DEFAULT_REGION"
            return Check("FAIL", what, "no region configured", fix)
        except (BotoCoreError, LensError) as exc:
            fix = "check network access to AWS (proxy, VPC endpoint) and endpoint_url"
            return Check("FAIL", what, str(exc), fix)

    return run


def failure(exc: ClientError, what: str, action: str, resource: str, principal: str) -> Check:
    code = aws.error_code(exc)
    message = " ".join(str(exc.response.get("Error", {}).get("Message", "")).split())
    if code in DENIED or "not authorized" in message or "<Code>AccessDenied" in message:
        fix = f"grant {action} on {resource} to {principal} (see {POLICY})"
        return Check("FAIL", what, f"access denied ({action})", fix)
    if code in BAD_CREDENTIALS:
        fix = "refresh them (`aws sso login`, new keys) or check the clock"
        return Check("FAIL", what, f"credentials invalid or expired ({code})", fix)
    if code == "NoSuchBucket":
        fix = "correct the bucket in the uri (names are global: a typo is the usual cause)"
        return Check("FAIL", what, "the bucket does not exist", fix)
    if code == "ResourceNotFoundException":
        return Check("FAIL", what, "does not exist", "check the name and region in the config")
    return Check(
        "FAIL",
        what,
        f"{code}: {message[:200]}",
        "retry; if it persists, check region and endpoint_url",
    )


def s3_probe(source: str, zone: LandingZone, make: Callable[..., Any]) -> Probe:
    """ListObjectsV2 for one key under the prefix, then HeadObject on it (s3:GetObject)."""
    bucket, _, root = zone.uri.removeprefix("s3://").partition("/")
    root = root if not root or root.endswith("/") else root + "/"
    what = f"{source} landing zone {zone.uri}"
    scope = f"arn:aws:s3:::{bucket}" + (f" for prefix {root}*" if root else "")
    keys: list[str] = []

    def listing() -> Check:
        s3 = client(make, "s3", zone)
        found = s3.list_objects_v2(Bucket=bucket, Prefix=root, MaxKeys=1).get("Contents", [])
        keys.extend(item["Key"] for item in found)
        return Check("ok", what, "listable")

    def head() -> Check:
        s3 = client(make, "s3", zone)
        s3.head_object(Bucket=bucket, Key=keys[0])
        return Check("ok", what, f"listed and read s3://{bucket}/{keys[0]}")

    def run(ident: Identity) -> list[Check]:
        listed = probe(what, "s3:ListBucket", scope, listing)(ident)
        if listed.status != "ok":
            return [listed]
        if not keys:
            fix = "check the prefix: deliveries land below it (AWSLogs/…, the export path)"
            return [Check("warn", what, "listable, but nothing is under the prefix yet", fix)]
        return [probe(what, "s3:GetObject", f"arn:aws:s3:::{bucket}/{root}*", head)(ident)]

    return run


def logs_probe(group: LogGroup, make: Callable[..., Any]) -> Probe:
    what = f"log group {group.label}"
    region = group.region or "<region>"
    resource = f"arn:aws:logs:{region}:{{account}}:log-group:{group.name}:*"

    def call() -> Check:
        logs = client(make, "logs", group)
        events = logs.filter_log_events(logGroupName=group.name, limit=1).get("events", [])
        return Check("ok", what, "readable" + ("" if events else " (no events yet)"))

    return lambda ident: [probe(what, "logs:FilterLogEvents", resource, call)(ident)]


def metrics_probe(api: ApiSource, settings: Settings, make: Callable[..., Any]) -> Probe:
    what = f"metrics api {api.label}"

    def listing() -> Check:
        cw = client(make, "cloudwatch", api)
        found = {
            ns: len(cw.list_metrics(Namespace=ns).get("Metrics", []))
            for ns in settings.metrics.namespaces
        }
        detail = ", ".join(f"{ns}: {n} series" for ns, n in found.items())
        if not any(found.values()):
            fix = "check the region: Bedrock publishes metrics where it is called"
            return Check("warn", f"{what} ListMetrics", f"{detail} (no Bedrock traffic?)", fix)
        return Check("ok", f"{what} ListMetrics", detail)

    def data() -> Check:
        cw = client(make, "cloudwatch", api)
        end = clock.utcnow().replace(second=0, microsecond=0, tzinfo=UTC)
        stat = {"Namespace": "AWS/Bedrock", "MetricName": "Invocations"}
        cw.get_metric_data(
            MetricDataQueries=[
                {"Id": "q", "MetricStat": {"Metric": stat, "Period": 300, "Stat": "Sum"}}
            ],
            StartTime=end - timedelta(hours=1),
            EndTime=end,
        )
        return Check("ok", f"{what} GetMetricData", "readable")

    return lambda ident: [
        probe(f"{what} ListMetrics", "cloudwatch:ListMetrics", "*", listing)(ident),
        probe(f"{what} GetMetricData", "cloudwatch:GetMetricData", "*", data)(ident),
    ]


def cloudtrail_probe(api: ApiSource, make: Callable[..., Any]) -> Probe:
    what = f"cloudtrail lookups {api.label}"

    def call() -> Check:
        ct = client(make, "cloudtrail", api)
        source = {"AttributeKey": "EventSource", "AttributeValue": "bedrock.amazonaws.com"}
        events = ct.lookup_events(LookupAttributes=[source], MaxResults=1).get("Events", [])
        return Check("ok", what, "readable" + ("" if events else " (no Bedrock events in 90 days)"))

    return lambda ident: [probe(what, "cloudtrail:LookupEvents", "*", call)(ident)]


def cost_probe(api: ApiSource, settings: Settings, make: Callable[..., Any], asked: bool) -> Probe:
    what = f"cost explorer {api.label}"
    if not asked:
        skipped = Check(
            "warn",
            what,
            "not checked: Cost Explorer bills USD 0.01 per request",
            "`genai-lens doctor --cost-explorer` checks it for USD 0.01-0.02",
        )
        return lambda ident: [skipped]

    # Cost Explorer has one endpoint, in us-east-1 (as ingest/cost/ingester.py calls it).
    place = Via(api.role_arn, api.endpoint_url, api.region or "us-east-1")

    def usage() -> Check:
        today = clock.today()
        period = {"Start": (today - timedelta(days=1)).isoformat(), "End": today.isoformat()}
        client(make, "ce", place).get_cost_and_usage(
            TimePeriod=period, Granularity="DAILY", Metrics=["UnblendedCost"]
        )
        return Check("ok", f"{what} GetCostAndUsage", "readable (USD 0.01 billed)")

    def forecast() -> Check:
        start = clock.today() + timedelta(days=1)
        end = cost_explorer.next_month(start.replace(day=1))
        try:
            client(make, "ce", place).get_cost_forecast(
                TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
                Metric="UNBLENDED_COST",
                Granularity="MONTHLY",
            )
        except ClientError as exc:
            if aws.error_code(exc) not in {"DataUnavailableException", "ValidationException"}:
                raise
        return Check("ok", f"{what} GetCostForecast", "allowed (USD 0.01 billed)")

    checks = [(f"{what} GetCostAndUsage", "ce:GetCostAndUsage", usage)]
    if settings.cost.forecast:
        checks.append((f"{what} GetCostForecast", "ce:GetCostForecast", forecast))
    return lambda ident: [probe(w, action, "*", call)(ident) for w, action, call in checks]


def logging_probe(place: Via, settings: Settings, make: Callable[..., Any]) -> Probe:
    """Is model invocation logging on here, and does it deliver where a source reads?"""
    what = f"bedrock invocation logging in {place.region or 'the default region'}"

    def call() -> Check:
        bedrock = client(make, "bedrock", place)
        where = place.region or bedrock.meta.region_name
        config = bedrock.get_model_invocation_logging_configuration().get("loggingConfig") or {}
        targets = destinations(config)
        if not targets:
            fix = (
                f"enable model invocation logging in {where} (Bedrock console > Settings, or "
                f"`aws bedrock put-model-invocation-logging-configuration --region {where}`)"
                f" delivering to {suggestion(settings, where)}"
            )
            return Check("FAIL", what, "off: Bedrock records no invocations here", fix)
        read = [t for t in targets if reads(settings, t, where)]
        shown = " and ".join(targets)
        if read:
            return Check("ok", what, f"on, delivering to {shown}")
        fix = f"add {targets[0]} to [invocation_logs] in the config (or replicate it into one)"
        return Check("warn", what, f"on, delivering to {shown}, which no source reads", fix)

    return lambda ident: [
        probe(what, "bedrock:GetModelInvocationLoggingConfiguration", "*", call)(ident)
    ]


def destinations(config: dict[str, Any]) -> list[str]:
    s3 = config.get("s3Config") or {}
    cw = config.get("cloudWatchConfig") or {}
    out = []
    if s3.get("bucketName"):
        out.append(f"s3://{s3['bucketName']}/{s3.get('keyPrefix') or ''}".rstrip("/"))
    if cw.get("logGroupName"):
        out.append(f"log group {cw['logGroupName']}")
    return out


def reads(settings: Settings, target: str, region: str) -> bool:
    """A landing zone whose prefix holds the delivery's (or lies inside it), or the log group."""
    inv = settings.invocation_logs
    if target.startswith("log group "):
        name = target.removeprefix("log group ")
        return any(g.name == name and (g.region or region) == region for g in inv.log_groups)
    bucket, _, prefix = target.removeprefix("s3://").partition("/")
    prefix = prefix + "/" if prefix else ""
    for zone in filter(is_s3, inv.landing_zones):
        zbucket, _, root = zone.uri.removeprefix("s3://").partition("/")
        root = root + "/" if root and not root.endswith("/") else root
        if zbucket == bucket and (prefix.startswith(root) or root.startswith(prefix)):
            return True
    return False


def suggestion(settings: Settings, region: str) -> str:
    inv = settings.invocation_logs
    for zone in filter(is_s3, inv.landing_zones):
        if (zone.region or region) == region:
            return zone.uri
    for group in inv.log_groups:
        if (group.region or region) == region:
            return f"log group {group.name}"
    return "an S3 bucket or log group named in [invocation_logs]"


def profiles_probe(place: Via, make: Callable[..., Any]) -> Probe:
    """GetInferenceProfile and ListTagsForResource on a profile that does not exist: 'not
    found' proves the permissions without a real profile (or ListInferenceProfiles)."""
    what = f"bedrock inference profiles in {place.region or 'the default region'}"
    action = "bedrock:GetInferenceProfile and bedrock:ListTagsForResource"
    region = place.region or "<region>"
    resource = f"arn:aws:bedrock:{region}:{{account}}:application-inference-profile/*"

    def run(ident: Identity) -> list[Check]:
        def call() -> Check:
            bedrock = client(make, "bedrock", place)
            where = place.region or bedrock.meta.region_name
            arn = f"arn:aws:bedrock:{where}:{ident.account}:application-inference-profile/probe"
            for ask in (
                lambda: bedrock.get_inference_profile(inferenceProfileIdentifier=arn),
                lambda: bedrock.list_tags_for_resource(resourceARN=arn),
            ):
                try:
                    ask()
                except ClientError as exc:
                    if aws.error_code(exc) not in {
                        "ResourceNotFoundException",
                        "ValidationException",
                    }:
                        raise
            return Check("ok", what, "GetInferenceProfile and ListTagsForResource allowed")

        return [probe(what, action, resource, call)(ident)]

    return run


def catalog_probe(api: Source, make: Callable[..., Any]) -> Probe:
    """The model-catalog job's two reads: ListFoundationModels (lifecycle) and one page of
    ListServiceQuotas for Bedrock (applied quotas; without it, quotas come from config)."""
    what = f"model catalog in {api.region or 'the default region'}"

    def models() -> Check:
        found = client(make, "bedrock", api).list_foundation_models().get("modelSummaries", [])
        return Check("ok", f"{what} ListFoundationModels", f"{len(found)} models")

    def quotas() -> Check:
        page = client(make, "service-quotas", api).list_service_quotas(
            ServiceCode="bedrock", MaxResults=1
        )
        return Check("ok", f"{what} ListServiceQuotas", f"allowed ({len(page['Quotas'])} read)")

    checks = [(f"{what} ListFoundationModels", "bedrock:ListFoundationModels", models),
              (f"{what} ListServiceQuotas", "servicequotas:ListServiceQuotas", quotas)]  # fmt: skip
    return lambda ident: [probe(w, action, "*", call)(ident) for w, action, call in checks]
