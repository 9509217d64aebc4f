"""The `genai-lens` command: a few lines per command that delegate to library functions.

Errors a user can fix are one line on stderr and exit code 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeGuard

import duckdb
import typer

from base import clock
from base.errors import LensError
from base.settings import Settings, load_settings
from base.stats import Progress, RunStats

if TYPE_CHECKING:
    import click  # typer's exceptions share click's shape (see _usage_error)

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Observability and FinOps for generative AI on Amazon Bedrock.",
)


@dataclass
class State:
    config: Path | None = None
    warehouse: Path | None = None
    debug: bool = False

    def settings(self) -> Settings:
        from base import logs

        settings = load_settings(self.config, warehouse=self.warehouse)
        logs.hide([*settings.alerts.urls, *settings.alerts.webhooks])  # they carry tokens
        return settings

    def open(self, *, migrate: bool = True) -> tuple[Settings, duckdb.DuckDBPyConnection]:
        """The settings and the warehouse they name, opened (and migrated)."""
        settings = self.settings()
        return settings, self.connect(settings, migrate=migrate)

    def connect(self, settings: Settings, *, migrate: bool = True) -> duckdb.DuckDBPyConnection:
        from warehouse import runs
        from warehouse.db import connect

        con = connect(settings.warehouse, migrate=migrate, memory_limit=settings.memory_limit)
        if migrate:
            runs.mark_interrupted(con)  # runs a kill -9 left 'running'
        return con


state = State()


@app.callback()
def main_options(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            envvar="GENAI_LENS_CONFIG",
            help="Config file (default: ./genai-lens.toml when present).",
        ),
    ] = None,
    warehouse: Annotated[
        Path | None,
        typer.Option(
            "--warehouse",
            envvar="GENAI_LENS_WAREHOUSE",
            help="DuckDB warehouse file (default: data/warehouse.duckdb).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            envvar="GENAI_LENS_LOG_FORMAT",
            help="Log lines as text or json (one object per line).",
        ),
    ] = "text",
) -> None:
    from base import logs

    if log_format not in logs.FORMATS:
        raise LensError(f"--log-format {log_format!r}: use text or json")
    # In text mode a CLI command prints its own summary; the job's log line would repeat it.
    logs.setup(log_format, quiet_jobs=log_format == "text")
    logs.route_libraries()
    state.config, state.warehouse, state.debug = config, warehouse, debug


@contextmanager
def progress_line(name: str) -> Iterator[Progress]:
    """Progress of a long run: a live bar on a terminal, plain lines otherwise (CI, logs); both
    with the time left once the run can tell how much of its window it has walked."""
    if not sys.stderr.isatty():
        started = time.monotonic()
        yield lambda msg, done: _echo(msg + _left(done, time.monotonic() - started))
        return
    from rich import progress as rp
    from rich.console import Console

    columns = (rp.SpinnerColumn(), rp.TextColumn(f"[bold]{name}"), rp.BarColumn(),
               rp.TimeElapsedColumn(), rp.TextColumn("ETA"), rp.TimeRemainingColumn(),
               rp.TextColumn("{task.description}"))  # fmt: skip
    # On stderr, the stream tested above: stdout stays the summary alone (it may be piped).
    with rp.Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("listing…", total=None)

        def update(msg: str, done: float | None) -> None:
            if done is None:
                bar.update(task, description=msg)
            else:  # rich's time left: from the recent pace, not the average since the start
                bar.update(task, description=msg, total=1.0, completed=done)

        yield update


def _left(done: float | None, elapsed: float) -> str:
    """'; 40% of the window, about 12 min left': the pace so far, carried to the window's end."""
    if done is None or done <= 0:
        return ""
    if done >= 1:
        return "; 100% of the window"
    seconds = elapsed * (1 - done) / done
    left = f"{seconds / 3600:.1f} h" if seconds >= 5400 else (
        f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s")  # fmt: skip
    return f"; {done:.0%} of the window, about {left} left"


def _echo(msg: str, *, error: bool = False) -> None:
    from base import logs

    logs.say(msg, error=error)


def _parse_time(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise LensError(
            f"{flag} {value!r} is not a date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM (UTC)"
        ) from None


Landing = Annotated[
    str | None,
    typer.Option(help="Landing zone: s3://bucket/prefix or a local folder (default: from config)."),
]
Since = Annotated[str | None, typer.Option(help="Backfill from this UTC date/time.")]
Until = Annotated[str | None, typer.Option(help="Stop before this UTC date/time.")]


@app.command()
def ingest(
    sources: Annotated[
        list[str] | None,
        typer.Argument(
            help="invocation-logs, cloudtrail, metrics, cost (default: every configured one)."
        ),
    ] = None,
    landing: Landing = None,
    log_group: Annotated[
        str | None,
        typer.Option(help="CloudWatch Logs group Bedrock delivers to (invocation-logs only)."),
    ] = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Load AWS data into the warehouse: new data, or a backfill with --since/--until."""
    from jobs import runner as jobs

    window = {"since": _parse_time(since, "--since"), "until": _parse_time(until, "--until")}
    settings, con = state.open()
    names = _ingest_sources(sources, settings, landing, log_group)
    failed = 0
    for name in names:
        extra: dict[str, object] = dict(window)
        if landing is not None:
            extra["landing"] = landing
        if log_group is not None:
            extra["log_group"] = log_group
        started = time.perf_counter()
        try:
            with progress_line(name) as progress:
                run = jobs.run_job(con, settings, name, trigger="cli", progress=progress, **extra)
        except LensError as exc:
            if len(names) == 1:
                raise
            failed += 1  # the other sources still run; the exit code says one failed
            _echo(f"genai-lens: error: {name}: {exc}", error=True)
            continue
        _report(name, run.result, time.perf_counter() - started)
    if failed:
        raise typer.Exit(2)


def _ingest_sources(
    sources: list[str] | None, settings: Settings, landing: str | None, log_group: str | None
) -> list[str]:
    from jobs import runner as jobs

    bad = [s for s in sources or [] if s not in jobs.INGESTS]
    if bad:
        raise LensError(f"unknown source {bad[0]!r}: use one of {', '.join(jobs.INGESTS)}")
    names = list(dict.fromkeys(sources or [])) or jobs.configured(settings)
    if (landing or log_group) and len(names) != 1:
        raise LensError("--landing and --log-group name one source: pass exactly one SOURCE")
    if log_group and names != ["invocation-logs"]:
        raise LensError("--log-group is for invocation-logs only")
    if not names:
        raise LensError(
            "no source is configured: name one with --landing (e.g. `genai-lens ingest "
            "invocation-logs --landing s3://bucket/prefix`) or add sources to the config"
        )
    return names


def _report(name: str, stats: RunStats, seconds: float) -> None:
    typer.echo(f"{name}: {stats.summary()} in {seconds:.1f}s")
    for note in stats.notes:
        typer.echo(f"  note: {note}")
    if stats.quarantined:
        typer.echo(
            f"  {stats.quarantined} records quarantined: see the quarantine table "
            "(source object, line and reason)"
        )


models_app = typer.Typer(no_args_is_help=True, help="Allocation, forecasts, anomalies, alerts.")
app.add_typer(models_app, name="models")
eval_app = typer.Typer(no_args_is_help=True, help="Measure the models on labelled data.")
app.add_typer(eval_app, name="eval")


@models_app.command("run")
def models_run(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the alerts instead of sending them.")
    ] = False,
) -> None:
    """Allocate the bill, forecast spend, detect anomalies and send what alerts are due."""
    from jobs import runner as jobs

    settings, con = state.open()
    started = time.perf_counter()
    run = jobs.run_job(con, settings, "models", trigger="cli", dry_run=dry_run)
    typer.echo(
        f"models: {run.result.records:,} rows written in {time.perf_counter() - started:.1f}s"
    )
    for note in run.result.notes:
        typer.echo(f"  {note}")


prices_app = typer.Typer(no_args_is_help=True, help="The price catalog.")
app.add_typer(prices_app, name="prices")


@prices_app.command("refresh")
def prices_refresh() -> None:
    """Read Bedrock list prices from the AWS Price List API into a dated catalog."""
    from jobs import runner as jobs

    settings, con = state.open()
    run = jobs.run_job(con, settings, "prices", trigger="cli")
    for note in run.stats.notes if run.stats else []:
        typer.echo(note)


@eval_app.command("anomaly")
def eval_anomaly(
    dataset: Annotated[
        Path, typer.Argument(help="Folder laid out like NAB (CSVs + windows.json).")
    ],
    scores_out: Annotated[
        Path | None, typer.Option(help="Write timestamp,anomaly_score CSVs here.")
    ] = None,
    by_family: Annotated[
        bool,
        typer.Option(
            "--by-family",
            help="Figures per family (first sub-folder) and leave-one-family-out.",
        ),
    ] = False,
) -> None:
    """Score the anomaly detector on a labelled dataset (window F1 and NAB standard)."""
    from jobs.evaluation import anomaly, anomaly_families

    if by_family:
        _evaluate(lambda: anomaly_families.evaluate_by_family(dataset, echo=_echo))
    else:
        _evaluate(lambda: anomaly.evaluate(dataset, scores_out, echo=_echo))


@eval_app.command("forecast")
def eval_forecast(
    dataset: Annotated[Path, typer.Argument(help="Folder of date,value CSVs, one per series.")],
    horizon: Annotated[int, typer.Option(min=1, max=365, help="Days held out.")] = 30,
) -> None:
    """Forecast the last HORIZON days of each series from the rest, and score it."""
    from jobs.evaluation import forecast

    _evaluate(lambda: forecast.evaluate(dataset, horizon, echo=_echo))


def _evaluate(run: Callable[[], str]) -> None:
    try:
        line = run()
    except ValueError as exc:
        raise LensError(str(exc)) from None
    typer.echo(line)


@app.command()
def reattribute() -> None:
    """Re-run the attribution rules over all history (after editing them)."""
    from ingest.invocation_logs import reattribution

    settings, con = state.open()
    done = reattribution.reattribute(con, settings)
    typer.echo(
        f"reattribute: {done.changed:,} of {done.total:,} invocations changed attribution "
        f"(LOB, app or matching rule); rollups of {done.rebuilt_hours:,} hours rebuilt"
    )
    if done.kept_hours:
        typer.echo(
            f"  note: {done.kept_hours:,} hours past retention kept their old attribution: "
            "vacuum deleted their raw invocations, so their rollups cannot be recomputed"
        )


@app.command()
def export(
    kind: Annotated[str, typer.Argument(help="chargeback (CSV) or focus (FOCUS 1.2)")],
    since: Annotated[str, typer.Option(help="First usage day, YYYY-MM-DD (UTC)")],
    until: Annotated[str, typer.Option(help="Last usage day, YYYY-MM-DD (UTC), inclusive")],
    out: Annotated[str, typer.Option(help="File, folder, or s3://bucket/key (or prefix/)")],
    lob: Annotated[list[str] | None, typer.Option(help="Only these LOBs (repeatable)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="parquet or csv")] = "parquet",
) -> None:
    """Write the Spend page's chargeback or FOCUS file for a period, without a browser."""
    from datetime import date

    from jobs import exports

    def day(value: str, flag: str) -> date:
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise exports.ExportError(f"{flag} {value!r}: expected a date as YYYY-MM-DD") from None

    if kind not in ("chargeback", "focus"):
        raise exports.ExportError(f"export {kind!r}: choose chargeback or focus")
    suffix = "csv" if kind == "chargeback" else fmt
    settings = state.settings()
    from warehouse.db import connect

    # Read-only: an export can run beside the app (which reads too) and changes nothing.
    con = connect(settings.warehouse, read_only=True, memory_limit=settings.memory_limit)
    done = exports.export(con, settings, kind, day(since, "--since"), day(until, "--until"), out,
                          suffix=suffix, lobs=lob)  # fmt: skip
    typer.echo(f"export: {done.rows:,} rows, ${done.billed:,.4f} billed, {done.size:,} bytes "
               f"-> {done.target}")  # fmt: skip


@app.command()
def migrate() -> None:
    """Create the warehouse or bring its schema up to date."""
    from warehouse.db import apply_migrations

    settings, con = state.open(migrate=False)
    applied = apply_migrations(con)
    typer.echo(
        f"{settings.warehouse}: schema up to date; applied {len(applied)} migration(s)"
        + (f": {', '.join(applied)}" if applied else "")
    )


def _instant(value: str | None) -> str | None:
    """--now as a usage error when it is not a time, like any other bad option value."""

    if value is not None:
        try:
            clock.parse(value, "--now")
        except LensError as exc:
            raise typer.BadParameter(str(exc).removeprefix("--now: ")) from None
    return value


@app.command()
def demo(
    days: Annotated[int, typer.Option(min=7, max=730, help="Days of history.")] = 90,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same estate).")] = 7,
    per_day: Annotated[int, typer.Option(min=10, help="Invocations per day at the start.")] = 6000,
    out: Annotated[Path, typer.Option(help="Where the demo estate is written.")] = Path(
        "data/demo"
    ),
    serve_app: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the app afterwards.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port for the app.")] = 8501,
    now: Annotated[
        str | None,
        typer.Option(
            help="Fix the clock (ISO 8601, e.g. 2026-06-30T12:00:00Z): the estate ends at that "
            "hour and everything after reads that time, so a seed gives the same demo any day.",
            callback=_instant,
        ),
    ] = None,
) -> None:
    """Write a realistic demo estate in AWS formats, ingest it, and serve the app."""
    from demo import estate as demo_estate
    from jobs import runner as jobs
    from warehouse.db import connect, ensure_not_held

    if out.exists():  # a demo is regenerated whole: stale files would double-count
        for held in sorted(out.glob("*.duckdb")):  # never from under a server serving it
            ensure_not_held(held)
        shutil.rmtree(out)
    if now is not None:
        clock.fix(clock.parse(now))
    started = time.perf_counter()
    begun = demo_estate.begin_estate(out, days=days, seed=seed, per_day=per_day, end=clock.fixed())
    typer.echo(
        f"demo: wrote {begun.invocations:,} invocations in {begun.files:,} files "
        f"to {begun.landing} in {time.perf_counter() - started:.1f}s"
    )
    settings = load_settings(begun.config_path)
    con = connect(settings.warehouse, memory_limit=settings.memory_limit)
    # The trail, the metric stream and the bill are written on a thread while the invocation
    # logs load (zlib, polars and DuckDB release the GIL; each step alone leaves a core ~40%
    # idle); each source loads once its own files are all written.
    rest = demo_estate.Finishing(begun)

    def step(name: str) -> None:
        began = time.perf_counter()
        run = jobs.run_job(con, settings, name, trigger="demo")
        typer.echo(f"demo: {name}: {run.result.summary()} in {time.perf_counter() - began:.1f}s")

    for name in jobs.configured(settings):
        rest.wait(name)
        step(name)
    whole = rest.result()
    typer.echo(
        f"demo: wrote {whole.trail_files:,} trail and {whole.metric_files:,} metric-stream "
        f"files and the bill alongside in {rest.seconds:.1f}s"
    )
    # The model catalog before the models: the quota runway reads the quotas it writes (the
    # demo's come from its config's [capacity] section, as where the API is closed).
    for name in ("model-catalog", "models"):
        step(name)
    typer.echo(f"demo: ready in {time.perf_counter() - started:.1f}s: {settings.warehouse}")
    typer.echo(f"demo: to use the CLI on it: export GENAI_LENS_CONFIG={begun.config_path}")
    con.close()
    if serve_app:
        _serve(settings, port, "localhost", scheduler=False)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind.")] = "localhost",
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Serve the app only; run no jobs.")
    ] = False,
    allow_anonymous: Annotated[
        bool,
        typer.Option(
            "--allow-anonymous",
            help="Serve on a non-loopback address without sign-in (a proxy authenticates).",
        ),
    ] = False,
    secrets: Annotated[
        Path | None,
        typer.Option(
            "--secrets",
            envvar="GENAI_LENS_SECRETS",
            help="Streamlit secrets file with [auth] (default: .streamlit/secrets.toml in the "
            "home, project and working directories).",
        ),
    ] = None,
) -> None:
    """Serve the dashboard and run the scheduled jobs, in one process on one warehouse."""
    settings = state.settings()
    if secrets is not None and not secrets.is_file():
        raise LensError(f"--secrets {secrets}: no such file")
    _serve(settings, port, address, scheduler=not no_scheduler and settings.schedule.enabled,
           allow_anonymous=allow_anonymous, secrets=secrets)  # fmt: skip


def _serve(
    settings: Settings,
    port: int,
    address: str,
    *,
    scheduler: bool,
    allow_anonymous: bool = False,
    secrets: Path | None = None,
) -> None:
    from app import server_options
    from base import auth, logs, sign_in
    from genai_lens import PROJECT_ROOT
    from jobs.scheduler import LensScheduler
    from warehouse import runs, runtime

    secrets_files = [secrets.resolve()] if secrets else auth.secrets_files(PROJECT_ROOT)
    _check_sign_in(secrets_files, address, port, allow_anonymous)

    logs.get("jobs").setLevel(logging.INFO)  # unattended: every job run leaves its line
    runtime.use_settings(settings)
    con = runtime.open_warehouse(settings.warehouse, settings.memory_limit)
    runs.mark_interrupted(con)
    _warn_unknown_lobs(settings, con)
    # Streamlit reads .streamlit/config.toml from the working directory only; serve from
    # anywhere with the project's settings, the command line and production's needs winning.
    flags = server_options.streamlit_flags(
        _streamlit_config(PROJECT_ROOT), address=address, port=port,
        secrets_files=secrets_files, auth=sign_in.read_auth(secrets_files)[1],
    )  # fmt: skip
    jobs_note = "with the scheduler" if scheduler else "without the scheduler"
    line = f"serving http://{address}:{port} on {settings.warehouse} {jobs_note} (Ctrl-C stops)"
    if logs.json_mode():  # stdout too: every line a log shipper reads is JSON
        _echo(line)
    else:
        typer.echo(line)
    sched = LensScheduler(settings, con, settings.warehouse) if scheduler else None
    if sched is not None:
        sched.start()
    try:
        from app import server

        server.run(flags)
    finally:
        if sched is not None:
            sched.shutdown()


def _check_sign_in(files: list[Path], address: str, port: int, allow_anonymous: bool) -> None:
    """Refuse to serve a network a sign-in that cannot work (one line: what to fix); on
    localhost, or with --allow-anonymous, log what is wrong and serve."""
    from base import auth, logs, sign_in

    _, section = sign_in.read_auth(files)
    refusal = auth.refuse_anonymous(address, auth.sign_in_configured(files), allow_anonymous)
    if section is None:
        if refusal:
            raise LensError(refusal)
        return
    found = sign_in.checks(files, address=address, port=port)
    logs.hide([str(section.get("client_secret") or ""), str(section.get("cookie_secret") or "")])
    problem = sign_in.refusal(found) or refusal
    if problem and address not in auth.LOOPBACK and not allow_anonymous:
        raise LensError(f"refusing to serve on {address}: {problem}")
    log = logs.get("serve")
    for finding in found:
        if finding.status != "ok":
            log.warning(finding.line(), extra={"figures": {"check": finding.what}})


def _warn_unknown_lobs(settings: Settings, con: duckdb.DuckDBPyConnection) -> None:
    """A role naming a LOB the warehouse has never seen is a typo until proven otherwise: say
    so at start, not as a reader's silently empty dashboard."""
    from base import auth, logs

    known = {
        lob
        for (lob,) in con.execute(
            "SELECT DISTINCT lob FROM usage_hourly WHERE lob IS NOT NULL"
        ).fetchall()
    }
    for group, lobs in auth.unknown_lobs(settings.auth.roles, known).items():
        logs.get("serve").warning(
            f"config: [auth.roles] group {group!r} names LOBs the warehouse has never seen: "
            f"{', '.join(lobs)} (known: {', '.join(sorted(known))})",
            extra={"figures": {"group": group, "unknown_lobs": lobs}},
        )


def _streamlit_config(project_root: Path) -> Path:
    """The Streamlit settings `serve` starts from: the working directory's .streamlit/config.toml,
    else the checkout's, else the copy a wheel ships (genai_lens/streamlit_config.toml)."""
    for root in (Path.cwd(), project_root):
        if (found := root / ".streamlit" / "config.toml").is_file():
            return found
    return Path(__file__).parent / "streamlit_config.toml"


@app.command()
def status() -> None:
    """Per source: last run, lag behind now, rows, quarantined, next run."""
    from base.errors import WarehouseError
    from jobs import runner as jobs
    from jobs import status as st

    settings = state.settings()
    try:
        con = state.connect(settings)
    except WarehouseError as exc:
        snap = st.read_snapshot(settings.warehouse) if "in use" in str(exc) else None
        if snap is None:
            raise
        written, found = snap
        typer.echo(
            "(the warehouse is held by a running server; its status as of "
            f"{written:%Y-%m-%d %H:%M:%S} UTC)"
        )
    else:
        found = st.collect(con, settings, jobs.configured(settings))
    for line in st.render(found):
        typer.echo(line)


@app.command()
def doctor(
    cost_explorer: Annotated[
        bool,
        typer.Option("--cost-explorer", help="Also check Cost Explorer (USD 0.01 per request)."),
    ] = False,
    port: Annotated[int, typer.Option(help="The port serve will listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="The address serve will bind.")] = "localhost",
    secrets: Annotated[
        Path | None,
        typer.Option(
            "--secrets",
            envvar="GENAI_LENS_SECRETS",
            help="The secrets file serve will read (as serve --secrets).",
        ),
    ] = None,
) -> None:
    """Check the config, the warehouse, sign-in and every configured AWS source; exit 1 on a
    failure."""
    from base import auth
    from genai_lens import PROJECT_ROOT
    from jobs import doctor as checks

    settings = state.settings()
    files = [secrets.resolve()] if secrets else auth.secrets_files(PROJECT_ROOT)
    serving = checks.Serving(tuple(files), address, port)
    code = checks.main(
        settings, settings.warehouse, typer.echo, cost_explorer=cost_explorer, serving=serving
    )
    raise typer.Exit(code)


@app.command()
def vacuum() -> None:
    """Delete raw invocations past retention (rollups, cost and audit rows stay)."""
    from jobs import runner as jobs

    settings, con = state.open()
    run = jobs.run_job(con, settings, "vacuum", trigger="cli")
    typer.echo(f"vacuum: {run.result.deleted or 0:,} rows deleted")
    for note in run.result.notes:
        typer.echo(f"  {note}")


def _disk_trouble(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, duckdb.IOException | duckdb.FatalException) or any(
        sign in text for sign in ("Could not write", "No space left", "File too large")
    )


def main() -> None:
    try:
        # Outside standalone mode click returns a command's `typer.Exit` code instead of
        # exiting with it: `doctor` finding a failure, or one of several sources failing.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except LensError as exc:
        if state.debug:
            raise
        _echo(f"genai-lens: error: {exc}", error=True)
        sys.exit(exc.exit_code)
    except duckdb.OutOfMemoryException as exc:
        if state.debug:
            raise
        # The batch rolled back; nothing committed is lost. Say which knob, not a traceback.
        first = str(exc).splitlines()[0]
        _echo(
            f"genai-lens: error: DuckDB ran out of memory ({first}); raise memory_limit in the "
            "config (or GENAI_LENS_MEMORY_LIMIT; 2GB is the default) or lower the source's "
            "batch_mb, then re-run: committed data is intact",
            error=True,
        )
        sys.exit(2)
    except duckdb.CatalogException as exc:
        if state.debug:
            raise
        # A table the code expects is missing: the schema is older than the code or was
        # never created here. One line that says so, not DuckDB's catalog traceback.
        first = str(exc).splitlines()[0]
        _echo(
            f"genai-lens: error: the warehouse schema is missing or out of date ({first}); run "
            "`genai-lens migrate` on it (it says which migrations it applies)",
            error=True,
        )
        sys.exit(2)
    except duckdb.Error as exc:
        if state.debug:
            raise
        if not _disk_trouble(exc):
            _unexpected(exc)
        # A full disk (or a file size limit) mid-write: the batch rolled back, nothing
        # committed is lost, and the next run resumes from the last committed batch.
        text = " ".join(str(exc).split())
        _echo(
            f"genai-lens: error: cannot write the warehouse: {text}; free disk space and "
            "re-run: committed data is intact and the run resumes where it stopped",
            error=True,
        )
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt) as exc:
        # click turns an EOFError into Abort as it does Ctrl-C; outside a prompt it is a bug
        # (a truncated gzip read), not the user stopping the run.
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, EOFError):
            if state.debug:
                raise cause from None
            _unexpected(cause)
        _echo("genai-lens: aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit codes
        from base import logs

        if _usage_error(exc):
            if logs.json_mode():
                _echo(
                    f"genai-lens: error: {exc.format_message()} (see genai-lens --help)", error=True
                )
            else:
                exc.show()
            sys.exit(exc.exit_code)
        if state.debug:
            raise
        _unexpected(exc)


def _usage_error(exc: BaseException) -> TypeGuard[click.ClickException]:
    """A bad option or value: click's, or the copy of click that typer (0.20+) carries, whose
    exceptions are not click's ('--days 2' printed a traceback)."""
    import click

    typer_click = getattr(typer, "TyperException", ())
    return isinstance(exc, click.ClickException) or (
        isinstance(exc, typer_click) and callable(getattr(exc, "show", None))
    )


def _unexpected(exc: BaseException) -> NoReturn:
    """A bug, not a user's mistake: its traceback (one JSON object in json mode), exit 1."""
    from base import logs

    logs.exception(f"genai-lens: error: unexpected {type(exc).__name__}", exc)
    sys.exit(1)
