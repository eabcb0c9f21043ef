"""Command-line verbs for fitting and reading runs: fit, diagnose, summary, sbc."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from bayescluster.cli.common import (
    CHAINS,
    DRAWS,
    GATES_FAILED,
    PROB,
    SEED,
    TARGET_ACCEPT,
    dask_options,
    dask_settings,
    number,
    out_option,
    print_gates,
    verify_option,
    whole,
)
from bayescluster.cli.common import print_table as _print
from bayescluster.core.defaults import CI_PROB, DEFAULT_SAMPLING
from bayescluster.core.errors import BayesclusterError, RunError, SpecError
from bayescluster.core.resources import DEFAULT_DATA, DEFAULT_SPEC
from bayescluster.spec.sampling import (
    BACKENDS,
    REMEDY_BUDGET,
    SAMPLERS,
    WITHDRAWN,
    sampler_refusal,
)

if TYPE_CHECKING:
    import pandas as pd

    from bayescluster.spec.parse import Spec


def spec_of(args: argparse.Namespace, data: pd.DataFrame | str | Path | None = None,
            default: str | None = "zinb_hier") -> Spec | None:
    """The spec a verb's ``--spec`` or ``--formula`` gives, with the options that change it.

    Neither given: the ``default`` spec (None: no spec).

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line with :func:`model_options`' options.
    data : DataFrame, str or Path, optional
        The table a formula's roles are read from.
    default : str, optional
        A shipped spec's name, used when neither ``--spec`` nor ``--formula`` is given.

    Returns
    -------
    Spec or None
        The spec, or None when none is given and ``default`` is None.

    Raises
    ------
    RunError
        When both ``--spec`` and ``--formula`` are given, or a spec is given with an option
        only a formula takes (``--family``, ``--zero-formula``, ``--id``).
    """
    from bayescluster.spec.choose import chosen_spec

    if args.formula and args.spec:
        raise RunError("give either --spec or --formula, not both. Fix: drop one.")
    model = args.formula or args.spec or default
    if model is None:
        return None
    options = {"family": args.family, "zero_formula": args.zero_formula, "id": args.id,
               "missing": args.missing, "baselines": dict(args.baseline or []),
               "parameterization": args.parameterization,
               "priors": dict(args.prior or [])}
    if not args.formula:
        given = [f"--{k.replace('_', '-')}" for k in ("family", "zero_formula", "id")
                 if options.pop(k) is not None]
        if given:
            raise RunError(f"{', '.join(given)} go(es) with --formula; a spec names its own. "
                           "Fix: drop it, or give --formula.")
    return chosen_spec(model, data, **options)


def cmd_fit(args: argparse.Namespace) -> int:
    """Fit a spec or formula to a table and write the run.

    Parameters
    ----------
    args : argparse.Namespace
        ``data``, the model options, the sampler options (``sampler``, ``backend``,
        ``chains``, ``draws``, ``tune``, ``seed``, ``target_accept``, ``prior_only``,
        ``no_remedies``, ``remedy_budget``, ``quiet``), ``out`` and ``force``.

    Returns
    -------
    int
        0 when the fit passed its convergence gates, else 3 (the run is written
        either way).

    Raises
    ------
    BayesclusterError
        For bad data, spec or options (the message names the shipped table when no
        ``--data`` was given).
    """
    from bayescluster.inference.fit import fit
    from bayescluster.inference.run import save
    from bayescluster.study.firms import load

    defaulted = args.data is None
    args.data = DEFAULT_DATA if defaulted else args.data
    try:
        spec = spec_of(args, args.data)
        data = load(args.data, spec.roles)
    except BayesclusterError as error:
        if not defaulted or (isinstance(error, SpecError) and not getattr(args, "formula", None)):
            raise
        raise type(error)(f"{error} (No --data was given, so this was the shipped firm "
                          "table. Fix: add --data YOUR_TABLE.csv.)") from None
    run = fit(spec, data, sampler=args.sampler, chains=args.chains, draws=args.draws,
              tune=args.tune, seed=args.seed, target_accept=args.target_accept,
              prior_only=args.prior_only, quiet=args.quiet, backend=args.backend,
              remedies=not args.no_remedies, remedy_budget=args.remedy_budget)
    path = save(run, args.out, force=args.force)
    print(f"wrote {path}")
    return 0 if print_gates(run) else GATES_FAILED


def cmd_diagnose(args: argparse.Namespace) -> int:
    """Print a run's gate table.

    Parameters
    ----------
    args : argparse.Namespace
        ``run`` (the run directory) and ``no_verify``.

    Returns
    -------
    int
        0 when the run passed its convergence gates (or has none), else 3.
    """
    from bayescluster.inference.run import load

    run = load(args.run, verify=not args.no_verify)
    print(f"{args.run}: {run.spec.name} ({run.spec.family}), status {run.tree.attrs['status']}")
    return 0 if print_gates(run) else GATES_FAILED


def cmd_summary(args: argparse.Namespace) -> int:
    """Print every parameter block of a run.

    Fixed effects (Table 4's layout for the paper's specs), the zero part, group-level and
    family parameters, domain totals.

    Parameters
    ----------
    args : argparse.Namespace
        ``run`` (the run directory), ``no_verify`` and ``prob``, the intervals'
        probability.

    Returns
    -------
    int
        0.
    """
    from bayescluster.analysis.intervals import check_ci_prob
    from bayescluster.analysis.summary import BLOCKS, group_totals, parameters
    from bayescluster.inference.run import load
    from bayescluster.study.policy import table4_layout

    check_ci_prob(args.prob)
    run = load(args.run, verify=not args.no_verify)
    if run.prior_only:
        print("prior-only run: no posterior to summarise")
        return 0
    pct = int(round(args.prob * 100))
    print(f"{run.spec.name} ({run.spec.family}) on {run.data.words.count(run.design.n_firms)}"
          + (f" ({run.design.n_dropped} dropped)" if run.design.n_dropped else "")
          + f"; posterior mean, SD and {pct}% interval")
    standardized = [c for c, t in run.spec.transforms.items() if "standardize" in t]
    if standardized:
        print(f"standardised covariates (per SD): {', '.join(standardized)}")
    table = parameters(run, ci_prob=args.prob)
    titles = {"fixed": "fixed effects on the log mean",
              "zero": "zero part: coefficients on logit P(zero)",
              "group": "group-level and family parameters (p_zero = P(zero))"}
    for block in BLOCKS:
        if block not in table.index.get_level_values("block"):
            continue
        part = table.xs(block, level="block")
        if block == "group" and "p_zero" not in part.index:
            titles[block] = "group-level and family parameters"
        if block == "fixed" and run.spec.paper_model:
            part = table4_layout(run, ci_prob=args.prob)
            titles[block] += f" (the paper's Table 4 {run.spec.paper_model} beside)"
        print(f"\n{titles[block]}")
        _print(part)
    totals = group_totals(run, "domain", ci_prob=args.prob)
    if not totals.empty:
        print(f"\n{run.data.words.domain} effects (population + deviation)")
        _print(totals)
    return 0


def cmd_sbc(args: argparse.Namespace) -> int:
    """Simulation-based calibration; ranks, uniformity and histograms written to --out.

    Parameters
    ----------
    args : argparse.Namespace
        ``spec``, ``data``, ``sims``, ``chains``, ``draws``, ``tune``, ``thin``,
        ``seed``, ``target_accept``, the Dask options (``scheduler``, ``workers``) and
        ``out``.

    Returns
    -------
    int
        0.
    """
    from bayescluster.analysis import plots, sbc
    from bayescluster.core.atomic import atomic_path
    from bayescluster.spec.parse import load_spec
    from bayescluster.study.firms import load

    spec = load_spec(args.spec)
    data = load(args.data, spec.roles)
    ranks = sbc.run(spec, data, sims=args.sims, chains=args.chains, draws=args.draws,
                    tune=args.tune, thin=args.thin, seed=args.seed,
                    target_accept=args.target_accept, **dask_settings(args))
    ecdf = sbc.rank_ecdf(ranks)
    table = sbc.uniformity(ranks, ecdf=ecdf)
    print("\n== rank uniformity (chi-square, small p = miscalibrated; in_band: the rank ECDF "
          f"stays in its simultaneous {sbc.BAND_PROB:.0%} band)")
    print(table.round(3).to_string())
    print(f"divergent fits: {int((ranks.groupby('sim')['divergences'].first() > 0).sum())} "
          f"of {args.sims}")
    out = args.out
    for name, frame in (("ranks", ranks), ("uniformity", table), ("rank_ecdf", ecdf)):
        with atomic_path(out / f"{name}.csv") as tmp:
            frame.to_csv(tmp)
    plots.save(plots.sbc_histograms(ranks), out / "rank_histograms.png")
    plots.save(plots.sbc_ecdf(ecdf), out / "rank_ecdf.png")
    print(f"written to {out}/ (ranks.csv, uniformity.csv, rank_ecdf.csv, rank_histograms.png, "
          "rank_ecdf.png)")
    return 0


def _baseline(text: str) -> tuple[str, str]:
    name, sign, level = text.partition("=")
    if not sign or not name.strip() or not level.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMN=LEVEL. Fix: e.g. "
                                         "--baseline sex=F.")
    return name.strip(), level.strip()


def sampler_name(text: str) -> str:
    """``--sampler``'s value; a withdrawn approximate fit is refused with the reason.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    str
        ``text``, for argparse's choices to check.

    Raises
    ------
    argparse.ArgumentTypeError
        For ``advi`` or ``pathfinder``.
    """
    if text in WITHDRAWN:
        raise argparse.ArgumentTypeError(sampler_refusal(text))
    return text


def _prior(text: str) -> tuple[str, object]:
    from bayescluster.core.errors import SpecError
    from bayescluster.spec.parse import prior_option

    try:
        return prior_option(text)
    except SpecError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def model_options(p: argparse.ArgumentParser) -> None:
    """The options that name a model: a spec or a formula, and what a formula leaves open.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The verb's parser.
    """
    from bayescluster.spec.families import DEFAULT_FAMILY, FAMILIES
    from bayescluster.spec.parse import MISSING, PARAMETERIZATIONS

    p.add_argument("--spec", help="spec path or shipped name (default: zinb_hier)")
    p.add_argument("--formula", help="the model as a formula instead of a spec, e.g. "
                   "\"pat ~ participant + log(scale) + (1 + participant | domain/cluster)\"; "
                   "roles are read from the data (text columns and C(x) are categorical)")
    p.add_argument("--family", choices=tuple(FAMILIES), metavar="FAMILY",
                   help=f"with --formula: the likelihood (default {DEFAULT_FAMILY}): "
                        + ", ".join(f"{name} ({family.label})"
                                    for name, family in FAMILIES.items()))
    p.add_argument("--zero-formula", help="with --formula: the zero part, e.g. \"~ 1 + rd\"")
    p.add_argument("--id", help="with --formula: the row id column")
    p.add_argument("--missing", choices=MISSING,
                   help="missing covariates: impute (sum over a missing binary or "
                        "categorical value, a latent continuous one; the default) or drop "
                        "the row")
    p.add_argument("--baseline", type=_baseline, action="append", metavar="COLUMN=LEVEL",
                   help="a categorical column's baseline level (default: its first level)")
    p.add_argument("--parameterization", choices=PARAMETERIZATIONS,
                   help="how group effects are sampled (default auto: by how much each "
                        "group's data say)")
    p.add_argument("--prior", type=_prior, action="append", metavar="NAME=DIST(...)",
                   help="a prior, e.g. \"sd_cluster=gamma(alpha=4, beta=10)\" (keys and "
                        "defaults: models/README.md)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register fit, diagnose, summary and sbc.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The main parser's subparsers.
    """
    p = sub.add_parser("fit", help="fit a model spec or formula to a table; write a run "
                       "directory")
    model_options(p)
    p.add_argument("--data", type=Path,
                   help="the table (CSV); needed with --formula (default for a spec: the "
                        "shipped firm table)")
    out_option(p, required=True, help="folder of the run (run.nc)")
    p.add_argument("--sampler", type=sampler_name, choices=SAMPLERS, default="nutpie",
                   help="NUTS by nutpie (the default) or by PyMC")
    p.add_argument("--backend", choices=BACKENDS, default="numba",
                   help="nutpie's compiler: numba (CPU) or jax (the jax extra; GPU if present)")
    p.add_argument("--chains", type=CHAINS, default=4)
    p.add_argument("--draws", type=DRAWS, help="default: the spec's [sampling], else "
                   f"{DEFAULT_SAMPLING['draws']}")
    p.add_argument("--tune", type=DRAWS, help="default: the spec's [sampling], else "
                   f"{DEFAULT_SAMPLING['tune']}")
    p.add_argument("--seed", type=SEED, default=1)
    p.add_argument("--target-accept", type=TARGET_ACCEPT,
                   help="default: the spec's [sampling], else "
                        f"{DEFAULT_SAMPLING['target_accept']}")
    p.add_argument("--prior-only", action="store_true", help="prior predictive draws only")
    p.add_argument("--no-remedies", action="store_true",
                   help="keep a fit that fails its gates as it is (by default the other "
                        "parameterisation, target_accept 0.99, longer tuning and more draws "
                        "are tried, as the failure calls for)")
    p.add_argument("--remedy-budget", type=number(0, 100, 6), default=REMEDY_BUDGET,
                   help="the remedies' sampling work at most, in multiples of the first "
                        f"fit's (default {REMEDY_BUDGET:g})")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("diagnose", help="print a run's convergence gate table")
    p.add_argument("run", type=Path)
    verify_option(p)
    p.set_defaults(func=cmd_diagnose)

    p = sub.add_parser("summary", help="every parameter block (Table 4's layout for the "
                                        "paper's specs)")
    p.add_argument("run", type=Path)
    verify_option(p)
    p.add_argument("--prob", type=PROB, default=CI_PROB)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("sbc", help="simulation-based calibration, refits on Dask")
    p.add_argument("--spec", default=str(DEFAULT_SPEC))
    p.add_argument("--data", type=Path, default=DEFAULT_DATA,
                   help="covariates to simulate on (its outcome, and a selection model's "
                   "treatment, are drawn anew)")
    p.add_argument("--sims", type=whole(2, 100_000, 100), default=100)
    p.add_argument("--chains", type=CHAINS, default=2)
    p.add_argument("--draws", type=DRAWS, default=400)
    p.add_argument("--tune", type=DRAWS, default=400)
    p.add_argument("--thin", type=whole(1, 1000, 4), default=4,
                   help="keep every n-th draw for the ranks")
    p.add_argument("--target-accept", type=TARGET_ACCEPT,
                   help="default: the spec's [sampling], else "
                        f"{DEFAULT_SAMPLING['target_accept']}")
    p.add_argument("--seed", type=SEED, default=0)
    dask_options(p)
    out_option(p, required=True)
    p.set_defaults(func=cmd_sbc)

