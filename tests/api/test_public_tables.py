"""A table that is not the study's firms, brought as a user brings it: lme4's grouseticks
(ticks on grouse chicks, broods within locations) through the formula front door, with
HEIGHT on its own scale (about 400 to 530 metres), checked against glmmTMB."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from arviz_stats import mcse

import bayescluster as bc
from bayescluster.analysis.summary import fixed_effects, group_parameters

pytestmark = pytest.mark.sampling

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference"  # glmmTMB's fits, from benchmarks/reference.R
FORMULA = "TICKS ~ YEAR + HEIGHT + (1 | LOCATION/BROOD)"


def _public_data():
    spec = importlib.util.spec_from_file_location("public_data",
                                                  ROOT / "benchmarks" / "public_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def grouse(sampler_seed):
    frame = _public_data().grouseticks()
    with pytest.warns(UserWarning, match="18 BROOD groups with fewer than 2 rows"):
        run = bc.fit(FORMULA, frame, family="negbin", id="INDEX", seed=sampler_seed(3),
                     quiet=True)
    return run


def test_its_own_groups_and_covariates_as_given(grouse):
    design = grouse.design
    assert len(design.domain_labels) == 63 and len(design.cluster_labels) == 118
    assert grouse.decisions["centred_columns"]["fixed"] == {
        "HEIGHT": pytest.approx(_public_data().grouseticks()["HEIGHT"].mean())}


def test_a_grouping_level_is_named_by_its_column_as_well(grouse):
    """``bc.group_effects(run, "BROOD")`` is the lower level's, ``"LOCATION"`` the upper's,
    as the model's own ``"cluster"`` and ``"domain"``; another name lists both spellings."""
    pd.testing.assert_frame_equal(bc.group_effects(grouse, "BROOD"),
                                  bc.group_effects(grouse, "cluster"))
    pd.testing.assert_frame_equal(bc.ranks(grouse, "LOCATION"), bc.ranks(grouse, "domain"))
    with pytest.raises(bc.BayesclusterError, match="'BROOD' \\(or 'cluster'\\), 'LOCATION'"):
        bc.group_effects(grouse, "nest")


def test_fixed_effects_and_variances_match_glmmtmb(grouse, within):
    reference = pd.read_csv(REFERENCE / "grouseticks_negbin.csv")
    mle = dict(zip(reference["term"], reference["estimate"], strict=True))
    fixed = fixed_effects(grouse)
    names = {"intercept": "(Intercept)", "YEAR[y96]": "YEARy96", "YEAR[y97]": "YEARy97",
             "HEIGHT": "HEIGHT"}
    post = grouse.posterior
    errors = {"intercept": float(mcse(post["intercept"])),
              **{k: float(v) for k, v in zip(grouse.design.coef_labels,
                                             mcse(post["beta"]).values, strict=True)}}
    for ours, theirs in names.items():
        row = fixed.loc[ours]
        # the posterior mean sits O(1/sqrt(n)) sd from the MLE (0.2 sd at most in the
        # first runs, N(0, 1) priors against standard errors of 0.2); 0.5 sd, plus 4 MCSE
        tolerance = 0.5 * row["sd"] + 4 * errors[ours]
        assert within(f"{ours} mean - glmmTMB", row["mean"] - mle[theirs], -tolerance,
                      tolerance)
    groups = group_parameters(grouse)
    # variance components and dispersion: the posterior median against the MLE, 0.24 to
    # 0.3 posterior sd apart in the first run (63 locations, 118 broods); 0.75 sd
    for ours, theirs in (("sd_domain[intercept]", "LOCATION.(Intercept)"),
                         ("sd_cluster[intercept]", "BROOD:LOCATION.(Intercept)"),
                         ("dispersion", "alpha")):
        draws = post[ours.split("[")[0]].values.ravel()
        sd = float(np.std(draws))
        assert within(f"{ours} median - glmmTMB", np.median(draws) - mle[theirs],
                      -0.75 * sd, 0.75 * sd), groups.loc[ours]


def test_the_report_of_a_table_of_other_data(grouse, tmp_path):
    paths = bc.report(grouse, tmp_path / "report", reloo=0)
    markdown = Path(paths["markdown"]).read_text()
    ames = pd.read_csv(tmp_path / "report" / "tables" / "marginal_effects.csv")
    assert {"YEAR[y96]", "YEAR[y97]"} == set(ames["effect"])  # each level against y95
    assert "Centred inside the model (count part: HEIGHT at 462)" in markdown
    assert "Policy effects" not in markdown  # the study's sections are for its firms


def test_a_categorical_levels_average_marginal_effect_is_its_brute_force(grouse):
    """YEAR[y96] against YEAR's baseline y95 on E[TICKS], from the draws by hand: each
    chick's mean exp(cluster total + beta_YEAR + beta_HEIGHT * HEIGHT) at each level."""
    from bayescluster.analysis.effects import average_marginal_effects

    table = average_marginal_effects(grouse, max_draws=None)
    post, design = grouse.posterior, grouse.design
    total = post["cluster_total"].sel(effect="intercept").stack(s=("chain", "draw")).values
    beta = post["beta"].stack(s=("chain", "draw"))
    height = design.frame["HEIGHT"].to_numpy(dtype=float)
    base = total[design.cluster_index] + np.outer(height, beta.sel(coef="HEIGHT").values)
    for level in ("y96", "y97"):
        shift = beta.sel(coef=f"YEAR[{level}]").values
        brute = (np.exp(base + shift) - np.exp(base)).mean(axis=0).mean()
        assert table.loc[(f"YEAR[{level}]", "total", "overall", "all"), "mean"] == \
            pytest.approx(brute, rel=1e-9)


def test_the_effects_command_on_a_table_of_other_data(grouse, tmp_path, capsys):
    from bayescluster.cli import main

    grouse.save(tmp_path / "run")
    # the fit said once that 18 broods have one chick; reading the run again does not
    assert main(["effects", str(tmp_path / "run"), "--max-draws", "100"]) == 0
    shown = capsys.readouterr().out
    assert "YEAR[y96]" in shown and "paper" not in shown
    assert not re.findall(r"\b(firms?|clusters?|patents?)\b", shown)


def test_a_model_of_continuous_covariates_only_is_reported_without_effects(tmp_path):
    """MASS's epil without its treatment: no covariate to switch, so no marginal effect."""
    frame = _public_data().epil()
    run = bc.fit("y ~ base + age + (1 | subject)", frame, family="negbin", id="row",
                 chains=1, draws=60, tune=60, seed=1, quiet=True)
    markdown = Path(bc.report(run, tmp_path / "report", reloo=0)["markdown"]).read_text()
    assert "no binary or categorical covariate" in markdown
