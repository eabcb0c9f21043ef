r"""A family's computations: its base distribution composed with its zero structure.

With :math:`f` the base's pmf, :math:`\pi = \mathrm{logit}^{-1}\zeta` = P(zero):

===========  =============================================  =============================
structure    :math:`p(0)`                                   :math:`p(y)`, :math:`y > 0`
===========  =============================================  =============================
none         :math:`f(0)`                                   :math:`f(y)`
zi           :math:`\pi + (1-\pi) f(0)`                     :math:`(1-\pi) f(y)`
hurdle       :math:`\pi`                                    :math:`(1-\pi) f(y)/(1-f(0))`
===========  =============================================  =============================

Written once here for every base; a base may compute all three itself in one fused op
(a ``fused`` base), as NB2 does.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytensor.tensor as pt

from bayescluster.model.families.base import Base
from bayescluster.model.families.common import positive_draw
from bayescluster.spec.families import Family


def _log1mexp(x):
    r""":math:`\log(1 - e^x)`, :math:`x < 0` (pytensor)."""
    return pt.switch(x > -np.log(2.0), pt.log(-pt.expm1(x)), pt.log1p(-pt.exp(x)))


@dataclass(frozen=True)
class Likelihood:
    """A family (its declaration) with its computations (its base's and its zero structure's).

    Every method takes the base's own parameter as ``theta`` (None for a base without one)
    and the zero part's P(zero) or logit as ``p_zero`` or ``zeta`` (None without a zero part).
    """

    family: Family
    base: Base

    @property
    def name(self) -> str:
        """The family's name."""
        return self.family.name

    @property
    def zero_part(self) -> bool:
        """Whether it has a zero part."""
        return self.family.zero_part

    @property
    def parameter(self) -> str | None:
        """The posterior variable of the base's own parameter, None if it has none."""
        return None if self.family.parameter is None else self.family.parameter.name

    def logp(self, y: pt.TensorVariable, eta: pt.TensorVariable,
             theta: pt.TensorVariable | None = None,
             zeta: pt.TensorVariable | None = None) -> pt.TensorVariable:
        r"""Elementwise log-probability of counts ``y`` (pytensor).

        ``zeta`` is per row, or a scalar for one zero-part logit shared by every row.

        Parameters
        ----------
        y : TensorVariable
            (row,) counts, as floats.
        eta : TensorVariable
            (row,) log mean :math:`\eta = \log\mu` of the count part (the
            Poisson-lognormal's log median rate).
        theta : TensorVariable or None
            The base's own parameter (scalar); None for a base without one.
        zeta : TensorVariable or None
            The zero part's logit :math:`\zeta` of P(zero), (row,) or a scalar; None
            without a zero part.

        Returns
        -------
        TensorVariable
            (row,) :math:`\log p(y)`.
        """
        zero = self.family.zero.name
        if self.base.fused:
            return self.base.row_logp(zero, y, eta, theta, zeta if self.zero_part else None)
        count = self.base.logp(y, eta, theta)
        if zero == "none":
            return count
        log_pz, log_pc = -pt.softplus(-zeta), -pt.softplus(zeta)
        is_zero = pt.eq(y, 0)
        if zero == "zi":
            return pt.switch(is_zero, pt.logaddexp(log_pz, log_pc + self.base.log_p0(eta, theta)),
                             log_pc + count)
        return pt.switch(is_zero, log_pz,
                         log_pc + count - _log1mexp(self.base.log_p0(eta, theta)))

    def glm_logp(self, **inputs: Any) -> pt.TensorVariable:
        """A whole regression's log-likelihood in one op (a ``fused`` base only).

        Parameters
        ----------
        **inputs : ndarray, TensorVariable or None
            :func:`~bayescluster.model.kernel.glm_logp`'s arguments after the zero
            structure, by name (``y``, ``weight``, ``X``, ``row_cluster``, ``zcols``,
            ``base``, ``coef``, ``group``, ``alpha``, ``zeta``, ``offset``).

        Returns
        -------
        TensorVariable
            Scalar: the weighted sum of the rows' log-likelihoods.
        """
        return self.base.glm_logp(self.family.zero.name, **inputs)

    def np_logp(self, y: np.ndarray, mu: np.ndarray | float,
                theta: np.ndarray | float | None = None,
                p_zero: np.ndarray | float | None = None) -> np.ndarray:
        r"""Elementwise log-probability in numpy, for checks and predictions.

        Parameters
        ----------
        y : ndarray
            Counts, broadcasting against ``mu``.
        mu : ndarray or float
            The base's mean :math:`e^\eta` (the Poisson-lognormal's median rate), any shape.
        theta : ndarray, float or None
            The base's own parameter, broadcasting against ``mu``; None for a base without
            one.
        p_zero : ndarray, float or None
            P(zero) :math:`\pi = \mathrm{logit}^{-1}\zeta`, broadcasting against ``mu``;
            None without a zero part.

        Returns
        -------
        ndarray
            :math:`\log p(y)`, the broadcast shape.
        """
        count = self.base.np_logp(y, mu, theta)
        zero = self.family.zero.name
        if zero == "none":
            return count
        if zero == "zi":
            p0 = self.base.np_p0(mu, theta)
            return np.where(y == 0, np.log(p_zero + (1 - p_zero) * p0), np.log1p(-p_zero) + count)
        with np.errstate(divide="ignore"):  # P(y > 0) = 0: every count above zero impossible
            log_positive = np.log(self.base.np_positive(mu, theta))
        return np.where(y == 0, np.log(p_zero), np.log1p(-p_zero) + count - log_positive)

    def mean(self, mu: np.ndarray | float, theta: np.ndarray | float | None = None,
             p_zero: np.ndarray | float | None = None) -> np.ndarray:
        r""":math:`E[y]`.

        Parameters
        ----------
        mu : ndarray or float
            The base's mean :math:`e^\eta` (the Poisson-lognormal's median rate), any shape.
        theta : ndarray, float or None
            The base's own parameter, broadcasting against ``mu``; None for a base without
            one.
        p_zero : ndarray, float or None
            P(zero) :math:`\pi = \mathrm{logit}^{-1}\zeta`, broadcasting against ``mu``;
            None without a zero part.

        Returns
        -------
        ndarray
            :math:`E[y]`, the broadcast shape.
        """
        mean = self.base.mean(mu, theta)
        zero = self.family.zero.name
        if zero == "none":
            return mean
        if zero == "zi":
            return (1 - p_zero) * mean
        positive = self.base.np_positive(mu, theta)
        # E[y | y > 0] -> 1 as P(y > 0) underflows to 0 (every base here has P(1) >> P(2))
        given = np.divide(mean, positive, out=np.ones(np.broadcast(mean, positive).shape),
                          where=positive > 0)
        return (1 - p_zero) * given

    def p_positive(self, mu: np.ndarray | float, theta: np.ndarray | float | None = None,
                   p_zero: np.ndarray | float | None = None) -> np.ndarray:
        r"""P(y >= 1): the extensive margin.

        Parameters
        ----------
        mu : ndarray or float
            The base's mean :math:`e^\eta` (the Poisson-lognormal's median rate), any shape.
        theta : ndarray, float or None
            The base's own parameter, broadcasting against ``mu``; None for a base without
            one.
        p_zero : ndarray, float or None
            P(zero) :math:`\pi = \mathrm{logit}^{-1}\zeta`, broadcasting against ``mu``;
            None without a zero part.

        Returns
        -------
        ndarray
            P(y >= 1), the broadcast shape.
        """
        zero = self.family.zero.name
        if zero == "hurdle":
            return 1 - p_zero
        positive = self.base.np_positive(mu, theta)
        return positive if zero == "none" else (1 - p_zero) * positive

    def sample(self, rng: np.random.Generator, mu: np.ndarray | float,
               theta: np.ndarray | float | None = None,
               p_zero: np.ndarray | float | None = None) -> np.ndarray:
        r"""Draw counts with the shapes of ``mu``.

        Parameters
        ----------
        rng : numpy.random.Generator
            The source of the draws.
        mu : ndarray or float
            The base's mean :math:`e^\eta` (the Poisson-lognormal's median rate), any shape.
        theta : ndarray, float or None
            The base's own parameter, broadcasting against ``mu``; None for a base without
            one.
        p_zero : ndarray, float or None
            P(zero) :math:`\pi = \mathrm{logit}^{-1}\zeta`, broadcasting against ``mu``;
            None without a zero part.

        Returns
        -------
        ndarray
            Counts, the shape of ``mu``.
        """
        mu = np.asarray(mu, dtype=float)
        zero = self.family.zero.name
        if zero == "none":
            return self.base.sample(rng, mu, theta)
        is_zero = rng.random(mu.shape) < p_zero
        if zero == "zi":
            return np.where(is_zero, 0, self.base.sample(rng, mu, theta))
        return np.where(is_zero, 0, positive_draw(self.base, rng, mu, theta)).astype(np.int64)
