"""Fuzzing the inputs a hurried user gives: damaged CSV bytes, spec TOML with odd values,
command-line options out of range. Every outcome is exit code 0, 2 or 3, never a
traceback or another exception."""

import contextlib
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayescluster.inference.fit  # noqa: F401  pytensor raises the recursion limit on import
from bayescluster.cli import main
from bayescluster.core.errors import SpecError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.spec import load_spec, parse_spec

TABLE = DEFAULT_DATA.read_text().splitlines()[:60]
SPEC = load_spec("zinb_hier").text.splitlines()
FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
ODD = st.one_of(st.sampled_from(["", "-1", "1e20", "nan", "inf", "many", "0", "0.5", '"x"',
                                 ";", "\t", ",,", "999999999999999999999", "true", "[]",
                                 "{}", '"\\xff"', "-0", "1e-320"]),
                st.text(max_size=6))


def _exit(args) -> int:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as stop:  # argparse
            code = stop.code
    assert "Traceback" not in err.getvalue()
    return code


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(TABLE) - 1), st.integers(0, 14), ODD),
                      max_size=6),
       delimiter=st.sampled_from([",", ",", ",", ";", "\t"]),
       cut=st.integers(0, 4000))
def test_damaged_tables_validate_or_fail_cleanly(tmp_path, edits, delimiter, cut):
    rows = [line.split(",") for line in TABLE]
    for row, column, value in edits:
        if column < len(rows[row]):
            rows[row][column] = value
    text = "\n".join(delimiter.join(r) for r in rows)
    path = tmp_path / "t.csv"
    path.write_bytes(text[: len(text) - cut].encode("utf-8", "surrogatepass"))
    assert _exit(["validate", path]) in (0, 2)


@FUZZ
@given(edits=st.lists(st.tuples(st.integers(0, len(SPEC) - 1), ODD), max_size=4))
def test_odd_spec_values_are_spec_errors(edits):
    lines = list(SPEC)
    for index, value in edits:
        key, sep, _ = lines[index].partition("=")
        if sep:
            lines[index] = f"{key}= {value}"
    with contextlib.suppress(SpecError):  # a spec, or a SpecError; anything else fails
        parse_spec("\n".join(lines))


VERBS = [["simulate", "--out"], ["fit", "--out"], ["summary"], ["diagnose"], ["report", "--out"],
         ["predict", "--data"]]
OPTIONS = ["--n", "--seed", "--rho", "--draws", "--chains", "--tune", "--target-accept",
           "--prob", "--max-draws", "--spec", "--data", "--trait-sd"]


@FUZZ
@given(verb=st.sampled_from(VERBS), option=st.sampled_from(OPTIONS), value=ODD)
def test_odd_options_fail_cleanly(tmp_path, verb, option, value):
    missing = tmp_path / "no_such_run"
    args = [verb[0]]
    if verb[0] in ("summary", "diagnose", "report", "predict"):
        args.append(missing)
    if len(verb) > 1:
        args += [verb[1], tmp_path / "out.csv" if verb[0] != "predict" else missing]
    if verb[0] == "simulate" and option != "--n":
        args += ["--n", "40"]
    if verb[0] == "fit":  # never sample: an unusable option or a missing table stops it first
        args += ["--data", tmp_path / "missing.csv"] if option != "--data" else []
    assert _exit([*args, option, value]) in (0, 2, 3)
