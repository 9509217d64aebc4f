"""Budget and anomaly notifications, each sent once, recorded in the `alerts` table.

Channels: any apprise URL (Slack, Teams, e-mail, SNS and the many others apprise speaks) and
plain JSON webhooks. An alert's key says what it is about (budget, period, threshold and
whether actual or forecast spend crossed it; or the anomaly), so a re-run sends nothing
twice. A failing channel is retried a few times, recorded as failed and tried again next
run; it never stops the run or the other channels. A channel that hangs costs one attempt's
timeout (ATTEMPT_TIMEOUT_S) and is not tried again that run, and all delivery in a run stops
after DELIVERY_BUDGET_S: the rest is recorded as failed, to be sent next run.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from base import logs
from base.settings import Settings
from base.stats import RunStats
from warehouse import runs

log = logs.get("alerts")
SEVERITIES = ("low", "medium", "high", "critical")
RETRY_PAUSE_S = 0.5
# A channel that hangs must not hold the models run (and the scheduler's one worker) for
# minutes: each attempt gets ATTEMPT_TIMEOUT_S, all delivery in a run DELIVERY_BUDGET_S, and a
# channel that timed out is not tried again this run. What is left is recorded as failed and
# tried again next run.
ATTEMPT_TIMEOUT_S = 5.0
DELIVERY_BUDGET_S = 60.0


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # budget | anomaly
    subject: str
    body: str
    payload: dict[str, Any]


def budget_alerts(con: duckdb.DuckDBPyConnection, thresholds: list[float]) -> list[Alert]:
    """Per budget and month, one alert: the highest threshold actual or forecast spend has
    crossed, unless one as high was already sent that month.

    Three messages at once (50%, 80% and 100% of the same budget, same landing, same text) say
    nothing the highest does not; and a budget that has alerted at 100% does not alert again
    at 80% when its forecast eases. A higher threshold crossed later alerts again.
    """
    rows = con.execute(
        "SELECT series, period_start, actual_to_date, landing, budget, p_exceed "
        "FROM forecast_landing WHERE period_kind = 'month' AND budget IS NOT NULL"
    ).fetchall()
    out = []
    for series, start, actual, landing, budget, p in rows:
        crossed = [
            (t, basis)
            for t in sorted(thresholds)
            for basis, value in (("forecast", landing), ("actual", actual))
            if value >= budget * t / 100
        ]
        if not crossed:
            continue
        top = max(t for t, _ in crossed)
        if _highest_sent(con, series, start) >= top:
            continue
        basis = "actual" if (top, "actual") in crossed else "forecast"
        who = "all LOBs" if series == "total" else series.removeprefix("lob:")
        verb = "has reached" if basis == "actual" else "is forecast to reach"
        subject = f"Bedrock budget: {who} {verb} {top:g}% of ${budget:,.0f} in {start:%B %Y}"
        body = (
            f"{who}: spent ${actual:,.2f} so far; month-end landing ${landing:,.2f} "
            f"({landing / budget:.0%} of budget"
            + (f", {p:.0%} chance to exceed)" if p is not None else ")")
        )
        key = f"budget|{series}|{start:%Y-%m}|{top:g}"
        payload = {"series": series, "month": f"{start:%Y-%m}", "threshold_pct": top,
                   "basis": basis, "actual": actual, "landing": landing,
                   "budget": budget, "p_exceed": p}  # fmt: skip
        out.append(Alert(key, "budget", subject, body, payload))
    return out


def _highest_sent(con: duckdb.DuckDBPyConnection, series: str, start: datetime) -> float:
    """The highest threshold of this budget and month already delivered on some channel
    (keys `budget|<series>|<YYYY-MM>|<threshold>`, older ones with `|<basis>` after it)."""
    keys = con.execute(
        "SELECT DISTINCT alert_key FROM alerts WHERE kind = 'budget' AND status = 'sent' "
        "AND starts_with(alert_key, ?)",
        [f"budget|{series}|{start:%Y-%m}|"],
    ).fetchall()
    return max((float(k.split("|")[3]) for (k,) in keys), default=0.0)


def anomaly_alerts(
    con: duckdb.DuckDBPyConnection, min_severity: str, now: datetime, base_url: str | None = None
) -> list[Alert]:
    """Open anomalies at or above the severity, unless their series is muted; with a base URL,
    each links to its detail on the Anomalies page (`<base_url>/anomalies?anomaly=<id>`)."""
    wanted = list(SEVERITIES[SEVERITIES.index(min_severity) :])
    rows = con.execute(
        """SELECT a.anomaly_id, a.metric, a.lob, a.model, a.start_ts, a.expected, a.actual,
                a.severity, a.driver
        FROM anomalies a
        LEFT JOIN anomaly_mutes m ON m.series_key = a.series_key AND m.muted_until > $now
        WHERE a.status = 'open' AND a.severity = ANY($wanted) AND m.series_key IS NULL
        ORDER BY a.start_ts, a.anomaly_id""",  # ties in one order: a re-run reads the same
        {"now": now, "wanted": wanted},
    ).fetchall()
    from base import format as fmt  # pure: how the pages name a metric and show its values

    out = []
    for aid, metric, lob, model, start, expected, actual, severity, driver in rows:
        where = " / ".join(x for x in (lob, model) if x) or "all"
        name = fmt.metric_label(metric)
        subject = f"Bedrock anomaly ({severity}): {name} for {where} at {start:%Y-%m-%d %H:%M} UTC"
        shown = (fmt.metric_value(metric, v) for v in (actual, expected))
        body = "actual {} vs expected {}".format(*shown) + (
            f"; driven by {driver}" if driver else ""
        )
        link = anomaly_link(base_url, aid)
        body += f"\n{link}" if link else ""
        payload = {"anomaly_id": aid, "metric": metric, "lob": lob, "model": model,
                   "start": start.isoformat(), "expected": expected, "actual": actual,
                   "severity": severity, "driver": driver, "url": link}  # fmt: skip
        out.append(Alert(f"anomaly|{aid}", "anomaly", subject, body, payload))
    return out


def anomaly_link(base_url: str | None, anomaly_id: str) -> str | None:
    """The Anomalies page opened on one anomaly, or None without a configured base URL."""
    if not base_url:
        return None
    return f"{base_url.rstrip('/')}/anomalies?{urllib.parse.urlencode({'anomaly': anomaly_id})}"


def send_apprise(url: str, alert: Alert) -> None:
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError("apprise does not understand this URL; see apprise's URL list")
    for server in notifier:  # apprise's own default is 4 s to connect and 4 s per read
        server.socket_connect_timeout = server.socket_read_timeout = ATTEMPT_TIMEOUT_S
    if not notifier.notify(title=alert.subject, body=alert.body):
        raise RuntimeError("apprise reported the notification as not delivered")


def send_webhook(url: str, alert: Alert) -> None:
    body = json.dumps({"kind": alert.kind, "key": alert.key, "subject": alert.subject,
                       "text": alert.body, **alert.payload}, default=str).encode()  # fmt: skip
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=ATTEMPT_TIMEOUT_S) as resp:
        resp.read()


def channels(settings: Settings) -> list[tuple[str, str, Callable[[str, Alert], None]]]:
    """(label, url, sender). The label is what `alerts.channel` stores: no secrets in it."""
    out: list[tuple[str, str, Callable[[str, Alert], None]]] = []
    for url in settings.alerts.urls:
        out.append((f"apprise:{url.split('://', 1)[0]}#{_short(url)}", url, send_apprise))
    for url in settings.alerts.webhooks:
        out.append((f"webhook#{_short(url)}", url, send_webhook))
    return out


def _short(url: str) -> str:
    """A stable, secret-free id for a URL (apprise URLs carry tokens)."""
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()[:10]


def run(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    now: datetime,
    stats: RunStats,
    *,
    dry_run: bool = False,
    echo: Callable[[str], None] = print,
) -> int:
    """Send what is due on every channel; returns the number of alerts sent or printed."""
    due = budget_alerts(con, settings.budgets.thresholds)
    due += anomaly_alerts(con, settings.alerts.min_severity, now, settings.alerts.base_url)
    chans = channels(settings)
    if dry_run:
        for alert in due:
            echo(f"would alert [{alert.kind}] {alert.subject} — {alert.body}")
        return len(due)
    sent = 0
    deadline = time.monotonic() + DELIVERY_BUDGET_S
    hung: dict[str, str] = {}  # channel -> why it is not tried again this run
    for alert in due:
        for label, url, sender in chans:
            if _already_sent(con, alert.key, label):
                continue
            skip = hung.get(label)
            if skip is None and time.monotonic() >= deadline:
                skip = (f"not tried: this run's {DELIVERY_BUDGET_S:g} s for delivery ran out "
                        "on slow channels")  # fmt: skip
            if skip is not None:
                _record(con, alert, label, "failed", 0, skip, now)
                continue
            error = _deliver(con, alert, label, url, sender, settings.alerts.retries, now,
                             deadline)  # fmt: skip
            sent += error is None
            if error is not None and "timed out" in error:
                hung[label] = f"not tried: the channel timed out earlier in this run ({error})"
            if error is not None:
                stats.notes.append(f"alert channel {label} failed; it is retried next run")
    return sent


def _already_sent(con: duckdb.DuckDBPyConnection, key: str, channel: str) -> bool:
    row = con.execute(
        "SELECT status FROM alerts WHERE alert_key = ? AND channel = ?", [key, channel]
    ).fetchone()
    return row is not None and row[0] == "sent"


def _deliver(
    con: duckdb.DuckDBPyConnection,
    alert: Alert,
    label: str,
    url: str,
    sender: Callable[[str, Alert], None],
    retries: int,
    now: datetime,
    deadline: float,
) -> str | None:
    """Try, retry while the run's time allows; record the outcome. The error, or None."""
    error, attempts = None, 0
    for attempts in range(1, retries + 2):
        error = _attempt(sender, url, alert, min(ATTEMPT_TIMEOUT_S, deadline - time.monotonic()))
        pause = RETRY_PAUSE_S * attempts
        if error is None or "timed out" in error or time.monotonic() + pause >= deadline:
            break  # a hang is not retried: it would hang again, and hold every other alert
        time.sleep(pause)
    _record(con, alert, label, "sent" if error is None else "failed", attempts, error, now)
    return error


def _attempt(
    sender: Callable[[str, Alert], None], url: str, alert: Alert, timeout: float
) -> str | None:
    """One send in a thread we wait on for `timeout` at most: a library that ignores its own
    socket timeout (a DNS lookup, an SMTP server that stalls) cannot hold the run."""
    outcome: list[str | None] = []

    def send() -> None:
        try:
            sender(url, alert)
            outcome.append(None)
        except Exception as exc:  # any channel failure is reported, never raised
            why = runs.one_line(exc)
            outcome.append(f"timed out: {why}" if _is_timeout(exc) else why)

    started = time.monotonic()
    worker = threading.Thread(target=send, name="alert-send", daemon=True)
    worker.start()
    worker.join(max(timeout, 0.0))
    if not outcome:  # still waiting: left to finish or fail on its own, unheard
        return f"timed out after {max(timeout, 0.0):.1f} s"
    slow = time.monotonic() - started >= 0.9 * timeout  # apprise says only "not delivered"
    error = outcome[0]
    return f"timed out: {error}" if error and slow and "timed out" not in error else error


def _is_timeout(exc: BaseException) -> bool:
    """A socket timeout, however a library wrapped it (urllib puts it in `reason`)."""
    for _ in range(5):
        if isinstance(exc, TimeoutError) or "timed out" in str(exc).lower():
            return True
        inner = getattr(exc, "reason", None) or exc.__cause__ or exc.__context__
        if not isinstance(inner, BaseException):
            return False
        exc = inner
    return False


def _record(
    con: duckdb.DuckDBPyConnection,
    alert: Alert,
    label: str,
    status: str,
    attempts: int,
    error: str | None,
    now: datetime,
) -> None:
    con.execute(
        """INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (alert_key, channel) DO UPDATE SET status = excluded.status,
            attempts = alerts.attempts + excluded.attempts, last_error = excluded.last_error,
            sent_at = excluded.sent_at""",
        [alert.key, label, alert.kind, alert.subject, alert.body, status, attempts, error,
         now, now if error is None else None],
    )  # fmt: skip
    figures = {"alert": alert.key, "channel": label, "status": status, "error": error}
    log.log(20 if error is None else 30, f"alert {status}", extra={"figures": figures})
