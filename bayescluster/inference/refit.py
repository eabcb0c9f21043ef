"""Refits of one compiled model to new shared data.

SBC (new outcomes, and a selection model's new treatment) and leave-one-cluster-out (a
cluster's likelihood weights at zero) use this one refit.

A process keeps the built and nutpie-compiled model of the last (spec, data) it saw, with
the data as inputs, so refits that change only the outcome, the firms' weights or the
treatment cost one compile per process (per Dask worker). The sampler settings are the
spec's ``[sampling]`` unless the caller sets them.
"""

import numpy as np
import xarray as xr

from bayescluster.data.table import FirmData
from bayescluster.inference.fit import compile_nutpie
from bayescluster.inference.run import data_hash
from bayescluster.model.build import FIRM_WEIGHT, TREATMENT_DATA, Y_DATA, Built, build
from bayescluster.model.design import make_design
from bayescluster.spec.parse import Spec
from bayescluster.spec.sampling import sampling_settings

_COMPILED: dict = {}  # this process: (spec hash, data hash) -> (built, compiled model)


def compiled(spec: Spec, data: FirmData) -> tuple[Built, object]:
    """Build and compile ``spec`` on ``data`` once per process; return the cached pair.

    Parameters
    ----------
    spec : Spec
        The model.
    data : FirmData
        The validated table; the cache holds the last (spec, data) pair only.

    Returns
    -------
    built : Built
        The model (its design and evaluator).
    compiled : object
        nutpie's compiled model, with the outcome, firm weights and treatment as data.
    """
    key = (spec.hash, data_hash(data.frame))
    if key not in _COMPILED:
        built = build(make_design(spec, data))
        _COMPILED.clear()
        _COMPILED[key] = (built, compile_nutpie(built.model, refit=True))
    return _COMPILED[key]


def refit(spec: Spec, data: FirmData, *, seed: int, chains: int = 2, draws: int | None = None,
          tune: int | None = None, target_accept: float | None = None,
          outcome: np.ndarray | None = None, weights: np.ndarray | None = None,
          treatment: np.ndarray | None = None) -> tuple[Built, xr.DataTree]:
    """Sample ``spec`` on ``data`` again with a new outcome, weights or treatment.

    Parameters
    ----------
    spec : Spec
        The model the compiled model was built from.
    data : FirmData
        The firm table it was built from.
    seed : int
        The sampler's seed.
    chains : int
        Chains, run one after another in this process.
    draws : int, optional
        Draws per chain; None takes the spec's ``[sampling]``, else the default.
    tune : int, optional
        Tuning steps per chain; None as for ``draws``.
    target_accept : float, optional
        The sampler's target acceptance rate; None as for ``draws``.
    outcome : ndarray, optional
        (firm,) counts replacing the observed outcome.
    weights : ndarray, optional
        (firm,) likelihood weights (0 holds a firm out).
    treatment : ndarray, optional
        (firm,) 0/1 replacing a selection model's observed treatment.

    Returns
    -------
    built : Built
        The model (its design and evaluator).
    tree : xarray.DataTree
        nutpie's draws.
    """
    import nutpie

    built, model = compiled(spec, data)
    design = built.design
    shared = {}
    if outcome is not None:
        shared[Y_DATA] = np.asarray(outcome, dtype="float64")[design.row_firm]
    if weights is not None:
        shared[FIRM_WEIGHT] = np.asarray(weights, dtype="float64")
    if treatment is not None:
        shared[TREATMENT_DATA] = np.asarray(treatment, dtype="float64")
    if shared:
        model = model.with_data(**shared)
    chosen = sampling_settings(spec.sampling, draws=draws, tune=tune,
                               target_accept=target_accept)
    tree = nutpie.sample(model, draws=chosen["draws"], tune=chosen["tune"], chains=chains,
                         seed=seed, progress_bar=False, cores=1,
                         target_accept=chosen["target_accept"],
                         adaptation=built.parameterisation.mass_matrix)
    return built, tree
