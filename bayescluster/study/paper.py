"""The paper's published numbers (``data/paper/``), read once."""

from functools import cache

import pandas as pd

from bayescluster.core.resources import PAPER, shipped


@cache
def _read(name: str, index: str | None = None) -> pd.DataFrame:
    table = pd.read_csv(shipped(PAPER, name))
    return table.set_index(index) if index else table


def table3() -> pd.DataFrame:
    """Table 3: obs, mean, sd, min, max of each variable, indexed by variable.

    Returns
    -------
    DataFrame
        A copy of ``data/paper/table3.csv``.
    """
    return _read("table3.csv", "variable").copy()


def appendix2() -> pd.DataFrame:
    """Appendix 2 correlation matrix, with our column names.

    Returns
    -------
    DataFrame
        The correlations, variable by variable (rows indexed by ``variable``).
    """
    return _read("appendix2_correlations.csv", "variable").copy()


def table4() -> pd.DataFrame:
    """Table 4 coefficients and robust SEs: columns model (m1, m2, m3), term, coef, se.

    Returns
    -------
    DataFrame
        One row per model and term.
    """
    return _read("table4.csv").copy()


def marginal_effects() -> pd.Series:
    """Section 6.1's marginal effects on E[pat], indexed by term.

    Returns
    -------
    Series
        Changes in expected patents per firm, named ``marginal_effect``.
    """
    return _read("marginal_effects.csv", "term")["marginal_effect"].copy()
