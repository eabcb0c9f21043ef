from importlib.util import find_spec

import numpy as np
import pytensor.tensor as pt
import pytest
from scipy import special, stats

from bayescluster.model.families import LIKELIHOODS as FAMILIES

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
def test_sampler_mean_and_zero_share_match_formulas(name, sampler_seed, within):
    family = FAMILIES[name]
    rng = np.random.default_rng(sampler_seed(0))
    mu = np.full(400_000, 3.0)
    draws = family.sample(rng, mu, ALPHA, P_ZERO)
    # 400,000 draws: the mean's sd is about sqrt(3 + 0.7 x 9)/632 = 0.005 (0.03 is 6 of
    # them) and a share's at most sqrt(0.25/400,000) = 0.0008 (0.005 is 6 of them)
    assert within("mean", draws.mean() - family.mean(3.0, ALPHA, P_ZERO), -0.03, 0.03)
    assert within("share > 0", (draws > 0).mean() - family.p_positive(3.0, ALPHA, P_ZERO),
                  -0.005, 0.005)
    pmf0 = np.exp(family.np_logp(np.array([0]), 3.0, ALPHA, P_ZERO))[0]
    assert within("share = 0", (draws == 0).mean() - pmf0, -0.005, 0.005)


@pytest.mark.parametrize("mu", [0.02, 0.8, 6.0])
def test_hurdle_count_part_is_the_zero_truncated_nb(mu, sampler_seed, within):
    """The positive draws' frequencies of 1, 2, 3 and 4+ against the truncated pmf. At
    mu = 0.02 nearly every draw reaches the inversion after the redraws (P(0) = 0.986),
    at 0.8 some do, at 6 none. 200,000 draws: a frequency's SE is at most 0.0011, and 0.007
    is 6 of them."""
    family = FAMILIES["hurdle_nb"]
    draws = family.sample(np.random.default_rng(sampler_seed(2)), np.full(200_000, mu), ALPHA,
                          0.0)
    assert draws.min() >= 1
    n = 1 / ALPHA
    pmf = stats.nbinom.pmf([1, 2, 3], n, n / (n + mu)) / (1 - stats.nbinom.pmf(0, n,
                                                                                n / (n + mu)))
    shares = [(draws == k).mean() for k in (1, 2, 3)] + [(draws >= 4).mean()]
    for k, (share, p) in enumerate(zip(shares, [*pmf, 1 - pmf.sum()], strict=True)):
        assert within(f"share of {k + 1}{'+' if k == 3 else ''}", share - p, -0.007, 0.007)


def test_negbin_dispersion_is_var_mu_plus_alpha_mu_squared(sampler_seed, within):
    draws = FAMILIES["negbin"].sample(np.random.default_rng(sampler_seed(1)),
                                      np.full(400_000, 5.0), 0.5)
    # the sample variance's relative sd is sqrt((kurtosis - 1)/n): NB(mean 5, alpha 0.5) has
    # kurtosis 6.06, so 0.0036, and 0.03 is 8 of them
    assert within("var / (mu + alpha mu^2)", draws.var() / (5.0 + 0.5 * 25.0), 0.97, 1.03)


def test_p_zero_is_the_zero_probability_for_hurdle():
    pmf0 = np.exp(FAMILIES["hurdle_nb"].np_logp(np.array([0]), 50.0, ALPHA, 0.35))[0]
    assert abs(pmf0 - 0.35) < 1e-12


NB_FAMILIES = ["negbin", "zinb", "hurdle_nb"]


def _kernel_rows(name, y, eta, alpha, zeta):
    from bayescluster.model.kernel import CODES, nb_rows

    return nb_rows(y.astype(float), special.gammaln(y + 1.0), eta, np.asarray(alpha),
                   np.atleast_1d(zeta).astype(float), CODES[name])


@pytest.mark.parametrize("name", NB_FAMILIES)
@pytest.mark.parametrize("shared_zeta", [True, False])
def test_kernel_derivatives_match_scipy_finite_differences(name, shared_zeta):
    """d/d eta, d/d alpha, d/d zeta of the fused kernel against central differences of
    scipy's log-pmf, on counts inside and beyond the kernel's count table."""
    rng = np.random.default_rng(3)
    y = np.concatenate([Y, [0, 2, 4000, 60_000]])
    eta = np.concatenate([np.log(MU), [-6.0, 8.0, np.log(3000.0), np.log(50_000.0)]])
    zeta = np.array([-0.4]) if shared_zeta else rng.normal(-1.0, 1.0, y.size)
    alpha = 0.45
    out = _kernel_rows(name, y, eta, alpha, zeta)

    def ref(eta_, alpha_, zeta_):
        return scipy_logp(name, y, np.exp(eta_), alpha_, special.expit(zeta_))

    np.testing.assert_allclose(out[0], ref(eta, alpha, zeta), rtol=1e-9, atol=1e-9)
    h = 1e-4  # scipy's log-pmf at 60,000 is too rough for smaller steps
    numeric = [(ref(eta + h, alpha, zeta) - ref(eta - h, alpha, zeta)) / (2 * h),
               (ref(eta, alpha + h, zeta) - ref(eta, alpha - h, zeta)) / (2 * h),
               (ref(eta, alpha, zeta + h) - ref(eta, alpha, zeta - h)) / (2 * h)]
    for k, expected in enumerate(numeric, start=1):
        if name == "negbin" and k == 3:
            assert not out[3].any()
            continue
        np.testing.assert_allclose(out[k], expected, rtol=1e-5, atol=1e-5)


def test_digamma_matches_scipy():
    from bayescluster.model.kernel import digamma

    x = np.concatenate([np.geomspace(1e-6, 1e7, 400), [0.5, 1.0, 5.999, 6.0]])
    ours = np.array([digamma(v) for v in x])
    np.testing.assert_allclose(ours, special.digamma(x), rtol=1e-12, atol=1e-12)


def test_log1p_keeps_full_precision_from_tiny_to_minus_a_half():
    from bayescluster.model.kernel import _log1p

    rng = np.random.default_rng(1)
    x = np.concatenate([np.geomspace(1e-300, 1.0, 3000), -np.geomspace(1e-300, 0.5, 3000),
                        rng.uniform(-0.5, 1.0, 3000), [0.0, 1e-16, 2.2e-16, 1.1e-16]])
    ours = np.array([_log1p(v) for v in x])
    np.testing.assert_allclose(ours, np.log1p(x), rtol=4 * np.finfo(float).eps, atol=0)


@pytest.mark.parametrize("name", NB_FAMILIES)
def test_kernel_gradient_through_pytensor_on_numba_and_jax(name):
    """The op's gradient in a model graph (weights per row, a shared zero logit) is the
    same on both compiled backends and equals the weighted kernel derivatives."""
    pytest.importorskip("jax")
    import pytensor
    import pytensor.tensor as pt

    family = FAMILIES[name]
    y = np.concatenate([Y, [0, 4000]]).astype(float)
    weight = np.linspace(0.5, 1.5, y.size)
    eta, alpha, zeta = pt.dvector("eta"), pt.dscalar("alpha"), pt.dscalar("zeta")
    total = (family.logp(pt.as_tensor_variable(y), eta, alpha,
                         zeta if family.zero_part else None) * weight).sum()
    inputs = [eta, alpha] + ([zeta] if family.zero_part else [])
    point = [np.concatenate([np.log(MU), [0.3, np.log(2500.0)]]), np.array(0.6),
             np.array(-1.2)][: len(inputs)]
    results = [pytensor.function(inputs, [total, *pt.grad(total, inputs)], mode=mode)(*point)
               for mode in ("NUMBA", "JAX")]
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    rows = _kernel_rows(name, y, point[0], 0.6, -1.2)
    np.testing.assert_allclose(results[0][1], weight * rows[1], rtol=1e-12)
    np.testing.assert_allclose(results[0][2], (weight * rows[2]).sum(), rtol=1e-12)


@pytest.mark.slow  # numba and JAX compiles of the fused op (~30 s)
@pytest.mark.parametrize(("name", "shared"), [("negbin", True), ("zinb", True),
                                              ("zinb", False), ("hurdle_nb", False)])
def test_fused_regression_matches_the_row_kernel_on_every_backend(name, shared):
    """``glm_logp`` (linear predictor, likelihood and gradient in one pass) equals the sum
    of weighted ``row_logp`` over the linear predictor built from pytensor ops, and its
    gradient equals pytensor's gradient of that sum, in Python, numba and JAX."""
    import pytensor

    from bayescluster.model.kernel import glm_logp

    rng = np.random.default_rng(11)
    n_rows, n_cluster, zcols = 60, 5, (-1, 1)
    X = np.column_stack([rng.normal(size=n_rows), rng.integers(0, 2, n_rows),
                         rng.normal(size=n_rows)])
    row_cluster = rng.integers(0, n_cluster, n_rows)
    y = np.concatenate([[0, 0, 0, 4000], rng.negative_binomial(2, 0.3, n_rows - 4)])
    y = y.astype(float)
    weight = rng.uniform(0, 2, n_rows)
    offset = rng.normal(0, 0.3, n_rows)
    base = pt.dscalar("base") if shared else pt.dvector("base")
    coef, group = pt.dvector("coef"), pt.dmatrix("group")
    alpha = pt.dscalar("alpha")
    zeta = pt.dscalar("zeta") if shared else pt.dvector("zeta")
    fused = glm_logp(name, y, weight, X, row_cluster, zcols, base, coef, group, alpha, zeta,
                     offset)
    Z = pt.stack([np.ones(n_rows), X[:, 1]], axis=1)
    eta = base + offset + pt.dot(X, coef) + (group[row_cluster] * Z).sum(axis=1)
    rows = (FAMILIES[name].logp(pt.as_tensor_variable(y), eta, alpha, zeta) * weight).sum()
    inputs = [base, coef, group, alpha, zeta]
    point = [np.array(0.4) if shared else rng.normal(0.4, 0.2, n_rows),
             rng.normal(0, 0.3, 3), rng.normal(0, 0.4, (n_cluster, 2)), np.array(0.8),
             np.array(-0.7) if shared else rng.normal(-0.7, 0.5, n_rows)]
    gradient = pt.grad(rows, inputs, disconnected_inputs="ignore")  # negbin: no zeta
    expected = pytensor.function(inputs, [rows, *gradient], mode="NUMBA")(*point)
    modes = ["FAST_COMPILE", "NUMBA"] + (["JAX"] if find_spec("jax") else [])
    for mode in modes:
        got = pytensor.function(inputs, [fused, *pt.grad(fused, inputs)], mode=mode)(*point)
        for ours, theirs in zip(got, expected, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9, err_msg=mode)
