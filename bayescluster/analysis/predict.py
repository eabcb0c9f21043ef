r"""Predictions for new firms from a fitted run's posterior draws, without refitting.

For new row :math:`i` and posterior draw :math:`s` the linear predictor is
:func:`~bayescluster.model.predictor.linear_predictor`'s,

.. math:: \eta_{is} = \beta_{0s} + X_i\beta_s + \sum_e g_{ies}\, z_{ie} + o_i,

with the covariates on the run's own scale (its recorded centres and scales) and
:math:`g_{is}` the row's cluster effects: a cluster the run has seen keeps its own
(``cluster_total`` minus the population effect); a cluster it has not seen gets its domain's
deviation plus a new deviation :math:`u_s \sim \mathrm{MvN}(0, \mathrm{diag}(\sigma_s)\,
\Omega_s\,\mathrm{diag}(\sigma_s))`, drawn once per draw and new cluster (brms'
``allow_new_levels`` with ``sample_new_levels = "gaussian"``; bambi's
``sample_new_groups``). Each draw gives the row's expected count :math:`E[y]`, its
P(zero) and one predictive count; a counterfactual sets covariates (on the user's scale)
and gives each row's difference in :math:`E[y]` against its own values, with the same
draws of the cluster effects.

A blank cell in a covariate the fit imputed (its table had blanks there and ``missing =
"impute"``) is drawn in each posterior draw from the fit's own distribution of that
covariate, as the fit treated its blanks: a categorical level from
:math:`\mathrm{Categorical}(p_s)`, a binary value from :math:`\mathrm{Bernoulli}(p_s)`,
a continuous value from :math:`N(m_s, s_s)` (``impute_*`` in the posterior); a
counterfactual keeps those draws for the cells it does not set. A covariate the fit never
imputed has no such distribution, and a blank in it is an error.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from bayescluster.analysis.effects import check_covariates
from bayescluster.analysis.intervals import CI_PROB, intervals
from bayescluster.core.errors import BayesclusterError, DataError
from bayescluster.data.table import FirmData, read_table, validate
from bayescluster.model.design import model_scale
from bayescluster.model.predictor import Predictor, stacked

if TYPE_CHECKING:
    from bayescluster.inference.run import Run


def new_rows(run: Run, table: pd.DataFrame | FirmData | str | Path, *,
             domains: Mapping[str, str] | None = None) -> FirmData:
    """Validate new rows for prediction against the run's roles.

    The outcome may be absent (it is not used); every covariate the model uses must be
    present, and blank only where the fit imputed that covariate (module docstring); a
    table without a domain column takes its clusters' domains from ``domains``.

    Parameters
    ----------
    run : Run
        The fitted run to predict from.
    table : DataFrame, FirmData, str or Path
        The new rows, or the path of a table file to read them from (the frame is copied;
        rows :func:`new_rows` gave before are checked again).
    domains : mapping of str to str, optional
        cluster -> domain, for a table without a domain column.

    Returns
    -------
    FirmData
        The validated rows; a missing outcome column is filled with 0 and a missing id
        column with ``new1``, ``new2``, ...

    Raises
    ------
    DataError
        When a covariate the fit did not impute is blank in some row, or a categorical
        value names a level the fit never saw.
    """
    if isinstance(table, FirmData):  # already validated once: validated again, for this run
        table = table.frame
    if not isinstance(table, str | Path | pd.DataFrame):
        raise DataError(f"new rows must be a DataFrame or a table file's path, not "
                        f"{type(table).__name__}. Fix: pass the table itself.")
    frame = read_table(table) if isinstance(table, str | Path) else table.copy()
    roles = run.spec.roles
    if roles.outcome not in frame.columns:
        frame[roles.outcome] = 0
    if roles.id and roles.id not in frame.columns:
        frame[roles.id] = [f"new{i + 1}" for i in range(len(frame))]
    with warnings.catch_warnings():  # a new cluster of one firm is the usual case here
        warnings.simplefilter("ignore", UserWarning)
        data = validate(frame, roles, domains=domains, check_outcome=False)
    design = run.design
    imputed = {*design.impute_continuous, *design.impute_binary, *design.impute_categorical}
    used = [c for c in design.covariates
            if c not in imputed and data.frame[c].isna().any()]
    if used:
        rows = np.flatnonzero(data.frame[used].isna().any(axis=1).to_numpy())
        shown = ", ".join(f"row {i + 1}" for i in rows[:5])
        why = ("its table had no blank there" if design.spec.missing == "impute" else
               'its rows with blanks were dropped (missing = "drop")')
        raise DataError(f"covariate(s) {', '.join(map(repr, used))} are missing (blank) in "
                        f"{shown}{' and more' if len(rows) > 5 else ''}; the fit has no "
                        f"distribution to draw them from ({why}). Fix: fill them in or leave "
                        "those rows out.")
    model_scale(run.design, data.frame)  # a level the fit never saw: an error, not a baseline
    return data


def _keep(n: int, max_draws: int | None) -> np.ndarray:
    if max_draws is None or n <= max_draws:
        return np.arange(n)
    return np.linspace(0, n - 1, max_draws).round().astype(int)


def _groups(run, new: FirmData, predictor: Predictor, rng: np.random.Generator):
    """(draw, row, effect) cluster effects of the new rows; which rows' clusters are new."""
    design = run.design
    clusters = new.cluster_column.astype(str).to_numpy()
    known = np.isin(clusters, design.cluster_labels)
    population = predictor.population
    out = np.zeros((len(population), len(clusters), len(design.varying)))
    if known.any():
        index = np.array([design.cluster_labels.index(c) for c in clusters[known]])
        out[:, known] = predictor.group[:, index]
    if (~known).any():
        out[:, ~known] = _new_cluster_effects(run, new, clusters, ~known, predictor.keep,
                                              population, rng)
    return out, ~known


def _new_cluster_effects(run, new, clusters, unseen, keep, population, rng):
    design, post = run.design, run.posterior
    labels = list(dict.fromkeys(clusters[unseen]))
    n_effect = len(design.varying)
    sd = stacked(post, "sd_cluster")[keep]
    corr = stacked(post, "cluster_corr")[keep] if "cluster_corr" in post else \
        np.broadcast_to(np.eye(n_effect), (len(keep), n_effect, n_effect))
    chol = sd[:, :, None] * np.linalg.cholesky(corr)
    deviation = np.einsum("sij,scj->sci", chol,
                          rng.standard_normal((len(keep), len(labels), n_effect)))
    if "domain_total" in post:
        domain_of = new.domains or {}
        domains = [domain_of.get(c) for c in labels]
        unknown = [c for c, d in zip(labels, domains, strict=True)
                   if d not in design.domain_labels]
        if unknown:
            raise DataError(f"new cluster(s) {', '.join(map(repr, unknown))} belong to no "
                            f"domain the run knows ({', '.join(design.domain_labels)}). Fix: "
                            f"give them one of those in the {new.roles.domain!r} column.")
        index = [design.domain_labels.index(d) for d in domains]
        dom = stacked(post, "domain_total")[keep][:, index] - population[:, None, :]
        deviation = deviation + dom
    position = {c: k for k, c in enumerate(labels)}
    return deviation[:, [position[c] for c in clusters[unseen]]]


def _blanks(run, x: np.ndarray, keep: np.ndarray, rng: np.random.Generator):
    """(draw, row, covariate) each blank cell of ``x`` drawn in each draw, NaN elsewhere.

    From the fit's imputation distribution of the cell's covariate.
    """
    design, post = run.design, run.posterior
    fill = np.full((len(keep), *x.shape), np.nan)
    for j in np.flatnonzero(np.isnan(x).any(axis=0)):
        name, rows = design.covariates[j], np.flatnonzero(np.isnan(x[:, j]))
        size = (len(keep), len(rows))
        if name in design.impute_continuous:  # on the model's scale, as build._covariates
            observed = design.values[:, j][~np.isnan(design.values[:, j])]
            center, scale = float(observed.mean()), float(observed.std()) or 1.0
            m, sd = (stacked(post, f"impute_{name}_{k}")[keep][:, None] for k in ("mean", "sd"))
            fill[:, rows, j] = center + scale * (m + sd * rng.standard_normal(size))
        else:
            p = stacked(post, f"impute_{name}_p")[keep]
            if p.ndim == 1:  # a binary covariate's P(1)
                p = np.stack([1 - p, p], axis=1)
            cum = np.cumsum(p, axis=1)
            picked = (rng.random(size)[:, :, None] > cum[:, None, :]).sum(axis=2)
            fill[:, rows, j] = np.minimum(picked, p.shape[1] - 1)
    return fill


def _expected(run, predictor: Predictor, frame: pd.DataFrame, groups: np.ndarray | None,
              fill: np.ndarray | None = None):
    """(draw, row) mu, P(zero) and E[y] of the new rows with ``frame``'s covariates.

    Its blank cells are taken from ``fill``, per draw.
    """
    x = model_scale(run.design, frame)
    blank = np.isnan(x)
    offset = None
    if run.spec.roles.exposure:
        offset = np.log(frame[run.spec.roles.exposure].to_numpy(dtype=float))
    family, theta = predictor.family, predictor.theta
    n = len(predictor.intercept)
    mu = np.empty((n, len(frame)))
    p_zero = np.zeros_like(mu) if family.zero_part else None
    for s in range(n):
        mu[s], pz = predictor.parameters_at(
            np.where(blank, fill[s], x) if blank.any() else x, s,
            group_rows=None if groups is None else groups[s], offset=offset)
        if p_zero is not None:
            p_zero[s] = pz
    mean = np.stack([family.mean(mu[s], None if theta is None else theta[s],
                                 None if p_zero is None else p_zero[s])
                     for s in range(n)])
    return mu, theta, p_zero, mean


def predict_draws(run: Run, new: FirmData, *,
                  counterfactual: dict[str, float | str] | None = None,
                  max_draws: int | None = 1000, seed: int = 0) -> xr.Dataset:
    """Posterior draws of each new row's expected count, P(zero) and a predictive count.

    Parameters
    ----------
    run : Run
        A fitted run.
    new : FirmData
        The new rows, validated against the run's roles (their outcome is not used).
    counterfactual : dict, optional
        Covariates to set for every row (user's scale, or a categorical covariate's
        level), e.g. ``{"treated": 1, "sex": "M"}``: adds the expected count under them
        (``counterfactual_mean``).
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).
    seed : int
        Seed of the new clusters' effects and the predictive counts.

    Returns
    -------
    xarray.Dataset
        ``mean``, ``p_zero``, ``count`` (and ``counterfactual_mean``) over (sample, row);
        ``new_cluster`` over row.

    Raises
    ------
    BayesclusterError
        For a prior-only run, or a model of a rate per unit (predicting rates is not
        supported).

    Examples
    --------
    >>> from bayescluster.analysis.predict import new_rows
    >>> new = pd.DataFrame({"id": [1], "x": [0.5], "g": ["g2"]})
    >>> draws = bc.predict_draws(run, new_rows(run, new), max_draws=200)
    >>> draws["mean"].sizes["row"]
    1
    """
    if run.prior_only:
        raise BayesclusterError("a prior-only run has no posterior to predict from.")
    if run.spec.roles.per:
        raise BayesclusterError(f"spec {run.spec.name!r} models a rate per "
                                f"{run.spec.roles.per!r}; predicting rates is not supported. "
                                "Fix: predict with a count model.")
    check_covariates(run.design, counterfactual or {}, "counterfactual")
    for name, value in (counterfactual or {}).items():
        run.design.code(name, value)  # an unseen level is an error before any draw
    rng = np.random.default_rng(seed)
    keep = _keep(run.posterior.sizes["chain"] * run.posterior.sizes["draw"], max_draws)
    predictor = Predictor(run.design, run.posterior, keep)
    family = predictor.family
    if run.design.varying:
        groups, unseen = _groups(run, new, predictor, rng)
    else:
        groups, unseen = None, np.zeros(new.n_firms, dtype=bool)
    x = model_scale(run.design, new.frame)
    fill = _blanks(run, x, keep, rng) if np.isnan(x).any() else None
    mu, theta, p_zero, mean = _expected(run, predictor, new.frame, groups, fill)
    count = np.stack([family.sample(rng, mu[s], None if theta is None else theta[s],
                                    None if p_zero is None else p_zero[s])
                      for s in range(len(keep))])
    p0 = np.stack([1 - family.p_positive(mu[s], None if theta is None else theta[s],
                                         None if p_zero is None else p_zero[s])
                   for s in range(len(keep))])
    dims = ("sample", "row")
    out = xr.Dataset({"mean": (dims, mean), "p_zero": (dims, p0), "count": (dims, count),
                      "new_cluster": ("row", unseen)})
    if counterfactual:
        frame = new.frame.copy()
        for name, value in counterfactual.items():
            frame[name] = value if name in run.design.levels else float(value)
        out["counterfactual_mean"] = (dims, _expected(run, predictor, frame, groups, fill)[3])
    return out


def predict(run: Run, new: FirmData, *,
            counterfactual: dict[str, float | str] | None = None, ci_prob: float = CI_PROB,
            max_draws: int | None = 1000, seed: int = 0) -> pd.DataFrame:
    """Each new row's predicted count: posterior mean, intervals and P(zero).

    See :func:`predict_draws` for the arguments. Columns: the id (when the roles name
    one), cluster, domain, ``new_cluster`` (its effects drawn from its domain's fitted
    distribution), ``mean`` (E[y]) with its interval ``mean_lower``/``mean_upper``, the
    predictive interval of the count ``lower``/``upper``, ``p_zero``; with a
    counterfactual, ``counterfactual_mean`` and the row's ``difference`` with its interval.

    Parameters
    ----------
    run : Run
        A fitted run.
    new : FirmData
        The new rows (:func:`new_rows`).
    counterfactual : dict, optional
        Covariates to set for every row (user's scale, or a categorical covariate's
        level).
    ci_prob : float
        The intervals' probability.
    max_draws : int or None
        Posterior draws used, thinned evenly (None: all).
    seed : int
        Seed of the new clusters' effects and the predictive counts.

    Returns
    -------
    DataFrame
        One row per new row, indexed by ``row`` (0, 1, ...), with the columns above
        (``difference_lower``/``difference_upper`` for the difference's interval).
    """
    draws = predict_draws(run, new, counterfactual=counterfactual, max_draws=max_draws,
                          seed=seed)
    roles = new.roles
    table = pd.DataFrame(index=pd.RangeIndex(new.n_firms, name="row"))
    if roles.id:
        table[roles.id] = new.frame[roles.id].to_numpy()
    table["cluster"] = new.cluster_column.to_numpy()
    if roles.domain and roles.domain in new.frame:
        table["domain"] = new.frame[roles.domain].to_numpy()
    table["new_cluster"] = draws["new_cluster"].values
    mean = draws["mean"].values
    table["mean"] = mean.mean(axis=0)
    table[["mean_lower", "mean_upper"]] = intervals(mean, ci_prob=ci_prob)
    table[["lower", "upper"]] = intervals(draws["count"].values, ci_prob=ci_prob,
                                          discrete=True)
    table["p_zero"] = draws["p_zero"].values.mean(axis=0)
    if counterfactual:
        other = draws["counterfactual_mean"].values
        table["counterfactual_mean"] = other.mean(axis=0)
        table["difference"] = (other - mean).mean(axis=0)
        table[["difference_lower", "difference_upper"]] = intervals(other - mean,
                                                                    ci_prob=ci_prob)
    return table
