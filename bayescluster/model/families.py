"""The families' mathematics: log-likelihood (pytensor and numpy), moments and sampler.

Each :class:`Likelihood` carries its declaration from :mod:`bayescluster.spec.families`
(parameters and meaning) and adds the computations; see that module for the formulas.
The dispersion families' pytensor log-likelihood runs through
:mod:`bayescluster.model.kernel` (value and gradient in one pass).
"""

from dataclasses import dataclass, fields

import numpy as np
import pytensor.tensor as pt
from scipy import special, stats

from bayescluster.model.kernel import row_logp
from bayescluster.spec.families import FAMILIES, Family

# numpy's Poisson sampler refuses rates above ~1e19; weak priors reach them in prior
# predictive draws, where a count of 1e15 already says "absurd" as clearly.
MAX_RATE = 1e15


def _np_nb_p0(mu, alpha):
    return np.exp(-np.log1p(alpha * mu) / alpha)


def _poisson(rng, rate):
    return rng.poisson(np.minimum(rate, MAX_RATE))


def _np_nb_draw(rng, mu, alpha):
    n = 1.0 / alpha
    return _poisson(rng, rng.gamma(n, np.minimum(mu, MAX_RATE) / n))


REDRAWS = 8  # rounds of redrawing zeros before the few left are drawn by inversion


def _np_positive_nb_draw(rng, mu, alpha):
    """NB draws conditioned on y >= 1 (the hurdle's count part).

    Zeros are redrawn, which leaves each draw exactly zero-truncated NB; after ``REDRAWS``
    rounds the draws still at zero (rates so small that P(0) is near 1) are drawn by
    inverting the truncated CDF.
    """
    mu = np.asarray(mu, dtype=float)
    alpha = np.broadcast_to(np.asarray(alpha, dtype=float), mu.shape)
    out = np.array(_np_nb_draw(rng, mu, alpha))
    for _ in range(REDRAWS):
        zero = np.flatnonzero(out == 0)
        if not zero.size:
            return out
        out.flat[zero] = _np_nb_draw(rng, mu.flat[zero], alpha.flat[zero])
    zero = np.flatnonzero(out == 0)
    if zero.size:
        n = 1.0 / alpha.flat[zero]
        p = n / (n + mu.flat[zero])
        p0 = stats.nbinom.pmf(0, n, p)
        u = p0 + rng.random(zero.size) * (1 - p0)
        out.flat[zero] = np.maximum(stats.nbinom.ppf(np.minimum(u, 1 - 1e-12), n, p), 1)
    return out


@dataclass(frozen=True)
class Likelihood(Family):
    """A declared family with its computations."""

    def logp(self, y, eta, alpha=None, zeta=None):
        """Elementwise log-probability of counts ``y`` (pytensor).

        ``zeta`` is per row, or a scalar for one zero-part logit shared by every row.
        """
        if self.name == "poisson":
            return y * eta - pt.exp(eta) - pt.gammaln(y + 1.0)
        return row_logp(self.name, y, eta, alpha, zeta if self.zero_part else None)

    def np_logp(self, y, mu, alpha=None, p_zero=None):
        """Elementwise log-probability in numpy (scipy), for checks and predictions."""
        if self.name == "poisson":
            return stats.poisson.logpmf(y, mu)
        n = 1.0 / alpha
        nb = stats.nbinom.logpmf(y, n, n / (n + mu))
        if self.name == "negbin":
            return nb
        p0 = _np_nb_p0(mu, alpha)
        if self.name == "zinb":
            return np.where(y == 0, np.log(p_zero + (1 - p_zero) * p0), np.log1p(-p_zero) + nb)
        return np.where(y == 0, np.log(p_zero), np.log1p(-p_zero) + nb - np.log1p(-p0))

    def mean(self, mu, alpha=None, p_zero=None):
        """E[y]."""
        if self.name in ("poisson", "negbin"):
            return mu
        if self.name == "zinb":
            return (1 - p_zero) * mu
        return (1 - p_zero) * mu / (1 - _np_nb_p0(mu, alpha))

    def p_positive(self, mu, alpha=None, p_zero=None):
        """P(y >= 1): the extensive margin."""
        if self.name == "poisson":
            return -np.expm1(-mu)
        if self.name == "negbin":
            return 1 - _np_nb_p0(mu, alpha)
        if self.name == "zinb":
            return (1 - p_zero) * (1 - _np_nb_p0(mu, alpha))
        return 1 - p_zero

    def sample(self, rng: np.random.Generator, mu, alpha=None, p_zero=None):
        """Draw counts with the shapes of ``mu``."""
        mu = np.asarray(mu, dtype=float)
        if self.name == "poisson":
            return _poisson(rng, mu)
        if self.name == "negbin":
            return _np_nb_draw(rng, mu, alpha)
        zero = rng.random(mu.shape) < p_zero
        if self.name == "zinb":
            return np.where(zero, 0, _np_nb_draw(rng, mu, alpha))
        return np.where(zero, 0, _np_positive_nb_draw(rng, mu, alpha)).astype(np.int64)


LIKELIHOODS: dict[str, Likelihood] = {
    name: Likelihood(**{f.name: getattr(family, f.name) for f in fields(family)})
    for name, family in FAMILIES.items()
}


def expit(x):
    """Inverse logit, numerically stable (numpy)."""
    return special.expit(x)
