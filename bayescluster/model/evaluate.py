"""The model's own tensors evaluated at posterior (or prior) draws, in batches of draws.

Per-firm linear predictors, log-likelihoods and covariates, and the predictive draws.

A firm's covariates in a draw are its observed values, its imputed continuous values in
that draw, and, for a missing binary covariate, a value drawn from its conditional
posterior given the firm's outcome (or its prior, for prior predictive draws).
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import xarray as xr

from bayescluster.model.families import LIKELIHOODS, MAX_RATE, expit

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
    """(chain, draw) pairs, thinned evenly to ``max_draws`` (None: all)."""
    pairs = [(c, d) for c in range(n_chain) for d in range(n_draw)]
    if max_draws is None or len(pairs) <= max_draws:
        return pairs
    keep = np.linspace(0, len(pairs) - 1, max_draws).round().astype(int)
    return [pairs[k] for k in keep]


def draws(built, ds: xr.Dataset, rng: np.random.Generator,
          max_draws: int | None = None, given_outcome: bool = True) -> Iterator[Draw]:
    """Evaluate the model at each posterior draw (thinned evenly to ``max_draws``).

    A firm with missing binary covariates gets one combination per draw, drawn from its
    posterior given the outcome (``given_outcome``), or from its prior (for prior
    predictive draws, which must not see the outcome).
    """
    design = built.design
    evaluator = built.evaluator()
    names = [rv.name for rv in built.model.free_RVs]
    arrays = [np.asarray(ds[n].values) for n in names]
    n_chain, n_draw = arrays[0].shape[:2]
    pairs = thin_indices(n_chain, n_draw, max_draws)
    size = max(1, min(256, BATCH_VALUES // max(design.n_rows, 1)))
    for start in range(0, len(pairs), size):
        chains, draws_ = np.array(pairs[start:start + size]).T
        batch = evaluator.fn(*[a[chains, draws_] for a in arrays])
        for k, (c, d) in enumerate(pairs[start:start + size]):
            yield _draw(design, [o[k] if has_axis else o
                                 for o, has_axis in zip(batch, evaluator.batched, strict=True)],
                        c, d, rng, given_outcome)


def _draw(design, out, c, d, rng, given_outcome) -> Draw:
    """One draw's tensors (firm-level).

    A firm's binary-covariate combination is drawn from its conditional probability when
    the design marginalises one.
    """
    eta, firm_ll, x = out[0], out[1], out[3]
    row_lp = out[2] if given_outcome else out[4]
    rows = slice(None)  # a row per firm: views, not copies
    if design.marginalised:
        lp = np.append(row_lp, -np.inf)[design.firm_rows]
        p = np.exp(lp - lp.max(axis=1, keepdims=True))
        cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        pick = (rng.random((design.n_firms, 1)) > cum).sum(axis=1)
        rows = design.firm_rows[np.arange(design.n_firms), np.minimum(pick, cum.shape[1] - 1)]
    zeta = out[5][rows] if len(out) > 5 else None
    return Draw(c, d, eta[rows], zeta, firm_ll, x[rows])


def predictive(built, ds: xr.Dataset, rng: np.random.Generator,
               want_loglik: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """Per-firm log-likelihood and replicated outcomes for every (chain, draw).

    Firms with marginalised binary covariates first draw their combination from its
    conditional posterior probability, then the outcome given it. ``want_loglik=False``
    means prior predictive draws: the combination is drawn without seeing the outcome.

    Returns
    -------
    loglik : ndarray or None
        (chain, draw, firm); None when ``want_loglik`` is False.
    y_rep : ndarray
        (chain, draw, firm) replicated counts.
    """
    design = built.design
    family = LIKELIHOODS[design.spec.family]
    alpha = np.asarray(ds["dispersion"].values) if family.dispersion else None
    n_chain, n_draw = ds.sizes["chain"], ds.sizes["draw"]
    y_rep = np.empty((n_chain, n_draw, design.n_firms), dtype=np.int64)
    loglik = np.empty((n_chain, n_draw, design.n_firms)) if want_loglik else None
    for d in draws(built, ds, rng, given_outcome=want_loglik):
        p_zero = expit(d.zeta) if d.zeta is not None else None
        a = alpha[d.chain, d.draw] if alpha is not None else None
        mu = np.exp(np.minimum(d.eta, np.log(MAX_RATE)))
        y_rep[d.chain, d.draw] = family.sample(rng, mu, a, p_zero)
        if loglik is not None:
            loglik[d.chain, d.draw] = d.firm_loglik
    return loglik, y_rep
