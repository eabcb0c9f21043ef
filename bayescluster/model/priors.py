"""Spec priors ``{dist = ..., params}`` as PyMC variables.

Two parameters may be ``"auto"``: an intercept's ``mu`` (the log of the mean count, less the
mean offset) and a slope's ``sigma``, ``AUTO_SCALE`` over its design column's standard
deviation (rstanarm's autoscaled ``normal(0, 2.5)``): a weakly informative prior on the
change per standard deviation, whatever unit the user's table measures a covariate in.
"""

import numpy as np
import pymc as pm

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


def prior(name: str, spec: dict, design: Design | None = None, *, shift=None, sds=None,
          **kwargs):
    """A PyMC variable from a spec prior ``{dist = ..., params}``.

    ``shift`` (a number or tensor) is added to a location prior's ``mu``; ``sds`` are the
    design columns' standard deviations an ``"auto"`` scale divides ``AUTO_SCALE`` by.
    """
    params = {k: v for k, v in spec.items() if k != "dist"}
    if params.get("mu") == "auto":
        params["mu"] = _auto_intercept(design)
    if params.get("sigma") == "auto":
        params["sigma"] = auto_scale(sds)
    if shift is not None:
        params["mu"] = params["mu"] + shift
    return DISTS[spec["dist"]](name, **params, **kwargs)


def has_location(spec: dict) -> bool:
    """Whether a spec prior has a location ``mu`` that a shift can move."""
    return "mu" in spec


def prior_dist(spec: dict, **kwargs):
    """The unnamed PyMC distribution of a spec prior (for ``pm.draw`` and ``sd_dist``)."""
    params = {k: v for k, v in spec.items() if k != "dist"}
    return DISTS[spec["dist"]].dist(**params, **kwargs)


def auto_scale(sds) -> np.ndarray:
    """``AUTO_SCALE`` over each column's SD (a constant column keeps ``AUTO_SCALE``)."""
    sds = np.asarray(sds, dtype=float)
    return AUTO_SCALE / np.where(sds > 0, sds, 1.0)


def _auto_intercept(design: Design) -> float:
    offset = 0.0 if design.offset is None else float(np.mean(design.offset))
    return float(np.log(design.y.mean() + 0.1) - offset)
