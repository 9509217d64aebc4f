"""Shared plumbing for genai-lens: settings, the warehouse connection, errors and the CLI."""

from pathlib import Path

__version__ = "0.1.0"

# The project root holds sql/ and the price catalog; the package is installed editable, so
# resolving from this file finds them both from a checkout and from the .venv.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = PROJECT_ROOT / "sql"
