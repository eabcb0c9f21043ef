"""The Examples of the front door's functions run as written (doctest): what ``help(bc.fit)``
shows a user works. They share one small fitted run (``run``) of a six-group table
(``table``), and a temporary folder (``tmp``)."""

import doctest

import numpy as np
import pandas as pd
import pytest

import bayescluster as bc

pytestmark = pytest.mark.sampling

WITH_EXAMPLES = [name for name in bc._FRONT if name != "Run"]  # every front-door function


def _table() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    g = rng.integers(0, 6, 120)
    x = rng.normal(size=120).round(3)
    y = rng.negative_binomial(5, 5 / (5 + np.exp(0.5 + 0.4 * x + rng.normal(0, 0.3, 6)[g])))
    return pd.DataFrame({"id": np.arange(120), "g": [f"g{k}" for k in g], "x": x, "y": y})


@pytest.fixture(scope="module")
def namespace(tmp_path_factory):
    table = _table()
    run = bc.fit("y ~ x + (1 | g)", table, family="negbin", id="id", seed=1, chains=2,
                 draws=300, tune=300, quiet=True)
    return {"bc": bc, "pd": pd, "np": np, "table": table, "run": run,
            "tmp": tmp_path_factory.mktemp("doctest")}


def test_the_front_door_documents_an_example_for_each_main_function():
    for name in WITH_EXAMPLES:
        doc = getattr(bc, name).__doc__
        assert "Examples\n    --------\n" in doc and ">>> " in doc, name


@pytest.mark.parametrize("name", WITH_EXAMPLES)
def test_each_example_runs_as_written(name, namespace):
    function = getattr(bc, name)
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = finder.find(function, name, globs=dict(namespace))
    assert tests and tests[0].examples, name
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} examples failed"
