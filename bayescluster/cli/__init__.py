"""Command line: one verb per job, thin over the library functions.

Exit codes: 0 success; 2 a problem with the data, spec, option or run directory (message,
no traceback); 3 a fit that failed its convergence gates; 130 interrupted. The verbs'
modules are imported inside :func:`main`, so that Ctrl-C at any moment after start-up is
one line, not a traceback.
"""

import sys

INTERRUPTED = 130  # Ctrl-C, as shells report it


def _unraisable(hook) -> None:
    """Deliver again a Ctrl-C that landed in a callback Python cannot raise from.

    Such a callback (a garbage-collection hook) would print it as "Exception ignored" and
    carry on; the main thread gets it instead.
    """
    if issubclass(hook.exc_type, KeyboardInterrupt):
        import _thread
        import threading

        threading.Timer(0.01, _thread.interrupt_main).start()  # once out of the callback
        return
    sys.__unraisablehook__(hook)


def build_parser():
    """The argument parser with every verb."""
    import argparse

    from bayescluster.cli import analysis, data, fit

    parser = argparse.ArgumentParser(prog="bayescluster", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    data.add_commands(sub)
    fit.add_commands(sub)
    analysis.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    sys.unraisablehook = _unraisable
    try:
        import warnings

        from bayescluster.core.errors import BayesclusterError

        args = build_parser().parse_args(argv)
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        try:
            return args.func(args)
        except BayesclusterError as error:
            print(f"error: {error}", file=sys.stderr)
            return error.exit_code
    except KeyboardInterrupt:
        print("interrupted: nothing was written by the step that was running", file=sys.stderr)
        return INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
