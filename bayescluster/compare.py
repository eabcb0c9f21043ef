"""Comparing posteriors across clusters and domains: effects, contrasts, ranks, shrinkage.

A cluster's effect is its total: population + domain deviation + cluster deviation
(``cluster_total``); a domain's is population + domain deviation (``domain_total``).
All functions work from a saved run and return tidy pandas objects.
"""

import numpy as np
import pandas as pd
from scipy import optimize

from bayescluster.errors import BayesclusterError
from bayescluster.families import FAMILIES, expit
from bayescluster.predict import columns, draws


def _require(run, name: str):
    post = run.posterior
    if name not in post:
        raise BayesclusterError(f"run {run.spec.name!r} has no {name}: compare needs a "
                                "hierarchical spec ([hierarchy] varying).")
    return post[name]


def _check_effect(run, effect: str) -> None:
    effects = list(run.design.varying)
    if effect not in effects:
        raise BayesclusterError(f"unknown varying effect {effect!r}. Valid names are: "
                                f"{', '.join(effects)}.")


def _samples(run, level: str, effect: str) -> pd.DataFrame:
    """(sample, group) draws of a level's total effect."""
    _check_effect(run, effect)
    da = _require(run, f"{level}_total").sel(effect=effect)
    values = np.asarray(da.values).reshape(-1, da.sizes[level])
    return pd.DataFrame(values, columns=[str(v) for v in da[level].values])


def group_effects(run, level: str = "cluster", prob: float = 0.9) -> pd.DataFrame:
    """Median, interval and P(> 0) of each varying effect per cluster (or domain), with the
    number of firms and, for clusters, their domain."""
    tail = (1 - prob) / 2
    design = run.design
    sizes = pd.Series(np.bincount(design.cluster_index, minlength=len(design.cluster_labels)),
                      index=design.cluster_labels)
    domain_of = dict(zip(design.cluster_labels,
                         np.array(design.domain_labels)[design.cluster_domain], strict=True))
    rows = []
    for effect in design.varying:
        draws = _samples(run, level, effect)
        for group in draws.columns:
            v = draws[group].to_numpy()
            row = {level: group, "effect": effect, "median": np.median(v),
                   "lower": np.quantile(v, tail), "upper": np.quantile(v, 1 - tail),
                   "p_gt_0": (v > 0).mean()}
            if level == "cluster":
                row.update(domain=domain_of[group], firms=int(sizes[group]))
            else:
                row["firms"] = int(sum(sizes[c] for c, d in domain_of.items() if d == group))
            rows.append(row)
    return pd.DataFrame(rows).set_index([level, "effect"])


def contrast(run, a: str, b: str, level: str = "cluster", effect: str = "participant",
             prob: float = 0.9) -> pd.Series:
    """A - B for two clusters (or domains): median, interval, P(A > B)."""
    draws = _samples(run, level, effect)
    for name in (a, b):
        if name not in draws.columns:
            raise BayesclusterError(f"unknown {level} {name!r}. Valid names are: "
                                    f"{', '.join(draws.columns)}.")
    diff = (draws[a] - draws[b]).to_numpy()
    tail = (1 - prob) / 2
    return pd.Series({"median": np.median(diff), "lower": np.quantile(diff, tail),
                      "upper": np.quantile(diff, 1 - tail), "p_a_gt_b": (diff > 0).mean()},
                     name=f"{a} - {b}")


def contrast_matrix(run, level: str = "cluster", effect: str = "participant") -> pd.DataFrame:
    """P(row > column) for every pair of clusters (or domains)."""
    draws = _samples(run, level, effect).to_numpy()
    labels = list(_samples(run, level, effect).columns)
    p = (draws[:, :, None] > draws[:, None, :]).mean(axis=0)
    np.fill_diagonal(p, np.nan)
    return pd.DataFrame(p, index=pd.Index(labels, name=f"{level} A"),
                        columns=pd.Index(labels, name=f"{level} B"))


def domain_contrasts(run, effect: str = "participant", prob: float = 0.9) -> pd.DataFrame:
    """Every pair of domains A - B for one varying effect."""
    labels = list(_samples(run, "domain", effect).columns)
    rows = [contrast(run, a, b, "domain", effect, prob)
            for i, a in enumerate(labels) for b in labels[i + 1:]]
    return pd.DataFrame(rows).rename_axis("contrast")


def ranks(run, level: str = "cluster", effect: str = "participant",
          top: int = 3) -> pd.DataFrame:
    """Posterior of each group's rank (1 = largest effect): mean, median, 90% interval and
    P(top ``top``)."""
    draws = _samples(run, level, effect)
    r = (-draws.to_numpy()).argsort(axis=1).argsort(axis=1) + 1
    table = pd.DataFrame({
        "mean_rank": r.mean(axis=0), "median_rank": np.median(r, axis=0),
        "lower": np.quantile(r, 0.05, axis=0), "upper": np.quantile(r, 0.95, axis=0),
        f"p_top{top}": (r <= top).mean(axis=0)}, index=pd.Index(draws.columns, name=level))
    return table.sort_values("mean_rank")


def rank_distribution(run, level: str = "cluster", effect: str = "participant"
                      ) -> pd.DataFrame:
    """P(rank = k) for every group (rows) and rank k (columns)."""
    draws = _samples(run, level, effect)
    r = (-draws.to_numpy()).argsort(axis=1).argsort(axis=1) + 1
    k = np.arange(1, r.shape[1] + 1)
    return pd.DataFrame((r[:, :, None] == k).mean(axis=0), index=draws.columns, columns=k)


def no_pooling(run, n_draws: int = 100) -> pd.DataFrame:
    """Cluster-by-cluster estimates of the varying effects, on the same firms and scale as
    the model: each cluster's intercept and slopes by maximum likelihood on its own firms
    alone, with the common fixed effects, dispersion and P(zero) held at their posterior
    medians and imputed covariates at their posterior means. A N(0, 10) penalty per
    coefficient keeps a cluster whose effect is not identified (all zeros, no participants)
    finite; such a slope (and an intercept confounded with it) is reported as missing."""
    design = run.design
    if not design.varying:
        raise BayesclusterError("no-pooling estimates need a spec with varying effects.")
    family = FAMILIES[run.spec.family]
    post = run.posterior
    xs = [d.x for d in draws(run.built, post, np.random.default_rng(0), n_draws)]
    x = np.mean(xs, axis=0)
    X = columns(design, x)
    beta = post["beta"].median(("chain", "draw")).values if "beta" in post else np.zeros(0)
    slopes = [k for k in design.varying_index if k >= 0]
    common = [k for k in range(X.shape[1]) if k not in slopes]
    base = X[:, common] @ beta[common] + (design.offset if design.offset is not None else 0)
    alpha = float(post["dispersion"].median()) if family.dispersion else None
    p_zero = None
    if family.zero_part:
        zeta = float(post["zero_intercept"].median()) + (
            columns(design, x, "zero") @ post["zero_beta"].median(("chain", "draw")).values
            if "zero_beta" in post else 0.0)
        p_zero = expit(zeta) * np.ones(design.n_firms)
    Z = np.column_stack([np.ones(design.n_firms) if k < 0 else X[:, k]
                         for k in design.varying_index])
    rows = []
    for c, label in enumerate(design.cluster_labels):
        here = np.flatnonzero(design.cluster_index == c)
        z, y, b = Z[here], design.y[here], base[here]
        pz = None if p_zero is None else p_zero[here]

        def loss(g, z=z, y=y, b=b, pz=pz):
            eta = np.clip(b + z @ g, -30, 30)
            return -family.np_logp(y, np.exp(eta), alpha, pz).sum() + 0.5 * (g**2).sum() / 100

        start = np.zeros(len(design.varying))
        start[0] = np.log(y.mean() + 0.1) - b.mean()
        g = optimize.minimize(loss, start, method="L-BFGS-B").x
        flat = [np.ptp(z[:, e]) == 0 for e in range(z.shape[1])]
        # a slope constant within the cluster is not identified; if that constant is not
        # 0, neither is the intercept
        lost_intercept = any(flat[e] and z[0, e] != 0 for e in range(1, z.shape[1]))
        for e, effect in enumerate(design.varying):
            lost = flat[e] if e > 0 else lost_intercept
            rows.append({"cluster": label, "effect": effect,
                         "no_pool": np.nan if lost else g[e]})
    return pd.DataFrame(rows).set_index(["cluster", "effect"])


def shrinkage(run) -> pd.DataFrame:
    """Per cluster and varying effect: the no-pooling estimate, the partial-pooling
    posterior median, its domain's posterior median, and the number of firms."""
    effects = group_effects(run, "cluster")
    domains = group_effects(run, "domain") if "domain_total" in run.posterior else None
    table = no_pooling(run).join(effects[["median", "domain", "firms"]])
    table = table.rename(columns={"median": "partial_pool"})
    if domains is not None:
        table["domain_mean"] = [domains.loc[(d, e), "median"] for d, e in
                                zip(table["domain"], table.index.get_level_values("effect"),
                                    strict=True)]
    else:  # one grouping level: shrinkage is toward the population effect
        post = run.posterior
        table["domain_mean"] = [float(post["intercept" if e == "intercept" else "beta"].sel(
            **({} if e == "intercept" else {"coef": e})).median())
            for e in table.index.get_level_values("effect")]
    return table
