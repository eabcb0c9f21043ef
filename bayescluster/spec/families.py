r"""Likelihood families, declared once: poisson, negbin (NB2), zinb, hurdle_nb.

A declaration says which parameters a family has; its log-likelihood, moments and sampler
live in :mod:`bayescluster.model.families`, which reads these declarations. Every family is
written in terms of the log mean :math:`\eta = \log\mu`, the NB2 dispersion :math:`\alpha`
(:math:`\mathrm{Var} = \mu + \alpha\mu^2`, Stata's and statsmodels' ``alpha``; PyMC's
``alpha`` is :math:`1/\alpha`) and the zero part's logit :math:`\zeta`, with
:math:`\pi = \mathrm{logit}^{-1}(\zeta)` = **P(zero)** everywhere the user sees it (PyMC's
``psi`` is :math:`1 - \pi`):

- poisson: :math:`y \sim \mathrm{Poisson}(\mu)`
- negbin: :math:`y \sim \mathrm{NB2}(\mu, \alpha)`
- zinb: :math:`y \sim \pi\,\delta_0 + (1-\pi)\,\mathrm{NB2}(\mu, \alpha)`
  (:math:`\pi` = P(structural zero))
- hurdle_nb: :math:`P(y=0) = \pi`, :math:`y \mid y>0 \sim` zero-truncated NB2
  (:math:`\pi` = P(zero))
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    r"""A count likelihood's declaration.

    Attributes
    ----------
    name : str
        The name a spec uses (``family = "zinb"``).
    dispersion : bool
        Whether it has the NB2 dispersion :math:`\alpha`.
    zero_part : bool
        Whether it has a zero part :math:`\pi` = P(zero) with its own linear predictor.
    zero_meaning : str
        What P(zero) means for this family, for reports.
    math : str
        The likelihood in plain text, for reports.
    """

    name: str
    dispersion: bool
    zero_part: bool
    zero_meaning: str = ""
    math: str = ""


DEFAULT_FAMILY = "zinb"  # a spec or formula that names no family

FAMILIES: dict[str, Family] = {
    "poisson": Family("poisson", dispersion=False, zero_part=False,
                      math="y_i ~ Poisson(μ_i)"),
    "negbin": Family("negbin", dispersion=True, zero_part=False,
                     math="y_i ~ NB2(μ_i, α),  Var(y_i) = μ_i + α μ_i²"),
    "zinb": Family("zinb", dispersion=True, zero_part=True,
                   zero_meaning="P(zero) = probability of a structural zero",
                   math="y_i ~ π_i δ₀ + (1 − π_i) NB2(μ_i, α)      π_i = P(structural zero)"),
    "hurdle_nb": Family("hurdle_nb", dispersion=True, zero_part=True,
                        zero_meaning="P(zero) = probability that the count is zero",
                        math="P(y_i = 0) = π_i,  y_i | y_i > 0 ~ zero-truncated NB2(μ_i, α)"),
}
