# The two commands of README.md. Each creates .venv, installs the project, then runs.
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
# Two threads, passive OpenMP waits: on a shared 2-core machine busy-waiting threads
# slow torch by orders of magnitude (see DESIGN.md, performance notes).
export OMP_NUM_THREADS ?= 2
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: demo test install lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(VENV)/bin/rnnai reproduce --out results

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check src tests

clean:
	rm -rf $(VENV) results .pytest_cache
