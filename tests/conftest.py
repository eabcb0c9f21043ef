import warnings

import pytest

from bayescluster.study.simulate import simulate

warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")


def pytest_collection_modifyitems(items):
    """Real MCMC (``sampling``) belongs to the slow tier: ``make test-fast`` skips both."""
    for item in items:
        if item.get_closest_marker("sampling"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def firms():
    """The default synthetic table (same as data/firms.csv)."""
    return simulate(229, seed=292).data


@pytest.fixture(scope="session")
def default_run():
    """The default model on the shipped data with default settings (4 x 2000)."""
    from bayescluster.core.resources import DEFAULT_DATA
    from bayescluster.inference.fit import fit
    from bayescluster.spec import load_spec
    from bayescluster.study.firms import load

    spec = load_spec("zinb_hier")
    return fit(spec, load(DEFAULT_DATA, spec.roles), quiet=True)


@pytest.fixture(scope="session")
def sim_2000():
    return simulate(2000, seed=12)


@pytest.fixture(scope="session")
def run_2000(sim_2000):
    """The default hierarchical ZINB on 2,000 simulated firms (seed 12), short chains."""
    from bayescluster.inference.fit import fit
    from bayescluster.spec import load_spec
    from bayescluster.study.firms import validate

    return fit(load_spec("zinb_hier"), validate(sim_2000.data), chains=4, draws=500,
               tune=500, seed=3, quiet=True)
