"""The study's firm tables.

The paper's column layout (Section 5.1, Table 3), reading and validating a table with the
19-cluster registry supplying each cluster's domain, and a table's statistics beside
Table 3.
"""

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from bayescluster.data import table as generic
from bayescluster.data.describe import describe
from bayescluster.data.roles import Roles, Words
from bayescluster.data.table import FirmData
from bayescluster.study.paper import table3
from bayescluster.study.registry import cluster_domains

PAPER_ROLES = Roles(
    outcome="pat",
    cluster="cluster",
    domain="domain",
    id="firm_id",
    counts=("projects",),
    binary=("participant", "national", "jointrd", "sameregion"),
    positive=("scale",),
    numeric=("rd", "age", "claim", "citation"),
    categorical=("industry", "purpose"),
)


STUDY_WORDS = Words(row="firm", rows="firms", group="cluster", groups="clusters",
                    domain="domain", domains="domains", outcome="patents",
                    group_key="cluster", domain_key="domain")
# a table with these columns is the study's firm table (it speaks of firms and clusters)
STUDY_COLUMNS = frozenset({"firm_id", "cluster", "pat", "participant"})


def is_study_table(columns: Iterable[object]) -> bool:
    """Whether a table with ``columns`` is the study's firm table (its layout's columns).

    Parameters
    ----------
    columns : iterable
        A table's column names (compared as stripped text).

    Returns
    -------
    bool
        Whether they include ``firm_id``, ``cluster``, ``pat`` and ``participant``.
    """
    return STUDY_COLUMNS <= {str(c).strip() for c in columns}


def validate(table: pd.DataFrame | str | Path, roles: Roles = PAPER_ROLES) -> FirmData:
    """Validate a table (:func:`bayescluster.data.validate`), the study's in its words.

    A table without a domain column takes each cluster's domain from the registry; a
    domain column may use the registry's four domain labels, unless the spec declares its
    own (``[hierarchy] domains``). The study's firm table (:func:`is_study_table`) is
    spoken of in the study's words (firms, clusters, domains, patents), any other table in
    its own.

    Parameters
    ----------
    table : DataFrame, str or Path
        The table, or the path of a CSV file.
    roles : Roles
        Which column plays which role (default: the paper's layout, ``PAPER_ROLES``).

    Returns
    -------
    FirmData
        The validated copy.
    """
    registry = cluster_domains()
    frame = generic.read_table(table) if isinstance(table, str | Path) else table
    words = STUDY_WORDS if is_study_table(frame.columns) and roles.cluster in (
        "cluster", None) else None
    return generic.validate(frame, roles, domains=registry,
                            known_domains=set(registry.values()), words=words)


def load(path: str | Path, roles: Roles = PAPER_ROLES) -> FirmData:
    """Read and validate a CSV firm table (see :func:`validate`).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    roles : Roles
        Which column plays which role (default: ``PAPER_ROLES``).

    Returns
    -------
    FirmData
        The validated table.
    """
    return validate(generic.read_table(path), roles)


def describe_beside_table3(data: FirmData) -> pd.DataFrame:
    """Descriptive statistics with Table 3's values beside (``paper_*``).

    :func:`~bayescluster.data.describe.describe`, Table 3's variables first.

    Parameters
    ----------
    data : FirmData
        A validated table.

    Returns
    -------
    DataFrame
        Obs., mean, SD, min and max of each numeric column, and ``paper_obs`` ...
        ``paper_max`` (blank for a variable Table 3 lacks), indexed by ``variable``.
    """
    ours = describe(data)
    paper = table3()[["obs", "mean", "sd", "min", "max"]].add_prefix("paper_")
    order = [v for v in paper.index if v in ours.index]
    ours = ours.loc[order + [v for v in ours.index if v not in order]]
    return ours.join(paper, how="left").rename_axis("variable")
