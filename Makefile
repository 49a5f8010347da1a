# Two commands do all set-up on a fresh machine:
#   make demo   — build the environment, run the demo on real sample data (writes out/demo/)
#   make test   — build the environment, run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test benchmark env clean dose-venv

env: $(STAMP)

$(STAMP): Testing/requirements.txt MedSynthExtension/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r Testing/requirements.txt
	$(PY) -m pip install --quiet --no-deps -e MedSynthExtension
	touch $(STAMP)

# Dose evaluation (pyRadPlan) needs numpy < 2.4: its own venv, run by `make test` on the dose tests.
DOSE_VENV := .venv-dose
DOSE_PY := $(DOSE_VENV)/bin/python
DOSE_STAMP := $(DOSE_VENV)/.installed

dose-venv: $(DOSE_STAMP)

$(DOSE_STAMP): Testing/requirements-dose.txt MedSynthExtension/pyproject.toml
	$(PYTHON) -m venv $(DOSE_VENV)
	$(DOSE_PY) -m pip install --quiet -r Testing/requirements-dose.txt
	$(DOSE_PY) -m pip install --quiet --no-deps pyRadPlan==0.5.0
	$(DOSE_PY) -m pip install --quiet --no-deps -e MedSynthExtension
	touch $(DOSE_STAMP)

demo: $(STAMP)
	PYTHONPATH=MedSynthModules/MedSynth $(PY) -m MedSynthLib.demo out/demo

test: $(STAMP) $(DOSE_STAMP)
	$(PY) -m pytest Testing
	$(DOSE_PY) -m pytest Testing/dose Testing/metrics/test_dose_metrics.py

benchmark: $(STAMP)
	$(PY) Testing/benchmarks/bench_runtime.py

clean:
	rm -rf $(VENV) $(DOSE_VENV) out
