import warnings

import pytest

from bayescluster.simulate import simulate

warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")


@pytest.fixture(scope="session")
def firms():
    """The default synthetic table (same as data/firms.csv)."""
    return simulate(229, seed=292).data


@pytest.fixture(scope="session")
def default_run():
    """The default model on the shipped data with default settings (4 x 2000)."""
    from bayescluster.data import load
    from bayescluster.fit import fit
    from bayescluster.paths import DEFAULT_DATA
    from bayescluster.spec import load_spec

    spec = load_spec("zinb_hier")
    return fit(spec, load(DEFAULT_DATA, spec.roles), quiet=True)


@pytest.fixture(scope="session")
def sim_2000():
    return simulate(2000, seed=12)


@pytest.fixture(scope="session")
def run_2000(sim_2000):
    """The default hierarchical ZINB on 2,000 simulated firms (seed 12), short chains."""
    from bayescluster.data import validate
    from bayescluster.fit import fit
    from bayescluster.spec import load_spec

    return fit(load_spec("zinb_hier"), validate(sim_2000.data), chains=4, draws=500,
               tune=500, seed=3, quiet=True)
