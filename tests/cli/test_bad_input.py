"""Bad input of every kind ends in exit code 2 with a message naming the value and the fix:
never a traceback, and nothing overwritten without --force."""

import re
import subprocess
import sys

import pandas as pd
import pytest
import xarray as xr

from bayescluster.cli import main
from bayescluster.core.errors import DataError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.spec import load_spec


def _run(args, capsys) -> tuple[int, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


@pytest.mark.parametrize(("args", "message"), [
    (["simulate", "--n", "0"], "0 is outside 38 to 1000000"),
    (["simulate", "--n", "-5"], "-5 is outside 38"),
    (["simulate", "--n", "1"], "1 is outside 38"),
    (["simulate", "--n", "99999999999"], "outside 38 to 1000000"),
    (["simulate", "--seed", "-1"], "-1 is outside 0"),
    (["simulate", "--rho", "2"], r"2.0 is outside \(-1, 1\)"),
    (["simulate", "--n", "many"], "'many' is not a whole number"),
    (["fit", "--draws", "0"], "0 is outside 1 to 1000000"),
    (["fit", "--chains", "0"], "0 is outside 1 to 64"),
    (["fit", "--target-accept", "1.5"], r"1.5 is outside \[0.5, 1\)"),
    (["fit", "--sampler", "pathfinder"], r"sampler 'pathfinder' is no longer offered.*"
                                         r"reports/limit\.md.*--sampler nutpie"),
    (["fit", "--chians", "2"], r"bayescluster fit: error: unrecognized arguments: --chians "
                               r"\(did you mean --chains\?\)\. Fix: see bayescluster fit --help"),
    (["summary", "x", "--verbos"], r"unrecognized arguments: --verbos\. Fix: see "
                                   r"bayescluster summary --help"),
    (["summary", "x", "--prob", "1.5"], r"1.5 is outside \(0, 1\)"),
    (["predict", "x", "--data", "y", "--prob", "0"], r"0.0 is outside \(0, 1\)"),
])
def test_options_out_of_range(args, message, capsys, tmp_path):
    code, err = _run([*args, "--out", str(tmp_path / "o")] if args[0] in ("simulate", "fit")
                     else args, capsys)
    assert code == 2
    assert re.search(message, err), err


def test_simulate_never_overwrites_without_force(tmp_path, capsys):
    out = tmp_path / "firms.csv"
    out.write_text("precious\n")
    code, err = _run(["simulate", "--n", "40", "--out", out], capsys)
    assert code == 2 and "already exist" in err and "--force" in err
    assert out.read_text() == "precious\n"
    assert _run(["simulate", "--n", "40", "--out", out, "--force"], capsys)[0] == 0
    assert len(pd.read_csv(out)) == 40
    code, err = _run(["simulate", "--out", tmp_path], capsys)
    assert code == 2 and "is a directory" in err


def test_fit_refuses_an_out_that_is_a_file_before_sampling(tmp_path, capsys):
    target = tmp_path / "taken"
    target.write_text("x")
    code, err = _run(["fit", "--spec", "paper_m1", "--out", target], capsys)
    assert code == 2 and "is a file" in err and target.read_text() == "x"


@pytest.mark.parametrize(("content", "message"), [
    (b"", "cannot be read as a run"),
    (b"CDF\x01garbage", "cannot be read as a run|not a bayescluster run"),
    (None, "not a bayescluster run"),
])
def test_a_damaged_or_foreign_run_file(content, message, tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    if content is None:
        xr.Dataset({"a": ("x", [1.0, 2.0])}).to_netcdf(run / "run.nc")
    else:
        (run / "run.nc").write_bytes(content)
    for verb in ("diagnose", "summary", "report"):
        args = [verb, run] + (["--out", tmp_path / "rep"] if verb == "report" else [])
        code, err = _run(args, capsys)
        assert code == 2 and re.search(message, err), err


def _table(tmp_path, text: str):
    path = tmp_path / "t.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda t: t.replace(",", ";"), "separated by semicolons"),
    (lambda t: t.replace(",", "\t"), "separated by tabs"),
    (lambda t: "\n".join([t.splitlines()[0]] + [r + "," for r in t.splitlines()[1:]]),
     "more cells than its header"),
    (lambda t: t.replace("F0000001,hokkaido,0,", "F0000001,hokkaido,100000000000000000000,"),
     "counts above 1e\\+09"),
])
def test_table_problems_are_named(edit, message, tmp_path, capsys):
    text = DEFAULT_DATA.read_text()
    code, err = _run(["validate", _table(tmp_path, edit(text))], capsys)
    assert code == 2
    assert re.search(message, err), err


def test_an_outcome_of_zeros_only_is_refused(tmp_path, capsys):
    frame = pd.read_csv(DEFAULT_DATA).assign(pat=0)
    frame.to_csv(tmp_path / "zeros.csv", index=False)
    code, err = _run(["validate", tmp_path / "zeros.csv"], capsys)
    assert code == 2 and "is 0 in every firm" in err


COEF = 'coef = { dist = "normal", mu = 0.0, sigma = 1.0 }'  # zinb_hier's own, in [priors]


@pytest.mark.parametrize(("old", "new", "message"), [
    ("draws = 2000", 'draws = 2000\ntarget_accept = "high"', "target_accept = 'high' has the"),
    ('family = "zinb"', "family = 3", "family = 3 has the wrong type"),
    ("pool_by_domain = true", 'pool_by_domain = "no"', "pool_by_domain = 'no' has the"),
    ("draws = 2000", "draws = 1000000000000", "draws = 1000000000000 is outside 1 to 1,000,000"),
    ("draws = 2000", "draws = 0", "draws = 0 is outside 1 to 1,000,000"),
    (COEF, 'coef = { dist = "normal", mu = 0, sigma = -1 }', "coef.sigma = -1 must be positive"),
    (COEF, 'coef = { dist = "normal", mu = 0, sigma = "big" }',
     "coef.sigma = 'big' has the wrong type"),
])
def test_spec_values_of_the_wrong_type_or_range(old, new, message, tmp_path, capsys):
    text = load_spec("zinb_hier").text
    assert old in text
    (tmp_path / "bad.toml").write_text(text.replace(old, new, 1))
    code, err = _run(["fit", "--spec", tmp_path / "bad.toml", "--out", tmp_path / "r"], capsys)
    assert code == 2 and message in err, err
    assert not (tmp_path / "r").exists()


def test_a_spec_that_is_not_utf8(tmp_path, capsys):
    (tmp_path / "bad.toml").write_bytes(b"name = \"\xff\xfe\"\n")
    code, err = _run(["fit", "--spec", tmp_path / "bad.toml", "--out", tmp_path / "r"], capsys)
    assert code == 2 and "is not UTF-8 text" in err


@pytest.mark.parametrize(("signum", "code"), [("SIGINT", 130), ("SIGTERM", 143)])
def test_ctrl_c_or_kill_is_a_message_not_a_traceback(tmp_path, signum, code):
    """Ctrl-C or kill mid-write: exit 130 or 143, one line, the write's temp file gone at
    once, and what the command had added to its output folder removed with its lock."""
    script = (
        "import os, signal, sys, time\n"
        "from pathlib import Path\n"
        "from bayescluster.cli import analysis, main\n"
        "from bayescluster.core.atomic import atomic_path\n"
        "def interrupted(args):\n"
        "    (args.out / 'first.csv').write_text('done')\n"
        "    with atomic_path(sys.argv[2]) as tmp:\n"
        "        tmp.write_text('half')\n"
        f"        os.kill(os.getpid(), signal.{signum})\n"
        "        time.sleep(30)\n"
        "analysis.cmd_ppc = interrupted\n"
        "sys.exit(main(['ppc', 'somewhere', '--out', sys.argv[3]]))\n")
    target = tmp_path / "out.txt"
    target.write_text("before")
    (tmp_path / "out").mkdir()
    done = subprocess.run([sys.executable, "-c", script, str(DEFAULT_DATA), str(target),
                           str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert done.returncode == code, done.stderr
    assert done.stderr.strip() == ("interrupted: what this command had written is removed; "
                                   "files that were there before are as they were")
    assert target.read_text() == "before"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["out", "out.txt"]


def test_a_verb_that_fails_leaves_its_output_folder_as_it_found_it(tmp_path, capsys):
    """A verb that writes a table, then fails (exit 2), leaves no table and no lock behind,
    so the corrected command runs without --force."""
    from bayescluster.cli import analysis

    out = tmp_path / "out"

    def fails_after_a_table(args):
        (args.out / "pareto_k.csv").write_text("x")
        raise DataError("a later step failed")

    original, analysis.cmd_ppc = analysis.cmd_ppc, fails_after_a_table
    try:
        code, err = _run(["ppc", "somewhere", "--out", out], capsys)
    finally:
        analysis.cmd_ppc = original
    assert code == 2 and "a later step failed" in err
    assert not out.exists()


def test_an_output_directory_that_is_a_file_or_a_file_that_is_a_directory(tmp_path, capsys):
    existing = tmp_path / "notes.csv"
    existing.write_text("precious\n")
    for verb in (["report", tmp_path / "run"], ["sbc"], ["compare", tmp_path / "run"]):
        code, err = _run([*verb, "--out", existing], capsys)
        assert code == 2 and "is a file, not a directory" in err, (verb, err)
    code, err = _run(["predict", tmp_path / "run", "--data", DEFAULT_DATA, "--out", tmp_path],
                     capsys)
    assert code == 2 and "is a directory. Fix: name the file" in err
    assert existing.read_text() == "precious\n"


@pytest.mark.sampling
def test_comparing_clusters_of_a_single_level_run_says_what_is_needed(tmp_path, capsys):
    assert _run(["fit", "--spec", "paper_m1", "--out", tmp_path / "run", "--chains", "1",
                 "--draws", "30", "--tune", "30", "--quiet"], capsys)[0] in (0, 3)
    code, err = _run(["compare", tmp_path / "run"], capsys)
    assert code == 2 and "has no effects varying by group" in err and "Fix:" in err
