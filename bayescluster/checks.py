"""Posterior (and prior) predictive checks, PSIS-LOO, and leave-one-cluster-out CV.

Test statistics T (share of zeros, variance/mean, maximum) are computed on the observed
counts and on every replicated data set; the predictive p-value is
:math:`P(T(y^{rep}) \\ge T(y))`. The rootogram compares observed and expected frequencies
of each count. Leave-one-cluster-out refits the model without each cluster and scores the
held-out firms with the cluster's effect drawn from its domain's distribution (a new
cluster): :math:`\\mathrm{elpd}_c = \\log \\frac1S \\sum_s p(y_c \\mid \\theta^{(s)})`.
"""

import warnings
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
from scipy import special

from bayescluster.errors import BayesclusterError
from bayescluster.families import FAMILIES, expit
from bayescluster.predict import columns, draws

STATISTICS = {
    "zeros": lambda y: (y == 0).mean(axis=-1),
    "var_mean": lambda y: y.var(axis=-1, ddof=1) / np.maximum(y.mean(axis=-1), 1e-12),
    "max": lambda y: y.max(axis=-1).astype(float),
}


def _replicates(run, group: str) -> np.ndarray:
    name = "posterior_predictive" if group == "posterior" else "prior_predictive"
    if name not in run.tree.children:
        raise BayesclusterError(f"the run has no {name} group. Fix: use a "
                                f"{'posterior' if group == 'posterior' else '--prior-only'} "
                                "run.")
    values = np.asarray(run.tree[name][run.outcome].values)
    return values.reshape(-1, values.shape[-1])


def _facets(run, by: str | None) -> dict[str, np.ndarray]:
    design = run.design
    out = {"all": np.arange(design.n_firms)}
    if by == "domain":
        dom = design.cluster_domain[design.cluster_index]
        out.update({d: np.flatnonzero(dom == k) for k, d in enumerate(design.domain_labels)})
    elif by == "cluster":
        out.update({c: np.flatnonzero(design.cluster_index == k)
                    for k, c in enumerate(design.cluster_labels)})
    elif by is not None:
        raise BayesclusterError(f"unknown facet {by!r}. Valid names are: domain, cluster.")
    return out


def ppc_statistics(run, by: str | None = "domain", group: str = "posterior") -> pd.DataFrame:
    """Observed statistic, replicated mean and 90% interval, and the predictive p-value,
    for each statistic and facet."""
    y, rep = run.design.y, _replicates(run, group)
    rows = []
    for facet, idx in _facets(run, by).items():
        for name, stat in STATISTICS.items():
            observed = float(stat(y[idx]))
            replicated = stat(rep[:, idx])
            rows.append({"facet": facet, "statistic": name, "observed": observed,
                         "replicated_mean": replicated.mean(),
                         "lower": np.quantile(replicated, 0.05),
                         "upper": np.quantile(replicated, 0.95),
                         "p_value": (replicated >= observed).mean(), "firms": len(idx)})
    return pd.DataFrame(rows).set_index(["facet", "statistic"])


def ppc_draws(run, statistic: str, group: str = "posterior",
              firms: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """T(y) and T(y_rep) for every replicated data set (optionally for some firms)."""
    if statistic not in STATISTICS:
        raise BayesclusterError(f"unknown statistic {statistic!r}. Valid names are: "
                                f"{', '.join(STATISTICS)}.")
    stat = STATISTICS[statistic]
    idx = np.arange(run.design.n_firms) if firms is None else firms
    return float(stat(run.design.y[idx])), stat(_replicates(run, group)[:, idx])


def ppc_facets(run, by: str = "domain", group: str = "posterior") -> dict:
    """{facet: {statistic: (T(y), T(y_rep))}} for the faceted figure."""
    return {facet: {s: ppc_draws(run, s, group, idx) for s in STATISTICS}
            for facet, idx in _facets(run, by).items() if facet != "all"}


def rootogram(run, max_count: int | None = None, group: str = "posterior") -> pd.DataFrame:
    """Observed and expected frequency of each count 0..max_count; the last row collects
    everything above. Hanging: the bar of sqrt(observed) hangs from sqrt(expected)."""
    y, rep = run.design.y, _replicates(run, group)
    top = int(max_count if max_count is not None else max(10, np.quantile(y, 0.95)))
    clipped_y = np.minimum(y, top + 1)
    clipped_rep = np.minimum(rep, top + 1)
    counts = np.arange(top + 2)
    observed = np.bincount(clipped_y, minlength=top + 2)
    per_draw = np.stack([np.bincount(r, minlength=top + 2) for r in clipped_rep])
    labels = [str(k) for k in range(top + 1)] + [f">{top}"]
    table = pd.DataFrame({"count": labels, "observed": observed,
                          "expected": per_draw.mean(axis=0),
                          "lower": np.quantile(per_draw, 0.05, axis=0),
                          "upper": np.quantile(per_draw, 0.95, axis=0)}, index=counts)
    table["hanging_bottom"] = np.sqrt(table["expected"]) - np.sqrt(table["observed"])
    return table


def loo_pit(run) -> np.ndarray:
    """LOO-PIT values, one per firm (uniform when the model is calibrated)."""
    from arviz_stats import loo_pit as az_loo_pit

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pit = az_loo_pit(run.tree, var_names=[run.outcome], random_state=0)
    return np.asarray(pit[run.outcome].values).ravel()


def loo(run):
    """PSIS-LOO (arviz-stats ELPDData, pointwise)."""
    from arviz_stats import loo as az_loo

    if "log_likelihood" not in run.tree.children:
        raise BayesclusterError("the run has no log-likelihood (prior-only or damaged).")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return az_loo(run.tree, pointwise=True, var_name=run.outcome)


def pareto_k_by_cluster(run, elpd=None) -> pd.DataFrame:
    """Pareto k summarised per cluster: max k, firms with k > 0.7, elpd_loo."""
    elpd = elpd if elpd is not None else loo(run)
    k = np.asarray(elpd.pareto_k.values).ravel()
    elpd_i = np.asarray(elpd.elpd_i.values).ravel()
    design = run.design
    frame = pd.DataFrame({"cluster": np.array(design.cluster_labels)[design.cluster_index],
                          "k": k, "elpd_i": elpd_i})
    return frame.groupby("cluster").agg(firms=("k", "size"), max_k=("k", "max"),
                                        bad_k=("k", lambda v: int((v > 0.7).sum())),
                                        elpd_loo=("elpd_i", "sum"))


def compare_runs(runs: dict) -> pd.DataFrame:
    """LOO comparison across runs on the same firms: elpd, differences, SEs, stacking
    weights (arviz-stats ``compare``)."""
    from arviz_stats import compare

    kinds = {(run.outcome, run.data.roles.per, bool(run.spec.selection))
             for run in runs.values()}
    if len(kinds) > 1:
        raise BayesclusterError("runs score different outcomes (or a selection model also "
                                "scores participation); LOO compares models of the same "
                                "outcome only.")
    ids = {name: tuple(run.design.firm_ids) for name, run in runs.items()}
    if len(set(ids.values())) > 1:
        raise BayesclusterError("runs fit different firms (different data or missing-data "
                                "rules); LOO can only compare models of the same firms.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return compare({name: loo(run) for name, run in runs.items()}, method="stacking",
                       round_to="none")


def _new_cluster_loglik(run, held_out, rng, max_draws: int) -> float:
    """log p(y_c | y_-c) for a cluster the run did not see: its deviation is drawn from
    N(0, Sigma_cluster) around its domain's effect, per posterior draw."""
    design, family = run.design, FAMILIES[run.spec.family]
    post = run.posterior
    domain = held_out["domain"]
    total = []
    for d in draws(run.built, post, rng, max_draws):
        c, k = d.chain, d.draw
        beta0 = float(post["intercept"].values[c, k])
        beta = post["beta"].values[c, k] if "beta" in post else np.zeros(0)
        x = held_out["x"]
        X = columns(held_out["design"], x)
        eta = beta0 + X @ beta
        if design.varying:
            sds = post["sd_cluster"].values[c, k]
            corr = post["cluster_corr"].values[c, k] if "cluster_corr" in post else np.eye(1)
            dev = rng.multivariate_normal(np.zeros(len(sds)), np.outer(sds, sds) * corr)
            dom = (post["domain_effect"].sel(domain=domain).values[c, k]
                   if "domain_effect" in post and domain in post["domain"].values
                   else np.zeros(len(sds)))
            Z = np.column_stack([np.ones(len(x)) if j < 0 else X[:, j]
                                 for j in design.varying_index])
            eta = eta + Z @ (dom + dev)
        alpha = float(post["dispersion"].values[c, k]) if family.dispersion else None
        p_zero = None
        if family.zero_part:
            zeta = post["zero_intercept"].values[c, k] + (
                columns(held_out["design"], x, "zero") @ post["zero_beta"].values[c, k]
                if "zero_beta" in post else 0.0)
            p_zero = expit(zeta)
        total.append(family.np_logp(held_out["y"], np.exp(eta), alpha, p_zero).sum())
    total = np.array(total)
    return float(special.logsumexp(total) - np.log(len(total)))


def _loco_one(args) -> dict:
    from bayescluster.data import validate
    from bayescluster.design import make_design
    from bayescluster.fit import fit

    spec, frame, cluster, settings = args
    roles = spec.roles
    train = frame[frame[roles.cluster] != cluster]
    test = frame[frame[roles.cluster] == cluster]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = fit(spec, validate(train, roles), quiet=True, **settings)
        test_data = validate(test, roles)
        test_design = make_design(spec, test_data)
    complete = ~np.isnan(test_design.values).any(axis=1)
    train_design = run.design
    x = test_design.values[complete].copy()
    for j, name in enumerate(test_design.covariates):  # training scale
        c_test, s_test = test_design.transform_stats.get(name, (0.0, 1.0))
        c_train, s_train = train_design.transform_stats.get(name, (0.0, 1.0))
        x[:, j] = ((x[:, j] * s_test + c_test) - c_train) / s_train
    held = {"x": x, "y": test_design.y[complete], "design": train_design,
            "domain": test_data.domains.get(cluster) if test_data.domains else None}
    elpd = _new_cluster_loglik(run, held, np.random.default_rng(settings["seed"]), 400)
    return {"cluster": cluster, "firms": int(complete.sum()), "elpd": elpd,
            "elpd_per_firm": elpd / max(int(complete.sum()), 1),
            "gates": run.tree.attrs.get("status")}


def leave_one_cluster_out(run, chains: int = 2, draws_: int = 500, tune: int = 500,
                          workers: int = 2, seed: int = 1) -> pd.DataFrame:
    """Exact refits without each cluster, in parallel processes; scores the held-out
    cluster's complete-case firms as a new cluster of its domain."""
    if any(c.dummy is not None for c in (*run.design.fixed, *run.design.zero)):
        raise BayesclusterError("leave-one-cluster-out needs a spec without categorical "
                                "covariates (a held-out cluster may lack their levels).")
    frame = run.data.frame
    settings = {"chains": chains, "draws": draws_, "tune": tune, "seed": seed}
    jobs = [(run.spec, frame, c, settings) for c in run.design.cluster_labels]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = list(pool.map(_loco_one, jobs))
    else:
        rows = [_loco_one(job) for job in jobs]
    return pd.DataFrame(rows).set_index("cluster")

