# The lab's two commands: `make lab` and `make test`. Everything they need is installed from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.labsqs-installed
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
PYTEST_ARGS ?=

.PHONY: lab test install engine down bench faults conformance lessons lessons-check lock lint clean

lab: install ## set up, start the SQS engine and JupyterLab (Ctrl-C stops both)
	$(VENV)/bin/labsqs lab

test: install ## set up, start the engine, run every test (package, integration, notebooks), stop the engine
	$(VENV)/bin/labsqs up
	set +e; $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; $(VENV)/bin/labsqs down; exit $$rc

install: $(STAMP)

# uv installs the locked environment (uv.lock: one universal lock for every Python >= 3.11 the lab promises)
# in seconds; it is bootstrapped from the package index into the venv with pip, then keeps itself (it is in
# the lock too, and the engine manager uses it for the engine's own environment).
$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "labsqs needs Python >= 3.11 for its own environment"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(PY) -m pip install --disable-pip-version-check --quiet uv==$(UV_VERSION)
	@echo "installing the lab's environment into $(VENV) with uv (once)"
	UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never UV_SYSTEM_CERTS=1 $(UV) sync --frozen --compile-bytecode --extra lab --extra load --extra dev --quiet
	touch $(STAMP)

engine: install ## start the engine only
	$(VENV)/bin/labsqs up

down:
	$(VENV)/bin/labsqs down

bench: install ## every benchmark (prints figures; needs the engine: `make engine`)
	$(VENV)/bin/labsqs up
	$(PY) benchmarks/engine.py --skip-cold
	$(PY) benchmarks/producer.py
	$(PY) benchmarks/consumer.py
	$(PY) benchmarks/cloudwatch.py
	$(PY) benchmarks/locust_harness.py

faults: install ## the full 10,000-message SIGKILL drill, standard and FIFO (docs/reliability.md)
	$(VENV)/bin/labsqs up
	$(PY) benchmarks/faults.py

conformance: install ## run the conformance checks on LocalStack and moto, regenerate docs/conformance.md
	$(VENV)/bin/labsqs conformance --write-docs

lessons: install ## rebuild every learner notebook (notebooks/NN-*.ipynb) from its source, notebooks/solutions/ (docs/exercises.md)
	$(PY) -m labsqs.lessons

lessons-check: install ## fail if a learner notebook is stale or an exercise has no check
	$(PY) -m labsqs.lessons --check

lint: install
	$(VENV)/bin/ruff check labsqs tests benchmarks loadtests
	$(VENV)/bin/mypy labsqs

lock: install ## re-resolve uv.lock after changing pyproject.toml's dependencies (every Python >= 3.11)
	UV_PYTHON_DOWNLOADS=never UV_SYSTEM_CERTS=1 $(UV) lock

clean:
	rm -rf $(VENV) .labsqs
