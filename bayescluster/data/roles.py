"""Which column of a table plays which role in a model, and the words its rows go by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

ONE_GROUP = "(one group)"  # the one group of a table without a cluster column


@dataclass(frozen=True)
class Words:
    """How messages, tables and reports name a table's rows, groups and outcome.

    A table's own words by default (:meth:`of`): "row" and "rows", its grouping columns'
    names ("BROOD group"), its outcome column's name. A study passes its own (the
    Industrial Cluster Project's firms, clusters, domains and patents).
    """

    row: str = "row"
    rows: str = "rows"
    group: str = "group"  # the lower grouping level (the cluster column)
    groups: str = "groups"
    domain: str = "domain"  # the upper grouping level (the domain column)
    domains: str = "domains"
    outcome: str = "the outcome"
    group_key: str = "group"  # a table's column of groups, where the package says cluster
    domain_key: str = "domain"  # ... and of the upper level, where it says domain

    @classmethod
    def of(cls, roles: Roles) -> Words:
        """The table's own words: rows, its grouping columns' names, its outcome's.

        Parameters
        ----------
        roles : Roles
            The table's roles: its cluster, domain and outcome columns name the words.

        Returns
        -------
        Words
            "row", "rows", "<cluster column> group(s)", "<domain column> group(s)" (plain
            "group" and "domain" without those columns) and the outcome column's name.
        """
        group = f"{roles.cluster} group" if roles.cluster else "group"
        domain = f"{roles.domain} group" if roles.domain else "domain"
        return cls("row", "rows", group, f"{group}s", domain, f"{domain}s", roles.outcome,
                   roles.cluster or "group", roles.domain or "domain")

    def relabel(self, frame: pd.DataFrame) -> pd.DataFrame:
        """A table with the package's ``cluster`` and ``domain`` in these words.

        Index and column names (also as a name's last part after ``_``, as in
        ``new_cluster``), and the values of an index level named ``level`` (the marginal
        effects' overall, domain and cluster rows), become the table's own column names
        (``nest``, ``LOCATION``, ``new_nest``); the frame itself is not changed.

        Parameters
        ----------
        frame : DataFrame
            A result table whose names say ``cluster`` and ``domain`` (also in labels
            such as ``"cluster A"``).

        Returns
        -------
        DataFrame
            A relabelled copy, or ``frame`` itself when the table's words are the
            package's.
        """
        names = {"cluster": self.group_key, "domain": self.domain_key}
        if all(k == v for k, v in names.items()):
            return frame

        def word(name):
            if not isinstance(name, str):
                return name
            head, sep, tail = name.partition(" ")  # also "cluster A" of a contrast matrix
            prefix, under, last = head.rpartition("_")  # also a prediction's "new_cluster"
            if prefix and last in names:
                return f"{prefix}{under}{names[last]}{sep}{tail}"
            return names.get(head, head) + sep + tail

        out = frame.rename(columns=word)
        if "level" in (out.index.names or []):
            out = out.rename(index=word, level="level")
        out.index = out.index.set_names([word(n) for n in out.index.names])
        out.columns = out.columns.set_names([word(n) for n in out.columns.names])
        return out

    def count(self, n: int, noun: str = "rows") -> str:
        """``'1 row'``, ``'12 rows'``, ``'3 BROOD groups'``: a number and its noun.

        Parameters
        ----------
        n : int
            The number, shown with thousands separators.
        noun : {"rows", "groups", "domains"}
            Which noun; singular when ``n`` is 1.

        Returns
        -------
        str
            The number and its noun.
        """
        singular = {"rows": self.row, "groups": self.group, "domains": self.domain}[noun]
        return f"{n:,} {singular if n == 1 else getattr(self, noun)}"


@dataclass(frozen=True)
class Roles:
    """Which column plays which role.

    ``outcome`` is a count that may not be missing; ``counts`` are other count columns;
    ``binary`` take values in {0, 1}; ``positive`` must be > 0 (a log is taken);
    ``numeric`` are other numbers; ``categorical`` are labels; ``cluster`` and the optional
    ``domain`` are the groups (no ``cluster``: a single-level table, its firms one group,
    ``ONE_GROUP``); ``id`` identifies a firm (optional). With ``per``, the
    outcome is a rate per unit of that count column (claims per patent): the model counts
    outcome x per, with offset log(per), on the firms where per > 0.
    """

    outcome: str
    cluster: str | None = None
    domain: str | None = None
    id: str | None = None
    counts: tuple[str, ...] = ()
    binary: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    categorical: tuple[str, ...] = ()
    exposure: str | None = None
    per: str | None = None
    domains: tuple[str, ...] = ()  # the domain labels a table may use (empty: any)

    @property
    def words(self) -> Words:
        """The table's own words (:meth:`~bayescluster.data.roles.Words.of`)."""
        return Words.of(self)

    @property
    def covariates(self) -> tuple[str, ...]:
        """Every covariate column, counts first."""
        return (*self.counts, *self.binary, *self.positive, *self.numeric, *self.categorical)

    @property
    def required(self) -> tuple[str, ...]:
        """Every column the table must have (the domain is optional)."""
        named = (self.id, self.cluster, self.outcome, self.exposure, self.per,
                 *self.covariates)
        return tuple(dict.fromkeys(c for c in named if c))
