"""Command-line verbs for tables and the main job: validate, describe, simulate, demo."""

import argparse
import warnings
from pathlib import Path

from bayescluster.cli.common import GATES_FAILED, SEED, number, out_option, print_table, whole
from bayescluster.core.resources import DEFAULT_DATA, DEFAULT_SPEC


def _table(args):
    """The table a verb reads, validated with the roles its --spec or --formula gives.

    Neither given: the study's roles for the study's firm table; any other table needs a
    formula or a spec to say which column is the count.
    """
    from bayescluster.cli.fit import spec_of
    from bayescluster.core.errors import DataError
    from bayescluster.data.table import read_table
    from bayescluster.study.firms import PAPER_ROLES, STUDY_COLUMNS, is_study_table, validate

    frame = read_table(args.path)
    spec = spec_of(args, frame, default=None)
    if spec is None and not is_study_table(frame.columns):
        absent = ", ".join(sorted(STUDY_COLUMNS - set(frame.columns)))
        raise DataError(f"{args.path}: which column is the count? The table is not the study's "
                        f"firm table (it has no {absent}). Fix: pass --formula, e.g. "
                        f"--formula \"{frame.columns[0]} ~ ...\", or --spec with a TOML "
                        "spec naming its columns.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = validate(frame, PAPER_ROLES if spec is None else spec.roles)
    return data, [str(w.message) for w in caught]


def cmd_validate(args: argparse.Namespace) -> int:
    """Check a table and summarise it.

    Parameters
    ----------
    args : argparse.Namespace
        ``path`` of the CSV table and the model options (``spec``, ``formula`` and what a
        formula leaves open) that give its roles.

    Returns
    -------
    int
        0; a table that fails raises :class:`~bayescluster.core.errors.DataError`.
    """
    from bayescluster.data.describe import overview

    data, notes = _table(args)
    info, w = overview(data), data.words
    print(f"{args.path}: valid table of {w.count(info['rows'])}")
    participants = info["binary"].get("participant")
    if data.roles.cluster:
        groups = w.count(info["groups"], "groups") + (
            f" in {w.count(info['domains'], 'domains')}" if data.roles.domain else "")
    else:
        groups = "single-level (no grouping column)"
    print(f"  {groups}" + (f", participants {participants}" if participants is not None
                           else ""))
    for name, counts in info["levels"].items():
        shown = ", ".join(f"{level} {n}" for level, n in list(counts.items())[:8])
        more = f" and {len(counts) - 8} more" if len(counts) > 8 else ""
        print(f"  {name}: {len(counts)} levels ({shown}{more})")
    if info["missing"]:
        listed = ", ".join(f"{c} {k}" for c, k in info["missing"].items())
        print(f"  missing covariate values (blank cells): {listed}; complete "
              f"{w.rows} {info['complete_cases']}")
    else:
        print("  no missing covariate values")
    for note in notes:
        print(f"  warning: {note}")
    return 0


def cmd_describe(args: argparse.Namespace) -> int:
    """Statistics of a table (the study's beside the paper's Table 3).

    Parameters
    ----------
    args : argparse.Namespace
        ``path`` of the CSV table and the model options that give its roles.

    Returns
    -------
    int
        0.
    """
    from bayescluster.data.describe import describe, levels
    from bayescluster.study.firms import STUDY_WORDS, describe_beside_table3

    data, _ = _table(args)
    if data.words == STUDY_WORDS:
        print(f"{args.path}: {data.n_firms} firms; ours beside the paper's Table 3 (N = 229)")
        print_table(describe_beside_table3(data), 2)
    else:
        print(f"{args.path}: {data.words.count(data.n_firms)}")
        print_table(describe(data), 2)
    table = levels(data)
    if not table.empty:
        print("\ncategorical columns: rows per level")
        print_table(table, 2)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write a calibrated synthetic firm table and its truth.

    Parameters
    ----------
    args : argparse.Namespace
        ``n``, ``seed``, ``rho``, ``trait_sd``, ``participation`` and ``complete`` (no
        missing covariate values) of :func:`~bayescluster.study.simulate.simulate`, and
        ``out``, the CSV file to write.

    Returns
    -------
    int
        0.
    """
    from bayescluster.study.simulate import simulate, write

    sim = simulate(n=args.n, seed=args.seed, rho=args.rho, trait_sd=args.trait_sd,
                   missing=not args.complete, participation=args.participation)
    table, truth = write(sim, args.out)
    print(f"wrote {table} ({args.n} firms) and {truth}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on the shipped data: validate, describe, fit, check, report.

    Parameters
    ----------
    args : argparse.Namespace
        ``out`` (the report's folder), ``runs`` (the runs' parent folder), ``compare``
        (further specs to fit) and ``force``.

    Returns
    -------
    int
        0 when the main fit passed its convergence gates, else 3.
    """
    from bayescluster.study.demo import demo

    plain = {"spec": None, "formula": None, "family": None, "zero_formula": None, "id": None,
             "missing": None, "baseline": None, "parameterization": None, "prior": None}
    print(f"== validate {DEFAULT_DATA}")
    cmd_validate(argparse.Namespace(path=DEFAULT_DATA, **plain))
    print(f"\n== describe {DEFAULT_DATA}")
    cmd_describe(argparse.Namespace(path=DEFAULT_DATA, **plain))
    passed = demo(DEFAULT_SPEC, DEFAULT_DATA, Path(args.out), args.runs, tuple(args.compare),
                  force=args.force)
    return 0 if passed else GATES_FAILED


def _truth(path: Path) -> tuple[Path, ...]:
    from bayescluster.study.simulate import truth_path

    return (truth_path(path),)


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register validate, describe, simulate and demo.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The main parser's subparsers.
    """
    from bayescluster.cli.fit import model_options

    p = sub.add_parser("validate", help="check a table against a model's roles and "
                       "summarise it")
    p.add_argument("path", type=Path)
    model_options(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("describe", help="statistics of a table (the study's beside Table 3)")
    p.add_argument("path", type=Path)
    model_options(p)
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
    p.add_argument("--complete", action="store_true", help="no missing covariate values")
    out_option(p, "file", required=True, help="CSV of the table (its truth is written beside)",
               companions=_truth)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("demo", help="validate, fit, check and report on the shipped data")
    out_option(p, default="reports/demo", help="folder of the report")
    out_option(p, flag="--runs", default="runs/demo",
               help="parent folder of the run directories (one per spec)")
    p.add_argument("--compare", nargs="*", default=["negbin_hier"], metavar="SPEC",
                   help="further specs to fit and report beside the default (e.g. "
                        "selection_zinb claims_hier citations_hier)")
    p.set_defaults(func=cmd_demo)
