"""What the verbs share: exit codes, printing tables and gates, Dask options."""

import argparse
from pathlib import Path

from bayescluster.spec.sampling import MAX_ITERATIONS

GATES_FAILED = 3  # a fit that failed its convergence gates (the run is written, marked failed)


def _ranged(cast, noun: str, low, high, example, open_low: bool, open_high: bool):
    def parse(text: str):
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}. Fix: e.g. "
                                             f"{example}.") from None
        above = value > low if open_low else value >= low
        below = value < high if open_high else value <= high
        if not (above and below):
            ends = f"{low} to {high}" if cast is int else \
                f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
            raise argparse.ArgumentTypeError(f"{value} is outside {ends}. Fix: e.g. "
                                             f"{example}.")
        return value
    return parse


def out_option(p: argparse.ArgumentParser, kind: str = "folder", *, flag: str = "--out",
               required: bool = False, default: str | None = None, help: str | None = None,
               companions=None) -> None:
    """Add an output option (a ``folder`` or a ``file``) and ``--force``.

    Every verb's outputs are declared here and checked by :func:`claim_outputs` before
    the verb starts: an existing file, or a folder that holds files, is refused unless
    ``--force`` is given. ``companions`` maps a file's path to further paths the verb
    writes beside it (a simulated table's truth).
    """
    dest = flag.lstrip("-").replace("-", "_")
    text = help or ("folder to write the tables (CSV) and figures (PNG) into"
                    if kind == "folder" else "file to write")
    p.add_argument(flag, type=folder if kind == "folder" else file_out, required=required,
                   default=default, help=text + " (refused if it exists, unless --force)")
    outputs = p.get_default("outputs") or ()
    p.set_defaults(outputs=(*outputs, (flag, dest, kind, companions)))
    if not any(action.dest == "force" for action in p._actions):
        p.add_argument("--force", action="store_true",
                       help="replace existing output files (and write into a folder that "
                            "holds files)")


def claim_outputs(args: argparse.Namespace) -> None:
    """Refuse to overwrite: an existing output file or non-empty folder needs ``--force``.

    Raises
    ------
    RunError
        Naming the option, the path, what is there and the fix.
    """
    from bayescluster.core.errors import RunError

    if getattr(args, "force", False):
        return
    for flag, dest, kind, companions in getattr(args, "outputs", ()):
        path = getattr(args, dest, None)
        if path is None:
            continue
        path = Path(path)
        if kind == "folder":
            held = sorted(p.name for p in path.iterdir()) if path.is_dir() else []
            if held:
                shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3
                                               else "")
                raise RunError(f"{flag} {str(path)!r} already holds files ({shown}). Fix: "
                               "name a new or empty folder, or pass --force to write into "
                               "it (files of the same names are replaced).")
            continue
        taken = [p for p in (path, *(companions(path) if companions else ())) if p.exists()]
        if taken:
            raise RunError(f"{flag} {str(path)!r}: {' and '.join(map(str, taken))} already "
                           "exist(s). Fix: name another file, or pass --force to replace "
                           f"{'it' if len(taken) == 1 else 'them'}.")


def folder(text: str) -> Path:
    """An argparse type: a directory to write into (created if missing), not a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a directory. Fix: name a "
                                         "directory (it is created if missing).")
    return path


def file_out(text: str) -> Path:
    """An argparse type: a file to write, not a directory."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory. Fix: name the file to "
                                         "write, e.g. predictions.csv.")
    return path


def whole(low: int, high: int, example: int):
    """An argparse type: a whole number in [low, high], else a message with the fix."""
    return _ranged(int, "a whole number", low, high, example, False, False)


def number(low: float, high: float, example: float, *, open_low: bool = False,
           open_high: bool = False):
    """An argparse type: a number between low and high (ends open or closed)."""
    return _ranged(float, "a number", low, high, example, open_low, open_high)


SEED = whole(0, 2**32 - 1, 1)
CHAINS = whole(1, 64, 4)
DRAWS = whole(1, MAX_ITERATIONS, 1000)
PROB = number(0, 1, 0.9, open_low=True, open_high=True)
TARGET_ACCEPT = number(0.5, 1, 0.9, open_high=True)
MAX_DRAWS = whole(1, 10_000_000, 1000)
WORKERS = whole(1, 256, 2)
RELOO = whole(0, 1000, 10)


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
    p.add_argument("--workers", type=WORKERS, default=2, help="LocalCluster worker processes")


def verify_option(p: argparse.ArgumentParser) -> None:
    """Add --no-verify (read a run whose checksum no longer matches)."""
    p.add_argument("--no-verify", action="store_true",
                   help="read a run even if it was modified after it was written")
