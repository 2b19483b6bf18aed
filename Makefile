# Two commands do all set-up on a fresh machine with only Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: validator-903 run run-distributed test lint-imports install migrate seed bench-events bench-gateway bench-matching bench-referrals bench-assessment bench-billing bench-faults faults bench-outcomes asyncapi clean bench-dashboard chromium load wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/itp run

test: $(STAMP) chromium validator-903
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The DfE's SSDA903 validator (csc-validator-be-903, import name lac_validator) pins old pandas and numpy, so it
# lives in a venv of its own, never in the product's dependencies; tests run it as a subprocess (issue 12).
VENV_903 := .venv-903
STAMP_903 := $(VENV_903)/.installed
VALIDATOR_903 ?= csc-validator-be-903==0.1.17

$(STAMP_903):
	$(PYTHON) -m venv $(VENV_903)
	$(VENV_903)/bin/pip install --quiet '$(VALIDATOR_903)'
	touch $(STAMP_903)

validator-903: $(STAMP_903)

lint-imports: $(STAMP)
	$(BIN)/lint-imports

migrate: $(STAMP)
	$(BIN)/itp migrate

seed: $(STAMP)
	$(BIN)/itp seed demo

asyncapi: $(STAMP)
	$(BIN)/python -m libs.common.events.asyncapi > docs/asyncapi.json

bench-events: $(STAMP)
	$(BIN)/python bench/bench_events.py

bench-gateway: $(STAMP)
	$(BIN)/python bench/bench_gateway.py

bench-matching: $(STAMP)
	$(BIN)/python bench/bench_matching.py

bench-referrals: $(STAMP)
	$(BIN)/python bench/bench_referrals.py

bench-assessment: $(STAMP)
	$(BIN)/python bench/bench_assessment.py

bench-billing: $(STAMP)
	$(BIN)/python bench/bench_billing.py

bench-faults: $(STAMP)
	$(BIN)/python bench/bench_faults.py

# the fault tests alone (tests/faults/, Kafka and Postgres; part of `make test` as well): about 3 minutes
faults: $(STAMP)
	$(BIN)/python -m pytest -q tests/faults --durations=0 $(PYTEST_ARGS)

# the dashboard's browser tests drive Debian's chromium (never a browser download); installed when missing
chromium:
	@test -x /usr/bin/chromium || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

bench-dashboard: $(STAMP)
	$(BIN)/python bench/bench_dashboard.py

bench-outcomes: $(STAMP)
	$(BIN)/python bench/bench_outcomes.py

clean:
	rm -rf $(VENV) .itp-data

# The distributed system on this machine without Docker (itp/distributed.py): a fresh Postgres database
# (ITP_PG_ADMIN_URL, default postgres@127.0.0.1:5432), a Tansu broker, each service and relay its own process
# under honcho, the gateway on :8000, demo and blueprint data. Ctrl-C stops everything.
# e.g. make run-distributed RUN_DISTRIBUTED_ARGS="--port 8080 --database itp_mine"
run-distributed: $(STAMP)
	$(BIN)/itp run-distributed $(RUN_DISTRIBUTED_ARGS)

# `make load` (bench/load.py): starts the distributed deployment itself (itp run-distributed on a fresh database
# itp_load), then GETs a child's referral straight to the referral service and through the gateway at 8, 32 and
# 64 connections with wrk, and a mixed workload through the gateway; prints the command line and the figures.
# wrk comes from Debian's packages (installed when missing, as chromium is); without apt the bench falls back
# to its own aiohttp load generator. e.g. make load LOAD_ARGS="--duration 20 --gateway-workers 2"; --core-scaling
# also runs the first mix with the deployment and Postgres held to one core, to see whether CPU is the limit
wrk:
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk || \
	  { $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk; } || \
	  echo "wrk not installable here: bench/load.py measures with its own load generator"; }

load: $(STAMP) wrk
	$(BIN)/python bench/load.py $(LOAD_ARGS)
