"""A run file seals its draws, spec and verdict; a modified run is refused unless asked."""

import os

import netCDF4
import numpy as np
import pytest

from bayescluster.cli import main
from bayescluster.core.errors import RunError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.inference.fit import fit
from bayescluster.inference.run import RUN_FILE, load
from bayescluster.spec import load_spec
from bayescluster.study.firms import load as load_firms

pytestmark = pytest.mark.sampling


@pytest.fixture
def saved(tmp_path):
    spec = load_spec("paper_m1")
    run = fit(spec, load_firms(DEFAULT_DATA, spec.roles), chains=2, draws=60, tune=60,
              seed=2, quiet=True)
    run.save(tmp_path / "run")
    return tmp_path / "run"


def test_an_untouched_run_loads_and_keeps_the_users_umask(saved):
    assert load(saved).tree.attrs["content_sha256"]
    mask = os.umask(0)
    os.umask(mask)
    assert (saved / RUN_FILE).stat().st_mode & 0o777 == 0o666 & ~mask


def test_overwritten_draws_are_refused_unless_asked(saved, capsys):
    with netCDF4.Dataset(saved / RUN_FILE, "r+") as handle:
        values = handle["posterior"]["intercept"]
        values[0, :3] = np.array([1e6, -1e6, 1e6])
    with pytest.raises(RunError, match="modified after it was written.*--no-verify"):
        load(saved)
    assert load(saved, verify=False).posterior["intercept"].values[0, 0] == 1e6
    assert main(["diagnose", str(saved)]) == 2
    assert "modified after it was written" in capsys.readouterr().err
    assert main(["diagnose", str(saved), "--no-verify"]) in (0, 3)


def test_a_swapped_spec_is_refused(saved):
    with netCDF4.Dataset(saved / RUN_FILE, "r+") as handle:
        handle.setncattr("bayescluster_spec",
                         handle.getncattr("bayescluster_spec").replace("paper_m1", "other"))
    with pytest.raises(RunError, match="modified after it was written"):
        load(saved)
