"""Speed against peers: bayescluster, bambi and brms fit the same model to the same data.

The model is the default hierarchical ZINB: 8 fixed effects and an intercept on
standardised covariates (Table 4, model 3), an intercept and a participation slope varying
by domain and by cluster within domain, one zero-inflation probability. The data are
:func:`bayescluster.study.simulate.simulate` at each N, complete (peers cannot impute). Every
(system, N) runs in its own subprocess with a time limit, one after another, so no two
fits share the two cores; a fit over the limit is reported as such, not dropped.

    .venv/bin/python benchmarks/bench.py                      # N = 229, 2,290, 10,700
    .venv/bin/python benchmarks/bench.py --n 100000 --systems bayescluster pathfinder

Writes ``reports/benchmarks.md``, ``reports/benchmarks.csv`` and
``reports/benchmarks_cost.png``; rows of an earlier run at other N are kept (``--fresh``
starts over), so the large-N runs can be added separately.

ESS is the minimum bulk ESS (rank-normalised, Vehtari et al. 2021; arviz-stats for the
Python systems, the posterior package for brms) over the parameters every system shares:
intercept, the 8 fixed effects, dispersion, zero-inflation, and the four group SDs.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
PEERS = ("bambi", "brms", "bambi_nutpie")
# bayescluster with one choice changed, to measure what each choice buys
VARIANTS = ("noncentred", "O0", "coldcache", "jax", "lowrank", "ta95", "flow", "symbolic",
            "rows", "fused")
# variants run with an empty pytensor/numba compile cache: a first fit on a new machine
COLD_CACHE = ("O0", "coldcache")
# (a "pathfinder" system ran bayescluster's Pathfinder fit until reports/limit.md withdrew
# it; its rows in benchmarks_runs.csv are still reported)
SYSTEMS = ("bayescluster", *PEERS, *(f"bayescluster_{v}" for v in VARIANTS))
FIXED = ["participant", "scale", "rd", "projects", "national", "jointrd", "sameregion",
         "participant:national:sameregion"]
FORMULA_FIXED = ("participant + scale_z + rd_z + projects_z + national + jointrd + "
                 "sameregion + participant:national:sameregion")
GROUPS = "(1 + participant | domain) + (1 + participant | domain:cluster)"
LARGE_N = 100_000


def table(n: int, seed: int) -> pd.DataFrame:
    """The simulated firms with the peers' covariates standardised as bayescluster does."""
    from bayescluster.study.simulate import simulate

    frame = simulate(n, seed=seed, missing=False).data
    for name, values in (("scale_z", np.log(frame["scale"].astype(float))),
                         ("rd_z", frame["rd"].astype(float)),
                         ("projects_z", frame["projects"].astype(float))):
        frame[name] = (values - values.mean()) / values.std(ddof=0)
    for name in ("projects", "national", "jointrd", "sameregion"):
        frame[name] = frame[name].astype(int)
    from bayescluster.study import registry

    domains = registry.cluster_domains()
    frame["domain"] = frame["cluster"].map(domains)
    return frame


def _summary(ds, names: list[str]) -> dict:
    import arviz_stats as azs

    sub = ds[names]
    ess = azs.ess(sub, method="bulk")
    rhat = azs.rhat(sub)
    return {"min_ess": min(float(ess[v].min()) for v in ess.data_vars),
            "max_rhat": max(float(rhat[v].max()) for v in rhat.data_vars)}


def symbolic_logp(self, y, eta, alpha=None, zeta=None):
    """The negative-binomial families written as pytensor expressions, differentiated by
    pytensor (what ``bayescluster.model.kernel`` replaced): the ``symbolic`` variant."""
    import pytensor.tensor as pt

    if self.name == "poisson":
        return y * eta - pt.exp(eta) - pt.gammaln(y + 1.0)
    n = 1.0 / alpha
    log_n = pt.log(n)
    log_n_mu = log_n + pt.softplus(eta - log_n)
    log_p0 = n * (log_n - log_n_mu)
    nb = (pt.gammaln(y + n) - pt.gammaln(n) - pt.gammaln(y + 1.0) + log_p0
          + y * (eta - log_n_mu))
    if self.name == "negbin":
        return nb
    log_pz, log_pc = -pt.softplus(-zeta), -pt.softplus(zeta)
    if self.name == "zinb":
        return pt.switch(pt.eq(y, 0), pt.log(pt.sigmoid(zeta) + pt.exp(log_pc + log_p0)),
                         log_pc + nb)
    return pt.switch(pt.eq(y, 0), log_pz, log_pc + nb - pt.log1mexp(log_p0))


def run_bayescluster(frame, chains, draws, tune, seed, sampler="nutpie",
                     variant: str | None = None) -> dict:
    """The package as shipped, or with one ``variant``: ``noncentred`` (every cluster and
    domain non-centred), ``O0`` (numba at LLVM -O0 while compiling), ``coldcache`` (as
    shipped), both
    from an empty compile cache (see ``measure``), ``jax`` (nutpie's JAX backend),
    ``lowrank`` (nutpie's low-rank modified mass matrix), ``ta95`` (target_accept 0.95, the
    default until 2026-12-01, instead of the shipped 0.9, the peers' setting), ``flow``
    (nutpie's normalising-flow adaptation, trained during tuning; JAX backend, needs
    ``flowjax``), ``symbolic`` (the likelihood as pytensor expressions with pytensor's
    gradient instead of the fused kernel), ``rows`` and ``fused`` (the sampled likelihood as
    the row kernel's log-likelihoods summed by pytensor after a linear predictor of pytensor
    ops, or as ``glm_logp``'s single pass, at every N instead of from
    ``model.FUSED_FROM_ROWS`` rows)."""
    import functools

    import nutpie

    from bayescluster.inference import fit as fitting
    from bayescluster.spec import load_spec, parse_spec
    from bayescluster.study.firms import validate

    spec = load_spec("zinb_hier")
    backend = "numba"
    if variant == "noncentred":
        spec = parse_spec(spec.text.replace('"auto"', '"noncentered"'))
    elif variant == "O0":
        from numba.core import config

        compile_nutpie = fitting.compile_nutpie

        def at_o0(*args, **kwargs):
            before, config.OPT = config.OPT, config._OptLevel(0)
            try:
                return compile_nutpie(*args, **kwargs)
            finally:
                config.OPT = before

        fitting.compile_nutpie = at_o0
    elif variant == "jax":
        backend = "jax"
    elif variant == "lowrank":
        nutpie.sample = functools.partial(nutpie.sample, low_rank_modified_mass_matrix=True)
    elif variant == "flow":  # the flow needs the log-density in JAX
        import jax

        jax.config.update("jax_enable_x64", True)
        backend = "jax"
        compile_nutpie = fitting.compile_nutpie
        fitting.compile_nutpie = lambda *a, **k: compile_nutpie(*a, **k).with_transform_adapt()
        nutpie.sample = functools.partial(nutpie.sample, adaptation="flow")
    elif variant in ("symbolic", "rows"):
        from bayescluster.model import build as model
        from bayescluster.model.families import Likelihood

        model.FUSED_FROM_ROWS = np.inf
        if variant == "symbolic":
            Likelihood.logp = symbolic_logp
    elif variant == "fused":
        from bayescluster.model import build as model

        model.FUSED_FROM_ROWS = 0
    target_accept = 0.95 if variant == "ta95" else None  # None: the shipped 0.9
    data = validate(frame.drop(columns=["scale_z", "rd_z", "projects_z"]), spec.roles)
    t0 = time.perf_counter()
    run = fitting.fit(spec, data, sampler=sampler, chains=chains, draws=draws, tune=tune,
                      seed=seed, quiet=True, backend=backend, target_accept=target_accept)
    total = time.perf_counter() - t0
    post = run.posterior
    t = run.timings
    row = {"build_s": t["build_s"], "compile_s": t.get("compile_s", 0.0),
           "sample_s": t["sample_s"], "collect_s": t.get("collect_s", np.nan),
           "predictive_s": t.get("predictive_s", np.nan),
           "wall_s": total}
    names = ["intercept", "beta", "dispersion", "zero_intercept", "sd_domain", "sd_cluster"]
    return {**row, **_summary(post, names),
            "divergences": int(run.tree["sample_stats"]["diverging"].sum()),
            "centred_clusters": int(run.parameterisation.centred.sum()),
            "participant": float(post["beta"].sel(coef="participant").mean())}


def run_bambi(frame, chains, draws, tune, seed, sampler="pymc") -> dict:
    import bambi as bmb

    mu = float(np.log(frame["pat"].mean() + 0.1))
    group_sd = bmb.Prior("Gamma", alpha=2.0, beta=5.0)
    priors = {
        "Intercept": bmb.Prior("Normal", mu=mu, sigma=2.5),
        "common": bmb.Prior("Normal", mu=0.0, sigma=1.0),
        "alpha": bmb.Prior("HalfNormal", sigma=1.0),
        "psi": bmb.Prior("Beta", alpha=2.0, beta=2.0),
        **{f"{term}|{group}": bmb.Prior("Normal", mu=0.0, sigma=group_sd)
           for term in ("1", "participant") for group in ("domain", "domain:cluster")},
    }
    t0 = time.perf_counter()
    model = bmb.Model(f"pat ~ {FORMULA_FIXED} + {GROUPS}", frame, priors=priors,
                      family="zero_inflated_negativebinomial", noncentered=True)
    model.build()
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    if sampler == "nutpie":  # bambi's own PyMC model, compiled and sampled by nutpie
        import nutpie

        compiled = nutpie.compile_pymc_model(model.backend.model)
        compile_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        tree = nutpie.sample(compiled, draws=draws, tune=tune, chains=chains, seed=seed,
                             target_accept=0.9, progress_bar=False)
        sample_s = time.perf_counter() - t0
        fit_s = compile_s + sample_s
    else:
        tree = model.fit(draws=draws, tune=tune, chains=chains, cores=2, random_seed=seed,
                         inference_method="pymc", target_accept=0.9, progressbar=False,
                         compute_convergence_checks=False)
        fit_s = time.perf_counter() - t0
        # PyMC records its sampling time; the rest of fit() is compiling and start-up
        sample_s = float(tree["sample_stats"].attrs["sampling_time"])
    post = tree["posterior"].to_dataset()
    names = ["Intercept", *[v for v in post.data_vars if v.endswith("_sigma")], "alpha", "psi",
             *[v for v in post.data_vars if v.split("[")[0] in
               {"participant", "scale_z", "rd_z", "projects_z", "national", "jointrd",
                "sameregion", "participant:national:sameregion"}]]
    return {"build_s": build_s, "compile_s": fit_s - sample_s, "sample_s": sample_s,
            "wall_s": build_s + fit_s, **_summary(post, names),
            "divergences": int(tree["sample_stats"]["diverging"].sum()),
            "participant": float(post["participant"].mean())}


BRMS_SCRIPT = r"""
suppressMessages({library(brms); library(posterior); library(jsonlite)})
rstan::rstan_options(boost_lib = "/usr/include")
args <- commandArgs(trailingOnly = TRUE)
frame <- read.csv(args[1])
chains <- as.integer(args[3]); draws <- as.integer(args[4]); tune <- as.integer(args[5])
seed <- as.integer(args[6])
mu <- log(mean(frame$pat) + 0.1)
priors <- c(prior_string(sprintf("normal(%f, 2.5)", mu), class = "Intercept"),
            prior(normal(0, 1), class = "b"), prior(gamma(2, 5), class = "sd"),
            prior(lkj(2), class = "cor"), prior(normal(0, 1), class = "shape"),
            prior(beta(2, 2), class = "zi"))
f <- bf(as.formula(paste("pat ~", args[7], "+", args[8])))
t0 <- Sys.time()
fit0 <- brm(f, data = frame, family = zero_inflated_negbinomial(), prior = priors,
            chains = 0, seed = seed, silent = 2, refresh = 0)
compile_s <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
t0 <- Sys.time()
fit <- update(fit0, recompile = FALSE, chains = chains, iter = draws + tune, warmup = tune,
              cores = 2, seed = seed, control = list(adapt_delta = 0.9), refresh = 0,
              silent = 2)
sample_s <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
d <- as_draws_array(fit)
keep <- grep("^(b_|sd_|shape$|zi$)", variables(d), value = TRUE)
s <- summarise_draws(subset_draws(d, variable = keep), "ess_bulk", "rhat")
np <- nuts_params(fit)
out <- list(build_s = 0, compile_s = compile_s, sample_s = sample_s,
            wall_s = compile_s + sample_s, min_ess = min(s$ess_bulk), max_rhat = max(s$rhat),
            divergences = sum(np$Value[np$Parameter == "divergent__"]),
            participant = mean(d[, , "b_participant"]))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), args[2])
"""


def run_brms(frame, chains, draws, tune, seed) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        csv, out, script = (Path(tmp) / name for name in ("data.csv", "out.json", "fit.R"))
        frame.to_csv(csv, index=False)
        script.write_text(BRMS_SCRIPT)
        subprocess.run(["Rscript", str(script), str(csv), str(out), str(chains), str(draws),
                        str(tune), str(seed), FORMULA_FIXED, GROUPS], check=True)
        return json.loads(out.read_text())


def one(system: str, n: int, chains: int, draws: int, tune: int, seed: int) -> dict:
    frame = table(n, seed=2001)
    if system == "bayescluster":
        return run_bayescluster(frame, chains, draws, tune, seed)
    if system.startswith("bayescluster_"):
        return run_bayescluster(frame, chains, draws, tune, seed,
                                variant=system.removeprefix("bayescluster_"))
    if system == "bambi":
        return run_bambi(frame, chains, draws, tune, seed)
    if system == "bambi_nutpie":
        return run_bambi(frame, chains, draws, tune, seed, sampler="nutpie")
    if system == "brms":
        return run_brms(frame, chains, draws, tune, seed)
    raise ValueError(system)


def available(system: str) -> str | None:
    """None if the system can run here, else why not."""
    if system == "brms":
        probe = subprocess.run(["Rscript", "-e", "library(brms)"], capture_output=True) \
            if _which("Rscript") else None
        return None if probe is not None and probe.returncode == 0 else \
            "R with brms is not installed (Debian: apt-get install r-cran-brms)"
    from importlib.util import find_spec

    needs = {"bambi": "bambi", "bambi_nutpie": "bambi", "bayescluster_flow": "flowjax"}
    if system in needs and find_spec(needs[system]) is None:
        return (f"{needs[system]} is not installed here (bambi needs formulae 0.6: the suite, "
                "benchmarks/suite.py, runs it in .venv-bambi)" if needs[system] == "bambi"
                else f"{needs[system]} is not installed (pip install -e '.[bench]')")
    return None


def _which(name: str) -> bool:
    from shutil import which

    return which(name) is not None


def measure(system, n, chains, draws, tune, seed, limit) -> dict:
    """Run one (system, N) in a fresh subprocess with a time limit."""
    base = {"system": system, "n": n, "chains": chains, "draws": draws, "tune": tune}
    why = available(system)
    if why:
        return {**base, "status": f"not run: {why}"}
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = Path(f.name)
    cmd = [sys.executable, __file__, "--one", system, "--n", str(n), "--chains", str(chains),
           "--draws", str(draws), "--tune", str(tune), "--seed", str(seed), "--into", str(out)]
    env = None
    if system.removeprefix("bayescluster_") in COLD_CACHE:
        cache = tempfile.mkdtemp(prefix="bench-cache-")
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache}"}
    t0 = time.perf_counter()
    # its own process group, so a timeout also stops R's and PyMC's chain processes
    proc = subprocess.Popen(cmd, start_new_session=True, env=env)
    try:
        code = proc.wait(timeout=limit)
        row = {**base, **json.loads(out.read_text()), "status": "ok"} if code == 0 else \
            {**base, "status": f"failed (exit {code})"}
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        row = {**base, "status": f"did not finish in {limit:.0f} s"}
    finally:
        out.unlink(missing_ok=True)
        if env is not None:
            shutil.rmtree(cache, ignore_errors=True)
    row["process_s"] = time.perf_counter() - t0
    row["measured"] = time.strftime("%Y-%m-%d %H:%M")
    print(f"{system} N={n}: {row.get('status')} "
          f"{', '.join(f'{k}={v:.3g}' for k, v in row.items() if isinstance(v, float))}",
          flush=True)
    return row


def median_runs(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (system, N): of repeated runs, the one with the median min-ESS per
    sampling second (a run, not a blend of runs), with the number of runs and the range;
    a failed run is reported as such."""
    rows = rows.assign(ess_per_s=rows.get("min_ess", np.nan) / rows.get("sample_s", np.nan))
    out = []
    for _, group in rows.groupby(["n", "system"], sort=False):
        failed = group[group["status"] != "ok"]
        if not failed.empty or len(group) == 1:
            row = (failed if not failed.empty else group).iloc[0].copy()
        else:
            ordered = group.sort_values("ess_per_s", na_position="first")
            row = ordered.iloc[(len(ordered) - 1) // 2].copy()
            if ordered["ess_per_s"].notna().all():
                row["ess_per_s_range"] = (f"{ordered['ess_per_s'].min():.3g}-"
                                          f"{ordered['ess_per_s'].max():.3g}")
            if "divergences" in group and group["divergences"].notna().all():
                row["divergences_runs"] = " ".join(f"{d:.0f}" for d in group["divergences"])
        row["runs"] = len(group)
        out.append(row)
    return pd.DataFrame(out).drop(columns="ess_per_s").reset_index(drop=True)


def ratios(rows: pd.DataFrame) -> pd.DataFrame:
    """bayescluster's min-ESS/s and cold time against each peer at each N."""
    ok = rows[rows["status"] == "ok"].set_index(["n", "system"])
    out = []
    for n in sorted(rows["n"].unique()):
        if (n, "bayescluster") not in ok.index:
            continue
        us = ok.loc[(n, "bayescluster")]
        for peer in ("brms", "bambi", "bambi_nutpie"):
            if (n, peer) not in ok.index:
                continue
            them = ok.loc[(n, peer)]
            out.append({"n": n, "peer": peer,
                        "ess_per_s_ratio": us["ess_per_s"] / them["ess_per_s"],
                        "cold_time_ratio": us["cold_s"] / them["cold_s"],
                        "measured": us.get("measured", np.nan),
                        "peer_measured": them.get("measured", np.nan)})
    return pd.DataFrame(out)


def targets(rows: pd.DataFrame) -> pd.DataFrame:
    """The issue's targets, each with what this run measured and whether it is met."""
    ok = rows[rows["status"] == "ok"].set_index(["n", "system"])
    rat = ratios(rows).set_index(["n", "peer"])
    out = []

    def add(target, value, met):
        out.append({"target": target, "measured": value, "met": met})

    def ratio(n, peer, column):
        return rat.loc[(n, peer), column] if (n, peer) in rat.index else np.nan

    for n, peer, column, goal, what in (
            (229, "brms", "ess_per_s_ratio", 5, "min-ESS/s >= 5x"),
            (229, "bambi", "ess_per_s_ratio", 10, "min-ESS/s >= 10x"),
            (10700, "brms", "ess_per_s_ratio", 10, "min-ESS/s >= 10x"),
            (229, "brms", "cold_time_ratio", 0.5, "cold time <= 0.5x")):
        r = ratio(n, peer, column)
        met = r >= goal if column == "ess_per_s_ratio" else r <= goal
        status = rows[(rows["n"] == n) & (rows["system"] == peer)]["status"]
        why = (status.iloc[0] if len(status) else "not run") if np.isnan(r) else f"{r:.2f}x"
        add(f"N={n}: {what} {peer}", why, bool(met) if not np.isnan(r) else "not measured")
    for n in (229, 10700):
        if (n, "bayescluster") in ok.index:
            row = ok.loc[(n, "bayescluster")]
            runs = row.get("divergences_runs")
            if isinstance(runs, str):  # every run counts, not only the median one
                add(f"N={n}: zero divergences", f"{runs} (each run)",
                    all(d == "0" for d in runs.split()))
            else:
                add(f"N={n}: zero divergences", f"{row['divergences']:.0f}",
                    bool(row["divergences"] == 0))
            gates = row["max_rhat"] <= 1.01 and row["min_ess"] >= 400
            add(f"N={n}: gates (R-hat <= 1.01, bulk ESS >= 400)",
                f"R-hat {row['max_rhat']:.3f}, ESS {row['min_ess']:.0f}", bool(gates))
    for system, what, limit in (("bayescluster", "full NUTS fit", None),
                                ("pathfinder", "approximate fit (Pathfinder, since withdrawn)",
                                 600.0)):
        row = rows[(rows["n"] == LARGE_N) & (rows["system"] == system)]
        if row.empty:
            add(f"N={LARGE_N:,}: {what} finishes", "not run", "not measured")
            continue
        row = row.iloc[0]
        done = row["status"] == "ok"
        took = f"{row['wall_s'] / 60:.1f} min" if done else row["status"]
        add(f"N={LARGE_N:,}: {what} finishes" + (f" in <= {limit / 60:.0f} min" if limit
                                                  else ""),
            took, bool(done and (limit is None or row["wall_s"] <= limit)))
    ours = rows[(rows["system"] == "bayescluster") & (rows["status"] == "ok")].sort_values("n")
    cost = (ours["sample_s"] / ours["min_ess"]).to_numpy()
    small = (ours["n"] < LARGE_N).to_numpy()  # the same chains and draws at every N
    if small.sum() > 1:
        n = ours["n"].to_numpy()
        slope = np.polyfit(np.log(n[small]), np.log(cost[small]), 1)[0]
        add(f"cost per effective draw no worse than linear in N "
            f"(N = {n[small].min():,} to {n[small].max():,})", f"slope {slope:.2f}",
            bool(slope <= 1.05))
        if not small.all():  # the large N against the linear extrapolation from the largest
            last = np.flatnonzero(small)[-1]
            excess = cost[-1] / (cost[last] * n[-1] / n[last])
            days = ours["measured"].fillna("").astype(str).str[:10].to_numpy()
            value, met = f"{excess:.2f}x linear", bool(excess <= 1.05)
            if days[-1] != days[last]:  # another session's code and machine speed
                value += f" (rows measured {days[last] or '?'} and {days[-1] or '?'})"
                met = "not comparable"
            add(f"N={LARGE_N:,}: cost per effective draw no worse than linear from "
                f"N={n[last]:,}", value, met)
    return pd.DataFrame(out)


def choices(rows: pd.DataFrame) -> pd.DataFrame:
    """Each variant against the shipped bayescluster at the same N, chains, draws and tuning
    (a variant run with other settings is left out: its ESS is not comparable)."""
    ok = rows[rows["status"] == "ok"].set_index(["n", "system"])
    out = []
    for (n, system), row in ok.iterrows():
        if not system.startswith("bayescluster_") or (n, "bayescluster") not in ok.index:
            continue
        base = ok.loc[(n, "bayescluster")]
        if any(row[k] != base[k] for k in ("chains", "draws", "tune")):
            continue
        out.append({"n": n, "variant": system.removeprefix("bayescluster_"),
                    "compile_s": row["compile_s"], "shipped_compile_s": base["compile_s"],
                    "min_ess": row["min_ess"], "shipped_min_ess": base["min_ess"],
                    "ess_per_s_ratio": row["ess_per_s"] / base["ess_per_s"],
                    "divergences": row["divergences"],
                    "shipped_divergences": base["divergences"]})
    return pd.DataFrame(out)


def cost_plot(rows: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayescluster.analysis.plots import save

    ok = rows[(rows["status"] == "ok") & rows["min_ess"].notna()]
    fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
    for system, group in ok.groupby("system"):
        group = group.sort_values("n")
        ax.plot(group["n"], group["sample_s"] / group["min_ess"] * 1000, "o-", label=system)
    ns = np.array(sorted(ok["n"].unique()), dtype=float)
    if len(ns) > 1:
        ref = ok[ok["system"] == "bayescluster"].sort_values("n")
        if not ref.empty:
            c0 = float(ref["sample_s"].iloc[0] / ref["min_ess"].iloc[0] * 1000)
            ax.plot(ns, c0 * ns / ns[0], "k:", lw=0.8, label="linear in N")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("firms N")
    ax.set_ylabel("sampling seconds per 1,000 effective draws")
    ax.legend(fontsize=8)
    save(fig, path)


def _fmt(value, digits=3):
    if isinstance(value, float):
        if np.isnan(value):
            return ""
        return f"{value:,.{digits}g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def _table(frame: pd.DataFrame) -> str:
    from bayescluster.reporting.document import markdown_table

    shown = frame.map(_fmt).reset_index(drop=True)
    return markdown_table(shown)


def _took(row) -> str:
    """'brms took 38 minutes for 600 iterations a chain (12 divergences)', from its row."""
    its = f"{row['draws'] + row['tune']:.0f} iterations a chain"
    if row["status"] != "ok":
        return f"{row['system']}, {its}: {row['status']}"
    return (f"{row['system']} took {row['sample_s'] / 60:.0f} minutes for {its} "
            f"({row['divergences']:.0f} divergences)")


def write_report(rows: pd.DataFrame, machine: str, out: Path = REPORTS) -> None:
    from bayescluster.core.atomic import atomic_path, write_text

    rows = rows.copy()
    cold = [c for c in ("build_s", "compile_s", "sample_s", "collect_s") if c in rows]
    rows["cold_s"] = rows[cold].sum(axis=1, min_count=1)
    rows["ess_per_s"] = rows["min_ess"] / rows["sample_s"]
    rows = rows.sort_values(["n", "system"]).reset_index(drop=True)
    with atomic_path(out / "benchmarks.csv") as tmp:
        rows.to_csv(tmp, index=False)
    cost_plot(rows, out / "benchmarks_cost.png")
    columns = ["n", "system", "chains", "draws", "tune", "build_s", "compile_s", "sample_s",
               "collect_s", "cold_s", "min_ess", "ess_per_s", "runs", "ess_per_s_range",
               "divergences", "divergences_runs", "max_rhat", "status", "measured"]
    body = _table(rows.reindex(columns=columns))
    rat = ratios(rows).rename(columns={"ess_per_s_ratio": "min-ESS/s: bayescluster ÷ peer",
                                       "cold_time_ratio": "cold time: bayescluster ÷ peer"})
    ratio_md = _table(rat) if not rat.empty else "(no peer ran)"
    goals = _table(targets(rows))
    var = choices(rows)
    choice_md = _table(var) if not var.empty else "(no variants run)"
    large = rows[rows["n"] == LARGE_N].reindex(
        columns=["system", "chains", "draws", "tune", "compile_s", "sample_s", "predictive_s",
                 "wall_s", "min_ess", "divergences", "max_rhat", "participant", "status"])
    large_md = _table(large) if not large.empty else "(not run)"
    peers_at_10700 = "; ".join(_took(row) for _, row in rows[
        (rows["n"] == 10700) & rows["system"].isin(["brms", "bambi"])].iterrows()) or "not run"
    text = f"""# Benchmarks: bayescluster against bambi and brms

Generated by `make bench` (`benchmarks/bench.py`) on {machine}. One process per (system, N),
run one after another. Same data (`simulate(N, seed=2001, missing=False)`), same model:
hierarchical ZINB, intercept and participation slope varying by domain and by cluster in
domain, 8 fixed effects + intercept, one zero-inflation probability. Every system samples
with target_accept 0.9 (bayescluster's default since 2026-12-01 16:50; before, its 0.95 traded
speed for fewer divergences, which the partially centred domain level, since 16:00, made
unnecessary). Since 2026-12-01 19:40 the domain level's centring follows the domain SD
(`w = r/(1 + r)` at the current SD, not at its prior mean): at 10,700 firms the fixed
w diverged in 2 of 5 seeds.
Differences the peers force: bambi's group effects are uncorrelated and its domain effects
are plain normals (bayescluster: LKJ-correlated cluster effects, zero-sum domain effects);
brms has correlated effects at both levels. Zero-inflation priors differ (bambi and brms:
Beta(2, 2) on the probability; bayescluster: N(-1.5, 1.5) on its logit).

*sample_s* is the chains' time: PyMC's own `sampling_time` for bambi (building its step
methods, starting its processes and converting the draws to a DataTree fall in bambi's
*compile_s*), rstan's sampling call for brms, and for bayescluster since 2026-11-23 21:15
nutpie's chains, with converting their draws to a DataTree in *collect_s* (before, in
*sample_s*; the first conversion in a process includes xarray importing dask, ~0.7 s).
*cold_s* = build + compile + sample + collect (the pytensor C cache on disk is warm, as for
any user after the first fit). *min_ess* = minimum bulk ESS over intercept, fixed effects,
dispersion, zero-inflation and the group SDs. *ess_per_s* = min_ess / sampling seconds.
`bambi_nutpie` is bambi's own model sampled by nutpie, to separate our model formulation
from the sampler. `pathfinder` was bayescluster's approximate fit (no ESS; its time only),
withdrawn since (`reports/limit.md`); its rows are from before.
At N <= 1,000 each system runs `--repeats` times (default 3, seeds 1, 2, ..., interleaved
across systems) and the row is the run with the median *ess_per_s*; *ess_per_s_range*
spans the *runs* (timings vary between processes) and *divergences_runs* lists every run's
divergences in seed order (each run is in `benchmarks_runs.csv`). *measured*: when the row
was run. Absolute times on this shared virtual machine drift by up to 2x from one session
to another, so compare rows with nearby *measured* times. Since 2026-11-23 12:00
bayescluster compiles a single fit's data into the model as constants (refits that swap
data keep them as inputs); since 15:30 the negative-binomial families' log-likelihood and
its gradient run as one numba kernel (`bayescluster/nbkernel.py`); since 2026-11-23 18:30
the first call of the compiled log-density (numba's lazily compiled pointer lookups, ~0.5 s)
is counted in *compile_s*, not *sample_s*, and from 20,000 rows of complete data the kernel
also computes the linear predictor and accumulates the gradient in the same pass
(`glm_logp`); rows with an earlier or no date predate these.

{body}

## Targets

{goals}

## Ratios (same machine)

*measured* and *peer_measured* say when each side ran: rows run by one `bench.py` call
have times minutes apart; a blank predates the timestamps.

{ratio_md}

## Large N: {LARGE_N:,} firms

`bench.py --n {LARGE_N} --systems bayescluster --chains 4 --draws 1000 --tune 1000` (as at
small N, so the cost per effective draw compares with 10,700's) and `--systems pathfinder
bayescluster_rows --chains 2 --draws 500 --tune 500` (the `rows` variant; the shipped
2 x 500 run of the same call is in `benchmarks_runs.csv`): bayescluster alone. The peers
are not run at this N;
at 10,700 firms: {peers_at_10700}.
*wall_s* includes building the model, compiling, sampling and computing every firm's
log-likelihood and replicated outcome for each draw; *participant* is the posterior mean
of the participation effect, to compare the approximate fit with NUTS.

{large_md}

## What each choice buys

The shipped package against itself with one choice changed: `noncentred` (every cluster and,
since 2026-12-01 16:00, the domain level non-centred, instead of `auto`'s choice per cluster
and partially centred domains: at N=229, where no cluster is centred, the ratio measures
what the domain level's partial centring buys), `O0` (numba at LLVM -O0 while nutpie
compiles, as bayescluster did until 2026-11-22), `coldcache` (as shipped), `jax` (nutpie's
JAX backend), `lowrank` (nutpie's low-rank modified mass matrix), `ta95` (target_accept
0.95, the default until 2026-12-01, instead of 0.9: longer trajectories, fewer divergences
where the geometry is hard), `flow` (nutpie's normalising-flow adaptation, a flow trained
during tuning for hard geometry; it needs the JAX backend), `symbolic` (the negative-
binomial likelihood as pytensor expressions differentiated by pytensor, as before
`bayescluster/nbkernel.py`: the same density, so the ratio is the kernel's speed-up of the
whole fit), `rows` and `fused` (the sampled likelihood at every N as the row kernel's log-
likelihoods summed by pytensor after a linear predictor of pytensor ops, or as `glm_logp`,
which computes the linear predictor, the likelihood and its gradient in one pass over the
rows and reads each row's data once; shipped: `glm_logp` from 20,000 rows,
`model.FUSED_FROM_ROWS`). `O0` and `coldcache` start from an empty pytensor/numba compile
cache, as a first fit on a new machine does: their compile time is a first fit's, and since
pytensor caches each kernel at whatever level built it, `O0`'s sampling speed is what every
later fit would get. Where a variant fits the same model with the same draws as the shipped
package (`coldcache`; `noncentred` at N=229 before 2026-12-01), the ESS/s ratio measures
only timing noise between processes. Variant rows are single runs measured when their row
says: compare them with the shipped row of the same time.

{choice_md}

## Cost against N

![cost against N](benchmarks_cost.png)

Sampling seconds per 1,000 effective draws, log-log; the dotted line is linear growth from
bayescluster's smallest N.
"""
    write_text(out / "benchmarks.md", text)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, nargs="+", default=[229, 2290, 10700])
    p.add_argument("--systems", nargs="+", choices=SYSTEMS,
                   default=["bayescluster", "bambi", "brms", "bambi_nutpie"])
    p.add_argument("--chains", type=int, default=4)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--peer-draws-above", type=int, default=5000,
                   help="above this N, peers run --peer-draws draws and tuning steps")
    p.add_argument("--peer-draws", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeats", type=int, default=3,
                   help="runs per (system, N) at N <= --repeat-up-to, seeds seed, seed+1, ...")
    p.add_argument("--repeat-up-to", type=int, default=1000)
    p.add_argument("--limit", type=float, default=3600, help="seconds per fit")
    p.add_argument("--fresh", action="store_true", help="drop rows of earlier runs")
    p.add_argument("--out", type=Path, default=REPORTS)
    p.add_argument("--report-only", action="store_true",
                   help="rewrite the report from benchmarks.csv without fitting")
    p.add_argument("--one", choices=SYSTEMS, help=argparse.SUPPRESS)
    p.add_argument("--into", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        warnings.filterwarnings("ignore")
        row = one(args.one, args.n[0], args.chains, args.draws, args.tune, args.seed)
        args.into.write_text(json.dumps({k: (float(v) if isinstance(v, (int, float, np.number))
                                             else v) for k, v in row.items()}))
        return 0
    machine = f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"
    if args.report_only:
        write_report(pd.read_csv(args.out / "benchmarks.csv"), machine, args.out)
        return 0
    rows = []
    for n in args.n:
        # repeats interleaved (every system once, then again): drift hits all alike
        for r in range(args.repeats if n <= args.repeat_up_to else 1):
            for system in args.systems:
                draws = tune = None
                if system in PEERS and n > args.peer_draws_above:
                    draws = tune = args.peer_draws
                rows.append(measure(system, n, args.chains, draws or args.draws,
                                    tune or args.tune, args.seed + r, args.limit))
    every = pd.DataFrame(rows)
    log = args.out / "benchmarks_runs.csv"  # every run, the median ones and the others
    every.to_csv(log, mode="a", header=not log.exists(), index=False)
    new = median_runs(every)
    old = args.out / "benchmarks.csv"
    if old.exists() and not args.fresh:
        kept = pd.read_csv(old)
        kept = kept[~kept.set_index(["system", "n"]).index.isin(
            new.set_index(["system", "n"]).index)]
        new = pd.concat([kept.drop(columns=["cold_s", "ess_per_s"], errors="ignore"), new],
                        ignore_index=True)
    write_report(new, machine, args.out)
    print(f"written: {args.out / 'benchmarks.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
