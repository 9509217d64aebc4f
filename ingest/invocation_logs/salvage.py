"""Line-by-line reading of an object DuckDB could not read whole, to quarantine precisely.

Only objects that failed the fast path come here. Each good line is written to a scratch
NDJSON file with its line number added (`_line`), so the same SQL parses it; each bad line
or a corrupt gzip tail becomes a quarantine entry with its line number and reason.
"""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO


@dataclass
class Salvaged:
    path: Path
    good: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


def _lines(raw: IO[bytes]) -> Iterator[tuple[int, bytes | None, str | None]]:
    n = 0
    while True:
        try:
            line = raw.readline()
        except (EOFError, OSError, zlib.error) as exc:
            yield n + 1, None, f"gzip stream is truncated or corrupt after line {n} ({exc})"
            return
        if not line:
            return
        n += 1
        yield n, line, None


def salvage(source: Path, dest: Path) -> Salvaged:
    out = Salvaged(dest)
    opener = gzip.open if source.name.endswith(".gz") else open
    with opener(source, "rb") as raw, dest.open("w", encoding="utf-8") as sink:
        for n, line, failure in _lines(raw):  # type: ignore[arg-type]
            if failure:
                out.problems.append((n, failure))
                break
            assert line is not None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except UnicodeDecodeError:
                out.problems.append((n, "line is not UTF-8"))
                continue
            except json.JSONDecodeError as exc:
                out.problems.append((n, f"not JSON: {exc.msg} at column {exc.colno}"))
                continue
            if not isinstance(record, dict):
                out.problems.append((n, f"not a JSON object but a {type(record).__name__}"))
                continue
            record["_line"] = n
            sink.write(json.dumps(record, separators=(",", ":")) + "\n")
            out.good += 1
    return out
