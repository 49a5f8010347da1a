# Two commands do all set-up on a fresh machine:
#   make demo   — build the environment, run the demo on real sample data (writes out/demo/)
#   make test   — build the environment, run the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.demo-installed
# torch 2.13.0 comes from PyTorch's CPU wheel index (PyPI's default torch wheel bundles CUDA).
TORCH_INDEX := --extra-index-url https://download.pytorch.org/whl/cpu

.PHONY: demo test benchmark env clean

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

demo: $(DEMO_STAMP)
	PYTHONPATH=MedSynthModules/MedSynth $(PY) -m MedSynthLib.demo out/demo

test: $(STAMP)
	$(PY) -m pytest Testing

benchmark: $(STAMP)
	$(PY) Testing/benchmarks/bench_runtime.py

clean:
	rm -rf $(VENV) out
