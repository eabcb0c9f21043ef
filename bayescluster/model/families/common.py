"""What every base distribution's computations share.

Safe Poisson draws, the inverse logit, quantiles by summing a pmf and the draws of a count
conditioned on being positive.
"""

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

# numpy's Poisson sampler refuses rates above ~1e19; weak priors reach them in prior
# predictive draws, where a count of 1e15 already says "absurd" as clearly.
MAX_RATE = 1e15
REDRAWS = 8  # rounds of redrawing zeros before the few left are drawn by inversion
MAX_COUNT = 100_000  # where an inversion by summing the pmf stops


def expit(x: np.ndarray | float) -> np.ndarray:
    r"""Inverse logit, numerically stable (numpy).

    Parameters
    ----------
    x : ndarray or float
        Logits, e.g. the zero part's :math:`\zeta`.

    Returns
    -------
    ndarray
        :math:`1/(1 + e^{-x})`, the shape of ``x``.
    """
    return special.expit(x)


def poisson_draw(rng: np.random.Generator, rate: np.ndarray | float) -> np.ndarray:
    """Poisson draws at ``rate``, the rate capped at :data:`MAX_RATE`.

    Parameters
    ----------
    rng : numpy.random.Generator
        The source of the draws.
    rate : ndarray or float
        Poisson rates, any shape.

    Returns
    -------
    ndarray
        int64 counts, the shape of ``rate``.
    """
    return rng.poisson(np.minimum(rate, MAX_RATE))


def invert_by_sum(np_logp: Callable[..., np.ndarray], u: np.ndarray, mu: np.ndarray,
                  theta: np.ndarray | None) -> np.ndarray:
    r"""The smallest :math:`k` with :math:`F(k) \ge u`, summing the pmf from zero.

    ``np_logp(k, mu, theta)`` is the base's log-pmf; ``u``, ``mu`` and ``theta`` are
    flat arrays of one length (``theta`` may be None). Used where no closed-form quantile
    exists, on the few draws that need it.

    Parameters
    ----------
    np_logp : callable
        The base's log-pmf in numpy, ``np_logp(k, mu, theta)``.
    u : ndarray
        (n,) probabilities in [0, 1).
    mu : ndarray
        (n,) the base's mean :math:`e^\eta`.
    theta : ndarray or None
        (n,) the base's own parameter; None for a base without one.

    Returns
    -------
    ndarray
        (n,) int64 quantiles; ``MAX_COUNT`` where the sum has not reached ``u`` by then.
    """
    out = np.full(u.shape, -1, dtype=np.int64)
    cdf = np.zeros(u.shape)
    for k in range(MAX_COUNT):
        open_ = out < 0
        if not open_.any():
            break
        idx = np.flatnonzero(open_)
        theta_k = None if theta is None else theta[idx]
        cdf[idx] += np.exp(np_logp(np.full(idx.size, k), mu[idx], theta_k))
        out[idx[cdf[idx] >= u[idx]]] = k
    out[out < 0] = MAX_COUNT
    return out


def positive_draw(base: Any, rng: np.random.Generator, mu: np.ndarray | float,
                  theta: np.ndarray | float | None) -> np.ndarray:
    r"""Draws of the base distribution conditioned on y >= 1 (the hurdle's count part).

    Zeros are redrawn, which leaves each draw exactly zero-truncated; after ``REDRAWS``
    rounds the draws still at zero (rates so small that P(0) is near 1) are drawn by
    inverting the truncated CDF (``base.invert``).

    Parameters
    ----------
    base : Base
        The base distribution's computations
        (:class:`~bayescluster.model.families.base.Base`).
    rng : numpy.random.Generator
        The source of the draws.
    mu : ndarray or float
        The base's mean :math:`e^\eta` (the Poisson-lognormal's median rate), any shape.
    theta : ndarray, float or None
        The base's own parameter, broadcast to ``mu``'s shape; None for a base without one.

    Returns
    -------
    ndarray
        Counts of at least 1, the shape of ``mu``.
    """
    mu = np.asarray(mu, dtype=float)
    theta = None if theta is None else np.broadcast_to(np.asarray(theta, dtype=float),
                                                       mu.shape)
    out = np.array(base.sample(rng, mu, theta))
    for _ in range(REDRAWS):
        zero = np.flatnonzero(out == 0)
        if not zero.size:
            return out
        out.flat[zero] = base.sample(rng, mu.flat[zero],
                                     None if theta is None else theta.flat[zero])
    zero = np.flatnonzero(out == 0)
    if zero.size:
        m = mu.flat[zero]
        t = None if theta is None else theta.flat[zero]
        p0 = base.np_p0(m, t)
        u = p0 + rng.random(zero.size) * (1 - p0)
        out.flat[zero] = np.maximum(base.invert(np.minimum(u, 1 - 1e-12), m, t), 1)
    return out
