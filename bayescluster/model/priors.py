"""Spec priors ``{dist = ..., params}`` as PyMC variables.

Two parameters may be ``"auto"``: an intercept's ``mu`` (the log of the mean count, less the
mean offset) and a slope's ``sigma``, ``AUTO_SCALE`` over its design column's standard
deviation (rstanarm's autoscaled ``normal(0, 2.5)``): a weakly informative prior on the
change per standard deviation, whatever unit the user's table measures a covariate in.
"""

from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayescluster.model.design import Design

DISTS = {
    "normal": pm.Normal,
    "halfnormal": pm.HalfNormal,
    "exponential": pm.Exponential,
    "student_t": pm.StudentT,
    "halfstudent_t": pm.HalfStudentT,
    "gamma": pm.Gamma,
    "beta": pm.Beta,
}


AUTO_SCALE = 2.5


def prior(name: str, spec: dict, design: Design | None = None, *,
          shift: float | pt.TensorVariable | None = None, sds: np.ndarray | None = None,
          **kwargs: Any) -> pt.TensorVariable:
    """A PyMC variable from a spec prior ``{dist = ..., params}``.

    ``shift`` (a number or tensor) is added to a location prior's ``mu``; ``sds`` are the
    design columns' standard deviations an ``"auto"`` scale divides ``AUTO_SCALE`` by.

    Parameters
    ----------
    name : str
        The variable's name in the model.
    spec : dict
        The prior as ``[priors]`` holds it, ``{"dist": "normal", "mu": 0.0, ...}``; ``mu``
        and ``sigma`` may be ``"auto"``.
    design : Design or None
        The design an ``"auto"`` ``mu`` is read from (log mean count less the mean
        offset); None when ``mu`` is not ``"auto"``.
    shift : float, TensorVariable or None
        Added to ``mu`` (on the variable's own scale); None for no shift.
    sds : ndarray or None
        (column,) the design columns' standard deviations, for an ``"auto"`` ``sigma``;
        None when ``sigma`` is not ``"auto"``.
    **kwargs : Any
        Passed to the PyMC distribution (``dims``, ``shape``).

    Returns
    -------
    TensorVariable
        The free random variable, registered in the model of the context.
    """
    params = {k: v for k, v in spec.items() if k != "dist"}
    if params.get("mu") == "auto":
        params["mu"] = _auto_intercept(design)
    if params.get("sigma") == "auto":
        params["sigma"] = auto_scale(sds)
    if shift is not None:
        params["mu"] = params["mu"] + shift
    return scaled(DISTS[spec["dist"]](name, **params, **kwargs))


SCALED = "power_scaled"  # the tag of a prior that power-scaling sensitivity scales


def scaled(rv: pt.TensorVariable) -> pt.TensorVariable:
    """Mark ``rv`` as one of the priors power-scaling scales.

    A spec prior is scaled; a group effect's distribution is not: it is part of the
    model's likelihood for its groups.

    Parameters
    ----------
    rv : TensorVariable
        A free random variable of the model.

    Returns
    -------
    TensorVariable
        ``rv``, tagged.
    """
    setattr(rv.tag, SCALED, True)
    return rv


def has_location(spec: dict) -> bool:
    """Whether a spec prior has a location ``mu`` that a shift can move.

    Parameters
    ----------
    spec : dict
        The prior as ``[priors]`` holds it.

    Returns
    -------
    bool
        True for a prior with ``mu`` (normal, Student-t).
    """
    return "mu" in spec


def prior_dist(spec: dict, **kwargs: Any) -> pt.TensorVariable:
    """The unnamed PyMC distribution of a spec prior (for ``pm.draw`` and ``sd_dist``).

    Parameters
    ----------
    spec : dict
        The prior as ``[priors]`` holds it, without ``"auto"`` parameters.
    **kwargs : Any
        Passed to the distribution's ``.dist`` (``shape``).

    Returns
    -------
    TensorVariable
        The distribution's random variable, outside any model.
    """
    params = {k: v for k, v in spec.items() if k != "dist"}
    return DISTS[spec["dist"]].dist(**params, **kwargs)


def auto_scale(sds: np.ndarray) -> np.ndarray:
    """``AUTO_SCALE`` over each column's SD (a constant column keeps ``AUTO_SCALE``).

    Parameters
    ----------
    sds : ndarray
        (column,) the design columns' standard deviations
        (:func:`~bayescluster.model.design.column_sds`).

    Returns
    -------
    ndarray
        (column,) each slope prior's ``sigma``.
    """
    sds = np.asarray(sds, dtype=float)
    return AUTO_SCALE / np.where(sds > 0, sds, 1.0)


def _auto_intercept(design: Design) -> float:
    offset = 0.0 if design.offset is None else float(np.mean(design.offset))
    return float(np.log(design.y.mean() + 0.1) - offset)
