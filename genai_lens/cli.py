"""The `genai-lens` command: a few lines per command that delegate to library functions.

Errors a user can fix are one line on stderr and exit code 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import shutil
import sys
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from genai_lens.errors import LensError
from genai_lens.settings import Settings, load_settings
from ingest.bookkeeping import RunStats

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Observability and FinOps for generative AI on Amazon Bedrock.",
)
ingest_app = typer.Typer(no_args_is_help=True, help="Load AWS data into the warehouse.")
app.add_typer(ingest_app, name="ingest")


@dataclass
class State:
    config: Path | None = None
    warehouse: Path | None = None
    debug: bool = False

    def settings(self) -> Settings:
        return load_settings(self.config, warehouse=self.warehouse)

    def open(self, *, migrate: bool = True) -> tuple[Settings, duckdb.DuckDBPyConnection]:
        """The settings and the warehouse they name, opened (and migrated)."""
        from genai_lens.warehouse import connect

        settings = self.settings()
        return settings, connect(settings.warehouse, migrate=migrate)


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
) -> None:
    state.config, state.warehouse, state.debug = config, warehouse, debug


def _echo(msg: str) -> None:
    typer.echo(msg, err=True)


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


def _ingest(name: str, run: Callable[..., RunStats], **kwargs: object) -> None:
    """Run one source's ingest and print its figures, notes and quarantine count."""
    kwargs["since"] = _parse_time(kwargs.get("since"), "--since")  # type: ignore[arg-type]
    kwargs["until"] = _parse_time(kwargs.get("until"), "--until")  # type: ignore[arg-type]
    settings, con = state.open()
    started = time.perf_counter()
    stats = run(con, settings, progress=_echo, **kwargs)
    typer.echo(f"{name}: {stats.summary()} in {time.perf_counter() - started:.1f}s")
    for note in stats.notes:
        typer.echo(f"  note: {note}")
    if stats.quarantined:
        typer.echo(
            f"  {stats.quarantined} records quarantined: see the quarantine table "
            "(source object, line and reason)"
        )


@ingest_app.command("invocation-logs")
def ingest_invocation_logs(
    landing: Landing = None,
    log_group: Annotated[
        str | None,
        typer.Option(help="CloudWatch Logs group Bedrock delivers to (default: from config)."),
    ] = None,
    since: Since = None,
    until: Until = None,
) -> None:
    """Ingest Bedrock model invocation logs (S3/local landing zone or CloudWatch Logs)."""
    from ingest import invocation_logs

    _ingest(
        "invocation-logs",
        invocation_logs.run,
        landing=landing,
        log_group=log_group,
        since=since,
        until=until,
    )


@ingest_app.command("cloudtrail")
def ingest_cloudtrail(landing: Landing = None, since: Since = None, until: Until = None) -> None:
    """Ingest CloudTrail: trail files from a landing zone, or LookupEvents per account/region."""
    from ingest import cloudtrail

    _ingest("cloudtrail", cloudtrail.run, landing=landing, since=since, until=until)


@ingest_app.command("cost")
def ingest_cost(landing: Landing = None, since: Since = None, until: Until = None) -> None:
    """Ingest Bedrock cost: CUR 2.0 / FOCUS exports, or Cost Explorer (billed per request)."""
    from ingest import cost

    _ingest("cost", cost.run, landing=landing, since=since, until=until)


@ingest_app.command("metrics")
def ingest_metrics(landing: Landing = None, since: Since = None, until: Until = None) -> None:
    """Ingest CloudWatch metrics: Metric Streams files, or GetMetricData per account/region."""
    from ingest import metrics

    _ingest("metrics", metrics.run, landing=landing, since=since, until=until)


@app.command()
def reattribute() -> None:
    """Re-run the attribution rules over all history (after editing them)."""
    from ingest import reattribution

    settings, con = state.open()
    changed, total = reattribution.reattribute(con, settings)
    typer.echo(
        f"reattribute: {changed:,} of {total:,} invocations changed attribution "
        "(LOB, app or matching rule)"
    )


@app.command()
def migrate() -> None:
    """Create the warehouse or bring its schema up to date."""
    from genai_lens.warehouse import apply_migrations

    settings, con = state.open(migrate=False)
    applied = apply_migrations(con)
    typer.echo(
        f"{settings.warehouse}: schema up to date; applied {len(applied)} migration(s)"
        + (f": {', '.join(applied)}" if applied else "")
    )


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
) -> None:
    """Write a realistic demo estate in AWS formats, ingest it, and serve the app."""
    from genai_lens.warehouse import connect
    from ingest import demo as demo_estate

    if out.exists():  # a demo is regenerated whole: stale files would double-count
        shutil.rmtree(out)
    started = time.perf_counter()
    summary = demo_estate.generate_estate(out, days=days, seed=seed, per_day=per_day)
    typer.echo(
        f"demo: wrote {summary.invocations:,} invocations in {summary.files:,} files "
        f"to {summary.landing} in {time.perf_counter() - started:.1f}s"
    )
    settings = load_settings(summary.config_path)
    con = connect(settings.warehouse)
    for name, run in _configured_sources(settings):
        step = time.perf_counter()
        stats = run(con, settings)
        typer.echo(f"demo: {name}: {stats.summary()} in {time.perf_counter() - step:.1f}s")
    typer.echo(f"demo: ready in {time.perf_counter() - started:.1f}s: {settings.warehouse}")
    typer.echo(f"demo: to use the CLI on it: export GENAI_LENS_CONFIG={summary.config_path}")
    con.close()
    if serve_app:
        _serve(settings.warehouse, port, "localhost")


def _configured_sources(settings: Settings) -> list[tuple[str, Callable[..., RunStats]]]:
    """Every source with something configured, in the order their data depends on."""
    from ingest import cloudtrail, cost, invocation_logs, metrics

    inv = settings.invocation_logs
    found: list[tuple[str, Callable[..., RunStats]]] = []
    if inv.landing_zones or inv.log_groups:
        found.append(("invocation-logs", invocation_logs.run))
    if settings.cloudtrail.landing_zones or settings.cloudtrail.lookups:
        found.append(("cloudtrail", cloudtrail.run))
    if settings.metrics.landing_zones or settings.metrics.apis:
        found.append(("metrics", metrics.run))
    if settings.cost.landing_zones or settings.cost.apis:
        found.append(("cost", cost.run))
    return found


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to bind.")] = "localhost",
) -> None:
    """Serve the dashboard (Streamlit) on the warehouse."""
    _serve(state.settings().warehouse, port, address)


def _serve(warehouse: Path, port: int, address: str) -> None:
    from streamlit.web import bootstrap

    from genai_lens import PROJECT_ROOT, runtime

    runtime.open_warehouse(warehouse)
    # Streamlit reads .streamlit/config.toml from the working directory only; serve from
    # anywhere with the project's settings, the command line winning over them.
    shipped = tomllib.loads((PROJECT_ROOT / ".streamlit" / "config.toml").read_text())
    flags = {
        f"{section}.{key}": value
        for section, opts in shipped.items()
        for key, value in opts.items()
    }
    flags |= {"server.port": port, "server.address": address}
    typer.echo(f"serving http://{address}:{port} on {warehouse} (Ctrl-C stops)")
    bootstrap.load_config_options(flag_options=flags)
    bootstrap.run(str(PROJECT_ROOT / "app" / "main.py"), False, [], flags)


def main() -> None:
    try:
        app(standalone_mode=False)
    except LensError as exc:
        if state.debug:
            raise
        _echo(f"genai-lens: error: {exc}")
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        _echo("genai-lens: aborted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit codes
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if isinstance(exc, click.exceptions.Exit):
            sys.exit(exc.exit_code)
        raise
