# The two commands of README.md: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: run test contract crash race-soak bench clean-db

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.run-deps: requirements.txt | $(PY)
	@echo "[make] installing requirements into $(VENV)"
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.test-deps: requirements.txt requirements-test.txt clients/python/pyproject.toml | $(PY)
	@echo "[make] installing test requirements into $(VENV)"
	$(PY) -m pip install --quiet -r requirements-test.txt
	@touch $@ $(VENV)/.run-deps

## run: database (DATABASE_URL or embedded), migrations, demo merchant, web + worker + beat
run: $(VENV)/.run-deps
	$(PY) scripts/run.py

## test: the whole suite on PostgreSQL (DATABASE_URL, else 127.0.0.1:5432, else embedded)
test: $(VENV)/.test-deps
	# Rate limits are off for the suite (tests/cynco/test_rate_limits.py turns them on with its own Redis).
	CYNCO_PREFER_LOCAL_DB=1 RATE_LIMITS_ENABLED=false $(PY) -m pytest $(PYTEST_ARGS)

## contract: schemathesis against a live server, many examples per operation (docs/reliability.md)
contract: $(VENV)/.test-deps
	CYNCO_PREFER_LOCAL_DB=1 RATE_LIMITS_ENABLED=false CONTRACT_MAX_EXAMPLES=$${CONTRACT_MAX_EXAMPLES:-100} \
	  CONTRACT_TIMEOUT=$${CONTRACT_TIMEOUT:-3600} $(PY) -m pytest tests/contract -s -q

## crash: kill -9 at every phase boundary of a charge, CRASH_RUNS times each (docs/reliability.md)
crash: $(VENV)/.test-deps
	CYNCO_PREFER_LOCAL_DB=1 RATE_LIMITS_ENABLED=false CRASH_RUNS=$${CRASH_RUNS:-5} \
	  $(PY) -m pytest tests/cynco/test_crash_injection.py -q

## race-soak: each plan-change race of issue 12 RACE_RUNS times (default 50) with random delays
race-soak: $(VENV)/.test-deps
	RACE_RUNS=$${RACE_RUNS:-50} $(PY) bench/race_soak.py

## clean-db: delete the embedded database under var/ (it is recreated by the next run)
clean-db:
	rm -rf var/pgdata
