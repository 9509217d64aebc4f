"""Budget and anomaly notifications, each sent once, recorded in the `alerts` table.

Channels: any apprise URL (Slack, Teams, e-mail, SNS and the many others apprise speaks) and
plain JSON webhooks. An alert's key says what it is about (budget, period, threshold and
whether actual or forecast spend crossed it; or the anomaly), so a re-run sends nothing
twice. A failing channel is retried a few times, recorded as failed and tried again next
run; it never stops the run or the other channels.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from genai_lens import logs, runs
from genai_lens.settings import Settings
from ingest.bookkeeping import RunStats

log = logs.get("alerts")
SEVERITIES = ("low", "medium", "high", "critical")
RETRY_PAUSE_S = 0.5


@dataclass(frozen=True)
class Alert:
    key: str
    kind: str  # budget | anomaly
    subject: str
    body: str
    payload: dict[str, Any]


def budget_alerts(con: duckdb.DuckDBPyConnection, thresholds: list[float]) -> list[Alert]:
    """The thresholds this month's actual or forecast spend has crossed, per budget."""
    rows = con.execute(
        "SELECT series, period_start, actual_to_date, landing, budget, p_exceed "
        "FROM forecast_landing WHERE period_kind = 'month' AND budget IS NOT NULL"
    ).fetchall()
    out = []
    for series, start, actual, landing, budget, p in rows:
        who = "all LOBs" if series == "total" else series.removeprefix("lob:")
        for t in sorted(thresholds):
            for basis, value in (("actual", actual), ("forecast", landing)):
                if value < budget * t / 100:
                    continue
                verb = "has reached" if basis == "actual" else "is forecast to reach"
                subject = f"Bedrock budget: {who} {verb} {t:g}% of ${budget:,.0f} in {start:%B %Y}"
                body = (
                    f"{who}: spent ${actual:,.2f} so far; month-end landing ${landing:,.2f} "
                    f"({landing / budget:.0%} of budget"
                    + (f", {p:.0%} chance to exceed)" if p is not None else ")")
                )
                key = f"budget|{series}|{start:%Y-%m}|{t:g}|{basis}"
                payload = {"series": series, "month": f"{start:%Y-%m}", "threshold_pct": t,
                           "basis": basis, "actual": actual, "landing": landing,
                           "budget": budget, "p_exceed": p}  # fmt: skip
                out.append(Alert(key, "budget", subject, body, payload))
    return out


def anomaly_alerts(con: duckdb.DuckDBPyConnection, min_severity: str, now: datetime) -> list[Alert]:
    """Open anomalies at or above the severity, unless their series is muted."""
    wanted = list(SEVERITIES[SEVERITIES.index(min_severity) :])
    rows = con.execute(
        """SELECT a.anomaly_id, a.metric, a.lob, a.model, a.start_ts, a.expected, a.actual,
                a.severity, a.driver
        FROM anomalies a
        LEFT JOIN anomaly_mutes m ON m.series_key = a.series_key AND m.muted_until > $now
        WHERE a.status = 'open' AND a.severity = ANY($wanted) AND m.series_key IS NULL
        ORDER BY a.start_ts""",
        {"now": now, "wanted": wanted},
    ).fetchall()
    out = []
    for aid, metric, lob, model, start, expected, actual, severity, driver in rows:
        where = " / ".join(x for x in (lob, model) if x) or "all"
        subject = (
            f"Bedrock anomaly ({severity}): {metric} for {where} at {start:%Y-%m-%d %H:%M} UTC"
        )
        body = f"actual {actual:,.4g} vs expected {expected:,.4g}" + (
            f"; driven by {driver}" if driver else ""
        )
        payload = {"anomaly_id": aid, "metric": metric, "lob": lob, "model": model,
                   "start": start.isoformat(), "expected": expected, "actual": actual,
                   "severity": severity, "driver": driver}  # fmt: skip
        out.append(Alert(f"anomaly|{aid}", "anomaly", subject, body, payload))
    return out


def send_apprise(url: str, alert: Alert) -> None:
    import apprise

    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise ValueError("apprise does not understand this URL; see apprise's URL list")
    if not notifier.notify(title=alert.subject, body=alert.body):
        raise RuntimeError("apprise reported the notification as not delivered")


def send_webhook(url: str, alert: Alert) -> None:
    body = json.dumps({"kind": alert.kind, "key": alert.key, "subject": alert.subject,
                       "text": alert.body, **alert.payload}, default=str).encode()  # fmt: skip
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
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
    due += anomaly_alerts(con, settings.alerts.min_severity, now)
    chans = channels(settings)
    if dry_run:
        for alert in due:
            echo(f"would alert [{alert.kind}] {alert.subject} — {alert.body}")
        return len(due)
    sent = 0
    for alert in due:
        for label, url, sender in chans:
            if _already_sent(con, alert.key, label):
                continue
            ok = _deliver(con, alert, label, url, sender, settings.alerts.retries, now)
            sent += ok
            if not ok:
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
) -> bool:
    error, attempts = None, 0
    for attempts in range(1, retries + 2):
        try:
            sender(url, alert)
            error = None
            break
        except Exception as exc:  # any channel failure is reported, never raised
            error = runs.one_line(exc)
            time.sleep(RETRY_PAUSE_S * attempts)
    status = "sent" if error is None else "failed"
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
    return error is None
