"""Findings' robustness: the bands and the clause, and a planted group that carries an effect
named by the report."""

import numpy as np
import pandas as pd
import pytest

import bayescluster as bc
from bayescluster.analysis.robustness import band, clause, left_out, quantities, refit_without


def _table(rows):
    return pd.DataFrame(rows, columns=["quantity", "kind", "perturbation", "mean", "p_gt_0",
                                       "pareto_k", "reliable", "holds"])


def test_bands_have_edges_at_10_50_and_90_percent():
    assert [band(p) for p in (0.0, 0.09, 0.1, 0.49, 0.5, 0.89, 0.9, 1.0)] == \
        [0, 0, 1, 1, 2, 2, 3, 3]


def test_the_clause_names_what_moves_a_finding_and_what_could_not_be_checked():
    rows = [("effect: x", "fit", "as fitted", 0.8, 0.97, np.nan, True, True),
            ("effect: x", "prior", "with the prior at half its strength", 0.79, 0.96, 0.2,
             True, True),
            ("effect: x", "site", "without site s1", 0.1, 0.6, 0.3, True, False),
            ("effect: x", "site", "without site s2", 0.7, 0.95, 0.9, False, True),
            ("effect: x", "run", "in negbin", 0.75, 0.93, np.nan, True, True)]
    text = clause(_table(rows), "effect: x", group="site", groups="sites")
    assert text == ("Not robust: without site s1, its chance of being positive is 60%, not "
                    "97%; 1 of 4 checks not made (Pareto k > 0.7).")
    held = [r for r in rows if r[2] != "without site s1"]
    held.append(("effect: x", "site", "without site s4", 0.85, 0.98, 0.1, True, True))
    assert clause(_table(held), "effect: x", group="site", groups="sites") == (
        "Robust to the prior at half or twice its strength, leaving out each site that could "
        "be checked and in negbin; 1 of 4 checks not made (Pareto k > 0.7).")


def test_a_prior_too_strong_to_reweight_is_said_in_the_clause():
    rows = [("effect: x", "fit", "as fitted", 0.8, 0.97, np.nan, True, True),
            ("effect: x", "prior", "with the prior at half its strength", 1.2, 0.99, 1.3,
             False, pd.NA),
            ("effect: x", "site", "without site s1", 0.7, 0.95, 0.3, True, True)]
    assert clause(_table(rows), "effect: x", group="site", groups="sites") == (
        "Robust to leaving out any one site; 1 of 2 checks not made (Pareto k > 0.7), the "
        "prior's strength among them: the prior moves this finding too far to reweight "
        "(bayescluster sensitivity says how far).")


def test_the_clause_names_domains_and_rows_left_out_with_the_groups():
    rows = [("effect: x", "fit", "as fitted", 0.8, 0.97, np.nan, True, True),
            ("effect: x", "site", "without site s1", 0.7, 0.95, 0.3, True, True),
            ("effect: x", "region", "without region r1", 0.7, 0.95, 0.9, False, pd.NA),
            ("effect: x", "region", "without region r2 (refit)", 0.75, 0.96, np.nan, True,
             True),
            ("effect: x", "firm", "without firm 7", 0.78, 0.97, 0.1, True, True)]
    assert clause(_table(rows), "effect: x", group="site", groups="sites", row="firm",
                  domain="region") == (
        "Robust to leaving out any one site or each region that could be checked or any one "
        "firm; 1 of 4 checks not made (Pareto k > 0.7).")


@pytest.mark.sampling
def test_each_group_domain_and_row_is_left_out_once(default_run):
    masks = left_out(default_run)
    design, w = default_run.design, default_run.data.words
    for word, n in ((w.group, len(design.cluster_labels)), (w.domain, len(design.domain_labels)),
                    (w.row, design.n_firms)):
        mine = [m for label, m in masks.items() if label.startswith(f"without {word} ")]
        assert len(mine) == n
        assert (np.sum(mine, axis=0) == 1).all()  # a partition of the rows


def _planted(seed=2) -> pd.DataFrame:
    """Six sites; the treatment raises the count only in site s3."""
    rng = np.random.default_rng(seed)
    site = np.repeat(np.arange(6), 40)
    t = rng.integers(0, 2, site.size)
    y = rng.poisson(np.exp(0.3 + rng.normal(0, 0.15, 6)[site] + 1.4 * t * (site == 3)))
    return pd.DataFrame({"id": np.arange(site.size), "site": [f"s{k}" for k in site],
                         "t": t, "y": y})


@pytest.mark.sampling
def test_a_planted_group_that_carries_an_effect_is_named(tmp_path):
    """Leaving out s3 takes the effect away: the report's finding says so (by a refit where
    the reweighting cannot follow), the Robustness appendix has the table and figure."""
    run = bc.fit("y ~ t + (1 | site)", _planted(), family="poisson", id="id", chains=2,
                 draws=500, tune=500, seed=3, quiet=True)
    lines = []
    paths = bc.report(run, tmp_path / "report", reloo=0, max_draws=300,
                      influence={"workers": 1, "chains": 1, "draws": 300, "tune": 300},
                      progress=lines.append)
    markdown = paths["markdown"].read_text()
    finding = next(line for line in markdown.splitlines() if line.startswith("- Changing t"))
    assert "Not robust: without site group s3 (refit)" in finding, finding
    table = pd.read_csv(tmp_path / "report" / "tables" / "robustness.csv")
    s3 = table[table["perturbation"].str.startswith("without site group s3")].iloc[0]
    fit = table[table["kind"] == "fit"].iloc[0]
    assert fit["p_gt_0"] > 0.9 and s3["p_gt_0"] < 0.9 and not s3["holds"]
    assert s3["mean"] < fit["mean"] / 2
    others = table[(table["kind"] == "site group") & ~table["perturbation"].str.contains("s3")]
    assert others[others["reliable"]]["holds"].all()
    assert (tmp_path / "report" / "robustness.png").stat().st_size > 5_000
    assert "## Robustness" in markdown.split("# Appendix")[1]
    # s3 cannot be reweighted (the effect leaves with it): it was refitted, its cost said first
    assert "(refit)" in s3["perturbation"]
    assert any(line.startswith("influence: ") and "refits (1 x 300 draws" in line
               for line in lines), lines


@pytest.mark.sampling
def test_a_row_refit_agrees_with_its_reweighting_where_pareto_k_is_low():
    """Leaving one ordinary row out by a refit (on Dask) and by Pareto-smoothed reweighting
    gives the same effect within Monte Carlo error: the two paths of the influence check
    measure the same thing. An unknown perturbation is refused by name."""
    from bayescluster.analysis.robustness import perturbations
    from bayescluster.core.errors import BayesclusterError

    run = bc.fit("y ~ t + (1 | site)", _planted(), family="poisson", id="id", chains=4,
                 draws=1000, tune=500, seed=5, quiet=True)
    wanted = {"effects": ["t"], "max_draws": None}
    values, pairs = quantities(run, **wanted)
    table = perturbations(run, values, pairs)
    rows = table[(table["kind"] == "row") & (table["pareto_k"] < 0.5)]
    label = rows["perturbation"].iloc[0]
    refit = refit_without(run, [label], wanted, workers=1, chains=4, draws=1000, tune=500,
                          progress=lambda line: None)
    again = refit[label]["effect: t"]
    weighted = rows["mean"].iloc[0]
    error = 4 * np.std(again) / np.sqrt(400)  # generous: an ESS of at least 400 per path
    assert abs(again.mean() - weighted) < error, (again.mean(), weighted, error)
    with pytest.raises(BayesclusterError, match="without site group s9"):
        refit_without(run, ["without site group s9"], wanted, workers=1)
