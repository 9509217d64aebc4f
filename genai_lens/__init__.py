"""The top floor of genai-lens: the command line (`genai-lens`, genai_lens.cli:main)."""

from pathlib import Path

__version__ = "0.1.0"

# The project root holds app/main.py and .streamlit/ for `serve`; the package is installed
# editable, so resolving from this file finds them from a checkout and from the .venv.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
