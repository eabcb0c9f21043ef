"""Fitting: NUTS by nutpie (default) or PyMC, approximate fits, prior predictive draws.

The likelihood is a ``pm.Potential`` (binary covariates are summed out), so the per-firm
log-likelihood and the posterior predictive draws are computed after sampling from the
model's own tensors (:func:`bayescluster.model.evaluate.predictive`).
"""

import sys
import time
import warnings

import numpy as np
import pymc as pm
import xarray as xr

from bayescluster.core.errors import BayesclusterError
from bayescluster.data.table import FirmData
from bayescluster.inference.run import Run, stamp
from bayescluster.model.build import Built, build, exact_arithmetic
from bayescluster.model.design import Design, make_design
from bayescluster.model.evaluate import predictive
from bayescluster.spec.parse import Spec
from bayescluster.spec.sampling import BACKENDS, SAMPLERS, sampling_settings


def _progress(message: str, quiet: bool) -> None:
    if not quiet:
        print(message, file=sys.stderr, flush=True)


def compile_nutpie(model: pm.Model, backend: str = "numba", refit: bool = False):
    """Nutpie's compiled model of ``model``.

    ``backend="jax"`` (the ``jax`` extra) runs the log-density and its gradient in JAX, on
    a GPU when JAX has one. The data are compiled in as constants (constant folding gives
    faster gradients and a cached compile for a repeated fit of the same data) unless
    ``refit``: then they stay inputs, so ``with_data`` refits new outcomes or weights
    without recompiling (SBC, leave-one-cluster-out). numba keeps its default
    optimisation: pytensor caches each compiled kernel on disk whatever level built it, so
    a faster unoptimised compile would slow every later fit (``reports/parameterisation.md``).
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
        return nutpie.compile_pymc_model(model, backend="jax", gradient_backend="jax")
    with exact_arithmetic():
        compiled = nutpie.compile_pymc_model(model, freeze_model=not refit)
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


def _sample(built: Built, sampler: str, chains: int, draws: int, tune: int, seed: int,
            target_accept: float, quiet: bool, timings: dict, compiled=None,
            approx_iterations: int = 10_000, backend: str = "numba") -> xr.DataTree:
    model = built.model
    if sampler == "nutpie":
        import nutpie

        t0 = time.perf_counter()
        if compiled is None:
            _progress(f"compiling the model ({backend}) ...", quiet)
            compiled = compile_nutpie(model, backend)
        timings["compile_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        sampler = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                                target_accept=target_accept, progress_bar=not quiet,
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
    if sampler == "advi":
        t0 = time.perf_counter()
        with model:
            approx = pm.fit(n=approx_iterations, method="advi", random_seed=seed,
                            progressbar=not quiet)
            tree = approx.sample(draws * chains, random_seed=seed)
        timings["sample_s"] = time.perf_counter() - t0
        return tree
    if sampler == "pathfinder":
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", category=DeprecationWarning)
                import pymc_extras as pmx
        except ImportError:
            raise BayesclusterError("sampler 'pathfinder' needs pymc-extras. Fix: run `make "
                                    "setup` (it installs pymc-extras) or use --sampler advi."
                                    ) from None
        t0 = time.perf_counter()
        with model, warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning,
                                    message=".*better_optimize.*")
            tree = pmx.fit(method="pathfinder", num_draws=draws * chains, random_seed=seed,
                           progressbar=not quiet)
        timings["sample_s"] = time.perf_counter() - t0
        return tree
    raise BayesclusterError(f"unknown sampler {sampler!r}. Valid names are: "
                            f"{', '.join(SAMPLERS)}.")


def _observed(design: Design, outcome: str) -> xr.Dataset:
    return xr.Dataset({outcome: ("firm", design.y)}, coords={"firm": design.firm_ids})


def fit(spec: Spec, data: FirmData, *, sampler: str = "nutpie", chains: int = 4,
        draws: int | None = None, tune: int | None = None, seed: int = 1,
        target_accept: float | None = None,
        prior_only: bool = False, quiet: bool = False, compiled=None,
        approx_iterations: int = 10_000, backend: str = "numba") -> Run:
    """Fit ``spec`` to validated ``data`` and return a :class:`Run` (not yet saved).

    ``prior_only`` draws from the prior and the prior predictive instead of sampling.
    ``compiled`` reuses a nutpie-compiled model of the same structure;
    ``approx_iterations`` is ADVI's number of iterations; ``backend`` what nutpie compiles
    the model with (``numba`` or ``jax``). ``draws``, ``tune`` and
    ``target_accept`` left as None come from the spec's [sampling], else 1000, 1000, 0.9.
    """
    chosen = sampling_settings(spec.sampling, draws=draws, tune=tune,
                               target_accept=target_accept)
    draws, tune, target_accept = chosen["draws"], chosen["tune"], chosen["target_accept"]
    if sampler not in SAMPLERS:
        raise BayesclusterError(f"unknown sampler {sampler!r}. Valid names are: "
                                f"{', '.join(SAMPLERS)}.")
    design = make_design(spec, data)
    if design.n_dropped:
        _progress(f"missing = \"drop\": {design.n_dropped} of "
                  f"{design.n_dropped + design.n_firms} firms dropped (listwise)", quiet)
    t0 = time.perf_counter()
    built = build(design)
    timings = {"build_s": time.perf_counter() - t0}
    with exact_arithmetic():
        tree = _draw(built, sampler, chains, draws, tune, seed, target_accept, prior_only,
                     quiet, timings, compiled, approx_iterations, backend)
    settings = {"sampler": sampler, "backend": backend, "chains": chains, "draws": draws,
                "tune": tune, "seed": seed, "target_accept": target_accept,
                "prior_only": prior_only}
    decisions = {**design.decisions, "parameterisation": built.parameterisation.to_record()}
    stamp(tree, spec, data, design, settings, timings, decisions)
    return Run(tree, spec, data, design, timings=timings)


def _draw(built: Built, sampler: str, chains: int, draws: int, tune: int, seed: int,
          target_accept: float, prior_only: bool, quiet: bool, timings: dict, compiled,
          approx_iterations: int, backend: str) -> xr.DataTree:
    """The run's tree before its stamp: prior draws, or posterior draws and predictions."""
    design, spec = built.design, built.design.spec
    outcome = spec.columns["outcome"]
    rng = np.random.default_rng(seed + 7919)
    if prior_only:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*Potential.*")
            with built.model:
                prior = pm.sample_prior_predictive(draws=draws, random_seed=seed)
        prior_ds = prior["prior"].to_dataset()
        _, y_rep = predictive(built, prior_ds, rng, want_loglik=False)
        tree = xr.DataTree.from_dict({
            "prior": prior_ds,
            "prior_predictive": xr.Dataset(
                {outcome: (("chain", "draw", "firm"), y_rep)},
                coords={**{k: prior_ds[k] for k in ("chain", "draw")},
                        "firm": design.firm_ids}),
            "observed_data": _observed(design, outcome),
        })
    else:
        groups = f"in {len(design.cluster_labels)} clusters" if spec.columns.get("cluster") \
            else "(single-level)"
        _progress(f"fitting {spec.name} ({spec.family}) on {design.n_firms} firms {groups} "
                  f"with {sampler}", quiet)
        tree = _sample(built, sampler, chains, draws, tune, seed, target_accept, quiet,
                       timings, compiled, approx_iterations, backend)
        post = tree["posterior"].to_dataset()
        _progress("log-likelihoods and predictive draws ...", quiet)
        t0 = time.perf_counter()
        loglik, y_rep = predictive(built, post, rng)
        timings["predictive_s"] = time.perf_counter() - t0
        dims, firm = ("chain", "draw", "firm"), {"firm": design.firm_ids}
        base = {k: post[k] for k in ("chain", "draw")}
        tree["log_likelihood"] = xr.DataTree(xr.Dataset({outcome: (dims, loglik)},
                                                        coords={**base, **firm}))
        tree["posterior_predictive"] = xr.DataTree(xr.Dataset({outcome: (dims, y_rep)},
                                                              coords={**base, **firm}))
        tree["observed_data"] = xr.DataTree(_observed(design, outcome))
    return tree

