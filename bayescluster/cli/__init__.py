"""Command line: one verb per job, thin over the library functions.

Exit codes: 0 success; 2 a problem with the data, spec, option or run directory (message,
no traceback); 3 a fit that failed its convergence gates; 130 interrupted. The verbs'
modules are imported inside :func:`main`, after it has taken over Ctrl-C, so that Ctrl-C
at any moment after start-up is one line, not a traceback.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from bayescluster.core.atomic import remove_pending

if TYPE_CHECKING:
    import argparse

INTERRUPTED = 130  # Ctrl-C, as shells report it
TERMINATED = 143  # SIGTERM (kill, timeout), as shells report it


def _interrupted(signum, frame) -> None:
    """Ctrl-C: remove the temp files of writes under way, say so, and exit at once.

    Exiting from the handler, not by raising KeyboardInterrupt, means the interrupt cannot
    land inside a compiler, a C callback or a sampler's threads and leave them half-way
    (a traceback or a hang at shutdown). Every file is written by a rename, so what was
    there before the step stays whole.
    """
    import os
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while cleaning up
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    remove_pending()
    sys.stderr.write("interrupted: what this command had written is removed; files that "
                     "were there before are as they were\n")
    sys.stderr.flush()
    os._exit(TERMINATED if signum == signal.SIGTERM else INTERRUPTED)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb.

    Returns
    -------
    argparse.ArgumentParser
        ``bayescluster``'s parser; each verb's subparser sets ``func``, the function that
        runs it.
    """
    from bayescluster.cli import analysis, data, fit
    from bayescluster.cli.common import Parser

    parser = Parser(prog="bayescluster", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    data.add_commands(sub)
    fit.add_commands(sub)
    analysis.add_commands(sub)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr, without the source line Python adds."""
    sys.stderr.write(f"warning: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after the program's name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a problem with the data, spec, option or run directory (its
        message on stderr), 3 for a fit that failed its convergence gates.
    """
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = (signal.signal(signal.SIGINT, _interrupted),
                    signal.signal(signal.SIGTERM, _interrupted))
    try:
        import warnings

        from bayescluster.cli.common import claim_outputs
        from bayescluster.core.errors import BayesclusterError, ConvergenceWarning

        args = build_parser().parse_args(argv)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
            # a failed run's caveat is the command's own output: shown once, never raised
            warnings.simplefilter("default", ConvergenceWarning)
            warnings.showwarning = _show_warning
            try:
                with claim_outputs(args):
                    return args.func(args)
            except BayesclusterError as error:
                print(f"error: {error}", file=sys.stderr)
                return error.exit_code
            except BrokenPipeError:
                # the reader left (``| head``): stop quietly, as other command-line tools do
                import os

                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous[0])
            signal.signal(signal.SIGTERM, previous[1])


if __name__ == "__main__":
    sys.exit(main())
