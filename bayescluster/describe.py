"""Descriptive statistics of a firm table, beside the paper's Table 3."""

import pandas as pd

from bayescluster.data import FirmData
from bayescluster.paper import table3


def describe(data: FirmData) -> pd.DataFrame:
    """Obs., mean, SD, min and max of every numeric role column; where the column is one of
    Table 3's variables, the paper's values are given beside ours (``paper_*``)."""
    roles = data.roles
    columns = [roles.outcome, *roles.counts, *roles.binary, *roles.positive, *roles.numeric]
    columns = list(dict.fromkeys(c for c in columns if c in data.frame))
    frame = data.frame[columns].astype(float)
    ours = pd.DataFrame({
        "obs": frame.notna().sum(),
        "mean": frame.mean(),
        "sd": frame.std(),
        "min": frame.min(),
        "max": frame.max(),
    })
    paper = table3()[["obs", "mean", "sd", "min", "max"]].add_prefix("paper_")
    order = [v for v in paper.index if v in ours.index]
    ours = ours.loc[order + [v for v in ours.index if v not in order]]
    return ours.join(paper, how="left").rename_axis("variable")


def overview(data: FirmData) -> dict:
    """Counts an analyst reads first: firms, clusters, domains, participants, missing."""
    roles = data.roles
    out = {
        "firms": data.n_firms,
        "clusters": data.frame[roles.cluster].nunique(),
        "domains": len(set(data.domains.values())) if data.domains else 0,
        "missing": dict(data.missing),
        "complete_cases": int(data.frame[list(roles.covariates)].notna().all(axis=1).sum()),
    }
    if "participant" in data.frame:
        out["participants"] = int(data.frame["participant"].sum())
    return out
