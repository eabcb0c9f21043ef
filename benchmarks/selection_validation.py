"""Repeated-simulation check of the selection model (issue: self-selection into clusters).

For several seeds, simulate firms with selection on unobservables (rho = 0.5, firm-trait SD
0.5) and without (rho = 0), fit ``selection_zinb`` (and, at rho = 0.5, the uncorrected
``zinb_hier``) and record: whether rho's 90% interval covers the truth, and the error of
the participation effect with and without the correction. Writes
``reports/selection_validation.md``.

    .venv/bin/python benchmarks/selection_validation.py --n 1000 --seeds 21 22 23 24

``--merge A.csv B.csv`` writes the report from earlier calls' CSVs (other seeds of the same
settings), so that slow settings can run a few seeds at a time.
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from bayescluster.core.atomic import write_text
from bayescluster.inference.fit import fit
from bayescluster.reporting.document import markdown_table
from bayescluster.spec import load_spec
from bayescluster.study.firms import validate
from bayescluster.study.simulate import model_scale_truth, simulate

warnings.filterwarnings("ignore")


def one(n: int, seed: int, rho: float, participation: str, names: tuple[str, ...],
        instrument: float = 1.0) -> dict:
    sim = simulate(n, seed=seed, rho=rho, participation=participation, instrument=instrument)
    data = validate(sim.data)
    row = {"participation": participation, "instrument": instrument, "rho_true": rho,
           "seed": seed, "n": n}
    for name in names:
        t0 = time.perf_counter()
        run = fit(load_spec(name), data, chains=2, draws=500, tune=700, seed=1, quiet=True)
        truth = model_scale_truth(sim.truth, run.design)["fixed"]["participant"]
        beta = float(run.posterior["beta"].sel(coef="participant").mean())
        row[f"{name}_error"] = beta - truth
        row[f"{name}_sd"] = float(run.posterior["beta"].sel(coef="participant").std())
        row[f"{name}_s"] = time.perf_counter() - t0
        if "rho" in run.posterior:
            r = np.asarray(run.posterior["rho"].values).ravel()
            lo, hi = np.quantile(r, [0.05, 0.95])
            row.update(rho_mean=r.mean(), rho_lower=lo, rho_upper=hi,
                       rho_covered=bool(lo < rho < hi))
    print(row, flush=True)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[21, 22, 23, 24])
    parser.add_argument("--participation", choices=("copula", "probit"), default="copula",
                        help="how firms select into participation (study.simulate)")
    parser.add_argument("--rho", type=float, nargs="+", default=[0.5, 0.0])
    parser.add_argument("--instrument", type=float, default=1.0,
                        help="with --participation probit: age's slope times this")
    parser.add_argument("--specs", nargs="+", default=["selection_zinb", "zinb_hier"],
                        help="the corrected model and, to compare, the uncorrected one")
    parser.add_argument("--out", type=Path, default=Path("reports/selection_validation.md"))
    parser.add_argument("--merge", type=Path, nargs="+",
                        help="write the report from these CSVs of earlier calls (the same "
                        "settings, other seeds) instead of fitting")
    args = parser.parse_args(argv)
    if args.merge:
        table = pd.concat([pd.read_csv(p) for p in args.merge], ignore_index=True)
        table = table.sort_values(["rho_true", "seed"], ignore_index=True)
        args.seeds = sorted(table["seed"].unique().tolist())
    else:
        table = pd.DataFrame([one(args.n, s, rho, args.participation, tuple(args.specs),
                                  args.instrument) for rho in args.rho for s in args.seeds])
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    lines = [
        "# Selection model: repeated-simulation check",
        "",
        f"`python benchmarks/selection_validation.py --n {args.n} --participation "
        f"{args.participation} --instrument {args.instrument} --rho "
        f"{' '.join(map(str, args.rho))} --specs {' '.join(args.specs)} --seeds "
        f"{' '.join(map(str, args.seeds))}`; 2 chains x 500 draws (700 tune) per fit, nutpie."
        + (f" Seeds run in separate calls, merged from {', '.join(p.name for p in args.merge)}."
           if args.merge else ""),
        "",
    ]
    if "rho_covered" in table:
        lines.append(f"- rho's 90% interval covers the truth in "
                     f"{int(table['rho_covered'].sum())} of {len(table)} fits.")
    for rho, group in table.groupby("rho_true", sort=False):
        for name in ("selection_zinb", "zinb_hier"):
            if f"{name}_error" not in group or group[f"{name}_error"].isna().all():
                continue
            error = group[f"{name}_error"].dropna()
            se = error.std(ddof=1) / np.sqrt(len(error))
            lines.append(f"- rho = {rho}, {name}: mean error of the participation effect "
                         f"{error.mean():+.3f} (SE over seeds {se:.3f}, {len(error)} seeds; "
                         f"{error.mean() / se:+.1f} SE from 0).")
    lines += ["", markdown_table(table, 3), ""]
    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
