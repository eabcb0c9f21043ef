"""Posterior intervals, tail probabilities and ranks: the one place every table gets them.

Intervals are equal-tailed (arviz-stats' ``eti``); ``ci_prob`` is named as in ArviZ. The
package's default is :data:`bayescluster.core.defaults.CI_PROB`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from arviz_stats import eti

from bayescluster.core.defaults import CI_PROB
from bayescluster.core.errors import BayesclusterError

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike
    from pandas.api.typing import SeriesGroupBy


def check_ci_prob(ci_prob: float) -> float:
    """``ci_prob`` if it lies in (0, 1), else an error naming it and the fix.

    Parameters
    ----------
    ci_prob : float
        An interval's probability, e.g. 0.9 for a 90% interval.

    Returns
    -------
    float
        ``ci_prob`` as a float.

    Raises
    ------
    BayesclusterError
        When ``ci_prob`` is not a number strictly between 0 and 1.
    """
    if not isinstance(ci_prob, int | float) or not 0 < ci_prob < 1:
        raise BayesclusterError(f"the interval probability must lie strictly between 0 and 1 "
                                f"(got {ci_prob!r}). Fix: give e.g. 0.9 for a 90% interval.")
    return float(ci_prob)


def interval(values: ArrayLike, *, ci_prob: float = CI_PROB,
             discrete: bool = False) -> tuple[float, float]:
    """The equal-tailed ``ci_prob`` interval of draws ``values`` (flattened).

    Parameters
    ----------
    values : array_like
        Draws of one quantity, any shape (flattened).
    ci_prob : float
        The interval's probability (default :data:`~bayescluster.core.defaults.CI_PROB`).
    discrete : bool
        The draws are counts: each bound is a drawn value (the inverse of the draws'
        empirical CDF), not an interpolation between two counts.

    Returns
    -------
    tuple of float
        The lower and upper bound: the ``(1 - ci_prob)/2`` and ``(1 + ci_prob)/2``
        quantiles.
    """
    lower, upper = eti(np.asarray(values, dtype=float).ravel(), prob=check_ci_prob(ci_prob),
                       method="inverted_cdf" if discrete else "linear")
    return float(lower), float(upper)


def intervals(samples: ArrayLike, *, ci_prob: float = CI_PROB,
              discrete: bool = False) -> np.ndarray:
    """(column, 2): the lower and upper bound of each column of (draw, column) ``samples``.

    Parameters
    ----------
    samples : array_like
        (draw, column) draws, one quantity a column.
    ci_prob : float
        The intervals' probability.
    discrete : bool
        The draws are counts (:func:`interval`).

    Returns
    -------
    ndarray
        (column, 2): each column's equal-tailed interval, lower bound first.
    """
    samples = np.asarray(samples, dtype=float)
    return np.array([interval(samples[:, k], ci_prob=ci_prob, discrete=discrete)
                     for k in range(samples.shape[1])]).reshape(-1, 2)


def grouped_intervals(grouped: SeriesGroupBy, *, ci_prob: float = CI_PROB
                      ) -> tuple[pd.Series, pd.Series]:
    """Lower and upper bounds of each group of a pandas ``SeriesGroupBy`` of draws.

    Parameters
    ----------
    grouped : pandas SeriesGroupBy
        Draws grouped by the keys of the table they summarise, one group a quantity.
    ci_prob : float
        The intervals' probability.

    Returns
    -------
    lower, upper : Series
        Each group's lower and upper bound, indexed by the group keys.
    """
    bounds = grouped.apply(lambda v: interval(v.to_numpy(), ci_prob=ci_prob))
    return bounds.map(lambda b: b[0]), bounds.map(lambda b: b[1])


def summarise(values: ArrayLike, *, ci_prob: float = CI_PROB) -> dict:
    """Mean, SD, median, equal-tailed interval and P(> 0) of one quantity's draws.

    Parameters
    ----------
    values : array_like
        Draws, any shape (flattened).
    ci_prob : float
        The interval's probability.

    Returns
    -------
    dict
        ``mean``, ``sd``, ``median``, ``lower``, ``upper``, ``p_gt_0``.
    """
    v = np.asarray(values, dtype=float).ravel()
    lower, upper = interval(v, ci_prob=ci_prob)
    return {"mean": v.mean(), "sd": v.std(ddof=1), "median": np.median(v), "lower": lower,
            "upper": upper, "p_gt_0": (v > 0).mean()}


def ranks(samples: np.ndarray) -> np.ndarray:
    """(sample, group) ranks of each group within each draw, 1 = largest.

    Parameters
    ----------
    samples : ndarray
        (sample, group) draws of each group's effect.

    Returns
    -------
    ndarray
        (sample, group) integer ranks, 1 for the largest value in the draw.
    """
    return (-np.asarray(samples)).argsort(axis=1).argsort(axis=1) + 1
