# Two entry points (see README): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
# Python 3.12: python3.12 on PATH, else pyenv's 3.12.1.
PYTHON312 := $(shell python3.12 --version >/dev/null 2>&1 && echo "python3.12" || echo "env PYENV_VERSION=3.12.1 python3")

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser demo beyond bench test test-fast clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,jax]"
	@# Pathfinder: pymc-extras 0.15.1 works with pymc 6.4 but pins pymc 6.3, so no deps.
	$(PY) -m pip install --quiet --no-deps "pymc-extras==0.15.1" "better-optimize>=0.4,<1"
	touch $@

setup: $(VENV)/.installed

# Headless Chromium for the report's browser test (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { $(SUDO) apt-get install -y -q chromium || \
	    { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }; }

demo: setup
	$(VENV)/bin/bayescluster demo --out reports/demo

# Self-selection and patent quality beside the default model: reports/beyond/
beyond: setup
	$(VENV)/bin/bayescluster demo --out reports/beyond --runs runs/beyond \
	  --compare negbin_hier selection_zinb claims_hier citations_hier

# Speed against bambi and (where R has brms) brms at N = 229, 2,290, 10,700: reports/benchmarks.md
bench: setup
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/bench.py

test: setup browser
	$(VENV)/bin/ruff check bayescluster tests benchmarks
	$(PY) -m pytest -q

# The inner loop: lint and every test that does not sample (under 3 minutes on 2 cores).
test-fast: setup
	$(VENV)/bin/ruff check bayescluster tests benchmarks
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache
