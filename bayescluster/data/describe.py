"""Descriptive statistics of a validated table."""

import pandas as pd

from bayescluster.data.table import FirmData


def describe(data: FirmData) -> pd.DataFrame:
    """Obs., mean, SD, min and max of every numeric role column.

    Parameters
    ----------
    data : FirmData
        A validated table.

    Returns
    -------
    DataFrame
        One row per column (the outcome first), indexed by ``variable``.
    """
    roles = data.roles
    columns = [roles.outcome, *roles.counts, *roles.binary, *roles.positive, *roles.numeric]
    columns = list(dict.fromkeys(c for c in columns if c in data.frame))
    frame = data.frame[columns].astype(float)
    return pd.DataFrame({
        "obs": frame.notna().sum(),
        "mean": frame.mean(),
        "sd": frame.std(),
        "min": frame.min(),
        "max": frame.max(),
    }).rename_axis("variable")


def overview(data: FirmData) -> dict:
    """Counts an analyst reads first.

    Parameters
    ----------
    data : FirmData
        A validated table.

    Returns
    -------
    dict
        ``rows``, ``groups`` (clusters), ``domains``, ``missing`` (column -> missing
        values), ``complete_cases``, ``binary`` (column -> rows coded 1) and ``levels``
        (categorical column -> rows per level).
    """
    roles = data.roles
    return {
        "rows": data.n_firms,
        "groups": len(data.clusters),
        "domains": len(set(data.domains.values())) if data.domains else 0,
        "missing": dict(data.missing),
        "complete_cases": int(data.frame[list(roles.covariates)].notna().all(axis=1).sum()),
        "binary": {c: int(data.frame[c].sum()) for c in roles.binary},
        "levels": {c: data.frame[c].value_counts(sort=False).sort_index().to_dict()
                   for c in roles.categorical},
    }


def levels(data: FirmData) -> pd.DataFrame:
    """Rows per level of every categorical column, and its blank cells.

    Parameters
    ----------
    data : FirmData
        A validated table.

    Returns
    -------
    DataFrame
        Indexed by (column, level), one column ``rows``; a column's blank cells are the
        level ``(blank)``, counted, never a level of the model.
    """
    parts = []
    for column in data.roles.categorical:
        counts = data.frame[column].value_counts(sort=False).sort_index()
        blank = int(data.frame[column].isna().sum())
        if blank:
            counts = pd.concat([counts, pd.Series({"(blank)": blank})])
        parts.append(pd.DataFrame({"column": column, "level": counts.index.astype(str),
                                   "rows": counts.to_numpy()}))
    if not parts:
        return pd.DataFrame(columns=["rows"], index=pd.MultiIndex.from_tuples(
            [], names=["column", "level"]))
    return pd.concat(parts).set_index(["column", "level"])
