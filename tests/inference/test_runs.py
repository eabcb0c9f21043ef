"""Run directories, the gates' exit code, and the fit/diagnose/summary verbs."""

import numpy as np
import pandas as pd
import pytest

from bayescluster.cli import main
from bayescluster.core.errors import RunError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.inference.run import (
    RUN_FILE,
    _dataset_to_frame,
    _frame_to_dataset,
    data_hash,
    load,
    save,
)
from bayescluster.spec import load_spec
from bayescluster.study.firms import validate
from bayescluster.study.simulate import simulate

pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, sampler_seed):
    """paper_m3 through the command line, too short to pass the gates: 120 draws cannot
    reach a bulk ESS of 400 for every parameter."""
    out = tmp_path_factory.mktemp("runs") / "m3"
    code = main(["fit", "--spec", "paper_m3", "--data", str(DEFAULT_DATA), "--out", str(out),
                 "--chains", "2", "--draws", "60", "--tune", "60", "--seed",
                 str(sampler_seed(1)), "--quiet"])
    return out, code


def test_failed_gates_give_their_own_exit_code_and_mark_the_run(short_run, capsys):
    out, code = short_run
    assert code == 3
    run = load(out)
    assert run.tree.attrs["status"] == "failed"
    assert main(["diagnose", str(out)]) == 3
    printed = capsys.readouterr().out
    assert "min bulk ESS" in printed and "FAIL" in printed and "gates: FAILED" in printed


def test_load_rebuilds_spec_data_and_model_without_pickle(short_run):
    out, _ = short_run
    run = load(out)
    assert run.spec.name == "paper_m3" and run.design.n_firms == 197
    assert run.tree.attrs["n_dropped"] == 32
    assert {"pymc", "nutpie", "arviz-stats"} <= set(__import__("json").loads(
        run.tree.attrs["package_versions"]))
    assert __import__("json").loads(run.tree.attrs["settings"])["seed"] == 1
    assert "pat" in run.tree["log_likelihood"]
    assert run.built.model.named_vars["beta"] is not None
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    assert not any(p.suffix == ".pkl" for p in out.iterdir())


def test_existing_run_not_overwritten_without_force(short_run, capsys):
    out, _ = short_run
    before = (out / RUN_FILE).read_bytes()
    code = main(["fit", "--spec", "paper_m3", "--out", str(out), "--quiet"])
    assert code == 2
    assert f"--out {str(out)!r} already holds files (run.nc)" in capsys.readouterr().err
    assert (out / RUN_FILE).read_bytes() == before
    with pytest.raises(RunError, match=r"already holds a run\. Fix: .*--force"):
        save(load(out), out)


def test_summary_prints_table4_with_paper_values(short_run, capsys):
    out, _ = short_run
    assert main(["summary", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "paper_coef" in printed and "paper_se" in printed
    lines = [line for line in printed.splitlines() if line.startswith("participant:national")]
    assert lines and "0.796" in lines[0] and "0.375" in lines[0]


def test_missing_run_directory(tmp_path, capsys):
    assert main(["summary", str(tmp_path)]) == 2
    assert "holds no run" in capsys.readouterr().err


def test_saved_draws_round_trip(short_run, tmp_path):
    out, _ = short_run
    run = load(out)
    save(run, tmp_path / "copy")
    again = load(tmp_path / "copy")
    np.testing.assert_array_equal(run.posterior["beta"].values, again.posterior["beta"].values)
    assert run.tree.attrs["data_sha256"] == again.tree.attrs["data_sha256"]


@pytest.mark.parametrize("extra", [
    np.arange(229, dtype=np.int64),                                   # ints stored as float
    np.arange(229) % 2 == 0,                                          # booleans
    pd.array([None if i % 7 == 0 else i for i in range(229)], dtype="Int64"),  # nullable
])
def test_an_in_memory_table_survives_the_run_file_with_its_hash(extra):
    """A table built in Python (not read from CSV) keeps its dtypes through the run file, so
    ``load`` does not mistake it for a damaged one; a changed value still fails the hash."""
    spec = load_spec("zinb_hier")
    sim = simulate(229, seed=3).data.assign(extra=extra)
    data = validate(sim[sim["cluster"] != "okinawa"], spec.roles)
    back = validate(_dataset_to_frame(_frame_to_dataset(data.frame)), spec.roles)
    assert data_hash(back.frame) == data_hash(data.frame)
    pd.testing.assert_frame_equal(back.frame, data.frame)
    back.frame.loc[back.frame.index[0], "pat"] += 1
    assert data_hash(back.frame) != data_hash(data.frame)
