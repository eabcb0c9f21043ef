"""Sampler names and the sampling settings a spec or a command line may set."""

from bayescluster.core.defaults import DEFAULT_SAMPLING

SAMPLERS = ("nutpie", "pymc")  # NUTS by nutpie (the default) or by PyMC
# approximate fits measured against NUTS on the speed suite (reports/limit.md) and withdrawn
WITHDRAWN = {"advi": "ADVI", "pathfinder": "Pathfinder"}
BACKENDS = ("numba", "jax")  # what nutpie compiles the log-density with
MAX_ITERATIONS = 1_000_000  # draws or tuning steps a chain, in a spec or on the command line
MIN_SAMPLE = 4000  # draws over all chains (4 x 1000) at which a fit's remedies run
REMEDY_BUDGET = 10.0  # the remedies' leapfrog steps, in multiples of the first fit's


def sampler_refusal(name: str) -> str:
    """Why ``name`` is not a sampler this package offers, and the fix.

    Parameters
    ----------
    name : str
        The sampler asked for.

    Returns
    -------
    str
        For a withdrawn approximate fit, what its measurement found; else the valid names.
    """
    if name in WITHDRAWN:
        return (f"sampler {name!r} is no longer offered: measured against NUTS on every "
                f"case of the speed suite (reports/limit.md), {WITHDRAWN[name]} missed "
                "NUTS's posterior means by several posterior SDs on the grouped models, took "
                "under half of NUTS's time (its compiling counted) on at most one case, and "
                "nothing in its output says how far off it is. Fix: use the default "
                "sampler, nutpie (NUTS: --sampler nutpie, or sampler=\"nutpie\").")
    return f"unknown sampler {name!r}. Valid names are: {', '.join(SAMPLERS)}."


def sampling_settings(spec_sampling: dict, **given: int | float | None) -> dict:
    """The draws, tune and target_accept to use.

    Parameters
    ----------
    spec_sampling : dict
        The spec's ``[sampling]`` table.
    **given : int, float or None
        ``draws``, ``tune``, ``target_accept`` set by the caller; None means unset.

    Returns
    -------
    dict
        The caller's value where set, else the spec's, else
        :data:`~bayescluster.core.defaults.DEFAULT_SAMPLING`.
    """
    chosen = {**DEFAULT_SAMPLING, **spec_sampling}
    return {k: chosen[k] if given.get(k) is None else given[k] for k in DEFAULT_SAMPLING}
