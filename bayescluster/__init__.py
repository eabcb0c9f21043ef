"""bayescluster: Bayesian hierarchical models of innovation counts in industrial clusters.

The front door (:mod:`bayescluster.api`) is loaded on first use, so ``import bayescluster``
stays light::

    import bayescluster as bc
    run = bc.fit("zinb_hier", "data/firms.csv", seed=1)
    bc.parameters(run)
"""

from importlib import import_module

from bayescluster.core.errors import (
    BayesclusterError,
    ConvergenceWarning,
    DataError,
    RunError,
    SpecError,
)

__version__ = "0.1.0"
FRONT_DOOR = "bayescluster.api"
# names that are also sub-packages (spec, data, report...) are not front-door names: the
# sub-package would shadow them
_FRONT = ("Run", "average_marginal_effects", "compare_models", "contrast", "fit",
          "fixed_effects", "formula_spec", "group_effects", "group_totals", "load_run",
          "load_spec", "loco", "loo", "parameters", "ppc_statistics", "predict", "predict_draws",
          "profile_predictions", "ranks", "report", "rootogram", "sbc", "sensitivity",
          "shrinkage", "table")
__all__ = ["BayesclusterError", "ConvergenceWarning", "DataError", "RunError", "SpecError",
           "__version__", *_FRONT]


def __getattr__(name: str):
    if name in _FRONT:
        return getattr(import_module(FRONT_DOOR), name)
    raise AttributeError(f"module 'bayescluster' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
