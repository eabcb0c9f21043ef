"""Atomic writes: never a half-written file, the user's umask, left-overs cleaned."""

import os
import subprocess
import sys

import pytest

from bayescluster.core.atomic import atomic_path, write_text


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_files_get_the_users_umask(tmp_path):
    mask = os.umask(0o027)
    try:
        write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640


def test_left_overs_of_a_killed_writer_are_removed_by_the_next_write(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    dead = tmp_path / f".run.{gone}.abc123.nc.tmp"
    live = tmp_path / f".run.{os.getpid()}.def456.nc.tmp"  # a writer still at work
    dead.write_text("half")
    live.write_text("half")
    write_text(tmp_path / "run.nc", "whole")
    assert not dead.exists() and live.exists()
    assert (tmp_path / "run.nc").read_text() == "whole"
