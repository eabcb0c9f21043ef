from importlib.util import find_spec

import numpy as np
import pytensor.tensor as pt
import pytest
from scipy import integrate, special, stats

from bayescluster.model.families import LIKELIHOODS as FAMILIES

Y = np.array([0, 0, 1, 3, 7, 25, 140])
MU = np.array([0.3, 4.0, 1.2, 2.5, 9.0, 30.0, 60.0])
# each base's own parameter (the generalized Poisson's over-dispersed here; its
# under-dispersed draws: test_genpois_draws_follow_its_pmf_over_and_under_dispersed)
THETA = {"poisson": None, "negbin": 0.7, "nb1": 0.7, "genpois": 1.8, "pln": 0.6}
ALPHA = THETA["negbin"]
P_ZERO = 0.2


def _pln_pmf(y, mu, sigma):
    """The Poisson-lognormal pmf by scipy's adaptive quadrature over the log-rate factor."""
    def one(k, m):
        def integrand(e):
            return stats.poisson.pmf(k, m * np.exp(e)) * stats.norm.pdf(e, 0, sigma)
        centre = np.log((k + 0.5) / m)
        return integrate.quad(integrand, -12 * sigma + min(centre, 0),
                              12 * sigma + max(centre, 0), points=[centre], limit=200,
                              epsabs=0, epsrel=1e-12)[0]
    return np.array([one(k, m) for k, m in zip(*np.broadcast_arrays(y, mu), strict=True)])


def _genpois_logpmf(y, mu, phi):
    """glmmTMB's genpois: Consul's theta = mu / sqrt(phi), lambda = 1 - 1 / sqrt(phi)."""
    theta, lam = mu / np.sqrt(phi), 1 - 1 / np.sqrt(phi)
    return (np.log(theta) + (y - 1) * np.log(theta + lam * y) - special.gammaln(y + 1)
            - theta - lam * y)


def base_logpmf(base, y, mu, theta):
    """Independent references for each base distribution: scipy's pmfs and quadrature."""
    if base == "poisson":
        return stats.poisson.logpmf(y, mu)
    if base == "negbin":
        n = 1 / theta
        return stats.nbinom.logpmf(y, n, n / (n + mu))
    if base == "nb1":
        return stats.nbinom.logpmf(y, mu / theta, 1 / (1 + theta))
    if base == "genpois":
        return _genpois_logpmf(y, mu, theta)
    return np.log(_pln_pmf(y, mu, theta))


def scipy_logp(name, y, mu, theta, p_zero):
    """A family's log-pmf assembled by hand from its base's reference."""
    family = FAMILIES[name].family
    y, mu = np.broadcast_arrays(y, mu)
    base = base_logpmf(family.base.name, y, mu, theta)
    p0 = np.exp(base_logpmf(family.base.name, np.zeros_like(y), mu, theta))
    if family.zero.name == "none":
        return base
    if family.zero.name == "zi":
        return np.where(y == 0, np.log(p_zero + (1 - p_zero) * p0), np.log(1 - p_zero) + base)
    return np.where(y == 0, np.log(p_zero), np.log(1 - p_zero) + base - np.log(1 - p0))


def _args(name):
    family = FAMILIES[name]
    return THETA[family.family.base.name], P_ZERO if family.zero_part else None


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_logp_equals_scipy_at_fixed_points(name):
    family = FAMILIES[name]
    theta, p_zero = _args(name)
    zeta = special.logit(P_ZERO) if family.zero_part else None
    ours = family.logp(pt.as_tensor_variable(Y.astype(float)), pt.as_tensor_variable(np.log(MU)),
                       theta, zeta).eval()
    reference = scipy_logp(name, Y, MU, theta, p_zero)
    np.testing.assert_allclose(ours, reference, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(family.np_logp(Y, MU, theta, p_zero), reference, rtol=1e-9)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_pmf_sums_to_one(name):
    family = FAMILIES[name]
    theta, p_zero = _args(name)
    y = np.arange(0, 3000)
    total = np.exp(family.np_logp(y, 12.0, theta, p_zero)).sum()
    assert abs(total - 1) < 1e-8


@pytest.mark.parametrize("base", ["nb1", "genpois", "pln"])
def test_the_new_bases_moments_are_as_declared(base):
    """Mean and variance from the pmf itself: NB1 mu (1 + phi), GP mu phi (over- and
    under-dispersed), PLN E = mu exp(s^2/2), Var = E + E^2 (exp(s^2) - 1)."""
    family = FAMILIES[base]
    y = np.arange(0, 4000)
    for mu, theta, mean, var in {
        "nb1": [(6.0, 2.5, 6.0, 6.0 * 3.5)],
        "genpois": [(6.0, 2.5, 6.0, 15.0), (6.0, 0.6, 6.0, 3.6)],
        "pln": [(3.0, 0.8, 3 * np.exp(0.32), 3 * np.exp(0.32) + (3 * np.exp(0.32)) ** 2
                 * np.expm1(0.64))],
    }[base]:
        pmf = np.exp(family.np_logp(y, mu, theta))
        m = (y * pmf).sum() / pmf.sum()
        v = (y**2 * pmf).sum() / pmf.sum() - m**2
        tol = 0.02 if theta < 1 and base == "genpois" else 1e-6  # GP below 1: truncated
        assert m == pytest.approx(mean, rel=tol) and v == pytest.approx(var, rel=max(tol, 1e-5))
        assert family.mean(mu, theta) == pytest.approx(mean, rel=1e-12)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_sampler_mean_and_zero_share_match_formulas(name, sampler_seed, within):
    family = FAMILIES[name]
    theta, p_zero = _args(name)
    rng = np.random.default_rng(sampler_seed(0))
    mu = np.full(400_000, 3.0)
    draws = family.sample(rng, mu, theta, p_zero)
    # 400,000 draws: the mean's sd is about sqrt(3 + 0.7 x 9)/632 = 0.005 (0.03 is 6 of
    # them) and a share's at most sqrt(0.25/400,000) = 0.0008 (0.005 is 6 of them)
    assert within("mean", draws.mean() - family.mean(3.0, theta, p_zero), -0.03, 0.03)
    assert within("share > 0", (draws > 0).mean() - family.p_positive(3.0, theta, p_zero),
                  -0.005, 0.005)
    pmf = np.exp(family.np_logp(np.arange(4), 3.0, theta, p_zero))
    for k in range(4):
        assert within(f"share = {k}", (draws == k).mean() - pmf[k], -0.005, 0.005)


@pytest.mark.parametrize("theta", [0.5, 4.0])
def test_genpois_draws_follow_its_pmf_over_and_under_dispersed(theta, sampler_seed, within):
    """Branching-process draws (phi > 1) and inversion on the bounded support (phi < 1)
    against the pmf, renormalised where the support is truncated."""
    family = FAMILIES["genpois"]
    draws = family.sample(np.random.default_rng(sampler_seed(4)), np.full(200_000, 4.0),
                          theta)
    pmf = np.exp(family.np_logp(np.arange(60), 4.0, theta))
    pmf = pmf / pmf.sum()
    for k in range(8):
        assert within(f"share = {k}", (draws == k).mean() - pmf[k], -0.007, 0.007)


@pytest.mark.parametrize("name", [name for name in sorted(FAMILIES)
                                  if FAMILIES[name].family.zero.name == "hurdle"])
@pytest.mark.parametrize("mu", [0.02, 0.8, 6.0])
def test_hurdle_count_part_is_the_zero_truncated_base(name, mu, sampler_seed, within):
    """The positive draws' frequencies of 1, 2, 3 and 4+ against the base's truncated pmf
    (scipy's, or the reference's). At mu = 0.02 nearly every draw reaches the inversion
    after the redraws (P(0) near 1), at 0.8 some do, at 6 none. 200,000 draws: a
    frequency's SE is at most 0.0011, and 0.007 is 6 of them."""
    family = FAMILIES[name]
    theta = THETA[family.family.base.name]
    draws = family.sample(np.random.default_rng(sampler_seed(2)), np.full(200_000, mu), theta,
                          0.0)
    assert draws.min() >= 1
    pmf = np.exp(base_logpmf(family.family.base.name, np.arange(4), np.full(4, mu), theta))
    pmf = pmf[1:] / (1 - pmf[0])
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
                   np.atleast_1d(zeta).astype(float), CODES[FAMILIES[name].family.zero.name])


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
    fused = glm_logp(FAMILIES[name].family.zero.name, y, weight, X, row_cluster, zcols, base,
                     coef, group, alpha, zeta, offset)
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
