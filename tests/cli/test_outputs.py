"""Nothing is overwritten without --force: every verb's outputs are declared in one place
(``cli.common.out_option``) and refused before any work when a file exists or a folder holds
files."""

import argparse

import pytest

from bayescluster.cli import build_parser, main
from bayescluster.cli.common import claim_outputs


def _verbs():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices


def _writes(p: argparse.ArgumentParser) -> list[str]:
    """Options that name something written: --out, --runs, --draws-out, ..."""
    return [o for a in p._actions for o in a.option_strings
            if o.endswith("-out") or o in ("--out", "--runs")]


def test_every_option_that_writes_is_declared_with_force():
    for name, p in _verbs().items():
        declared = [flag for flag, *_ in p.get_default("outputs") or ()]
        assert sorted(declared) == sorted(_writes(p)), name
        if declared:
            assert any(a.dest == "force" for a in p._actions), name


def _argv(name: str, p: argparse.ArgumentParser, flag: str, path) -> list[str]:
    """The verb with ``flag`` at ``path``, its other outputs at new paths beside it."""
    argv = [name]
    for other in _writes(p):
        if other != flag:
            argv += [other, str(path.parent / f"other{other.replace('-', '_')}")]
    for action in p._actions:
        if action.option_strings and not action.required or flag in action.option_strings \
                or isinstance(action, argparse._HelpAction):
            continue
        value = "in.csv" if action.dest in ("data", "path") else "somewhere"
        argv += ([action.option_strings[0]] if action.option_strings else []) + [value]
    return argv + [flag, str(path)]


CASES = [(name, flag, kind) for name, p in _verbs().items()
         for flag, _, kind, _ in p.get_default("outputs") or ()]


@pytest.mark.parametrize(("verb", "flag", "kind"), CASES, ids=[f"{v} {f}" for v, f, _ in CASES])
def test_an_existing_output_is_refused_and_left_as_it_was(verb, flag, kind, tmp_path, capsys):
    assert len(CASES) >= 12  # fit, simulate, sbc, compare, effects, ppc, loo, predict x2, ...
    target = tmp_path / ("taken" if kind == "folder" else "taken.csv")
    if kind == "folder":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
        kept = target / "notes.txt"
    else:
        target.write_text("mine")
        kept = target
    before = sorted(p.name for p in tmp_path.rglob("*"))
    code = main(_argv(verb, _verbs()[verb], flag, target))
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"{flag} {str(target)!r}" in err and "--force" in err and "Traceback" not in err
    assert kept.read_text() == "mine" and sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.mark.parametrize(("verb", "flag", "kind"), CASES, ids=[f"{v} {f}" for v, f, _ in CASES])
def test_force_and_empty_or_new_outputs_are_taken(verb, flag, kind, tmp_path):
    p = _verbs()[verb]
    taken = tmp_path / ("taken" if kind == "folder" else "taken.csv")
    if kind == "folder":
        taken.mkdir()
        (taken / "old.csv").write_text("x")
    else:
        taken.write_text("x")
    argv = _argv(verb, p, flag, taken)
    with claim_outputs(build_parser().parse_args([*argv, "--force"])):
        pass
    for fresh in (tmp_path / "new", tmp_path / "empty"):
        if fresh.name == "empty" and kind == "folder":
            fresh.mkdir()
        with claim_outputs(build_parser().parse_args(_argv(verb, p, flag, fresh))):
            pass
    assert not list(tmp_path.rglob("*.lock"))


def test_printed_tables_round_as_the_report_does(capsys):
    """0.6655 (a float just below it) prints 0.665 and 0.0025 prints 0.003, as Python's
    formatting (the report's) rounds them; pandas' round would give 0.666 and 0.002."""
    import pandas as pd

    from bayescluster.cli.common import print_table

    print_table(pd.DataFrame({"p_gt_0": [0.6655, 0.0025, float("nan")], "n": [1, 2, 3]},
                             index=["beertax", "breath[yes]", "gap"]))
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["beertax", "0.665", "1"]
    assert lines[2].split() == ["breath[yes]", "0.003", "2"]
    assert lines[3].split() == ["gap", "NaN", "3"]
