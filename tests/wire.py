"""Answers at botocore's HTTP layer, after its retry handler, for operations moto lacks.

moto serves neither CloudTrail LookupEvents nor Cost Explorer GetCostForecast, and botocore's
Stubber answers in `before-call`, before any HTTP attempt, so its retries never run. `Wire`
hooks `before-send` instead, which botocore emits for every attempt: it throttles the first
attempts of an operation with tests/faultproxy.py's 429 ThrottlingException, answers queued
responses (validated against botocore's output shape, as Stubber validates them, then written
to the wire by moto's own JSON serializer) and lets anything else through to the endpoint.
botocore parses each answer as if it came off a socket, so the retry decision is its own.
"""

from __future__ import annotations

import io
from collections import Counter, defaultdict, deque
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters
from faultproxy import error_response
from moto.core.serialize import get_serializer_class
from moto.core.utils import get_service_model
from urllib3 import HTTPResponse


class Wire:
    """Attempts of one client: `attempts` lists (operation, status) of each; status 0 means
    the attempt went on to the endpoint."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.attempts: list[tuple[str, int]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []  # API calls with their parameters
        self._throttles: Counter[str] = Counter()
        self._answers: defaultdict[str, deque[dict[str, Any]]] = defaultdict(deque)
        service = client.meta.service_model
        self._moto_model = get_service_model(service.service_name)
        events = client.meta.events
        # botocore keeps one handler per unique_id across all events: two ids, not one.
        events.register("before-parameter-build", self._record_call, unique_id=f"wc{id(self)}")
        events.register("before-send", self._send, unique_id=f"ws{id(self)}")

    def throttle(self, operation: str, times: int = 1) -> Wire:
        self._throttles[operation] += times
        return self

    def answer(self, operation: str, response: dict[str, Any]) -> Wire:
        shape = self.client.meta.service_model.operation_model(operation).output_shape
        validate_parameters(response, shape)
        self._answers[operation].append(response)
        return self

    def sent(self, operation: str) -> list[int]:
        return [status for op, status in self.attempts if op == operation]

    def pending(self) -> dict[str, int]:
        left = {op: len(q) for op, q in self._answers.items() if q}
        return left | {op: n for op, n in self._throttles.items() if n}

    def _record_call(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, dict(params)))

    def _send(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[1]
        if self._throttles[operation]:
            self._throttles[operation] -= 1
            sent = {
                k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
            }
            status, headers, body = error_response("json", "throttle", sent)
        elif self._answers[operation]:
            out = get_serializer_class(self._moto_model.service_name, "json")(
                self._moto_model.operation_model(operation)
            ).serialize(self._answers[operation].popleft())
            status, headers = out["status_code"], dict(out["headers"])
            body = out["body"].encode() if isinstance(out["body"], str) else out["body"]
        else:
            self.attempts.append((operation, 0))
            return None
        self.attempts.append((operation, status))
        raw = HTTPResponse(body=io.BytesIO(body), headers=headers, status=status,
                           preload_content=False)  # fmt: skip
        return AWSResponse(request.url, status, headers, raw)
