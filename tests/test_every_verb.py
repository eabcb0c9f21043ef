"""Every family through every verb, from the command line and the Python front door: with and
without zero-part predictors, single-level and grouped, on a table that is not the study's
(its own words in every message and report), with a text column that has a blank cell, so
that no verb can miss a family again.

The fits are short (they fail their gates by design: the caveat is part of what is read);
what is checked is that every verb ends with its documented exit code and its files, never
a traceback, and speaks of rows and nests, never of firms, clusters or patents."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

import bayescluster as bc
from bayescluster.cli import main
from bayescluster.spec.families import FAMILIES

pytestmark = pytest.mark.sampling

# the original four families in every combination; each other family once, its zero part
# with predictors and grouped where it has one (what a verb reads of a family is its base
# and zero structure, and these combinations cover both)
FULL = ("poisson", "negbin", "zinb", "hurdle_nb")
VARIANTS = [(family, zero, grouped) for family in FULL
            for zero in ((False, True) if FAMILIES[family].zero_part else (False,))
            for grouped in (False, True)] + [
    (family, FAMILIES[family].zero_part, k % 2 == 0)
    for k, family in enumerate(f for f in FAMILIES if f not in FULL)]
STUDY_WORDS = re.compile(r"\b(firms?|clusters?|patents?|Clusters?|Firms?)\b")


def _eggs(n=90, seed=5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nest = rng.choice([f"n{k}" for k in range(6)], n)
    kind = rng.choice(["oak", "pine", "ash"], n).astype(object)
    if n > 20:
        kind[[4, 11]] = ""  # blank cells: missing values, summed over
    x = rng.normal(size=n)
    lam = np.exp(0.4 + 0.3 * x + (kind == "oak") * 0.3)
    eggs = np.where(rng.random(n) < 0.3, 0, rng.poisson(lam))
    return pd.DataFrame({"bird": [f"b{k}" for k in range(n)], "nest": nest, "kind": kind,
                         "x": x.round(3), "flag": rng.integers(0, 2, n), "eggs": eggs})


@pytest.fixture(scope="module")
def eggs_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("eggs") / "eggs.csv"
    _eggs().to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("family", "zero", "grouped"), VARIANTS,
                         ids=[f"{f}-{'zero' if z else 'plain'}-{'grouped' if g else 'single'}"
                              for f, z, g in VARIANTS])
def test_every_verb(family, zero, grouped, eggs_csv, tmp_path, capsys):
    formula = "eggs ~ x + kind * flag" + (" + (1 | nest)" if grouped else "")
    argv = ["--formula", formula, "--family", family, "--id", "bird", "--data",
            str(eggs_csv)] + (["--zero-formula", "~ x + kind"] if zero else [])
    run_dir = str(tmp_path / "run")
    code = main(["fit", *argv, "--chains", "2", "--draws", "60", "--tune", "60", "--seed", "3",
                 "--quiet", "--out", run_dir])
    err = capsys.readouterr().err
    assert code in (0, 3) and "Traceback" not in err, err
    new = tmp_path / "new.csv"
    _eggs(5, seed=9).assign(kind=["oak", "pine", "ash", "oak", "pine"]).to_csv(new, index=False)
    verbs = [
        (["summary", run_dir], 0), (["diagnose", run_dir], (0, 3)),
        (["effects", run_dir, "--profile", "x=1,kind=pine", "--max-draws", "40", "--out",
          str(tmp_path / "effects")], 0),
        (["ppc", run_dir, "--out", str(tmp_path / "ppc")], 0),
        (["loo", run_dir, "--out", str(tmp_path / "loo")], 0),
        (["predict", run_dir, "--data", str(new), "--counterfactual", "kind=ash,flag=1",
          "--max-draws", "40", "--out", str(tmp_path / "predictions.csv")], 0),
        (["compare", run_dir, "--out", str(tmp_path / "compare")], 0 if grouped else 2),
        # options that split by groups or domains: refused where there are none
        (["ppc", run_dir, "--by-cluster"], 0 if grouped else 2),
        (["compare", run_dir, "--domains", "a", "b"], 2),
        (["sensitivity", run_dir, "--out", str(tmp_path / "sensitivity")], 0),
        (["sensitivity", run_dir, "--domains", "a", "b"], 2),
        (["report", run_dir, "--reloo", "0", "--max-draws", "40", "--out",
          str(tmp_path / "report")], 0),
    ]
    for args, expected in verbs:
        code = main(args)
        out, err = capsys.readouterr()
        assert code in (expected if isinstance(expected, tuple) else (expected,)), (args, err)
        assert "Traceback" not in err, (args, err)
        words = STUDY_WORDS.findall((out + err).replace("--by-cluster", ""))
        assert not words, (args, words, out + err)
    assert (tmp_path / "predictions.csv").exists()
    assert (tmp_path / "effects" / "effects.csv").exists()
    assert (tmp_path / "sensitivity" / "sensitivity.csv").exists()
    scores = pd.read_csv(tmp_path / "loo" / "loo.csv")  # written with or without groups
    assert list(scores["run"]) == [run_dir] and np.isfinite(scores["elpd_loo"]).all()
    markdown = (tmp_path / "report" / "report.md").read_text()
    prose = re.sub(r"```.*?```", "", markdown, flags=re.S)  # the spec and math as code
    prose = prose.replace("\\_", "_").replace("--by-cluster", "")  # names, an option
    assert not STUDY_WORDS.findall(prose), STUDY_WORDS.findall(prose)
    assert "kind\\[pine\\]" in markdown and ("## Nest groups" in markdown) == grouped
    assert "## Domains" not in markdown  # nothing pools the nests within a higher level
    # a zero part with predictors of its own has its table in the report
    assert (tmp_path / "report" / "tables" / "zero_part.csv").exists() == zero

    # the Python front door, on the same run
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        run = bc.load_run(run_dir)
    assert run.design.levels["kind"] == ("ash", "oak", "pine")
    assert len(bc.parameters(run)) and len(bc.ppc_statistics(run)) and len(bc.rootogram(run))
    ames = bc.average_marginal_effects(run, max_draws=30)
    assert {"kind[oak]", "kind[pine]", "flag"} <= set(ames.index.get_level_values("effect"))
    if FAMILIES[family].zero_part:
        assert {"extensive", "intensive"} <= set(ames.index.get_level_values("margin"))
    predicted = bc.predict(run, new, counterfactual={"kind": "oak"}, max_draws=30)
    assert np.isfinite(predicted["mean"]).all() and np.isfinite(predicted["difference"]).all()
    assert np.isfinite(float(bc.loo(run).elpd))
    scaled = bc.sensitivity(run, effects=False)
    assert {"beta[x]", "intercept"} <= set(scaled["quantity"]) and scaled[
        ["prior", "likelihood"]].notna().all().all()
    if grouped:
        assert len(bc.group_effects(run, "cluster")) == 6
