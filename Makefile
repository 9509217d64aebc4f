# The two commands of the quick start: `make demo` and `make test`; `make check` is the inner loop.
# Everything installs into .venv from uv.lock; uv itself is bootstrapped with pip if missing.
# `make demo` installs the product only; `make test`/`check` add the dev group (test tools).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
UV := $(or $(shell command -v uv 2>/dev/null),.uv-bootstrap/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
# The wheel test (tests/genai_lens/test_wheel.py) builds with the same uv.
export GENAI_LENS_UV := $(abspath $(UV))

.PHONY: demo test check install product bytecode lint bench browser focus-validator oidc-mock clean

# Python writes the bytecode of what the demo imports into .venv as it goes (a few seconds, once),
# even where PYTHONDONTWRITEBYTECODE is set, instead of the install compiling every package.
demo: product
	env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/genai-lens demo

# Everything: lint, import contracts, types and the whole suite (CI runs this).
test: install browser focus-validator oidc-mock bytecode
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder --durations=15

# The inner loop: lint, import contracts, types and the tests not marked slow (no end-to-end demo,
# browser, load or kill -9 runs).
check: install oidc-mock bytecode
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/python -m pytest -n 3 --dist loadfile --no-loadscope-reorder -m "not slow"

# The product and the dev group (pytest, moto, playwright, ruff, import-linter, mypy).
install: $(VENV)/.installed

# --compile-bytecode: every package is compiled once here. Where PYTHONDONTWRITEBYTECODE is set
# (as on the development machine) nothing writes a .pyc on import, so each process (a CLI run,
# a server, a test worker) compiled streamlit, pandas, polars, boto3... again: 4.8 s to import
# them, 1.9 s compiled. 17 s more install, once.
$(VENV)/.installed: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $@ $(VENV)/.product

# The project's own modules, compiled before a test run for the same reason: the suite starts a
# few hundred processes (CLI runs, servers, reader pools), each importing them (a CLI call
# 0.59 s -> 0.47 s). compileall skips what is up to date.
bytecode: install
	$(VENV)/bin/python -m compileall -q -j 2 base warehouse ingest models demo jobs app genai_lens

# The product only. --inexact leaves a dev install's test tools in place. No --compile-bytecode:
# it compiled all 7,955 modules (13 s of a fresh `make demo`); the demo compiles the few hundred
# it imports on first use instead (see the demo target).
product: $(VENV)/.product

$(VENV)/.product: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)
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

# The FinOps Foundation's FOCUS validator needs Python >= 3.12 (ours is 3.11+), so it gets a side
# venv the FOCUS export test runs (tests/app/test_focus_validator.py). Release 2.2.1 pins numpy<2,
# whose wheels need pyarrow<21. Re-running is a no-op once the stamp exists.
FOCUS_VENV := .venv-focus
focus-validator: $(FOCUS_VENV)/.installed

$(FOCUS_VENV)/.installed:
	$(PYTHON312) -m venv $(FOCUS_VENV)
	$(FOCUS_VENV)/bin/pip install --quiet "focus-validator==2.2.1" "pyarrow<21"
	@touch $@

lint: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(VENV)/bin/python bench/demo_estate.py
	$(VENV)/bin/python bench/ingest_invocations.py
	$(VENV)/bin/python bench/backfill_memory.py
	$(VENV)/bin/python bench/forecast.py
	$(VENV)/bin/python bench/anomaly.py
	$(VENV)/bin/python bench/forecast_seeds.py
	$(VENV)/bin/python bench/pages.py

clean:
	rm -rf $(VENV) $(OIDC_VENV) $(FOCUS_VENV) .uv-bootstrap data .pytest_cache .ruff_cache
