"""Tables of counts (a study's firm tables among them): load, map columns to roles, validate.

Validation works on roles, not names: a model spec maps a user's columns to the roles of
:class:`~bayescluster.data.roles.Roles`. A table without a domain column takes each
cluster's domain from a registry the caller passes (``domains``). Every problem raises
:class:`~bayescluster.core.errors.DataError` naming the column, up to five offending rows
(1-based data rows, the header not counted) with their values, and the fix.
"""

import csv
import difflib
import io
import warnings
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from bayescluster.core.errors import DataError, did_you_mean
from bayescluster.core.textfile import read_text
from bayescluster.data.roles import ONE_GROUP, Roles, Words

SHOW = 5
MAX_COUNT = 1e9  # beyond this a count is a data error, not a count the likelihood can use


@dataclass
class FirmData:
    """A validated table (a copy: the caller's frame is never changed).

    ``words`` are how messages and reports name its rows, groups and outcome (the table's
    own unless a study passes its own).
    """

    frame: pd.DataFrame
    roles: Roles
    domains: dict[str, str] | None
    missing: dict[str, int]
    warnings: list[str] = field(default_factory=list)
    words: Words | None = None

    def __post_init__(self):
        if self.words is None:
            self.words = self.roles.words

    @property
    def n_firms(self) -> int:
        """Number of rows (firms, in the study's words)."""
        return len(self.frame)

    @property
    def cluster_column(self) -> pd.Series:
        """Each row's group (cluster); ``ONE_GROUP`` for every row of a single-level table."""
        if self.roles.cluster is None:
            return pd.Series(ONE_GROUP, index=self.frame.index)
        return self.frame[self.roles.cluster]

    @property
    def clusters(self) -> list[str]:
        """The clusters' labels, sorted."""
        return sorted(self.cluster_column.unique())


def _rows(frame: pd.DataFrame, mask, column: str | None = None) -> str:
    """'row 3 (-1), row 9 (2.5)' for the first offending rows, 1-based."""
    where = np.flatnonzero(np.asarray(mask, dtype=bool))
    shown = []
    for i in where[:SHOW]:
        shown.append(f"row {i + 1}" + ("" if column is None else
                                       f" ({_show(frame[column].iloc[i])})"))
    more = f" and {len(where) - SHOW} more" if len(where) > SHOW else ""
    return ", ".join(shown) + more


def _show(value) -> str:
    """A cell as a user typed it: numbers plain (2, 2.5, -1), text quoted ('many')."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return repr(str(value))
    if isinstance(value, str) and not value.strip():
        return repr(value)
    return f"{number:g}"


def _uses_labels(labels: pd.Series, known: Collection[str]) -> bool:
    """Whether a domain column is written in the ``known`` labels.

    It is if it uses one of them or a near miss of one (``Bio`` for ``bio``). A column with
    neither is a grouping of the user's own (``LOCATION`` of a table that is not firms).
    """
    lowered = {str(k).lower() for k in known}
    for label in labels.dropna().unique():
        label = str(label)
        if label in known or label.lower() in lowered or difflib.get_close_matches(
                label.lower(), lowered, n=1, cutoff=0.8):
            return True
    return False


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV table, turning every read failure into a DataError.

    Parameters
    ----------
    path : str or Path
        A comma-separated UTF-8 file with a header of unique column names.

    Returns
    -------
    DataFrame
        Every cell as text (leading spaces stripped), an empty cell missing.

    Raises
    ------
    DataError
        When the file is missing, a directory, empty or without rows, not CSV, separated
        by something other than commas, or has duplicate column names or rows of the
        wrong length.
    """
    path = Path(path)
    text = read_text(path, kind="a CSV table", error=DataError,
                     fix="save it as comma-separated UTF-8 text (in a spreadsheet: "
                         "'CSV UTF-8'), one record a row")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            na_values=[""], skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"file {str(path)!r} is empty: no header and no rows. Fix: write one "
                        "record a row under a header of column names.") from None
    except pd.errors.ParserError as error:
        _check_row_lengths(path, text, len(_header(text)))
        raise DataError(f"file {str(path)!r} cannot be read as CSV ({error}). Fix: save it "
                        "as comma-separated UTF-8 text, one record a row.") from None
    header = _header(text)
    _check_unique(header)
    _check_delimiter(path, frame)
    _check_row_lengths(path, text, len(header))
    if frame.empty:
        raise DataError(f"file {str(path)!r} has a header but no rows (its header reads "
                        f"{', '.join(header)[:80]!r}). Fix: give one record a row under a "
                        "header of column names.")
    return frame


def _header(text: str) -> list[str]:
    return [h.strip() for h in next(csv.reader(io.StringIO(text, newline="")), [])]


def _check_row_lengths(path: Path, text: str, cells: int) -> None:
    """Name the lines whose number of cells differs from the header's (a broken line)."""
    short, long = [], []
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    next(reader, None)
    for row in reader:
        if row and len(row) != cells:
            (short if len(row) < cells else long).append(reader.line_num)
    if long:
        raise DataError(f"file {str(path)!r} has rows with more cells than its header "
                        f"({cells}): {_lines(long)} (a trailing comma?). Fix: remove the "
                        "trailing commas or name every column.")
    if short:
        raise DataError(f"file {str(path)!r} has rows with fewer cells than its header "
                        f"({cells}): {_lines(short)}. Fix: complete or remove those lines "
                        "(an empty cell still needs its comma).")


def _lines(numbers: list[int]) -> str:
    shown = ", ".join(map(str, numbers[:5]))
    more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
    return f"line{'s' if len(numbers) > 1 else ''} {shown}{more}"


def _check_delimiter(path: Path, frame: pd.DataFrame) -> None:
    """Name a semicolon-, tab- or bar-separated file."""
    if len(frame.columns) == 1:
        name = str(frame.columns[0])
        for sign, word in ((";", "semicolons"), ("\t", "tabs"), ("|", "bars")):
            if sign in name:
                raise DataError(f"file {str(path)!r} is separated by {word}, not commas "
                                f"(its header reads {name[:60]!r}). Fix: save it as "
                                "comma-separated CSV.")


def _check_unique(columns) -> None:
    seen = pd.Index(columns)
    dup = seen.duplicated()
    if dup.any():
        raise DataError(f"column name(s) {sorted(set(seen[dup]))} appear more than once. "
                        "Fix: give every column a unique name.")


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").astype(float)
    bad = values.isna() & raw.notna()
    if bad.any():
        raise DataError(f"column {column!r} must be numeric; {bad.sum()} value(s) are not "
                        f"numbers: {_rows(frame, bad, column)}. Fix: replace them with numbers "
                        "or leave the cell empty for a missing value.")
    inf = np.isinf(values)
    if inf.any():
        raise DataError(f"column {column!r} has infinite values: {_rows(frame, inf, column)}. "
                        "Fix: replace them with finite numbers or empty cells.")
    return values


def _check_count(frame, values, column):
    neg = values < 0
    if neg.any():
        raise DataError(f"column {column!r} is a count but has negative values: "
                        f"{_rows(frame, neg, column)}. Fix: counts must be 0, 1, 2, ...")
    frac = values.notna() & (values != np.round(values))
    if frac.any():
        raise DataError(f"column {column!r} is a count but has non-integer values: "
                        f"{_rows(frame, frac, column)}. Fix: counts must be whole numbers.")
    huge = values > MAX_COUNT
    if huge.any():
        raise DataError(f"column {column!r} has counts above {MAX_COUNT:.0e}: "
                        f"{_rows(frame, huge, column)}. Fix: correct them (a typo or a unit "
                        "error); no count model is meant for counts this large.")


def validate(table: pd.DataFrame | str | Path, roles: Roles, *,
             domains: Mapping[str, str] | None = None,
             known_domains: Collection[str] | None = None,
             check_outcome: bool = True, words: Words | None = None) -> FirmData:
    """Check a table against ``roles`` and return a typed copy.

    Parameters
    ----------
    table : DataFrame, str or Path
        The table, or the path of a CSV file.
    roles : Roles
        Which column plays which role.
    domains : mapping, optional
        A registry of cluster -> domain, used when ``roles.domain`` is set and the table
        has no such column.
    known_domains : collection of str, optional
        The domain labels a domain column may use, if it uses any of them or a near miss
        of one (so a typo is an error, not a new domain, while a table grouped by labels
        of its own keeps them); ``roles.domains``, a spec's declaration, takes precedence.
    check_outcome : bool
        Refuse an outcome that is 0 in every row (False for rows to predict, whose
        outcome is not used).
    words : Words, optional
        How messages name the rows and groups (default: the table's own, ``roles.words``).

    Returns
    -------
    FirmData
        A typed copy; the caller's frame is never changed.

    Raises
    ------
    DataError
        On the first problem found, with the column, rows and fix.
    """
    w = words or roles.words
    frame = read_table(table) if isinstance(table, str | Path) else table.copy()
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty or len(frame.columns) == 0:
        raise DataError("the table is empty (no rows). Fix: give one record a row.")
    _check_unique(frame.columns)
    _check_required(frame, roles)
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(index=frame.index)
    _key_columns(frame, out, roles, w)
    if roles.per:
        _rate_outcome(frame, out, roles, w)
    else:
        _count_outcome(frame, out, roles, w, check_outcome=check_outcome)
    _covariate_columns(frame, out, roles, w)
    domains = _domains(frame, out, roles, domains, known=set(roles.domains) or known_domains,
                       w=w) if roles.cluster else None
    if domains is not None and roles.domain:
        out[roles.domain] = out[roles.cluster].map(domains)
    _check_unique_ids(out, roles, w)

    notes = []
    note = _small_groups(out, roles, w)
    if note is not None:
        notes.append(note)
        warnings.warn(note, UserWarning, stacklevel=2)
    extra = [c for c in frame.columns if c not in out.columns]
    for column in extra:
        out[column] = frame[column]
    missing = {c: int(out[c].isna().sum()) for c in roles.covariates if out[c].isna().any()}
    return FirmData(out, roles, domains, missing, notes, w)


def _check_required(frame: pd.DataFrame, roles: Roles) -> None:
    """Name the first column ``roles`` needs that the table lacks, and a near miss of it."""
    for column in roles.required:
        if column not in frame.columns:
            hint = did_you_mean(column, frame.columns, cutoff=0.5)
            raise DataError(f"required column {column!r} is missing.{hint}"
                            f" Fix: add it, or name a column the table has (in the formula, "
                            f"--id, or the spec's [columns]). Columns present: "
                            f"{', '.join(map(str, frame.columns))}.")


def _key_columns(frame: pd.DataFrame, out: pd.DataFrame, roles: Roles, w: Words) -> None:
    """Check the cluster and id columns: text, stripped, in every row."""
    for column in (c for c in (roles.cluster, roles.id) if c):
        values = frame[column].astype("string").str.strip()
        gap = values.isna() | (values == "")
        if gap.any():
            raise DataError(f"column {column!r} has empty values: {_rows(frame, gap)}. Fix: "
                            f"every {w.row} needs a {column}.")
        out[column] = values.astype(str)


def _count_outcome(frame: pd.DataFrame, out: pd.DataFrame, roles: Roles, w: Words, *,
                   check_outcome: bool) -> None:
    """Check an outcome that is a count in every row (with ``check_outcome``, not all 0)."""
    y = _numeric(frame, roles.outcome)
    if y.isna().any():
        raise DataError(f"outcome column {roles.outcome!r} has {int(y.isna().sum())} "
                        f"missing value(s): {_rows(frame, y.isna())}. Fix: fill them in or "
                        f"remove those {w.rows}; the outcome is never imputed.")
    _check_count(frame, y, roles.outcome)
    if check_outcome and (y == 0).all():
        raise DataError(f"outcome column {roles.outcome!r} is 0 in every {w.row}: there is "
                        "nothing to model. Fix: check that the right column is named as "
                        "the outcome.")
    out[roles.outcome] = y.astype(int)


def _covariate_columns(frame: pd.DataFrame, out: pd.DataFrame, roles: Roles,
                       w: Words) -> None:
    """Check the covariate and exposure columns, each against its role.

    Counts, binary, positive (and the exposure, never missing), numeric and categorical, in
    that order.
    """
    for column in roles.counts:
        values = _numeric(frame, column)
        _check_count(frame, values, column)
        out[column] = values
    for column in roles.binary:
        values = _numeric(frame, column)
        bad = values.notna() & ~values.isin([0.0, 1.0])
        if bad.any():
            raise DataError(f"column {column!r} is binary but has values outside {{0, 1}}: "
                            f"{_rows(frame, bad, column)}. Fix: code it 1 for yes and 0 for no.")
        out[column] = values
    for column in (*roles.positive, *([roles.exposure] if roles.exposure else [])):
        values = _numeric(frame, column)
        bad = values <= 0
        if bad.any():
            raise DataError(f"column {column!r} must be positive (its log is taken) but has "
                            f"values <= 0: {_rows(frame, bad, column)}. Fix: correct them, or "
                            f"take no log of it ({column}, not log({column}), in a formula; "
                            "'numeric', not 'positive', in a spec's [covariates]).")
        out[column] = values
    if roles.exposure and out[roles.exposure].isna().any():
        gap = out[roles.exposure].isna()
        raise DataError(f"exposure column {roles.exposure!r} has missing values: "
                        f"{_rows(frame, gap)}. Fix: fill them in or remove those {w.rows}.")
    for column in roles.numeric:
        out[column] = _numeric(frame, column)
    for column in roles.categorical:
        out[column] = _labels(frame[column])


def _check_unique_ids(out: pd.DataFrame, roles: Roles, w: Words) -> None:
    """Refuse an id column with duplicate ids."""
    if roles.id:
        dup = out[roles.id].duplicated(keep=False)
        if dup.any():
            raise DataError(f"column {roles.id!r} has duplicate ids: "
                            f"{_rows(out, dup, roles.id)}. Fix: give every {w.row} a unique "
                            "id, or name another id column.")


def _small_groups(out: pd.DataFrame, roles: Roles, w: Words) -> str | None:
    """The note on groups of fewer than 2 rows (their effects are the prior's), or None."""
    sizes = out[roles.cluster].value_counts() if roles.cluster else pd.Series(dtype=int)
    small = sizes[sizes < 2]
    if not len(small):
        return None
    shown = ", ".join(map(str, small.index[:10])) + (
        f" and {len(small) - 10} more" if len(small) > 10 else "")
    return (f"{len(small)} {w.groups if len(small) > 1 else w.group} with fewer than 2 "
            f"{w.rows}: {shown}; their effects are estimated almost entirely from the "
            "pooling prior")


def _labels(raw: pd.Series) -> pd.Series:
    """A categorical column's labels as text, NaN for a blank cell (a missing value).

    A ``pandas.Categorical`` stays one, its categories in their declared order.
    """
    text = raw.astype("string").str.strip()
    blank = (text.isna() | (text == "")).to_numpy()
    labels = text.astype(object).where(~blank, np.nan)
    if isinstance(raw.dtype, pd.CategoricalDtype):
        order = list(dict.fromkeys(str(c).strip() for c in raw.cat.categories))
        return pd.Series(pd.Categorical(labels, categories=order), index=raw.index)
    return labels


def _rate_outcome(frame: pd.DataFrame, out: pd.DataFrame, roles: Roles, w: Words) -> None:
    """Check an outcome that is a non-negative rate per unit of ``roles.per`` (a count).

    The rate may be missing only where ``per`` is 0.
    """
    per = _numeric(frame, roles.per)
    if per.isna().any():
        raise DataError(f"column {roles.per!r} (the outcome's 'per') has missing values: "
                        f"{_rows(frame, per.isna())}. Fix: fill them in or remove those {w.rows}.")
    _check_count(frame, per, roles.per)
    rate = _numeric(frame, roles.outcome)
    gap = rate.isna() & (per > 0)
    if gap.any():
        raise DataError(f"outcome column {roles.outcome!r} is missing where {roles.per!r} > 0: "
                        f"{_rows(frame, gap)}. Fix: fill them in or remove those {w.rows}.")
    bad = rate < 0
    if bad.any():
        raise DataError(f"outcome column {roles.outcome!r} is a rate per {roles.per!r} and "
                        f"cannot be negative: {_rows(frame, bad, roles.outcome)}. Fix: correct "
                        "those values.")
    out[roles.per] = per.astype(int)
    out[roles.outcome] = rate


def _domains(frame: pd.DataFrame, out: pd.DataFrame, roles: Roles,
             registry: Mapping[str, str] | None, *,
             known: Collection[str] | None = None, w: Words | None = None
             ) -> dict[str, str] | None:
    """Cluster -> domain, from the table's own domain column or else the registry."""
    w = w or roles.words
    clusters = out[roles.cluster]
    if roles.domain and roles.domain in frame.columns:
        dom = frame[roles.domain].astype("string").str.strip()
        gap = dom.isna() | (dom == "")
        if gap.any():
            bad = sorted(clusters[gap].unique())
            raise DataError(f"column {roles.domain!r} is blank for {w.group}(s) "
                            f"{', '.join(bad)} ({_rows(frame, gap)}). Fix: give every row of a "
                            f"{w.group} its {roles.domain}.")
        if known and (roles.domains or _uses_labels(dom, known)):
            strange = ~dom.isin(list(known))
            if strange.any():
                hint = next((h for h in (did_you_mean(str(label), known, cutoff=0.5)
                                         for label in dom[strange].unique()) if h), "")
                raise DataError(f"column {roles.domain!r} has domain label(s) not among "
                                f"{', '.join(sorted(known))}: {_rows(frame, strange, roles.domain)}"
                                f".{hint} Fix: correct them, or declare the "
                                "domains in the spec's [hierarchy] domains = [...].")
        pairs = pd.DataFrame({"c": clusters, "d": dom.astype(str)}).drop_duplicates()
        clash = pairs["c"].duplicated(keep=False)
        if clash.any():
            bad = sorted(pairs.loc[clash, "c"].unique())
            raise DataError(f"column {roles.domain!r}: {w.group}(s) {', '.join(bad)} carry more "
                            f"than one {roles.domain}. Fix: give all rows of a {w.group} one "
                            f"{roles.domain} ({roles.cluster} must be nested in "
                            f"{roles.domain}).")
        return dict(zip(pairs["c"], pairs["d"], strict=True))
    if roles.domain is None:
        return None
    if registry is None:
        raise DataError(f"column {roles.domain!r} is missing and no cluster registry was "
                        f"given. Fix: add a {roles.domain!r} column giving each cluster's "
                        "domain, or leave the domain out of the spec's [columns].")
    known = dict(registry)
    unknown = ~clusters.isin(list(known))
    if unknown.any():
        first = clusters[unknown].iloc[0]
        raise DataError(f"column {roles.cluster!r} has cluster(s) not in the registry: "
                        f"{_rows(out, unknown, roles.cluster)}."
                        f"{did_you_mean(first, known, cutoff=0.5)} Known "
                        f"clusters: {', '.join(known)}. Fix: use these ids, or add a "
                        f"{roles.domain!r} column giving each cluster's domain.")
    return {c: known[c] for c in sorted(clusters.unique())}


def load(path: str | Path, roles: Roles, *,
         domains: Mapping[str, str] | None = None) -> FirmData:
    """Read and validate a CSV firm table (see :func:`validate`).

    Parameters
    ----------
    path : str or Path
        The CSV file.
    roles : Roles
        Which column plays which role.
    domains : mapping, optional
        A registry of cluster -> domain, for a table without a domain column.

    Returns
    -------
    FirmData
        The validated table.
    """
    return validate(read_table(path), roles, domains=domains)
