"""The speed suite: models of several shapes, each fitted by bayescluster, brms and bambi to
the same data with the same priors where the peers can state them, timed alike.

Cases (``CASES``): the default firm model (ZINB, intercept and participation varying by
domain and cluster) on simulated firms with the covariates as a user gives them and
standardised; the hurdle family on the standardised firms; and ``negbin`` and ``zinb``
fits of two public data sets that R ships (``benchmarks/public_data.py``): lme4's
grouseticks (chicks within broods within locations, ``HEIGHT`` as given) and MASS's epil
(seizure counts, subjects as clusters, ``base`` and ``age`` as given), and pscl's
bioChemists (articles, one level, zero-inflated). As N grows, the
standardised firm model at 2,290 and 10,700 firms is fitted by bayescluster alone.

Clocks, the same for every system:

- ``sample_s``: the chains' own time on the 2 cores. bayescluster: nutpie's sampling
  (the run's ``sample_s``); bambi: PyMC's ``sampling_time``; brms: rstan's per-chain
  warm-up and sampling times summed and divided by the 2 cores (so brms's set-up and
  post-processing are not counted against it).
- ``cold_s``: wall time from starting a fresh process to the draws on disk (bayescluster's
  ``fit`` command; a Python process running bambi that saves its draws; ``Rscript`` running
  brms that saves its fit). Each case is fitted once untimed first, so pytensor's and
  numba's compile caches hold a model of that shape, as for a user after a first fit; brms
  has no such cache and compiles its Stan model in every process.

Every (case, system, seed) runs in its own process, one after another. Each row gives the
minimum bulk ESS over the population-level parameters (intercept, fixed effects, group
SDs, dispersion, zero part), min-ESS per sampling second, divergences, max R-hat, and
whether the gates pass (R-hat <= 1.01, bulk and tail ESS >= 400, no divergence).

    .venv/bin/python benchmarks/suite.py                       # every case, 3 seeds
    .venv/bin/python benchmarks/suite.py --cases epil_negbin --seeds 1 --systems bayescluster

Writes ``reports/benchmarks_suite.csv`` (every run; rows of earlier calls are kept unless
``--fresh``), ``reports/benchmarks_suite.md`` and ``reports/benchmarks_suite.png`` (the
ratios), and the suite's section of ``reports/benchmarks.md``.
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
BIN = ROOT / ".venv" / "bin"
BAMBI_PYTHON = ROOT / ".venv-bambi" / "bin" / "python"
SYSTEMS = ("bayescluster", "brms", "bambi")
TARGET_RATIO = 10.0  # the floor on min-ESS/s against brms
GIVEN_WITHIN = 1.5  # the default firm model as given within this factor of standardised
SUITE_BEGIN, SUITE_END = "<!-- suite -->", "<!-- /suite -->"
FIXED = "participant + {scale} + {rd} + {projects} + national + jointrd + sameregion + " \
        "participant:national:sameregion"
FIRM_GROUPS = "(1 + participant | domain/cluster)"


@dataclass(frozen=True)
class Case:
    """One model on one data set."""

    data: str  # a key of DATA
    formula: str
    family: str  # bayescluster's name: negbin, zinb, hurdle_nb
    id: str | None  # the firm id column (None: the table has none)
    correlated: bool  # a group term with more than one effect (brms: an LKJ prior)
    what: str
    systems: tuple[str, ...] = SYSTEMS  # the systems this case is fitted by


def firms(n: int = 229, seed: int = 2001) -> pd.DataFrame:
    """``n`` simulated firms (complete: the peers cannot impute), with the log of size and
    the standardised columns computed once, so that every system reads the same numbers."""
    from bayescluster.study.registry import cluster_domains
    from bayescluster.study.simulate import simulate

    frame = simulate(n, seed=seed, missing=False).data
    frame["log_scale"] = np.log(frame["scale"].astype(float))
    for name in ("log_scale", "rd", "projects"):
        values = frame[name].astype(float)
        frame[f"{name}_z"] = (values - values.mean()) / values.std(ddof=0)
    for name in ("participant", "projects", "national", "jointrd", "sameregion"):
        frame[name] = frame[name].astype(int)
    frame["domain"] = frame["cluster"].map(cluster_domains())
    return frame


def _public(name: str):
    sys.path.insert(0, str(Path(__file__).parent))
    import public_data

    return public_data.LOADERS[name]


DATA = {"firms": firms, "firms_2290": lambda: firms(2290), "firms_10700": lambda: firms(10700),
        "grouseticks": lambda: _public("grouseticks")(), "epil": lambda: _public("epil")(),
        "biochemists": lambda: _public("biochemists")()}
ARTICLES = "art ~ fem + mar + kid5 + phd + ment"
GIVEN = FIXED.format(scale="log_scale", rd="rd", projects="projects")
STANDARD = FIXED.format(scale="log_scale_z", rd="rd_z", projects="projects_z")
CASES = {
    "firms_as_given": Case("firms", f"pat ~ {GIVEN} + {FIRM_GROUPS}", "zinb", "firm_id",
                           True, "default firm model, covariates as given"),
    "firms_standardised": Case("firms", f"pat ~ {STANDARD} + {FIRM_GROUPS}", "zinb",
                               "firm_id", True, "default firm model, standardised"),
    "firms_hurdle": Case("firms", f"pat ~ {STANDARD} + {FIRM_GROUPS}", "hurdle_nb",
                         "firm_id", True, "hurdle family, standardised"),
    "grouseticks_negbin": Case("grouseticks", "TICKS ~ YEAR + HEIGHT + (1 | LOCATION/BROOD)",
                               "negbin", "INDEX", False, "3 levels, HEIGHT as given"),
    "grouseticks_zinb": Case("grouseticks", "TICKS ~ YEAR + HEIGHT + (1 | LOCATION/BROOD)",
                             "zinb", "INDEX", False, "3 levels, no zero inflation in truth"),
    "epil_negbin": Case("epil", "y ~ trt + base + age + (1 | subject)", "negbin", "row",
                        False, "repeated counts, base and age as given"),
    "epil_zinb": Case("epil", "y ~ trt + base + age + (1 | subject)", "zinb", "row", False,
                      "repeated counts, zero-inflated"),
    "biochemists_negbin": Case("biochemists", ARTICLES, "negbin", None, False,
                               "one level, 915 rows"),
    "biochemists_zinb": Case("biochemists", ARTICLES, "zinb", None, False,
                             "one level, zero-inflated"),
    # as N grows, bayescluster alone (brms took 38 minutes at 10,700 firms for 600
    # iterations a chain: reports/benchmarks.md)
    "firms_2290": Case("firms_2290", f"pat ~ {STANDARD} + {FIRM_GROUPS}", "zinb", "firm_id",
                       True, "default firm model, standardised, 2,290 firms",
                       ("bayescluster",)),
    "firms_10700": Case("firms_10700", f"pat ~ {STANDARD} + {FIRM_GROUPS}", "zinb",
                        "firm_id", True, "default firm model, standardised, 10,700 firms",
                        ("bayescluster",)),
}


def _run(command: list[str], limit: float, ok: tuple[int, ...] = (0,)) -> float:
    """Run ``command`` in its own process group; its wall time. A fit over ``limit``
    seconds is stopped with every process it started (R's and PyMC's chains); an exit code
    not in ``ok`` is a failure."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        _, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise RuntimeError(f"did not finish in {limit:.0f} s") from None
    if proc.returncode not in ok:
        last = (err or "").strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"exit {proc.returncode}: {last[0][:200]}")
    return time.perf_counter() - start


def _job(case: Case, csv: Path, seed: int, args) -> dict:
    outcome = case.formula.split("~")[0].strip()
    y = pd.read_csv(csv)[outcome]
    return {"data": str(csv), "formula": case.formula, "family": case.family, "seed": seed,
            "chains": args.chains, "draws": args.draws, "tune": args.tune,
            "target_accept": 0.9, "correlated": case.correlated,
            "intercept_mu": float(np.log(y.mean() + 0.1))}


def _bayescluster(case: Case, job: dict, folder: Path, limit: float,
                  warm: bool = False) -> dict:
    out = folder / "run"
    draws = ["--draws", "20", "--tune", "20"] if warm else [
        "--draws", str(job["draws"]), "--tune", str(job["tune"])]
    command = [str(BIN / "bayescluster"), "fit", "--formula", case.formula, "--family",
               case.family, *(["--id", case.id] if case.id else []), "--data", job["data"],
               "--out", str(out),
               "--seed", str(job["seed"]), "--chains", str(job["chains"]), *draws,
               "--quiet", "--force", "--no-remedies",
               # the peers' priors (bayescluster's own default is autoscaled)
               "--prior", "coef=normal(mu=0, sigma=1)",
               "--prior", "zero_coef=normal(mu=0, sigma=1)"]
    cold = _run(command, limit, ok=(0, 3))  # 3: written, and a gate failed
    if warm:
        return {}
    import warnings

    import arviz_stats as azs

    import bayescluster as bc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = bc.load_run(out)
    post = run.posterior
    names = [v for v in ("intercept", "beta", "dispersion", "zero_intercept", "zero_beta",
                         "sd_domain", "sd_cluster") if v in post]
    bulk, tail, rhat = (azs.ess(post[names], method="bulk"),
                        azs.ess(post[names], method="tail"), azs.rhat(post[names]))
    timings = run.timings
    return {"sample_s": timings["sample_s"], "compile_s": timings.get("compile_s", np.nan),
            "post_s": timings.get("collect_s", 0.0) + timings.get("predictive_s", 0.0),
            "parameters": names,
            "min_ess": min(float(bulk[v].min()) for v in names),
            "min_tail_ess": min(float(tail[v].min()) for v in names),
            "max_rhat": max(float(rhat[v].max()) for v in names),
            "divergences": int(run.tree["sample_stats"]["diverging"].sum()),
            "cold_s": cold}


def _peer(system: str, job: dict, folder: Path, limit: float) -> dict:
    job_path, out = folder / "job.json", folder / "out.json"
    job_path.write_text(json.dumps(job))
    command = ([str(BAMBI_PYTHON), str(ROOT / "benchmarks" / "peers" / "bambi_fit.py")]
               if system == "bambi" else
               ["Rscript", str(ROOT / "benchmarks" / "peers" / "brms_fit.R")])
    wall = _run([*command, str(job_path), str(out)], limit)
    row = json.loads(out.read_text())
    # the peer's own summaries come after its draws are on disk
    return row | {"cold_s": wall - row.pop("after_save_s")}


def available(system: str) -> str | None:
    """None if the system can run here, else why not."""
    if system == "brms":
        if shutil.which("Rscript") is None or subprocess.run(
                ["Rscript", "-e", "library(brms)"], capture_output=True).returncode:
            return "R with brms is not installed (Debian: apt-get install r-cran-brms)"
    if system == "bambi" and not BAMBI_PYTHON.exists():
        return "bambi's environment is missing (make bench creates .venv-bambi)"
    return None


def measure(name: str, system: str, seed: int, args, csv: Path, limit: float) -> dict:
    """One timed fit in a fresh process: its clocks, ESS, gates and wall time."""
    case = CASES[name]
    base = {"case": name, "system": system, "seed": seed, "chains": args.chains,
            "draws": args.draws, "tune": args.tune,
            "measured": time.strftime("%Y-%m-%d %H:%M")}
    why = available(system)
    if why:
        return {**base, "status": f"not run: {why}"}
    job = _job(case, csv, seed, args)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            row = (_bayescluster(case, job, Path(tmp), limit) if system == "bayescluster"
                   else _peer(system, job, Path(tmp), limit))
            status = "ok"
        except RuntimeError as error:
            row, status = {}, f"failed: {error}"
    row = {**base, **row, "status": status}
    if "parameters" in row:
        row["parameters"] = " ".join(row["parameters"])
    if status == "ok":
        row["ess_per_s"] = row["min_ess"] / row["sample_s"]
        row["gates"] = bool(row["max_rhat"] <= 1.01 and row["min_ess"] >= 400
                            and row["min_tail_ess"] >= 400 and row["divergences"] == 0)
    print(f"{name} {system} seed {seed}: {status}, "
          + ", ".join(f"{k}={row[k]:.3g}" for k in ("sample_s", "cold_s", "min_ess",
                                                     "ess_per_s") if k in row), flush=True)
    return row


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per case and system: the median over seeds of ESS/s, sampling and cold time, the
    divergences and gates of every seed, and bayescluster's ratio to each peer."""
    ok = rows[rows["status"] == "ok"]
    out = []
    for (case, system), group in ok.groupby(["case", "system"], sort=False):
        out.append({"case": case, "system": system, "seeds": len(group),
                    "ess_per_s": group["ess_per_s"].median(),
                    "ess_per_s_range": f"{group['ess_per_s'].min():.3g}-"
                                       f"{group['ess_per_s'].max():.3g}",
                    "sample_s": group["sample_s"].median(),
                    "cold_s": group["cold_s"].median(),
                    "post_s": group["post_s"].median() if "post_s" in group else np.nan,
                    "divergences": " ".join(f"{d:.0f}" for d in group["divergences"]),
                    "gates_every_seed": bool(group["gates"].all()),
                    "measured": group["measured"].max()})
    table = pd.DataFrame(out)
    if table.empty:
        return table
    ours = table[table["system"] == "bayescluster"].set_index("case")
    for peer in ("brms", "bambi"):
        theirs = table[table["system"] == peer].set_index("case")
        both = ours.index.intersection(theirs.index)
        table.loc[(table["system"] == peer) & table["case"].isin(both), "ours_ess_ratio"] = [
            ours.loc[c, "ess_per_s"] / theirs.loc[c, "ess_per_s"]
            for c in table.loc[(table["system"] == peer) & table["case"].isin(both), "case"]]
        table.loc[(table["system"] == peer) & table["case"].isin(both), "ours_cold_ratio"] = [
            ours.loc[c, "cold_s"] / theirs.loc[c, "cold_s"]
            for c in table.loc[(table["system"] == peer) & table["case"].isin(both), "case"]]
    return table


def targets(rows: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The issue's targets, each with what this call measured and whether it is met."""
    out = []
    brms = table[table["system"] == "brms"].dropna(subset=["ours_ess_ratio"])
    if brms.empty:
        out.append(("every case >= 10x brms's min-ESS/s", "brms not run", "not measured"))
    else:
        worst = brms.loc[brms["ours_ess_ratio"].idxmin()]
        out.append(("every case >= 10x brms's min-ESS/s",
                    f"worst {worst['ours_ess_ratio']:.1f}x ({worst['case']})",
                    bool(worst["ours_ess_ratio"] >= TARGET_RATIO)))
    ours = table[table["system"] == "bayescluster"].set_index("case")
    ok = rows[(rows["system"] == "bayescluster") & (rows["status"] == "ok")]
    if not ours.empty:
        divergent = ok[ok["divergences"] > 0]
        out.append(("zero divergences, every case and seed",
                    f"{len(divergent)} of {len(ok)} runs with divergences",
                    bool(divergent.empty)))
        failed = ok[~ok["gates"].astype(bool)]
        out.append(("every gate passed at the defaults, every case and seed",
                    f"{len(failed)} of {len(ok)} runs failed a gate"
                    + (f" ({', '.join(sorted(set(failed['case'])))})" if len(failed) else ""),
                    bool(failed.empty)))
        if {"firms_as_given", "firms_standardised"} <= set(ours.index):
            factor = ours.loc["firms_standardised", "ess_per_s"] / \
                ours.loc["firms_as_given", "ess_per_s"]
            out.append((f"firm model as given within {GIVEN_WITHIN}x of standardised",
                        f"as given: {1 / factor:.2f}x the standardised min-ESS/s",
                        bool(factor <= GIVEN_WITHIN)))
        if "firms_as_given" in ours.index:
            cold = ours.loc["firms_as_given", "cold_s"]
            out.append(("cold wall time at 229 firms <= 5 s (shape compiled before)",
                        f"{cold:.1f} s", bool(cold <= 5)))
            peer = table[(table["system"] == "brms") & (table["case"] == "firms_as_given")]
            if len(peer):
                ratio = float(peer["ours_cold_ratio"].iloc[0])
                out.append(("cold wall time at 229 firms <= 0.1x brms's", f"{ratio:.2f}x",
                            bool(ratio <= 0.1)))
        if "post_s" in ok:
            share = (ok["post_s"] / ok["sample_s"]).groupby(ok["case"]).median()
            out.append(("post-processing <= 1/3 of sampling, every case and N",
                        f"worst {share.max():.2f} ({share.idxmax()})",
                        bool(share.max() <= 1 / 3)))
        if "firms_10700" in ours.index:
            rate = ours.loc["firms_10700", "ess_per_s"]
            out.append(("10,700 firms: >= 150 min-ESS/s", f"{rate:.0f}", bool(rate >= 150)))
    return pd.DataFrame(out, columns=["target", "measured", "met"])


def ratio_plot(table: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from bayescluster.analysis.plots import save

    shown = table.dropna(subset=["ours_ess_ratio"])
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * max(len(shown), 4) + 1), layout="constrained")
    labels = [f"{c} vs {s}" for c, s in zip(shown["case"], shown["system"], strict=True)]
    ax.barh(labels, shown["ours_ess_ratio"], color=["C0" if s == "brms" else "C1"
                                                      for s in shown["system"]])
    ax.axvline(1, color="0.3", lw=1)
    ax.axvline(TARGET_RATIO, color="C3", lw=1, ls="--", label=f"target {TARGET_RATIO:.0f}x")
    ax.set_xscale("log")
    ax.set_xlabel("bayescluster's min-ESS/s ÷ the peer's (median over seeds)")
    ax.invert_yaxis()
    ax.legend(fontsize=8)
    save(fig, path)


def write_report(rows: pd.DataFrame, out: Path, note: str = "") -> None:
    from bayescluster.core.atomic import write_text
    from bayescluster.reporting.document import markdown_table

    table = summary(rows)
    goals = targets(rows, table)
    if not table.empty:
        ratio_plot(table, out / "benchmarks_suite.png")

    def fmt(frame: pd.DataFrame) -> str:
        shown = frame.map(lambda v: (f"{v:,.3g}" if abs(v) < 1000 else f"{v:,.0f}")
                          if isinstance(v, float) and np.isfinite(v) else
                          ("" if isinstance(v, float) else str(v)))
        return markdown_table(shown)

    cases = pd.DataFrame([{"case": k, "data": c.data, "family": c.family,
                           "formula": c.formula, "what": c.what} for k, c in CASES.items()])
    worst = table.dropna(subset=["ours_ess_ratio"]) if not table.empty else table
    worst_line = ("no peer ran" if worst.empty else
                  f"worst ratio {worst['ours_ess_ratio'].min():.1f}x "
                  f"({worst.loc[worst['ours_ess_ratio'].idxmin(), 'case']} against "
                  f"{worst.loc[worst['ours_ess_ratio'].idxmin(), 'system']}), best "
                  f"{worst['ours_ess_ratio'].max():.1f}x")
    text = "\n".join([
        SUITE_BEGIN,
        "## The suite: every model against brms and bambi",
        "",
        f"`benchmarks/suite.py` ({os.cpu_count()} cores). Each case is fitted by each "
        "system with seeds 1, 2, ... (*seeds*), one process at a time, 4 chains of 1,000 "
        "draws after 1,000 tuning steps unless a row says otherwise in the CSV; the row is "
        "the median over seeds. "
        "*sample_s* is the chains' own time on the 2 cores (nutpie's; PyMC's "
        "`sampling_time`; rstan's per-chain times summed over the 2 cores), *cold_s* the "
        "wall time from a fresh process to draws on disk, with the compile caches warm for "
        "a model of that shape (brms has none); *post_s* bayescluster's post-processing "
        "(collecting the draws, and every firm's log-likelihood and replicated outcome "
        "for each draw). *ours_ess_ratio* is bayescluster's min-ESS/s "
        "over the peer's, *ours_cold_ratio* its cold time over the peer's. "
        f"Summary: {worst_line}." + (f" {note}" if note else ""),
        "",
        "Priors: intercept N(log(mean y + 0.1), 2.5) (brms's and bayescluster's on the "
        "intercept at the covariates' means), coefficients N(0, 1), group SDs Gamma(2, 5), "
        "LKJ(2) correlations (bambi: uncorrelated group effects); the peers' zero parts "
        "Beta(2, 2) on the probability (bayescluster: N(-1.5, 1.5) on its logit) and their "
        "NB shape N+(0, 1) (bayescluster: N+(0, 1) on its inverse, the dispersion).",
        "",
        fmt(cases),
        "",
        fmt(table) if not table.empty else "(nothing ran)",
        "",
        "### Targets",
        "",
        fmt(goals),
        "",
        "![ratios](benchmarks_suite.png)",
        "",
        "Every run: `reports/benchmarks_suite.csv`.",
        SUITE_END,
    ])
    write_text(out / "benchmarks_suite.md", text + "\n")
    main_report = out / "benchmarks.md"
    if main_report.exists():
        body = main_report.read_text()
        if SUITE_BEGIN in body:
            body = body[:body.index(SUITE_BEGIN)] + text + body[
                body.index(SUITE_END) + len(SUITE_END):]
        else:
            first = body.index("\n\n") + 2  # after the title
            body = body[:first] + text + "\n\n" + body[first:]
        write_text(main_report, body)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--limit", type=float, default=3600, help="seconds per fit")
    parser.add_argument("--out", type=Path, default=REPORTS)
    parser.add_argument("--fresh", action="store_true", help="drop rows of earlier calls")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--note", default="", help="a sentence for the report (conditions)")
    args = parser.parse_args(argv)
    log = args.out / "benchmarks_suite.csv"
    earlier = pd.read_csv(log) if log.exists() and not args.fresh else pd.DataFrame()
    if args.report_only:
        write_report(earlier, args.out, args.note)
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.cases:
            case = CASES[name]
            csv = Path(tmp) / f"{case.data}.csv"
            if not csv.exists():
                DATA[case.data]().to_csv(csv, index=False)
            if "bayescluster" in args.systems:  # a model of this shape compiled once
                with tempfile.TemporaryDirectory() as warm:
                    _bayescluster(case, _job(case, csv, 0, args), Path(warm), args.limit,
                                  warm=True)
            for seed in range(1, args.seeds + 1):
                for system in [s for s in args.systems if s in case.systems]:
                    rows.append(measure(name, system, seed, args, csv, args.limit))
    new = pd.DataFrame(rows)
    if not earlier.empty:
        keys = ["case", "system", "seed"]
        earlier = earlier[~earlier.set_index(keys).index.isin(new.set_index(keys).index)]
    every = pd.concat([earlier, new], ignore_index=True)
    every.to_csv(log, index=False)
    write_report(every, args.out, args.note)
    print(args.out / "benchmarks_suite.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
