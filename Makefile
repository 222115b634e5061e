# Propusk — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
NODE_STAMP := tests/e2e/node/node_modules/.installed
SYSTEM_PACKAGES := libengine-gost-openssl wrk chromium fonts-dejavu-core ffmpeg
PYTEST_WORKERS ?= 2
DEMO_FLAGS ?=

.PHONY: run test test-fast lint bench fuzz system-deps node-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip
	$(PIP) install -q -e '.[dev]'
	# face_recognition without its dlib source build: dlib comes from the dlib-bin wheel.
	$(PIP) install -q --no-deps 'face-recognition==1.3.0'
	touch $(STAMP)

# Debian packages the tests and benches use: OpenSSL's GOST engine (interop tests),
# wrk (benchmarks), Chromium (browser tests), ffmpeg (the fake camera clips of the browser
# tests) and the DejaVu fonts of the signed consent PDFs
# (also needed in production: PROPUSK_PDF_FONT_DIR). Installed only when missing.
system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# The browser tests' node tools (tests/e2e/node): openid-client (the relying party) and
# axe-core (accessibility checks of every page, tests/e2e/pagecheck.py), as locked.
$(NODE_STAMP): tests/e2e/node/package.json tests/e2e/node/package-lock.json
	cd tests/e2e/node && npm install --no-audit --no-fund --silent
	touch $(NODE_STAMP)

node-deps: $(NODE_STAMP)

run: $(STAMP)
	mkdir -p var
	$(VENV)/bin/propusk demo $(DEMO_FLAGS)

test: $(STAMP) system-deps $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup --durations=30

test-fast: $(STAMP)
	$(PY) -m pytest -x -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP) system-deps
	bash bench/run.sh

# Schemathesis, long: every operation of /openapi.json as each main role (README.md, make fuzz).
FUZZ_EXAMPLES ?= 50
FUZZ_REFUSED ?= 3
fuzz: $(STAMP)
	PROPUSK_FUZZ_LONG=1 PROPUSK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) PROPUSK_FUZZ_REFUSED=$(FUZZ_REFUSED) \
	  $(PY) -m pytest -p no:cacheprovider -q -s tests/security/test_fuzz_api.py

clean:
	rm -rf $(VENV) var tests/e2e/node/node_modules
