"""Command-line verbs for firm tables and the main job: validate, describe, simulate, demo."""

import argparse
import warnings
from pathlib import Path

from bayescluster.cli.common import GATES_FAILED, SEED, folder, number, print_table, whole
from bayescluster.core.resources import DEFAULT_DATA, DEFAULT_SPEC


def _roles(spec_path):
    if spec_path is None:
        from bayescluster.study.firms import PAPER_ROLES

        return PAPER_ROLES
    from bayescluster.spec.parse import load_spec

    return load_spec(spec_path).roles


def cmd_validate(args) -> int:
    """Check a firm table and summarise it."""
    from bayescluster.data.describe import overview
    from bayescluster.study.firms import load

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load(args.path, _roles(args.spec))
    info = overview(data)
    print(f"{args.path}: valid firm table")
    participants = info["binary"].get("participant")
    groups = f"clusters {info['clusters']}, domains {info['domains']}" if data.roles.cluster \
        else "single-level (no cluster column)"
    print(f"  firms {info['firms']}, {groups}"
          + (f", participants {participants}" if participants is not None else ""))
    if info["missing"]:
        listed = ", ".join(f"{c} {k}" for c, k in info["missing"].items())
        print(f"  missing covariate values: {listed}; complete cases {info['complete_cases']}")
    else:
        print("  no missing covariate values")
    for w in caught:
        print(f"  warning: {w.message}")
    return 0


def cmd_describe(args) -> int:
    """Statistics of a firm table beside the paper's Table 3."""
    from bayescluster.study.firms import describe_beside_table3, load

    data = load(args.path, _roles(args.spec))
    print(f"{args.path}: {data.n_firms} firms; ours beside the paper's Table 3 (N = 229)")
    print_table(describe_beside_table3(data), 2)
    return 0


def cmd_simulate(args) -> int:
    """Write a calibrated synthetic firm table and its truth."""
    from bayescluster.core.errors import RunError
    from bayescluster.study.simulate import simulate, truth_path, write

    out = Path(args.out)
    if out.is_dir():
        raise RunError(f"--out {str(out)!r} is a directory. Fix: name the CSV file to write.")
    taken = [str(p) for p in (out, truth_path(out)) if p.exists()]
    if taken and not args.force:
        raise RunError(f"{' and '.join(taken)} already exist(s). Fix: choose another --out or "
                       "pass --force to replace them.")
    sim = simulate(n=args.n, seed=args.seed, rho=args.rho, trait_sd=args.trait_sd,
                   missing=not args.complete, participation=args.participation)
    table, truth = write(sim, args.out)
    print(f"wrote {table} ({args.n} firms) and {truth}")
    return 0


def cmd_demo(args) -> int:
    """The main job on the shipped data: validate, describe, fit, check, report."""
    from bayescluster.study.demo import demo

    print(f"== validate {DEFAULT_DATA}")
    cmd_validate(argparse.Namespace(path=DEFAULT_DATA, spec=None))
    print(f"\n== describe {DEFAULT_DATA}")
    cmd_describe(argparse.Namespace(path=DEFAULT_DATA, spec=None))
    passed = demo(DEFAULT_SPEC, DEFAULT_DATA, Path(args.out), args.runs, tuple(args.compare))
    return 0 if passed else GATES_FAILED


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register validate, describe, simulate and demo."""
    p = sub.add_parser("validate", help="check a firm table and summarise it")
    p.add_argument("path", type=Path)
    p.add_argument("--spec", type=Path, help="map columns to roles with this model spec")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("describe", help="statistics of a firm table beside Table 3")
    p.add_argument("path", type=Path)
    p.add_argument("--spec", type=Path)
    p.set_defaults(func=cmd_describe)

    p = sub.add_parser("simulate", help="write a calibrated synthetic firm table and its truth")
    p.add_argument("--n", type=whole(38, 1_000_000, 229), default=229,
                   help="firms (38, two a cluster, to 1,000,000)")
    p.add_argument("--seed", type=SEED, default=2001)
    p.add_argument("--rho", type=number(-1, 1, 0.3, open_low=True, open_high=True),
                   default=0.0, help="selection on unobservables, in (-1, 1)")
    p.add_argument("--trait-sd", type=number(0, 10, 0.5), default=None)
    p.add_argument("--participation", choices=("copula", "probit"), default="copula",
                   help="how firms select into participation: copula (Appendix 2's "
                   "correlations) or probit (the selection model's own assumption)")
    p.add_argument("--force", action="store_true", help="replace an existing table")
    p.add_argument("--complete", action="store_true", help="no missing covariate values")
    p.add_argument("--out", type=Path, required=True)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("demo", help="validate, fit, check and report on the shipped data")
    p.add_argument("--out", default="reports/demo", type=folder)
    p.add_argument("--runs", default="runs/demo", type=folder,
                   help="parent folder of the run directories (one per spec)")
    p.add_argument("--compare", nargs="*", default=["negbin_hier"], metavar="SPEC",
                   help="further specs to fit and report beside the default (e.g. "
                        "selection_zinb claims_hier citations_hier)")
    p.set_defaults(func=cmd_demo)
