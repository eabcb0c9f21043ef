r"""The generalized Poisson distribution (Consul and Famoye), as glmmTMB's ``genpois``.

Mean :math:`\mu`, :math:`\mathrm{Var} = \mu\phi`: with :math:`\theta = \mu/\sqrt\phi` and
:math:`\lambda = 1 - 1/\sqrt\phi`,

.. math:: \log f(y) = \log\theta + (y - 1)\log(\theta + \lambda y) - \log y! - \theta
          - \lambda y

:math:`\phi > 1` is over-dispersed, :math:`\phi < 1` under-dispersed (:math:`\lambda < 0`,
where the support ends before :math:`\theta + \lambda y` reaches zero; a count beyond it
has probability zero, as in glmmTMB), :math:`\phi = 1` the Poisson.
"""

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from scipy import special

from bayescluster.model.families.base import Base
from bayescluster.model.families.common import MAX_RATE, invert_by_sum, poisson_draw
from bayescluster.spec.families import BASES

MAX_GENERATIONS = 100_000  # of the branching process a draw runs (lambda < 1: it ends)


def _theta_lambda(mu, phi):
    root = np.sqrt(phi)
    return mu / root, 1.0 - 1.0 / root


def _mass(np_logp, mu, phi):
    """The pmf's total over its support: 1 where lambda >= 0, the truncated sum below."""
    t, lam = _theta_lambda(mu, phi)
    total = np.ones(mu.shape)
    under = np.flatnonzero(lam < 0)
    if under.size:
        last = np.ceil(-t[under] / lam[under]).astype(np.int64)  # first y off the support
        sums = np.zeros(under.size)
        for k in range(int(last.max()) + 1):
            sums += np.exp(np_logp(np.full(under.size, k), mu[under], phi[under]))
        total[under] = sums
    return total


@dataclass(frozen=True)
class GenPois(Base):
    """Generalized Poisson computations."""

    def logp(self, y: pt.TensorVariable, eta: pt.TensorVariable,
             theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`\log f(y)` (pytensor); :math:`-\infty` beyond the support.

        Parameters
        ----------
        y : TensorVariable
            (row,) counts, as floats.
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu`.
        theta : TensorVariable
            The dispersion :math:`\phi` (scalar).

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(y)`.
        """
        root = pt.sqrt(theta)
        log_t = eta - pt.log(root)
        lam = 1.0 - 1.0 / root
        inner = pt.exp(log_t) + lam * y
        safe = pt.switch(inner > 0, inner, 1.0)
        value = log_t + (y - 1.0) * pt.log(safe) - pt.gammaln(y + 1.0) - pt.exp(log_t) - lam * y
        return pt.switch(pt.or_(inner > 0, pt.eq(y, 0)), value, -np.inf)

    def log_p0(self, eta: pt.TensorVariable, theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`-\theta = -\mu/\sqrt\phi` (pytensor).

        Parameters
        ----------
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu`.
        theta : TensorVariable
            The dispersion :math:`\phi` (scalar).

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(0)`.
        """
        return -pt.exp(eta) / pt.sqrt(theta)

    def np_logp(self, y: np.ndarray, mu: np.ndarray | float,
                theta: np.ndarray | float) -> np.ndarray:
        r"""Log-pmf (numpy).

        Parameters
        ----------
        y : ndarray
            Counts, broadcasting against ``mu``.
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\phi`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`\log f(y)`, the broadcast shape; :math:`-\infty` beyond the support.
        """
        y = np.asarray(y, dtype=float)
        t, lam = _theta_lambda(np.asarray(mu, dtype=float), np.asarray(theta, dtype=float))
        inner = t + lam * y
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (np.log(t) + (y - 1.0) * np.log(np.where(inner > 0, inner, 1.0))
                     - special.gammaln(y + 1.0) - t - lam * y)
        return np.where((inner > 0) | (y == 0), value, -np.inf)

    def np_p0(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`e^{-\theta}`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\phi`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`f(0)`, the broadcast shape.
        """
        return np.exp(-np.asarray(mu, dtype=float) / np.sqrt(theta))

    def np_positive(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`1 - e^{-\theta}` to full precision at small :math:`\theta = \mu/\sqrt\phi`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\phi`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            P(y > 0).
        """
        return -np.expm1(-np.asarray(mu, dtype=float) / np.sqrt(theta))

    def mean(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray | float:
        r""":math:`\mu`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\phi` (unused: the mean is :math:`\mu` at any
            :math:`\phi`).

        Returns
        -------
        ndarray or float
            :math:`E[y]`: ``mu`` itself.
        """
        return mu

    def information(self, mu: np.ndarray, mean: float, var: float) -> np.ndarray:
        r""":math:`\mu/\hat\phi`, :math:`\hat\phi = s^2/\bar y`.

        Parameters
        ----------
        mu : ndarray
            (group,) the groups' mean counts :math:`\hat\mu_g`.
        mean : float
            The whole table's mean count :math:`\bar y`.
        var : float
            The whole table's count variance :math:`s^2`.

        Returns
        -------
        ndarray
            (group,) the Fisher information about :math:`\eta` of one row at each mean
            (:math:`\hat\phi` held at 0.001 or above).
        """
        return mu / max(var / mean, 1e-3)

    def sample(self, rng: np.random.Generator, mu: np.ndarray | float,
               theta: np.ndarray | float) -> np.ndarray:
        r"""Draws of the generalized Poisson.

        For :math:`\lambda \ge 0` the total progeny of a branching process
        (Poisson(:math:`\theta`) founders, Poisson(:math:`\lambda`) offspring each), whose
        law is the generalized Poisson; for :math:`\lambda < 0` by inversion over the
        bounded support.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of the draws.
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\phi`, broadcast to ``mu``'s shape.

        Returns
        -------
        ndarray
            int64 counts, the shape of ``mu``.
        """
        mu = np.minimum(np.asarray(mu, dtype=float), MAX_RATE)
        phi = np.broadcast_to(np.asarray(theta, dtype=float), mu.shape)
        t, lam = _theta_lambda(mu, phi)
        out = np.zeros(mu.shape, dtype=np.int64)
        over = lam >= 0
        generation = poisson_draw(rng, np.where(over, t, 0.0))
        out += generation
        for _ in range(MAX_GENERATIONS):
            if not generation.any():
                break
            generation = poisson_draw(rng, np.where(over, lam, 0.0) * generation)
            out += generation
        under = np.flatnonzero(~over)
        if under.size:
            out.flat[under] = self.invert(rng.random(under.size), mu.flat[under],
                                          phi.flat[under])
        return out

    def invert(self, u: np.ndarray, mu: np.ndarray, theta: np.ndarray) -> np.ndarray:
        r"""Quantiles by summing the pmf (below :math:`\phi = 1` renormalised on its support).

        Parameters
        ----------
        u : ndarray
            (n,) probabilities in [0, 1).
        mu : ndarray
            (n,) the mean.
        theta : ndarray
            The dispersion :math:`\phi`, (n,) or one for all.

        Returns
        -------
        ndarray
            (n,) int64: the smallest counts :math:`k` with :math:`F(k) \ge u`.
        """
        mu = np.asarray(mu, dtype=float)
        phi = np.broadcast_to(np.asarray(theta, dtype=float), mu.shape)
        scaled = np.asarray(u) * _mass(self.np_logp, mu, phi) * (1 - 1e-12)
        return invert_by_sum(self.np_logp, scaled, mu, phi)


BASE = GenPois(BASES["genpois"])
