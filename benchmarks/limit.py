"""Where the remaining factor lives: every case's ESS per second decomposed, the first answer
a user waits for, and the approximate fits against NUTS.

Three studies, each written to ``reports/limit/<study>.csv`` and together to
``reports/limit.md`` (worst case first):

``geometry``
    For every case of the speed suite (``benchmarks/suite.py``, the peers' priors) and of
    the corpus (``benchmarks/corpus_tables.py``, the defaults): min-ESS per second =
    (min bulk ESS per gradient) / (seconds per gradient). *ESS per gradient* is the minimum
    bulk ESS over every sampled parameter (group effects included) over the leapfrog steps
    of the kept draws (nutpie's ``n_steps``); its *ideal* is nutpie's on an independent
    standard normal of the same dimension at the same settings, what a perfect
    reparameterisation would reach. *Seconds per gradient* is core-seconds (the chains'
    wall time times the cores they ran on) over every leapfrog step, tuning included; for
    the suite's cases brms's (Stan's ``n_leapfrog__`` and its per-chain times) is beside
    it. Each case is sampled at nutpie's default adaptation and, with the same compiled
    model, at each lever of ``--adaptations`` (``low_rank``: a low-rank modified mass
    matrix; ``draw_diag``: Stan's diagonal from the draws alone).
``first``
    The first answer: ``bayescluster fit`` from a fresh process, wall time and its parts
    (imports and reading, build, compile, sampling, post-processing), with empty compile
    caches (a new machine) and with used ones (a new table of a known shape, a new
    formula, the same fit again), at the defaults; brms's first fit of the same model and
    glmmTMB's beside them, each from a fresh ``Rscript``.
``approx``
    ADVI, Pathfinder and a Laplace approximation (pymc-extras) against NUTS on every
    suite case: the time after compiling and the largest gap in a posterior mean over all
    parameters, in NUTS's posterior SDs, with the Pareto k of the approximation's
    importance weights where it is known (Pathfinder's own PSIS).

Time nothing while anything else runs on the machine.

    .venv/bin/python benchmarks/limit.py                     # every study, every case
    .venv/bin/python benchmarks/limit.py --studies geometry --cases epil_negbin
    .venv/bin/python benchmarks/limit.py --report-only
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
import corpus_tables  # noqa: E402
import suite  # noqa: E402

OUT = ROOT / "reports" / "limit"
REPORT = ROOT / "reports" / "limit.md"
BIN = ROOT / ".venv" / "bin"
CORES = os.cpu_count() or 1
ADAPTATIONS = ("low_rank", "draw_diag")
PEER_PRIORS = {"coef": {"dist": "normal", "mu": 0, "sigma": 1},
               "zero_coef": {"dist": "normal", "mu": 0, "sigma": 1}}
GAP_TARGET = 5.0  # the issue: every hierarchical case within 5x of its ideal
GAP_SD = 0.5  # an approximation's largest gap from NUTS's posterior means, in posterior SDs
FIRST_MARKERS = ("<!-- first answer: benchmarks/limit.py -->", "<!-- /first answer -->")
BENCHMARKS = ROOT / "reports" / "benchmarks.md"
LEVERS = ROOT / "reports" / "levers"


def cases() -> dict[str, dict]:
    """Every case: the suite's (peers' priors) and the corpus's (defaults), by name."""
    out = {}
    for name, case in suite.CASES.items():
        out[name] = {"source": "suite", "table": case.data, "formula": case.formula,
                     "family": case.family, "id": case.id, "zero_formula": None,
                     "priors": PEER_PRIORS, "hierarchical": "|" in case.formula}
    for case in corpus_tables.CASES:
        out[f"corpus:{case.name}"] = {
            "source": "corpus", "table": case.table, "formula": case.formula,
            "family": case.family, "id": case.id, "zero_formula": case.zero_formula,
            "priors": None, "hierarchical": case.grouped}
    return out


_FRAMES: dict[tuple[str, str], pd.DataFrame] = {}


def frame_of(case: dict) -> pd.DataFrame:
    key = (case["source"], case["table"])
    if key not in _FRAMES:
        load = suite.DATA[case["table"]] if case["source"] == "suite" else \
            corpus_tables.TABLES[case["table"]]
        _FRAMES[key] = load()
    return _FRAMES[key]


def built_of(case: dict):
    """The case's PyMC model as ``bayescluster fit`` builds it."""
    from bayescluster.api import table
    from bayescluster.model.build import build
    from bayescluster.model.design import make_design
    from bayescluster.spec.choose import chosen_spec

    frame = frame_of(case)
    spec = chosen_spec(case["formula"], frame, family=case["family"], id=case["id"],
                       zero_formula=case["zero_formula"], priors=case["priors"])
    return build(make_design(spec, table(frame, spec)))


def min_ess(posterior, names: list[str]) -> tuple[float, str]:
    """The smallest bulk ESS over every element of ``names``, and where it is."""
    import arviz_stats as azs

    ess = azs.ess(posterior[names], method="bulk")
    worst, where = np.inf, ""
    for name in names:
        values = ess[name]
        flat = values.values.ravel()
        if flat.size and float(flat.min()) < worst:
            worst = float(flat.min())
            index = np.unravel_index(int(flat.argmin()), values.shape)
            labels = [str(values[d].values[i]) for d, i in zip(values.dims, index,
                                                                 strict=True)]
            where = f"{name}[{', '.join(labels)}]" if labels else name
    return worst, where


def nuts(compiled, names: list[str], seed: int, adaptation: str = "diag",
         settings: dict | None = None) -> dict:
    """One nutpie fit of ``compiled``: gradients, ESS and clocks."""
    import nutpie

    s = {"draws": 1000, "tune": 1000, "chains": 4, "target_accept": 0.9, **(settings or {})}
    t0 = time.perf_counter()
    tree = nutpie.sample(compiled, draws=s["draws"], tune=s["tune"], chains=s["chains"],
                         seed=seed, target_accept=s["target_accept"], save_warmup=True,
                         progress_bar=False, adaptation=adaptation)
    wall = time.perf_counter() - t0
    kept = float(tree["sample_stats"]["n_steps"].sum())
    tuning = float(tree["warmup_sample_stats"]["n_steps"].sum())
    ess, where = min_ess(tree["posterior"].to_dataset(), names)
    core_s = wall * min(CORES, s["chains"])
    return {"adaptation": adaptation, "gradients": kept + tuning, "kept_gradients": kept,
            "sample_s": wall, "min_ess": ess, "slowest": where,
            "ess_per_gradient": ess / kept, "s_per_gradient": core_s / (kept + tuning),
            "ess_per_s": ess / wall,
            "divergences": int(tree["sample_stats"]["diverging"].sum())}


_IDEAL: dict[int, float] = {}


def ideal(dim: int, seed: int) -> float:
    """nutpie's min bulk ESS per gradient on an independent standard normal of ``dim``."""
    if dim not in _IDEAL:
        import nutpie
        import pymc as pm

        with pm.Model() as model:
            pm.Normal("x", 0.0, 1.0, shape=dim)
        compiled = nutpie.compile_pymc_model(model)
        _IDEAL[dim] = nuts(compiled, ["x"], seed)["ess_per_gradient"]
    return _IDEAL[dim]


def brms_steps(name: str, seed: int, work: Path) -> dict:
    """brms's fit of a suite case (``peers/brms_fit.R``): Stan's leapfrog steps and clocks."""
    case = suite.CASES[name]
    csv = work / f"{case.data}.csv"
    if not csv.exists():
        suite.DATA[case.data]().to_csv(csv, index=False)
    args = argparse.Namespace(chains=4, draws=1000, tune=1000)
    job = suite._job(case, csv, seed, args)
    with tempfile.TemporaryDirectory() as tmp:
        row = suite._peer("brms", job, Path(tmp), 3600)
    return {"brms_dim": row.get("dim"), "brms_ess_per_gradient":
            row["min_ess_all"] / row["leapfrog_sampling"],
            "brms_s_per_gradient": row["chain_s"] / (row["leapfrog_warmup"]
                                                     + row["leapfrog_sampling"]),
            "brms_min_ess_all": row["min_ess_all"], "brms_sample_s": row["sample_s"]}


def geometry(names: list[str], seed: int, adaptations, brms: bool) -> pd.DataFrame:
    from bayescluster.inference.fit import compile_nutpie

    every = cases()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            case = every[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                built = built_of(case)
                build_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                compiled = compile_nutpie(built.model)
                compile_s = time.perf_counter() - t0
            free = [v.name for v in built.model.free_RVs]
            base = {"case": name, "source": case["source"], "family": case["family"],
                    "hierarchical": case["hierarchical"], "rows": built.design.n_firms,
                    "dim": int(compiled.n_dim), "build_s": build_s, "compile_s": compile_s,
                    "mass_matrix": built.parameterisation.mass_matrix,
                    "ideal": ideal(int(compiled.n_dim), seed), "seed": seed,
                    "measured": time.strftime("%Y-%m-%d %H:%M")}
            extra = {}
            if brms and case["source"] == "suite" and "brms" in suite.CASES[name].systems \
                    and suite.available("brms") is None:
                try:
                    extra = brms_steps(name, seed, Path(work))
                except RuntimeError as error:
                    extra = {"brms_status": str(error)}
            for adaptation in ("diag", *adaptations):
                try:
                    row = nuts(compiled, free, seed, adaptation)
                except Exception as error:  # an experimental adaptation may fail
                    row = {"adaptation": adaptation, "status": f"failed: {error}"[:200]}
                row = {**base, **row, **(extra if adaptation == "diag" else {})}
                if "ess_per_gradient" in row:
                    row["gap"] = row["ideal"] / row["ess_per_gradient"]
                print(f"{name} {adaptation}: " + ", ".join(
                    f"{k}={row[k]:.3g}" for k in ("dim", "ess_per_gradient", "ideal", "gap",
                                                  "s_per_gradient", "ess_per_s")
                    if isinstance(row.get(k), float | int)), flush=True)
                rows.append(row)
            store("geometry", pd.DataFrame(rows[-1 - len(adaptations):]))
    return pd.DataFrame(rows)


KEYS = {"geometry": ["case", "adaptation"], "approx": ["case", "method"]}


def store(study: str, new: pd.DataFrame) -> None:
    """``new`` rows into the study's CSV, replacing earlier rows of the same keys (the
    first-answer study is written whole)."""
    path = OUT / f"{study}.csv"
    if path.exists() and study in KEYS:
        old = pd.read_csv(path)
        old = old[~old.set_index(KEYS[study]).index.isin(new.set_index(KEYS[study]).index)]
        new = pd.concat([old, new], ignore_index=True)
    new.to_csv(path, index=False)


# the first answer --------------------------------------------------------------------

FIRST_FORMULA = suite.CASES["firms_standardised"].formula
NEW_FORMULA = FIRST_FORMULA.replace(" + participant:national:sameregion", "")


def _timed_fit(args: list[str], env: dict, out: Path) -> dict:
    command = [str(BIN / "bayescluster"), "fit", *args, "--out", str(out), "--force",
               "--quiet"]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if not (out / "run.nc").exists():
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-300:]}")
    import xarray as xr

    with xr.open_datatree(out / "run.nc") as tree:
        timings = json.loads(tree.attrs.get("timings", "{}"))
        status = tree.attrs.get("status")
    post = timings.get("collect_s", 0.0) + timings.get("predictive_s", 0.0)
    parts = {"build_s": timings.get("build_s", 0.0), "compile_s": timings.get("compile_s", 0.0),
             "sample_s": timings.get("sample_s", 0.0), "post_s": post}
    return {"wall_s": wall, **parts, "other_s": wall - sum(parts.values()),
            "status": status, "exit": done.returncode}


def _r(script: str, work: Path, k: int, scenario: str, system: str, caches: str) -> dict:
    """One timed ``Rscript`` run of ``script``: a row of the first-answer study."""
    path = work / "first.R"
    path.write_text(script)
    t0 = time.perf_counter()
    done = subprocess.run(["Rscript", str(path)], capture_output=True, text=True)
    row = {"status": f"failed: {done.stderr.strip()[-300:]}"} if done.returncode else \
        {"wall_s": time.perf_counter() - t0, "status": "ok"}
    print(system, scenario, f"{row.get('wall_s', float('nan')):.1f} s", flush=True)
    return {"scenario": scenario, "system": system, "repeat": k + 1, "caches": caches, **row,
            "measured": time.strftime("%Y-%m-%d %H:%M")}


def first(repeats: int) -> pd.DataFrame:
    """The first answer's wall time and parts, by scenario (see the module docstring)."""
    rows = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        firms = suite.firms()
        firms.to_csv(work / "firms.csv", index=False)
        suite.firms(229, seed=7).to_csv(work / "firms_new.csv", index=False)
        cache = work / "cache"

        def env(empty: bool) -> dict:
            if empty and cache.exists():
                import shutil

                shutil.rmtree(cache)
            return {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={cache / 'pytensor'}",
                    "NUMBA_CACHE_DIR": str(cache / "numba")}

        formula = ["--formula", FIRST_FORMULA, "--family", "zinb", "--id", "firm_id"]
        scenarios = [
            ("default job, new machine", "empty", []),
            ("default job, used machine", "used", []),
            ("firm formula, new machine", "empty", [*formula, "--data", str(work / "firms.csv")]),
            ("firm formula, same table again", "used",
             [*formula, "--data", str(work / "firms.csv")]),
            ("firm formula, a new table (229 rows)", "used",
             [*formula, "--data", str(work / "firms_new.csv")]),
            ("a new formula (229 rows)", "used",
             ["--formula", NEW_FORMULA, "--family", "zinb", "--id", "firm_id", "--data",
              str(work / "firms_new.csv")]),
        ]
        for k in range(repeats):
            for label, caches, args in scenarios:
                if caches == "used":  # the same shape compiled once before, untimed
                    warm = args or []
                    if label.startswith("a new formula"):
                        warm = [*formula, "--data", str(work / "firms.csv")]
                    _timed_fit([*warm, "--draws", "20", "--tune", "20"], env(False),
                               work / "warm")
                try:
                    row = _timed_fit(args, env(caches == "empty"), work / "run")
                except RuntimeError as error:
                    row = {"status": f"failed: {error}"}
                rows.append({"scenario": label, "system": "bayescluster", "repeat": k + 1,
                             "caches": caches, **row,
                             "measured": time.strftime("%Y-%m-%d %H:%M")})
                print(label, f"{row.get('wall_s', float('nan')):.1f} s", flush=True)
            if suite.available("brms") is None:
                rows.append(_brms_first(work, k))
                rows.append(_glmmtmb_first(work, k))
    return pd.DataFrame(rows)


def _brms_first(work: Path, k: int) -> dict:
    script = f"""
suppressMessages(library(brms))
rstan::rstan_options(boost_lib = "/usr/include", boost_lib2 = "/usr/include")
frame <- read.csv("{work / 'firms.csv'}")
fit <- brm(bf({FIRST_FORMULA}), data = frame, family = zero_inflated_negbinomial(),
           chains = 4, iter = 2000, warmup = 1000, cores = 2, seed = {k + 1},
           refresh = 0, silent = 2)
saveRDS(fit, "{work / 'brms.rds'}")
"""
    return _r(script, work, k, "firm formula, first fit", "brms", "none")


def _glmmtmb_first(work: Path, k: int) -> dict:
    script = f"""
suppressMessages(library(glmmTMB))
frame <- read.csv("{work / 'firms.csv'}")
fit <- glmmTMB({FIRST_FORMULA}, ziformula = ~1, family = nbinom2, data = frame)
"""
    return _r(script, work, k, "firm formula, maximum likelihood", "glmmTMB",
              "compiled at install")


# approximate fits ---------------------------------------------------------------------


def _gap(approx, reference, names: list[str]) -> tuple[float, str]:
    """The largest |mean difference| over every element, in the reference's posterior SDs."""
    worst, where = 0.0, ""
    for name in names:
        a = approx[name].mean(("chain", "draw"))
        r = reference[name].mean(("chain", "draw"))
        sd = reference[name].std(("chain", "draw"))
        z = (abs(a - r) / sd).values.ravel()
        if z.size and float(np.nanmax(z)) > worst:
            worst, where = float(np.nanmax(z)), name
    return worst, where


def approx(names: list[str], seed: int) -> pd.DataFrame:
    import pymc as pm
    import pymc_extras as pmx

    from bayescluster.inference.fit import compile_nutpie

    every = cases()
    rows = []
    for name in names:
        case = every[name]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            built = built_of(case)
            t0 = time.perf_counter()
            compiled = compile_nutpie(built.model)
            compile_s = time.perf_counter() - t0
        import nutpie

        free = [v.name for v in built.model.free_RVs]
        t0 = time.perf_counter()
        reference = nutpie.sample(compiled, draws=1000, tune=1000, chains=4, seed=seed,
                                  target_accept=0.9, progress_bar=False)
        nuts_s = time.perf_counter() - t0
        post = reference["posterior"].to_dataset()
        rows.append({"case": name, "method": "nuts", "s": nuts_s, "compile_s": compile_s,
                     "gap": 0.0, "measured": time.strftime("%Y-%m-%d %H:%M")})
        methods = {
            "advi": lambda: pm.fit(n=10_000, method="advi", random_seed=seed,
                                   progressbar=False).sample(4000, random_seed=seed),
            "pathfinder": lambda: pmx.fit(method="pathfinder", num_draws=4000,
                                          random_seed=seed, progressbar=False),
            "laplace": lambda: pmx.fit_laplace(random_seed=seed, progressbar=False,
                                               draws=4000),
        }
        for method, run in methods.items():
            with built.model, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                try:
                    tree = run()
                    status = "ok"
                except Exception as error:
                    tree, status = None, f"failed: {error}"[:200]
                s = time.perf_counter() - t0
            row = {"case": name, "method": method, "s": s, "status": status,
                   "measured": time.strftime("%Y-%m-%d %H:%M")}
            if tree is not None:
                drawn = tree["posterior"].to_dataset()
                row["gap"], row["gap_at"] = _gap(drawn, post, [n for n in free if n in drawn])
                k = _pareto_k(tree)
                if k is not None:
                    row["pareto_k"] = k
            print(name, method, {k: v for k, v in row.items() if k in ("s", "gap",
                                                                      "pareto_k", "status")},
                  flush=True)
            rows.append(row)
        store("approx", pd.DataFrame(rows[-1 - len(methods):]))
    return pd.DataFrame(rows)


def _pareto_k(tree) -> float | None:
    for group in tree.children.values():
        ds = group.to_dataset()
        for key in ("pareto_k", "psis_pareto_k"):
            if key in ds:
                return float(np.max(ds[key].values))
    return None


# the report ---------------------------------------------------------------------------


def _fmt(frame: pd.DataFrame) -> str:
    from bayescluster.reporting.document import markdown_table

    shown = frame.reset_index(drop=True).map(lambda v: (f"{v:,.3g}" if abs(v) < 1000
                                                        else f"{v:,.0f}")
                      if isinstance(v, float) and np.isfinite(v) else
                      ("" if isinstance(v, float) else str(v)))
    return markdown_table(shown)


def report() -> Path:
    """``reports/limit.md`` from the studies' CSVs."""
    from bayescluster.core.atomic import write_text

    parts = ["# Where the remaining factor lives", "",
             "`benchmarks/limit.py` (see its docstring for each measure), "
             f"{CORES} cores, nothing else running. The worst case comes first in every "
             "table.", ""]
    geo_path, first_path, approx_path = (OUT / f"{s}.csv" for s in
                                         ("geometry", "first", "approx"))
    frames = {k: pd.read_csv(p) for k, p in (("geometry", geo_path), ("first", first_path),
                                             ("approx", approx_path)) if p.exists()}
    goals = targets(frames)
    if len(goals):
        parts += ["## The targets", "", _fmt(goals), ""]
    if first_path.exists():
        section = first_section(pd.read_csv(first_path))
        parts += section
        _into_benchmarks(section)
    if geo_path.exists():
        section = geometry_section(pd.read_csv(geo_path))
        parts += section
        if "### Levers: nutpie's mass-matrix adaptation" in section:
            lever = section[section.index("### Levers: nutpie's mass-matrix adaptation"):]
            write_text(LEVERS / "adaptation.md", "\n".join(
                ["# A lever measured on the suite and the corpus: nutpie's mass-matrix "
                 "adaptation", "", adaptation_verdict(pd.read_csv(geo_path)), "",
                 *lever[1:], "From `benchmarks/limit.py`; every case's decomposition: "
                 "`reports/limit.md`."]) + "\n")
    if approx_path.exists():
        section = approx_section(pd.read_csv(approx_path))
        parts += section
        write_text(LEVERS / "approximate_fits.md", "\n".join(
            ["# Approximate fits measured against NUTS, and withdrawn", "",
             "`--sampler advi` and `--sampler pathfinder` are refused with this reason "
             "(`bayescluster.spec.sampling.sampler_refusal`); no Laplace path was added.",
             "", *section[1:], "From `benchmarks/limit.py`."]) + "\n")
    write_text(REPORT, "\n".join(parts) + "\n")
    return REPORT


def adaptation_verdict(rows: pd.DataFrame) -> str:
    """Each adaptation against the diagonal default, single-level and grouped models apart,
    and the rule the package ships (``Parameterisation.mass_matrix``)."""
    base = rows[rows["adaptation"] == "diag"].set_index("case")["ess_per_s"]
    out = ["The package samples a single-level model with `low_rank` and a model with groups "
           "with `diag` (`bayescluster.model.parameterization.choose`). Against `diag`, "
           "min-ESS/s in the same call:"]
    for (name, grouped), group in rows[rows["adaptation"] != "diag"].groupby(
            ["adaptation", rows["hierarchical"].astype(bool)]):
        ratio = group.set_index("case")["ess_per_s"] / base.reindex(group["case"]).values
        kind = "grouped" if grouped else "single-level"
        shipped = bool((group["mass_matrix"] == name).all())  # the package's own choice
        out.append(f"`{name}` on {kind} models ({'shipped' if shipped else 'not taken'}): "
                   f"worst {ratio.min():.2f}x ({ratio.idxmin()}), median "
                   f"{ratio.median():.2f}x, best {ratio.max():.2f}x ({ratio.idxmax()}); below "
                   f"`diag` on {int((ratio < 1).sum())} of {len(ratio)}.")
    low = rows[rows["adaptation"] == "low_rank"].set_index("case")
    ratio = low["ess_per_s"] / base.reindex(low.index)
    grouped = low["hierarchical"].astype(bool)
    single = ratio[~grouped]
    gap_at_diag = rows[rows["adaptation"] == "diag"].set_index("case")["gap"]
    out.append(f"With groups, `low_rank` wins on some tables and costs up to "
               f"{1 / ratio[grouped].min():.0f}x on others ({ratio[grouped].idxmin()}), and no "
               "rule read from the data before sampling was found that tells them apart, so "
               "`diag` stays there. Single-level models lose at most "
               f"{1 - single.min():.0%} ({single.idxmin()}, whose gap to its ideal was "
               f"{gap_at_diag[single.idxmin()]:.1f}x at `diag`) "
               f"and gain up to {single.max():.0f}x where correlated coefficients slow them "
               f"({single.idxmax()}).")
    return " ".join(out)


def _when(rows: pd.DataFrame) -> str:
    stamps = rows["measured"].dropna().astype(str)
    return f"Measured from {stamps.min()} to {stamps.max()}, nothing else running." \
        if len(stamps) else ""


def _first_table(rows: pd.DataFrame) -> pd.DataFrame:
    ok = rows[rows["wall_s"].notna()]
    cols = [c for c in ("wall_s", "build_s", "compile_s", "sample_s", "post_s", "other_s")
            if c in ok]
    table = ok.groupby(["scenario", "system", "caches"], sort=False)[cols].median()
    return table.reset_index().sort_values("wall_s", ascending=False)


def targets(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The issue's targets, each with what was measured and whether it is met."""
    out = []
    first = frames.get("first")
    if first is not None:
        table = _first_table(first).set_index("scenario")
        wall = table["wall_s"]
        used = [s for s in ("firm formula, a new table (229 rows)", "a new formula (229 rows)")
                if s in wall]
        if used:
            worst = max(used, key=lambda s: wall[s])
            out.append(("a new table or a new formula on a used machine: <= 5 s wall at 229 "
                        "rows", f"{wall[worst]:.0f} s ({worst})", bool(wall[worst] <= 5)))
        if "default job, used machine" in wall:
            out.append(("the default job's fit: <= 10 s", f"{wall['default job, used machine']:.0f}"
                        " s (used machine)", bool(wall["default job, used machine"] <= 10)))
        if "firm formula, new machine" in wall and "firm formula, first fit" in wall:
            ours, brms = wall["firm formula, new machine"], wall["firm formula, first fit"]
            out.append(("the first fit on a fresh machine: <= half of brms's first fit",
                        f"{ours:.0f} s against brms's {brms:.0f} s ({ours / brms:.2f}x)",
                        bool(ours <= brms / 2)))
    geo = frames.get("geometry")
    if geo is not None:
        base = geo[(geo["adaptation"] == "diag") & geo["hierarchical"].astype(bool)]
        if len(base):
            worst = base.loc[base["gap"].idxmax()]
            out.append((f"every hierarchical case within {GAP_TARGET:.0f}x of its ideal ESS "
                        "per gradient",
                        f"{int((base['gap'] <= GAP_TARGET).sum())} of {len(base)}; worst "
                        f"{worst['gap']:.0f}x ({worst['case']})",
                        bool((base["gap"] <= GAP_TARGET).all())))
        ticks = geo[(geo["adaptation"] == "diag") & geo["case"].str.contains("grouseticks")]
        if len(ticks):
            out.append(("ESS gates at the defaults on grouseticks (min bulk ESS >= 400, no "
                        "divergence; 4 x 1,000 draws)",
                        "; ".join(f"{r['case']}: ESS {r['min_ess']:.0f} at {r['slowest']}, "
                                  f"{r['divergences']:.0f} divergent"
                                  for _, r in ticks.iterrows()),
                        bool(((ticks["min_ess"] >= 400) & (ticks["divergences"] == 0)).all())))
        big = geo[(geo["adaptation"] == "diag") & (geo["case"] == "firms_10700")]
        if len(big):
            rate = float(big["ess_per_s"].iloc[0])
            out.append(("10,700 firms: >= 150 min-ESS/s (every parameter's)", f"{rate:.0f}",
                        bool(rate >= 150)))
    approx = frames.get("approx")
    if approx is not None and len(approx):
        nuts_rows = approx[approx["method"] == "nuts"].set_index("case")
        tried = approx[approx["method"] != "nuts"]
        other = tried[tried["gap"].notna()]
        for method, group in other.groupby("method"):
            failed = int(((tried["method"] == method) & tried["gap"].isna()).sum())
            fast = sum(r["s"] <= 0.5 * (nuts_rows.loc[r["case"], "s"]
                                        + nuts_rows.loc[r["case"], "compile_s"])
                       for _, r in group.iterrows())
            close = int((group["gap"] <= GAP_SD).sum())
            kept = fast == len(group) and close == len(group) and not failed
            out.append((f"{method}: kept only if, on every case, it answers in <= half of "
                        f"NUTS's time with its compile and within {GAP_SD} posterior SD of "
                        "every NUTS posterior mean",
                        f"fast enough on {fast} of {len(group)} cases, close enough on "
                        f"{close}; largest gap {group['gap'].max():.1f} SD "
                        f"({group.loc[group['gap'].idxmax(), 'case']})"
                        + (f"; failed on {failed} more" if failed else ""),
                        "kept" if kept else "withdrawn"))
    return pd.DataFrame(out, columns=["target", "measured", "met"])


def first_levers(rows: pd.DataFrame) -> pd.DataFrame:
    """What each first-answer lever could buy at most, read from the scenarios."""
    wall = _first_table(rows).set_index("scenario")
    out = []

    def have(*names):
        return all(n in wall.index for n in names)

    if have("firm formula, a new table (229 rows)", "firm formula, same table again"):
        new, same = (wall.loc[n, "wall_s"] for n in ("firm formula, a new table (229 rows)",
                                                     "firm formula, same table again"))
        out.append(("data passed as inputs, one compile for every table of a model's shape",
                    f"a new table of a known shape takes {new:.1f} s, the same table again "
                    f"{same:.1f} s", f"<= {max(new - same, 0):.1f} s",
                    "not taken: pytensor's per-kernel cache already serves a new table"))
    if have("firm formula, new machine", "a new formula (229 rows)"):
        fresh, formula = (wall.loc[n, "wall_s"] for n in ("firm formula, new machine",
                                                          "a new formula (229 rows)"))
        out.append(("compiling at install (a model compiled once so that its kernels are "
                    "cached)", f"a first fit on a new machine {fresh:.0f} s; a new formula "
                    f"on a used machine {formula:.0f} s",
                    f"<= {fresh - formula:.0f} s moved from the first fit to the install",
                    "not built"))
    if have("firm formula, same table again"):
        row = wall.loc["firm formula, same table again"]
        out.append(("the floor on a used machine: the same fit again",
                    f"{row['wall_s']:.0f} s: compile {row['compile_s']:.1f}, sampling "
                    f"{row['sample_s']:.1f}, post-processing {row['post_s']:.1f}, the rest "
                    f"(Python, imports, reading, the log prior, gates, writing) "
                    f"{row['other_s']:.1f}",
                    f"{row['wall_s'] - row['sample_s']:.0f} s that is not sampling",
                    "the 5 s target leaves the compile and the rest "
                    f"{5 - row['sample_s'] - row['post_s']:.1f} s together"))
    before_file = OUT / "first_compiled_post.csv"
    if before_file.exists() and have("default job, new machine", "firm formula, new machine"):
        before = _first_table(pd.read_csv(before_file)).set_index("scenario")
        moved = [f"{name} {before.loc[name, 'wall_s']:.0f} -> {wall.loc[name, 'wall_s']:.0f} s "
                 f"(post-processing {before.loc[name, 'post_s']:.1f} -> "
                 f"{wall.loc[name, 'post_s']:.1f})"
                 for name in ("default job, new machine", "firm formula, new machine",
                              "a new formula (229 rows)") if name in before.index]
        from bayescluster.model.build import COMPILED_FROM_VALUES

        out.append(("post-processing interpreted, not compiled by numba, below "
                    f"{COMPILED_FROM_VALUES / 1e6:.0f} million draws x rows (model/build.py, "
                    "post_function)",
                    "; ".join(moved) + f" (before: {before_file.name}, measured "
                    f"{pd.read_csv(before_file)['measured'].min()})", "", "taken"))
    return pd.DataFrame(out, columns=["lever", "measured", "at most", "verdict"])


def first_section(rows: pd.DataFrame) -> list[str]:
    table = _first_table(rows)
    return ["## The first answer", "",
            "Wall time from a fresh process to the run on disk (the median over "
            f"{int(rows['repeat'].max())} repeats), and bayescluster's parts: build, compile, "
            "sampling (4 chains x 1,000 draws after 1,000 tuning steps unless the spec says "
            "otherwise; the default job's spec samples 2,000), post-processing (collecting the "
            "draws, every row's log-likelihood and replicated outcome) and the rest (starting "
            "Python, imports, reading and checking the table, the log prior, the gates, writing "
            "the run). *empty*: no compile cache (a new machine); *used*: a model of the same "
            "shape compiled once before, untimed. brms compiles its Stan model in every process; "
            "glmmTMB's template was compiled when it was installed (the time is `Rscript` loading"
            " glmmTMB and fitting by maximum likelihood). "
            + _when(rows), "", _fmt(table), "",
            "What each lever could buy at most, read from the rows above:", "",
            _fmt(first_levers(rows)), ""]


def _into_benchmarks(section: list[str]) -> None:
    """The first-answer table in ``reports/benchmarks.md`` too, after the suite's section."""
    from bayescluster.core.atomic import write_text
    from bayescluster.spec.families import with_block

    text = BENCHMARKS.read_text()
    if FIRST_MARKERS[0] not in text:
        end = suite.SUITE_END
        text = text.replace(end, f"{end}\n\n{FIRST_MARKERS[0]}\n{FIRST_MARKERS[1]}", 1)
    body = "\n".join(["#" + line if line.startswith("## ") else line for line in section]
                     + ["Where the rest of the time goes: `reports/limit.md`."])
    write_text(BENCHMARKS, with_block(text, FIRST_MARKERS, body))


def geometry_section(rows: pd.DataFrame) -> list[str]:
    base = rows[rows["adaptation"] == "diag"].copy()
    hier = base[base["hierarchical"].astype(bool)]
    out = ["## ESS per second, decomposed", "",
           "min-ESS/s = ESS per gradient x gradients per second. *gap*: the ideal ESS per "
           "gradient (nutpie on an independent standard normal of the same dimension) over "
           "the model's; *s_per_gradient*: core-seconds per leapfrog step, tuning included "
           "(brms's: Stan's per-chain time over its leapfrog steps); *slowest*: the "
           "parameter with the smallest bulk ESS. One seed a case. " + _when(rows), ""]
    if len(hier):
        worst = hier.loc[hier["gap"].idxmax()]
        within = int((hier["gap"] <= GAP_TARGET).sum())
        out += [f"Worst hierarchical gap: **{worst['gap']:.0f}x** ({worst['case']}, slowest "
                f"{worst['slowest']}); {within} of {len(hier)} hierarchical cases within "
                f"{GAP_TARGET:.0f}x of their ideal (the target: all).", ""]
    cols = [c for c in ("case", "family", "rows", "dim", "ess_per_gradient", "ideal", "gap",
                        "slowest", "s_per_gradient", "brms_ess_per_gradient",
                        "brms_s_per_gradient", "ess_per_s", "compile_s") if c in base]
    out += [_fmt(base.sort_values("gap", ascending=False)[cols]), ""]
    levers = rows[rows["adaptation"] != "diag"]
    if len(levers):
        merged = levers.merge(base[["case", "ess_per_gradient", "ess_per_s", "gap"]],
                              on="case", suffixes=("", "_diag"))
        merged["ess_per_s_ratio"] = merged["ess_per_s"] / merged["ess_per_s_diag"]
        merged["gap_diag"] = merged["gap_diag"]
        merged["grouped"] = merged["hierarchical"].astype(bool)
        summary = merged.groupby(["adaptation", "grouped"]).agg(
            cases=("case", "size"), worst_ratio=("ess_per_s_ratio", "min"),
            median_ratio=("ess_per_s_ratio", "median"), best_ratio=("ess_per_s_ratio", "max"))
        summary = summary.reset_index().sort_values("worst_ratio")
        out += ["### Levers: nutpie's mass-matrix adaptation", "",
                "The same compiled model and seed; *ess_per_s_ratio* is the lever's min-ESS "
                "per second over the default (`diag`).", "",
                _fmt(summary), "",
                _fmt(merged.sort_values("ess_per_s_ratio")[
                    ["case", "grouped", "adaptation", "gap_diag", "gap", "ess_per_s_ratio",
                     "divergences"]]), ""]
    return out


def approx_section(rows: pd.DataFrame) -> list[str]:
    nuts_rows = rows[rows["method"] == "nuts"].set_index("case")
    failed = rows[(rows["method"] != "nuts") & rows["gap"].isna()]
    other = rows[(rows["method"] != "nuts") & rows["gap"].notna()].copy()
    other["time_vs_nuts"] = [r["s"] / nuts_rows.loc[r["case"], "s"]
                             for _, r in other.iterrows()]
    other["time_vs_nuts_compiled"] = [
        r["s"] / (nuts_rows.loc[r["case"], "s"] + nuts_rows.loc[r["case"], "compile_s"])
        for _, r in other.iterrows()]
    summary = other.groupby("method").agg(
        cases=("case", "size"), worst_gap=("gap", "max"), median_gap=("gap", "median"),
        fastest_vs_nuts=("time_vs_nuts", "min"),
        fastest_vs_nuts_compiled=("time_vs_nuts_compiled", "min"),
        median_vs_nuts_compiled=("time_vs_nuts_compiled", "median"))
    cols = [c for c in ("case", "method", "s", "time_vs_nuts", "time_vs_nuts_compiled", "gap",
                        "gap_at", "pareto_k", "status") if c in other]
    return ["## Approximate fits against NUTS", "",
            "Seconds (NUTS: 4 x 1,000 draws after 1,000 tuning steps by nutpie, after "
            "compiling; the approximations through PyMC and pymc-extras at their defaults, "
            "4,000 draws, their own compiling included) against NUTS's sampling alone "
            "(*time_vs_nuts*) and with its compile (*time_vs_nuts_compiled*), and the "
            "largest gap in a posterior mean over every parameter "
            "in NUTS's posterior SDs. " + _when(rows), "",
            _fmt(summary.reset_index().sort_values("worst_gap", ascending=False)), "",
            _fmt(other.sort_values("gap", ascending=False)[cols]), "",
            *(["Failed (not counted above): " + "; ".join(
                f"{r['method']} on {r['case']} ({r['status']})" for _, r in failed.iterrows())
               + ".", ""] if len(failed) else [])]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", nargs="+", choices=("geometry", "first", "approx"),
                        default=["first", "geometry", "approx"])
    parser.add_argument("--cases", nargs="+", default=None,
                        help="case names (default: every suite and corpus case)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2, help="first-answer repeats")
    parser.add_argument("--adaptations", nargs="*", default=list(ADAPTATIONS))
    parser.add_argument("--no-brms", action="store_true")
    parser.add_argument("--report-only", action="store_true")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    names = args.cases or list(cases())
    unknown = sorted(set(names) - set(cases()))
    if unknown:
        parser.error(f"unknown cases {unknown}; known: {sorted(cases())}")
    if not args.report_only:
        for study in args.studies:
            if study == "geometry":  # each case stored as it ends
                geometry(names, args.seed, args.adaptations, not args.no_brms)
            elif study == "first":
                store("first", first(args.repeats))
            else:
                approx([n for n in names if cases()[n]["source"] == "suite"], args.seed)
    print(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
