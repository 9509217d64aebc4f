"""Opt-in prompt capture: the text of each invocation, redacted, for the drill-down.

Runs only when `capture_text = true`. The text is the string values a request or response
body keeps under its text keys (Converse `text`, Anthropic `content`, Titan `inputText`,
Llama `prompt` / `generation`, ...), joined with newlines, PII- and secret-redacted
(base/redaction.py) and cut at 32 KB. It is written inside the batch's transaction, so
text and invocation land (or roll back) together; a re-read replaces it.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from base.redaction import redact_many
from warehouse.db import insert_rows

TEXT_KEYS = {"text", "prompt", "inputText", "outputText", "completion", "generation",
             "content", "system", "inputs"}  # fmt: skip
LIMIT = 32 * 1024
PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")


def _strings(node: Any, key: str | None = None) -> Iterator[str]:
    if isinstance(node, str):
        if key in TEXT_KEYS and node.strip():
            yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v, key)


def texts(record: dict[str, Any]) -> tuple[str | None, str | None]:
    """(prompt, response) of one log record, before redaction; None when it holds none."""
    out = []
    for side, body in (("input", "inputBodyJson"), ("output", "outputBodyJson")):
        part = (record.get(side) or {}).get(body)
        joined = "\n".join(_strings(part))[:LIMIT]
        out.append(joined or None)
    return out[0], out[1]


def _records(path: Path) -> Iterator[dict[str, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        try:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue  # the ingester quarantines it; no text to keep
                if isinstance(rec, dict) and rec.get("requestId"):
                    yield rec
        except (EOFError, OSError, zlib.error):
            return  # a broken stream: the ingester quarantines the object with its reason


def capture(con: duckdb.DuckDBPyConnection, files: list[tuple[Path, str]]) -> int:
    """Store the redacted text of every record in `files` ((local path, source object))."""
    ids, stamps, prompts, responses, objects = [], [], [], [], []
    for path, source_object in files:
        for rec in _records(path):
            prompt, response = texts(rec)
            if prompt is None and response is None:
                continue
            ids.append(rec["requestId"])
            stamps.append(_ts(rec.get("timestamp")))
            prompts.append(prompt)
            responses.append(response)
            objects.append(source_object)
    if not ids:
        return 0
    clean_p, clean_r = redact_many(prompts), redact_many(responses)
    counts = [
        sum(len(PLACEHOLDER.findall(c or "")) - len(PLACEHOLDER.findall(o or ""))
            for c, o in ((cp, p), (cr, r)))
        for cp, p, cr, r in zip(clean_p, prompts, clean_r, responses, strict=True)
    ]  # fmt: skip
    con.execute("DELETE FROM invocation_text WHERE request_id = ANY(?)", [ids])
    keep = [i for i, t in enumerate(stamps) if t is not None]
    insert_rows(con, "invocation_text", {
        "request_id": [ids[i] for i in keep], "ts": [stamps[i] for i in keep],
        "prompt": [clean_p[i] for i in keep], "response": [clean_r[i] for i in keep],
        "redactions": [max(0, counts[i]) for i in keep],
        "source_object": [objects[i] for i in keep],
    })  # fmt: skip
    return len(keep)


def _ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None
