r"""NB1, the negative binomial with linear variance: :math:`\mathrm{Var} = \mu(1 + \phi)`.

glmmTMB's ``nbinom1``, Stata's ``nbreg, dispersion(constant)``: a negative binomial with
size :math:`n = \mu/\phi` and success probability :math:`1/(1+\phi)`,

.. math:: \log f(y) = \log\Gamma(y + n) - \log\Gamma(n) - \log y! - n\log(1+\phi)
          + y \log\frac{\phi}{1+\phi}
"""

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from scipy import stats

from bayescluster.model.families.base import Base
from bayescluster.model.families.common import MAX_RATE, poisson_draw
from bayescluster.spec.families import BASES


@dataclass(frozen=True)
class NB1(Base):
    """NB1 computations."""

    def logp(self, y: pt.TensorVariable, eta: pt.TensorVariable,
             theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`\log f(y)` (pytensor).

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
        n = pt.exp(eta) / theta
        return (pt.gammaln(y + n) - pt.gammaln(n) - pt.gammaln(y + 1.0)
                - n * pt.log1p(theta) + y * (pt.log(theta) - pt.log1p(theta)))

    def log_p0(self, eta: pt.TensorVariable, theta: pt.TensorVariable) -> pt.TensorVariable:
        r""":math:`-(\mu/\phi) \log(1 + \phi)` (pytensor).

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
        return -pt.exp(eta) / theta * pt.log1p(theta)

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
            The dispersion :math:`\phi`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            :math:`\log f(y)`, the broadcast shape.
        """
        return stats.nbinom.logpmf(y, np.asarray(mu) / theta, 1.0 / (1.0 + theta))

    def np_p0(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`(1 + \phi)^{-\mu/\phi}`.

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
        return np.exp(-np.asarray(mu) / theta * np.log1p(theta))

    def np_positive(self, mu: np.ndarray | float, theta: np.ndarray | float) -> np.ndarray:
        r""":math:`1 - f(0)` to full precision at small :math:`\mu/\phi`.

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
        return -np.expm1(-np.asarray(mu, dtype=float) / theta * np.log1p(theta))

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
        r""":math:`\mu/(1 + \hat\phi)`, :math:`\hat\phi = s^2/\bar y - 1` (0 if below).

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
        return mu / (1.0 + max(var / mean - 1.0, 0.0))

    def sample(self, rng: np.random.Generator, mu: np.ndarray | float,
               theta: np.ndarray | float) -> np.ndarray:
        r"""A Poisson draw at a gamma rate of shape :math:`\mu/\phi` and scale :math:`\phi`.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of the draws.
        mu : ndarray or float
            The mean, any shape.
        theta : ndarray or float
            The dispersion :math:`\phi`, broadcasting against ``mu``.

        Returns
        -------
        ndarray
            int64 counts, the broadcast shape.
        """
        mu = np.minimum(np.asarray(mu, dtype=float), MAX_RATE)
        return poisson_draw(rng, rng.gamma(mu / theta, theta))

    def invert(self, u: np.ndarray, mu: np.ndarray, theta: np.ndarray) -> np.ndarray:
        r"""NB1 quantiles (scipy).

        Parameters
        ----------
        u : ndarray
            (n,) probabilities in [0, 1).
        mu : ndarray
            (n,) the mean.
        theta : ndarray
            (n,) the dispersion :math:`\phi`.

        Returns
        -------
        ndarray
            (n,) the smallest counts :math:`k` with :math:`F(k) \ge u`, as floats.
        """
        return stats.nbinom.ppf(u, np.asarray(mu) / theta, 1.0 / (1.0 + theta))


BASE = NB1(BASES["nb1"])
