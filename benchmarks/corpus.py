"""Convergence at the defaults on tables users bring: the corpus, fitted by bayescluster and
brms, each at its defaults, beside maximum-likelihood references.

For every case of ``benchmarks/corpus_tables.py``:

- bayescluster: ``bayescluster fit --formula ...`` in a fresh process at the defaults
  (4 chains x 1,000 draws, remedies on), as a user runs it; the exit code, whether the
  process ended in a traceback, the wall time, the gates and divergences, the remedies
  tried and kept (from the run), and each fixed effect's posterior mean against the
  reference's estimate in units of the reference's standard error;
- brms: ``benchmarks/peers/brms_corpus.R`` at brms's defaults (its priors, 4 x 1,000
  draws after 1,000 warm-up, adapt_delta 0.8), with the same gates;
- the reference: ``benchmarks/corpus_reference.R`` (glmmTMB, MASS, pscl), committed in
  ``reports/corpus/reference/``.

    .venv/bin/python benchmarks/corpus_tables.py out/corpus
    LC_ALL=C Rscript benchmarks/corpus_reference.R out/corpus
    .venv/bin/python benchmarks/corpus.py fit out/corpus [--cases NAME ...]
    .venv/bin/python benchmarks/corpus.py brms out/corpus [--cases NAME ...]
    .venv/bin/python benchmarks/corpus.py report

Rows go to ``reports/corpus/bayescluster.csv`` and ``reports/corpus/brms.csv`` (a case
fitted again replaces its row); ``report`` writes ``reports/corpus.md``. Time nothing while
anything else runs on the machine.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
import warnings
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from corpus_tables import CASES  # noqa: E402

OUT = ROOT / "reports" / "corpus"
REFERENCE = OUT / "reference"
BIN = ROOT / ".venv" / "bin"
WITHIN_SE = 0.3  # the target: |posterior mean - MLE| <= 0.3 reference SE
DEGENERATE_SE = 10.0  # an MLE with a standard error this large sits on a flat ridge (a zero
# part that runs off to infinity): the posterior, held by its prior, is not the same model
PASS_RATE = 0.95


def _term(label: str) -> str:
    """A coefficient's name as R writes it: ``kind[N]:log(x)`` -> ``kindN:log(x)``."""
    return re.sub(r"([^\[\]:]+)\[([^\]]*)\]", r"\1\2", label)


def _r_term(term: str) -> str:
    """R's coefficient name without its ``factor(...)`` wrapper."""
    term = re.sub(r"factor\(([^)]*)\)", r"\1", term)
    return "intercept" if term == "(Intercept)" else term


def compare(run, case) -> pd.DataFrame:
    """Each fixed effect (count and zero part): posterior mean, the reference's estimate
    and SE, and their distance in reference SEs."""
    from bayescluster.analysis.summary import fixed_effects, zero_part

    path = REFERENCE / f"{case.name}.csv"
    if not path.exists():
        return pd.DataFrame()
    ref = pd.read_csv(path)
    ref["key"] = ref["term"].map(_r_term)
    rows = []
    for part, table in (("count", fixed_effects(run)), ("zero", zero_part(run))):
        theirs = ref[ref["part"] == part].set_index("key")
        for label, row in table.iterrows():
            key = "intercept" if label == "intercept" else _term(label)
            if key not in theirs.index:
                rows.append({"part": part, "term": label, "mean": row["mean"],
                             "reference": np.nan, "se": np.nan, "z": np.nan})
                continue
            ref_row = theirs.loc[key]
            rows.append({"part": part, "term": label, "mean": row["mean"],
                         "reference": ref_row["estimate"], "se": ref_row["std_error"],
                         "z": abs(row["mean"] - ref_row["estimate"]) / ref_row["std_error"]})
    out = pd.DataFrame(rows)
    out["converged"] = bool(ref["converged"].iloc[0])
    out["degenerate"] = bool((ref["std_error"].dropna() > DEGENERATE_SE).any())
    return out


def fit_case(case, data_dir: Path, work: Path) -> dict:
    """Fit one case from a fresh process at the defaults; one row of the results."""
    csv = data_dir / f"{case.table}.csv"
    out = work / case.name
    command = [str(BIN / "bayescluster"), "fit", "--formula", case.formula, "--family",
               case.family, "--data", str(csv), "--out", str(out), "--force"]
    if case.zero_formula:
        command += ["--zero-formula", case.zero_formula]
    if case.id:
        command += ["--id", case.id]
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    row = {"case": case.name, "what": case.what, "family": case.family, "exit": done.returncode,
           "traceback": "Traceback" in done.stderr, "wall_s": round(wall, 1),
           "when": datetime.now().isoformat(timespec="minutes")}
    if not (out / "run.nc").exists():
        row["error"] = done.stderr.strip().splitlines()[-1][:300] if done.stderr else ""
        return row
    from bayescluster.inference.diagnostics import stored_gates
    from bayescluster.inference.run import load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = load(out)
    gates = stored_gates(run.tree).set_index("gate")
    remedies = run.decisions.get("remedies", {})
    row.update({
        "rows": run.design.n_firms, "passed": run.tree.attrs["status"] == "passed",
        "divergences": int(gates.loc["divergences", "value"]),
        "max_rhat": float(gates.loc["max R-hat", "value"]),
        "min_bulk_ess": float(gates.loc["min bulk ESS", "value"]),
        "min_tail_ess": float(gates.loc["min tail ESS", "value"]),
        "worst": gates.loc["min bulk ESS", "worst"],
        "first_fit": remedies.get("first", "passed"),
        "remedies": "; ".join(f"{t['remedy']}: {t['result']}" for t in
                              remedies.get("tried", [])),
        "kept": remedies.get("kept", ""),
        **{k: round(v, 1) for k, v in run.timings.items()},
    })
    table = compare(run, case)
    if not table.empty:
        matched = table[table["part"] == "count"].dropna(subset=["z"])
        zero = table[table["part"] == "zero"].dropna(subset=["z"])
        if len(zero):
            row["max_z_zero"] = round(float(zero["z"].max()), 3)
        row.update({"terms": len(table), "matched": len(matched),
                    "max_z": round(float(matched["z"].max()), 3) if len(matched) else np.nan,
                    "worst_term": matched.loc[matched["z"].idxmax(), "term"]
                    if len(matched) else "", "reference_converged": table["converged"][0],
                    "reference_degenerate": table["degenerate"][0]})
        table.to_csv(OUT / "effects" / f"{case.name}.csv", index=False)
    return row


def brms_case(case, data_dir: Path, work: Path) -> dict:
    """Fit one case with brms at its defaults; one row of the results."""
    target = work / f"{case.name}.brms.json"
    t0 = time.perf_counter()
    done = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "peers" / "brms_corpus.R"),
                           str(data_dir), case.name, str(target)], capture_output=True,
                          text=True, env={**os.environ, "LC_ALL": "C"})
    row = {"case": case.name, "when": datetime.now().isoformat(timespec="minutes"),
           "process_s": round(time.perf_counter() - t0, 1)}
    if done.returncode or not target.exists():
        row["error"] = (done.stderr.strip().splitlines() or [""])[-1][:300]
        return row
    return {**row, **json.loads(target.read_text())}


def _store(rows: list[dict], name: str) -> None:
    path = OUT / f"{name}.csv"
    new = pd.DataFrame(rows)
    if path.exists():
        old = pd.read_csv(path)
        new = pd.concat([old[~old["case"].isin(new["case"])], new], ignore_index=True)
    order = {c.name: k for k, c in enumerate(CASES)}
    new = new.sort_values("case", key=lambda s: s.map(order)).reset_index(drop=True)
    new.to_csv(path, index=False)


def run(system: str, data_dir: Path, names: list[str] | None) -> None:
    (OUT / "effects").mkdir(parents=True, exist_ok=True)
    work = ROOT / "out" / "corpus_runs"
    work.mkdir(parents=True, exist_ok=True)
    chosen = [c for c in CASES if not names or c.name in names]
    rows = []
    for k, case in enumerate(chosen, 1):
        print(f"[{k}/{len(chosen)}] {system} {case.name} ...", flush=True)
        row = (fit_case if system == "bayescluster" else brms_case)(case, data_dir, work)
        print("   ", {key: row.get(key) for key in ("exit", "passed", "divergences",
                                                    "max_rhat", "min_bulk_ess", "max_z",
                                                    "wall_s", "error")
                      if key in row}, flush=True)
        rows.append(row)
        _store([row], system)


def _yes(value) -> str:
    return "yes" if bool(value) and value == value else "no"


def report() -> Path:
    """``reports/corpus.md`` from the stored rows."""
    ours = pd.read_csv(OUT / "bayescluster.csv")
    theirs = pd.read_csv(OUT / "brms.csv") if (OUT / "brms.csv").exists() else None
    n = len(ours)
    ended = int((~ours["traceback"].astype(bool)).sum())
    passed = int(ours["passed"].fillna(False).astype(bool).sum())
    first = int((ours["first_fit"].fillna("") == "passed").sum())
    matched = ours.dropna(subset=["max_z"])
    matched = matched[matched["reference_converged"].astype(bool)
                      & ~matched["reference_degenerate"].astype(bool)]
    close = int((matched["max_z"] <= WITHIN_SE).sum())
    tables = len({c.table for c in CASES if c.name in set(ours["case"])})
    lines = ["# The corpus: convergence at the defaults on tables users bring", "",
             f"{n} cases on {tables} "
             "public tables (`benchmarks/corpus_tables.py`), each fitted as a user would: "
             "`bayescluster fit --formula ...` at the defaults from a fresh process "
             "(`benchmarks/corpus.py`), and by brms at its defaults "
             "(`benchmarks/peers/brms_corpus.R`). Gates for both: max R-hat <= 1.01, min "
             "bulk and tail ESS >= 400, no divergent transition, E-BFMI >= 0.3. Fixed "
             "effects against maximum likelihood (`benchmarks/corpus_reference.R`: glmmTMB, "
             "MASS, pscl), in units of the reference's standard error: the count part's "
             "posterior means (a zero part's are shown beside, not held to it: its "
             "posterior is skewed where the data hold few structural zeros, so its mean is "
             "not its mode). Where glmmTMB did not converge, or an MLE sits on a flat ridge "
             f"(a standard error over {DEGENERATE_SE:g}: a zero part running off to "
             "infinity), the models do not match and the distance is shown, not counted.",
             "",
             "| measure | bayescluster | brms | target |", "| --- | --- | --- | --- |",
             f"| fits ending without a traceback | {ended} of {n} | | all |"]
    brms_pass = (f"{int(theirs['passed'].fillna(False).astype(bool).sum())} of {len(theirs)}"
                 if theirs is not None else "not run")
    lines += [f"| every gate passed at the defaults | **{passed} of {n}** "
              f"({100 * passed / n:.0f}%) | {brms_pass} | {PASS_RATE:.0%} |",
              f"| ... at the first attempt, before remedies | {first} of {n} | | |",
              f"| every fixed effect within {WITHIN_SE} SE of the MLE (references that "
              f"converged) | {close} of {len(matched)} | | all |", ""]
    lines += ["| case | what | family | rows | bayescluster gates | divergences | min ESS "
              "| max R-hat | remedies (kept) | max \\|mean - MLE\\|/SE (term) | zero part | "
              "wall s | "
              "brms gates | brms divergences | brms min ESS | brms wall s |",
              "| --- | --- | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: "
              "| --- | ---: | ---: | ---: |"]
    by = theirs.set_index("case") if theirs is not None else None
    for row in ours.itertuples():
        b = by.loc[row.case] if by is not None and row.case in by.index else None
        remedy = "" if row.first_fit == "passed" or pd.isna(row.first_fit) else \
            f"first fit: {row.first_fit}; {row.remedies} (kept {row.kept})"
        z = "" if pd.isna(getattr(row, "max_z", np.nan)) else \
            f"{row.max_z:.2f} ({row.worst_term})" + (
                "" if row.reference_converged else ", MLE did not converge") + (
                f", MLE degenerate (an SE over {DEGENERATE_SE:g})"
                if row.reference_degenerate else "")
        status = "pass" if row.passed is True or row.passed == 1.0 else (
            "FAIL" if row.exit in (0, 3) else f"exit {row.exit}: {row.error}")
        cells = [row.case, row.what, row.family, f"{row.rows:.0f}" if row.rows == row.rows
                 else "", status, f"{row.divergences:.0f}" if row.divergences == row.divergences
                 else "", f"{row.min_bulk_ess:.0f}" if row.min_bulk_ess == row.min_bulk_ess
                 else "", f"{row.max_rhat:.3f}" if row.max_rhat == row.max_rhat else "",
                 remedy, z, "" if pd.isna(getattr(row, "max_z_zero", np.nan))
                 else f"{row.max_z_zero:.2f}", f"{row.wall_s:.0f}"]
        if b is None:
            cells += ["", "", "", ""]
        elif isinstance(b.get("error"), str):
            cells += [f"error: {b['error']}", "", "", ""]
        else:
            cells += ["pass" if b["passed"] else "FAIL", f"{b['divergences']:.0f}",
                      f"{min(b['min_bulk_ess'], b['min_tail_ess']):.0f}", f"{b['wall_s']:.0f}"]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    when = sorted(set(ours["when"]))
    lines += ["", f"bayescluster rows fitted {when[0]} to {when[-1]} (2 cores, nothing else "
              "running)" + (f"; brms rows {min(theirs['when'])} to {max(theirs['when'])}, "
                            "beside other work (its wall times are not a speed comparison: "
                            "the corpus measures convergence at the defaults; the speed "
                            "suite, `reports/benchmarks_suite.md`, times both alone)"
                            if theirs is not None else "")
              + ". Per-term comparisons: `reports/corpus/effects/<case>.csv`."]
    path = ROOT / "reports" / "corpus.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("fit", "brms", "report"))
    parser.add_argument("data", nargs="?", default="out/corpus", type=Path)
    parser.add_argument("--cases", nargs="*")
    args = parser.parse_args()
    if args.what == "report":
        print(report())
        return
    run("bayescluster" if args.what == "fit" else "brms", args.data.resolve(), args.cases)
    print(report())


if __name__ == "__main__":
    main()
