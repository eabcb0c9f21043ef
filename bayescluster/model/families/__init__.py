"""The families' computations: one module per base distribution, the zero structures once.

:data:`~bayescluster.model.families.LIKELIHOODS` maps every family name of
:data:`bayescluster.spec.families.FAMILIES`
to its :class:`~bayescluster.model.families.likelihood.Likelihood`; a base distribution's
module is registered in :data:`BASES`.
"""

from bayescluster.model.families import genpois, nb1, negbin, pln, poisson
from bayescluster.model.families.common import MAX_RATE, expit
from bayescluster.model.families.likelihood import Likelihood
from bayescluster.spec.families import BASES as DECLARED
from bayescluster.spec.families import FAMILIES

BASES = {module.BASE.name: module.BASE for module in (poisson, negbin, nb1, genpois, pln)}
if set(BASES) != set(DECLARED):
    raise ImportError(f"base distributions declared {sorted(DECLARED)} but computed "
                      f"{sorted(BASES)}")

LIKELIHOODS: dict[str, Likelihood] = {
    name: Likelihood(family, BASES[family.base.name]) for name, family in FAMILIES.items()
}

__all__ = ["BASES", "LIKELIHOODS", "MAX_RATE", "Likelihood", "expit"]
