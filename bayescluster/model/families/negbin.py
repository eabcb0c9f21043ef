r"""NB2, the negative binomial with quadratic variance: :math:`\mathrm{Var} = \mu + \alpha\mu^2`.

With :math:`n = 1/\alpha`: :math:`f(y) = \binom{y + n - 1}{y} (n/(n+\mu))^n
(\mu/(n+\mu))^y` (Stata's and statsmodels' ``alpha``; PyMC's ``alpha`` is :math:`1/\alpha`).
Its log-likelihood runs through :mod:`bayescluster.model.kernel` (value and gradient in one
numba pass), under every zero structure.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytensor.tensor as pt
from scipy import stats

from bayescluster.model import kernel
from bayescluster.model.families.base import Base
from bayescluster.model.families.common import MAX_RATE, poisson_draw
from bayescluster.spec.families import BASES


@dataclass(frozen=True)
class NegBin(Base):
    """NB2 computations."""

    fused = True

    def logp(self, y: pt.TensorVariable, eta: pt.TensorVariable,
             theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`\log f(y)` (pytensor, through the numba kernel).

        Parameters
        ----------
        y : TensorVariable
            (row,) counts, as floats.
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu`.
        theta : TensorVariable
            The dispersion :math:`\alpha` (scalar).

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(y)`.
        """
        return kernel.row_logp("none", y, eta, theta)

    def log_p0(self, eta: pt.TensorVariable, theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`-n \log(1 + \alpha\mu)` (pytensor).

        Parameters
        ----------
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu`.
        theta : TensorVariable
            The dispersion :math:`\alpha` (scalar).

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(0)`.
        """
        return -pt.log1p(theta * pt.exp(eta)) / theta

    def row_logp(self, zero: str, y: pt.TensorVariable, eta: pt.TensorVariable,
                 theta: pt.TensorVariable, zeta: pt.TensorVariable | None) -> pt.TensorVariable:
        r"""Every zero structure in the numba kernel.

        Parameters
        ----------
        zero : str
            The zero structure: ``"none"``, ``"zi"`` or ``"hurdle"``.
        y : TensorVariable
            (row,) counts, as floats.
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu` of the count part.
        theta : TensorVariable
            The dispersion :math:`\alpha` (scalar).
        zeta : TensorVariable or None
            The zero part's logit of P(zero), (row,) or a scalar for every row; None
            without a zero part.

        Returns
        -------
        TensorVariable
            (row,) log-likelihoods under the zero structure.
        """
        return kernel.row_logp(zero, y, eta, theta, zeta)

    def glm_logp(self, zero: str, **inputs: Any) -> pt.TensorVariable:
        """A whole regression in one pass (:func:`bayescluster.model.kernel.glm_logp`).

        Parameters
        ----------
        zero : str
            The zero structure: ``"none"``, ``"zi"`` or ``"hurdle"``.
        **inputs : ndarray, TensorVariable or None
            :func:`~bayescluster.model.kernel.glm_logp`'s other arguments, by name
            (``y``, ``weight``, ``X``, ``row_cluster``, ``zcols``, ``base``, ``coef``,
            ``group``, ``alpha``, ``zeta``, ``offset``).

        Returns
        -------
        TensorVariable
            Scalar: the weighted sum of the rows' log-likelihoods.
        """
        return kernel.glm_logp(zero, **inputs)

    def np_logp(self, y: np.ndarray, mu: np.ndarray | float,
                theta: np.ndarray | float) -> np.ndarray:
        r"""Log-pmf (scipy).

        Parameters
        ----------
        y : ndarray
            Counts, broadcasting against ``mu``.
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\alpha`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`\log f(y)`, the broadcast shape.
        """
        n = 1.0 / theta
        return stats.nbinom.logpmf(y, n, n / (n + mu))

    def np_p0(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`(1 + \alpha\mu)^{-1/\alpha}`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\alpha`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`f(0)`, the broadcast shape.
        """
        return np.exp(-np.log1p(theta * mu) / theta)

    def mean(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray | float:
        r""":math:`\mu`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\alpha` (unused: the mean is :math:`\mu` at any
            :math:`\alpha`).

        Returns
        -------
        ndarray or float
            :math:`E[y]`: ``mu`` itself.
        """
        return mu

    def information(self, mu: np.ndarray, mean: float, var: float) -> np.ndarray:
        r""":math:`\mu / (1 + \mu/\hat n)`, the information at the moment estimate of the size.

        :math:`\hat n = \bar y^2/(s^2 - \bar y)` held in [0.05, 1000], :math:`\infty` where
        the sample is not over-dispersed.

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
        n = np.inf if var <= mean else float(np.clip(mean**2 / (var - mean), 0.05, 1e3))
        return mu / (1.0 + mu / n)

    def sample(self, rng: np.random.Generator, mu: np.ndarray | float,
               theta: np.ndarray | float) -> np.ndarray:
        r"""A Poisson draw at a gamma rate.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of the draws.
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\alpha`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            int64 counts, the broadcast shape.
        """
        n = 1.0 / theta
        return poisson_draw(rng, rng.gamma(n, np.minimum(mu, MAX_RATE) / n))

    def invert(self, u: np.ndarray, mu: np.ndarray, theta: np.ndarray) -> np.ndarray:
        r"""NB2 quantiles (scipy).

        Parameters
        ----------
        u : ndarray
            (n,) probabilities in [0, 1).
        mu : ndarray
            (n,) the mean.
        theta : ndarray
            (n,) the dispersion :math:`\alpha`.

        Returns
        -------
        ndarray
            (n,) the smallest counts :math:`k` with :math:`F(k) \ge u`, as floats.
        """
        n = 1.0 / theta
        return stats.nbinom.ppf(u, n, n / (n + mu))


BASE = NegBin(BASES["negbin"])
