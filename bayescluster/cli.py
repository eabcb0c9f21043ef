"""Command line: one verb per job, thin over the library functions.

Exit codes: 0 success; 2 a problem with the data, spec or run directory (message, no
traceback); 3 a fit that failed its convergence gates.
"""

import argparse
import sys
import warnings
from pathlib import Path

import pandas as pd

from bayescluster.errors import BayesclusterError
from bayescluster.paths import DEFAULT_DATA, DEFAULT_SPEC


def _roles(spec_path):
    from bayescluster.data import PAPER_ROLES

    if spec_path is None:
        return PAPER_ROLES
    from bayescluster.spec import load_spec

    return load_spec(spec_path).roles


def _print_table(frame: pd.DataFrame, digits: int = 3) -> None:
    with pd.option_context("display.width", 160, "display.max_columns", 30,
                           "display.max_rows", 200):
        print(frame.round(digits).to_string())


def cmd_validate(args) -> int:
    from bayescluster.data import load
    from bayescluster.describe import overview

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load(args.path, _roles(args.spec))
    info = overview(data)
    print(f"{args.path}: valid firm table")
    print(f"  firms {info['firms']}, clusters {info['clusters']}, domains {info['domains']}"
          + (f", participants {info['participants']}" if "participants" in info else ""))
    if info["missing"]:
        listed = ", ".join(f"{c} {k}" for c, k in info["missing"].items())
        print(f"  missing covariate values: {listed}; complete cases {info['complete_cases']}")
    else:
        print("  no missing covariate values")
    for w in caught:
        print(f"  warning: {w.message}")
    return 0


def cmd_describe(args) -> int:
    from bayescluster.data import load
    from bayescluster.describe import describe

    data = load(args.path, _roles(args.spec))
    print(f"{args.path}: {data.n_firms} firms; ours beside the paper's Table 3 (N = 229)")
    _print_table(describe(data), 2)
    return 0


def cmd_simulate(args) -> int:
    from bayescluster.simulate import simulate, write

    sim = simulate(n=args.n, seed=args.seed, rho=args.rho, trait_sd=args.trait_sd,
                   missing=not args.complete)
    table, truth = write(sim, args.out)
    print(f"wrote {table} ({args.n} firms) and {truth}")
    return 0


def cmd_demo(args) -> int:
    """The main job on the shipped data: validate, describe, fit, check, report."""
    from bayescluster.data import load
    from bayescluster.describe import describe

    print(f"== validate {DEFAULT_DATA}")
    cmd_validate(argparse.Namespace(path=DEFAULT_DATA, spec=None))
    print(f"\n== describe {DEFAULT_DATA}")
    _print_table(describe(load(DEFAULT_DATA)), 2)
    from bayescluster import workflow

    return workflow.demo(DEFAULT_SPEC, DEFAULT_DATA, Path(args.out), args.runs,
                         tuple(args.compare))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bayescluster", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a firm table and summarise it")
    p.add_argument("path", type=Path)
    p.add_argument("--spec", type=Path, help="map columns to roles with this model spec")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("describe", help="statistics of a firm table beside Table 3")
    p.add_argument("path", type=Path)
    p.add_argument("--spec", type=Path)
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("simulate", help="write a calibrated synthetic firm table and its truth")
    p.add_argument("--n", type=int, default=229)
    p.add_argument("--seed", type=int, default=2001)
    p.add_argument("--rho", type=float, default=0.0, help="selection on unobservables")
    p.add_argument("--trait-sd", type=float, default=None)
    p.add_argument("--complete", action="store_true", help="no missing covariate values")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("demo", help="validate, fit, check and report on the shipped data")
    p.add_argument("--out", default="reports/demo")
    p.add_argument("--runs", default="runs/demo", type=Path,
                   help="parent folder of the run directories (one per spec)")
    p.add_argument("--compare", nargs="*", default=["negbin_hier"], metavar="SPEC",
                   help="further specs to fit and report beside the default (e.g. "
                        "selection_zinb claims_hier citations_hier)")
    p.set_defaults(func=cmd_demo)

    from bayescluster import cli_analysis, cli_fit

    cli_fit.add_commands(sub)
    cli_analysis.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
    try:
        return args.func(args)
    except BayesclusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
