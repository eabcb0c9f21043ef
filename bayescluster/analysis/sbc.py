r"""Simulation-based calibration (Talts et al. 2018) with the refits on Dask.

For each simulation :math:`s`: draw :math:`\theta^{(s)}` from the prior, draw outcomes
:math:`y^{(s)}` given :math:`\theta^{(s)}` and the data's covariates, fit the model to
:math:`y^{(s)}` and record the rank of :math:`\theta^{(s)}` among :math:`L` thinned posterior
draws. If the sampler and model are right, every parameter's ranks are uniform on
:math:`\{0, \dots, L\}`; a chi-square test over bins says how far from uniform they are.

Each Dask worker compiles the model once and refits it to every simulation it is given
(only the outcome changes, through shared data: :func:`bayescluster.inference.refit.refit`,
at the spec's sampler settings), so the cost is one compile per worker.
``scheduler=None`` starts a ``LocalCluster``; pass ``tcp://HOST:PORT`` for a real one.

A selection model also models its treatment :math:`d` (the participation probit), so a
simulation draws it too: with the prior draw's probit index :math:`s_i`,
:math:`d_i \sim \mathrm{Bernoulli}(\Phi(s_i))`, and the model's own latent error
:math:`\nu_i` (its uniform :math:`u_i` read through the normal truncated by :math:`d_i`)
then has the joint law of :math:`(d_i, \nu_i)`; the outcome is drawn given :math:`d`, and
the refit swaps in the treatment as it does the outcome (shared data).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import ndtr

from bayescluster.core.errors import BayesclusterError
from bayescluster.inference.distributed import map_tasks
from bayescluster.inference.refit import refit
from bayescluster.model.build import TREATMENT_DATA, build, exact_arithmetic
from bayescluster.model.design import make_design
from bayescluster.model.evaluate import predictive
from bayescluster.spec.families import parameter_priors

if TYPE_CHECKING:
    from collections.abc import Callable

    from bayescluster.data.table import FirmData
    from bayescluster.spec.parse import Spec


def _scalars(ds) -> dict[str, np.ndarray]:
    """Every scalar parameter (and each element of small vectors) as (chain*draw,) arrays."""
    out = {}
    for name in ("intercept", "beta", *parameter_priors(), "zero_intercept", "sd_domain",
                 "sd_cluster", "rho", "firm_sd", "selection_intercept", "selection_beta",
                 "selection_sd_cluster"):
        if name not in ds:
            continue
        da = ds[name]
        extra = [d for d in da.dims if d not in ("chain", "draw")]
        if not extra:
            out[name] = np.asarray(da.values).ravel()
            continue
        stacked = da.stack(sample=("chain", "draw")).transpose(*extra, "sample")
        for label in da[extra[0]].values:
            out[f"{name}[{label}]"] = np.asarray(stacked.sel({extra[0]: label}).values).ravel()
    return out


def prior_simulations(spec: Spec, data: FirmData, sims: int, seed: int = 0) -> list[dict]:
    """``sims`` draws of (parameters, outcomes) from the prior predictive.

    Each is a dict: ``sim``, ``seed`` (its refit's), ``theta`` (the true scalars), ``y``;
    for a selection model also ``treatment`` and ``p_treatment``, each firm's probability
    of it under the draw.

    Parameters
    ----------
    spec : Spec
        The model.
    data : FirmData
        The validated table whose covariates the simulations keep.
    sims : int
        Number of simulations.
    seed : int
        Seed of the prior draws and the outcomes; simulation k's refit uses
        ``seed + 1 + k``.

    Returns
    -------
    list of dict
        One per simulation, in order: ``theta`` maps each scalar parameter (and each
        element of a vector, as ``name[label]``) to its true value; ``y`` is the (firm,)
        simulated outcome.

    Raises
    ------
    BayesclusterError
        For a selection model whose binary covariates have missing values.
    """
    import pymc as pm

    design = make_design(spec, data)
    built = build(design)
    selection = built.selection_index is not None
    if selection and design.marginalised:
        missing = [c for c, binary in zip(design.covariates, design.binary, strict=True)
                   if binary and data.frame[c].isna().any()]
        raise BayesclusterError(
            f"sbc of the selection model {spec.name!r} draws each firm's treatment from its "
            "participation probit, which needs every binary covariate observed; values are "
            f"missing in {', '.join(repr(c) for c in missing)}. Fix: pass a table without "
            "those firms (--data), or set missing = \"drop\" in the spec.")
    with warnings.catch_warnings(), built.model, exact_arithmetic():
        warnings.filterwarnings("ignore", message=".*Potential.*")
        if selection:
            pm.Deterministic("sbc_selection_index", built.selection_index)
        prior = pm.sample_prior_predictive(draws=sims, random_seed=seed)["prior"].to_dataset()
    rng = np.random.default_rng(seed)
    truths = _scalars(prior)
    tasks = [{"sim": k, "seed": seed + 1 + k,
              "theta": {name: float(v[k]) for name, v in truths.items()}}
             for k in range(sims)]
    if not selection:
        _, y_rep = predictive(built, prior, rng, want_loglik=False)
        return [task | {"y": y_rep[0, k]} for k, task in enumerate(tasks)]
    index = np.asarray(prior["sbc_selection_index"].values)[0]
    treatment = (rng.uniform(size=index.shape) < ndtr(index)).astype(np.int64)
    for k, task in enumerate(tasks):
        built.model.set_data(TREATMENT_DATA, treatment[k].astype("float64"))
        _, y_rep = predictive(built, prior.isel(draw=[k]), rng, want_loglik=False)
        task.update(y=y_rep[0, 0], treatment=treatment[k], p_treatment=ndtr(index[k]))
    return tasks


def _fit_and_rank(task: dict, spec, data, chains: int, draws: int, tune: int, thin: int,
                  target_accept: float | None) -> dict:
    """Fit one simulation (reusing this process's compiled model) and rank its truths."""
    _, tree = refit(spec, data, seed=task["seed"], chains=chains, draws=draws, tune=tune,
                    target_accept=target_accept, outcome=task["y"],
                    treatment=task.get("treatment"))
    post = tree["posterior"].to_dataset().isel(draw=slice(None, None, thin))
    diverging = int(np.asarray(tree["sample_stats"]["diverging"].values).sum())
    ranks = {name: int((values < task["theta"][name]).sum())
             for name, values in _scalars(post).items() if name in task["theta"]}
    return {"sim": task["sim"], "draws": int(post.sizes["chain"] * post.sizes["draw"]),
            "divergences": diverging, "ranks": ranks}


def run(spec: Spec, data: FirmData, *, sims: int = 100, chains: int = 2, draws: int = 400,
        tune: int = 400, thin: int = 4, seed: int = 0, target_accept: float | None = None,
        scheduler: str | None = None, workers: int = 2, security: object = None,
        progress: Callable[[str], None] = print) -> pd.DataFrame:
    """SBC ranks, one row per simulation and parameter.

    ``target_accept`` None takes the spec's ``[sampling]``. Columns: sim, parameter, rank,
    draws (L), divergences.

    Parameters
    ----------
    spec : Spec
        The model.
    data : FirmData
        The validated table whose covariates the simulations keep.
    sims : int
        Number of simulations (at least 2; 100 or more to judge uniformity).
    chains : int
        Chains of each refit.
    draws : int
        Draws per chain of each refit.
    tune : int
        Tuning steps per chain of each refit.
    thin : int
        Keep every ``thin``-th draw of each chain for the ranks, so
        L = chains * ceil(draws / thin).
    seed : int
        Seed of the prior simulations; simulation k's refit uses ``seed + 1 + k``.
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
        Called with one line before the simulations and after every finished refit.

    Returns
    -------
    DataFrame
        Sorted by parameter, then sim; ``rank`` counts the kept posterior draws below the
        true value (0..L), ``draws`` is L and ``divergences`` the refit's.

    Raises
    ------
    BayesclusterError
        When ``sims`` is below 2.
    """
    if sims < 2:
        raise BayesclusterError("SBC needs at least 2 simulations (100 or more to judge "
                                "uniformity).")
    progress(f"sbc: drawing {sims} simulations from the prior of {spec.name}")
    tasks = prior_simulations(spec, data, sims, seed)
    rows = []
    for result in map_tasks(_fit_and_rank, tasks, scheduler=scheduler, workers=workers,
                            security=security,
                            progress=progress, label="sbc fits", spec=spec, data=data,
                            chains=chains, draws=draws, tune=tune, thin=thin,
                            target_accept=target_accept):
        for name, rank in result["ranks"].items():
            rows.append({"sim": result["sim"], "parameter": name, "rank": rank,
                         "draws": result["draws"], "divergences": result["divergences"]})
    return pd.DataFrame(rows).sort_values(["parameter", "sim"]).reset_index(drop=True)


BAND_PROB = 0.99  # the rank ECDF's simultaneous band


def rank_ecdf(ranks: pd.DataFrame, *, prob: float = BAND_PROB, n_simulations: int = 1000,
              seed: int = 0) -> pd.DataFrame:
    r"""Each parameter's rank ECDF with its simultaneous ``prob`` band under uniformity.

    A rank :math:`r` among :math:`L` draws becomes :math:`u = (r + v)/(L + 1)` with
    :math:`v \sim U(0, 1)`, uniform on (0, 1) when the model is calibrated; the band
    (Säilynoja, Bürkner and Vehtari 2022, arviz-stats' ``ecdf_pit``) holds the whole ECDF
    of a calibrated model with probability ``prob``.

    Parameters
    ----------
    ranks : DataFrame
        :func:`run`'s table (parameter, rank, draws).
    prob : float
        The band's simultaneous coverage probability.
    n_simulations : int
        Simulations arviz-stats uses to find the band.
    seed : int
        Seed of the jitter ``v`` and of the band's simulations.

    Returns
    -------
    DataFrame
        Per parameter and evaluation point ``x``: ``ecdf``, ``lower``, ``upper``.
    """
    from arviz_stats.ecdf_utils import ecdf_pit

    rng = np.random.default_rng(seed)
    frames = []
    for name, group in ranks.groupby("parameter", sort=False):
        top = int(group["draws"].iloc[0])
        u = (group["rank"].to_numpy() + rng.uniform(size=len(group))) / (top + 1)
        x, ecdf, lower, upper = ecdf_pit(u, prob, n_simulations,
                                         rng=np.random.default_rng(seed))
        frames.append(pd.DataFrame({"parameter": name, "x": x, "ecdf": ecdf, "lower": lower,
                                    "upper": upper}))
    return pd.concat(frames, ignore_index=True)


def uniformity(ranks: pd.DataFrame, *, bins: int | None = None,
               ecdf: pd.DataFrame | None = None) -> pd.DataFrame:
    """How far each parameter's ranks are from uniform.

    Per parameter: simulations, chi-square statistic and p-value of the ranks' histogram
    against the uniform (bins of equal width over 0..L), and whether the rank ECDF stays in
    its simultaneous 99 % band (``in_band``; from :func:`rank_ecdf` unless given).

    Parameters
    ----------
    ranks : DataFrame
        :func:`run`'s table (parameter, rank, draws).
    bins : int, optional
        Histogram bins (default: a fifth of the simulations, between 2 and 20).
    ecdf : DataFrame, optional
        :func:`rank_ecdf` of ``ranks``, if already computed.

    Returns
    -------
    DataFrame
        Indexed by parameter: sims, bins, chi2, p_value and in_band.
    """
    ecdf = rank_ecdf(ranks) if ecdf is None else ecdf
    inside = ((ecdf["ecdf"] >= ecdf["lower"]) & (ecdf["ecdf"] <= ecdf["upper"])).groupby(
        ecdf["parameter"]).all()
    rows = []
    for name, group in ranks.groupby("parameter", sort=False):
        n, top = len(group), int(group["draws"].iloc[0])
        k = bins or max(2, min(20, n // 5))
        counts = np.histogram(group["rank"], bins=k, range=(0, top + 1))[0]
        chi2, p = stats.chisquare(counts)
        rows.append({"parameter": name, "sims": n, "bins": k, "chi2": float(chi2),
                     "p_value": float(p), "in_band": bool(inside[name])})
    return pd.DataFrame(rows).set_index("parameter")
