r"""The log density of the spec's priors at each posterior draw.

Power-scaling sensitivity (Kallioinen et al. 2024) perturbs the prior
:math:`p(\theta)` to :math:`p(\theta)^\alpha` and sees how far the posterior moves. The
prior scaled is the spec's: every ``[priors]`` entry and the cluster correlation's LKJ,
evaluated on each parameter's own scale (no Jacobian). Group effects' distributions given
their SDs are not scaled: they are the model's likelihood for the groups, as in brms's
``lprior`` and priorsense.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from bayescluster.model.priors import SCALED

if TYPE_CHECKING:
    from bayescluster.model.build import Built

LOG_PRIOR = "lprior"  # the run's log_prior group holds this one variable, as brms names it


def scaled_names(built: Built) -> list[str]:
    """The names of the model's free variables whose priors power-scaling scales.

    Parameters
    ----------
    built : Built
        The model.

    Returns
    -------
    list of str
        In the model's order.
    """
    return [rv.name for rv in built.model.free_RVs if getattr(rv.tag, SCALED, False)]


def log_prior(built: Built, posterior: xr.Dataset) -> xr.DataArray:
    r""":math:`\log p(\theta^{(s)})` of the scaled priors at every draw.

    Parameters
    ----------
    built : Built
        The model the draws came from.
    posterior : xarray.Dataset
        Its posterior draws (chain, draw, ...).

    Returns
    -------
    xarray.DataArray
        (chain, draw), float64.
    """
    import pytensor.tensor as pt
    from pymc.model.transform.conditioning import remove_value_transforms
    from pytensor.graph.replace import vectorize_graph
    from pytensor.graph.traversal import explicit_graph_inputs

    from bayescluster.model.build import post_function

    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    coords = {"chain": posterior["chain"], "draw": posterior["draw"]}
    names = scaled_names(built)
    if not names:
        return xr.DataArray(np.zeros((n_chain, n_draw)), dims=("chain", "draw"), coords=coords)
    model = remove_value_transforms(built.model)
    terms = model.logp(vars=[model[n] for n in names], jacobian=False, sum=False)
    total = sum(t.sum() for t in terms)
    used = set(explicit_graph_inputs([total]))
    inputs = [model.rvs_to_values[rv] for rv in model.free_RVs
              if model.rvs_to_values[rv] in used]
    batched = {v: pt.tensor(dtype=v.dtype, shape=(None, *v.type.shape)) for v in inputs}
    fn = post_function(list(batched.values()), vectorize_graph(total, batched))
    arrays = [np.asarray(posterior[v.name].values, dtype=v.dtype).reshape(
        (n_chain * n_draw, *posterior[v.name].shape[2:])) for v in inputs]
    values = np.asarray(fn(*arrays), dtype="float64").reshape(n_chain, n_draw)
    return xr.DataArray(values, dims=("chain", "draw"), coords=coords)


def log_prior_at(tree: xr.DataTree, built: Built, pairs: np.ndarray) -> np.ndarray:
    """The log prior at some draws.

    The run's stored ``log_prior``, or computed for a run written before it was stored.

    Parameters
    ----------
    tree : xarray.DataTree
        The run's draws.
    built : Built
        Its model.
    pairs : ndarray
        (draw, 2) the (chain, draw) pairs wanted.

    Returns
    -------
    ndarray
        (draw,) float64.
    """
    if "log_prior" in tree.children:
        values = tree["log_prior"].to_dataset()[LOG_PRIOR]
    else:
        values = log_prior(built, tree["posterior"].to_dataset())
    return np.asarray(values.values, dtype="float64")[pairs[:, 0], pairs[:, 1]]
