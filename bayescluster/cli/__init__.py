"""Command line: one verb per job, thin over the library functions.

Exit codes: 0 success; 2 a problem with the data, spec or run directory (message, no
traceback); 3 a fit that failed its convergence gates.
"""

import argparse
import sys
import warnings

from bayescluster.cli import analysis, data, fit
from bayescluster.cli.common import INTERRUPTED
from bayescluster.core.errors import BayesclusterError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every verb."""
    parser = argparse.ArgumentParser(prog="bayescluster", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    data.add_commands(sub)
    fit.add_commands(sub)
    analysis.add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
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
