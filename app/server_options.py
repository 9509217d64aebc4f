"""The Streamlit options `genai-lens serve` runs with: the project's .streamlit/config.toml,
then what only the command line knows (address, port, secrets), then what production needs
whatever a config file says.

- `client.showErrorDetails = "none"`: a reader never sees a traceback or a server path (the
  log keeps them);
- `browser.serverAddress`: the name readers use (redirect_uri's host, else the bound address):
  without it a wildcard bind makes Streamlit ask checkip.amazonaws.com for the host's external
  address, and nothing may leave the network unasked;
- `logger.enableRich = false`: an app error is a log record, not a 91-line coloured box.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

WILDCARDS = ("0.0.0.0", "::", "")
PRODUCTION = {
    "client.showErrorDetails": "none",
    "logger.enableRich": False,
    "server.headless": True,
    "browser.gatherUsageStats": False,
}


def public_host(auth: Mapping[str, Any] | None, address: str) -> str:
    """The host name readers reach the app by."""
    found = urlsplit(str((auth or {}).get("redirect_uri") or "")).hostname
    if found:
        return found
    return "localhost" if address in WILDCARDS else address


def streamlit_flags(
    config_toml: Path,
    *,
    address: str,
    port: int,
    secrets_files: list[Path],
    auth: Mapping[str, Any] | None,
) -> dict[str, Any]:
    shipped = tomllib.loads(config_toml.read_text())
    flags = {f"{section}.{key}": value for section, opts in shipped.items()
             for key, value in opts.items()}  # fmt: skip
    flags |= {
        "server.port": port,
        "server.address": address,
        "secrets.files": [str(p) for p in secrets_files],
        "browser.serverAddress": public_host(auth, address),
    }
    return flags | PRODUCTION
