r"""The paper's questions asked of a fitted run.

Its Table 4 layout, Section 6.1's marginal effects, and the hypotheses H1
and H2.

The interaction participant x national x sameregion is read as the participation effect for
a firm that works with a national university in its own region:
:math:`E[y \mid p=1, n=1, s=1] - E[y \mid p=0, n=1, s=1]`, averaged over firms. (The paper's
+6.13 is Stata's change in the interaction dummy alone, holding its three parts fixed; ours
is the change a policy reader can act on.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayescluster.analysis.effects import average_marginal_effects, binary_contrasts
from bayescluster.analysis.intervals import CI_PROB
from bayescluster.analysis.summary import fixed_effects
from bayescluster.reporting.sections import interval_text
from bayescluster.study.paper import marginal_effects as paper_effects
from bayescluster.study.paper import table4

if TYPE_CHECKING:
    from bayescluster.inference.run import Run
    from bayescluster.model.design import Design

INTERACTION = "participant:national:sameregion"
TABLE4_ORDER = ("participant", "log(scale)", "rd", "projects", "national", "jointrd",
                "sameregion", "participant:log(scale)", INTERACTION, "intercept")


def table4_layout(run: Run, *, ci_prob: float = CI_PROB) -> pd.DataFrame:
    """Fixed effects, in Table 4's order for the paper's specs.

    For the paper_m* specs (``[paper] model``) the terms follow Table 4 and the paper's
    coefficient and SE stand beside each (``paper_coef``, ``paper_se``); other specs keep
    their own order.

    Parameters
    ----------
    run : Run
        A fitted run.
    ci_prob : float
        The intervals' probability.

    Returns
    -------
    DataFrame
        :func:`~bayescluster.analysis.summary.fixed_effects`' table, indexed by term, the
        intercept last for the paper's specs.
    """
    table = fixed_effects(run, ci_prob=ci_prob)
    model = run.spec.paper_model
    if not model:
        return table
    rows = list(table.index)
    order = [t for t in TABLE4_ORDER if t in rows] + [t for t in rows
                                                      if t not in TABLE4_ORDER]
    order = [t for t in order if t != "intercept"] + ["intercept"]
    paper = table4().query("model == @model").set_index("term")[["coef", "se"]]
    return table.loc[order].join(paper.rename(columns={"coef": "paper_coef",
                                                       "se": "paper_se"}))


def applies(design: Design) -> bool:
    """Whether a run's table is the paper's firms.

    It is when it has their ``participant``: then the paper's questions, tables and
    profile apply to it.

    Parameters
    ----------
    design : Design
        The run's design.

    Returns
    -------
    bool
        Whether ``participant`` is among its covariates.
    """
    return "participant" in design.covariates


def policy_contrasts(design: Design) -> dict:
    """Each binary covariate at 1 against 0, and the interaction's policy profile.

    Parameters
    ----------
    design : Design
        The run's design.

    Returns
    -------
    dict
        Name -> (settings switched on, settings switched off), each a dict of covariate
        -> value; the interaction's sets participant to 1 and to 0 with national and
        sameregion at 1, where the design has all three.
    """
    out = binary_contrasts(design)
    binary = set(out)
    if {"participant", "national", "sameregion"} <= binary:
        base = {"national": 1.0, "sameregion": 1.0}
        out[INTERACTION] = ({**base, "participant": 1.0}, {**base, "participant": 0.0})
    return out


def policy_effects(run: Run, *, ci_prob: float = CI_PROB, max_draws: int | None = 1000,
                   seed: int = 0) -> pd.DataFrame:
    """Average marginal effects with the interaction's profile, and Section 6.1's values.

    The paper's values stand beside the overall total effects (``paper``).

    Parameters
    ----------
    run : Run
        A fitted run.
    ci_prob : float
        The intervals' probability.
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).
    seed : int
        Seed for the draws of marginalised binary covariates.

    Returns
    -------
    DataFrame
        :func:`~bayescluster.analysis.effects.average_marginal_effects`' table of
        :func:`policy_contrasts`, with a ``paper`` column (NaN but on overall totals).
    """
    table = average_marginal_effects(run, contrasts=policy_contrasts(run.design),
                                     ci_prob=ci_prob, max_draws=max_draws, seed=seed)
    paper = paper_effects()
    table["paper"] = [paper.get(e, np.nan) if (m, lv) == ("total", "overall") else np.nan
                      for e, m, lv, _ in table.index]
    return table


def verdict(p: float) -> str:
    """A hypothesis' verdict from the probability of a positive effect.

    Parameters
    ----------
    p : float
        The posterior probability that the effect is positive.

    Returns
    -------
    str
        "supported" (p >= 0.95), "contradicted (the effect is negative)" (p <= 0.05) or
        "not settled by the data".
    """
    if p >= 0.95:
        return "supported"
    if p <= 0.05:
        return "contradicted (the effect is negative)"
    return "not settled by the data"


def hypotheses(fixed: pd.DataFrame, ames: pd.DataFrame) -> list[str]:
    """The paper's H1 and H2 answered in one sentence each.

    Parameters
    ----------
    fixed : DataFrame
        :func:`table4_layout`'s table.
    ames : DataFrame
        :func:`policy_effects`' table.

    Returns
    -------
    list of str
        H1's sentence, then H2's (each says so when the model cannot answer it).
    """
    overall = ames.xs(("total", "overall", "all"), level=("margin", "level", "group"))
    out = []
    if "participant" in overall.index:
        row = overall.loc["participant"]
        out.append(f"H1 (cluster participants apply for more patents than non-participants) "
                   f"is {verdict(row['p_gt_0'])}: participation changes expected patents by "
                   f"{interval_text(row)} per firm on average, P(> 0) = {row['p_gt_0']:.2f}.")
    else:
        out.append("H1 cannot be answered: the model has no binary participant covariate.")
    if INTERACTION in fixed.index:
        p = float(fixed.loc[INTERACTION, "p_gt_0"])
        text = (f"H2 (participants working with a national university in their own region "
                f"apply for more patents) is {verdict(p)}: the coefficient of {INTERACTION} "
                f"has P(> 0) = {p:.2f}")
        if INTERACTION in overall.index:
            text += (f", and for such firms participation changes expected patents by "
                     f"{interval_text(overall.loc[INTERACTION])}")
        out.append(text + ".")
    else:
        out.append(f"H2 cannot be answered: the model has no {INTERACTION} term.")
    return out
