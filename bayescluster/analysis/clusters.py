"""Comparing posteriors across clusters and domains: effects, contrasts, ranks, shrinkage.

A cluster's effect is its total: population + domain deviation + cluster deviation
(``cluster_total``); a domain's is population + domain deviation (``domain_total``).
All functions work from a saved run and return tidy pandas objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize

from bayescluster.analysis.intervals import CI_PROB, check_ci_prob, interval, intervals
from bayescluster.analysis.intervals import ranks as _ranks
from bayescluster.core.errors import BayesclusterError
from bayescluster.model.design import varying_matrix
from bayescluster.model.evaluate import draws
from bayescluster.model.families import LIKELIHOODS, expit
from bayescluster.model.predictor import columns, linear_predictor, zero_logit
from bayescluster.model.priors import AUTO_SCALE, auto_scale

if TYPE_CHECKING:
    from bayescluster.inference.run import Run
    from bayescluster.model.design import Design


def _require(run, name: str):
    post = run.posterior
    if name not in post:
        what = "group" if name.startswith("cluster") or not run.design.varying else \
            run.data.words.domain
        if name.startswith("domain") and "cluster_total" in post:
            group = run.spec.columns.get("cluster") or "group"
            fix = (f"a formula whose group term has an upper level, (1 | upper/{group}), or a "
                   "spec with a domain column and pool_by_domain = true; the run's "
                   f"{run.data.words.groups} are compared with level={group!r}")
        else:
            fix = ("a formula with a group term, e.g. (1 | group) or (1 | upper/group), or a "
                   "spec with [hierarchy] varying")
        raise BayesclusterError(f"run {run.spec.name!r} has no {name}: the model has no "
                                f"effects varying by {what}, so there are none to compare. "
                                f"Fix: fit a model with that grouping: {fix}.")
    return post[name]


def default_effect(design: Design) -> str:
    """The varying effect that figures and ranks show unless told.

    The last one listed: a slope when one varies, else the intercept.

    Parameters
    ----------
    design : Design
        A design with at least one varying effect.

    Returns
    -------
    str
        The effect's name (``intercept`` or a term's label).
    """
    return design.varying[-1]


def _check_effect(run, effect: str) -> None:
    effects = list(run.design.varying)
    if effect not in effects:
        raise BayesclusterError(f"unknown varying effect {effect!r}. Valid names are: "
                                f"{', '.join(effects)}.")


def level_of(run: Run, level: str) -> str:
    """The model's name of a grouping level given in the model's words or the table's.

    Parameters
    ----------
    run : Run
        A fitted run.
    level : str
        ``"cluster"`` or ``"domain"``, or the table's column of that level (``"LOCATION"``).

    Returns
    -------
    str
        ``"cluster"`` or ``"domain"``.

    Raises
    ------
    BayesclusterError
        For a name that is neither, listing the run's levels in both words.
    """
    columns = {"cluster": run.spec.columns.get("cluster"), "domain": run.spec.columns.get("domain")}
    if level in columns:
        return level
    for model, column in columns.items():
        if column is not None and level == column:
            return model
    known = [f"{column!r} (or {model!r})" for model, column in columns.items() if column]
    raise BayesclusterError(f"unknown grouping level {level!r}. Valid names are: "
                            f"{', '.join(known) or 'none: the run has no grouping'}.")


def _samples(run, level: str, effect: str | None) -> pd.DataFrame:
    """(sample, group) draws of a level's total effect."""
    if not run.design.varying:
        _require(run, f"{level}_total")
    effect = default_effect(run.design) if effect is None else effect
    _check_effect(run, effect)
    da = _require(run, f"{level}_total").sel(effect=effect)
    values = np.asarray(da.values).reshape(-1, da.sizes[level])
    return pd.DataFrame(values, columns=[str(v) for v in da[level].values])


def group_effects(run: Run, level: str = "cluster", *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Median, interval and P(> 0) of each varying effect per cluster (or domain).

    Parameters
    ----------
    run : Run
        A fitted hierarchical run.
    level : str
        Which groups: ``"cluster"`` or ``"domain"``, or the table's column of that level
        (``"LOCATION"``).
    ci_prob : float
        The interval's probability.

    Returns
    -------
    DataFrame
        Indexed by (group, effect): median, lower, upper, p_gt_0, n (rows) and, for
        clusters pooled within domains, their domain.

    Examples
    --------
    >>> effects = bc.group_effects(run)
    >>> len(effects) == len(run.design.cluster_labels)
    True
    """
    level = level_of(run, level)
    check_ci_prob(ci_prob)
    design = run.design
    _require(run, f"{level}_total")
    sizes = pd.Series(np.bincount(design.cluster_index, minlength=len(design.cluster_labels)),
                      index=design.cluster_labels)
    domain_of = dict(zip(design.cluster_labels,
                         np.array(design.domain_labels)[design.cluster_domain], strict=True))
    rows = []
    for effect in design.varying:
        draws = _samples(run, level, effect)
        for group in draws.columns:
            v = draws[group].to_numpy()
            lower, upper = interval(v, ci_prob=ci_prob)
            row = {level: group, "effect": effect, "median": np.median(v),
                   "lower": lower, "upper": upper, "p_gt_0": (v > 0).mean()}
            if level == "cluster":
                if "domain_total" in run.posterior:
                    row["domain"] = domain_of[group]
                row["n"] = int(sizes[group])
            else:
                row["n"] = int(sum(sizes[c] for c, d in domain_of.items() if d == group))
            rows.append(row)
    return pd.DataFrame(rows).set_index([level, "effect"])


def contrast(run: Run, a: str, b: str, *, level: str = "cluster", effect: str | None = None,
             ci_prob: float = CI_PROB) -> pd.Series:
    """A - B for two clusters (or domains): median, interval, P(A > B).

    ``effect`` is a varying effect (default:
    :func:`~bayescluster.analysis.clusters.default_effect`).

    Parameters
    ----------
    run : Run
        A fitted hierarchical run.
    a : str
        The first group's label (A).
    b : str
        The second group's label (B), subtracted from A.
    level : str
        Which groups: ``"cluster"`` or ``"domain"``, or the table's column of that level
        (``"LOCATION"``).
    effect : str, optional
        The varying effect compared (default:
        :func:`~bayescluster.analysis.clusters.default_effect`).
    ci_prob : float
        The interval's probability.

    Returns
    -------
    Series
        Named ``"a - b"``: median, lower, upper of the difference of the two total
        effects (log scale) and p_a_gt_b, P(A > B).

    Raises
    ------
    BayesclusterError
        For a label that names no group, or an unknown effect.

    Examples
    --------
    >>> difference = bc.contrast(run, "g0", "g1", level="g")
    >>> difference.name, bool(0 <= difference["p_a_gt_b"] <= 1)
    ('g0 - g1', True)
    """
    level = level_of(run, level)
    draws = _samples(run, level, effect)
    for name in (a, b):
        if name not in draws.columns:
            raise BayesclusterError(f"unknown {level} {name!r}. Valid names are: "
                                    f"{', '.join(draws.columns)}.")
    diff = (draws[a] - draws[b]).to_numpy()
    lower, upper = interval(diff, ci_prob=ci_prob)
    return pd.Series({"median": np.median(diff), "lower": lower, "upper": upper,
                      "p_a_gt_b": (diff > 0).mean()}, name=f"{a} - {b}")


def contrast_matrix(run: Run, level: str = "cluster", *, effect: str | None = None
                    ) -> pd.DataFrame:
    """P(row > column) for every pair of clusters (or domains).

    Parameters
    ----------
    run : Run
        A fitted hierarchical run.
    level : str
        Which groups: ``"cluster"`` or ``"domain"``, or the table's column of that level
        (``"LOCATION"``).
    effect : str, optional
        The varying effect compared (default:
        :func:`~bayescluster.analysis.clusters.default_effect`).

    Returns
    -------
    DataFrame
        (group, group): the posterior probability that the row's total effect exceeds the
        column's; NaN on the diagonal. Index named ``"<level> A"``, columns
        ``"<level> B"``.
    """
    level = level_of(run, level)
    samples = _samples(run, level, effect)
    draws, labels = samples.to_numpy(), list(samples.columns)
    p = (draws[:, :, None] > draws[:, None, :]).mean(axis=0)
    np.fill_diagonal(p, np.nan)
    return pd.DataFrame(p, index=pd.Index(labels, name=f"{level} A"),
                        columns=pd.Index(labels, name=f"{level} B"))


def domain_contrasts(run: Run, *, effect: str | None = None, ci_prob: float = CI_PROB
                     ) -> pd.DataFrame:
    """Every pair of domains A - B for one varying effect.

    Parameters
    ----------
    run : Run
        A fitted run that pools clusters within domains.
    effect : str, optional
        The varying effect compared (default:
        :func:`~bayescluster.analysis.clusters.default_effect`).
    ci_prob : float
        The intervals' probability.

    Returns
    -------
    DataFrame
        One row per pair (A before B in the run's domain order), indexed by ``contrast``
        (``"A - B"``): median, lower, upper, p_a_gt_b as in :func:`contrast`.
    """
    labels = list(_samples(run, "domain", effect).columns)
    rows = [contrast(run, a, b, level="domain", effect=effect, ci_prob=ci_prob)
            for i, a in enumerate(labels) for b in labels[i + 1:]]
    return pd.DataFrame(rows).rename_axis("contrast")


def ranks(run: Run, level: str = "cluster", *, effect: str | None = None, top: int = 3,
                ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Posterior of each group's rank (1 = largest effect).

    Parameters
    ----------
    run : Run
        A fitted hierarchical run.
    level : str
        Which groups: ``"cluster"`` or ``"domain"``, or the table's column of that level
        (``"LOCATION"``).
    effect : str, optional
        The varying effect ranked (default: :func:`~bayescluster.analysis.clusters.default_effect`).
    top : int
        How many of the largest count as the top, for ``p_top<top>``.
    ci_prob : float
        The rank intervals' probability.

    Returns
    -------
    DataFrame
        Per group (indexed by ``level``), by mean rank: mean_rank, median_rank, the
        interval of the rank (lower, upper) and P(top ``top``) (``p_top<top>``).

    Examples
    --------
    >>> ranked = bc.ranks(run)
    >>> len(ranked) == len(run.design.cluster_labels)
    True
    """
    level = level_of(run, level)
    draws = _samples(run, level, effect)
    r = _ranks(draws.to_numpy())
    bounds = intervals(r, ci_prob=ci_prob)
    table = pd.DataFrame({
        "mean_rank": r.mean(axis=0), "median_rank": np.median(r, axis=0),
        "lower": bounds[:, 0], "upper": bounds[:, 1],
        f"p_top{top}": (r <= top).mean(axis=0)}, index=pd.Index(draws.columns, name=level))
    return table.sort_values("mean_rank")


def rank_distribution(run: Run, level: str = "cluster", *, effect: str | None = None
                      ) -> pd.DataFrame:
    """P(rank = k) for every group (rows) and rank k (columns).

    Parameters
    ----------
    run : Run
        A fitted hierarchical run.
    level : str
        Which groups: ``"cluster"`` or ``"domain"``, or the table's column of that level
        (``"LOCATION"``).
    effect : str, optional
        The varying effect ranked (default: :func:`~bayescluster.analysis.clusters.default_effect`).

    Returns
    -------
    DataFrame
        (group, rank): the posterior probability of each rank 1..K (1 = largest); each
        row sums to 1.
    """
    level = level_of(run, level)
    draws = _samples(run, level, effect)
    r = _ranks(draws.to_numpy())
    k = np.arange(1, r.shape[1] + 1)
    return pd.DataFrame((r[:, :, None] == k).mean(axis=0), index=draws.columns, columns=k)


NO_POOLING_PRIOR = AUTO_SCALE  # the SD of a cluster's own intercept's prior (log scale)
MAX_LOG_MEAN = 30.0
IMPOSSIBLE = 1e100  # the no-pooling loss where the data are impossible (the search backs off)


def no_pooling(run: Run, *, n_draws: int = 100) -> pd.DataFrame:
    r"""Cluster-by-cluster estimates of the varying effects, on the model's firms and scale.

    Each cluster's intercept and slopes fitted to its own firms alone: the mode of their
    posterior under weakly informative priors of their own
    (:data:`~bayescluster.analysis.clusters.NO_POOLING_PRIOR`,
    rstanarm's defaults: the intercept :math:`N(\log(\bar y + 0.1) - \bar o, 2.5^2)`, each
    slope :math:`N(0, (2.5/s_e)^2)` with :math:`s_e` its column's SD over all firms), with
    the common fixed effects, the family's own parameter and P(zero) held at their posterior
    medians and imputed covariates' design columns at their posterior means. The prior keeps
    a cluster whose effect the data cannot identify (all zeros, or no firm with the slope's
    covariate) finite; such a slope (and an intercept confounded with it) is reported as
    missing.

    Parameters
    ----------
    run : Run
        A fitted run with varying effects.
    n_draws : int
        Posterior draws whose design columns (imputed covariates drawn) are averaged.

    Returns
    -------
    DataFrame
        Indexed by (cluster, effect): no_pool, the estimate on the log scale (NaN where the
        cluster's data cannot identify it).

    Raises
    ------
    BayesclusterError
        When the spec has no varying effects.
    """
    design = run.design
    if not design.varying:
        raise BayesclusterError("no-pooling estimates need a spec with varying effects.")
    family = LIKELIHOODS[run.spec.family]
    post = run.posterior
    xs = [d.x for d in draws(run.built, post, np.random.default_rng(0), n_draws)]
    X = np.mean([columns(design, x) for x in xs], axis=0)  # indicators average to shares
    beta = post["beta"].median(("chain", "draw")).values if "beta" in post else np.zeros(0)
    slopes = [k for k in design.varying_index if k >= 0]
    common = beta.copy()
    common[slopes] = 0.0  # the varying effects are each cluster's own here
    theta = float(post[family.parameter].median()) if family.parameter else None
    p_zero = None
    if family.zero_part:
        W = np.mean([columns(design, x, "zero") for x in xs], axis=0)
        gamma = post["zero_beta"].median(("chain", "draw")).values if "zero_beta" in post \
            else None
        p_zero = expit(zero_logit(W, float(post["zero_intercept"].median()), gamma))
    Z = varying_matrix(design, X, design.n_firms)
    offset = design.offset
    centre = np.zeros(Z.shape[1])
    centre[0] = np.log(design.y.mean() + 0.1) - (0.0 if offset is None else offset.mean())
    scale = np.concatenate([[NO_POOLING_PRIOR], auto_scale(Z[:, 1:].std(axis=0))])
    rows = []
    for c, label in enumerate(design.cluster_labels):
        here = np.flatnonzero(design.cluster_index == c)
        z, y, Xc = Z[here], design.y[here], X[here]
        oc = None if offset is None else offset[here]
        b = linear_predictor(Xc, z, intercept=0.0, beta=common, offset=oc)
        pz = None if p_zero is None else p_zero[here]

        def loss(g, z=z, y=y, b=b, pz=pz):
            log_prior = -0.5 * (((g - centre) / scale) ** 2).sum()
            with np.errstate(all="ignore"):  # a trial step where a count is impossible
                value = -family.np_logp(y, np.exp(b + z @ g), theta, pz).sum() - log_prior
            return value if np.isfinite(value) else IMPOSSIBLE

        start = centre.copy()
        start[0] = np.log(y.mean() + 0.1) - b.mean()
        # the log mean stays where a count can be evaluated; the prior keeps the mode inside
        bounds = [(-MAX_LOG_MEAN, MAX_LOG_MEAN)] * len(start)
        g = optimize.minimize(loss, start, method="L-BFGS-B", bounds=bounds).x
        flat = [np.ptp(z[:, e]) == 0 for e in range(z.shape[1])]
        # a slope constant within the cluster is not identified; if that constant is not
        # 0, neither is the intercept
        lost_intercept = any(flat[e] and z[0, e] != 0 for e in range(1, z.shape[1]))
        for e, effect in enumerate(design.varying):
            lost = flat[e] if e > 0 else lost_intercept
            rows.append({"cluster": label, "effect": effect,
                         "no_pool": np.nan if lost else g[e]})
    return pd.DataFrame(rows).set_index(["cluster", "effect"])


def shrinkage(run: Run, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Shrinkage per cluster and varying effect.

    The no-pooling estimate, the partial-pooling posterior median, the mean it is pooled
    toward (``pooled_mean``: its domain's posterior median, or with one grouping level the
    population effect's), and the number of rows (n).

    Parameters
    ----------
    run : Run
        A fitted run with varying effects.
    ci_prob : float
        The interval probability of the group effects it is built from (no interval is
        shown).

    Returns
    -------
    DataFrame
        Indexed by (cluster, effect): no_pool (:func:`~bayescluster.analysis.clusters.no_pooling`),
        partial_pool, domain
        (when clusters are pooled within domains), n and pooled_mean; log scale.

    Examples
    --------
    >>> table_ = bc.shrinkage(run)
    >>> len(table_) == len(run.design.cluster_labels)
    True
    """
    effects = group_effects(run, "cluster", ci_prob=ci_prob)
    pooled = "domain_total" in run.posterior
    table = no_pooling(run).join(effects[["median", *(["domain"] if pooled else []), "n"]])
    table = table.rename(columns={"median": "partial_pool"})
    if pooled:
        domains = group_effects(run, "domain", ci_prob=ci_prob)
        table["pooled_mean"] = [domains.loc[(d, e), "median"] for d, e in
                                zip(table["domain"], table.index.get_level_values("effect"),
                                    strict=True)]
    else:  # one grouping level: shrinkage is toward the population effect
        post = run.posterior
        table["pooled_mean"] = [float(post["intercept" if e == "intercept" else "beta"].sel(
            **({} if e == "intercept" else {"coef": e})).median())
            for e in table.index.get_level_values("effect")]
    return table
