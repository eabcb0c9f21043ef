# Two entry points (see README): `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
# Python 3.12: python3.12 on PATH, else pyenv's 3.12.1.
PYTHON312 := $(shell python3.12 --version >/dev/null 2>&1 && echo "python3.12" || echo "env PYENV_VERSION=3.12.1 python3")

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser mathjax docs brms demo beyond bench limit test test-fast tables clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON312) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,jax,docs]"
	touch $@

setup: $(VENV)/.installed

# Headless Chromium for the report's browser test (Debian's package).
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { $(SUDO) apt-get install -y -q chromium || \
	    { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }; }

demo: setup
	$(VENV)/bin/bayescluster demo --out reports/demo --force

# Self-selection and patent quality beside the default model: reports/beyond/
beyond: setup
	$(VENV)/bin/bayescluster demo --out reports/beyond --runs runs/beyond --force \
	  --compare negbin_hier selection_zinb claims_hier citations_hier

# Speed against brms and bambi: the suite of models (benchmarks/suite.py), then the firm
# model at N = 229, 2,290, 10,700 (benchmarks/bench.py): reports/benchmarks.md. bambi needs
# formulae 0.6 (bayescluster 0.9), so it gets its own environment (the suite runs it there;
# bench.py, which imports it, leaves it out); brms comes from Debian.
BAMBI_VENV := .venv-bambi
$(BAMBI_VENV)/.installed:
	$(PYTHON312) -m venv $(BAMBI_VENV)
	$(BAMBI_VENV)/bin/python -m pip install --quiet "bambi==0.21.0" "nutpie>=0.16,<0.17" h5netcdf h5py
	touch $@

# MathJax for the documentation's formulas, offline (Debian's package).
mathjax:
	@[ -f /usr/share/javascript/mathjax/MathJax.js ] || \
	  { $(SUDO) apt-get install -y -q libjs-mathjax || \
	    { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q libjs-mathjax; }; }

# The documentation site in docs/_build/html, offline, every notebook executed; a warning
# (a broken cross-reference included) fails it.
docs: setup mathjax
	rm -rf docs/_build/html docs/_build/jupyter_execute
	$(VENV)/bin/sphinx-build -b html -W --keep-going -n -q docs docs/_build/html

brms:
	@Rscript -e 'library(brms); library(glmmTMB)' >/dev/null 2>&1 || \
	  { $(SUDO) apt-get install -y -q r-cran-brms r-cran-glmmtmb || \
	    { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q r-cran-brms r-cran-glmmtmb; }; }

bench: setup brms $(BAMBI_VENV)/.installed
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) benchmarks/suite.py
	$(PY) benchmarks/bench.py --systems bayescluster brms

# Where the remaining factor lives (benchmarks/limit.py): reports/limit.md. Its approximate
# fits come from pymc-extras 0.15.1, which works with pymc 6.4 but pins pymc 6.3: no deps.
limit: setup brms
	$(PY) -m pip install --quiet --no-deps "pymc-extras==0.15.1" "better-optimize>=0.4,<1"
	$(PY) benchmarks/limit.py

# The tests run in two processes (pytest-xdist), each test file in one of them, so that a
# file's fitted runs are fitted once: most of a test's time is one core compiling.
PYTEST_WORKERS ?= 2
test: setup browser docs
	$(VENV)/bin/ruff check bayescluster tests benchmarks docs
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# The inner loop: lint and every test that does not sample (under 3 minutes on 2 cores).
test-fast: setup
	$(VENV)/bin/ruff check bayescluster tests benchmarks
	$(PY) -m pytest -q -m "not slow" -n $(PYTEST_WORKERS) --dist loadfile

clean:
	rm -rf $(VENV) $(BAMBI_VENV) .pytest_cache docs/_build docs/reference/generated

tables: setup  ## the families table (README.md, ARCHITECTURE.md, models/README.md), the spec keys
	$(PY) -c "from bayescluster.spec.families import write_tables; write_tables('.')"
	$(PY) -c "from bayescluster.spec.schema import write_reference; write_reference('.')"
