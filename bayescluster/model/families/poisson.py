r"""The Poisson distribution: :math:`f(y) = \mu^y e^{-\mu} / y!`, :math:`\mathrm{Var} = \mu`."""

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from scipy import stats

from bayescluster.model.families.base import Base
from bayescluster.model.families.common import poisson_draw
from bayescluster.spec.families import BASES


@dataclass(frozen=True)
class Poisson(Base):
    """Poisson computations."""

    def logp(self, y: pt.TensorVariable, eta: pt.TensorVariable,
             theta: None = None) -> pt.TensorVariable:
        r""":math:`y\eta - e^\eta - \log y!` (pytensor).

        Parameters
        ----------
        y : TensorVariable
            (row,) counts, as floats.
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu`.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(y)`.
        """
        return y * eta - pt.exp(eta) - pt.gammaln(y + 1.0)

    def log_p0(self, eta: pt.TensorVariable, theta: None = None) -> pt.TensorVariable:
        r""":math:`-e^\eta` (pytensor).

        Parameters
        ----------
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu`.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        TensorVariable
            (row,) :math:`\log f(0)`.
        """
        return -pt.exp(eta)

    def np_logp(self, y: np.ndarray, mu: np.ndarray | float, theta: None = None) -> np.ndarray:
        r"""Log-pmf (scipy).

        Parameters
        ----------
        y : ndarray
            Counts, broadcasting against ``mu``.
        mu : ndarray or float
            The mean, any shape.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        ndarray
            :math:`\log f(y)`, the broadcast shape.
        """
        return stats.poisson.logpmf(y, mu)

    def np_p0(self, mu: np.ndarray | float, theta: None = None) -> np.ndarray:
        r""":math:`e^{-\mu}`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        ndarray
            :math:`f(0)`, the shape of ``mu``.
        """
        return np.exp(-np.asarray(mu, dtype=float))

    def np_positive(self, mu: np.ndarray | float, theta: None = None) -> np.ndarray:
        r""":math:`1 - e^{-\mu}` to full precision at small :math:`\mu`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        ndarray
            P(y >= 1), the shape of ``mu``.
        """
        return -np.expm1(-mu)

    def mean(self, mu: np.ndarray | float, theta: None = None) -> np.ndarray | float:
        r""":math:`\mu`.

        Parameters
        ----------
        mu : ndarray or float
            The mean, any shape.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        ndarray or float
            :math:`E[y]`: ``mu`` itself.
        """
        return mu

    def information(self, mu: np.ndarray, mean: float, var: float) -> np.ndarray:
        r""":math:`\mu`.

        Parameters
        ----------
        mu : ndarray
            (group,) the groups' mean counts :math:`\hat\mu_g`.
        mean : float
            The whole table's mean count (unused: the Poisson has no parameter to estimate).
        var : float
            The whole table's count variance (unused).

        Returns
        -------
        ndarray
            (group,) the Fisher information about :math:`\eta` of one row at each mean.
        """
        return mu / (1.0 + mu / np.inf)

    def sample(self, rng: np.random.Generator, mu: np.ndarray | float,
               theta: None = None) -> np.ndarray:
        """Poisson draws.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of the draws.
        mu : ndarray or float
            The mean, any shape.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        ndarray
            int64 counts, the shape of ``mu``.
        """
        return poisson_draw(rng, np.asarray(mu, dtype=float))

    def invert(self, u: np.ndarray, mu: np.ndarray, theta: None = None) -> np.ndarray:
        r"""Poisson quantiles (scipy).

        Parameters
        ----------
        u : ndarray
            (n,) probabilities in [0, 1).
        mu : ndarray
            (n,) the mean.
        theta : None
            Unused: the Poisson has no parameter of its own.

        Returns
        -------
        ndarray
            (n,) the smallest counts :math:`k` with :math:`F(k) \ge u`, as floats.
        """
        return stats.poisson.ppf(u, mu)


BASE = Poisson(BASES["poisson"])
