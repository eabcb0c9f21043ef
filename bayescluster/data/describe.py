"""Descriptive statistics of a validated firm table."""

import pandas as pd

from bayescluster.data.table import FirmData


def describe(data: FirmData) -> pd.DataFrame:
    """Obs., mean, SD, min and max of every numeric role column.

    Parameters
    ----------
    data : FirmData
        A validated firm table.

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

    Returns
    -------
    dict
        ``firms``, ``clusters``, ``domains``, ``missing`` (column -> missing values),
        ``complete_cases`` and ``binary`` (column -> firms coded 1).
    """
    roles = data.roles
    return {
        "firms": data.n_firms,
        "clusters": len(data.clusters),
        "domains": len(set(data.domains.values())) if data.domains else 0,
        "missing": dict(data.missing),
        "complete_cases": int(data.frame[list(roles.covariates)].notna().all(axis=1).sum()),
        "binary": {c: int(data.frame[c].sum()) for c in roles.binary},
    }
