"""Command-line verbs for analysing saved runs: compare, effects, ppc, loo, predict, report.

Each prints its tables and, with ``--out DIR``, writes them as CSV and the figures as PNG.
"""

import argparse
from pathlib import Path

from bayescluster.analysis.reloo import LIMIT
from bayescluster.cli.common import (
    CHAINS,
    DRAWS,
    MAX_DRAWS,
    PROB,
    RELOO,
    SEED,
    TARGET_ACCEPT,
    dask_options,
    dask_settings,
    out_option,
    print_table,
    refuse_dask_options,
    verify_option,
    whole,
)
from bayescluster.core.atomic import atomic_path
from bayescluster.core.defaults import CI_PROB, DEFAULT_SAMPLING, PARETO_K
from bayescluster.core.errors import BayesclusterError


def _show(title: str, frame, out: Path | None, name: str, digits: int = 3, words=None):
    frame = frame if words is None else words.relabel(frame)
    print(f"\n== {title}")
    print_table(frame, digits)
    if out is not None:
        with atomic_path(out / f"{name}.csv") as tmp:
            frame.to_csv(tmp)


def _figure(fig, out: Path | None, name: str) -> None:
    from bayescluster.analysis import plots

    if out is not None:
        plots.save(fig, out / f"{name}.png")


def _refuse_groups(run, option: str) -> None:
    """An error for an option that splits by groups, on a run whose table has none."""
    if not run.design.varying:
        raise BayesclusterError(f"{option} splits by {run.data.words.groups}, but run "
                                f"{run.spec.name!r} is single-level (its table has no group "
                                f"column in the model). Fix: leave {option} out.")


def cmd_compare(args: argparse.Namespace) -> int:
    """Clusters and domains: effects, contrasts, ranks, shrinkage.

    Parameters
    ----------
    args : argparse.Namespace
        ``run`` (the run directory), ``no_verify``, ``effect``, ``clusters`` and
        ``domains`` (pairs to contrast), ``top`` and ``out``.

    Returns
    -------
    int
        0.

    Raises
    ------
    BayesclusterError
        For ``--domains`` on a run without domains, or a domain the run does not have.
    """
    import pandas as pd

    from bayescluster.analysis import clusters as cmp
    from bayescluster.analysis import plots
    from bayescluster.inference.run import load

    run, out = load(args.run, verify=not args.no_verify), args.out
    w = run.data.words
    if args.domains is None and {"bio", "it"} <= set(run.design.domain_labels) \
            and "domain_total" in run.posterior:
        args.domains = ["bio", "it"]  # the study's question, where a run can answer it
    if args.domains:
        if "domain_total" not in run.posterior:
            raise BayesclusterError(f"--domains contrasts two {w.domains}, but run "
                                    f"{run.spec.name!r} has no {w.domain} level. Fix: leave "
                                    "--domains out.")
        unknown = [d for d in args.domains if d not in run.design.domain_labels]
        if unknown:
            raise BayesclusterError(f"--domains: {', '.join(map(repr, unknown))} is not a "
                                    f"{w.domain} of run {run.spec.name!r}. Fix: choose from "
                                    f"{', '.join(run.design.domain_labels)}.")
    effects = cmp.group_effects(run, "cluster")
    upper = f" + {w.domain}" if "domain_total" in run.posterior else ""
    _show(f"{w.group} effects (total = population{upper} + {w.group})", effects, out,
          "cluster_effects", words=w)
    for effect in run.design.varying:
        _figure(plots.forest(w.relabel(effects), effect), out, f"forest_{effect}")
    effect = args.effect or cmp.default_effect(run.design)
    if args.clusters:
        a, b = args.clusters
        _show(f"contrast {a} - {b} ({effect})",
              cmp.contrast(run, a, b, level="cluster", effect=effect).to_frame().T, out,
              "cluster_contrast", words=w)
    matrix = cmp.contrast_matrix(run, "cluster", effect=effect)
    _show(f"P(row > column), {effect}", matrix, out, "cluster_matrix", 2, words=w)
    _figure(plots.heatmap(matrix), out, f"matrix_{effect}")
    _show(f"ranks ({effect}, 1 = largest)", cmp.ranks(run, "cluster", effect=effect,
                                                      top=args.top), out, "ranks", 2,
          words=w)
    shrink = cmp.shrinkage(run)
    _show("shrinkage: no pooling -> partial pooling (toward the pooled mean)", shrink, out,
          "shrinkage", words=w)
    _figure(plots.shrinkage_plot(shrink, effect), out, f"shrinkage_{effect}")
    if "domain_total" in run.posterior:
        for e in run.design.varying:
            _show(f"{w.domain} contrasts ({e})", cmp.domain_contrasts(run, effect=e), out,
                  f"domain_contrasts_{e}", words=w)
        if args.domains:
            a, b = args.domains
            rows = pd.DataFrame([cmp.contrast(run, a, b, level="domain", effect=e)
                                 for e in run.design.varying], index=run.design.varying)
            _show(f"{a} - {b} by effect", rows, out, "domain_pair", words=w)
    return 0


def cmd_effects(args: argparse.Namespace) -> int:
    """Average marginal effects (with the paper's Section 6.1) and profile predictions.

    Parameters
    ----------
    args : argparse.Namespace
        ``run`` (the run directory), ``no_verify``, ``profile`` (covariate settings, each
        ``x=VALUE,...``), ``by_cluster``, ``max_draws`` and ``out``.

    Returns
    -------
    int
        0.
    """
    from bayescluster.analysis import plots
    from bayescluster.analysis.effects import (
        average_marginal_effects,
        parse_profile,
        profile_predictions,
    )
    from bayescluster.inference.run import load
    from bayescluster.study.policy import applies, policy_effects

    run, out = load(args.run, verify=not args.no_verify), args.out
    if args.by_cluster:
        _refuse_groups(run, "--by-cluster")
    study = applies(run.design)
    table = (policy_effects if study else average_marginal_effects)(
        run, max_draws=args.max_draws)
    if table.empty:
        print(f"\n{args.run}: the model has no binary or categorical covariate, so there is "
              "no average marginal effect of switching one; its coefficients (bayescluster "
              "summary) are effects on the log mean. Profiles (--profile x=VALUE) give "
              f"E[{run.outcome}] at chosen values.")
    shown = table if args.by_cluster else table[
        table.index.get_level_values("level") != "cluster"]
    if not table.empty:
        _show(f"average marginal effects on E[{run.outcome}]"
              + (" (paper: Section 6.1)" if study else ""), shown, out, "effects",
              words=run.data.words)
        _figure(plots.effects_plot(table, outcome=run.outcome,
                                   reference="paper" if study else None,
                                   reference_label="paper (Sec. 6.1)"), out, "effects")
    for text in args.profile or []:
        _show(f"profile {text}", profile_predictions(run, parse_profile(text),
                                                     max_draws=args.max_draws), out,
              "profile_" + "".join(c if c.isalnum() or c in "-." else "_"
                                   for c in text.replace("=", "")), words=run.data.words)
    return 0


def cmd_ppc(args: argparse.Namespace) -> int:
    """Posterior (or prior) predictive checks.

    Parameters
    ----------
    args : argparse.Namespace
        ``run`` (the run directory), ``no_verify``, ``by_cluster`` (facet by cluster, not
        domain) and ``out``.

    Returns
    -------
    int
        0.
    """
    from bayescluster.analysis import checks, plots
    from bayescluster.inference.run import load

    run, out = load(args.run, verify=not args.no_verify), args.out
    if args.by_cluster:
        _refuse_groups(run, "--by-cluster")
    group = "prior" if run.prior_only else "posterior"
    by = "cluster" if args.by_cluster else "domain"
    _show(f"{group} predictive checks (p = P(T(y_rep) >= T(y)))",
          checks.ppc_statistics(run, by=by, group=group), out, "ppc_statistics",
          words=run.data.words)
    root = checks.rootogram(run, group=group)
    _show("rootogram", root, out, "rootogram", 2)
    _figure(plots.rootogram_plot(root), out, "rootogram")
    stats = {s: checks.ppc_draws(run, s, group=group) for s in checks.STATISTICS}
    _figure(plots.statistics_grid(stats), out, "ppc_statistics")
    facets = checks.ppc_facets(run, by=by, group=group)
    if facets:
        _figure(plots.facet_statistics_plot(facets), out, f"ppc_by_{by}")
    if group == "posterior":
        _figure(plots.loo_pit_plot(checks.loo_pit(run)), out, "loo_pit")
    return 0


def cmd_loo(args: argparse.Namespace) -> int:
    """PSIS-LOO, model comparison and leave-one-cluster-out.

    Parameters
    ----------
    args : argparse.Namespace
        ``runs`` (run directories), ``no_verify``, ``by_cluster`` and its refits'
        ``chains``, ``draws``, ``tune``, ``seed``, ``target_accept``, ``scheduler`` and
        ``workers``, and ``out``.

    Returns
    -------
    int
        0.
    """
    import numpy as np
    import pandas as pd

    from bayescluster.analysis import checks, plots
    from bayescluster.analysis.reloo import K_THRESHOLD, LIMIT
    from bayescluster.inference.run import load

    if args.by_cluster:
        dask = dask_settings(args)
    else:
        refuse_dask_options(args, "--by-cluster")
    runs = {str(p): load(p, verify=not args.no_verify) for p in args.runs}
    out, scores = args.out, []
    for name, run in runs.items():
        elpd, w = checks.loo(run), run.data.words
        bad = int((np.asarray(elpd.pareto_k.values) > K_THRESHOLD).sum())
        scores.append({"run": name, "elpd_loo": float(elpd.elpd), "se": float(elpd.se),
                       "p_loo": float(elpd.p), f"pareto_k_gt_{K_THRESHOLD}": bad})
        print(f"\n== {name}: elpd_loo {float(elpd.elpd):.2f} (SE {float(elpd.se):.2f}), "
              f"p_loo {float(elpd.p):.1f}; Pareto k > {K_THRESHOLD} for {w.count(bad)}")
        if bad:
            print(f"   PSIS-LOO is unreliable for those {w.rows}. Fix: bayescluster report "
                  f"{name} --out DIR refits the model without each of them (up to --reloo, "
                  f"default {LIMIT}) and reports the exact elpd.")
        if run.design.varying:
            _show(f"Pareto k by {w.group}", checks.pareto_k_by_cluster(run, elpd=elpd), out,
                  f"pareto_k_{Path(name).name}", words=w)
    if out is not None:
        with atomic_path(out / "loo.csv") as tmp:
            pd.DataFrame(scores).to_csv(tmp, index=False)
    if len(runs) > 1:
        _show("model comparison (stacking weights)", checks.compare_runs(runs), out,
              "loo_compare")
    if args.by_cluster:
        from bayescluster.analysis import loco

        tables = []
        for name, run in runs.items():
            table = loco.run(run.spec, run.data, chains=args.chains, draws=args.draws,
                             tune=args.tune, seed=args.seed,
                             target_accept=args.target_accept, **dask)
            tables.append(table.assign(model=Path(name).name))
        table = pd.concat(tables, ignore_index=True)
        w = next(iter(runs.values())).data.words
        _show(f"leave-one-{w.group}-out elpd by {w.group} (refits on Dask)",
              table.set_index(["model", "cluster"]), out, "loco", 2, words=w)
        _show(f"leave-one-{w.group}-out total (higher predicts new {w.groups} better)",
              loco.summarise(table), out, "loco_summary", 2, words=w)
        _figure(plots.loco_scores(table), out, "loco")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """Predicted counts for new rows, written to --out as CSV.

    Parameters
    ----------
    args : argparse.Namespace
        ``run`` (the run directory), ``no_verify``, ``data`` (CSV of new rows),
        ``counterfactual``, ``prob``, ``max_draws``, ``seed``, ``out`` and ``draws_out``.

    Returns
    -------
    int
        0.
    """
    from bayescluster.analysis.effects import parse_profile
    from bayescluster.analysis.intervals import check_ci_prob
    from bayescluster.analysis.predict import new_rows, predict, predict_draws
    from bayescluster.inference.run import load
    from bayescluster.study.registry import cluster_domains

    check_ci_prob(args.prob)
    run = load(args.run, verify=not args.no_verify)
    new = new_rows(run, args.data, domains=cluster_domains())
    table = predict(run, new, counterfactual=parse_profile(args.counterfactual)
                    if args.counterfactual else None, ci_prob=args.prob,
                    max_draws=args.max_draws, seed=args.seed)
    shown = table if len(table) <= 40 else table.head(40)
    w, unseen = run.data.words, int(table["new_cluster"].sum())
    source = f"their {w.domain}'s" if "domain_total" in run.posterior else "the fitted"
    heading = f"predictions for {len(table)} new rows" + (
        f" ({unseen} in {w.groups} the run has not seen: their effects drawn from {source} "
        "distribution of group effects)" if run.design.varying else "")
    _show(heading, shown, None, "predictions", words=w)
    if args.out is not None:
        with atomic_path(args.out) as tmp:
            w.relabel(table).to_csv(tmp, index=False)
        print(f"wrote {args.out}")
    if args.draws_out is not None:
        counts = predict_draws(run, new, max_draws=args.max_draws, seed=args.seed)["count"]
        with atomic_path(args.draws_out) as tmp:
            counts.to_dataframe().reset_index().to_csv(tmp, index=False)
        print(f"wrote {args.draws_out} (predictive draws of each row's count)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The study's HTML and Markdown report of saved runs.

    Parameters
    ----------
    args : argparse.Namespace
        ``runs`` (run directories, the first reported on), ``no_verify``, ``domains``,
        ``effect``, ``max_draws``, ``reloo`` and ``out``.

    Returns
    -------
    int
        0.
    """
    from bayescluster.inference.run import load
    from bayescluster.study.report import write_report

    if not args.influence_refits:
        refuse_dask_options(args, "--influence-refits")
    influence = dask_settings(args) if args.influence_refits else None
    runs = [load(p, verify=not args.no_verify) for p in args.runs]
    print(f"building the report of {args.runs[0]} from {len(runs)} saved run(s) ...")
    paths = write_report(runs, args.out, domains=args.domains, effect=args.effect,
                         max_draws=args.max_draws, reloo=args.reloo, influence=influence)
    print(f"report written: {paths['html']} (self-contained) and {paths['markdown']}")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    """Prior and likelihood sensitivity by power-scaling, with a verdict per quantity.

    Parameters
    ----------
    args : argparse.Namespace
        ``run``, ``no_verify``, ``domains``, ``max_draws``, ``parameters_only`` and ``out``.

    Returns
    -------
    int
        0.

    Raises
    ------
    BayesclusterError
        For ``--domains`` on a run that does not pool its groups within domains.
    """
    from bayescluster.analysis import plots
    from bayescluster.analysis.sensitivity import PRIOR_TAIL, THRESHOLD, sensitivity
    from bayescluster.inference.run import load

    run = load(args.run, verify=not args.no_verify)
    if args.domains is not None and not run.design.spec.pool_by_domain:
        raise BayesclusterError(f"--domains contrasts two {run.data.words.domains}, but run "
                                f"{run.spec.name!r} does not pool its "
                                f"{run.data.words.groups} within any. Fix: leave --domains "
                                "out.")
    print(f"power-scaling the prior and the likelihood of {run.spec.name} "
          f"({'parameters' if args.parameters_only else 'parameters and derived quantities'}"
          f"; {'all' if args.max_draws is None else f'up to {args.max_draws}'} draws) ...",
          flush=True)
    table = sensitivity(run, max_draws=args.max_draws, effects=not args.parameters_only,
                        domains=tuple(args.domains) if args.domains else None)
    flagged = table[table["verdict"] != "fine"]
    _show(f"power-scaling sensitivity (at or above {THRESHOLD} is sensitive)",
          table.set_index("quantity"), args.out, "sensitivity", 3)
    conflicts = flagged[flagged["verdict"] == "prior-data conflict"]["quantity"]
    print(f"\n{len(flagged)} of {len(table)} quantities sensitive to the prior"
          + (": " + "; ".join(f"{q} ({v})" for q, v in zip(flagged["quantity"],
                                                           flagged["verdict"], strict=True))
             if len(flagged) else "") + ".\nPrior-data conflict (the posterior in the prior's "
          f"outer {PRIOR_TAIL:.1%} on a side): {', '.join(conflicts) or 'none'}.")
    _figure(plots.sensitivity_plot(table, THRESHOLD), args.out, "sensitivity")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register compare, effects, ppc, loo, sensitivity, predict and report.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The main parser's subparsers.
    """
    p = sub.add_parser("compare", help="groups (the model's clusters) and domains: "
                                       "effects, contrasts, ranks, shrinkage")
    p.add_argument("run", type=Path)
    verify_option(p)
    p.add_argument("--effect", help="varying effect for the matrix, ranks and contrasts "
                   "(default: the last varying effect)")
    p.add_argument("--clusters", nargs=2, metavar=("A", "B"), help="two groups to contrast")
    p.add_argument("--domains", nargs=2, metavar=("A", "B"),
                   help="two domains to contrast (default: bio it, when the run has both)")
    p.add_argument("--top", type=whole(1, 1000, 3), default=3)
    out_option(p)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("effects", help="average marginal effects on the outcome's mean; "
                                       "profile predictions")
    p.add_argument("run", type=Path)
    verify_option(p)
    p.add_argument("--profile", action="append",
                   help="covariates to set, e.g. participant=1,national=1,sameregion=1")
    p.add_argument("--by-cluster", action="store_true", help="by group, not only overall")
    p.add_argument("--max-draws", type=MAX_DRAWS, default=1000)
    out_option(p)
    p.set_defaults(func=cmd_effects)

    p = sub.add_parser("ppc", help="posterior (or prior) predictive checks")
    p.add_argument("run", type=Path)
    verify_option(p)
    p.add_argument("--by-cluster", action="store_true", help="facet by group, not domain")
    out_option(p)
    p.set_defaults(func=cmd_ppc)

    p = sub.add_parser("loo", help="PSIS-LOO, model comparison, leave-one-group-out")
    p.add_argument("runs", type=Path, nargs="+")
    verify_option(p)
    p.add_argument("--by-cluster", action="store_true",
                   help="exact leave-one-group-out: a refit per group, on Dask")
    p.add_argument("--chains", type=CHAINS, default=2)
    p.add_argument("--draws", type=DRAWS, default=500)
    p.add_argument("--tune", type=DRAWS, default=500)
    p.add_argument("--seed", type=SEED, default=0)
    p.add_argument("--target-accept", type=TARGET_ACCEPT,
                   help="default: the spec's [sampling], else "
                        f"{DEFAULT_SAMPLING['target_accept']}")
    dask_options(p)
    out_option(p)
    p.set_defaults(func=cmd_loo)

    p = sub.add_parser("sensitivity", help="prior and likelihood sensitivity by power-scaling "
                                           "(priorsense), a verdict per quantity")
    p.add_argument("run", type=Path)
    verify_option(p)
    p.add_argument("--domains", nargs=2, metavar=("A", "B"),
                   help="the domain contrast A - B (default: bio - it, when the run has both)")
    p.add_argument("--max-draws", type=MAX_DRAWS, default=None,
                   help="thin the draws evenly to this many (default: all)")
    p.add_argument("--parameters-only", action="store_true",
                   help="leave out the marginal effects, contrast and group totals")
    out_option(p)
    p.set_defaults(func=cmd_sensitivity)

    p = sub.add_parser("predict", help="predicted counts for new rows (in known or new groups)")
    p.add_argument("run", type=Path)
    verify_option(p)
    p.add_argument("--data", type=Path, required=True,
                   help="CSV of new rows: the run's covariate and grouping columns")
    p.add_argument("--counterfactual", metavar="NAME=VALUE,...",
                   help="set covariates for every row, e.g. participant=1: each row's "
                        "difference against its own values")
    p.add_argument("--prob", type=PROB, default=CI_PROB, help="interval probability")
    p.add_argument("--max-draws", type=MAX_DRAWS, default=1000)
    p.add_argument("--seed", type=SEED, default=0)
    out_option(p, "file", help="CSV of the predictions")
    out_option(p, "file", flag="--draws-out",
               help="CSV of the predictive draws of each row's count (sample, row, count)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("report", help="HTML and Markdown report from saved runs (refits "
                       "only where PSIS-LOO fails for a few rows)")
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN_DIR",
                   help="the run to report on, then any runs to compare it with")
    verify_option(p)
    p.add_argument("--domains", nargs=2, metavar=("A", "B"),
                   help="domains to contrast (default: bio it, when the data have both)")
    p.add_argument("--effect", help="varying effect for the group figures and ranks "
                   "(default: the last varying effect)")
    p.add_argument("--max-draws", type=MAX_DRAWS, default=1000)
    p.add_argument("--reloo", type=RELOO, default=LIMIT, metavar="N",
                   help="refit exactly without each row PSIS-LOO cannot estimate (Pareto k "
                        f"> {PARETO_K}) when a run has at most N of them (default {LIMIT}; "
                        "0: never)")
    p.add_argument("--influence-refits", action="store_true",
                   help="refit without each group, domain or row whose influence on a "
                        "finding cannot be reweighted (Pareto k > 0.7), on Dask (default: say "
                        "which could not)")
    dask_options(p)
    out_option(p, required=True, help="folder of the report (index.html, report.md, "
               "figures, tables/)")
    p.set_defaults(func=cmd_report)
