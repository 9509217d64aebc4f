"""A small threaded HTTP reverse proxy in front of moto that fails requests on a schedule.

Each distinct request (method, path and query, Range, body) is numbered when first seen; the
n-th one meets `plan[n % len(plan)]` on its first `repeat` attempts, then goes through. The
retry of a failed attempt is the same request, so every request succeeds within `repeat + 1`
attempts whatever the threads interleave, and the number of faults is set by the number of
distinct requests. Faults are answered by the proxy, never forwarded: moto sees each request
once, as AWS would after a throttled attempt.

Faults, in the shape of the protocol the client spoke:
- "throttle": S3 (REST-XML) 503 SlowDown; JSON services (CloudWatch Logs, Cost Explorer,
  CloudTrail, and CloudWatch itself, which the installed botocore calls in JSON 1.0 with the
  query-compatible `x-amzn-query-error: Throttling;Sender`) 429 ThrottlingException; query
  services (STS, or CloudWatch from older botocore) 429 Throttling in query XML; Smithy RPC v2
  CBOR (CloudWatch, when botocore picks it) 429 ThrottlingException.
- "unavailable": HTTP 503 ServiceUnavailable in the same shapes.
- "reset": the connection is closed with a TCP RST before any response byte.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import socket
import struct
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULTS = ("throttle", "unavailable", "reset")
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection", "content-length"}  # fmt: skip
# (status, code, message) per protocol and fault
SHAPES = {
    "s3": {"throttle": (503, "SlowDown", "Please reduce your request rate."),
           "unavailable": (503, "ServiceUnavailable", "Service is unable to handle request.")},
    "json": {"throttle": (429, "ThrottlingException", "Rate exceeded"),
             "unavailable": (503, "ServiceUnavailableException", "Service unavailable")},
    "query": {"throttle": (429, "Throttling", "Rate exceeded"),
              "unavailable": (503, "ServiceUnavailable", "Service unavailable")},
    "cbor": {"throttle": (429, "ThrottlingException", "Rate exceeded"),
             "unavailable": (503, "ServiceUnavailableException", "Service unavailable")},
}  # fmt: skip
# awsQueryCompatible services (CloudWatch) send their query-protocol code in a header.
QUERY_CODES = {"ThrottlingException": "Throttling;Sender",
               "ServiceUnavailableException": "ServiceUnavailable;Receiver"}  # fmt: skip
QUERY_COMPATIBLE = ("GraniteServiceVersion20100801.",)  # CloudWatch's X-Amz-Target prefix


def protocol_of(headers: Any, body: bytes) -> str:
    """Which AWS protocol a botocore request speaks, from its headers."""
    if headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "cbor"
    if headers.get("X-Amz-Target"):
        return "json"
    if "x-www-form-urlencoded" in (headers.get("Content-Type") or "") and b"Action=" in body:
        return "query"
    return "s3"


def _cbor_text(s: str) -> bytes:
    raw = s.encode()
    head = bytes([0x60 | len(raw)]) if len(raw) < 24 else bytes([0x78, len(raw)])
    return head + raw


def cbor_map(items: dict[str, str]) -> bytes:
    """A CBOR map of short text keys and values (all a CBOR error body needs)."""
    assert len(items) < 24 and all(len(k) < 256 and len(v) < 256 for k, v in items.items())
    return bytes([0xA0 | len(items)]) + b"".join(
        _cbor_text(k) + _cbor_text(v) for k, v in items.items()
    )


def error_response(
    protocol: str, fault: str, request: Any = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of a `fault` answer to a request (its headers) in `protocol`."""
    request = request or {}
    status, code, message = SHAPES[protocol][fault]
    rid = hashlib.sha256(f"{protocol}{fault}".encode()).hexdigest()[:32]
    if protocol == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{rid[:16]}</RequestId><HostId>{rid}</HostId></Error>"
        ).encode()
        return status, {"Content-Type": "application/xml", "x-amz-request-id": rid[:16]}, body
    if protocol == "json":
        body = f'{{"__type":"{code}","message":"{message}"}}'.encode()
        ctype = request.get("Content-Type") or "application/x-amz-json-1.1"
        headers = {"Content-Type": ctype, "x-amzn-ErrorType": code, "x-amzn-RequestId": rid}
        if (request.get("X-Amz-Target") or "").startswith(QUERY_COMPATIBLE):
            headers["x-amzn-query-error"] = QUERY_CODES[code]
        return status, headers, body
    if protocol == "query":
        body = (
            "<ErrorResponse>"
            f"<Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>"
            f"<RequestId>{rid}</RequestId></ErrorResponse>"
        ).encode()
        return status, {"Content-Type": "text/xml", "x-amzn-RequestId": rid}, body
    headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor",
               "x-amzn-RequestId": rid, "x-amzn-query-error": QUERY_CODES[code]}  # fmt: skip
    return status, headers, cbor_map({"__type": code, "message": message})


class FaultProxy:
    """Reverse proxy to `upstream` (http://host:port); `url` is what clients point at."""

    def __init__(self, upstream: str, plan: Sequence[str], repeat: int = 1) -> None:
        assert all(p in (*FAULTS, "ok") for p in plan) and repeat >= 0
        self.upstream = urlsplit(upstream)
        self.plan, self.repeat = tuple(plan), repeat
        self.injected: Counter[str] = Counter()  # fault kind -> attempts failed
        self.by_protocol: Counter[str] = Counter()  # protocol -> attempts failed
        self.forwarded = 0
        self._attempts: dict[str, list[int]] = {}  # request key -> [index, attempts]
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def faults(self) -> int:
        return sum(self.injected.values())

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def decide(self, key: str) -> str:
        """The fault (or "ok") for this attempt of the request `key`."""
        with self._lock:
            index, attempts = self._attempts.setdefault(key, [len(self._attempts), 0])
            self._attempts[key][1] += 1
        fault = self.plan[index % len(self.plan)]
        return fault if attempts < self.repeat else "ok"

    def count(self, fault: str, protocol: str) -> None:
        with self._lock:
            if fault == "ok":
                self.forwarded += 1
            else:
                self.injected[fault] += 1
                self.by_protocol[protocol] += 1

    def forward(self, method: str, path: str, headers: Any, body: bytes
                ) -> tuple[int, str, list[tuple[str, str]], bytes]:  # fmt: skip
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        try:
            sent = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP}
            conn.request(method, path, body=body if body else None, headers=sent)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.reason, resp.getheaders(), data
        finally:
            conn.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as botocore's pool expects

            def log_message(self, *_: Any) -> None:  # quiet
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    out = b""
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        out += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    return out
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _handle(self) -> None:
                body = self._body()
                key = "\n".join((self.command, self.path, self.headers.get("Range", ""),
                                 hashlib.sha256(body).hexdigest()))  # fmt: skip
                fault = proxy.decide(key)
                protocol = protocol_of(self.headers, body)
                proxy.count(fault, protocol)
                if fault == "reset":
                    self._reset()
                elif fault != "ok":
                    self._reply(*error_response(protocol, fault, self.headers), close=True)
                else:
                    status, reason, headers, data = proxy.forward(
                        self.command, self.path, self.headers, body
                    )
                    kept = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP}
                    if self.command == "HEAD":  # no body: pass the object's length on
                        length = [v for k, v in headers if k.lower() == "content-length"]
                        kept["Content-Length"] = length[0] if length else "0"
                    self._reply(status, kept, data, reason=reason, forwarded=True)

            def _reply(self, status: int, headers: dict[str, str], body: bytes, *,
                       close: bool = False, reason: str | None = None,
                       forwarded: bool = False) -> None:  # fmt: skip
                if forwarded:  # moto's own Date and Server headers come along
                    self.log_request(status)
                    self.send_response_only(status, reason)
                else:
                    self.send_response(status, reason)
                for k, v in ({"Content-Length": str(len(body))} | headers).items():
                    self.send_header(k, v)
                if close:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _reset(self) -> None:
                """Close with RST (SO_LINGER 0): the client reads a connection reset."""
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.connection.close()
                self.close_connection = True
                self.wfile = io.BytesIO()  # what the handler flushes after us goes nowhere

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        return Handler


@contextmanager
def fault_proxy(upstream: str, plan: Sequence[str], repeat: int = 1) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream, plan, repeat).start()
    try:
        yield proxy
    finally:
        proxy.stop()
