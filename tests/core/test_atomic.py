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


def test_a_second_writer_is_refused_while_the_first_holds_the_folder(tmp_path):
    from bayescluster.core.atomic import LOCK, exclusive

    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        out.mkdir()
        (out / LOCK).write_text(str(holder.pid))
        with pytest.raises(FileExistsError) as taken, exclusive(out):
            pass
        assert taken.value.args == (holder.pid, str(out / LOCK))
    finally:
        holder.kill()
        holder.wait()
    with exclusive(out):  # the holder is gone: its lock is taken over
        assert (out / LOCK).read_text().split()[0] == str(os.getpid())
    assert not (out / LOCK).exists()
    # a live process that reuses a dead writer's id (another start time) does not hold it
    (out / LOCK).write_text(f"{os.getppid()} 1")
    with exclusive(out):
        assert (out / LOCK).read_text().split()[0] == str(os.getpid())


def test_a_folder_made_for_an_output_is_removed_if_nothing_was_written(tmp_path):
    from bayescluster.core.atomic import exclusive

    with pytest.raises(RuntimeError), exclusive(tmp_path / "new"):
        raise RuntimeError("the verb failed")
    assert not (tmp_path / "new").exists()
    with exclusive(tmp_path / "kept"):
        (tmp_path / "kept" / "a.csv").write_text("x")
    assert [p.name for p in (tmp_path / "kept").iterdir()] == ["a.csv"]


def test_without_replace_the_first_writer_wins_whole(tmp_path):
    target = tmp_path / "run.nc"
    with pytest.raises(FileExistsError), atomic_path(target, replace=False) as tmp:
        tmp.write_text("second")
        target.write_text("first")  # another writer finished first
    assert target.read_text() == "first" and [p.name for p in tmp_path.iterdir()] == ["run.nc"]
