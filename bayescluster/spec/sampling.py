"""Sampler names and the sampling settings a spec or a command line may set."""

from bayescluster.core.defaults import DEFAULT_SAMPLING

SAMPLERS = ("nutpie", "pymc", "advi", "pathfinder")
MCMC = ("nutpie", "pymc")
BACKENDS = ("numba", "jax")  # what nutpie compiles the log-density with
MAX_ITERATIONS = 1_000_000  # draws or tuning steps a chain, in a spec or on the command line
MIN_SAMPLE = 4000  # draws over all chains (4 x 1000) at which a fit's remedies run
REMEDY_BUDGET = 10.0  # the remedies' leapfrog steps, in multiples of the first fit's


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
