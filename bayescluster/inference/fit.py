"""Fitting: NUTS by nutpie (default) or PyMC, prior predictive draws.

Approximate fits (ADVI, Pathfinder, a Laplace approximation) were measured against NUTS on
every case of the speed suite and are not offered (``reports/limit.md``;
:func:`~bayescluster.spec.sampling.sampler_refusal` says why to a caller who asks).

The likelihood is a ``pm.Potential`` (binary covariates are summed out), so the per-firm
log-likelihood and the posterior predictive draws are computed after sampling from the
model's own tensors (:func:`bayescluster.model.evaluate.predictive`).
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
import pymc as pm
import xarray as xr
from pymc.model.transform.optimization import freeze_dims_and_data
from pytensor.graph.basic import Constant
from pytensor.tensor.random.basic import NormalRV

from bayescluster.core.defaults import DEFAULT_SAMPLING
from bayescluster.core.errors import BayesclusterError, ConvergenceWarning
from bayescluster.data.table import FirmData
from bayescluster.inference.diagnostics import stored_gates
from bayescluster.inference.remedies import (
    ACCEPT_COST,
    Failure,
    cost,
    failed_message,
    next_remedy,
)
from bayescluster.inference.run import Run, record_decision, stamp, stored_counts, stored_loglik
from bayescluster.model.build import Built, build, exact_arithmetic
from bayescluster.model.design import Design, make_design
from bayescluster.model.evaluate import predictive
from bayescluster.model.prior_density import LOG_PRIOR, log_prior
from bayescluster.spec.parse import Spec, amend
from bayescluster.spec.sampling import (
    BACKENDS,
    MAX_ITERATIONS,
    MIN_SAMPLE,
    REMEDY_BUDGET,
    SAMPLERS,
    sampler_refusal,
    sampling_settings,
)

if TYPE_CHECKING:
    from nutpie.compile_pymc import CompiledPyMCModel


def _progress(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


JITTER = 1.0  # nutpie starts each chain at the prior's centre plus U(-JITTER, JITTER)


def jittered(model: pm.Model) -> set:
    """The free variables whose chains start jittered: all but tightly scaled coefficients.

    nutpie starts every chain at a variable's support point plus U(-1, 1) on the sampler's
    scale. A normal prior narrower than that (an autoscaled slope of a covariate measured in
    large units: 2.5 / SD) would start the chain several prior SDs out, where the counts'
    log mean is absurd (±1 per article times 77 mentor articles) and a chain can stay
    stuck; such a coefficient vector starts at its prior's centre instead.

    Parameters
    ----------
    model : pymc.Model
        The model.

    Returns
    -------
    set
        The free random variables to jitter.
    """
    keep = set()
    for rv in model.free_RVs:
        sigma = rv.owner.inputs[-1]
        if isinstance(rv.owner.op, NormalRV) and isinstance(sigma, Constant) \
                and float(np.min(sigma.data)) < JITTER:
            continue
        keep.add(rv)
    return keep


def compile_nutpie(model: pm.Model, backend: str = "numba", refit: bool = False
                   ) -> CompiledPyMCModel:
    """Nutpie's compiled model of ``model``.

    ``backend="jax"`` (the ``jax`` extra) runs the log-density and its gradient in JAX, on
    a GPU when JAX has one. The data are compiled in as constants (constant folding gives
    faster gradients and a cached compile for a repeated fit of the same data) unless
    ``refit``: then they stay inputs, so ``with_data`` refits new outcomes or weights
    without recompiling (SBC, leave-one-cluster-out). numba keeps its default
    optimisation: pytensor caches each compiled kernel on disk whatever level built it, so
    a faster unoptimised compile would slow every later fit (``reports/parameterisation.md``).

    Parameters
    ----------
    model : pymc.Model
        The model (:attr:`~bayescluster.model.build.Built.model`).
    backend : str
        ``"numba"`` or ``"jax"``.
    refit : bool
        Keep the shared data (outcome, weights, a selection model's treatment) as inputs,
        for ``with_data``; ignored with jax, which compiles them in.

    Returns
    -------
    CompiledPyMCModel
        What :func:`nutpie.sample` takes; with numba, compiled without fast-math
        (:func:`~bayescluster.model.build.exact_arithmetic`) and called once.

    Raises
    ------
    BayesclusterError
        For an unknown backend, or ``jax`` without JAX installed.
    """
    import nutpie

    if backend not in BACKENDS:
        raise BayesclusterError(f"unknown backend {backend!r}. Valid names are: "
                                f"{', '.join(BACKENDS)}.")
    if backend == "jax":
        try:
            import jax  # noqa: F401
        except ImportError:
            raise BayesclusterError("backend 'jax' needs JAX. Fix: pip install "
                                    "'bayescluster[jax]' (CPU) or a CUDA build of jax, or use "
                                    "--backend numba.") from None
        frozen = freeze_dims_and_data(model)
        return nutpie.compile_pymc_model(frozen, backend="jax", gradient_backend="jax",
                                         freeze_model=False, jitter_rvs=jittered(frozen))
    with exact_arithmetic():
        # frozen here, not by nutpie, so the jittered variables are the frozen model's own
        model = model if refit else freeze_dims_and_data(model)
        compiled = nutpie.compile_pymc_model(model, freeze_model=False,
                                             jitter_rvs=jittered(model))
        _first_call(compiled)
    return compiled


def _first_call(compiled) -> None:
    """Evaluate the compiled log-density and draw expansion once, at zero.

    numba finishes some kernels at their first call (pytensor's BLAS and special-function
    pointers are looked up through an object-mode block that is compiled then, ~0.5 s):
    done here, that work is counted as compiling rather than as the first fit's sampling.
    """
    import ctypes

    n, n_out = compiled.n_dim, compiled.n_expanded
    x, grad, out, logp = np.zeros(n), np.zeros(n), np.zeros(n_out), np.zeros(1)
    doubles = ctypes.POINTER(ctypes.c_double)
    user_data = ctypes.c_void_p(compiled.user_data.ctypes.data)
    compiled.compiled_logp_func.ctypes(n, x.ctypes.data_as(doubles),
                                       grad.ctypes.data_as(doubles),
                                       logp.ctypes.data_as(doubles), user_data)
    compiled.compiled_expand_func.ctypes(n, n_out, x.ctypes.data_as(doubles),
                                         out.ctypes.data_as(doubles), user_data)


def _finished(sampler) -> bool:
    try:
        return sampler.is_finished
    except TimeoutError:  # nutpie 0.16 raises this while its chains still run
        return False


def _collect(sampler, timings: dict, t0: float) -> xr.DataTree:
    """Wait for nutpie's chains, then convert their draws to a DataTree.

    ``sample_s`` is the chains' time, as PyMC's ``sampling_time``; ``collect_s`` the
    conversion (its first call in a process includes xarray importing its array backends,
    dask among them: ~0.7 s). An interrupt stops the chains and raises: a partial run is
    not a run.
    """
    try:
        while not _finished(sampler):
            time.sleep(0.002)
    except KeyboardInterrupt:
        sampler.cancel()
        raise
    timings["sample_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tree = sampler.wait()
    timings["collect_s"] = time.perf_counter() - t0
    return tree


def _sample(built: Built, settings: dict, *, quiet: bool, timings: dict, compiled=None
            ) -> xr.DataTree:
    """Posterior draws at ``settings``: sampler, chains, draws, tune, seed, target_accept."""
    model = built.model
    sampler, chains, draws, tune, seed, target_accept, backend = (
        settings[k] for k in ("sampler", "chains", "draws", "tune", "seed", "target_accept",
                              "backend"))
    if sampler == "nutpie":
        import nutpie

        if compiled is None:
            t0 = time.perf_counter()
            _progress(f"compiling the model ({backend}) ...", quiet)
            compiled = compile_nutpie(model, backend)
            timings["compile_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sampler = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                                target_accept=target_accept, progress_bar=not quiet,
                                adaptation=built.parameterisation.mass_matrix,
                                save_warmup=False, blocking=False)
        return _collect(sampler, timings, t0)
    if sampler == "pymc":
        t0 = time.perf_counter()
        with model:
            tree = pm.sample(draws=draws, tune=tune, chains=chains, random_seed=seed,
                             target_accept=target_accept, nuts_sampler="pymc",
                             progressbar=not quiet, compute_convergence_checks=False)
        timings["sample_s"] = time.perf_counter() - t0
        return tree
    raise BayesclusterError(sampler_refusal(sampler))


def _observed(design: Design, outcome: str) -> xr.Dataset:
    return xr.Dataset({outcome: ("firm", design.y)}, coords={"firm": design.firm_ids})


# what the command line's options accept (cli/common.py), checked again for a Python caller
SETTING_RANGES = {"chains": (1, 64), "draws": (1, MAX_ITERATIONS), "tune": (1, MAX_ITERATIONS),
                  "seed": (0, 2**32 - 1)}


def _check_settings(settings: dict) -> None:
    """An error naming the setting, its value and the range, before any work."""
    for key, (low, high) in SETTING_RANGES.items():
        value = settings[key]
        if isinstance(value, bool) or not isinstance(value, int | np.integer) \
                or not low <= value <= high:
            raise BayesclusterError(f"{key} must be a whole number from {low} to {high:,} "
                                    f"(got {value!r}). Fix: e.g. {key}="
                                    f"{DEFAULT_SAMPLING.get(key, 4 if key == 'chains' else 1)}.")
    accept = settings["target_accept"]
    if isinstance(accept, bool) or not isinstance(accept, int | float) \
            or not 0.5 <= accept < 1:
        raise BayesclusterError(f"target_accept must be a number in [0.5, 1) (got "
                                f"{accept!r}). Fix: e.g. target_accept="
                                f"{DEFAULT_SAMPLING['target_accept']}, or 0.99 for a model "
                                "that diverges.")


def fit(spec: Spec, data: FirmData, *, sampler: str = "nutpie", chains: int = 4,
        draws: int | None = None, tune: int | None = None, seed: int = 1,
        target_accept: float | None = None,
        prior_only: bool = False, quiet: bool = False,
        compiled: CompiledPyMCModel | None = None,
        backend: str = "numba", remedies: bool = True,
        remedy_budget: float = REMEDY_BUDGET) -> Run:
    """Fit ``spec`` to validated ``data``; the :class:`~bayescluster.inference.run.Run`.

    The run is not yet saved.

    Parameters
    ----------
    spec : Spec
        The model.
    data : FirmData
        The validated table.
    sampler : str
        ``nutpie`` (NUTS, the default) or ``pymc`` (NUTS).
    chains : int
        Chains.
    draws : int, optional
        Draws per chain; None takes the spec's ``[sampling]`` draws, else 1000.
    tune : int, optional
        Tuning steps per chain; None takes the spec's, else 1000.
    target_accept : float, optional
        NUTS' target acceptance rate; None takes the spec's, else 0.9.
    seed : int
        The sampler's seed: the same seed, data and spec give the same draws.
    prior_only : bool
        Draw from the prior and the prior predictive instead of sampling.
    quiet : bool
        No progress lines.
    compiled : CompiledPyMCModel, optional
        A nutpie-compiled model of the same structure (:func:`compile_nutpie`), reused;
        None compiles one.
    backend : str
        What nutpie compiles the model with: ``numba`` or ``jax``.
    remedies : bool
        When an MCMC fit of the default sample size or more fails its convergence gates,
        try the remedies of :mod:`bayescluster.inference.remedies` and keep the first
        attempt that passes (else the best), recording each in the run.
    remedy_budget : float
        The remedies' leapfrog steps, at most, as a multiple of the first attempt's.

    Returns
    -------
    Run
        Its ``tree.attrs["status"]`` is ``passed``, ``failed`` or ``prior``; a failed run
        also warns (:class:`~bayescluster.core.errors.ConvergenceWarning`) naming the gates,
        where they failed, what was tried and the fix.

    Raises
    ------
    BayesclusterError
        For an unknown sampler or settings the sampler cannot take.
    """
    chosen = sampling_settings(spec.sampling, draws=draws, tune=tune,
                               target_accept=target_accept)
    if sampler not in SAMPLERS:
        raise BayesclusterError(sampler_refusal(sampler))
    settings = {"sampler": sampler, "backend": backend, "chains": chains, **chosen,
                "seed": seed, "prior_only": prior_only}
    _check_settings(settings)
    design = make_design(spec, data)
    for note in design.notes:
        _progress(note, quiet)
    if design.n_dropped:
        w = data.words
        _progress(f"missing = \"drop\": {w.count(design.n_dropped)} of "
                  f"{design.n_dropped + design.n_firms:,} dropped (listwise)", quiet)
    run, compiled = _attempt(spec, data, design, settings, quiet=quiet, compiled=compiled)
    if remedies and not prior_only and chains * settings["draws"] >= MIN_SAMPLE and \
            run.tree.attrs["status"] == "failed":
        run = _remedy(run, compiled, settings, remedy_budget, quiet)
    if run.tree.attrs["status"] == "failed":
        warnings.warn(ConvergenceWarning(failed_message(run)), stacklevel=2)
    return run


def _attempt(spec: Spec, data: FirmData, design: Design, settings: dict, *, quiet: bool,
             compiled=None, parameterisation=None):
    """One fit at ``settings``: the run, and the compiled model (for a refit to reuse)."""
    t0 = time.perf_counter()
    built = build(design, parameterisation)
    timings = {"build_s": time.perf_counter() - t0}
    if settings["sampler"] == "nutpie" and not settings["prior_only"]:
        t0 = time.perf_counter()
        if compiled is None:
            _progress(f"compiling the model ({settings['backend']}) ...", quiet)
            compiled = compile_nutpie(built.model, settings["backend"])
        timings["compile_s"] = time.perf_counter() - t0
    with exact_arithmetic():
        tree = _draw(built, settings, quiet=quiet, timings=timings, compiled=compiled)
    decisions = {**design.decisions, "parameterisation": built.parameterisation.to_record(),
                 "words": asdict(data.words)}
    stamp(tree, spec, data, design, settings, timings, decisions)
    return Run(tree, spec, data, design, timings=timings), compiled


def _steps(run: Run) -> float:
    """Leapfrog steps per iteration and chain, over the saved draws."""
    stats = run.tree["sample_stats"]
    return float(stats["n_steps"].mean()) if "n_steps" in stats else 1.0


def _remedy(first: Run, compiled, settings: dict, budget: float, quiet: bool) -> Run:
    """Refit ``first`` with the remedies in turn, within ``budget``; keep the best run.

    See :mod:`bayescluster.inference.remedies`.
    """
    failure = Failure.from_table(stored_gates(first.tree))
    records, tried = [], set()
    best, best_failure, best_compiled, kept = first, failure, compiled, "the first fit"
    per_step = first.timings.get("sample_s", 0.0) / max(
        _steps(first) * settings["chains"] * (settings["tune"] + settings["draws"]), 1.0)
    allowed = budget * _steps(first) * settings["chains"] * (settings["tune"]
                                                             + settings["draws"])
    spent = 0.0
    while not best_failure.passed:
        remedy = next_remedy(best_failure, best.settings,
                             hierarchical=bool(best.design.varying),
                             centred=best.parameterisation.centred, tried=tried,
                             original_tune=settings["tune"])
        if remedy is None:
            break
        kind = next(k for k in ("parameterization", "target_accept", "tune", "draws")
                    if getattr(remedy, k) is not None)
        tried.add(kind)
        # a new parameterisation moves through a new geometry: start from the first fit's
        # steps per iteration, at the settings it keeps
        steps = _steps(best) if not remedy.parameterization else _steps(first) * (
            ACCEPT_COST if best.settings["target_accept"] > settings["target_accept"] else 1.0)
        estimate = cost(remedy, best.settings, steps, settings["chains"])
        if spent + estimate > allowed:
            records.append({"remedy": remedy.what, "passed": None,
                            "result": f"not tried: over the budget of {budget:g} times the "
                                      "first fit's steps"})
            continue
        _progress(f"the fit failed its convergence gates ({best_failure.text()}); trying "
                  f"{remedy.what} (about {estimate * per_step:.0f} s of sampling) ...", quiet)
        changed = {k: getattr(remedy, k) for k in ("target_accept", "tune", "draws")
                   if getattr(remedy, k) is not None}
        spec, design, reuse = best.spec, best.design, best_compiled
        if remedy.parameterization:
            spec = amend(best.spec, parameterization=remedy.parameterization)
            design = make_design(spec, best.data, levels=best.design.levels)
            reuse = None
        run, run_compiled = _attempt(spec, best.data, design, {**best.settings, **changed},
                                     quiet=quiet, compiled=reuse)
        spent += _steps(run) * settings["chains"] * (run.settings["tune"]
                                                     + run.settings["draws"])
        result = Failure.from_table(stored_gates(run.tree))
        records.append({"remedy": remedy.what, "passed": result.passed,
                        "result": "passed every gate" if result.passed else result.text()})
        if result.score < best_failure.score:
            best, best_failure, best_compiled, kept = run, result, run_compiled, remedy.what
    record_decision(best.tree, "remedies", {"first": failure.text(), "tried": records,
                                            "kept": kept})
    _progress(("the remedies worked: " if best_failure.passed else
               "the remedies did not make the fit pass; ") + f"kept {kept}", quiet)
    return best


def _draw(built: Built, settings: dict, *, quiet: bool, timings: dict, compiled
          ) -> xr.DataTree:
    """The run's tree before its stamp: prior draws, or posterior draws and predictions."""
    design, spec = built.design, built.design.spec
    draws, seed = settings["draws"], settings["seed"]
    outcome = spec.columns["outcome"]
    rng = np.random.default_rng(seed + 7919)
    if settings["prior_only"]:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Potential.*")
            with built.model:
                prior = pm.sample_prior_predictive(draws=draws, random_seed=seed)
        prior_ds = prior["prior"].to_dataset()
        _, y_rep = predictive(built, prior_ds, rng, want_loglik=False)
        tree = xr.DataTree.from_dict({
            "prior": prior_ds,
            "prior_predictive": xr.Dataset(
                {outcome: (("chain", "draw", "firm"), stored_counts(y_rep))},
                coords={**{k: prior_ds[k] for k in ("chain", "draw")},
                        "firm": design.firm_ids}),
            "observed_data": _observed(design, outcome),
        })
    else:
        w = built.design.words
        groups = f"in {w.count(len(design.cluster_labels), 'groups')}" \
            if spec.columns.get("cluster") else "(single-level)"
        _progress(f"fitting {spec.name} ({spec.family}) on {w.count(design.n_firms)} {groups} "
                  f"with {settings['sampler']}", quiet)
        tree = _sample(built, settings, quiet=quiet, timings=timings, compiled=compiled)
        post = tree["posterior"].to_dataset()
        _progress("log-likelihoods and predictive draws ...", quiet)
        t0 = time.perf_counter()
        loglik, y_rep = predictive(built, post, rng)
        timings["predictive_s"] = time.perf_counter() - t0
        dims, firm = ("chain", "draw", "firm"), {"firm": design.firm_ids}
        base = {k: post[k] for k in ("chain", "draw")}
        coords = {**base, **firm}
        tree["log_likelihood"] = xr.DataTree(xr.Dataset(
            {outcome: (dims, stored_loglik(loglik))}, coords=coords))
        tree["log_prior"] = xr.DataTree(xr.Dataset({LOG_PRIOR: log_prior(built, post)}))
        tree["posterior_predictive"] = xr.DataTree(xr.Dataset(
            {outcome: (dims, stored_counts(y_rep))}, coords=coords))
        tree["observed_data"] = xr.DataTree(_observed(design, outcome))
    return tree

