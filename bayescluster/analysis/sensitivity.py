r"""Prior and likelihood sensitivity by power-scaling (Kallioinen et al. 2024, priorsense).

The prior :math:`p(\theta)` (the spec's priors, see
:mod:`bayescluster.model.prior_density`) or the likelihood :math:`p(y \mid \theta)` is
raised to a power :math:`\alpha` near 1, and the posterior's change is measured by the
cumulative Jensen-Shannon distance's derivative at :math:`\alpha = 1`, from importance
weights :math:`\propto p(\cdot)^{\alpha - 1}` on the draws already made: no refit.
arviz-stats computes it (:func:`arviz_stats.psense_summary`); this module chooses the
quantities (every parameter with a prior, and what the findings read: average marginal
effects, a domain contrast, each group's total effect and its rank among the groups) and
words the verdict:

- *prior-data conflict*: both sensitivities at or above the threshold (0.05), and the
  posterior median in the prior's outer 2.5% on either side (its ``prior_quantile``, read
  from draws of the prior): the data pull the quantity where the prior puts little mass;
- *prior and data both inform*: both sensitivities at or above the threshold, the posterior
  within the prior's central 95%: the prior shapes the answer without contradicting the
  data, as a hierarchical SD's does with few groups;
- *strong prior, weak likelihood*: the prior's above it, the likelihood's below;
- *fine*: otherwise (the likelihood dominates, as it should).

priorsense calls the first two alike "potential prior-data conflict"; the prior quantile
tells them apart.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from bayescluster.analysis.robustness import DrawsView
from bayescluster.core.errors import BayesclusterError
from bayescluster.model.evaluate import thin_indices
from bayescluster.model.prior_density import LOG_PRIOR, log_prior_at, scaled_names

if TYPE_CHECKING:
    from bayescluster.inference.run import Run

THRESHOLD = 0.05  # priorsense's
PRIOR_TAIL = 0.025  # each side: a posterior median beyond it sits where the prior has little
PRIOR_DRAWS = 1000
BOTH = "prior and data both inform"
VERDICTS = {"potential prior-data conflict": "prior-data conflict",
            "potential strong prior / weak likelihood": "strong prior, weak likelihood",
            "✓": "fine"}


def _label(name: str, da: xr.DataArray, index: tuple) -> str:
    if not index:
        return name
    parts = (str(da[d].values[i]) for d, i in zip(da.dims[2:], index, strict=True))
    return f"{name}[{', '.join(parts)}]"


def _parameters(run: Run | DrawsView, pairs: np.ndarray) -> dict[str, tuple[str, np.ndarray]]:
    """Each scaled parameter, element by element, as reported.

    An intercept sampled at the covariates' means is read back on the data's scale.
    """
    post = run.posterior
    out = {}
    for name in scaled_names(run.built):
        if name.startswith("impute_"):
            continue  # the covariate model's, not the outcome's
        shown = name.removesuffix("_at_means").removesuffix("_centred")
        shown = {"cluster_chol": "sd_cluster", "cluster_corr_beta": "cluster_corr"}.get(
            shown, shown)
        da = post[shown if shown in post else name]
        values = np.asarray(da.values)[pairs[:, 0], pairs[:, 1]]
        if shown == "cluster_corr":
            values = values[:, 0, 1]
            out["cluster_corr"] = ("parameter", values)
            continue
        for index in np.ndindex(values.shape[1:]):
            out[_label(shown, da, index)] = ("parameter", values[(slice(None), *index)])
    return out


def _derived(run: Run | DrawsView, pairs: np.ndarray, max_draws: int | None,
             domains: tuple[str, str] | None) -> dict[str, tuple[str, np.ndarray]]:
    """What the findings read: marginal effects, a domain contrast, group totals and ranks."""
    from bayescluster.analysis.clusters import default_effect
    from bayescluster.analysis.effects import default_contrasts
    from bayescluster.analysis.robustness import quantities

    design, post, w = run.design, run.posterior, run.data.words
    effect = default_effect(design) if design.varying else None
    found, _ = quantities(run, list(default_contrasts(design)), domains=domains,
                          effect=effect, max_draws=max_draws)
    out = {}
    for name, values in found.items():
        kind, _, what = name.partition(": ")
        out[f"effect of {what}" if kind == "effect" else
            f"{what.replace(' vs ', ' - ')} ({effect})"] = (
            "effect" if kind == "effect" else "contrast", values)
    if not design.varying:
        return out
    da = post["cluster_total"].sel(effect=effect)
    values = np.asarray(da.values)[pairs[:, 0], pairs[:, 1]]
    ranks = (-values).argsort(axis=1).argsort(axis=1) + 1.0  # 1: the largest, as bc.ranks
    for k, label in enumerate(da["cluster"].values):
        out[f"{w.group} {label} ({effect})"] = (w.group, values[:, k])
        out[f"rank of {w.group} {label} ({effect})"] = ("rank", ranks[:, k])
    return out


def _prior_quantiles(run: Run, wanted: list[str], kinds: dict[str, str],
                     posterior: dict[str, np.ndarray], max_draws: int | None,
                     domains: tuple[str, str] | None) -> dict[str, float]:
    """Where each wanted quantity's posterior median falls among the prior's draws.

    The prior of a derived quantity (a marginal effect, a contrast, a group's total) is
    computed as its posterior is, from the model's prior draws.
    """
    import warnings

    import pymc as pm

    model = run.built.model
    names = [v.name for v in (*model.free_RVs, *model.deterministics)]
    seed = int(run.settings.get("seed") or 0)
    pymc_log = logging.getLogger("pymc")
    level = pymc_log.level
    pymc_log.setLevel(logging.WARNING)  # its "Sampling: [...]" line is not the user's news
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Potential.*")  # the likelihood's
            drawn = pm.sample_prior_predictive(draws=PRIOR_DRAWS, model=model,
                                               random_seed=seed, var_names=names)
    finally:
        pymc_log.setLevel(level)
    view = DrawsView(run.built, drawn["prior"].to_dataset(), run.data)
    pairs = np.array(thin_indices(1, PRIOR_DRAWS, None))
    prior = _parameters(view, pairs)
    if any(kinds[q] != "parameter" for q in wanted):
        with np.errstate(all="ignore"):  # a prior's tail overflows; such draws are dropped
            prior |= _derived(view, pairs, max_draws, domains)
    out = {}
    for q in wanted:
        if q in prior:
            values = np.asarray(prior[q][1], dtype=float)
            values = values[np.isfinite(values)]
            out[q] = float(np.mean(values <= np.median(posterior[q]))) if values.size else np.nan
    return out


def _default_domains(run: Run) -> tuple[str, str] | None:
    labels = list(run.design.domain_labels) if run.design.spec.pool_by_domain else []
    return ("bio", "it") if {"bio", "it"} <= set(labels) else None


def sensitivity(run: Run, *, max_draws: int | None = None, effects: bool = True,
                domains: tuple[str, str] | None = None,
                threshold: float = THRESHOLD) -> pd.DataFrame:
    """Power-scaling sensitivity of every parameter and derived quantity, with a verdict.

    Parameters
    ----------
    run : Run
        A fitted run (any family; grouped or single-level).
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all); the marginal effects cost a pass
        over the data per draw.
    effects : bool
        Whether to include the derived quantities (marginal effects, the domain contrast,
        each group's total effect and its rank).
    domains : (str, str), optional
        The domain contrast A - B of the varying effect (default: bio - it where the run
        pools clusters within both).
    threshold : float
        The sensitivity at and above which a quantity counts as sensitive.

    Returns
    -------
    DataFrame
        One row per quantity: ``quantity``, ``kind`` (parameter, effect, contrast, the
        group's word, or rank), ``prior`` and ``likelihood`` (the sensitivities),
        ``prior_quantile`` (where the posterior median falls among the prior's draws, for
        the quantities sensitive to both; NaN otherwise) and ``verdict``.

    Raises
    ------
    BayesclusterError
        For a prior-only run, or a domain the run does not have.
    """
    from arviz_stats import psense_summary

    if run.prior_only or "log_likelihood" not in run.tree.children:
        raise BayesclusterError("a prior-only run has no posterior to scale; fit the model "
                                "to data first.")
    if domains is not None:
        known = list(run.design.domain_labels) if run.design.spec.pool_by_domain else []
        missing = [d for d in domains if d not in known]
        if missing:
            raise BayesclusterError(f"--domains {' '.join(domains)}: {', '.join(missing)} "
                                    f"not among the run's domains ({', '.join(known) or 'none'})"
                                    ". Fix: name two of them.")
    domains = _default_domains(run) if domains is None else domains
    post = run.posterior
    pairs = np.array(thin_indices(post.sizes["chain"], post.sizes["draw"], max_draws))
    quantities = _parameters(run, pairs)
    if effects:
        quantities |= _derived(run, pairs, max_draws, domains)
    lprior = log_prior_at(run.tree, run.built, pairs)
    loglik = np.asarray(run.tree["log_likelihood"][run.outcome].values, dtype="float64")
    loglik = loglik[pairs[:, 0], pairs[:, 1]].sum(axis=-1)
    one = {"chain": [0], "draw": np.arange(len(pairs))}
    names = {f"q{k}": name for k, name in enumerate(quantities)}
    tree = xr.DataTree.from_dict({
        "posterior": xr.Dataset({key: (("chain", "draw"), quantities[name][1][None, :])
                                 for key, name in names.items()}, coords=one),
        "log_prior": xr.Dataset({LOG_PRIOR: (("chain", "draw"), lprior[None, :])}, coords=one),
        "log_likelihood": xr.Dataset({run.outcome: (("chain", "draw"), loglik[None, :])},
                                     coords=one),
    })
    arviz_log = logging.getLogger("arviz_stats.psense")
    level = arviz_log.level
    arviz_log.setLevel(logging.ERROR)  # the verdicts below say it, in words
    try:
        table = psense_summary(tree, threshold=threshold, round_to=6)
    finally:
        arviz_log.setLevel(level)
    table = table.rename(index=names)
    verdicts = {q: VERDICTS[d] for q, d in zip(table.index, table["diagnosis"], strict=True)}
    both = [q for q, v in verdicts.items() if v == "prior-data conflict"]
    located = _prior_quantiles(run, both, {q: quantities[q][0] for q in both},
                               {q: quantities[q][1] for q in both}, max_draws,
                               domains) if both else {}
    for q, where in located.items():
        if PRIOR_TAIL <= where <= 1 - PRIOR_TAIL:
            verdicts[q] = BOTH
    return pd.DataFrame({
        "quantity": list(table.index),
        "kind": [quantities[q][0] for q in table.index],
        "prior": table["prior"].to_numpy(dtype=float),
        "likelihood": table["likelihood"].to_numpy(dtype=float),
        "prior_quantile": [located.get(q, np.nan) for q in table.index],
        "verdict": [verdicts[q] for q in table.index],
    })
