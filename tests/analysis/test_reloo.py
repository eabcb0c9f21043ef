"""Exact LOO refits against PSIS-LOO where PSIS is reliable."""

from copy import deepcopy

import numpy as np
import pytest
import xarray as xr
from arviz_stats import ess
from scipy.special import logsumexp

from bayescluster.analysis.checks import loo
from bayescluster.analysis.reloo import exact_loo
from bayescluster.inference.fit import fit
from bayescluster.spec import load_spec
from bayescluster.study.firms import validate
from bayescluster.study.simulate import simulate

pytestmark = pytest.mark.sampling


def _log_mean_se(ll: np.ndarray, weights: np.ndarray) -> float:
    """Delta-method SE of log sum_s w_s exp(ll_s) over (chain, draw) draws with normalised
    weights w, the draws' autocorrelation entering through the ESS of exp(ll)."""
    p = np.exp(ll - ll.max())
    mean = (weights * p).sum()
    n_eff = float(ess(xr.DataArray(p, dims=("chain", "draw"))))
    return float(np.sqrt(p.size * (weights**2 * (p - mean) ** 2).sum() / n_eff) / mean)


def test_exact_refits_agree_with_psis_where_psis_is_reliable(sampler_seed, within):
    """For firms whose Pareto k is below 0.5 PSIS-LOO is reliable, so refitting two of them
    exactly (marked for refits by a copy of the PSIS result) must give the same elpd_i
    within the Monte Carlo error of both estimates; every other firm keeps its PSIS value."""
    spec = load_spec("negbin_hier")
    data = validate(simulate(300, seed=4).data, spec.roles)
    run = fit(spec, data, chains=2, draws=1000, tune=600, seed=sampler_seed(3), quiet=True)
    psis = loo(run)
    k = np.asarray(psis.pareto_k.values)
    chosen = np.flatnonzero((k > 0.3) & (k < 0.5))[:2]
    assert len(chosen) == 2
    marked = deepcopy(psis)
    marked.pareto_k.values[:] = 0.0
    marked.pareto_k.values[chosen] = 1.0
    exact = exact_loo(run, psis=marked, seed=sampler_seed(11), progress=lambda _: None)
    assert exact.flagged == exact.refitted == 2 and exact.reliable
    ll = run.tree["log_likelihood"][run.outcome]
    for order, firm in enumerate(chosen):
        log_w = psis.log_weights.isel(firm=firm).transpose("chain", "draw").values
        weights = np.exp(log_w - logsumexp(log_w))
        se_psis = _log_mean_se(ll.isel(firm=firm).transpose("chain", "draw").values, weights)
        se_exact = se_psis  # equal weights and as many draws: at most about PSIS's SE
        gap = float(exact.elpd.elpd_i.values[firm] - psis.elpd_i.values[firm])
        # two independent estimates of one elpd_i: 4 SE of their difference
        tolerance = 4 * np.hypot(se_psis, se_exact)
        assert within(f"exact - PSIS, chosen firm {order + 1}", gap, -tolerance, tolerance)
    others = np.setdiff1d(np.arange(len(k)), chosen)
    np.testing.assert_array_equal(exact.elpd.elpd_i.values[others], psis.elpd_i.values[others])


def test_too_many_flagged_firms_keep_psis_and_say_so(sampler_seed):
    spec = load_spec("negbin_hier")
    data = validate(simulate(300, seed=4).data, spec.roles)
    run = fit(spec, data, chains=1, draws=100, tune=100, seed=sampler_seed(3), quiet=True)
    result = exact_loo(run, limit=2, threshold=-np.inf, progress=lambda _: None)
    assert result.flagged == 300 and result.refitted == 0 and not result.reliable
    assert float(result.elpd.elpd) == pytest.approx(float(loo(run).elpd))
