"""Simulation-based calibration of the shipped hierarchical models, 200 simulations each.

Runs ``bayescluster sbc`` for each spec into ``reports/sbc/<spec>/`` (ranks, uniformity,
rank histograms and rank ECDFs), then writes ``reports/sbc/README.md`` with one verdict
per parameter: the chi-square p-value of its rank histogram (Bonferroni over the model's
parameters at 1 %) and whether its rank ECDF stays in the simultaneous 99 % band.

    .venv/bin/python benchmarks/sbc_study.py                 # run and summarise
    .venv/bin/python benchmarks/sbc_study.py --summarise     # summarise existing runs
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bayescluster.analysis import sbc as calibration
from bayescluster.core.atomic import write_text
from bayescluster.reporting.document import markdown_table

SPECS = ("zinb_hier", "negbin_hier", "hurdle_hier", "selection_zinb", "nb1_base",
         "genpois_base", "pln_base")
# The first attempt at selection_zinb kept the observed treatment in every refit: not a
# draw from the joint model (the treatment is modelled). Kept beside the others.
ATTEMPT = "selection_zinb_observed_treatment"
# sbc draws a selection model's treatment from its probit, which needs every binary
# covariate observed: the shipped firms without a missing binary (216 of 229)
BINARIES = ("national", "jointrd", "sameregion")
SETTINGS = ["--sims", "200", "--chains", "2", "--draws", "400", "--tune", "400", "--thin", "4",
            "--workers", "2", "--seed", "11"]
# negbin_hier's intercept mixes slowly: at 400 draws its thinned draws are still
# autocorrelated and its ranks U-shaped (negbin_hier_400_draws/, p = 8e-5)
LONGER = {"negbin_hier": ["--draws", "1200", "--tune", "600", "--thin", "6"],
          # rho mixes slowest (about 0.1 effective draws per draw in the shipped fit)
          "selection_zinb": ["--draws", "1500", "--tune", "1000", "--thin", "15"]}
# the other base distributions (NB1, generalized Poisson, Poisson-lognormal), each in a
# two-level hierarchy on the firms with every covariate: 100 simulations each (the
# hierarchy and the imputation are the same for every family, calibrated above)
BASE_SPEC = """schema_version = 1
name = "{name}"
family = "{family}"
missing = "drop"

[columns]
outcome = "pat"
cluster = "cluster"
domain = "domain"
id = "firm_id"

[covariates]
participant = "binary"
scale = "positive"
rd = "numeric"

[transforms]
scale = ["log", "standardize"]
rd = "standardize"

[fixed]
terms = ["participant", "scale", "rd"]

[hierarchy]
varying = ["intercept"]

[priors]
coef = {{ dist = "normal", mu = 0.0, sigma = 1.0 }}
"""
BASES = {"nb1_base": "nb1", "genpois_base": "genpois", "pln_base": "pln"}
for _spec in BASES:
    LONGER[_spec] = ["--sims", "100"]
ALPHA = 0.01


def run(spec: str, root: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = []
        name = spec
        if spec == "selection_zinb":
            firms = pd.read_csv(Path(__file__).parents[1] / "data" / "firms.csv")
            data = ["--data", str(Path(tmp) / "firms.csv")]
            firms.dropna(subset=list(BINARIES)).to_csv(data[1], index=False)
        if spec in BASES:
            spec = str(Path(tmp) / f"{name}.toml")
            Path(spec).write_text(BASE_SPEC.format(name=name, family=BASES[name]))
        subprocess.run([sys.executable, "-m", "bayescluster.cli", "sbc", "--spec", spec,
                        *SETTINGS, *LONGER.get(name, []), *data, "--out", str(root / name)],
                       check=True)


def verdicts(root: Path) -> tuple[pd.DataFrame, list[str]]:
    tables, lines = [], []
    for spec in SPECS:
        folder = root / spec
        if not (folder / "uniformity.csv").exists():
            lines.append(f"- `{spec}`: not run yet.")
            continue
        table = pd.read_csv(folder / "uniformity.csv", index_col="parameter")
        ranks = pd.read_csv(folder / "ranks.csv")
        divergent = int((ranks.groupby("sim")["divergences"].first() > 0).sum())
        sims = ranks["sim"].nunique()
        threshold = ALPHA / len(table)
        # both checks at the model's level, ALPHA over its parameters (Bonferroni): the
        # band at 1 - ALPHA / parameters, as the chi-square threshold
        band = calibration.rank_ecdf(ranks, prob=1 - threshold)
        inside = ((band["ecdf"] >= band["lower"]) & (band["ecdf"] <= band["upper"])).groupby(
            band["parameter"]).all()
        table["in_corrected_band"] = inside.reindex(table.index)
        table["calibrated"] = (table["p_value"] > threshold) & table["in_corrected_band"]
        failing = list(table.index[~table["calibrated"]])
        outside = list(table.index[~table["in_band"]])
        lines.append(
            f"- `{spec}`: {sims} simulations, {len(table)} parameters; smallest p "
            f"{table['p_value'].min():.3g} ({table['p_value'].idxmin()}) against the "
            f"Bonferroni threshold {threshold:.2g}; "
            f"{int(table['in_corrected_band'].sum())} of {len(table)} rank ECDFs inside "
            f"their {1 - threshold:.2%} band"
            + (f" ({len(table) - len(outside)} inside the uncorrected 99 % band: not "
               f"{', '.join(outside)})" if outside else " (all inside the 99 % band)")
            + f"; fits with a divergence: {divergent} of {sims}. Verdict: "
            + ("calibrated." if not failing else f"**not calibrated: {', '.join(failing)}**."))
        tables.append(table.assign(spec=spec).reset_index())
    return (pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()), lines


def _divergences(folder: Path) -> str:
    """Whether fits with a divergence rank their truths differently from the others: each
    group's ranks per parameter against uniform (Kolmogorov-Smirnov, ties broken at
    random)."""
    if not (folder / "ranks.csv").exists():
        return ""
    from scipy import stats

    ranks = pd.read_csv(folder / "ranks.csv")
    per_fit = ranks.groupby("sim")["divergences"].first()
    rng = np.random.default_rng(0)
    parts = []
    for label, divergent in (("with", True), ("without", False)):
        group = ranks[(ranks["divergences"] > 0) == divergent]
        p = [stats.kstest((g["rank"] + rng.uniform(size=len(g))) / (g["draws"] + 1),
                          "uniform").pvalue for _, g in group.groupby("parameter")]
        parts.append(f"{group['sim'].nunique()} fits {label} one: {sum(q < 0.05 for q in p)}"
                     f" of {len(p)} parameters at KS p < 0.05 (smallest {min(p):.2g})")
    return (f"Divergences come from prior draws that give extreme data: a median of "
            f"{per_fit.median():g} per fit, at most {per_fit.max():,} (of 2 x 1,500 draws). "
            "They do not bend the ranks: "
            + "; ".join(parts) + " (about 5 % expected by chance).")


def _attempt(folder: Path) -> str:
    if not (folder / "uniformity.csv").exists():
        return "(not run here)."
    table = pd.read_csv(folder / "uniformity.csv", index_col="parameter")
    failing = table.index[(table["p_value"] <= ALPHA / len(table)) | ~table["in_band"]]
    return (f"{len(failing)} of {len(table)} parameters fail ({', '.join(failing)}), the "
            f"smallest p is {table['p_value'].min():.2g}.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("reports/sbc"))
    parser.add_argument("--summarise", action="store_true", help="only write the summary")
    parser.add_argument("--specs", nargs="+", default=list(SPECS))
    args = parser.parse_args(argv)
    if not args.summarise:
        for spec in args.specs:
            run(spec, args.root)
    table, lines = verdicts(args.root)
    text = [
        "# Simulation-based calibration",
        "",
        "`python benchmarks/sbc_study.py`: for each model, 200 parameter sets drawn from its "
        "prior, outcomes drawn from the model on the shipped firms' covariates, each refitted "
        f"(`bayescluster sbc {' '.join(SETTINGS)}`: 2 chains x 400 draws after 400 tuning, "
        "every 4th draw, so ranks run 0-200; negbin_hier: 1,200 draws after 600, every 6th, "
        "ranks 0-400; nb1_base, genpois_base and pln_base, the other base distributions: "
        "100 simulations each of a two-level model, participant, log(scale) and rd with "
        "intercepts varying by cluster within domain, on the firms with every covariate, "
        "`benchmarks/sbc_study.py`'s `BASE_SPEC`). A calibrated model ranks each true value "
        "uniformly among its posterior draws.",
        "",
        "negbin_hier at the shorter settings (`negbin_hier_400_draws/`) failed in its "
        "intercept alone (p = 8e-5, U-shaped ranks, 13 of 14 in band): the intercept mixes "
        "slowest, and every 4th of 400 draws is still autocorrelated (which piles ranks at "
        "the ends); with 1,200 draws, every 6th, its p rose to 0.003 and it passed.",
        "",
        "Per parameter: the chi-square test of the rank histogram (20 bins) and the rank "
        "ECDF's simultaneous band (Säilynoja, Bürkner and Vehtari 2022), both at 1 % for the "
        "model, Bonferroni over its parameters (the band at 1 - 1 %/parameters; the 99 % "
        "band per parameter is in `uniformity.csv` and the figures). Figures: "
        "`<spec>/rank_ecdf.png` and `<spec>/rank_histograms.png`.",
        "",
        *lines,
        "",
        "## The selection model",
        "",
        "`selection_zinb` models the treatment too (participation has a probit likelihood), "
        "so each simulation draws it from the model: with the prior draw's probit index "
        "s, participation is Bernoulli(Phi(s)) per firm, the model's latent error follows "
        "from its uniform through the normal truncated by the drawn participation, and the "
        "outcome is drawn given both; the refit swaps in that treatment as it does the outcome "
        "(shared data, one compile per worker). "
        "The participation probit needs every binary covariate observed, so its study "
        f"uses the {', '.join(BINARIES)}-complete firms (216 of 229). Settings: 1,500 draws "
        "after 1,000 tuning, every 15th (ranks 0-200), because rho mixes slowest. Its "
        "ranks also cover rho, the firm effect's SD and the participation equation. "
        + _divergences(args.root / "selection_zinb"),
        "",
        "The first attempt kept the observed treatment in every refit, so its data were not "
        f"a draw from the joint model (`{ATTEMPT}/`, 400 draws, every 4th): "
        + _attempt(args.root / ATTEMPT) + " The selection model's bias against known "
        "truth is studied in `reports/selection_validation.md`.",
        "",
    ]
    if len(table):
        text += [markdown_table(table[["spec", "parameter", "sims", "chi2", "p_value",
                                       "in_band", "in_corrected_band", "calibrated"]], 3), ""]
    write_text(args.root / "README.md", "\n".join(text))
    print(f"wrote {args.root / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
