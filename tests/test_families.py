import numpy as np
import pytensor.tensor as pt
import pytest
from scipy import special, stats

from bayescluster.families import FAMILIES

Y = np.array([0, 0, 1, 3, 7, 25, 140])
MU = np.array([0.3, 4.0, 1.2, 2.5, 9.0, 30.0, 60.0])
ALPHA = 0.7
P_ZERO = 0.2


def scipy_logp(name, y, mu, alpha, p_zero):
    """Independent reference: scipy's pmfs, assembled by hand."""
    if name == "poisson":
        return stats.poisson.logpmf(y, mu)
    n = 1 / alpha
    nb = stats.nbinom.logpmf(y, n, n / (n + mu))
    p0 = stats.nbinom.pmf(0, n, n / (n + mu))
    if name == "negbin":
        return nb
    if name == "zinb":
        return np.where(y == 0, np.log(p_zero + (1 - p_zero) * p0), np.log(1 - p_zero) + nb)
    return np.where(y == 0, np.log(p_zero), np.log(1 - p_zero) + nb - np.log(1 - p0))


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_logp_equals_scipy_at_fixed_points(name):
    family = FAMILIES[name]
    zeta = special.logit(P_ZERO)
    ours = family.logp(pt.as_tensor_variable(Y.astype(float)), pt.as_tensor_variable(np.log(MU)),
                       ALPHA, zeta).eval()
    np.testing.assert_allclose(ours, scipy_logp(name, Y, MU, ALPHA, P_ZERO), rtol=1e-9,
                               atol=1e-9)
    np.testing.assert_allclose(family.np_logp(Y, MU, ALPHA, P_ZERO),
                               scipy_logp(name, Y, MU, ALPHA, P_ZERO), rtol=1e-9)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_pmf_sums_to_one(name):
    family = FAMILIES[name]
    y = np.arange(0, 3000)
    total = np.exp(family.np_logp(y, 12.0, ALPHA, P_ZERO)).sum()
    assert abs(total - 1) < 1e-8


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_sampler_mean_and_zero_share_match_formulas(name):
    family = FAMILIES[name]
    rng = np.random.default_rng(0)
    mu = np.full(400_000, 3.0)
    draws = family.sample(rng, mu, ALPHA, P_ZERO)
    assert abs(draws.mean() - family.mean(3.0, ALPHA, P_ZERO)) < 0.03
    assert abs((draws > 0).mean() - family.p_positive(3.0, ALPHA, P_ZERO)) < 0.005
    pmf0 = np.exp(family.np_logp(np.array([0]), 3.0, ALPHA, P_ZERO))[0]
    assert abs((draws == 0).mean() - pmf0) < 0.005


def test_negbin_dispersion_is_var_mu_plus_alpha_mu_squared():
    draws = FAMILIES["negbin"].sample(np.random.default_rng(1), np.full(400_000, 5.0), 0.5)
    assert abs(draws.var() / (5.0 + 0.5 * 25.0) - 1) < 0.03


def test_p_zero_is_the_zero_probability_for_hurdle():
    pmf0 = np.exp(FAMILIES["hurdle_nb"].np_logp(np.array([0]), 50.0, ALPHA, 0.35))[0]
    assert abs(pmf0 - 0.35) < 1e-12
