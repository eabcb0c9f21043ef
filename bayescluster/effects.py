"""Average marginal effects on the patent scale, and predictions for covariate profiles.

For a binary covariate :math:`b`, the average marginal effect (AME) in a draw is

.. math:: \\mathrm{AME}_b = \\frac1n\\sum_i E[y_i \\mid x_i, b=1] - E[y_i \\mid x_i, b=0],

with every other covariate at the firm's own value (interaction terms recomputed). The
interaction participant x national x sameregion is defined as the participation effect
for a firm that works with a national university in its own region:
:math:`E[y \\mid p=1, n=1, s=1] - E[y \\mid p=0, n=1, s=1]`, averaged over firms. (The
paper's +6.13 is Stata's change in the interaction dummy alone, holding its three parts
fixed; ours is the change a policy reader can act on.) For zinb and hurdle models the same
differences are given for the extensive margin P(y >= 1) and the intensive margin
E[y | y >= 1]. Summaries are over posterior draws: overall, per domain and per cluster.
"""

import numpy as np
import pandas as pd

from bayescluster.errors import BayesclusterError
from bayescluster.paper import marginal_effects as paper_effects
from bayescluster.predict import Predictor, draws

INTERACTION = "participant:national:sameregion"


def _contrasts(design) -> dict[str, tuple[dict, dict]]:
    binary = [c for c, b in zip(design.covariates, design.binary, strict=True) if b]
    out = {b: ({b: 1.0}, {b: 0.0}) for b in binary}
    if {"participant", "national", "sameregion"} <= set(binary):
        base = {"national": 1.0, "sameregion": 1.0}
        out[INTERACTION] = ({**base, "participant": 1.0}, {**base, "participant": 0.0})
    return out


def _set(design, x: np.ndarray, values: dict) -> np.ndarray:
    x = x.copy()
    for name, value in values.items():
        x[:, design.covariates.index(name)] = value
    return x


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


def effect_draws(run, max_draws: int | None = 1000, seed: int = 0) -> pd.DataFrame:
    """Long table of AME draws: effect, margin, level, group, sample, value."""
    if run.prior_only:
        raise BayesclusterError("a prior-only run has no posterior to compute effects from.")
    design = run.design
    predictor = Predictor(run)
    contrasts = _contrasts(design)
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


def summarise(draws_table: pd.DataFrame, prob: float = 0.9) -> pd.DataFrame:
    """Mean, median, central interval and P(> 0) of each effect, margin and group."""
    tail = (1 - prob) / 2
    keys = ["effect", "margin", "level", "group"]
    grouped = draws_table.groupby(keys, sort=False)["value"]
    table = pd.DataFrame({
        "mean": grouped.mean(), "median": grouped.median(),
        "lower": grouped.quantile(tail), "upper": grouped.quantile(1 - tail),
        "p_gt_0": grouped.apply(lambda v: float((v > 0).mean())),
    })
    paper = paper_effects()
    table["paper"] = [paper.get(e, np.nan) if (m, lv) == ("total", "overall") else np.nan
                      for e, m, lv, _ in table.index]
    return table


def average_marginal_effects(run, prob: float = 0.9, max_draws: int | None = 1000,
                             seed: int = 0) -> pd.DataFrame:
    """AMEs on E[pat] (and the two margins for zero-part families), summarised."""
    return summarise(effect_draws(run, max_draws, seed), prob)


def parse_profile(text: str) -> dict[str, float]:
    """'participant=1,national=1' -> {'participant': 1.0, 'national': 1.0}."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise BayesclusterError(f"profile entry {part!r} must look like name=value, "
                                    "e.g. participant=1,national=1.") from None
    return out


def profile_predictions(run, profile: dict[str, float], prob: float = 0.9,
                        max_draws: int | None = 1000, seed: int = 0) -> pd.DataFrame:
    """E[pat] (and margins) with the profile's covariates set for every firm, averaged over
    firms overall and per domain; other covariates stay at each firm's values."""
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
    predictor = Predictor(run)
    groups = {k: v for k, v in _groups(run).items() if k[0] != "cluster"}
    records = []
    for k, d in enumerate(draws(run.built, run.posterior, np.random.default_rng(seed),
                                max_draws)):
        m = predictor.margins(_set(design, d.x, scaled), predictor.index(d.chain, d.draw))
        for margin, values in m.items():
            for (level, group), idx in groups.items():
                records.append((margin, level, group, k, values[idx].mean()))
    table = pd.DataFrame(records, columns=["margin", "level", "group", "sample", "value"])
    tail = (1 - prob) / 2
    g = table.groupby(["margin", "level", "group"], sort=False)["value"]
    return pd.DataFrame({"mean": g.mean(), "median": g.median(), "lower": g.quantile(tail),
                         "upper": g.quantile(1 - tail)})
