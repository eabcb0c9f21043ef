"""What the verbs share: exit codes, printing tables and gates, Dask options."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from bayescluster.core.defaults import CI_PROB, DEFAULT_SAMPLING
from bayescluster.spec.sampling import MAX_ITERATIONS

if TYPE_CHECKING:
    import pandas as pd

    from bayescluster.inference.run import Run

GATES_FAILED = 3  # a fit that failed its convergence gates (the run is written, marked failed)


class Parser(argparse.ArgumentParser):
    """An argument parser that takes no abbreviation and names the option or choice meant.

    ``--draw`` is not read as ``--draws`` (an option is spelled out in full); an unknown
    option is refused by its verb's parser with the closest of the verb's options, and a
    value outside a fixed set of choices with the closest choice. Every verb's parser is
    one (``add_subparsers`` makes its parsers of the parent's class).
    """

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def parse_known_args(self, args: list[str] | None = None,
                         namespace: argparse.Namespace | None = None
                         ) -> tuple[argparse.Namespace, list[str]]:
        """Parse, refusing what no parser knows with the option the user meant.

        Parameters
        ----------
        args : list of str, optional
            The arguments (default: ``sys.argv[1:]``).
        namespace : argparse.Namespace, optional
            Where to put them.

        Returns
        -------
        (argparse.Namespace, list of str)
            The parsed options; the list is empty at the top level (an unknown argument is
            an error, exit 2).
        """
        import difflib

        parsed, extra = super().parse_known_args(args, namespace)
        verb = getattr(parsed, "command", None)
        if not extra or verb is None or self.prog.split()[-1] == verb:
            return parsed, extra
        choices = next(a for a in self._actions
                       if isinstance(a, argparse._SubParsersAction)).choices
        sub = choices[verb]
        known = [o for action in sub._actions for o in action.option_strings]
        shown = [f"{given} (did you mean {close[0]}?)" if (close := difflib.get_close_matches(
                     given.split("=")[0], known, n=1)) else given
                 for given in extra if given.startswith("-")] or extra
        sub.error(f"unrecognized arguments: {'; '.join(shown)}. Fix: see bayescluster {verb} "
                  "--help for its options.")

    def error(self, message: str) -> NoReturn:
        """Exit 2 with ``message``, and the closest choice to an invalid one.

        Parameters
        ----------
        message : str
            argparse's message.

        Returns
        -------
        NoReturn
            It exits (``SystemExit`` with code 2).
        """
        import difflib
        import re

        found = re.search(r"invalid choice: '(.*?)' \(choose from (.*)\)", message)
        if found:
            options = re.findall(r"'([^']*)'", found[2]) or found[2].split(", ")
            close = difflib.get_close_matches(found[1], options, n=1)
            if close:
                message += f". Fix: did you mean '{close[0]}'?"
        super().error(message)


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
               companions: Callable[[Path], Iterable[Path]] | None = None) -> None:
    """Add an output option (a ``folder`` or a ``file``) and ``--force``.

    Every verb's outputs are declared here and checked by :func:`claim_outputs` before
    the verb starts: an existing file, or a folder that holds files, is refused unless
    ``--force`` is given. ``companions`` maps a file's path to further paths the verb
    writes beside it (a simulated table's truth).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The verb's parser.
    kind : {"folder", "file"}
        What the option names: a folder to write into (created if missing) or a file.
    flag : str
        The option, e.g. ``--out`` or ``--draws-out``; its value lands in the matching
        attribute (``out``, ``draws_out``).
    required : bool
        Whether the option must be given.
    default : str, optional
        The path when the option is not given (None: no output).
    help : str, optional
        The option's help (default: a generic line for the kind); the refusal without
        ``--force`` is appended.
    companions : callable, optional
        A file's path -> further paths written beside it, refused like the file.
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


@contextmanager
def claim_outputs(args: argparse.Namespace) -> Iterator[None]:
    """Hold every output for this process, refusing to overwrite without ``--force``.

    An output folder (or a file's folder) gets a lock file while the verb runs, so a second
    process writing the same output is refused at once, ``--force`` or not; then an
    existing output file or a folder that holds files is refused unless ``--force``. If
    the verb fails or is interrupted, what it added to its outputs is removed.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line; its ``outputs`` are those :func:`out_option` declared.

    Yields
    ------
    None
        While the verb runs; the locks are released after it.

    Raises
    ------
    RunError
        Naming the option, the path, what is there (or which process writes it) and the
        fix.
    """
    from bayescluster.core.atomic import LOCK, exclusive
    from bayescluster.core.errors import RunError

    force = getattr(args, "force", False)
    with ExitStack() as held_outputs:
        for flag, dest, kind, companions in getattr(args, "outputs", ()):
            path = getattr(args, dest, None)
            if path is None:
                continue
            path = Path(path)
            where, lock, only = (path, LOCK, None) if kind == "folder" else (
                path.parent, f".{path.name}.lock", path.name)
            try:
                held_outputs.enter_context(exclusive(where, lock, only=only))
            except FileExistsError as taken:
                raise RunError(f"{flag} {str(path)!r} is being written by another "
                               f"bayescluster process (pid {taken.args[0]}). Fix: wait for "
                               "it to finish, or name another output (if no bayescluster "
                               f"process is running, delete {taken.args[1]}).") from None
            if force:
                continue
            if kind == "folder":
                _refuse_folder(flag, path, LOCK)
                continue
            taken = [p for p in (path, *(companions(path) if companions else ()))
                     if p.exists()]
            if taken:
                raise RunError(f"{flag} {str(path)!r}: {' and '.join(map(str, taken))} "
                               "already exist(s). Fix: name another file, or pass --force "
                               f"to replace {'it' if len(taken) == 1 else 'them'}.")
        yield


def _refuse_folder(flag: str, path: Path, lock: str) -> None:
    from bayescluster.core.errors import RunError

    held = sorted(p.name for p in path.iterdir() if p.name != lock)
    if held:
        shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
        raise RunError(f"{flag} {str(path)!r} already holds files ({shown}). Fix: name a new "
                       "or empty folder, or pass --force to write into it (files of the "
                       "same names are replaced).")


def folder(text: str) -> Path:
    """An argparse type: a directory to write into (created if missing), not a file.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    Path
        The directory (not created here).

    Raises
    ------
    argparse.ArgumentTypeError
        When ``text`` names an existing file.
    """
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a directory. Fix: name a "
                                         "directory (it is created if missing).")
    return path


def file_out(text: str) -> Path:
    """An argparse type: a file to write, not a directory.

    Parameters
    ----------
    text : str
        The option's value.

    Returns
    -------
    Path
        The file.

    Raises
    ------
    argparse.ArgumentTypeError
        When ``text`` names an existing directory.
    """
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory. Fix: name the file to "
                                         "write, e.g. predictions.csv.")
    return path


def whole(low: int, high: int, example: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [low, high], else a message with the fix.

    Parameters
    ----------
    low : int
        The smallest value allowed.
    high : int
        The largest value allowed.
    example : int
        A valid value, shown in the fix.

    Returns
    -------
    callable
        Text -> its whole number; raises :class:`argparse.ArgumentTypeError` otherwise.
    """
    return _ranged(int, "a whole number", low, high, example, False, False)


def number(low: float, high: float, example: float, *, open_low: bool = False,
           open_high: bool = False) -> Callable[[str], float]:
    """An argparse type: a number between low and high (ends open or closed).

    Parameters
    ----------
    low : float
        The lower end.
    high : float
        The upper end.
    example : float
        A valid value, shown in the fix.
    open_low : bool
        Whether ``low`` itself is excluded.
    open_high : bool
        Whether ``high`` itself is excluded.

    Returns
    -------
    callable
        Text -> its number; raises :class:`argparse.ArgumentTypeError` otherwise.
    """
    return _ranged(float, "a number", low, high, example, open_low, open_high)


SEED = whole(0, 2**32 - 1, 1)
CHAINS = whole(1, 64, 4)
DRAWS = whole(1, MAX_ITERATIONS, 1000)
PROB = number(0, 1, CI_PROB, open_low=True, open_high=True)
TARGET_ACCEPT = number(0.5, 1, DEFAULT_SAMPLING["target_accept"], open_high=True)
MAX_DRAWS = whole(1, 10_000_000, 1000)
WORKERS = whole(1, 256, 2)
DEFAULT_WORKERS = 2
RELOO = whole(0, 1000, 10)


def print_table(frame: pd.DataFrame, digits: int = 3) -> None:
    """Print a DataFrame whole, rounded.

    Each number is rounded from its decimal digits, as the report's formatting rounds it
    (``0.6655`` is ``0.665``, the float below it), not scaled and rounded half to even.

    Parameters
    ----------
    frame : DataFrame
        The table; up to 500 rows and 40 columns are printed, 180 characters wide.
    digits : int
        Decimal places.
    """
    import pandas as pd

    floats = frame.select_dtypes("float").columns
    if len(floats):
        frame = frame.copy()
        frame[floats] = frame[floats].map(
            lambda x: float(f"{x:.{digits}f}") if pd.notna(x) else x)
    with pd.option_context("display.width", 180, "display.max_columns", 40,
                           "display.max_rows", 500):
        print(frame.to_string())


def print_gates(run: Run) -> bool:
    """Print a run's gate table and verdict; return whether it passed.

    Parameters
    ----------
    run : Run
        A fitted or loaded run.

    Returns
    -------
    bool
        Whether it passed its convergence gates (True for a run without gates).
    """
    from bayescluster.inference.diagnostics import gate_verdict

    text, passed = gate_verdict(run.tree)
    print(text)
    return passed


def dask_options(p: argparse.ArgumentParser) -> None:
    """Add --scheduler, --workers and the TLS files of a remote scheduler.

    Parameters
    ----------
    p : argparse.ArgumentParser
        The verb's parser.
    """
    p.add_argument("--scheduler", help="a running Dask scheduler, tls://HOST:PORT (with the "
                                       "TLS files below) or tcp://HOST:PORT (unauthenticated); "
                                       "default: a LocalCluster on this machine's loopback")
    p.add_argument("--workers", type=WORKERS, help="LocalCluster worker processes (default "
                                                   f"{DEFAULT_WORKERS})")
    tls = p.add_argument_group("TLS for a tls:// scheduler (default: Dask's configuration, "
                               "distributed.comm.tls.*)")
    tls.add_argument("--tls-ca-file", metavar="PEM", help="the certificate authority that "
                                                           "signed the cluster's certificates")
    tls.add_argument("--tls-cert", metavar="PEM", help="this client's certificate")
    tls.add_argument("--tls-key", metavar="PEM", help="this client's private key (if not in "
                                                       "--tls-cert's file)")


def dask_settings(args: argparse.Namespace) -> dict:
    """The Dask options of a verb as the library's keywords.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line, with :func:`dask_options`' options.

    Returns
    -------
    dict
        ``scheduler``, ``workers`` and ``security`` (a ``distributed.Security`` or None),
        checked before any work starts.

    Raises
    ------
    BayesclusterError
        When the address or a TLS file cannot work (see
        :func:`bayescluster.inference.distributed.check_scheduler`).
    """
    from bayescluster.core.errors import BayesclusterError
    from bayescluster.inference.distributed import check_scheduler, probe, security_of

    security = security_of({"ca_file": args.tls_ca_file, "cert": args.tls_cert,
                            "key": args.tls_key})
    check_scheduler(args.scheduler, security)
    if args.scheduler is not None:
        if args.workers is not None:
            raise BayesclusterError(f"--workers {args.workers} starts a local cluster, but "
                                    f"--scheduler {args.scheduler} names a running one whose "
                                    "workers are its own. Fix: drop --workers (or "
                                    "--scheduler).")
        probe(args.scheduler)
    workers = DEFAULT_WORKERS if args.workers is None else args.workers
    return {"scheduler": args.scheduler, "workers": workers, "security": security}


def refuse_dask_options(args: argparse.Namespace, needed: str) -> None:
    """Refuse Dask options given to a verb that will not refit.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed command line, with :func:`dask_options`' options.
    needed : str
        The option that makes the verb refit (``--by-cluster``).

    Raises
    ------
    BayesclusterError
        Naming the options given and the fix.
    """
    from bayescluster.core.errors import BayesclusterError

    given = [flag for flag, value in (("--scheduler", args.scheduler),
                                      ("--workers", args.workers),
                                      ("--tls-ca-file", args.tls_ca_file),
                                      ("--tls-cert", args.tls_cert),
                                      ("--tls-key", args.tls_key)) if value is not None]
    if given:
        raise BayesclusterError(f"{', '.join(given)} only tell(s) where refits run, and "
                                f"nothing is refitted without {needed}. Fix: add {needed}, "
                                "or drop them.")


def verify_option(p: argparse.ArgumentParser) -> None:
    """Add --no-verify (read a run whose checksum no longer matches).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The verb's parser.
    """
    p.add_argument("--no-verify", action="store_true",
                   help="read a run even if it was modified after it was written")
