r"""How robust a finding is: its estimate and probability under perturbations of the fit.

A finding reads one quantity per draw :math:`q^{(s)}` (an average marginal effect, a
domain contrast). Each perturbation reweights the draws by Pareto-smoothed importance
sampling (no refit) and reports the weighted mean, :math:`P(q > 0)` and the Pareto
:math:`\hat k` of the weights (above 0.7 the reweighting is unreliable and a refit is
needed):

- the prior at half and at twice its strength, :math:`p(\theta)^{\alpha}`,
  :math:`\alpha \in \{0.5, 2\}` (weights :math:`p(\theta)^{\alpha - 1}`, the spec's priors
  as :mod:`bayescluster.model.prior_density` defines them);
- each group (cluster) left out, and each domain, weights
  :math:`1 / p(y_{g} \mid \theta)` over the group's rows (leave-one-group-out);
- each row (firm) left out, for the rows that move the finding most;
- the same quantity in other runs of the same table (another family), read from their
  own draws.

A finding *holds* under a perturbation when its probability band (below 10%, 10-50%,
50-90%, over 90% that it is positive) stays the same: crossing 50% is a change of its sign.
A perturbation whose weights have a Pareto k above 0.7 is not judged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayescluster.core.defaults import PARETO_K
from bayescluster.model.evaluate import thin_indices

if TYPE_CHECKING:
    from collections.abc import Callable

    from bayescluster.analysis.effects import Contrasts
    from bayescluster.data.table import FirmData
    from bayescluster.inference.run import Run
    from bayescluster.model.build import Built
    from bayescluster.model.design import Design
    from bayescluster.spec.parse import Spec

ALPHAS = (0.5, 2.0)
STRENGTH = {0.5: "half", 2.0: "twice"}
BANDS = (0.1, 0.5, 0.9)  # edges of the probability bands a finding is read in
TOP_ROWS = 3


def band(p: float) -> int:
    """The probability band of ``p`` (0: below 10%, ..., 3: over 90%).

    Parameters
    ----------
    p : float
        A probability.

    Returns
    -------
    int
        How many of :data:`~bayescluster.analysis.robustness.BANDS`' edges ``p`` reaches.
    """
    return int(np.searchsorted(BANDS, p, side="right"))


def _weighted(values: np.ndarray, log_lik: np.ndarray) -> tuple[float, float, float]:
    """Mean, P(> 0) and Pareto k of ``values`` reweighted by ``1 / exp(log_lik)``.

    arviz-stats' PSIS takes the log-likelihood of what is left out.
    """
    from arviz_stats.base import array_stats

    log_w, k = array_stats.psislw(log_lik - log_lik.max())
    w = np.exp(log_w - log_w.max())
    w /= w.sum()
    return float(w @ values), float(w @ (values > 0)), float(k)


def quantities(run: Run, effects: list[str], *, contrasts: Contrasts | None = None,
               domains: tuple[str, str] | None = None, effect: str | None = None,
               max_draws: int | None = 1000) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The findings' quantities per draw: overall effects and a domain contrast.

    Parameters
    ----------
    run : Run
        A fitted run.
    effects : list of str
        Contrast names whose overall average marginal effect (total margin) is wanted.
    contrasts : dict, optional
        The contrasts' definitions (default:
        :func:`~bayescluster.analysis.effects.default_contrasts`).
    domains : (str, str), optional
        The domain contrast A - B of ``effect``'s total (log scale), where the run pools
        clusters within domains.
    effect : str, optional
        The varying effect of the domain contrast.
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).

    Returns
    -------
    values : dict of str to ndarray
        ``"effect: <name>"`` and ``"domains: <A> vs <B>"`` -> (draw,) values.
    pairs : ndarray
        (draw, 2) the (chain, draw) of each value.
    """
    from bayescluster.analysis.effects import default_contrasts, effect_draws

    post = run.posterior
    pairs = np.array(thin_indices(post.sizes["chain"], post.sizes["draw"], max_draws))
    out = {}
    chosen = default_contrasts(run.design) if contrasts is None else contrasts
    chosen = {k: v for k, v in chosen.items() if k in effects}
    if chosen:
        table = effect_draws(run, contrasts=chosen, max_draws=max_draws)
        overall = table[(table["level"] == "overall") & (table["margin"] == "total")]
        for name, rows in overall.groupby("effect", sort=False):
            out[f"effect: {name}"] = rows.sort_values("sample")["value"].to_numpy()
    if domains and effect and "domain_total" in post:
        da = post["domain_total"].sel(effect=effect)
        a, b = (np.asarray(da.sel(domain=d).values)[pairs[:, 0], pairs[:, 1]] for d in domains)
        out[f"domains: {domains[0]} vs {domains[1]}"] = a - b
    return out, pairs


@dataclass
class DrawsView:
    """What :func:`quantities` reads of a run, for other draws of its model.

    A refit's posterior, or the model's prior draws (sensitivity's prior quantiles).

    Attributes
    ----------
    built : Built
        The model the draws are of.
    posterior : xarray.Dataset
        The draws, with ``chain`` and ``draw`` dims.
    data : FirmData or None
        The table (for its words), where a caller reads them.
    prior_only : bool
        False: the draws stand where a fit's posterior would.
    """

    built: Built
    posterior: Any
    data: Any = None
    prior_only: bool = False

    @property
    def design(self) -> Design:
        """The model's design."""
        return self.built.design


def left_out(run: Run) -> dict[str, np.ndarray]:
    """Each leave-out perturbation's label and the rows it leaves out.

    Parameters
    ----------
    run : Run
        The fitted run.

    Returns
    -------
    dict of str to ndarray
        ``"without <group> <label>"``, ``"without <domain> <label>"`` and
        ``"without <row> <id>"`` -> (firm,) bool, True for the rows left out; in that
        order (a refit's seed is read from its place).
    """
    design, w = run.design, run.data.words
    out = {}
    if design.varying:
        for g, label in enumerate(design.cluster_labels):
            out[f"without {w.group} {label}"] = design.cluster_index == g
        if design.spec.pool_by_domain:
            domain_of_firm = np.asarray(design.cluster_domain)[design.cluster_index]
            for d, label in enumerate(design.domain_labels):
                out[f"without {w.domain} {label}"] = domain_of_firm == d
    for i, firm in enumerate(design.firm_ids):
        mask = np.zeros(design.n_firms, dtype=bool)
        mask[i] = True
        out[f"without {w.row} {firm}"] = mask
    return out


def _refit_without(task: dict, spec: Spec, data: FirmData, chains: int, draws: int,
                   tune: int, wanted: dict) -> dict:
    """Refit with ``task["rows"]`` left out and read the findings' quantities from the refit."""
    from bayescluster.inference.refit import compiled, refit

    design = compiled(spec, data)[0].design
    weight = np.ones(design.n_firms)
    weight[task["rows"]] = 0.0
    built, tree = refit(spec, data, seed=task["seed"], chains=chains, draws=draws, tune=tune,
                        weights=weight)
    values, _ = quantities(DrawsView(built, tree["posterior"].to_dataset()), **wanted)
    return {"label": task["label"], "values": values,
            "divergences": int(np.asarray(tree["sample_stats"]["diverging"].values).sum())}


def refit_without(run: Run, labels: list[str], wanted: dict, *, chains: int = 2,
                  draws: int = 500, tune: int = 500, seed: int = 0,
                  scheduler: str | None = None, workers: int = 2, security: object = None,
                  progress: Callable[[str], object] = print) -> dict[str, dict]:
    """The findings' quantities refitted without each of ``labels``' rows, on Dask.

    Parameters
    ----------
    run : Run
        The fitted run.
    labels : list of str
        Perturbations of :func:`left_out` (a group, a domain or a row left out), one
        refit each.
    wanted : dict
        :func:`quantities`' keyword arguments (``effects``, ``contrasts``, ``domains``,
        ``effect``, ``max_draws``).
    chains : int
        Each refit's chains.
    draws : int
        Each refit's draws per chain.
    tune : int
        Each refit's tuning steps per chain.
    seed : int
        The refit of :func:`left_out`'s k-th perturbation (from 1) uses ``seed + k``, so
        the results do not depend on the workers.
    scheduler : str, optional
        A running Dask scheduler (default: a local cluster).
    workers : int
        The local cluster's worker processes.
    security : distributed.Security or mapping, optional
        TLS files for a ``tls://`` scheduler
        (:func:`bayescluster.inference.distributed.map_tasks`).
    progress : callable
        Called with the cost before the refits and a line after each.

    Returns
    -------
    dict of str to dict
        Perturbation -> its refit's quantities (:func:`quantities`' values).

    Raises
    ------
    BayesclusterError
        For a label that is not one of :func:`left_out`'s.
    """
    from bayescluster.core.errors import BayesclusterError
    from bayescluster.inference.distributed import map_tasks

    masks = left_out(run)
    order = list(masks)
    unknown = [label for label in labels if label not in masks]
    if unknown:
        raise BayesclusterError(f"cannot refit {', '.join(map(repr, unknown))}: not a group, "
                                "domain or row of the run. Fix: use a perturbation the "
                                "robustness table names.")
    tasks = [{"label": label, "seed": seed + 1 + order.index(label),
              "rows": np.flatnonzero(masks[label])} for label in labels]
    where = scheduler or f"a local cluster of {workers} worker{'s' if workers > 1 else ''}"
    progress(f"influence: {len(tasks)} refits ({chains} x {draws} draws after {tune} tuning "
             f"each) without each group, domain or row whose reweighting failed, on "
             f"{where}; each worker compiles the model once")
    found = map_tasks(_refit_without, tasks, scheduler=scheduler, workers=workers,
                      security=security, progress=progress, label="influence refits",
                      spec=run.spec, data=run.data, chains=chains, draws=draws, tune=tune,
                      wanted=wanted)
    return {r["label"]: r["values"] for r in found}


def perturbations(run: Run, values: dict[str, np.ndarray], pairs: np.ndarray, *,
                  others: dict[str, dict[str, np.ndarray]] | None = None,
                  refitted: dict[str, dict[str, np.ndarray]] | None = None) -> pd.DataFrame:
    """Each quantity under each perturbation: weighted mean, P(> 0), Pareto k, holds.

    Parameters
    ----------
    run : Run
        The run the values come from (its stored log prior and log-likelihood).
    values : dict of str to ndarray
        :func:`quantities`' values.
    pairs : ndarray
        :func:`quantities`' (chain, draw) pairs.
    others : dict, optional
        Another run's label -> its :func:`quantities` values (a quantity it lacks is left
        out).
    refitted : dict, optional
        Perturbation -> :func:`refit_without`'s quantities: that group, domain or row left
        out by a refit in place of the reweighting.

    Returns
    -------
    DataFrame
        One row per quantity and perturbation: ``quantity``, ``kind`` (``fit``,
        ``prior``, the group's and domain's words, ``row``, ``run``), ``perturbation``,
        ``mean``, ``p_gt_0``, ``pareto_k`` (NaN where no weights), ``reliable``,
        ``holds`` (the probability band as in the fit; missing where not reliable).
    """
    from bayescluster.model.prior_density import log_prior_at

    design, w = run.design, run.data.words
    lprior = log_prior_at(run.tree, run.built, pairs)
    firm_ll = np.asarray(run.tree["log_likelihood"][run.outcome].values, dtype="float64")
    firm_ll = firm_ll[pairs[:, 0], pairs[:, 1]]
    perturbed = [(f"with the prior at {STRENGTH[alpha]} its strength", "prior",
                  -(alpha - 1.0) * lprior) for alpha in ALPHAS]
    kinds = {f"without {w.group} ": w.group, f"without {w.domain} ": w.domain}
    for label, mask in left_out(run).items():
        kind = next((k for prefix, k in kinds.items() if label.startswith(prefix)), None)
        if kind is not None:
            perturbed.append((label, kind, firm_ll[:, mask].sum(axis=1)))
    refitted = refitted or {}

    def measured(name, q, label, kind, log_lik):
        if label in refitted and name in refitted[label]:
            again = refitted[label][name]
            return (name, kind, f"{label} (refit)", float(again.mean()),
                    float((again > 0).mean()), np.nan)
        return (name, kind, label, *_weighted(q, log_lik))

    rows = []
    for name, q in values.items():
        base_mean, base_p = float(q.mean()), float((q > 0).mean())
        rows.append((name, "fit", "as fitted", base_mean, base_p, np.nan))
        rows += [measured(name, q, label, kind, log_lik) for label, kind, log_lik in perturbed]
        moved = [(*_weighted(q, firm_ll[:, i]), i) for i in range(design.n_firms)]
        for mean, p, k, i in sorted(moved, key=lambda m: -abs(m[0] - base_mean))[:TOP_ROWS]:
            label = f"without {w.row} {design.firm_ids[i]}"
            rows.append(measured(name, q, label, "row", None) if label in refitted
                        else (name, "row", label, mean, p, k))
        for other, found in (others or {}).items():
            if name in found:
                rows.append((name, "run", f"in {other}", float(found[name].mean()),
                             float((found[name] > 0).mean()), np.nan))
    table = pd.DataFrame(rows, columns=["quantity", "kind", "perturbation", "mean", "p_gt_0",
                                        "pareto_k"])
    base = table[table["kind"] == "fit"].set_index("quantity")
    table["reliable"] = ~(table["pareto_k"] > PARETO_K)
    table["holds"] = pd.array([
        band(p) == band(base.loc[q, "p_gt_0"]) if ok else pd.NA
        for q, p, ok in zip(table["quantity"], table["p_gt_0"], table["reliable"], strict=True)
    ], dtype="boolean")
    return table


def clause(table: pd.DataFrame, quantity: str, *, group: str = "group",
           groups: str = "groups", row: str = "row", domain: str = "domain") -> str:
    """One sentence on how robust ``quantity`` is, from :func:`perturbations`' table.

    Parameters
    ----------
    table : DataFrame
        :func:`perturbations`' table.
    quantity : str
        The quantity.
    group : str
        The group's word.
    groups : str
        The group's word, plural.
    row : str
        The row's word.
    domain : str
        The domain's word.

    Returns
    -------
    str
        "Robust to ..." naming what it holds under, or "Not robust: ..." naming the
        perturbation that moves its probability furthest and how far, and how many
        checks could not be made (Pareto k).
    """
    rows = table[table["quantity"] == quantity]
    base = rows[rows["kind"] == "fit"].iloc[0]
    checked = rows[(rows["kind"] != "fit") & rows["reliable"]]
    unreliable = rows[~rows["reliable"]]
    failed = checked[~checked["holds"].astype(bool)]
    kinds = set(checked["kind"])
    parts = ["the prior at half or twice its strength"] if "prior" in kinds else []
    left = []
    for word in (group, domain, row):
        if word in kinds:
            partly = not unreliable[unreliable["kind"] == word].empty
            left.append(f"each {word} that could be checked" if partly else f"any one {word}")
    if left:
        parts.append("leaving out " + " or ".join(left))
    if "run" in kinds:
        parts.append("in " + ", ".join(checked[checked["kind"] == "run"]["perturbation"]
                                       .str.removeprefix("in ")))
    if failed.empty:
        text = "Robust to " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1
                               else parts[0]) if parts else "Not checked"
    else:
        worst = failed.loc[(failed["p_gt_0"] - base["p_gt_0"]).abs().idxmax()]
        more = len(failed) - 1
        text = (f"Not robust: {worst['perturbation']}, its chance of being positive is "
                f"{worst['p_gt_0']:.0%}, not {base['p_gt_0']:.0%}"
                + (f" ({more} more check{'s' if more > 1 else ''} change"
                   f"{'' if more > 1 else 's'} its band)" if more else ""))
    if not unreliable.empty:
        text += (f"; {len(unreliable)} of {len(rows) - 1} checks not made (Pareto k > "
                 f"{PARETO_K})")
        if (unreliable["kind"] == "prior").any():
            text += (", the prior's strength among them: the prior moves this finding too far "
                     "to reweight (bayescluster sensitivity says how far)")
    text += "."
    return text
