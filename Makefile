# Two commands do all set-up on a fresh machine:
#   make demo   — build the environment, run the demo on real sample data (writes out/demo/)
#   make test   — build the environment, run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test benchmark env clean

env: $(STAMP)

$(STAMP): Testing/requirements.txt MedSynthExtension/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r Testing/requirements.txt
	$(PY) -m pip install --quiet --no-deps -e MedSynthExtension
	touch $(STAMP)

demo: $(STAMP)
	PYTHONPATH=MedSynthModules/MedSynth $(PY) -m MedSynthLib.demo out/demo

test: $(STAMP)
	$(PY) -m pytest Testing

benchmark: $(STAMP)
	$(PY) Testing/benchmarks/bench_runtime.py

clean:
	rm -rf $(VENV) out
