import warnings

import pytest

from bayescluster.simulate import simulate

warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")


@pytest.fixture(scope="session")
def firms():
    """The default synthetic table (same as data/firms.csv)."""
    return simulate(229, seed=292).data
