"""bayescluster: Bayesian hierarchical models of innovation counts in industrial clusters."""

from bayescluster.core.errors import BayesclusterError, DataError, RunError, SpecError

__version__ = "0.1.0"
__all__ = ["BayesclusterError", "DataError", "RunError", "SpecError", "__version__"]
