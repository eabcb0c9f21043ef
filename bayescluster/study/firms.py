"""The study's firm tables.

The paper's column layout (Section 5.1, Table 3), reading and validating a table with the
19-cluster registry supplying each cluster's domain, and a table's statistics beside
Table 3.
"""

from pathlib import Path

import pandas as pd

from bayescluster.data import table as generic
from bayescluster.data.describe import describe
from bayescluster.data.roles import Roles
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


def validate(table: pd.DataFrame | str | Path, roles: Roles = PAPER_ROLES) -> FirmData:
    """Validate a firm table (:func:`bayescluster.data.validate`).

    A table without a domain column takes each cluster's domain from the registry; a
    domain column may use the registry's four domain labels, unless the spec declares its
    own (``[hierarchy] domains``).
    """
    registry = cluster_domains()
    return generic.validate(table, roles, domains=registry,
                            known_domains=set(registry.values()))


def load(path: str | Path, roles: Roles = PAPER_ROLES) -> FirmData:
    """Read and validate a CSV firm table (see :func:`validate`)."""
    return validate(generic.read_table(path), roles)


def describe_beside_table3(data: FirmData) -> pd.DataFrame:
    """Descriptive statistics with Table 3's values beside (``paper_*``).

    :func:`~bayescluster.data.describe.describe`, Table 3's variables first.
    """
    ours = describe(data)
    paper = table3()[["obs", "mean", "sd", "min", "max"]].add_prefix("paper_")
    order = [v for v in paper.index if v in ours.index]
    ours = ours.loc[order + [v for v in ours.index if v not in order]]
    return ours.join(paper, how="left").rename_axis("variable")
