"""The 19 first-period projects of the Industrial Cluster Project and their domains.

The registry is ``data/clusters.csv`` (one row a project) with the sub-areas of projects 1
and 4 in ``data/subprojects.csv``; see ``data/README.md`` for the columns and the domain rule.
"""

from functools import cache

import pandas as pd

from bayescluster.core.resources import DATA, shipped


@cache
def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(shipped(DATA, name))


def clusters() -> pd.DataFrame:
    """The 19 projects: id, name, fields, domain, firms, partners, budget, prefectures.

    Returns
    -------
    DataFrame
        A copy of ``data/clusters.csv``, one row a project.
    """
    return _read("clusters.csv").copy()


def subprojects() -> pd.DataFrame:
    """Sub-projects of projects 1 (Hokkaido IT/Bio) and 4 (five Kanto sub-areas).

    Returns
    -------
    DataFrame
        A copy of ``data/subprojects.csv``.
    """
    return _read("subprojects.csv").copy()


def cluster_domains() -> dict[str, str]:
    """Map cluster id -> primary domain.

    Returns
    -------
    dict of str to str
        The 19 clusters in the registry's order.
    """
    table = _read("clusters.csv")
    return dict(zip(table["cluster"], table["domain"], strict=True))


def cluster_firms() -> pd.Series:
    """Number of firms in each project's network (Appendix 1), indexed by cluster id.

    Returns
    -------
    Series
        Integer firm counts, named ``firms``.
    """
    table = _read("clusters.csv")
    return table.set_index("cluster")["firms"].astype(int)
