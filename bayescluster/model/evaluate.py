"""The model's own tensors evaluated at posterior (or prior) draws, in batches of draws.

Per-firm linear predictors, log-likelihoods and covariates, and the predictive draws.

A firm's covariates in a draw are its observed values, its imputed continuous values in
that draw, and, for a missing binary covariate, a value drawn from its conditional
posterior given the firm's outcome (or its prior, for prior predictive draws).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from bayescluster.core.errors import RunError
from bayescluster.model.families import LIKELIHOODS, MAX_RATE, expit

if TYPE_CHECKING:
    from bayescluster.model.build import Built

BATCH_VALUES = 20_000_000  # draws evaluated at once x rows: about 160 MB per output


@dataclass
class Draw:
    """One posterior draw, evaluated on the model's own tensors."""

    chain: int
    draw: int
    eta: np.ndarray  # (firm,) log mean of the count part
    zeta: np.ndarray | None  # (firm,) logit P(zero)
    firm_loglik: np.ndarray  # (firm,)
    x: np.ndarray  # (firm, covariate)


def thin_indices(n_chain: int, n_draw: int, max_draws: int | None) -> list[tuple[int, int]]:
    """(chain, draw) pairs, thinned evenly to ``max_draws`` (None: all).

    Parameters
    ----------
    n_chain : int
        Chains in the draws.
    n_draw : int
        Draws per chain.
    max_draws : int or None
        The most pairs to keep, evenly spaced over the chains' draws in order; None keeps
        every pair.

    Returns
    -------
    list of (int, int)
        (chain, draw) pairs, chain by chain.
    """
    pairs = [(c, d) for c in range(n_chain) for d in range(n_draw)]
    if max_draws is None or len(pairs) <= max_draws:
        return pairs
    keep = np.linspace(0, len(pairs) - 1, max_draws).round().astype(int)
    return [pairs[k] for k in keep]


@dataclass
class Batch:
    """Consecutive posterior draws, evaluated on the model's own tensors at once."""

    chains: np.ndarray  # (draw,)
    draws: np.ndarray  # (draw,)
    eta: np.ndarray  # (draw, firm) log mean of the count part
    zeta: np.ndarray | None  # (draw, firm) logit P(zero)
    firm_loglik: np.ndarray  # (draw, firm)
    x: np.ndarray  # (draw, firm, covariate), or (firm, covariate) when no draw moves it

    def __len__(self) -> int:
        return len(self.chains)

    def draw(self, k: int) -> Draw:
        """The ``k``-th draw of the batch.

        Parameters
        ----------
        k : int
            The draw's position in the batch, from 0.

        Returns
        -------
        Draw
            Its chain and draw indices and its per-firm tensors (views into the batch).
        """
        return Draw(int(self.chains[k]), int(self.draws[k]), self.eta[k],
                    None if self.zeta is None else self.zeta[k], self.firm_loglik[k],
                    self.x[k] if self.x.ndim == 3 else self.x)


def batches(built: Built, ds: xr.Dataset, rng: np.random.Generator,
            max_draws: int | None = None, given_outcome: bool = True) -> Iterator[Batch]:
    """Evaluate the model at the posterior draws (thinned evenly to ``max_draws``).

    A batch of draws at a time.

    A firm with missing binary covariates gets one combination per draw, drawn from its
    posterior given the outcome (``given_outcome``), or from its prior (for prior
    predictive draws, which must not see the outcome). The uniforms behind those choices
    come from ``rng`` draw after draw, as they would one draw at a time.

    Parameters
    ----------
    built : Built
        The model the draws were sampled from.
    ds : Dataset
        Draws of every free variable of the model, dims (chain, draw, ...): a posterior
        or a prior group.
    rng : numpy.random.Generator
        Picks each firm's combination of missing discrete covariates.
    max_draws : int or None
        Thin evenly to at most this many draws (:func:`thin_indices`); None for all.
    given_outcome : bool
        Pick the combinations given the outcome (posterior); False for prior predictive
        draws.

    Yields
    ------
    Batch
        Up to 256 draws at a time (fewer when the rows are many).

    Raises
    ------
    RunError
        When ``ds`` lacks a free variable of the model (draws of another version).
    """
    design = built.design
    names = [rv.name for rv in built.model.free_RVs]
    absent = [n for n in names if n not in ds]
    if absent:
        raise RunError(f"the draws have no {', '.join(absent)}: they were sampled by another "
                       "version of the model (an older bayescluster). Fix: fit the spec "
                       "again with this version.")
    arrays = [np.asarray(ds[n].values) for n in names]
    n_chain, n_draw = arrays[0].shape[:2]
    evaluator = built.evaluator(n_chain * n_draw)
    pairs = np.array(thin_indices(n_chain, n_draw, max_draws))
    size = max(1, min(256, BATCH_VALUES // max(design.n_rows, 1)))
    for start in range(0, len(pairs), size):
        chains, draws_ = pairs[start:start + size].T
        out = evaluator.fn(*[a[chains, draws_] for a in arrays])
        # x without the draw axis stays so; any other output gets it (a broadcast view)
        out = [o if has_axis or k == 3 else np.broadcast_to(o, (len(chains), *o.shape))
               for k, (o, has_axis) in enumerate(zip(out, evaluator.batched, strict=True))]
        yield _batch(design, out, chains, draws_, rng, given_outcome)


def _batch(design, out, chains, draws_, rng, given_outcome) -> Batch:
    """A batch's firm-level tensors: each firm's row, or its drawn combination's."""
    eta, firm_ll, x = out[0], out[1], out[3]
    zeta = out[5] if len(out) > 5 else None
    if not design.marginalised:  # a row per firm: views, not copies
        return Batch(chains, draws_, eta, zeta, firm_ll, x)
    row_lp = out[2] if given_outcome else out[4]
    n = len(chains)
    lp = np.concatenate([row_lp, np.full((n, 1), -np.inf)], axis=1)[:, design.firm_rows]
    p = np.exp(lp - lp.max(axis=2, keepdims=True))
    cum = np.cumsum(p / p.sum(axis=2, keepdims=True), axis=2)
    pick = (rng.random((n, design.n_firms, 1)) > cum).sum(axis=2)
    firms = np.arange(design.n_firms)
    rows = design.firm_rows[firms, np.minimum(pick, cum.shape[2] - 1)]  # (draw, firm)
    at = np.arange(n)[:, None]
    return Batch(chains, draws_, eta[at, rows], None if zeta is None else zeta[at, rows],
                 firm_ll, x[at, rows] if x.ndim == 3 else x[rows])


def draws(built: Built, ds: xr.Dataset, rng: np.random.Generator,
          max_draws: int | None = None, given_outcome: bool = True) -> Iterator[Draw]:
    """Evaluate the model at each posterior draw (see :func:`batches`).

    Parameters
    ----------
    built : Built
        The model the draws were sampled from.
    ds : Dataset
        Draws of every free variable of the model, dims (chain, draw, ...).
    rng : numpy.random.Generator
        Picks each firm's combination of missing discrete covariates.
    max_draws : int or None
        Thin evenly to at most this many draws; None for all.
    given_outcome : bool
        Pick the combinations given the outcome (posterior); False for prior predictive
        draws.

    Yields
    ------
    Draw
        One draw at a time, in (chain, draw) order.
    """
    for batch in batches(built, ds, rng, max_draws, given_outcome):
        for k in range(len(batch)):
            yield batch.draw(k)


def predictive(built: Built, ds: xr.Dataset, rng: np.random.Generator,
               want_loglik: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """Per-firm log-likelihood and replicated outcomes for every (chain, draw).

    Firms with marginalised binary covariates first draw their combination from its
    conditional posterior probability, then the outcome given it. ``want_loglik=False``
    means prior predictive draws: the combination is drawn without seeing the outcome.

    Parameters
    ----------
    built : Built
        The model the draws were sampled from.
    ds : Dataset
        Draws of every free variable of the model, dims (chain, draw, ...), with the
        base's own parameter where the family has one.
    rng : numpy.random.Generator
        Picks the combinations and draws the replicated counts.
    want_loglik : bool
        Posterior draws: return the log-likelihood, combinations given the outcome. False
        for prior predictive draws.

    Returns
    -------
    loglik : ndarray or None
        (chain, draw, firm); None when ``want_loglik`` is False.
    y_rep : ndarray
        (chain, draw, firm) replicated counts.
    """
    design = built.design
    family = LIKELIHOODS[design.spec.family]
    theta = np.asarray(ds[family.parameter].values) if family.parameter else None
    n_chain, n_draw = ds.sizes["chain"], ds.sizes["draw"]
    y_rep = np.empty((n_chain, n_draw, design.n_firms), dtype=np.int64)
    loglik = np.empty((n_chain, n_draw, design.n_firms)) if want_loglik else None
    for b in batches(built, ds, rng, given_outcome=want_loglik):
        p_zero = expit(b.zeta) if b.zeta is not None else None
        a = theta[b.chains, b.draws][:, None] if theta is not None else None
        mu = np.exp(np.minimum(b.eta, np.log(MAX_RATE)))
        y_rep[b.chains, b.draws] = family.sample(rng, mu, a, p_zero)
        if loglik is not None:
            loglik[b.chains, b.draws] = b.firm_loglik
    return loglik, y_rep
