"""Run files sized for real tables: the per-draw, per-row arrays stored as float32 and the
smallest integer type, compressed, at most a quarter of their float64 size, with the same
summaries and a checksum that holds across a save."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayescluster as bc
from bayescluster.analysis.checks import loo, ppc_statistics
from bayescluster.inference.run import PER_ROW, stored_counts

pytestmark = pytest.mark.sampling


def test_a_run_of_thousands_of_rows_is_a_quarter_of_its_float64_size(tmp_path):
    rng = np.random.default_rng(2)
    n = 3000
    frame = pd.DataFrame({"x": rng.normal(size=n), "kind": rng.choice(["a", "b", "c"], n)})
    frame["y"] = rng.negative_binomial(2, 2 / (2 + np.exp(0.3 + 0.4 * frame["x"])))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        run = bc.fit("y ~ x + kind", frame, family="zinb", chains=4, draws=500, tune=300,
                     seed=4, quiet=True)
    assert run.tree["log_likelihood"]["y"].dtype == np.float32
    assert run.tree["posterior_predictive"]["y"].dtype in (np.uint8, np.uint16)
    run.save(tmp_path / "run")
    saved = os.path.getsize(tmp_path / "run" / "run.nc")
    wide = run.tree.copy()
    for group in PER_ROW:
        if group in wide.children:
            ds = wide[group].to_dataset()
            wide[group] = xr.DataTree(ds.astype({v: np.float64 if v == "y" and group ==
                                                 "log_likelihood" else np.int64
                                                 for v in ds.data_vars}))
    wide.to_netcdf(tmp_path / "wide.nc", engine="netcdf4")
    assert saved <= 0.25 * os.path.getsize(tmp_path / "wide.nc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        loaded = bc.load_run(tmp_path / "run")  # the checksum holds: what was sealed is kept
    pd.testing.assert_frame_equal(bc.parameters(loaded), bc.parameters(run))
    pd.testing.assert_frame_equal(ppc_statistics(loaded), ppc_statistics(run))
    assert round(float(loo(loaded).elpd), 2) == round(float(loo(run).elpd), 2)


def test_counts_keep_every_value_in_the_smallest_type():
    for top, dtype in ((255, np.uint8), (256, np.uint16), (70_000, np.uint32)):
        stored = stored_counts(np.array([0, 3, top]))
        assert stored.dtype == dtype and stored.tolist() == [0, 3, top]
