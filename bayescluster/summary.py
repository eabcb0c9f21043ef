"""Tidy posterior summaries: fixed effects in Table 4's layout, group-level parameters."""

import numpy as np
import pandas as pd
import xarray as xr

from bayescluster.paper import table4

TABLE4_ORDER = ("participant", "log(scale)", "rd", "projects", "national", "jointrd",
                "sameregion", "participant:log(scale)", "participant:national:sameregion",
                "intercept")


def describe_draws(draws: xr.DataArray, prob: float = 0.9) -> dict:
    """Mean, SD, central ``prob`` interval and P(> 0) of one quantity's draws."""
    values = np.asarray(draws.values, dtype=float).reshape(-1)
    tail = (1 - prob) / 2
    return {"mean": values.mean(), "sd": values.std(ddof=1),
            "lower": np.quantile(values, tail), "upper": np.quantile(values, 1 - tail),
            "p_gt_0": (values > 0).mean()}


def fixed_effects(run, prob: float = 0.9) -> pd.DataFrame:
    """Posterior mean, SD, central ``prob`` interval and P(> 0) of every fixed effect, in
    Table 4's order; for the paper_m* specs the paper's coefficient and SE beside each."""
    post = run.posterior
    rows = {"intercept": describe_draws(post["intercept"], prob)}
    if "beta" in post:
        for label in post["coef"].values:
            rows[str(label)] = describe_draws(post["beta"].sel(coef=label), prob)
    order = [t for t in TABLE4_ORDER if t in rows] + [t for t in rows if t not in TABLE4_ORDER
                                                      and t != "intercept"]
    order = [t for t in order if t != "intercept"] + ["intercept"]
    table = pd.DataFrame(rows).T.loc[order].rename_axis("term")
    model = run.spec.paper_model
    if model:
        paper = table4().query("model == @model").set_index("term")[["coef", "se"]]
        table = table.join(paper.rename(columns={"coef": "paper_coef", "se": "paper_se"}))
    return table


def group_parameters(run, prob: float = 0.9) -> pd.DataFrame:
    """Group SDs, dispersion and P(zero) with intervals, one row each; for a selection
    model also rho, the firm-effect SD and the participation equation."""
    post = run.posterior
    rows = {}
    for name in ("sd_domain", "sd_cluster"):
        if name in post:
            for effect in post["effect"].values:
                rows[f"{name}[{effect}]"] = describe_draws(post[name].sel(effect=effect), prob)
    if "cluster_corr" in post and post.sizes.get("effect", 0) > 1:
        effects = list(post["effect"].values)
        for i in range(len(effects)):
            for j in range(i + 1, len(effects)):
                rows[f"cluster_corr[{effects[i]}, {effects[j]}]"] = describe_draws(
                    post["cluster_corr"].isel(effect=i, effect2=j), prob)
    for name in ("dispersion", "p_zero", "rho", "firm_sd", "selection_sd_cluster"):
        if name in post:
            rows[name] = describe_draws(post[name], prob)
    if "selection_beta" in post:
        for label in post["selection_coef"].values:
            rows[f"participation[{label}]"] = describe_draws(
                post["selection_beta"].sel(selection_coef=label), prob)
    return pd.DataFrame(rows).T.rename_axis("parameter")


def group_totals(run, level: str = "domain", prob: float = 0.9) -> pd.DataFrame:
    """Per domain (or cluster) totals of each varying effect: population + deviations."""
    post = run.posterior
    name = f"{level}_total"
    if name not in post:
        return pd.DataFrame()
    rows = []
    for label in post[level].values:
        for effect in post["effect"].values:
            stats = describe_draws(post[name].sel({level: label, "effect": effect}), prob)
            rows.append({level: str(label), "effect": str(effect), **stats})
    return pd.DataFrame(rows).set_index([level, "effect"])
