r"""Average marginal effects on the outcome's scale, and predictions for covariate profiles.

A contrast sets some covariates "on" and the same ones "off". For a binary covariate
:math:`b` the contrast is :math:`b = 1` against :math:`b = 0`, and its average marginal
effect (AME) in a draw is

.. math:: \mathrm{AME}_b = \frac1n\sum_i E[y_i \mid x_i, b=1] - E[y_i \mid x_i, b=0],

with every other covariate at the firm's own value (interaction terms recomputed); for a
categorical covariate each level is set against the baseline level (``trt[progabide]``). Callers
may add contrasts of several covariates at once (a study's policy profile). For zinb and
hurdle models the same differences are given for the extensive margin P(y >= 1) and the
intensive margin E[y | y >= 1]. Summaries are over posterior draws: overall, per domain and
per cluster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescluster.analysis.intervals import CI_PROB, grouped_intervals
from bayescluster.core.errors import BayesclusterError, DataError, did_you_mean
from bayescluster.model.evaluate import draws
from bayescluster.model.predictor import Predictor

if TYPE_CHECKING:
    from collections.abc import Iterable

    from bayescluster.inference.run import Run
    from bayescluster.model.design import Design

# name -> (values on, values off): a number for a covariate, a level for a categorical one
Contrasts = dict[str, tuple[dict[str, float | str], dict[str, float | str]]]


def binary_contrasts(design: Design) -> Contrasts:
    """Each binary covariate of the design at 1 against 0, by name.

    Parameters
    ----------
    design : Design
        The run's design.

    Returns
    -------
    dict
        covariate -> (``{covariate: 1.0}``, ``{covariate: 0.0}``), in the design's order.
    """
    binary = [c for c, b in zip(design.covariates, design.binary, strict=True) if b]
    return {b: ({b: 1.0}, {b: 0.0}) for b in binary}


def categorical_contrasts(design: Design) -> Contrasts:
    """Each level of a categorical covariate against its baseline, as ``name[level]``.

    Parameters
    ----------
    design : Design
        The run's design (its levels, baseline first).

    Returns
    -------
    dict
        ``name[level]`` -> (``{name: level}``, ``{name: baseline}``) for every level but
        the baseline.
    """
    return {f"{name}[{level}]": ({name: level}, {name: levels[0]})
            for name, levels in design.levels.items() for level in levels[1:]}


def default_contrasts(design: Design) -> Contrasts:
    """Every binary covariate and every categorical level.

    :func:`binary_contrasts` and :func:`categorical_contrasts` together.

    Parameters
    ----------
    design : Design
        The run's design.

    Returns
    -------
    dict
        contrast name -> (covariates on, covariates off); empty when the model has no
        binary or categorical covariate.
    """
    return binary_contrasts(design) | categorical_contrasts(design)


def _set(design, x: np.ndarray, values: dict) -> np.ndarray:
    """Covariates ``x`` (model scale) with ``values`` (user's scale, or levels) set."""
    x = x.copy()
    for name, value in values.items():
        x[:, design.covariates.index(name)] = design.code(name, value)
    return x


def _groups(run) -> dict[str, np.ndarray]:
    """Firm indices for overall, each domain and each cluster (a single-level table: overall)."""
    design = run.design
    out = {("overall", "all"): np.arange(design.n_firms)}
    if not design.spec.roles.cluster:
        return out
    if len(design.domain_labels) > 1:
        dom = design.cluster_domain[design.cluster_index]
        for k, label in enumerate(design.domain_labels):
            out[("domain", label)] = np.flatnonzero(dom == k)
    for k, label in enumerate(design.cluster_labels):
        out[("cluster", label)] = np.flatnonzero(design.cluster_index == k)
    return out


def effect_draws(run: Run, *, contrasts: Contrasts | None = None, max_draws: int | None = 1000,
                 seed: int = 0) -> pd.DataFrame:
    """Long table of AME draws: effect, margin, level, group, sample, value.

    Parameters
    ----------
    run : Run
        A fitted run.
    contrasts : dict, optional
        name -> (covariates on, covariates off); default
        :func:`~bayescluster.analysis.effects.default_contrasts`.
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).
    seed : int
        Seed for the draws of marginalised binary covariates.

    Returns
    -------
    DataFrame
        One row per contrast, margin (``total``; ``extensive`` and ``intensive`` for
        zero-part families), group and draw: effect, margin, level (``overall``,
        ``domain`` (with several domains) or ``cluster``), group (``all`` or the group's
        label), sample (the draw's number), value (the difference on the outcome's scale,
        averaged over the group's firms).

    Raises
    ------
    BayesclusterError
        For a prior-only run.
    DataError
        When a contrast names a covariate the model does not use or a level it never saw.
    """
    if run.prior_only:
        raise BayesclusterError("a prior-only run has no posterior to compute effects from.")
    design = run.design
    predictor = Predictor(design, run.posterior)
    contrasts = default_contrasts(design) if contrasts is None else contrasts
    check_covariates(design, {k for on, off in contrasts.values() for k in (*on, *off)},
                     "contrast")
    for on, off in contrasts.values():  # an unseen level is an error before any draw
        for name, value in (*on.items(), *off.items()):
            design.code(name, value)
    groups = _groups(run)
    margins = ["total"] + (["extensive", "intensive"] if predictor.family.zero_part else [])
    records = []
    rng = np.random.default_rng(seed)
    for k, d in enumerate(draws(run.built, run.posterior, rng, max_draws)):
        s = predictor.index(d.chain, d.draw)
        for name, (on, off) in contrasts.items():
            hi = predictor.margins(_set(design, d.x, on), s)
            lo = predictor.margins(_set(design, d.x, off), s)
            for margin in margins:
                diff = hi[margin] - lo[margin]
                for (level, group), idx in groups.items():
                    records.append((name, margin, level, group, k, diff[idx].mean()))
    return pd.DataFrame(records, columns=["effect", "margin", "level", "group", "sample",
                                          "value"])


def summarise(draws_table: pd.DataFrame, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Mean, median, central interval and P(> 0) of each effect, margin and group.

    Parameters
    ----------
    draws_table : DataFrame
        :func:`~bayescluster.analysis.effects.effect_draws`' long table.
    ci_prob : float
        The intervals' probability.

    Returns
    -------
    DataFrame
        Indexed by (effect, margin, level, group) in the draws' order: mean, median,
        lower, upper, p_gt_0; empty (same columns) when there is no contrast.
    """
    keys = ["effect", "margin", "level", "group"]
    if draws_table.empty:  # no contrast (no binary covariate): an empty table, same shape
        index = pd.MultiIndex.from_tuples([], names=keys)
        return pd.DataFrame(columns=["mean", "median", "lower", "upper", "p_gt_0"],
                            index=index, dtype=float)
    grouped = draws_table.groupby(keys, sort=False)["value"]
    lower, upper = grouped_intervals(grouped, ci_prob=ci_prob)
    table = pd.DataFrame({
        "mean": grouped.mean(), "median": grouped.median(), "lower": lower, "upper": upper,
        "p_gt_0": grouped.apply(lambda v: float((v > 0).mean())),
    })
    return table


def average_marginal_effects(run: Run, *, contrasts: Contrasts | None = None,
                             ci_prob: float = CI_PROB, max_draws: int | None = 1000,
                             seed: int = 0) -> pd.DataFrame:
    """AMEs on E[y] (and the two margins for zero-part families), summarised.

    See :func:`~bayescluster.analysis.effects.effect_draws` for the arguments and
    :func:`~bayescluster.analysis.effects.summarise` for the columns.

    Parameters
    ----------
    run : Run
        A fitted run.
    contrasts : dict, optional
        name -> (covariates on, covariates off); default
        :func:`~bayescluster.analysis.effects.default_contrasts`.
    ci_prob : float
        The intervals' probability.
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).
    seed : int
        Seed for the draws of marginalised binary covariates.

    Returns
    -------
    DataFrame
        :func:`~bayescluster.analysis.effects.summarise` of
        :func:`~bayescluster.analysis.effects.effect_draws`: indexed by (effect, margin, level,
        group); mean, median, lower, upper, p_gt_0.

    Examples
    --------
    A continuous covariate has no contrast of its own: give one (here x from 0 to 1).

    >>> ames = bc.average_marginal_effects(run, contrasts={"x": ({"x": 1.0}, {"x": 0.0})},
    ...                                    max_draws=200)
    >>> ames.index.names
    FrozenList(['effect', 'margin', 'level', 'group'])
    """
    return summarise(effect_draws(run, contrasts=contrasts, max_draws=max_draws, seed=seed),
                     ci_prob=ci_prob)


def check_covariates(design: Design, names: Iterable[str], what: str) -> None:
    """Refuse covariates the model does not use, naming the ones it does.

    Parameters
    ----------
    design : Design
        The run's design.
    names : iterable of str
        The covariates asked for.
    what : str
        What names them, for the message (``"contrast"``, ``"profile"``).

    Raises
    ------
    DataError
        When a name is not one of the design's covariates.
    """
    unknown = [k for k in names if k not in design.covariates]
    if unknown:
        raise DataError(f"unknown covariate(s) {', '.join(map(repr, unknown))} in the {what}; "
                        f"the model's covariates are {', '.join(design.covariates)}."
                        f"{did_you_mean(unknown[0], design.covariates)} Fix: name those.")


def parse_profile(text: str) -> dict[str, float | str]:
    """Parse ``'a=1,b=0,sex=M'`` into ``{'a': 1.0, 'b': 0.0, 'sex': 'M'}``.

    A number is read as a number; anything else is a categorical level, checked against
    the model's levels where it is used.

    Parameters
    ----------
    text : str
        Comma-separated ``name=value`` entries; blank entries are skipped.

    Returns
    -------
    dict
        covariate -> float, or str for a value that is not a number.

    Raises
    ------
    DataError
        For an entry that is not ``name=value``.
    """
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sign, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not sign or not name or not value:
            raise DataError(f"profile entry {part!r} must look like name=value, e.g. "
                            "treated=1,size=50,sex=M.")
        try:
            out[name] = float(value)
        except ValueError:
            out[name] = value
    return out


def profile_predictions(run: Run, profile: dict[str, float | str], *, ci_prob: float = CI_PROB,
                        max_draws: int | None = 1000, seed: int = 0) -> pd.DataFrame:
    """E[y] (and margins) with the profile's covariates set for every firm.

    Averaged over firms overall and per domain; other covariates stay at each firm's
    values. Profile values are on the user's scale (the run's transforms are applied) or,
    for a categorical covariate, one of its levels.

    Parameters
    ----------
    run : Run
        A fitted run.
    profile : dict
        covariate -> value set for every firm, e.g. ``{"treated": 1.0, "sex": "M"}``.
    ci_prob : float
        The intervals' probability.
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).
    seed : int
        Seed for the draws of marginalised binary covariates.

    Returns
    -------
    DataFrame
        Indexed by (margin, level, group), levels ``overall`` and ``domain`` (with
        several domains): mean, median, lower, upper of the firms' average (``total``:
        E[y]; ``extensive``: P(y >= 1); ``intensive``: E[y | y >= 1]).

    Raises
    ------
    DataError
        When the profile names a covariate the model does not use or a level it never saw.

    Examples
    --------
    >>> at = bc.profile_predictions(run, {"x": 1.0}, max_draws=200)
    >>> sorted(set(at.index.get_level_values("level")))
    ['overall']
    """
    design = run.design
    check_covariates(design, profile, "profile")
    for name, value in profile.items():
        design.code(name, value)  # an unseen level or a text value of a number: an error
    predictor = Predictor(design, run.posterior)
    groups = {k: v for k, v in _groups(run).items() if k[0] != "cluster"}
    records = []
    for k, d in enumerate(draws(run.built, run.posterior, np.random.default_rng(seed),
                                max_draws)):
        m = predictor.margins(_set(design, d.x, profile), predictor.index(d.chain, d.draw))
        for margin, values in m.items():
            for (level, group), idx in groups.items():
                records.append((margin, level, group, k, values[idx].mean()))
    table = pd.DataFrame(records, columns=["margin", "level", "group", "sample", "value"])
    g = table.groupby(["margin", "level", "group"], sort=False)["value"]
    lower, upper = grouped_intervals(g, ci_prob=ci_prob)
    return pd.DataFrame({"mean": g.mean(), "median": g.median(), "lower": lower,
                         "upper": upper})
