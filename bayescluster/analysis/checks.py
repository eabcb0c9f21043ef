r"""Posterior (and prior) predictive checks and PSIS-LOO (leave-one-cluster-out: ``loco``).

Test statistics T (share of zeros, variance/mean, maximum) are computed on the observed
counts and on every replicated data set; the predictive p-value is
:math:`P(T(y^{rep}) \ge T(y))`. The rootogram compares observed and expected frequencies
of each count.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescluster.analysis.intervals import CI_PROB, interval, intervals
from bayescluster.core.defaults import PARETO_K
from bayescluster.core.errors import BayesclusterError

if TYPE_CHECKING:
    from arviz_stats.utils import ELPDData

    from bayescluster.inference.run import Run


def _var_mean(y: np.ndarray) -> np.ndarray:
    """Variance over mean along the last axis; NaN for fewer than two firms."""
    if y.shape[-1] < 2:
        return np.full(y.shape[:-1], np.nan)
    return y.var(axis=-1, ddof=1) / np.maximum(y.mean(axis=-1), 1e-12)


STATISTICS = {
    "zeros": lambda y: (y == 0).mean(axis=-1),
    "var_mean": _var_mean,
    "max": lambda y: y.max(axis=-1).astype(float),
}


def _replicates(run, group: str) -> np.ndarray:
    name = "posterior_predictive" if group == "posterior" else "prior_predictive"
    if name not in run.tree.children:
        raise BayesclusterError(f"the run has no {name} group. Fix: use a "
                                f"{'posterior' if group == 'posterior' else '--prior-only'} "
                                "run.")
    values = np.asarray(run.tree[name][run.outcome].values, dtype=np.int64)
    return values.reshape(-1, values.shape[-1])


def _facets(run, by: str | None) -> dict[str, np.ndarray]:
    """Firm indices of all firms, then of each domain or cluster when there are several."""
    design = run.design
    out = {"all": np.arange(design.n_firms)}
    if by == "domain":
        index, labels = design.cluster_domain[design.cluster_index], design.domain_labels
    elif by == "cluster":
        index, labels = design.cluster_index, design.cluster_labels
    elif by is None:
        return out
    else:
        raise BayesclusterError(f"unknown facet {by!r}. Valid names are: domain, cluster.")
    if len(labels) > 1:
        out.update({label: np.flatnonzero(index == k) for k, label in enumerate(labels)})
    return out


def ppc_statistics(run: Run, *, by: str | None = "domain", group: str = "posterior",
                   ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Observed statistic, replicated mean and interval, and the predictive p-value.

    One row per statistic and facet (all firms, then each domain or cluster).

    Parameters
    ----------
    run : Run
        A run with the replicated data of ``group``.
    by : {"domain", "cluster"} or None
        The facets after all firms (only when there are several); None: all firms only.
    group : {"posterior", "prior"}
        Whose predictive draws: ``posterior_predictive`` or ``prior_predictive``.
    ci_prob : float
        The replicated statistic's interval probability.

    Returns
    -------
    DataFrame
        Indexed by (facet, statistic) for the statistics in
        :data:`~bayescluster.analysis.checks.STATISTICS` (``zeros``:
        share of zeros, ``var_mean``: variance over mean, ``max``): observed,
        replicated_mean, lower, upper, p_value (P(T(y_rep) >= T(y))) and n (firms); NaN
        where a facet's firms cannot give the statistic.

    Raises
    ------
    BayesclusterError
        When the run has no such predictive group, or ``by`` names no facet.

    Examples
    --------
    >>> checks = bc.ppc_statistics(run)
    >>> len(checks) > 0
    True
    """
    y, rep = run.design.y, _replicates(run, group)
    rows = []
    for facet, idx in _facets(run, by).items():
        for name, stat in STATISTICS.items():
            observed = float(stat(y[idx]))
            if np.isnan(observed):  # a statistic one firm cannot give
                rows.append({"facet": facet, "statistic": name, "observed": np.nan,
                             "replicated_mean": np.nan, "lower": np.nan, "upper": np.nan,
                             "p_value": np.nan, "n": len(idx)})
                continue
            replicated = stat(rep[:, idx])
            lower, upper = interval(replicated, ci_prob=ci_prob)
            rows.append({"facet": facet, "statistic": name, "observed": observed,
                         "replicated_mean": replicated.mean(), "lower": lower, "upper": upper,
                         "p_value": (replicated >= observed).mean(), "n": len(idx)})
    return pd.DataFrame(rows).set_index(["facet", "statistic"])


def ppc_draws(run: Run, statistic: str, *, group: str = "posterior",
              firms: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """T(y) and T(y_rep) for every replicated data set (optionally for some firms).

    Parameters
    ----------
    run : Run
        A run with the replicated data of ``group``.
    statistic : {"zeros", "var_mean", "max"}
        The test statistic T (a key of :data:`~bayescluster.analysis.checks.STATISTICS`).
    group : {"posterior", "prior"}
        Whose predictive draws.
    firms : ndarray, optional
        Indices of the firms to compute T over (default: every firm).

    Returns
    -------
    observed : float
        T(y) of the observed counts.
    replicated : ndarray
        (chain * draw,) T(y_rep) of each replicated data set.

    Raises
    ------
    BayesclusterError
        For a statistic not in :data:`STATISTICS`.
    """
    if statistic not in STATISTICS:
        raise BayesclusterError(f"unknown statistic {statistic!r}. Valid names are: "
                                f"{', '.join(STATISTICS)}.")
    stat = STATISTICS[statistic]
    idx = np.arange(run.design.n_firms) if firms is None else firms
    return float(stat(run.design.y[idx])), stat(_replicates(run, group)[:, idx])


def ppc_facets(run: Run, *, by: str = "domain", group: str = "posterior"
               ) -> dict[str, dict[str, tuple[float, np.ndarray]]]:
    """{facet: {statistic: (T(y), T(y_rep))}} for the faceted figure (empty with one group).

    Parameters
    ----------
    run : Run
        A run with the replicated data of ``group``.
    by : {"domain", "cluster"}
        The facets.
    group : {"posterior", "prior"}
        Whose predictive draws.

    Returns
    -------
    dict
        Per domain (or cluster), per statistic of :data:`~bayescluster.analysis.checks.STATISTICS`,
        what
        :func:`ppc_draws` returns for its firms.
    """
    return {facet: {s: ppc_draws(run, s, group=group, firms=idx) for s in STATISTICS}
            for facet, idx in _facets(run, by).items() if facet != "all"}


def rootogram(run: Run, *, max_count: int | None = None, group: str = "posterior",
              ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Observed and expected frequency of each count 0..max_count.

    The last row collects everything above. Hanging: the bar of sqrt(observed) hangs from
    sqrt(expected).

    Parameters
    ----------
    run : Run
        A run with the replicated data of ``group``.
    max_count : int, optional
        The largest count with its own row (default: the observed counts' 95% quantile,
        at least 10).
    group : {"posterior", "prior"}
        Whose predictive draws give the expected frequencies.
    ci_prob : float
        The expected frequencies' interval probability.

    Returns
    -------
    DataFrame
        One row per count 0..max_count and one for ``>max_count``: count (its label),
        observed and expected (mean over replicated data sets) frequency, the expected
        frequency's lower and upper bound, and hanging_bottom (sqrt(expected) -
        sqrt(observed), where the hanging bar ends).

    Examples
    --------
    >>> bars = bc.rootogram(run)
    >>> int(bars["observed"].sum())
    120
    """
    y, rep = run.design.y, _replicates(run, group)
    top = int(max_count if max_count is not None else max(10, np.quantile(y, 0.95)))
    clipped_y = np.minimum(y, top + 1)
    clipped_rep = np.minimum(rep, top + 1)
    counts = np.arange(top + 2)
    observed = np.bincount(clipped_y, minlength=top + 2)
    per_draw = np.stack([np.bincount(r, minlength=top + 2) for r in clipped_rep])
    bounds = intervals(per_draw, ci_prob=ci_prob)
    labels = [str(k) for k in range(top + 1)] + [f">{top}"]
    table = pd.DataFrame({"count": labels, "observed": observed,
                          "expected": per_draw.mean(axis=0),
                          "lower": bounds[:, 0], "upper": bounds[:, 1]}, index=counts)
    table["hanging_bottom"] = np.sqrt(table["expected"]) - np.sqrt(table["observed"])
    return table


def loo_pit(run: Run) -> np.ndarray:
    """LOO-PIT values, one per firm (uniform when the model is calibrated).

    Parameters
    ----------
    run : Run
        A fitted run with its log-likelihood and posterior predictive draws.

    Returns
    -------
    ndarray
        (firm,) arviz-stats' LOO-PIT of each firm's observed count, in [0, 1].
    """
    from arviz_stats import loo_pit as az_loo_pit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pit = az_loo_pit(run.tree, var_names=[run.outcome], random_state=0)
    return np.asarray(pit[run.outcome].values).ravel()


def loo(run: Run) -> ELPDData:
    """PSIS-LOO (arviz-stats ELPDData, pointwise).

    Parameters
    ----------
    run : Run
        A fitted run with its per-firm log-likelihood.

    Returns
    -------
    ELPDData
        The estimate (``elpd``, ``se``, ``p``) with each firm's ``elpd_i`` and
        ``pareto_k``.

    Raises
    ------
    BayesclusterError
        When the run has no log-likelihood (a prior-only run).

    Examples
    --------
    >>> result = bc.loo(run)
    >>> bool(result.elpd < 0)
    True
    """
    from arviz_stats import loo as az_loo

    if "log_likelihood" not in run.tree.children:
        raise BayesclusterError("the run has no log-likelihood (prior-only or damaged).")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return az_loo(run.tree, pointwise=True, var_name=run.outcome)


def pareto_k_by_cluster(run: Run, *, elpd: ELPDData | None = None) -> pd.DataFrame:
    """Pareto k summarised per cluster: rows (n), max k, rows with k > PARETO_K, elpd_loo.

    Parameters
    ----------
    run : Run
        A fitted run.
    elpd : ELPDData, optional
        The run's pointwise PSIS-LOO, if already computed (default:
        :func:`~bayescluster.analysis.checks.loo`).

    Returns
    -------
    DataFrame
        Indexed by cluster: n (rows), max_k, bad_k (rows with k above
        :data:`~bayescluster.core.defaults.PARETO_K`) and elpd_loo (the sum of its rows').
    """
    elpd = elpd if elpd is not None else loo(run)
    k = np.asarray(elpd.pareto_k.values).ravel()
    elpd_i = np.asarray(elpd.elpd_i.values).ravel()
    design = run.design
    frame = pd.DataFrame({"cluster": np.array(design.cluster_labels)[design.cluster_index],
                          "k": k, "elpd_i": elpd_i})
    return frame.groupby("cluster").agg(n=("k", "size"), max_k=("k", "max"),
                                        bad_k=("k", lambda v: int((v > PARETO_K).sum())),
                                        elpd_loo=("elpd_i", "sum"))


def compare_runs(runs: dict[str, Run], *, elpds: dict[str, ELPDData] | None = None
                 ) -> pd.DataFrame:
    """LOO comparison across runs on the same firms (arviz-stats ``compare``).

    ``elpds`` (by the same names) replaces the runs' PSIS-LOO, e.g. with exact refits
    (:func:`bayescluster.analysis.reloo.exact_loo`). Returns elpd, differences, their SEs
    and stacking weights.

    Parameters
    ----------
    runs : dict of str to Run
        The runs by name; each scores the same outcome on the same rows.
    elpds : dict of str to ELPDData, optional
        Pointwise LOO estimates by run name, used in place of
        :func:`~bayescluster.analysis.checks.loo` for those runs.

    Returns
    -------
    DataFrame
        arviz-stats' comparison, one row per run, best first: rank (0 best), elpd_diff,
        dse, p_worse, diag_diff, diag_elpd, p, elpd, se and weight (stacking).

    Raises
    ------
    BayesclusterError
        When the runs score different outcomes or fit different rows.

    Examples
    --------
    >>> compared = bc.compare_models({"negbin": run, "again": run})
    >>> sorted(compared.index)
    ['again', 'negbin']
    """
    from arviz_stats import compare

    kinds = {(run.outcome, run.data.roles.per, bool(run.spec.selection))
             for run in runs.values()}
    if len(kinds) > 1:
        raise BayesclusterError("runs score different outcomes (or a selection model also "
                                "scores participation); LOO compares models of the same "
                                "outcome only.")
    ids = {name: tuple(run.design.firm_ids) for name, run in runs.items()}
    if len(set(ids.values())) > 1:
        raise BayesclusterError("runs fit different rows (different data or missing-data "
                                "rules); LOO can only compare models of the same rows. Fix: "
                                "compare runs of one table with one missing-data rule.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        chosen = {name: elpds[name] if elpds and name in elpds else loo(run)
                  for name, run in runs.items()}
        return compare(chosen, method="stacking", round_to="none")
