"""How often would each stochastic test fail on another machine? The false-failure study.

A test that asserts on sampled output passes or fails by where its draws land. On another
machine the floating-point order differs and the chains take another path, as under
another seed, so this study reruns every such test (those that use the ``within``
fixture, see ``tests/conftest.py``) with its sampler seeds shifted by 1,000 x k for
k = 0 .. seeds - 1; data seeds stay, since numpy's generators give the same tables
everywhere. Each ``within`` check records how far it was from failing.

For a check ``lower < value < upper`` the study takes the two distances ``value - lower``
and ``upper - value`` over the seeds and estimates the chance that either falls below
zero from a normal fitted to each (the sum of the two tails); a test's rate is the sum
over its checks (a union bound). A check with both bounds measures its distances in its
own half-width, since a tolerance of k Monte Carlo standard errors is wider in one run
than in another. The convergence gates are read on the scale where their spread is near
normal: log(R-hat - 1) and log(ESS). A count (divergences) has no normal tail: its rate is
its share of failing seeds, with the exact 95 % upper bound beside it.

    .venv/bin/python benchmarks/false_failures.py --seeds 20      # run what is missing
    .venv/bin/python benchmarks/false_failures.py --summarise     # table from the runs
    .venv/bin/python benchmarks/false_failures.py --tests NODE... --work out/false_failures/new
                                       # a test added later, into a folder of its own

Writes ``reports/false_failures.md`` and ``reports/false_failures.csv``; the raw records
stay in ``--work`` (default ``out/false_failures``), one file per seed, so a run that is
stopped resumes where it was. A test changed after its seeds ran is rerun into a
subfolder: for each test and seed the records of the last folder (by name, the top folder
first) count, and only tests still in the suite are summarised.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from bayescluster.core.atomic import write_text
from bayescluster.reporting.document import markdown_table

ROOT = Path(__file__).resolve().parents[1]
TARGET = 1e-3  # the bound on a test's false-failure rate
# Tests that compare with a committed fit made with the unshifted seed: at shift 0 they
# compare that fit with itself (exactly, on this machine), so only shifted seeds count
REFERENCE = ("study/test_demo::",)
# What a reader needs beside a row whose failed runs are not false failures of its checks
NOTES = {
    "model/test_scale::test_leave_one_cluster_out_on_dask":
        "its failed runs are one seed (9: the test and its teardown), where Dask's "
        "LocalCluster could not start because another cluster on the machine held port "
        "8787. A fault of the package, not of a tolerance: its scheduler now takes a free "
        "port (`inference/distributed.py`, tested by `tests/inference/test_distributed.py`); "
        "that seed has no record, hence 19 seeds.",
}


def run_seed(seed: int, work: Path, tests: list[str]) -> None:
    """The stochastic tests (or ``tests``) with sampler seeds shifted by ``seed``."""
    margins, junit = work / f"seed_{seed}.jsonl", work / f"seed_{seed}.xml"
    partial = margins.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    env = os.environ | {"BAYESCLUSTER_TEST_SEED": str(seed),
                        "BAYESCLUSTER_TEST_MARGINS": str(partial)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                    "-o", "addopts=--import-mode=importlib", f"--junitxml={junit}", *tests],
                   cwd=ROOT, env=env, check=False)
    partial.replace(margins)
    print(f"seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)


def _files(work: Path, pattern: str) -> list[tuple[int, int, Path]]:
    """(folder rank, seed, path): the top folder ranks 0, subfolders by name from 1."""
    folders = [work, *sorted(p for p in work.iterdir() if p.is_dir())]
    return [(rank, int(path.stem.split("_")[1]), path)
            for rank, folder in enumerate(folders) for path in sorted(folder.glob(pattern))]


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    """For each test and seed, the rows from the last folder that ran it."""
    if frame.empty:
        return frame
    last = frame.groupby(["test", "seed"])["rank"].transform("max")
    return frame[frame["rank"] == last].drop(columns="rank")


def current_tests() -> set[str]:
    """The stochastic tests in the suite now (pytest's collection, as the study sees it)."""
    env = os.environ | {"BAYESCLUSTER_TEST_MARGINS": os.devnull}
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider"], cwd=ROOT, env=env, capture_output=True,
                         text=True, check=True).stdout
    return {_short(line) for line in out.splitlines() if "::" in line}


def outcomes(work: Path) -> pd.DataFrame:
    """One row per test and seed: passed or not, and its time."""
    rows = []
    for rank, seed, path in _files(work, "seed_*.xml"):
        for case in ET.parse(path).getroot().iter("testcase"):
            failed = any(child.tag in ("failure", "error") for child in case)
            name = f"{case.get('classname').replace('.', '/')}.py::{case.get('name')}"
            rows.append({"seed": seed, "test": _short(name), "failed": failed,
                         "seconds": float(case.get("time", 0)), "rank": rank})
    return _latest(pd.DataFrame(rows))


def _short(nodeid: str) -> str:
    return nodeid.split("tests/")[-1].replace(".py::", "::")


def margins(work: Path) -> pd.DataFrame:
    records = []
    for rank, seed, path in _files(work, "seed_*.jsonl"):
        for line in path.read_text().splitlines():
            records.append(json.loads(line) | {"seed": seed, "rank": rank})
    frame = pd.DataFrame(records)
    frame["test"] = frame["test"].map(_short)
    return _latest(frame)


def _tail(distance: pd.Series) -> float:
    """P(distance < 0) under a normal with the seeds' mean and sd."""
    distance = distance[np.isfinite(distance)]
    if distance.empty:
        return 0.0
    mean, sd = distance.mean(), distance.std(ddof=1)
    if not sd > 0:
        return float(mean <= 0)
    return float(stats.norm.sf(mean / sd))


def _gate_scale(group: pd.DataFrame, check: str) -> pd.DataFrame:
    """A convergence gate on the scale where its spread is near normal.

    The max R-hat over many parameters has a long right tail: log(R-hat - 1) does not
    (over 18 seeds citations_hier's ran 1.004 to 1.011, and a normal fitted to R-hat itself
    put a failure at 2e-4 while one seed failed). ESS is a positive count: its log.
    """
    if check == "max R-hat":
        return group.assign(**{c: np.log(np.maximum(group[c] - 1.0, 1e-12))
                               for c in ("value", "lower", "upper")})
    if check in ("min bulk ESS", "min tail ESS"):
        return group.assign(**{c: np.log(np.maximum(group[c], 1e-12))
                               for c in ("value", "lower", "upper")})
    return group


def rates(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per check: seeds, failures, the smaller of its two z-margins and its rate."""
    rows = []
    for (test, check), group in frame.groupby(["test", "check"], sort=False):
        group = _gate_scale(group, check)
        low = group["value"] - group["lower"]
        high = group["upper"] - group["value"]
        # a two-sided check: distances in its own half-widths, which for a tolerance of k
        # MCSE differ by run (and are one constant for fixed bounds, changing nothing)
        half = (group["upper"] - group["lower"]) / 2
        if np.isfinite(half).all() and (half > 0).all():
            low, high = low / half, high / half
        failures = int(((low <= 0) | (high <= 0)).sum())
        n = len(group)
        if group["count"].any():
            rate = failures / n
            z = np.nan
        else:
            rate = _tail(low) + _tail(high)
            z = float(stats.norm.isf(min(max(rate, 1e-300), 0.5))) if rate < 0.5 else 0.0
        upper = float(stats.beta.ppf(0.95, failures + 1, n - failures)) if n else 1.0
        rows.append({"test": test, "check": check, "seeds": n, "failures": failures,
                     "z": z, "rate": rate, "count": bool(group["count"].any()),
                     "bound_95": upper})
    return pd.DataFrame(rows)


def per_test(checks: pd.DataFrame, runs: pd.DataFrame) -> pd.DataFrame:
    table = checks.groupby("test", sort=False).agg(
        checks=("check", "size"), seeds=("seeds", "max"), rate=("rate", "sum"),
        count_checks=("count", "sum"), worst_check=("rate", "idxmax"))
    table["worst_check"] = checks.loc[table["worst_check"], "check"].to_numpy()
    table["min_z"] = checks.groupby("test", sort=False)["z"].min()
    if not runs.empty:
        by = runs.groupby("test")
        table["runs_failed"] = by["failed"].sum().reindex(table.index).fillna(0).astype(int)
        table["seconds"] = by["seconds"].median().reindex(table.index).round(1)
    table["meets_target"] = table["rate"] < TARGET
    return table


def summarise(work: Path, out: Path) -> None:
    suite = current_tests()
    records = margins(work)
    itself = records["test"].str.startswith(REFERENCE) & (records["seed"] == 0)
    records = records[~itself]
    checks = rates(records[records["test"].isin(suite)])
    runs = outcomes(work)
    runs = runs[runs["test"].isin(suite)]
    missing = sorted(suite - set(checks["test"]))
    tests = per_test(checks, runs)
    checks.to_csv(out.with_suffix(".csv"), index=False)
    seeds = sorted(runs["seed"].unique()) if not runs.empty else []
    shown = tests.reset_index()[["test", "checks", "seeds", "runs_failed", "min_z", "rate",
                                 "worst_check", "meets_target", "seconds"]]
    shown["min_z"] = shown["min_z"].map(lambda z: "" if not np.isfinite(z) else f"{z:.1f}")
    shown["rate"] = shown["rate"].map(lambda r: f"{r:.1e}")
    counts = checks[checks["count"]]
    lines = [
        "# False-failure rates of the stochastic tests",
        "",
        f"Made by `benchmarks/false_failures.py` ({len(seeds)} seeds: sampler seeds shifted "
        f"by 1,000 x k, k = {seeds[0] if seeds else '-'} .. {seeds[-1] if seeds else '-'}; "
        "data seeds fixed). Each row is one test of `make test` that asserts on sampled "
        "output. `rate` is the estimated chance that the test fails on a machine whose "
        "draws differ from ours: per check, the two normal tails of its distances to its "
        "bounds over the seeds (a two-sided check's in its own half-width, since a "
        "tolerance of k MCSE differs by run), summed over the test's checks. `min_z` is the "
        "smallest "
        "check's margin in its own standard deviations over the seeds. `runs_failed` counts "
        "the seeds in which the test failed. The target is a rate under 1 in 1,000. "
        "`test_demo` compares with the committed demo, which is the unshifted seed's fit: "
        "its seed 0 compares that fit with itself and is left out.",
        "",
        markdown_table(shown),
        "",
        "## Counts",
        "",
        "A divergence count has no normal tail: its rate is its share of failing seeds. "
        f"With {len(seeds)} seeds that share can only bound the rate (the exact 95 % upper "
        "bound in `bound_95`); the gates' continuous values are estimated as above, max "
        "R-hat as log(R-hat - 1) and ESS as its log, where their spread is near normal "
        "(the max R-hat over many parameters has a long right tail).",
        "",
        markdown_table(counts[["test", "check", "seeds", "failures", "bound_95"]].round(3))
        if not counts.empty else "(none)",
        "",
        "Every check's numbers: `reports/false_failures.csv`.",
        "",
    ]
    notes = [f"- `{test}`: {text}" for test, text in NOTES.items() if test in suite]
    if notes:
        lines += ["## Notes", "", *notes, ""]
    if missing:
        lines += ["Stochastic tests without records yet: " + ", ".join(f"`{t}`" for t in missing)
                  + ".", ""]
    write_text(out.with_suffix(".md"), "\n".join(lines))
    print(out.with_suffix(".md"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--work", type=Path, default=ROOT / "out" / "false_failures")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "false_failures")
    parser.add_argument("--summarise", action="store_true", help="only write the table")
    parser.add_argument("--tests", nargs="*", default=[],
                        help="pytest node ids to run (default: every stochastic test)")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if not args.summarise:
        for seed in range(args.first, args.first + args.seeds):
            if not (args.work / f"seed_{seed}.jsonl").exists():
                run_seed(seed, args.work, args.tests)
    summarise(args.work, args.out)


if __name__ == "__main__":
    main()
