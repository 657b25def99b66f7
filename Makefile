# The two commands of README.md. Each creates .venv, installs the project, then runs.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
# One torch thread, passive OpenMP waits. The reproductions train small recurrent nets whose
# per-step ops are tiny: on this 2-core machine a second thread only adds wake-up latency
# (measured: tanh on 32x128 took 18 us with 1 thread, 168 us with 2; docs/DESIGN-NOTES.md).
export OMP_NUM_THREADS ?= 1
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: demo test install lint typecheck docs doctest clean system-packages bench lock

# pyctcdecode, the anchor of `rnnai bench ctc`, pins numpy<2 in its metadata but runs on numpy 2
# (the bench's agreement rows and tests check it): installed without its pins into the
# environment, never a project dependency.
CTC_ANCHOR := pyctcdecode==0.5.0 pygtrie==2.6.2

# constraints.txt is the exact, tested set of every package the venv holds (pyproject.toml only
# declares compatible ranges); `make lock` regenerates it from a venv that `make install` built.
CONSTRAINTS := constraints.txt

$(VENV)/.installed: pyproject.toml $(CONSTRAINTS)
	@command -v espeak-ng >/dev/null && [ -d /usr/share/fonts/truetype/dejavu ] || \
	  $(MAKE) --no-print-directory system-packages
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c $(CONSTRAINTS) -e '.[dev,docs,distributed]'
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

# CI runs this: lint, types, the API reference (warnings are errors), then the test suite.
test: lint typecheck docs
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check src tests

typecheck: install
	$(VENV)/bin/mypy

# The API reference, generated from the docstrings into site/ (mkdocs.yml). Never --quiet:
# it silences the warnings that --strict turns into a failure.
docs: install
	$(VENV)/bin/mkdocs build --strict --site-dir site

# Regenerate the lock from the current venv (the CTC anchor is installed apart, --no-deps).
lock: install
	{ echo "# Exact versions tested (make install uses them: pip install -c $(CONSTRAINTS))."; \
	  echo "# Regenerate with 'make lock' after changing pyproject.toml. torch: the CPU build"; \
	  echo "# (2.13.0+cpu) is what was tested; the public version below matches it too."; \
	  $(PY) -m pip freeze --all --exclude-editable | grep -viE '^(pip|wheel|pyctcdecode|pygtrie)==' \
	  | sed -E 's/^(torch==[^+]*)\+cpu$$/\1/'; } > $(CONSTRAINTS)

clean:
	rm -rf $(VENV) results site .pytest_cache .mypy_cache
