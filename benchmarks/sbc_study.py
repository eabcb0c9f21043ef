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
from pathlib import Path

import pandas as pd

from bayescluster.core.atomic import write_text
from bayescluster.reporting.document import markdown_table

SPECS = ("zinb_hier", "negbin_hier", "hurdle_hier")
# selection_zinb cannot be checked this way (`bayescluster sbc` refuses it): its treatment
# is modelled, and refits that keep the observed treatment are not draws from the joint
# model. The one attempt, made before the refusal, is kept beside the others.
ATTEMPT = "selection_zinb_observed_treatment"
SETTINGS = ["--sims", "200", "--chains", "2", "--draws", "400", "--tune", "400", "--thin", "4",
            "--workers", "2", "--seed", "11"]
# negbin_hier's intercept mixes slowly: at 400 draws its thinned draws are still
# autocorrelated and its ranks U-shaped (negbin_hier_400_draws/, p = 8e-5)
LONGER = {"negbin_hier": ["--draws", "1200", "--tune", "600", "--thin", "6"]}
ALPHA = 0.01


def run(spec: str, root: Path) -> None:
    subprocess.run([sys.executable, "-m", "bayescluster.cli", "sbc", "--spec", spec,
                    *SETTINGS, *LONGER.get(spec, []), "--out", str(root / spec)], check=True)


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
        table["calibrated"] = (table["p_value"] > threshold) & table["in_band"]
        failing = list(table.index[~table["calibrated"]])
        lines.append(
            f"- `{spec}`: {sims} simulations, {len(table)} parameters; smallest p "
            f"{table['p_value'].min():.3g} ({table['p_value'].idxmin()}) against the "
            f"Bonferroni threshold {threshold:.2g}; {int(table['in_band'].sum())} of "
            f"{len(table)} rank ECDFs inside their 99 % band; fits with a divergence: "
            f"{divergent} of {sims}. Verdict: "
            + ("calibrated." if not failing else f"**not calibrated: {', '.join(failing)}**."))
        tables.append(table.assign(spec=spec).reset_index())
    return (pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()), lines


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
        "ranks 0-400). A calibrated model ranks each true value uniformly among its "
        "posterior draws.",
        "",
        "negbin_hier at the shorter settings (`negbin_hier_400_draws/`) failed in its "
        "intercept alone (p = 8e-5, U-shaped ranks, 13 of 14 in band): the intercept mixes "
        "slowest, and every 4th of 400 draws is still autocorrelated (which piles ranks at "
        "the ends); with 1,200 draws, every 6th, its p rose to 0.003 and it passed.",
        "",
        "Per parameter: the chi-square test of the rank histogram (20 bins) and the rank "
        "ECDF's simultaneous 99 % band (Säilynoja, Bürkner and Vehtari 2022). Figures: "
        "`<spec>/rank_ecdf.png` and `<spec>/rank_histograms.png`.",
        "",
        *lines,
        "",
        "## The selection model: why it is not here",
        "",
        "SBC needs every modelled quantity drawn from the model. `selection_zinb` models the "
        "treatment too (participation has a probit likelihood), but `sbc` redraws only the "
        "outcome and refits with the observed treatment, so the simulated data are not a "
        "draw from the joint model. The one such attempt (before `sbc` refused selection "
        f"models; `{ATTEMPT}/`, same settings) is far from uniform: "
        + _attempt(args.root / ATTEMPT) + " The excess of truths below or above every "
        "posterior draw is in the count model's intercept and the coefficients of the "
        "covariates that are also in the participation equation, and it is as large in the "
        "fits without a divergence as in those with one, which points at the check rather "
        "than the sampler (the expected symptom of refits whose treatment the simulated "
        "parameters did not generate; not proven here). Simulating the treatment as well "
        "needs a model compiled per simulation; "
        "until then the selection model is checked against known truth by "
        "`benchmarks/selection_validation.py` (`reports/selection_validation.md`).",
        "",
    ]
    if len(table):
        text += [markdown_table(table[["spec", "parameter", "sims", "chi2", "p_value",
                                       "in_band", "calibrated"]], 3), ""]
    write_text(args.root / "README.md", "\n".join(text))
    print(f"wrote {args.root / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
