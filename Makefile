# normviz: two commands, `make run` and `make test`. Both create .venv if it is
# missing and install the pinned requirements (a stamp file makes the second time quick).
#
#   make run                 serve the app on http://localhost:8501
#   make test                the whole suite, browser tests included (needs Chromium)
#   make bench               every bench/*.py, printing ratios
#   make chromium            Debian's Chromium and nginx for the browser and proxy tests (root, apt-get)
#   make docker              build the image (needs a Docker engine)
#
# On a machine where `torch==2.13.0` from PyPI would pull the multi-GB CUDA build, add
# PyTorch's CPU-only wheel index:  make run TORCH_INDEX=https://download.pytorch.org/whl/cpu

PYTHON ?= python3
VENV ?= .venv
PORT ?= 8501
# localhost only; `make run ADDRESS=0.0.0.0` serves the whole network (e.g. a classroom).
ADDRESS ?= localhost
TORCH_INDEX ?=
IMAGE ?= normviz

PY := $(VENV)/bin/python
PIP_EXTRA := $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX),)
PIP_INSTALL := $(PY) -m pip install --disable-pip-version-check --quiet $(PIP_EXTRA) -c constraints.txt

.PHONY: run test bench chromium docker install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Stamps record that the pinned set is installed; editing a requirements file
# re-runs pip (a no-op for what is already there).
$(VENV)/.stamp-run: requirements.txt constraints.txt | $(PY)
	$(PIP_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-run requirements-dev.txt
	$(PIP_INSTALL) -r requirements-dev.txt
	touch $@

install: $(VENV)/.stamp-run
install-dev: $(VENV)/.stamp-dev

run: $(VENV)/.stamp-run
	$(PY) -m streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS)

# The second pass re-runs the tests that recompute training with ATen's portable kernels, so a
# result that depends on this CPU's kernels fails here, not only on someone else's machine.
test: $(VENV)/.stamp-dev
	$(PY) -m pytest
	ATEN_CPU_CAPABILITY=default $(PY) -m pytest -m recompute

bench: $(VENV)/.stamp-dev
	@rc=0; for f in bench/*.py; do \
		echo "== $$f"; $(PY) $$f || { echo "!! $$f failed"; rc=1; }; \
	done; exit $$rc

chromium:
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium nginx

docker:
	docker build $(if $(TORCH_INDEX),--build-arg TORCH_INDEX=$(TORCH_INDEX),) -t $(IMAGE) .

clean:
	rm -rf $(VENV) artifacts .pytest_cache .hypothesis
