"""bayescluster: Bayesian hierarchical models of innovation counts in industrial clusters."""

from bayescluster.errors import BayesclusterError, DataError, SpecError

__version__ = "0.1.0"
__all__ = ["BayesclusterError", "DataError", "SpecError", "__version__"]
