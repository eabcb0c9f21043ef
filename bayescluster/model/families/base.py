r"""What a base distribution's module provides, and the defaults it may keep.

A base distribution of the count has mean :math:`\mu = e^\eta` (the Poisson-lognormal's
median rate) and at most one parameter :math:`\theta` of its own; its module holds

- ``logp(y, eta, theta)`` and ``log_p0(eta, theta)``: :math:`\log f(y)` and
  :math:`\log f(0)` in pytensor,
- ``np_logp(y, mu, theta)`` and ``np_p0(mu, theta)``: the same in numpy (and
  ``np_positive``, :math:`1 - f(0)`),
- ``mean(mu, theta)``: :math:`E[y]`,
- ``sample(rng, mu, theta)``: draws; ``invert(u, mu, theta)``: its quantile function,
- ``information(mu, mean, var)``: the Fisher information about :math:`\eta` of one row
  with mean :math:`\mu`, :math:`\mu^2/\mathrm{Var}(y)`, its parameter estimated by moments
  from a sample's mean and variance (what the parameterisation's choice reads).

The zero structures (:mod:`bayescluster.model.families.likelihood`) are written once
in terms of these. A base that computes every zero structure's log-likelihood and gradient
in one op (NB2's numba kernel) says ``fused`` and provides ``row_logp(zero, y, eta, theta,
zeta)`` and ``glm_logp(zero, **inputs)``, a whole regression's.
"""

from dataclasses import dataclass

import numpy as np

from bayescluster.model.families.common import invert_by_sum
from bayescluster.spec.families import BaseDistribution


@dataclass(frozen=True)
class Base:
    """A base distribution's computations, beside its declaration (``spec``)."""

    spec: BaseDistribution
    fused = False  # True: it has ``row_logp(zero, y, eta, theta, zeta)`` and ``glm_logp``

    @property
    def name(self) -> str:
        """The base distribution's name."""
        return self.spec.name

    def np_positive(self, mu: np.ndarray | float,
                    theta: np.ndarray | float | None) -> np.ndarray:
        r""":math:`1 - f(0)` (a base may compute it more accurately).

        Parameters
        ----------
        mu : ndarray or float
            The base's mean :math:`e^\eta` (the Poisson-lognormal's median rate), any shape.
        theta : ndarray, float or None
            The base's own parameter, broadcasting against ``mu``; None for a base without
            one.

        Returns
        -------
        ndarray
            P(y >= 1) under the base, the broadcast shape.
        """
        return 1 - self.np_p0(mu, theta)

    def invert(self, u: np.ndarray, mu: np.ndarray, theta: np.ndarray | None) -> np.ndarray:
        r"""The quantile function at ``u``: by summing the pmf (a base may do better).

        Parameters
        ----------
        u : ndarray
            (n,) probabilities in [0, 1).
        mu : ndarray
            (n,) the base's mean :math:`e^\eta` (the Poisson-lognormal's median rate).
        theta : ndarray or None
            (n,) the base's own parameter; None for a base without one.

        Returns
        -------
        ndarray
            (n,) the smallest counts :math:`k` with :math:`F(k) \ge u`.
        """
        return invert_by_sum(self.np_logp, np.asarray(u), np.asarray(mu),
                             None if theta is None else np.asarray(theta))
