"""Cost Explorer requests for Bedrock spend: GetCostAndUsage pages and GetCostForecast.

Cost Explorer bills every request (USD 0.01), so `Requests` counts them for the run report.
Bedrock spend is found without a server-side filter: Marketplace models bill under their own
SERVICE ("<Model> (Amazon Bedrock Edition)"), so the SERVICE x USAGE_TYPE grouping is read
whole and classified locally; the tag groupings then filter to the services found.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from base.errors import SourceError
from ingest import aws

METRICS = ["UnblendedCost", "AmortizedCost", "NetUnblendedCost", "UsageQuantity"]
# botocore has no paginator for GetCostAndUsage; a bound stops a token that never ends.
MAX_PAGES = 500
ACTION = "ce:GetCostAndUsage and ce:GetCostForecast"


@dataclass
class Requests:
    count: int = 0


Row = dict[str, Any]


def _pages(ce: Any, request: dict[str, Any], requests: Requests) -> Iterator[dict[str, Any]]:
    token: str | None = None
    for _ in range(MAX_PAGES):
        kw = dict(request, NextPageToken=token) if token else request
        requests.count += 1
        page = ce.get_cost_and_usage(**kw)
        yield page
        token = page.get("NextPageToken")
        if not token:
            return
    raise SourceError(f"Cost Explorer returned more than {MAX_PAGES} pages; narrow the window")


def cost_and_usage(
    ce: Any, what: str, request: dict[str, Any], requests: Requests
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(result by time, group) for every group of every page, errors as one line."""
    for page in aws.pages(_pages(ce, request, requests), what, ACTION):
        for result in page.get("ResultsByTime", []):
            for group in result.get("Groups", []):
                yield result, group


def request(
    start: date, end: date, group_by: list[dict[str, str]], services: list[str] | None = None
) -> dict[str, Any]:
    req: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": METRICS,
        "GroupBy": group_by,
    }
    if services is not None:
        req["Filter"] = {"Dimensions": {"Key": "SERVICE", "Values": services}}
    return req


def row(result: dict[str, Any], group: dict[str, Any], label: str) -> Row:
    """One cost_rows row from a group; amounts stay decimal strings until SQL casts them."""
    m = group.get("Metrics", {})

    def amount(name: str) -> str | None:
        return m.get(name, {}).get("Amount")

    return {
        "usage_date": date.fromisoformat(result["TimePeriod"]["Start"]),
        "account_id": None,
        "product_code": None,
        "region": None,
        "unblended_cost": amount("UnblendedCost"),
        "amortized_cost": amount("AmortizedCost"),
        "net_unblended_cost": amount("NetUnblendedCost"),
        "usage_quantity": float(amount("UsageQuantity") or 0),
        "usage_unit": m.get("UsageQuantity", {}).get("Unit"),
        "estimated": bool(result.get("Estimated", False)),
        "source": "ce",
        "source_object": label,
    }


def forecast(
    ce: Any, start: date, end: date, services: list[str], requests: Requests, notes: list[str]
) -> list[Row]:
    """Monthly UNBLENDED_COST forecast of the Bedrock services for [start, end); [] with a note
    when Cost Explorer has too little history (DataUnavailableException) or refuses."""
    requests.count += 1
    try:
        resp = ce.get_cost_forecast(
            TimePeriod={"Start": start.isoformat(), "End": end.isoformat()},
            Metric="UNBLENDED_COST",
            Granularity="MONTHLY",
            Filter={"Dimensions": {"Key": "SERVICE", "Values": services}},
            PredictionIntervalLevel=80,
        )
    except ClientError as exc:
        if aws.error_code(exc) in {"DataUnavailableException", "ValidationException"}:
            notes.append(f"no forecast for {start}..{end}: {aws.error_code(exc)}")
            return []
        raise aws.access_error(exc, "Cost Explorer forecast", ACTION) from exc
    except BotoCoreError as exc:
        raise SourceError(f"Cost Explorer forecast: {exc}") from exc
    return [
        {
            "period_start": date.fromisoformat(r["TimePeriod"]["Start"]),
            "period_end": date.fromisoformat(r["TimePeriod"]["End"]),
            "granularity": "MONTHLY",
            "mean": r.get("MeanValue"),
            "lower": r.get("PredictionIntervalLowerBound"),
            "upper": r.get("PredictionIntervalUpperBound"),
            "metric": "UNBLENDED_COST",
        }
        for r in resp.get("ForecastResultsByTime", [])
    ]


def forecast_periods(today: date) -> list[tuple[date, date]]:
    """The rest of this month and the next full month ([start, end), start >= today)."""
    first_next = next_month(today.replace(day=1))
    return [(today, first_next), (first_next, next_month(first_next))]


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)
