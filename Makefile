# The two commands of README.md. Each creates .venv, installs the project, then runs.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
# One torch thread, passive OpenMP waits. The reproductions train small recurrent nets whose
# per-step ops are tiny: on this 2-core machine a second thread only adds wake-up latency
# (measured: tanh on 32x128 took 18 us with 1 thread, 168 us with 2; docs/DESIGN-NOTES.md).
export OMP_NUM_THREADS ?= 1
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: demo test install lint clean system-packages bench

# pyctcdecode, the anchor of `rnnai bench ctc`, pins numpy<2 in its metadata but runs on numpy 2
# (the bench's agreement rows and tests check it): installed without its pins into the
# environment, never a project dependency.
CTC_ANCHOR := pyctcdecode==0.5.0 pygtrie==2.6.2

$(VENV)/.installed: pyproject.toml
	@command -v espeak-ng >/dev/null && [ -d /usr/share/fonts/truetype/dejavu ] || \
	  $(MAKE) --no-print-directory system-packages
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,distributed]'
	$(PY) -m pip install -q --no-deps $(CTC_ANCHOR)
	touch $@

# Speech data (rnnai.data.speech) is synthesized by espeak-ng and text lines
# (rnnai.data.text_lines) are rendered with the DejaVu fonts: Debian packages.
SYSTEM_PACKAGES := espeak-ng fonts-dejavu-core fonts-dejavu-extra
system-packages:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null); \
	else echo "missing system packages: run 'sudo apt-get install $(SYSTEM_PACKAGES)'"; exit 1; fi

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/rnnai reproduce --scale quick --out results
	@echo "report: results/REPORT.md"

# Benchmarks against their anchors, in the same process.
bench: install
	$(VENV)/bin/rnnai bench --json results/bench.json --readme README.md

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check src tests

clean:
	rm -rf $(VENV) results .pytest_cache
