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

import numpy as np
import pandas as pd

from bayescluster.analysis.intervals import CI_PROB, grouped_intervals
from bayescluster.core.errors import BayesclusterError
from bayescluster.model.evaluate import draws
from bayescluster.model.predictor import Predictor

# name -> (values on, values off): a number for a covariate, a level for a categorical one
Contrasts = dict[str, tuple[dict[str, float | str], dict[str, float | str]]]


def binary_contrasts(design) -> Contrasts:
    """Each binary covariate of the design at 1 against 0, by name."""
    binary = [c for c, b in zip(design.covariates, design.binary, strict=True) if b]
    return {b: ({b: 1.0}, {b: 0.0}) for b in binary}


def categorical_contrasts(design) -> Contrasts:
    """Each level of a categorical covariate against its baseline, as ``name[level]``."""
    out = {}
    for column in (*design.fixed, *design.zero):
        if column.source is None or column.label in out:
            continue
        out[column.label] = ({column.source: column.level},
                             {column.source: column.baseline})
    return out


def default_contrasts(design) -> Contrasts:
    """Every binary covariate and every categorical level.

    :func:`binary_contrasts` and :func:`categorical_contrasts` together.
    """
    return binary_contrasts(design) | categorical_contrasts(design)


def _set(design, x: np.ndarray, values: dict) -> tuple[np.ndarray, dict[str, str]]:
    """Covariates ``x`` with the contrast's numbers set, and its categorical levels."""
    x = x.copy()
    levels = {}
    for name, value in values.items():
        if isinstance(value, str):
            levels[name] = value
        else:
            x[:, design.covariates.index(name)] = value
    return x, levels


def _groups(run) -> dict[str, np.ndarray]:
    """Firm indices for overall, each domain and each cluster."""
    design = run.design
    out = {("overall", "all"): np.arange(design.n_firms)}
    if len(design.domain_labels) > 1:
        dom = design.cluster_domain[design.cluster_index]
        for k, label in enumerate(design.domain_labels):
            out[("domain", label)] = np.flatnonzero(dom == k)
    for k, label in enumerate(design.cluster_labels):
        out[("cluster", label)] = np.flatnonzero(design.cluster_index == k)
    return out


def effect_draws(run, *, contrasts: Contrasts | None = None, max_draws: int | None = 1000,
                 seed: int = 0) -> pd.DataFrame:
    """Long table of AME draws: effect, margin, level, group, sample, value.

    Parameters
    ----------
    run : Run
        A fitted run.
    contrasts : dict, optional
        name -> (covariates on, covariates off); default :func:`default_contrasts`.
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).
    seed : int
        Seed for the draws of marginalised binary covariates.
    """
    if run.prior_only:
        raise BayesclusterError("a prior-only run has no posterior to compute effects from.")
    design = run.design
    predictor = Predictor(design, run.posterior)
    contrasts = default_contrasts(design) if contrasts is None else contrasts
    groups = _groups(run)
    margins = ["total"] + (["extensive", "intensive"] if predictor.family.zero_part else [])
    records = []
    rng = np.random.default_rng(seed)
    for k, d in enumerate(draws(run.built, run.posterior, rng, max_draws)):
        s = predictor.index(d.chain, d.draw)
        for name, (on, off) in contrasts.items():
            (x_on, at_on), (x_off, at_off) = _set(design, d.x, on), _set(design, d.x, off)
            hi, lo = predictor.margins(x_on, s, at_on), predictor.margins(x_off, s, at_off)
            for margin in margins:
                diff = hi[margin] - lo[margin]
                for (level, group), idx in groups.items():
                    records.append((name, margin, level, group, k, diff[idx].mean()))
    return pd.DataFrame(records, columns=["effect", "margin", "level", "group", "sample",
                                          "value"])


def summarise(draws_table: pd.DataFrame, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Mean, median, central interval and P(> 0) of each effect, margin and group."""
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


def average_marginal_effects(run, *, contrasts: Contrasts | None = None,
                             ci_prob: float = CI_PROB, max_draws: int | None = 1000,
                             seed: int = 0) -> pd.DataFrame:
    """AMEs on E[y] (and the two margins for zero-part families), summarised.

    See :func:`effect_draws` for the arguments and :func:`summarise` for the columns.
    """
    return summarise(effect_draws(run, contrasts=contrasts, max_draws=max_draws, seed=seed),
                     ci_prob=ci_prob)


def parse_profile(text: str) -> dict[str, float]:
    """Parse ``'a=1,b=0'`` into ``{'a': 1.0, 'b': 0.0}``."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise BayesclusterError(f"profile entry {part!r} must look like name=value, "
                                    "e.g. treated=1,size=50.") from None
    return out


def profile_predictions(run, profile: dict[str, float], *, ci_prob: float = CI_PROB,
                        max_draws: int | None = 1000, seed: int = 0) -> pd.DataFrame:
    """E[y] (and margins) with the profile's covariates set for every firm.

    Averaged over firms overall and per domain; other covariates stay at each firm's
    values. Profile values are on the user's scale (the run's transforms are applied).
    """
    design = run.design
    unknown = [k for k in profile if k not in design.covariates]
    if unknown:
        raise BayesclusterError(f"unknown covariate(s) {unknown} in the profile. Valid names "
                                f"are: {', '.join(design.covariates)}.")
    scaled = {}
    for name, value in profile.items():
        chain = design.spec.transforms.get(name, ())
        value = np.log(value + (1.0 if design.spec.covariates[name] == "count" else 0.0)) \
            if "log" in chain else value
        center, sd = design.transform_stats.get(name, (0.0, 1.0))
        scaled[name] = (value - center) / sd
    predictor = Predictor(design, run.posterior)
    groups = {k: v for k, v in _groups(run).items() if k[0] != "cluster"}
    records = []
    for k, d in enumerate(draws(run.built, run.posterior, np.random.default_rng(seed),
                                max_draws)):
        x, levels = _set(design, d.x, scaled)
        m = predictor.margins(x, predictor.index(d.chain, d.draw), levels)
        for margin, values in m.items():
            for (level, group), idx in groups.items():
                records.append((margin, level, group, k, values[idx].mean()))
    table = pd.DataFrame(records, columns=["margin", "level", "group", "sample", "value"])
    g = table.groupby(["margin", "level", "group"], sort=False)["value"]
    lower, upper = grouped_intervals(g, ci_prob=ci_prob)
    return pd.DataFrame({"mean": g.mean(), "median": g.median(), "lower": lower,
                         "upper": upper})
