r"""Leave-one-cluster-out cross-validation, the refits on Dask.

For each cluster :math:`c`, refit with its firms' likelihood weights set to zero (shared
data, so each worker compiles once) and score the held-out firms jointly:

.. math::

    \widehat{\mathrm{elpd}}_c = \log \frac1S \sum_{s=1}^S
        \prod_{i \in c} p(y_i \mid \theta^{(s)}_{-c}),

where :math:`\theta^{(s)}_{-c}` are draws from the posterior without cluster :math:`c`: its
cluster effect is then drawn from the hierarchy given its domain, so this is the predictive
accuracy for a new cluster of a known domain. ``elpd_in_sample`` is the same score under
the full-data posterior; the gap is what the cluster's own data teach its cluster effect.
The total's standard error is :math:`\sqrt{K\,\mathrm{Var}_c(\widehat{\mathrm{elpd}}_c)}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from bayescluster.core.errors import BayesclusterError
from bayescluster.inference.distributed import map_tasks
from bayescluster.inference.refit import compiled, refit
from bayescluster.model.design import make_design
from bayescluster.model.evaluate import draws as evaluate

if TYPE_CHECKING:
    from collections.abc import Callable

    from bayescluster.data.table import FirmData
    from bayescluster.spec.parse import Spec


def _fit_and_score(task: dict, spec, data, chains: int, draws: int, tune: int,
                   target_accept: float | None) -> dict:
    """Fit without ``task["cluster"]`` (None: with every cluster) and score each cluster."""
    design = compiled(spec, data)[0].design
    held = task["cluster"]
    weight = np.ones(design.n_firms)
    if held is not None:
        weight[design.cluster_index == design.cluster_labels.index(held)] = 0.0
    built, tree = refit(spec, data, seed=task["seed"], chains=chains, draws=draws, tune=tune,
                        target_accept=target_accept, weights=weight)
    post = tree["posterior"].to_dataset()
    rng = np.random.default_rng(task["seed"])
    per_cluster = np.stack([
        np.bincount(design.cluster_index, weights=d.firm_loglik,
                    minlength=len(design.cluster_labels))
        for d in evaluate(built, post, rng)])
    scores = logsumexp(per_cluster, axis=0) - np.log(len(per_cluster))
    return {"cluster": held, "scores": scores.tolist(),
            "divergences": int(np.asarray(tree["sample_stats"]["diverging"].values).sum())}


def run(spec: Spec, data: FirmData, *, chains: int = 2, draws: int = 500, tune: int = 500,
        seed: int = 0, target_accept: float | None = None, scheduler: str | None = None,
        workers: int = 2, security: object = None,
        progress: Callable[[str], None] = print) -> pd.DataFrame:
    """Leave-one-cluster-out scores, one row per cluster.

    ``target_accept`` None takes the spec's ``[sampling]``. Columns: spec, cluster, domain,
    n (rows), elpd_loco, elpd_in_sample, divergences (of the fit that held the cluster out).

    Parameters
    ----------
    spec : Spec
        The model, with effects varying by cluster.
    data : FirmData
        The validated table, with at least 3 clusters.
    chains : int
        Chains of each refit.
    draws : int
        Draws per chain of each refit.
    tune : int
        Tuning steps per chain of each refit.
    seed : int
        The full-data fit's seed; the refit without the k-th cluster (from 1) uses
        ``seed + k``.
    target_accept : float, optional
        The sampler's target acceptance rate (None: the spec's ``[sampling]``).
    scheduler : str, optional
        A running Dask scheduler's address, ``tls://HOST:PORT`` or ``tcp://HOST:PORT``
        (default: a ``LocalCluster`` on this machine's loopback address).
    workers : int
        The ``LocalCluster``'s worker processes.
    security : distributed.Security or mapping, optional
        TLS files for a ``tls://`` scheduler: a ``Security`` or ``{"ca_file", "cert",
        "key"}`` paths (default: Dask's configuration).
    progress : callable
        Called with one line after every finished refit.

    Returns
    -------
    DataFrame
        One row per cluster in the design's order; ``domain`` is empty when clusters are
        not pooled within domains; elpd_loco and elpd_in_sample are the log predictive
        density of the cluster's rows jointly (see the module's formula).

    Raises
    ------
    BayesclusterError
        When the spec has no varying effects or the data have fewer than 3 clusters.
    """
    design = make_design(spec, data)
    labels = design.cluster_labels
    if not design.varying:
        raise BayesclusterError(f"spec {spec.name!r} has no cluster effects ([hierarchy] "
                                "varying is empty); leave-one-cluster-out needs them. Fix: "
                                "drop --by-cluster, or fit a model whose effects vary by "
                                "cluster, e.g. (1 | cluster).")
    if len(labels) < 3:
        raise BayesclusterError(f"leave-one-cluster-out needs at least 3 clusters; the data "
                                f"have {len(labels)}.")
    tasks = [{"cluster": c, "seed": seed + k} for k, c in enumerate([None, *labels])]
    results = {r["cluster"]: r for r in map_tasks(
        _fit_and_score, tasks, scheduler=scheduler, workers=workers, security=security,
        progress=progress,
        label=f"loco fits ({spec.name})", spec=spec, data=data, chains=chains, draws=draws,
        tune=tune, target_accept=target_accept)}
    full = results[None]["scores"]
    firms = np.bincount(design.cluster_index, minlength=len(labels))
    return pd.DataFrame({
        "spec": spec.name,
        "cluster": labels,
        "domain": [design.domain_labels[d] for d in design.cluster_domain]
        if design.spec.pool_by_domain else "",
        "n": firms,
        "elpd_loco": [results[c]["scores"][k] for k, c in enumerate(labels)],
        "elpd_in_sample": full,
        "divergences": [results[c]["divergences"] for c in labels],
    })


def summarise(table: pd.DataFrame, *, by: str = "model") -> pd.DataFrame:
    """Leave-one-cluster-out totals per model (column ``by``), best first.

    The total LOCO elpd, its SE, and the difference to the best with the SE of the paired
    cluster-wise differences.

    Parameters
    ----------
    table : DataFrame
        :func:`run`'s tables of the models compared, stacked, with a column naming each
        model.
    by : str
        The column naming the models; ``spec`` when the table has no such column.

    Returns
    -------
    DataFrame
        Indexed by model, best first: elpd_loco (the total), se, elpd_diff (to the best,
        0 for it), dse and clusters (how many scored).
    """
    if by not in table:
        by = "spec"
    totals = table.groupby(by, sort=False)["elpd_loco"].agg(["sum", "count", "var"])
    totals["se"] = np.sqrt(totals["count"] * totals["var"])
    best = totals["sum"].idxmax()
    wide = table.pivot(index="cluster", columns=by, values="elpd_loco")
    diff = wide.sub(wide[best], axis=0)
    out = pd.DataFrame({
        "elpd_loco": totals["sum"], "se": totals["se"],
        "elpd_diff": diff.sum(), "dse": np.sqrt(len(wide) * diff.var()).fillna(0.0),
        "clusters": totals["count"].astype(int),
    })
    return out.sort_values("elpd_loco", ascending=False)
