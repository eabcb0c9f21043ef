r"""PSIS-LOO made exact where it fails: refit without each firm whose Pareto k is too high.

PSIS-LOO (:func:`bayescluster.analysis.checks.loo`) is unreliable for a firm when the
Pareto shape :math:`\hat k_i` of its importance ratios exceeds 0.7. For at most
``limit`` such firms, :func:`exact_loo` refits the model without each one (its likelihood
weight set to zero, so the compiled model is reused) and replaces its pointwise estimate
by the exact one,

.. math::

    \widehat{\mathrm{elpd}}_i = \log \frac1S \sum_{s=1}^S p(y_i \mid \theta^{(s)}_{-i}),

with :math:`\theta^{(s)}_{-i}` drawn from the posterior without firm :math:`i`. This is
brms's ``reloo``; the bookkeeping is ArviZ's (:func:`arviz_stats.reloo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bayescluster.core.defaults import PARETO_K

if TYPE_CHECKING:
    from collections.abc import Callable

    from arviz_stats.utils import ELPDData

    from bayescluster.inference.run import Run

K_THRESHOLD = PARETO_K
LIMIT = 10  # most exact refits a report makes for one run; more: the CLI's loo --by-cluster


@dataclass
class Loo:
    """A run's LOO estimate and how it was made.

    ``elpd`` is arviz-stats' ELPDData. ``flagged`` counts the firms PSIS could not
    estimate (k > 0.7); ``refitted`` those refitted exactly. The estimate is ``reliable``
    when no firm is left flagged.
    """

    elpd: object
    flagged: int
    refitted: int

    @property
    def reliable(self) -> bool:
        """Whether every firm PSIS could not estimate was refitted."""
        return self.flagged == self.refitted


def _wrapper(run, chains: int, draws: int, tune: int, seed: int, progress):
    import xarray as xr
    from arviz_stats.loo.wrapper import SamplingWrapper

    from bayescluster.inference.refit import refit
    from bayescluster.model.evaluate import draws as evaluate

    design = run.design

    class Refits(SamplingWrapper):
        def sel_observations(self, idx):
            weights = np.ones(design.n_firms)
            weights[int(idx)] = 0.0
            return weights, int(idx)

        def sample(self, weights):
            firm = int(np.flatnonzero(weights == 0)[0])
            progress(f"exact LOO: refitting without {run.data.words.row} "
                     f"{design.firm_ids[firm]}")
            return refit(run.spec, run.data, seed=seed + firm, chains=chains, draws=draws,
                         tune=tune, weights=weights)

        def get_inference_data(self, fitted):
            return fitted

        def log_likelihood__i(self, firm, fitted):
            built, tree = fitted
            post = tree["posterior"].to_dataset()
            values = np.zeros((post.sizes["chain"], post.sizes["draw"]))
            for d in evaluate(built, post, np.random.default_rng(seed + firm)):
                values[d.chain, d.draw] = d.firm_loglik[firm]
            return xr.DataArray(values[..., None], dims=("chain", "draw", "firm"))

    return Refits(model=None, idata_orig=run.tree)


def exact_loo(run: Run, *, limit: int = LIMIT, chains: int = 2, draws: int | None = None,
              tune: int | None = None, seed: int = 0, threshold: float = K_THRESHOLD,
              psis: ELPDData | None = None, progress: Callable[[str], None] = print) -> Loo:
    """PSIS-LOO with exact refits for the firms PSIS cannot estimate, up to ``limit``.

    Parameters
    ----------
    run : Run
        A fitted run.
    limit : int
        Most firms to refit; with more flagged firms (or ``limit`` 0) the PSIS estimate is
        returned as it is, flagged as unreliable.
    chains : int
        Chains of each refit.
    draws : int, optional
        Draws per chain of each refit (default: the run's own).
    tune : int, optional
        Tuning steps per chain of each refit (default: the run's own).
    seed : int
        Firm ``i``'s refit uses ``seed + i``.
    threshold : float
        The Pareto k above which a firm is refitted.
    psis : ELPDData, optional
        The run's PSIS-LOO (pointwise), if already computed; its ``pareto_k`` decides
        which firms are refitted.
    progress : callable
        Called with one line before each refit.

    Returns
    -------
    Loo
        The estimate, with how many firms were flagged and refitted.
    """
    from arviz_stats import reloo as az_reloo

    from bayescluster.analysis.checks import loo

    first = loo(run) if psis is None else psis
    flagged = int((np.asarray(first.pareto_k.values) > threshold).sum())
    if flagged == 0 or flagged > limit:
        return Loo(first, flagged, 0)
    settings = run.settings
    draws = draws or settings.get("draws")
    tune = tune or settings.get("tune")
    wrapper = _wrapper(run, chains, draws, tune, seed, progress)
    elpd = az_reloo(wrapper, loo_orig=first, var_name=run.outcome, k_threshold=threshold,
                    pointwise=True)
    return Loo(elpd, flagged, flagged)
