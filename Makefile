# The lab's two commands: `make lab` and `make test`. Everything they need is installed from here.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.labsqs-installed
PYTEST_ARGS ?=

.PHONY: lab test install engine down bench faults conformance lock lint clean

lab: install ## set up, start the SQS engine and JupyterLab (Ctrl-C stops both)
	$(VENV)/bin/labsqs lab

test: install ## set up, start the engine, run every test (package, integration, notebooks), stop the engine
	$(VENV)/bin/labsqs up
	set +e; $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; $(VENV)/bin/labsqs down; exit $$rc

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "labsqs needs Python >= 3.11 for its own environment"'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the lab's environment into $(VENV) (once; log in $(VENV)/pip.log)"
	$(PY) -m pip install --disable-pip-version-check -c constraints.txt -e ".[lab,load,dev]" > $(VENV)/pip.log 2>&1 \
	  || { grep -v 'is ignored: it is neither' $(VENV)/pip.log | tail -40; exit 1; }
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
	$(PY) benchmarks/locust_harness.py

faults: install ## the full 10,000-message SIGKILL drill, standard and FIFO (docs/reliability.md)
	$(VENV)/bin/labsqs up
	$(PY) benchmarks/faults.py

conformance: install ## run the conformance checks on LocalStack and moto, regenerate docs/conformance.md
	$(VENV)/bin/labsqs conformance --write-docs

lint: install
	$(VENV)/bin/ruff check labsqs tests benchmarks loadtests
	$(VENV)/bin/mypy labsqs

lock: install ## re-pin constraints.txt from the current environment
	$(PY) -m pip freeze --exclude-editable | grep -v '^labsqs' > constraints.txt

clean:
	rm -rf $(VENV) .labsqs
