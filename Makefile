# Two commands do all set-up on a fresh machine:
#   make demo   — build the environment, run the demo on real sample data (writes out/demo/)
#   make test   — build the environment, run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed
# torch 2.13.0: a machine with the CPU wheel on disk (pip's find-links) needs nothing more; elsewhere pass
#   make test TORCH_INDEX="--extra-index-url https://download.pytorch.org/whl/cpu"
# to take the CPU build (PyPI's default torch wheel bundles CUDA, several GB).
TORCH_INDEX ?=

.PHONY: demo test benchmark env clean dose-venv dossier

env: $(STAMP)

$(STAMP): Testing/requirements.txt MedSynthExtension/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH_INDEX) -r Testing/requirements.txt
	$(PY) -m pip install --quiet --no-deps -e MedSynthExtension
	touch $(STAMP)

# The demo installs only its run-time needs (Testing/requirements-demo.txt); a full test env also serves.
$(DEMO_STAMP): Testing/requirements-demo.txt MedSynthExtension/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test -f $(STAMP) || $(PY) -m pip install --quiet -r Testing/requirements-demo.txt
	$(PY) -m pip install --quiet --no-deps -e MedSynthExtension
	touch $@

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

demo: $(DEMO_STAMP)
	PYTHONPATH=MedSynthModules/MedSynth $(PY) -m MedSynthLib.demo out/demo

test: $(STAMP) $(DOSE_STAMP)
	$(PY) -m pytest Testing
	$(DOSE_PY) -m pytest Testing/dose Testing/metrics/test_dose_metrics.py
	$(MAKE) dossier

# Validation dossier of the built-in synthetic-CT model on the cohort that travels with the repository
# (Testing/data/dossier_cohort); exit 1 (a criterion failed) still leaves a dossier, 2 is an error.
dossier: $(DOSE_STAMP)
	$(DOSE_PY) -m medsynth evaluate dossier synthct-head --cohort Testing/data/dossier_cohort \
		--out out/dossier/synthct-head.html --grid-mm 4; test $$? -le 1

benchmark: $(STAMP)
	$(PY) Testing/benchmarks/bench_runtime.py

clean:
	rm -rf $(VENV) $(DOSE_VENV) out
