"""Which column of a firm table plays which role in a model."""

from dataclasses import dataclass

ONE_GROUP = "all firms"  # the one group of a table without a cluster column


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
    def covariates(self) -> tuple[str, ...]:
        """Every covariate column, counts first."""
        return (*self.counts, *self.binary, *self.positive, *self.numeric, *self.categorical)

    @property
    def required(self) -> tuple[str, ...]:
        """Every column the table must have (the domain is optional)."""
        named = (self.id, self.cluster, self.outcome, self.exposure, self.per,
                 *self.covariates)
        return tuple(dict.fromkeys(c for c in named if c))
