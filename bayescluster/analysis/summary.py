"""Tidy posterior summaries: every parameter block, fixed effects, group totals."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd
import xarray as xr

from bayescluster.analysis.intervals import CI_PROB, summarise
from bayescluster.spec.families import parameter_priors

if TYPE_CHECKING:
    from bayescluster.inference.run import Run

COLUMNS = ("mean", "sd", "lower", "upper", "p_gt_0")


def describe_draws(draws: xr.DataArray, *, ci_prob: float = CI_PROB) -> dict:
    """Mean, SD, central ``ci_prob`` interval and P(> 0) of one quantity's draws.

    Parameters
    ----------
    draws : xarray.DataArray
        One quantity's draws, e.g. (chain, draw); every value is a draw.
    ci_prob : float
        The interval's probability.

    Returns
    -------
    dict
        ``mean``, ``sd``, ``lower``, ``upper``, ``p_gt_0``.
    """
    stats = summarise(draws.values, ci_prob=ci_prob)
    return {k: stats[k] for k in COLUMNS}


def fixed_effects(run: Run, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Posterior mean, SD, central interval and P(> 0) of every fixed effect.

    Parameters
    ----------
    run : Run
        A fitted run.
    ci_prob : float
        The interval's probability.

    Returns
    -------
    DataFrame
        One row per term in the spec's order, the intercept last, indexed by ``term``.

    Examples
    --------
    >>> list(bc.fixed_effects(run).index)
    ['x', 'intercept']
    """
    post = run.posterior
    rows = {}
    if "beta" in post:
        for label in post["coef"].values:
            rows[str(label)] = describe_draws(post["beta"].sel(coef=label), ci_prob=ci_prob)
    rows["intercept"] = describe_draws(post["intercept"], ci_prob=ci_prob)
    return pd.DataFrame(rows).T.rename_axis("term")


def group_parameters(run: Run, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Group SDs, correlations, the family's own parameter and P(zero), with intervals.

    For a selection model also rho, the firm-effect SD and the participation equation.

    Parameters
    ----------
    run : Run
        A fitted run.
    ci_prob : float
        The interval's probability.

    Returns
    -------
    DataFrame
        Indexed by ``parameter``: ``sd_domain[effect]`` and ``sd_cluster[effect]`` per
        varying effect, ``cluster_corr[a, b]`` per pair of effects, the family's own
        parameter, ``p_zero``, ``rho``, ``firm_sd``, ``selection_sd_cluster`` and
        ``participation[term]``, each where the model has it; columns mean, sd, lower,
        upper, p_gt_0.
    """
    post = run.posterior
    rows = {}
    for name in ("sd_domain", "sd_cluster"):
        if name in post:
            for effect in post["effect"].values:
                rows[f"{name}[{effect}]"] = describe_draws(post[name].sel(effect=effect),
                                                           ci_prob=ci_prob)
    if "cluster_corr" in post and post.sizes.get("effect", 0) > 1:
        effects = list(post["effect"].values)
        for i in range(len(effects)):
            for j in range(i + 1, len(effects)):
                rows[f"cluster_corr[{effects[i]}, {effects[j]}]"] = describe_draws(
                    post["cluster_corr"].isel(effect=i, effect2=j), ci_prob=ci_prob)
    for name in (*parameter_priors(), "p_zero", "rho", "firm_sd", "selection_sd_cluster"):
        if name in post:
            rows[name] = describe_draws(post[name], ci_prob=ci_prob)
    if "selection_beta" in post:
        for label in post["selection_coef"].values:
            rows[f"participation[{label}]"] = describe_draws(
                post["selection_beta"].sel(selection_coef=label), ci_prob=ci_prob)
    return pd.DataFrame(rows).T.rename_axis("parameter")


def group_totals(run: Run, level: str = "domain", *, ci_prob: float = CI_PROB
                 ) -> pd.DataFrame:
    """Per domain (or cluster) totals of each varying effect: population + deviations.

    Parameters
    ----------
    run : Run
        A fitted run.
    level : str
        Which groups: ``"domain"`` or ``"cluster"`` (the run's ``domain_total`` or
        ``cluster_total``), or the table's column of that level.
    ci_prob : float
        The interval's probability.

    Returns
    -------
    DataFrame
        Indexed by (``level``, effect): mean, sd, lower, upper, p_gt_0 on the log scale;
        empty when the run has no such totals.

    Examples
    --------
    >>> totals = bc.group_totals(run, "g")
    >>> totals.index.names
    FrozenList(['cluster', 'effect'])
    """
    from bayescluster.analysis.clusters import level_of

    level = level_of(run, level)
    post = run.posterior
    name = f"{level}_total"
    if name not in post:
        return pd.DataFrame()
    rows = []
    for label in post[level].values:
        for effect in post["effect"].values:
            stats = describe_draws(post[name].sel({level: label, "effect": effect}),
                                   ci_prob=ci_prob)
            rows.append({level: str(label), "effect": str(effect), **stats})
    return pd.DataFrame(rows).set_index([level, "effect"])


def zero_part(run: Run, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """The zero part's coefficients on logit P(zero): intercept and each ``[zero]`` term.

    Empty for families without a zero part. A spec without zero-part terms has one P(zero)
    for every firm, shown by :func:`group_parameters` as ``p_zero``.

    Parameters
    ----------
    run : Run
        A fitted run.
    ci_prob : float
        The interval's probability.

    Returns
    -------
    DataFrame
        One row per zero-part term in the spec's order, the intercept last, indexed by
        ``term``; columns mean, sd, lower, upper, p_gt_0.
    """
    post = run.posterior
    rows = {}
    if "zero_beta" in post:
        for label in post["zero_coef"].values:
            rows[str(label)] = describe_draws(post["zero_beta"].sel(zero_coef=label),
                                              ci_prob=ci_prob)
    if "zero_intercept" in post:
        rows["intercept"] = describe_draws(post["zero_intercept"], ci_prob=ci_prob)
    return pd.DataFrame(rows, index=list(COLUMNS)).T.rename_axis("term")


BLOCKS = ("fixed", "zero", "group")


def parameters(run: Run, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Every parameter block of a run in one tidy table.

    Parameters
    ----------
    run : Run
        A fitted run.
    ci_prob : float
        The intervals' probability.

    Returns
    -------
    DataFrame
        Indexed by (block, parameter): ``fixed`` (log-mean coefficients, intercept last),
        ``zero`` (logit P(zero) coefficients), ``group`` (group SDs, correlations,
        dispersion, P(zero), and a selection model's rho, firm SD and participation
        equation); columns mean, sd, lower, upper, p_gt_0.

    Examples
    --------
    >>> summary = bc.parameters(run)
    >>> list(summary.columns)
    ['mean', 'sd', 'lower', 'upper', 'p_gt_0']
    >>> sorted(set(summary.index.get_level_values("block")))
    ['fixed', 'group']
    """
    tables = {"fixed": fixed_effects(run, ci_prob=ci_prob),
              "zero": zero_part(run, ci_prob=ci_prob),
              "group": group_parameters(run, ci_prob=ci_prob)}
    parts = [t.rename_axis("parameter").assign(block=name).set_index("block", append=True)
             .reorder_levels(["block", "parameter"]) for name, t in tables.items() if len(t)]
    return pd.concat(parts)[list(COLUMNS)]
