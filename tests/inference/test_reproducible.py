"""Same seed, data and spec: the same draws in any process, compiled fresh or from the cache."""

import os
import subprocess
import sys

import numpy as np
import pytest

from bayescluster.inference.run import load

pytestmark = pytest.mark.sampling

CLOCKS = {"perf_counter_start", "perf_counter_diff", "process_time_diff"}  # PyMC's timings


def _fit(out, caches, spec, sampler):
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={caches / 'pytensor'}",
               NUMBA_CACHE_DIR=str(caches / "numba"))
    done = subprocess.run(
        [sys.executable, "-m", "bayescluster.cli", "fit", "--spec", spec, "--out", str(out),
         "--chains", "2", "--draws", "60", "--tune", "60", "--seed", "5", "--sampler",
         sampler, "--quiet"],
        env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 3), done.stderr
    return load(out).tree


@pytest.mark.parametrize(("spec", "sampler"), [("zinb_hier", "nutpie"),
                                               ("negbin_hier", "pymc")])
def test_a_cold_and_a_cached_compile_give_the_same_draws(tmp_path, spec, sampler):
    """nutpie compiles in this process; PyMC once more in each chain's process."""
    caches = tmp_path / "caches"  # empty: the first fit compiles everything afresh
    cold = _fit(tmp_path / "cold", caches, spec, sampler)
    assert any((caches / "pytensor").rglob("*.nbi")), "the first fit left no compile cache"
    warm = _fit(tmp_path / "warm", caches, spec, sampler)
    for group in ("posterior", "sample_stats", "posterior_predictive", "log_likelihood"):
        for name in set(cold[group].data_vars) - CLOCKS:
            np.testing.assert_array_equal(cold[group][name].values, warm[group][name].values,
                                          err_msg=f"{group}/{name}")
