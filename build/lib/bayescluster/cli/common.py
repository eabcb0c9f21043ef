"""What the verbs share: exit codes, printing tables and gates, Dask options."""

import argparse

GATES_FAILED = 3  # a fit that failed its convergence gates (the run is written, marked failed)


def print_table(frame, digits: int = 3) -> None:
    """Print a DataFrame whole, rounded."""
    import pandas as pd

    with pd.option_context("display.width", 180, "display.max_columns", 40,
                           "display.max_rows", 500):
        print(frame.round(digits).to_string())


def print_gates(run) -> bool:
    """Print a run's gate table and verdict; return whether it passed."""
    from bayescluster.inference.diagnostics import gate_verdict

    text, passed = gate_verdict(run.tree)
    print(text)
    return passed


def dask_options(p: argparse.ArgumentParser) -> None:
    """Add --scheduler and --workers."""
    p.add_argument("--scheduler", help="Dask scheduler address tcp://HOST:PORT (default: a "
                                       "LocalCluster on this machine)")
    p.add_argument("--workers", type=int, default=2, help="LocalCluster worker processes")
