"""Power-scaling sensitivity: the stored log prior against scipy, the power-scaled posterior
against quadrature, a prior far from the truth flagged, the shipped data's findings not."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.special import gammaln

import bayescluster as bc
from bayescluster.analysis.sensitivity import BOTH, PRIOR_TAIL, THRESHOLD
from bayescluster.cli import main

pytestmark = pytest.mark.sampling

N01 = {"dist": "normal", "mu": 0.0, "sigma": 1.0}


def _table(n=60, seed=3, slope=0.4, groups=6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.integers(0, groups, n)
    shift = rng.normal(0, 0.3, groups)[g]
    y = rng.poisson(np.exp(0.5 + slope * x + shift))
    return pd.DataFrame({"id": np.arange(n), "g": [f"g{k}" for k in g], "x": x.round(4),
                         "y": y})


def _fit(formula, table, family, priors, **settings):
    options = {"chains": 2, "draws": 300, "tune": 300, "seed": 4, "quiet": True} | settings
    return bc.fit(formula, table, family=family, id="id", priors=priors, **options)


@pytest.mark.parametrize("grouped", [False, True], ids=["single", "grouped"])
def test_the_stored_log_prior_is_the_spec_priors_density_at_every_draw(grouped):
    """scipy's densities of the spec's priors at the draws, on the parameters' own scale
    (the intercept's prior is on the intercept at the continuous covariates' means, as
    brms's ``Intercept``); the group effects' normal given their SD is not part of it."""
    priors = {"intercept": {"dist": "normal", "mu": 0.3, "sigma": 2.0},
              "coef": {"dist": "normal", "mu": 0.0, "sigma": 0.5},
              "dispersion": {"dist": "halfnormal", "sigma": 1.0},
              "sd_cluster": {"dist": "gamma", "alpha": 2.0, "beta": 5.0}}
    formula = "y ~ x" + (" + (1 | g)" if grouped else "")
    table = _table()
    run = _fit(formula, table, "negbin", priors)
    post = run.posterior
    at_means = post["intercept"].values + table["x"].mean() * post["beta"].values[..., 0]
    expected = (stats.norm(0.3, 2.0).logpdf(at_means)
                + stats.norm(0, 0.5).logpdf(post["beta"].values).sum(-1)
                + stats.halfnorm(scale=1.0).logpdf(post["dispersion"].values))
    if grouped:
        expected = expected + stats.gamma(2.0, scale=1 / 5.0).logpdf(
            post["sd_cluster"].values).sum(-1)
    stored = run.tree["log_prior"].to_dataset()["lprior"].values
    np.testing.assert_allclose(stored, expected, rtol=1e-6)


def test_reweighted_draws_match_the_power_scaled_posterior_by_quadrature():
    """The importance weights psense reads (prior or likelihood to the power alpha, from
    the run's stored log prior and log-likelihood) give the posterior that quadrature
    gives for the model with its prior or likelihood raised to alpha."""
    from arviz_stats.base import array_stats

    table = _table(n=40, seed=11, groups=1)
    priors = {"intercept": {"dist": "normal", "mu": 0.0, "sigma": 0.5},
              "coef": {"dist": "normal", "mu": 0.0, "sigma": 0.3}}
    run = _fit("y ~ x", table, "poisson", priors, chains=4, draws=2000, tune=1000)
    post = run.posterior
    a = post["intercept"].values.ravel()
    b = post["beta"].values[..., 0].ravel()
    lprior = run.tree["log_prior"].to_dataset()["lprior"].values.ravel()
    loglik = np.asarray(run.tree["log_likelihood"]["y"].values, dtype=float).sum(-1).ravel()

    x, y = table["x"].to_numpy(), table["y"].to_numpy()
    ga = np.linspace(a.mean() - 7 * a.std(), a.mean() + 7 * a.std(), 301)
    gb = np.linspace(b.mean() - 7 * b.std(), b.mean() + 7 * b.std(), 301)
    A, B = np.meshgrid(ga, gb, indexing="ij")
    eta = A[..., None] + B[..., None] * x
    grid_loglik = (y * eta - np.exp(eta) - gammaln(y + 1)).sum(-1)
    # the intercept's prior is on the intercept at the covariate's mean
    grid_lprior = stats.norm(0, 0.5).logpdf(A + x.mean() * B) + stats.norm(0, 0.3).logpdf(B)
    for part, alpha in (("prior", 0.5), ("prior", 2.0), ("likelihood", 0.5),
                        ("likelihood", 2.0)):
        scaled = (grid_lprior * alpha + grid_loglik) if part == "prior" \
            else (grid_lprior + alpha * grid_loglik)
        density = np.exp(scaled - scaled.max())
        density /= density.sum()
        exact = np.array([(density * A).sum(), (density * B).sum()])
        log_w = (alpha - 1.0) * (lprior if part == "prior" else loglik)
        log_w, k = array_stats.psislw(-(log_w - log_w.max()))  # it takes -log ratios
        assert k < 0.7, (part, alpha, k)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        ess = 1.0 / (w**2).sum() * 0.25  # draws are autocorrelated: a conservative ESS
        assert ess > 300, (part, alpha, ess)
        estimate = np.array([(w * a).sum(), (w * b).sum()])
        spread = np.sqrt([(w * (a - estimate[0]) ** 2).sum(),
                          (w * (b - estimate[1]) ** 2).sum()])
        assert np.all(np.abs(estimate - exact) < 4 * spread / np.sqrt(ess)), (
            part, alpha, estimate, exact, spread / np.sqrt(ess))


def test_a_prior_far_from_the_truth_is_flagged_and_the_default_is_not(tmp_path):
    """A slope of 0.4 under normal(-1.5, 0.25) (the truth 7.6 prior SDs away) is a
    prior-data conflict; under the default prior, fine. From the command line too."""
    table = _table(n=200, seed=21, groups=1)
    far = {"coef": {"dist": "normal", "mu": -1.5, "sigma": 0.25}}
    for priors, verdict in ((far, "prior-data conflict"), (None, "fine")):
        run = _fit("y ~ x", table, "negbin", priors, chains=4, draws=1000, tune=1000)
        result = bc.sensitivity(run).set_index("quantity")
        assert result.loc["beta[x]", "verdict"] == verdict, result
        assert (result.loc["beta[x]", "prior"] >= THRESHOLD) == (priors is not None)
        if priors is far:
            median = float(np.median(run.posterior["beta"].values[..., 0]))
            exact = stats.norm.cdf(median, -1.5, 0.25)
            assert abs(result.loc["beta[x]", "prior_quantile"] - exact) < 0.02, (median, exact)
    run.save(tmp_path / "run")
    assert main(["sensitivity", str(tmp_path / "run"), "--out", str(tmp_path / "out")]) == 0
    written = pd.read_csv(tmp_path / "out" / "sensitivity.csv")
    assert "beta[x]" in set(written["quantity"])
    assert (tmp_path / "out" / "sensitivity.png").stat().st_size > 5_000


def test_the_shipped_datas_findings_are_not_flagged(default_run, within):
    """The average marginal effects the findings read (H1: participation; H2: national
    and same-region collaboration) are fine under power-scaling of the default spec's
    priors, and no quantity is in prior-data conflict: the shipped data were drawn from
    inside the default priors. The domain SDs, with four domains, are prior-sensitive, as
    they should be; where the likelihood matters too, the prior quantile says both
    inform."""
    result = bc.sensitivity(default_run).set_index("quantity")
    assert "prior-data conflict" not in set(result["verdict"]), result
    both = result[result["verdict"] == BOTH]
    assert len(both) and both["prior_quantile"].between(PRIOR_TAIL, 1 - PRIOR_TAIL).all()
    assert result.loc[result["verdict"] == "fine", "prior_quantile"].isna().all()
    for effect in ("participant", "national", "sameregion"):
        row = result.loc[f"effect of {effect}"]
        assert within(f"prior sensitivity of the {effect} effect", row["prior"],
                      upper=THRESHOLD), row
        assert row["verdict"] == "fine"
    assert result.loc["sd_domain[participant]", "prior"] >= THRESHOLD
    assert set(result["kind"]) == {"parameter", "effect", "contrast", "cluster", "rank"}
    assert "bio - it (participant)" in result.index
