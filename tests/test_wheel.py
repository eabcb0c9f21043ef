"""The wheel built from the repository installs into a new virtual environment and every
step works outside the repository: the shipped specs and data travel as package data."""

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(args, cwd, env=None, ok=(0,)):
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=env,
                          timeout=1800)
    assert done.returncode in ok, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done


@pytest.mark.slow  # builds a wheel and installs it with its dependencies (minutes)
def test_the_wheel_works_from_any_directory(tmp_path):
    source = tmp_path / "source"  # a copy: the build writes build/ and egg-info beside it
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in ("bayescluster", "models", "data"):
        shutil.copytree(ROOT / folder, source / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist),
          str(source)], cwd=tmp_path)
    wheel = next(dist.glob("bayescluster-*.whl"))
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)], cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    cli = str(env_dir / "bin" / "bayescluster")
    located = _run([str(python), "-c", "import bayescluster, bayescluster.core.resources as r; "
                    "print(bayescluster.__file__, r.DEFAULT_SPEC)"], cwd=work, env=env)
    assert str(ROOT) not in located.stdout and "site-packages" in located.stdout
    _run([cli, "validate", str(_shipped(python, work, env))], cwd=work, env=env)
    _run([cli, "simulate", "--n", "150", "--seed", "3", "--out", "firms.csv"], cwd=work,
         env=env)
    _run([cli, "fit", "--spec", "negbin_hier", "--data", "firms.csv", "--out", "run",
          "--chains", "2", "--draws", "150", "--tune", "150", "--quiet"], cwd=work, env=env,
         ok=(0, 3))
    summary = _run([cli, "summary", "run"], cwd=work, env=env)
    assert "fixed effects" in summary.stdout and "sd_cluster[intercept]" in summary.stdout
    _run([cli, "simulate", "--n", "40", "--seed", "4", "--complete", "--out", "new.csv"],
         cwd=work, env=env)  # new firms to predict, complete
    for verb in (["describe", "firms.csv"], ["diagnose", "run"], ["compare", "run"],
                 ["effects", "run", "--max-draws", "50"], ["ppc", "run"], ["loo", "run"],
                 ["predict", "run", "--data", "new.csv", "--max-draws", "50", "--out",
                  "pred.csv"]):
        _run([cli, *verb], cwd=work, env=env, ok=(0, 3))
    assert (work / "pred.csv").stat().st_size > 1_000
    _run([cli, "report", "run", "--out", "report"], cwd=work, env=env)
    assert (work / "report" / "index.html").stat().st_size > 10_000
    missing = _run([cli, "fit", "--spec", "no_such_spec", "--out", "x"], cwd=work, env=env,
                   ok=(2,))
    assert "zinb_hier" in missing.stderr  # the shipped specs are listed


def _shipped(python, work, env) -> str:
    done = _run([str(python), "-c", "from bayescluster.core.resources import DEFAULT_DATA; "
                 "print(DEFAULT_DATA)"], cwd=work, env=env)
    return done.stdout.strip()
