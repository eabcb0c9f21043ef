"""Spec + validated table -> numeric design (numpy), before any PyMC.

Categorical covariates carry their levels (:mod:`bayescluster.model.levels`), fixed when the
design is made and recorded in the run (:attr:`Design.decisions`); a categorical
covariate's value in :attr:`Design.values` is its level's code, and its design columns are
indicators of levels, expanded in terms and interactions as formulae expands them
(:mod:`bayescluster.model.terms`).

Missing covariates are handled here for ``drop`` (listwise deletion over the covariates the
spec uses) and prepared for ``impute``: continuous covariates get latent values in the model;
a row with missing discrete covariates (binary, or categorical with ``K`` levels) is
expanded into one row per combination of their values, which the model sums over (the
discrete covariates are marginalised, so NUTS never sees a discrete parameter). A blank cell
of a categorical column is a missing value, never a level.
"""

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytensor.tensor as pt

from bayescluster.core.errors import DataError
from bayescluster.data.roles import ONE_GROUP, Words
from bayescluster.data.table import FirmData
from bayescluster.model.levels import codes, level_code, levels_of
from bayescluster.model.terms import Column, column_matrix, encode
from bayescluster.spec.parse import Spec

MAX_COMBINATIONS = 4096  # rows one firm's missing discrete covariates may expand into


@dataclass
class Design:
    """Everything the model needs, as arrays; row = one firm x one discrete combination."""

    spec: Spec
    firm_ids: np.ndarray
    y: np.ndarray
    offset: np.ndarray | None
    covariates: list[str]
    kinds: list[str]  # per covariate: "binary", "continuous" or "categorical"
    values: np.ndarray  # (firm, covariate) model scale (a level's code), NaN where missing
    transform_stats: dict[str, tuple[float, float]]
    fixed: list[Column]
    zero: list[Column]
    selection: list[Column]
    treatment: int | None  # index into ``covariates`` of the selection model's treatment
    varying: list[str]
    varying_index: list[int]  # -1 for the intercept, else index into ``fixed``
    cluster_labels: list[str]
    domain_labels: list[str]
    cluster_index: np.ndarray  # (firm,)
    cluster_domain: np.ndarray  # (cluster,)
    frame: pd.DataFrame  # the rows used, original values
    n_dropped: int
    levels: dict[str, tuple[str, ...]] = field(default_factory=dict)  # baseline first
    notes: list[str] = field(default_factory=list)  # what the design decided, in words
    words: Words = field(default_factory=Words)  # how the table names its rows and groups
    row_firm: np.ndarray = None  # (row,)
    row_values: np.ndarray = None  # (row, covariate)
    row_bits: np.ndarray = None  # (row, covariate): a marginalised covariate's value, -1 else
    firm_rows: np.ndarray = None  # (firm, max combos) padded with ``n_rows``
    impute_continuous: dict[str, np.ndarray] = field(default_factory=dict)  # firm indices
    impute_binary: dict[str, np.ndarray] = field(default_factory=dict)
    impute_categorical: dict[str, np.ndarray] = field(default_factory=dict)
    fixed_centres: np.ndarray = None  # (coef,) see column_centres
    zero_centres: np.ndarray = None  # (zero_coef,)
    fixed_means: np.ndarray = None  # (coef,) see column_means
    zero_means: np.ndarray = None  # (zero_coef,)

    @property
    def n_firms(self) -> int:
        """Number of firms in the design."""
        return len(self.y)

    @property
    def binary(self) -> list[bool]:
        """Per covariate, whether it is binary."""
        return [k == "binary" for k in self.kinds]

    @property
    def coef_labels(self) -> list[str]:
        """Labels of the fixed-effect columns (the ``coef`` dim)."""
        return [c.label for c in self.fixed]

    @property
    def zero_labels(self) -> list[str]:
        """Labels of the zero part's columns (the ``zero_coef`` dim)."""
        return [c.label for c in self.zero]

    @property
    def selection_labels(self) -> list[str]:
        """Labels of the selection equation's columns."""
        return [c.label for c in self.selection]

    @property
    def n_rows(self) -> int:
        """Rows of the likelihood: a firm per missing-discrete combination."""
        return len(self.row_firm)

    @property
    def marginalised(self) -> bool:
        """Whether some firm's missing discrete covariates are summed out."""
        return self.firm_rows.shape[1] > 1

    @property
    def decisions(self) -> dict:
        """What the design decided from the data.

        Each transformed covariate's centre and scale on the model's scale
        (``x_model = (t(x) - centre) / scale``), the centred columns, and each categorical
        covariate's levels (baseline first).
        """
        return {"transforms": {name: {"center": c, "scale": s}
                               for name, (c, s) in self.transform_stats.items()},
                "centred_columns": {
                    part: {c.label: float(v) for c, v in zip(columns, centres, strict=True)
                           if v != 0.0}
                    for part, columns, centres in (("fixed", self.fixed, self.fixed_centres),
                                                   ("zero", self.zero, self.zero_centres))},
                "levels": {name: list(levels) for name, levels in self.levels.items()}}

    def code(self, name: str, value: str | float) -> float:
        """The model-scale value of covariate ``name`` set to ``value`` (user's scale).

        A categorical covariate's level becomes its code (a number matches a level that
        reads as the same number: ``2`` matches ``"2"``); anything else is transformed as
        the fit transformed it.

        Parameters
        ----------
        name : str
            A covariate of the design.
        value : str or float
            Its value on the user's scale: a level of a categorical covariate, else a
            number.

        Returns
        -------
        float
            The value on the model's scale: the level's code, or the number after the
            covariate's log and standardisation.

        Raises
        ------
        DataError
            For a level the fit never saw, naming the known levels.
        """
        if name in self.levels:
            return float(level_code(name, value, self.levels[name]))
        chain = self.spec.transforms.get(name, ())
        value = float(value)
        if "log" in chain:
            value = np.log(value + (1.0 if self.spec.covariates[name] == "count" else 0.0))
        center, scale = self.transform_stats.get(name, (0.0, 1.0))
        return (value - center) / scale


def column_centres(columns: list[Column], values: np.ndarray) -> np.ndarray:
    r"""Where each design column is centred inside the model (0: it is not).

    A column of a continuous covariate, or a product with one, is centred at its mean over
    the firms where it is observed, as brms and rstanarm centre their design matrices: the
    model samples the intercept at the covariates' means, where it is nearly uncorrelated
    with the slopes, and reports it on the user's scale,
    :math:`\beta_0 = \beta_0^{c} - \bar x^\top \beta`. Indicators, dummies, constant
    columns and columns already at mean zero (standardised) are left as they are, so a
    model on standardised covariates is the same model as before.

    Parameters
    ----------
    columns : list of Column
        ``design.fixed`` or ``design.zero``.
    values : ndarray
        (firm, covariate) values on the model's scale, NaN where missing.

    Returns
    -------
    ndarray
        (column,) centres.
    """
    out = np.zeros(len(columns))
    for k, column in enumerate(columns):
        value = _observed(column, values)
        if not np.isin(value, (0.0, 1.0)).all():
            out[k] = _offset(value)
    return out


def column_means(columns: list[Column], values: np.ndarray) -> np.ndarray:
    r"""Every design column's mean (0 for a constant or standardised one), dummies too.

    Where the sampler moves the intercept (brms' ``Xc``): at every column's mean the
    intercept is nearly uncorrelated with every slope, not only the continuous ones'
    (:func:`bayescluster.model.build._intercept`); its prior stays where
    :func:`column_centres` puts it.

    Parameters
    ----------
    columns : list of Column
        ``design.fixed`` or ``design.zero``.
    values : ndarray
        (firm, covariate) values on the model's scale, NaN where missing.

    Returns
    -------
    ndarray
        (column,) means.
    """
    return np.array([_offset(_observed(column, values)) for column in columns])


def column_sds(columns: list[Column], values: np.ndarray) -> np.ndarray:
    """Every design column's standard deviation over the rows where it is observed.

    What an ``"auto"`` prior scale divides by (:func:`bayescluster.model.priors.auto_scale`).

    Parameters
    ----------
    columns : list of Column
        ``design.fixed``, ``design.zero`` or ``design.selection``.
    values : ndarray
        (firm, covariate) values on the model's scale, NaN where missing.

    Returns
    -------
    ndarray
        (column,) standard deviations; 0 for a constant column, and for every column
        when ``values`` has no rows.
    """
    return np.array([float(np.std(_observed(column, values))) if len(values) else 0.0
                     for column in columns])


def _observed(column: Column, values: np.ndarray) -> np.ndarray:
    """A design column's values over the firms where every covariate in it is observed."""
    used = [*column.factors, *(j for j, _ in column.indicators)]
    seen = ~np.isnan(values[:, used]).any(axis=1) if used else np.ones(len(values), bool)
    return column_matrix([column], np.nan_to_num(values[seen]), int(seen.sum()))[:, 0]


def _offset(value: np.ndarray) -> float:
    """The mean of ``value``, or 0 where it is constant, empty or already at mean zero."""
    if value.size == 0:
        return 0.0
    mean, sd = float(value.mean()), float(value.std())
    return mean if sd > 0 and abs(mean) > 1e-9 * sd else 0.0


def varying_matrix(design: Design, X: np.ndarray | pt.TensorVariable | None, n_rows: int
                   ) -> np.ndarray | pt.TensorVariable:
    """The (row, effect) values :math:`z_{ie}` of the cluster-varying effects.

    1 for the intercept, else the effect's fixed-effect column of ``X`` (from
    :func:`~bayescluster.model.terms.column_matrix`); numpy when ``X`` is.

    Parameters
    ----------
    design : Design
        The design (its ``varying_index``).
    X : ndarray, TensorVariable or None
        (row, coef) the fixed-effect columns; None when there are none (then only the
        intercept varies).
    n_rows : int
        Rows of ``X``.

    Returns
    -------
    ndarray or TensorVariable
        (row, effect) :math:`z_{ie}`; numpy unless ``X`` is a tensor.
    """
    parts = [np.ones(n_rows) if k < 0 else X[:, k] for k in design.varying_index]
    return np.stack(parts, axis=1) if X is None or isinstance(X, np.ndarray) \
        else pt.stack(parts, axis=1)


def _transform(spec: Spec, name: str, values: np.ndarray,
               stats: tuple[float, float] | None = None) -> tuple[np.ndarray, tuple]:
    """A covariate on the model's scale.

    Its log if asked, then standardised by the data's own centre and scale, or by
    ``stats`` (a fitted run's) when given.
    """
    chain = spec.transforms.get(name, ())
    if "log" in chain:
        values = np.log(values + (1.0 if spec.covariates[name] == "count" else 0.0))
    center, scale = 0.0, 1.0
    if "standardize" in chain:
        if stats is None:
            center = float(np.nanmean(values))
            scale = float(np.nanstd(values)) or 1.0
        else:
            center, scale = stats
        values = (values - center) / scale
    return values, (center, scale)


def model_scale(design: Design, frame: pd.DataFrame, *, where: str = "the new rows"
                ) -> np.ndarray:
    """(row, covariate) values of new rows on ``design``'s scale (NaN where missing).

    The transforms use the design's own centres and scales, and a categorical covariate's
    code the design's own levels, not the new rows'.

    Parameters
    ----------
    design : Design
        The fitted design whose transforms and levels apply.
    frame : DataFrame
        The new rows on the user's scale, a column per covariate of the design.
    where : str
        Which rows these are, for the error.

    Returns
    -------
    ndarray
        (row, covariate) values on the model's scale, in ``design.covariates`` order.

    Raises
    ------
    DataError
        For a categorical level the fit never saw, naming the column, the rows, the
        values and the known levels.
    """
    columns = []
    for name in design.covariates:
        if name in design.levels:
            columns.append(codes(name, frame[name], design.levels[name], where))
        else:
            columns.append(_transform(design.spec, name, frame[name].to_numpy(dtype=float),
                                      design.transform_stats.get(name, (0.0, 1.0)))[0])
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def _varying(spec: Spec, fixed: list[Column]) -> tuple[list[str], list[int]]:
    """The cluster-varying effects' labels and their fixed columns (-1: the intercept).

    A varying term stands for every column it has: a categorical one for each level's.
    """
    labels, index = [], []
    for v in spec.varying:
        if v == "intercept":
            labels.append("intercept")
            index.append(-1)
            continue
        for k, column in enumerate(fixed):
            if column.term == v:
                labels.append(column.label)
                index.append(k)
    return labels, index


def _categorical_frame(spec: Spec, frame: pd.DataFrame, used: list[str],
                       recorded: dict | None) -> tuple[dict, list[str]]:
    """Each used categorical covariate's levels (the recorded ones if given), and notes."""
    levels, notes = {}, []
    for name in used:
        if spec.covariates[name] != "categorical":
            continue
        if recorded and name in recorded:
            levels[name] = tuple(recorded[name])
            continue
        levels[name], said = levels_of(name, frame[name], spec.baselines.get(name),
                                       hint=spec.hint("baselines", name))
        notes += said
    return levels, notes


def make_design(spec: Spec, data: FirmData, *, levels: dict | None = None) -> Design:
    """Build the design of ``spec`` on validated ``data``.

    ``levels`` are a fitted run's categorical levels (:attr:`Design.decisions`), so that a
    saved run is rebuilt with the levels it was fitted with.

    Parameters
    ----------
    spec : Spec
        The model spec.
    data : FirmData
        The validated table (:func:`bayescluster.study.firms.validate`).
    levels : dict or None
        Categorical covariate -> its levels, baseline first, as a run recorded them; None
        to read them from ``data`` and the spec's baselines.

    Returns
    -------
    Design
        The design: a row per firm kept and combination of its missing discrete
        covariates.

    Raises
    ------
    DataError
        When no row is left (``per`` <= 0 everywhere, or listwise deletion), a selection
        model's treatment is missing, a baseline is not a level, the data have a level
        ``levels`` lacks, or a firm's missing discrete covariates have too many
        combinations.
    """
    frame = data.frame
    roles = spec.roles
    sel = spec.selection or {"terms": ()}
    used = list(dict.fromkeys(f for t in (*spec.fixed, *spec.zero, *sel["terms"])
                              for f in t.factors))
    numeric = [c for c in used if spec.covariates[c] != "categorical"]
    categorical = [c for c in used if spec.covariates[c] == "categorical"]
    n_before = len(frame)
    notes = []
    if roles.per:  # a rate per unit of ``per``: only firms with per > 0 have one
        frame = frame[frame[roles.per] > 0]
        if frame.empty:
            raise DataError(f"no row has {roles.per!r} > 0, so the rate {roles.outcome!r} "
                            "is defined for none.")
    if spec.selection and spec.missing == "impute" and \
            frame[spec.selection["treatment"]].isna().any():
        treatment = spec.selection["treatment"]
        where = ", ".join(f"row {i + 1}" for i in frame.index[frame[treatment].isna()][:5])
        raise DataError(f"column {treatment!r} is the selection model's treatment and cannot "
                        f"be missing: {where}. Fix: fill them in or remove those rows.")
    blanks = {c: int(frame[c].isna().sum()) for c in categorical if frame[c].isna().any()}
    if spec.missing == "drop":
        frame = frame.dropna(subset=used)
        if frame.empty:
            raise DataError(f"no row is complete in the covariates {used}; listwise deletion "
                            f"leaves nothing. Fix: {spec.hint('missing', 'impute')}")
    for name, k in blanks.items():
        notes.append(f"column {name!r}: {k} blank cell(s) are missing values, not a level; "
                     + ("those rows are dropped (missing = \"drop\")"
                        if spec.missing == "drop" else
                        "the model sums over the column's levels for those rows "
                        "(missing = \"impute\")"))
    for name in numeric if spec.missing == "impute" else ():
        if (k := int(frame[name].isna().sum())) and name != (spec.selection or {}).get(
                "treatment"):
            how = ("sums over 0 and 1 for those rows" if spec.covariates[name] == "binary" else
                   "draws them as unknowns from a normal fitted to the column's values")
            notes.append(f"column {name!r}: {k} blank cell(s) are missing values; the model "
                         f"{how} (missing = \"impute\")")
    frame = frame.reset_index(drop=True)
    levels, said = _categorical_frame(spec, frame, categorical, levels)
    notes += said
    values, stats = [], {}
    for name in numeric:
        column, stats[name] = _transform(spec, name, frame[name].to_numpy(dtype=float))
        values.append(column)
    covariates = numeric + categorical
    for name in categorical:
        values.append(codes(name, frame[name], levels[name], "the data"))
    values = np.column_stack(values) if values else np.zeros((len(frame), 0))
    groups = frame[roles.cluster] if roles.cluster else pd.Series(ONE_GROUP, frame.index)
    clusters = sorted(groups.unique())
    cluster_index = groups.map({c: i for i, c in enumerate(clusters)}).to_numpy()
    if spec.pool_by_domain and data.domains:
        domains = sorted({data.domains[c] for c in clusters})
        cluster_domain = np.array([domains.index(data.domains[c]) for c in clusters])
    else:
        domains, cluster_domain = ["all"], np.zeros(len(clusters), dtype=int)
    fixed = encode(spec.fixed, spec, covariates, levels)
    zero = encode(spec.zero, spec, covariates, levels)
    varying, varying_index = _varying(spec, fixed)
    offset = None
    y = frame[roles.outcome].to_numpy(dtype=float)
    if roles.exposure or roles.per:
        units = frame[roles.exposure or roles.per].to_numpy(dtype=float)
        offset = np.log(units)
        if roles.per:
            y = np.round(y * units)
    kinds = ["binary" if spec.covariates[c] == "binary" else "continuous" for c in numeric] \
        + ["categorical"] * len(categorical)
    ids = frame[roles.id].to_numpy(dtype=str) if roles.id else np.array(
        [f"row{i + 1}" for i in range(len(frame))])
    design = Design(
        spec=spec, firm_ids=ids, y=y.astype(np.int64),
        offset=offset, covariates=covariates, kinds=kinds, values=values,
        transform_stats=stats, fixed=fixed, zero=zero,
        selection=encode(sel["terms"], spec, covariates, levels),
        treatment=covariates.index(spec.selection["treatment"]) if spec.selection else None,
        varying=varying, varying_index=varying_index, cluster_labels=clusters,
        domain_labels=domains, cluster_index=cluster_index, cluster_domain=cluster_domain,
        frame=frame, n_dropped=n_before - len(frame), levels=levels, notes=notes,
        words=data.words,
    )
    design.fixed_centres = column_centres(design.fixed, values)
    design.zero_centres = column_centres(design.zero, values)
    design.fixed_means = column_means(design.fixed, values)
    design.zero_means = column_means(design.zero, values)
    _expand(design)
    return design


def _options(design: Design, j: int) -> tuple[float, ...]:
    """The values a missing discrete covariate is summed over."""
    if design.kinds[j] == "categorical":
        return tuple(float(k) for k in range(len(design.levels[design.covariates[j]])))
    return (0.0, 1.0)


def _expand(design: Design) -> None:
    """Rows for marginalising missing discrete covariates; indices of continuous latents."""
    missing = np.isnan(design.values)
    discrete = np.array([k != "continuous" for k in design.kinds], dtype=bool)
    imputed = {"binary": design.impute_binary, "continuous": design.impute_continuous,
               "categorical": design.impute_categorical}
    for j, name in enumerate(design.covariates):
        where = np.flatnonzero(missing[:, j])
        if len(where):
            imputed[design.kinds[j]][name] = where
    summed = missing & discrete[None, :]
    patterns, inverse = np.unique(summed, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    row_firm, row_bits = [], []
    for p, pattern in enumerate(patterns):
        firms = np.flatnonzero(inverse == p)
        cols = np.flatnonzero(pattern)
        size = int(np.prod([len(_options(design, j)) for j in cols])) if len(cols) else 1
        if size > MAX_COMBINATIONS:
            names = ", ".join(repr(design.covariates[j]) for j in cols)
            raise DataError(f"row {firms[0] + 1} misses {names}: summing over their "
                            f"{size:,} combinations of values is too many. Fix: "
                            f"{design.spec.hint('missing', 'drop')}")
        combos = np.array(list(itertools.product(*(_options(design, j) for j in cols))))
        bits = np.full((len(firms) * len(combos), design.values.shape[1]), -1.0)
        bits[:, cols] = np.tile(combos, (len(firms), 1)) if len(cols) else bits[:, cols]
        row_firm.append(np.repeat(firms, len(combos)))
        row_bits.append(bits)
    row_firm = np.concatenate(row_firm)
    row_bits = np.concatenate(row_bits)
    order = np.argsort(row_firm, kind="stable")
    design.row_firm, design.row_bits = row_firm[order], row_bits[order]
    design.row_values = np.where(design.row_bits >= 0, design.row_bits,
                                 design.values[design.row_firm])
    counts = np.bincount(design.row_firm, minlength=design.n_firms)
    width = counts.max()
    firm_rows = np.full((design.n_firms, width), len(row_firm), dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for k in range(width):
        has = counts > k
        firm_rows[has, k] = starts[has] + k
    design.firm_rows = firm_rows
