"""A table with no groups, brought as a user brings it: pscl's bioChemists (articles of 915
PhD students) through the formula front door, a formula without a group term, checked
against MASS's ``glm.nb`` and pscl's ``zeroinfl`` (``benchmarks/reference.R``)."""

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest
from arviz_stats import mcse

import bayescluster as bc
from bayescluster.analysis.summary import fixed_effects
from bayescluster.cli import main

pytestmark = pytest.mark.sampling

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "tests" / "reference"
FORMULA = "art ~ fem + mar + kid5 + phd + ment"
NAMES = {"intercept": "(Intercept)", "fem[Women]": "femWomen", "mar[Single]": "marSingle",
         "kid5": "kid5", "phd": "phd", "ment": "ment"}


@pytest.fixture(scope="module")
def frame():
    spec = importlib.util.spec_from_file_location("public_data",
                                                  ROOT / "benchmarks" / "public_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.biochemists()


@pytest.fixture(scope="module")
def articles(frame, sampler_seed):
    return bc.fit(FORMULA, frame, family="negbin", seed=sampler_seed(5), quiet=True)


def _against_mle(run, reference: str, within) -> None:
    table = pd.read_csv(REFERENCE / reference).query("part == 'count'")
    mle = dict(zip(table["term"], table["estimate"], strict=True))
    fixed, post = fixed_effects(run), run.posterior
    errors = {"intercept": float(mcse(post["intercept"])),
              **{k: float(v) for k, v in zip(run.design.coef_labels,
                                             mcse(post["beta"]).values, strict=True)}}
    for ours, theirs in NAMES.items():
        row = fixed.loc[ours]
        # 915 rows against N(0, 1) priors on slopes with standard errors of 0.003 to 0.13:
        # the posterior mean sits well within 0.5 sd of the MLE; plus 4 MCSE
        tolerance = 0.5 * row["sd"] + 4 * errors[ours]
        assert within(f"{ours} mean - MLE", row["mean"] - mle[theirs], -tolerance, tolerance)


def test_a_single_level_run_samples_with_a_low_rank_mass_matrix(articles, tmp_path):
    """The decision (reports/levers/adaptation.md) is recorded and survives a save; a run
    that predates it reads as the diagonal matrix it was sampled with."""
    from bayescluster.model.parameterization import Parameterisation

    assert articles.parameterisation.mass_matrix == "low_rank"
    articles.save(tmp_path / "run")
    assert bc.load_run(tmp_path / "run").parameterisation.mass_matrix == "low_rank"
    record = articles.parameterisation.to_record()
    del record["mass_matrix"]
    assert Parameterisation.from_record(record).mass_matrix == "diag"


def test_one_group_and_no_group_parameters(articles):
    design = articles.design
    assert articles.data.roles.cluster is None and not articles.spec.hierarchical
    assert design.cluster_labels == ["(one group)"] and design.n_firms == 915
    assert not any(name.startswith(("sd_", "cluster_", "domain_"))
                   for name in articles.posterior.data_vars)


def test_negbin_matches_glm_nb(articles, within):
    _against_mle(articles, "biochemists_negbin.csv", within)
    alpha = float(pd.read_csv(REFERENCE / "biochemists_negbin.csv")
                  .query("term == 'alpha'")["estimate"].iloc[0])
    draws = articles.posterior["dispersion"]
    sd = float(draws.std())
    # the dispersion's posterior mean against the MLE, 0.44 with posterior sd ~0.05
    assert within("dispersion mean - MLE", float(draws.mean()) - alpha, -0.5 * sd, 0.5 * sd)


def test_zinb_count_part_matches_zeroinfl(frame, sampler_seed, within):
    run = bc.fit(FORMULA, frame, family="zinb", seed=sampler_seed(6), quiet=True)
    _against_mle(run, "biochemists_zinb.csv", within)


def test_the_report_has_no_cluster_sections(articles, tmp_path):
    markdown = Path(bc.report(articles, tmp_path / "report", reloo=0)["markdown"]).read_text()
    assert "## Clusters" not in markdown and "## Domains" not in markdown
    assert "915 rows in one group (a single-level table: no grouping column)" in markdown
    assert not re.findall(r"\b(firms?|clusters?|patents?)\b", markdown)
    assert "## Effects" in markdown


def test_the_commands_on_a_single_level_run(articles, tmp_path, capsys):
    articles.save(tmp_path / "run")
    run = str(tmp_path / "run")
    assert main(["ppc", run, "--out", str(tmp_path / "ppc")]) == 0
    assert (tmp_path / "ppc" / "ppc_statistics.png").exists()
    assert not list((tmp_path / "ppc").glob("ppc_by_*"))  # one group: nothing to facet
    assert main(["compare", run]) == 2
    assert "has no effects varying by group" in capsys.readouterr().err
    new = tmp_path / "new.csv"
    pd.DataFrame({"fem": ["Women"], "mar": ["Single"], "kid5": [0], "phd": [3.0],
                  "ment": [10], "art": [0]}).to_csv(new, index=False)
    assert main(["predict", run, "--data", str(new)]) == 0
    assert "predictions for 1 new rows" in capsys.readouterr().out
    assert main(["summary", run]) == 0
    out = capsys.readouterr().out
    # negbin has no zero part: the header names no p_zero
    assert "group-level and family parameters" in out and "p_zero" not in out


def test_validate_names_a_single_level_table(frame, tmp_path, capsys):
    table, spec = tmp_path / "articles.csv", tmp_path / "articles.toml"
    frame.to_csv(table, index=False)
    spec.write_text('schema_version = 1\nfamily = "negbin"\nformula = "art ~ fem + ment"\n\n'
                    '[covariates]\nfem = "categorical"\nment = "count"\n')
    assert main(["validate", "--spec", str(spec), str(table)]) == 0
    out = capsys.readouterr().out
    assert "valid table of 915 rows" in out and "single-level (no grouping column)" in out
