r"""The Poisson-lognormal distribution: a Poisson count whose rate carries a log-normal factor.

:math:`y \sim \mathrm{Poisson}(\mu e^{\varepsilon})`, :math:`\varepsilon \sim N(0,
\sigma^2)`: what glmmTMB and brms fit as a Poisson model with a row-level random intercept
``(1 | row)``, here with :math:`\varepsilon` integrated out. :math:`\mu` is the median rate;
:math:`E[y] = \mu e^{\sigma^2/2}`, :math:`\mathrm{Var} = E[y] + E[y]^2 (e^{\sigma^2} - 1)`.

The integral :math:`f(y) = \int \mathrm{Poisson}(y \mid \mu e^\varepsilon)
\varphi(\varepsilon; 0, \sigma)\,d\varepsilon` is taken by adaptive Gauss-Hermite
quadrature (Liu and Pierce 1994): with :math:`h(\varepsilon)` the integrand's log, its mode
:math:`\hat\varepsilon` (Newton's method on :math:`h' = y - \mu e^\varepsilon -
\varepsilon/\sigma^2`, concave and decreasing, from a start to the right of the root, where
each step stays right of it) and :math:`\tau = (-h''(\hat\varepsilon))^{-1/2}`,

.. math:: f(y) \approx \sqrt2\,\tau \sum_k w_k e^{x_k^2} e^{h(\hat\varepsilon + \sqrt2\tau x_k)}

which is exact to about 1e-10 with ``NODES`` nodes for any count and :math:`\sigma`
(``tests/model/test_families.py`` checks it against scipy's adaptive quadrature).
"""

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from scipy import special

from bayescluster.model.families.base import Base
from bayescluster.model.families.common import MAX_RATE, poisson_draw
from bayescluster.spec.families import BASES

NODES = 16
NEWTON_STEPS = 12
_X, _W = np.polynomial.hermite.hermgauss(NODES)
_LOG_W = np.log(_W) + _X**2


def _log_integral(xp, special_gammaln, logsumexp, y, eta, sigma):
    """The quadrature in numpy or pytensor (``xp`` the array module)."""
    y = y[..., None]
    eta = eta[..., None]
    var = sigma**2
    eps = xp.minimum(xp.log(y + 1.0) - eta, (y + 1.0) * var)
    for _ in range(NEWTON_STEPS):
        rate = xp.exp(eta + eps)
        eps = eps + (y - rate - eps / var) / (rate + 1.0 / var)
    tau = 1.0 / xp.sqrt(xp.exp(eta + eps) + 1.0 / var)
    e = eps + np.sqrt(2.0) * tau * _X
    h = (y * (eta + e) - xp.exp(eta + e) - special_gammaln(y + 1.0)
         - 0.5 * e**2 / var - 0.5 * xp.log(2.0 * np.pi * var))
    return logsumexp(h + _LOG_W, axis=-1) + xp.log(np.sqrt(2.0) * tau[..., 0])


def _pt_logsumexp(x, axis):
    top = pt.max(x, axis=axis, keepdims=True)
    return pt.log(pt.sum(pt.exp(x - top), axis=axis)) + pt.squeeze(top, axis=axis)


@dataclass(frozen=True)
class PoissonLognormal(Base):
    """Poisson-lognormal computations."""

    def logp(self, y: pt.TensorVariable, eta: pt.TensorVariable,
             theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`\log f(y)` by adaptive quadrature (pytensor).

        Parameters
        ----------
        y : TensorVariable
            (row,) counts, as floats.
        eta : TensorVariable
            (row,) log median rate :math:`\eta = \log\mu`.
        theta : TensorVariable
            The SD :math:`\sigma` of the log-normal factor (scalar).

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(y)`.
        """
        y = pt.as_tensor_variable(y)
        eta = pt.as_tensor_variable(eta)
        y, eta = pt.broadcast_arrays(y, eta)
        return _log_integral(pt, pt.gammaln, _pt_logsumexp, y, eta, theta)

    def log_p0(self, eta: pt.TensorVariable, theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`\log f(0)` (pytensor).

        Parameters
        ----------
        eta : TensorVariable
            (row,) log median rate :math:`\eta = \log\mu`.
        theta : TensorVariable
            The SD :math:`\sigma` of the log-normal factor (scalar).

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(0)`.
        """
        eta = pt.as_tensor_variable(eta)
        return self.logp(pt.zeros_like(eta), eta, theta)

    def np_logp(self, y: np.ndarray, mu: np.ndarray | float,
                theta: np.ndarray | float) -> np.ndarray:
        r""":math:`\log f(y)` by adaptive quadrature (numpy).

        Parameters
        ----------
        y : ndarray
            Counts, broadcasting against ``mu``.
        mu : ndarray or float
            The median rate, any shape.
        theta : ndarray or float
            The SD :math:`\sigma` of the log-normal factor, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`\log f(y)`, the broadcast shape.
        """
        y, mu, sigma = np.broadcast_arrays(np.asarray(y, dtype=float),
                                           np.asarray(mu, dtype=float),
                                           np.asarray(theta, dtype=float))
        with np.errstate(divide="ignore"):
            eta = np.log(mu)
        return _log_integral(np, special.gammaln, special.logsumexp, y, eta,
                             sigma[..., None])

    def np_p0(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`f(0)`.

        Parameters
        ----------
        mu : ndarray or float
            The median rate, any shape.
        theta : ndarray or float
            The SD :math:`\sigma` of the log-normal factor, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`f(0)`, the broadcast shape.
        """
        return np.exp(self.np_logp(np.zeros(np.shape(mu)), mu, theta))

    def np_positive(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`1 - f(0)` through :math:`\log f(0)`, to full precision when it is small.

        Parameters
        ----------
        mu : ndarray or float
            The median rate, any shape.
        theta : ndarray or float
            The SD :math:`\sigma` of the log-normal factor, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            P(y > 0).
        """
        return -np.expm1(self.np_logp(np.zeros(np.shape(mu)), mu, theta))

    def mean(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`\mu e^{\sigma^2/2}`.

        Parameters
        ----------
        mu : ndarray or float
            The median rate, any shape.
        theta : ndarray or float
            The SD :math:`\sigma` of the log-normal factor, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`E[y]`, the broadcast shape.
        """
        return mu * np.exp(0.5 * np.asarray(theta) ** 2)

    def information(self, mu: np.ndarray, mean: float, var: float) -> np.ndarray:
        r""":math:`\mu/(1 + \hat a\mu)`, :math:`\hat a = (s^2 - \bar y)/\bar y^2` (0 if below).

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
            (group,) the Fisher information about :math:`\eta` of one row at each mean.
        """
        return mu / (1.0 + max(var - mean, 0.0) / mean**2 * mu)

    def sample(self, rng: np.random.Generator, mu: np.ndarray | float,
               theta: np.ndarray | float) -> np.ndarray:
        r"""A Poisson draw at the rate times a log-normal factor.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of the draws.
        mu : ndarray or float
            The median rate, any shape.
        theta : ndarray or float
            The SD :math:`\sigma` of the log-normal factor, broadcast to ``mu``'s shape.

        Returns
        -------
        ndarray
            int64 counts, the shape of ``mu``.
        """
        mu = np.asarray(mu, dtype=float)
        sigma = np.broadcast_to(np.asarray(theta, dtype=float), mu.shape)
        rate = np.minimum(mu * np.exp(sigma * rng.standard_normal(mu.shape)), MAX_RATE)
        return poisson_draw(rng, rate)


BASE = PoissonLognormal(BASES["pln"])
