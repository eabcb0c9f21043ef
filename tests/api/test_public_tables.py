"""A table that is not the study's firms, brought as a user brings it: lme4's grouseticks
(ticks on grouse chicks, broods within locations) through the formula front door, with
HEIGHT on its own scale (about 400 to 530 metres), checked against glmmTMB."""

import importlib.util
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
    with pytest.warns(UserWarning, match="fewer than 2 firms"):  # 18 broods of one chick
        run = bc.fit(FORMULA, frame, family="negbin", id="INDEX", seed=sampler_seed(3),
                     quiet=True)
    return run


def test_its_own_groups_and_covariates_as_given(grouse):
    design = grouse.design
    assert len(design.domain_labels) == 63 and len(design.cluster_labels) == 118
    assert grouse.decisions["centred_columns"]["fixed"] == {
        "HEIGHT": pytest.approx(_public_data().grouseticks()["HEIGHT"].mean())}


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


def test_the_report_of_a_table_without_binary_covariates(grouse, tmp_path):
    paths = bc.report(grouse, tmp_path / "report", reloo=0)
    markdown = Path(paths["markdown"]).read_text()
    assert "The model has no binary covariate" in markdown
    assert "Centred inside the model (count part: HEIGHT at 462)" in markdown
    assert "Policy effects" not in markdown  # the study's sections are for its firms
