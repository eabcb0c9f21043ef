"""The simulator against the paper's tables. Every seed here is fixed and sound fixed: the
generator draws from numpy's PCG64, whose streams are the same on every machine, so each
assertion is a fact about one table and cannot fail elsewhere by chance."""

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.study import registry
from bayescluster.study.firms import load, validate
from bayescluster.study.paper import appendix2, table3
from bayescluster.study.simulate import COPULA, allocate, load_truth, simulate, write

TABLE3_VARS = ["pat", "claim", "citation", "participant", "scale", "rd", "projects",
               "national", "jointrd", "sameregion", "age"]


@pytest.fixture(scope="module")
def big():
    return simulate(20_000, seed=1)


def test_large_sample_matches_table3(big):
    x = big.data[TABLE3_VARS].astype(float)
    paper = table3()
    rel_mean = (x.mean() - paper["mean"]) / paper["mean"]
    rel_sd = (x.std() - paper["sd"]) / paper["sd"]
    assert rel_mean.abs().max() < 0.05, rel_mean
    assert rel_sd.abs().max() < 0.15, rel_sd


def test_large_sample_correlations_match_appendix2(big):
    cols = list(COPULA)
    ours = big.data[cols].astype(float).corr()
    gap = (ours - appendix2().loc[cols, cols]).abs()
    assert gap.to_numpy().max() < 0.1, gap.round(2)


def test_participants_younger_joint_rd_same_region(big):
    d = big.data.astype({"jointrd": float, "sameregion": float})
    by = d.groupby("participant")[["age", "jointrd", "sameregion"]].mean()
    assert by.loc[1, "age"] < by.loc[0, "age"]
    assert by.loc[1, "jointrd"] > by.loc[0, "jointrd"]
    assert by.loc[1, "sameregion"] > by.loc[0, "sameregion"]


def test_missing_counts_scale_with_n(big):
    counts = big.data.isna().sum()
    for column, k in {"rd": 7, "projects": 19, "national": 9, "jointrd": 3,
                      "sameregion": 4}.items():
        assert counts[column] == round(k * 20_000 / 229)
    assert counts[["pat", "participant", "scale", "age"]].sum() == 0


def test_default_file_is_seed_292_and_within_stated_tolerances():
    shipped = pd.read_csv(DEFAULT_DATA, dtype=str, keep_default_na=False)
    again = simulate(229, seed=292).data
    assert shipped.equals(pd.read_csv(
        pd.io.common.StringIO(again.to_csv(index=False)), dtype=str, keep_default_na=False))
    data = load(DEFAULT_DATA)
    x = data.frame[TABLE3_VARS].astype(float)
    paper = table3()
    covs = [v for v in TABLE3_VARS if v not in ("pat", "claim", "citation")]
    assert ((x[covs].mean() - paper.loc[covs, "mean"]) / paper.loc[covs, "mean"]).abs().max() < 0.10
    assert ((x[covs].std() - paper.loc[covs, "sd"]) / paper.loc[covs, "sd"]).abs().max() < 0.20
    assert abs(x["pat"].mean() / 8.56 - 1) < 0.15 and abs(x["pat"].std() / 13.41 - 1) < 0.30
    assert len(data.frame.dropna(subset=["rd", "projects", "national", "jointrd",
                                         "sameregion"])) == 197
    assert data.frame["participant"].sum() == 57
    truth = load_truth(DEFAULT_DATA)
    assert truth["seed"] == 292 and truth["n"] == 229


def test_same_seed_same_bytes_and_truth_file(tmp_path):
    a, ta = write(simulate(300, seed=5), tmp_path / "a.csv")
    b, tb = write(simulate(300, seed=5), tmp_path / "b.csv")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    assert ta.read_bytes() == tb.read_bytes()
    c, _ = write(simulate(300, seed=6), tmp_path / "c.csv")
    assert a.read_bytes() != c.read_bytes()
    truth = json.loads(ta.read_text())
    for key in ("intercept", "fixed", "domain_sd", "cluster_sd", "domain_deviation",
                "cluster_deviation", "domain_effect", "dispersion", "p_zero", "seed",
                "generator_version", "selection"):
        assert key in truth
    assert truth["domain_effect"]["bio"]["participant"] > truth["domain_effect"]["it"][
        "participant"]
    assert not list(tmp_path.glob("*.tmp"))


def test_allocation_proportional_with_floor():
    counts = allocate(229)
    assert counts.sum() == 229 and counts.min() >= 2
    weights = registry.cluster_firms()
    assert counts.idxmax() == weights.idxmax() == "kanto"
    big = allocate(10_700)
    share = big / big.sum() - weights / weights.sum()
    assert share.abs().max() < 0.001


def test_claims_and_citations_zero_without_patents(big):
    d = big.data
    assert (d.loc[d["pat"] == 0, ["claim", "citation"]] == 0).all().all()
    assert (d.loc[d["pat"] > 0, "claim"] > 0).mean() > 0.9


def test_structural_truth_recovered_by_moments(big):
    """The simulated zero share exceeds NB zeros alone: P(zero) = 0.15 is present."""
    zero_share = (big.data["pat"] == 0).mean()
    assert zero_share > 0.15


def test_selection_option_correlates_trait_with_participation():
    a = simulate(20_000, seed=3, rho=0.6).data
    b = simulate(20_000, seed=3, rho=0.0).data
    gap = lambda d: np.log(d.groupby("participant")["pat"].mean()).diff().iloc[-1]  # noqa: E731
    assert gap(a) > gap(b) + 0.15


def test_vectorised_generator_makes_a_million_firms():
    """Its speed is measured in benchmarks/, not here; a loop over firms would instead run
    into pytest-timeout."""
    sim = simulate(1_000_000, seed=4)
    assert len(sim.data) == 1_000_000
    validate(simulate(10_700, seed=4).data)


def test_probit_participation_equation_matches_statsmodels():
    """The probit participation's coefficients are the maximum likelihood probit of the
    copula's participation (statsmodels, an independent fit, on the same sample)."""
    import statsmodels.api as sm

    from bayescluster.study.simulate import (
        CALIBRATION_N,
        CALIBRATION_SEED,
        SELECTION_TERMS,
        _covariates,
        _selection_matrix,
        participation_equation,
    )

    cov = _covariates(CALIBRATION_N, np.random.default_rng(CALIBRATION_SEED), 0.0,
                      np.zeros(CALIBRATION_N))
    reference = sm.Probit(cov["participant"], _selection_matrix(cov)).fit(disp=0).params
    ours = participation_equation()
    np.testing.assert_allclose([ours[t] for t in ("intercept", *SELECTION_TERMS)], reference,
                               atol=2e-3)


def test_probit_participation_follows_its_equation():
    """Under "probit" participation the share and the trait's correlation with the probit
    error are what the selection model assumes."""
    from scipy import stats

    rho = 0.5
    sim = simulate(100_000, seed=8, rho=rho, participation="probit", missing=False)
    data, truth = sim.data, sim.truth["selection"]
    assert truth["participation"] == "probit" and set(truth["cluster_effect"]) == set(
        registry.cluster_domains())
    copula = simulate(100_000, seed=8, missing=False).data
    assert abs(data["participant"].mean() - copula["participant"].mean()) < 0.03
    # a participant's trait is raised by E[nu | d = 1] * rho > 0: more patents at equal x
    gap = lambda d: np.log(d.groupby("participant")["pat"].mean()).diff().iloc[-1]  # noqa: E731
    no_selection = simulate(100_000, seed=8, rho=0.0, participation="probit", missing=False)
    assert gap(data) > gap(no_selection.data) + 0.1
    assert stats.pearsonr(data["participant"], data["age"])[0] < 0  # age enters negatively
    strong = simulate(100_000, seed=8, rho=rho, participation="probit", instrument=5.0,
                      missing=False).data
    assert stats.pearsonr(strong["participant"], strong["age"])[0] < \
        3 * stats.pearsonr(data["participant"], data["age"])[0]
    with pytest.raises(ValueError, match="participation must be one of"):
        simulate(50, participation="random")
    with pytest.raises(ValueError, match="instrument applies to"):
        simulate(50, instrument=2.0)
