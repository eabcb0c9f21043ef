"""Model specs: TOML files validated into a :class:`Spec`; the family declarations."""

from bayescluster.spec.families import FAMILIES, Family
from bayescluster.spec.parse import Spec, Term, load_spec, parse_spec, resolve

__all__ = ["FAMILIES", "Family", "Spec", "Term", "load_spec", "parse_spec", "resolve"]
