"""A categorical covariate's levels: fixed when a model is fitted, baseline first.

The baseline is the one asked for, else a ``pandas.Categorical``'s first category, else the
first level in sorted order (numerically when every level is a number, as R's ``factor``).
A value's code is its level's position (0: the baseline); a value that names no level is an
error naming the column, the value and the known levels, never a silent baseline.
"""

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bayescluster.core.errors import DataError


def _same(value, level: str) -> bool:
    """Whether ``value`` names ``level``: the same text, or the same number."""
    if str(value).strip() == level:
        return True
    try:
        return float(value) == float(level)
    except (TypeError, ValueError):
        return False


def level_code(name: str, value: str | float, levels: Sequence[str]) -> int:
    """The code of ``value`` among a categorical covariate's ``levels``.

    Parameters
    ----------
    name : str
        The covariate, for the error.
    value : str or float
        A level on the user's scale: its text, or a number matching a level that reads as
        the same number (``2`` matches ``"2"``).
    levels : sequence of str
        The covariate's levels, baseline first.

    Returns
    -------
    int
        The level's position in ``levels`` (0: the baseline).

    Raises
    ------
    DataError
        Naming the column, the value and the known levels when ``value`` is none of them.
    """
    for k, level in enumerate(levels):
        if _same(value, level):
            return k
    raise DataError(f"column {name!r}: level {str(value)!r} was not in the data the model "
                    f"was fitted to; its levels are {', '.join(map(repr, levels))}. Fix: use "
                    "one of them, or refit with rows of that level.")


def codes(name: str, column: pd.Series, levels: Sequence[str], where: str) -> np.ndarray:
    """Level codes of a categorical column (NaN where blank).

    Parameters
    ----------
    name : str
        The column's name, for the error.
    column : Series
        The column's values on the user's scale (text, numbers or a
        ``pandas.Categorical``).
    levels : sequence of str
        The covariate's levels, baseline first.
    where : str
        Which rows these are, for the error (``"the data"``, ``"the new rows"``).

    Returns
    -------
    ndarray
        (row,) float codes: each value's position in ``levels``, NaN where blank.

    Raises
    ------
    DataError
        For a level not among ``levels``, naming the column, the rows (in ``where``), the
        values and the known levels.
    """
    text = column.astype(object).where(column.notna(), None)
    codes = np.full(len(column), np.nan)
    unseen = []
    for i, value in enumerate(text):
        if value is None:
            continue
        match = [k for k, level in enumerate(levels) if _same(value, level)]
        if match:
            codes[i] = match[0]
        else:
            unseen.append(i)
    if unseen:
        shown = ", ".join(f"row {i + 1} ({str(text.iloc[i])!r})" for i in unseen[:5])
        more = f" and {len(unseen) - 5} more" if len(unseen) > 5 else ""
        raise DataError(f"column {name!r} has level(s) in {where} that the model was not "
                        f"fitted to: {shown}{more}. Its levels are "
                        f"{', '.join(map(repr, levels))}. Fix: use one of them, or refit "
                        "with rows of those levels.")
    return codes


def _numeric_levels(labels: list[str]) -> bool:
    try:
        [float(label) for label in labels]
    except ValueError:
        return False
    return True


def levels_of(name: str, column: pd.Series, baseline: str | None = None,
              hint: str = "") -> tuple[tuple[str, ...], list[str]]:
    """A categorical column's levels, baseline first, and what was decided in words.

    The baseline is ``baseline`` when given, else a ``pandas.Categorical``'s first
    category, else the first level in sorted order (numeric order when every level is a
    number, as R's ``factor`` of numbers). Categories without rows are left out (and said).

    Parameters
    ----------
    name : str
        The column's name, for the notes and the error.
    column : Series
        The column's values on the user's scale; blanks are no level.
    baseline : str or None
        The level asked to come first (``[baselines]``); None to choose as above.
    hint : str
        How the user sets the baseline, ending the error's fix (empty: "name one of
        them.").

    Returns
    -------
    levels : tuple of str
        The levels with rows, baseline first.
    notes : list of str
        What was decided, in words (the categories without rows left out).

    Raises
    ------
    DataError
        When ``baseline`` is not a level with rows; ``hint`` says where to set it.
    """
    observed = [str(v) for v in pd.unique(column.dropna())]
    notes = []
    if isinstance(column.dtype, pd.CategoricalDtype):
        order = [str(c) for c in column.cat.categories]
        empty = [c for c in order if c not in observed]
        order = [c for c in order if c in observed]
        if empty:
            notes.append(f"column {name!r}: categories {', '.join(map(repr, empty))} have no "
                         f"rows and are left out; the baseline is {order[0]!r}, the first "
                         "category with rows")
    elif _numeric_levels(observed):
        order = sorted(observed, key=float)
    else:
        order = sorted(observed)
    if baseline is not None:
        if baseline not in order:
            raise DataError(f"column {name!r}: the baseline {baseline!r} is not among its "
                            f"levels {', '.join(map(repr, order))}. Fix: "
                            f"{hint or 'name one of them.'}")
        order = [baseline, *(c for c in order if c != baseline)]
    return tuple(order), notes
