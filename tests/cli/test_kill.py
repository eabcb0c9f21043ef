"""Killing fit or report at any step leaves the previous run (or report) whole, and nothing
half-written behind: SIGINT cleans up at once, a SIGKILL's temp files go at the next write."""

import os
import signal
import subprocess
import sys
import time

import pytest

from bayescluster.inference.run import load

pytestmark = pytest.mark.slow  # a dozen short fits and reports, killed part-way

FIT = ["fit", "--spec", "paper_m1", "--chains", "2", "--draws", "150", "--tune", "150",
       "--quiet", "--force"]


def _cli(args, **kwargs):
    return subprocess.Popen([sys.executable, "-c", "import sys; from bayescluster.cli import "
                             "main; sys.exit(main(sys.argv[1:]))", *map(str, args)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def _wait(process) -> str:
    """The process's stderr once it exits; a process still running after 10 min fails."""
    try:
        return process.communicate(timeout=600)[1]
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"bayescluster {' '.join(process.args[3:])} still ran 10 min on")


def _finish(args) -> int:
    with _cli(args) as process:
        _wait(process)
    return process.returncode


def _temps(folder) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*.tmp"))


@pytest.fixture(scope="module")
def previous(tmp_path_factory):
    out = tmp_path_factory.mktemp("kill") / "run"
    assert _finish([*FIT, "--out", out, "--seed", "1"]) in (0, 3)
    return out


def _cold(tmp_path) -> dict:
    """An environment whose compile caches are empty: the kill can land in the compilers."""
    return dict(os.environ, PYTENSOR_FLAGS=f"compiledir={tmp_path / 'pytensor'}",
                NUMBA_CACHE_DIR=str(tmp_path / "numba"))


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL])
@pytest.mark.parametrize("after", [0.5, 3.0, 6.0, 8.0, 9.0])
def test_a_killed_fit_leaves_the_previous_run_whole(previous, tmp_path, signum, after):
    with _cli([*FIT, "--out", previous, "--seed", "2"], env=_cold(tmp_path)) as process:
        time.sleep(after)
        if process.poll() is None:
            os.kill(process.pid, signum)
        err = _wait(process)
    code = process.returncode
    assert "Traceback" not in err
    # SIGINT: our message and 130, or, when it lands before main takes Ctrl-C over (or
    # after it hands it back), Python's own exit by the signal; never a traceback
    died = -signal.SIGKILL if signum == signal.SIGKILL else -signal.SIGINT
    assert code in (0, 3, 130, died), (code, err)
    load(previous)  # verifies the checksum: the old run whole, or a whole new one
    if code in (0, 3, 130):
        assert _temps(previous.parent) == []
    else:  # a temp a killed writer left goes at the next write of the run
        assert _finish([*FIT, "--out", previous, "--seed", "1"]) in (0, 3)
        assert _temps(previous.parent) == []


@pytest.mark.parametrize("after", [0.5, 2.0, 4.0])
def test_a_killed_report_leaves_whole_files(previous, tmp_path, after):
    out = tmp_path / "report"
    assert _finish(["report", previous, "--out", out]) == 0
    before = {p.name for p in out.iterdir() if p.is_file()}
    with _cli(["report", previous, "--out", out, "--max-draws", "200", "--force"]) as process:
        time.sleep(after)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGINT)
        err = _wait(process)
    assert process.returncode in (0, 130, -signal.SIGINT)  # see the fit test
    assert "Traceback" not in err
    if process.returncode == -signal.SIGINT:  # killed outright: the next write cleans up
        assert _finish(["report", previous, "--out", out, "--max-draws", "200",
                        "--force"]) == 0
    assert _temps(out) == []
    html = (out / "index.html").read_text()
    assert html.rstrip().endswith("</html>")
    assert before <= {p.name for p in out.iterdir()}
