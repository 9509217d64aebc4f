# The two commands of the quick start: `make demo` and `make test`.
# Everything installs into .venv from uv.lock; uv itself is bootstrapped with pip if missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
UV := $(or $(shell command -v uv 2>/dev/null),.uv-bootstrap/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test install lint bench browser oidc-mock clean

demo: install
	$(VENV)/bin/genai-lens demo

test: install browser oidc-mock
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile --durations=15

install: $(VENV)/.installed

$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

.uv-bootstrap/bin/uv:
	$(PYTHON) -m venv .uv-bootstrap
	.uv-bootstrap/bin/pip install --quiet "uv==$(UV_VERSION)"

# Browser tests drive Debian's chromium (never a downloaded browser build). Installed here only
# as root; anyone else is told what to install, and the run stops (the browser test would fail
# on a missing browser anyway: it never skips).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "the browser tests need Debian's chromium: run 'sudo apt-get install -y chromium'" \
	         "(or 'make browser' as root), then make test again" >&2; \
	    exit 1; \
	  fi; }

# The sign-in test signs in through a real OpenID Connect provider (oidc-provider-mock), which
# needs Python >= 3.12: its own venv from pyenv's 3.12, rebuilt only when its pin list changes.
PYTHON312 ?= $(HOME)/.pyenv/versions/3.12.1/bin/python
OIDC_VENV := .venv-oidc

oidc-mock: $(OIDC_VENV)/.installed

$(OIDC_VENV)/.installed: tests/tools/oidc-provider-mock.txt
	rm -rf $(OIDC_VENV)
	$(PYTHON312) -m venv $(OIDC_VENV)
	$(OIDC_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps \
	  -r tests/tools/oidc-provider-mock.txt
	@touch $@

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(VENV)/bin/python bench/demo_estate.py
	$(VENV)/bin/python bench/ingest_invocations.py
	$(VENV)/bin/python bench/backfill_memory.py
	$(VENV)/bin/python bench/forecast.py
	$(VENV)/bin/python bench/pages.py

clean:
	rm -rf $(VENV) $(OIDC_VENV) .uv-bootstrap data .pytest_cache .ruff_cache
