"""User-fixable errors, the warning of a failed fit, and the near-miss hint they share."""

import difflib
from collections.abc import Iterable


class BayesclusterError(Exception):
    """Base class for problems a user can fix (bad data, bad spec, bad run directory)."""

    exit_code = 2


class DataError(BayesclusterError):
    """A firm table cannot be used as given: the message names the column, rows and fix."""


class SpecError(BayesclusterError):
    """A model spec is invalid: the message lists the valid names."""


class RunError(BayesclusterError):
    """A run directory is missing, incomplete, or would be overwritten."""


class ReportError(BayesclusterError):
    """A report could not be built (a figure or section failed)."""


class ConvergenceWarning(UserWarning):
    """A fit failed its convergence gates: its estimates may be wrong.

    Filter it as any warning (``warnings.simplefilter("ignore", bc.ConvergenceWarning)``);
    the message names the gates that failed, where, and the fix.
    """


def did_you_mean(name: str, options: Iterable[object], cutoff: float = 0.6) -> str:
    """`` Did you mean 'x'?`` for the option closest to ``name``, or ``""`` if none is.

    Parameters
    ----------
    name : str
        What the user wrote.
    options : iterable
        The valid names (compared as text).
    cutoff : float
        The least similarity, in [0, 1], of a near miss (:func:`difflib.get_close_matches`).

    Returns
    -------
    str
        The hint with a leading space, ready to append to a message, or ``""``.
    """
    match = difflib.get_close_matches(str(name), [str(o) for o in options], n=1,
                                      cutoff=cutoff)
    return f" Did you mean '{match[0]}'?" if match else ""
