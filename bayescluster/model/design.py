"""Spec + validated firm table -> numeric design (numpy), before any PyMC.

Missing covariates are handled here for ``drop`` (listwise deletion over the covariates the
spec uses) and prepared for ``impute``: continuous covariates get latent values in the model;
a firm with ``k`` missing binary covariates is expanded into ``2**k`` rows, one per
combination, which the model sums over (the binary covariates are marginalised, so NUTS
never sees a discrete parameter).
"""

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytensor.tensor as pt

from bayescluster.core.errors import DataError
from bayescluster.data.roles import ONE_GROUP
from bayescluster.data.table import FirmData
from bayescluster.spec.parse import Spec, Term

MISSING_LEVEL = "(missing)"


@dataclass(frozen=True)
class Column:
    """A design column: a product of covariates, or one dummy of a categorical."""

    label: str
    factors: tuple[int, ...] = ()
    dummy: np.ndarray | None = field(default=None, repr=False)
    source: str | None = None  # a dummy's categorical covariate
    level: str | None = None  # and the level it marks
    baseline: str | None = None  # and that covariate's baseline level


@dataclass
class Design:
    """Everything the model needs, as arrays; row = one firm x one binary combination."""

    spec: Spec
    firm_ids: np.ndarray
    y: np.ndarray
    offset: np.ndarray | None
    covariates: list[str]
    binary: list[bool]
    values: np.ndarray  # (firm, covariate) on the model's scale, NaN where missing
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
    row_firm: np.ndarray = None  # (row,)
    row_values: np.ndarray = None  # (row, covariate)
    row_bits: np.ndarray = None  # (row, covariate): 1/0 for a marginalised binary, -1 else
    firm_rows: np.ndarray = None  # (firm, max combos) padded with ``n_rows``
    impute_continuous: dict[str, np.ndarray] = field(default_factory=dict)  # firm indices
    impute_binary: dict[str, np.ndarray] = field(default_factory=dict)
    fixed_centres: np.ndarray = None  # (coef,) see column_centres
    zero_centres: np.ndarray = None  # (zero_coef,)
    fixed_means: np.ndarray = None  # (coef,) see column_means
    zero_means: np.ndarray = None  # (zero_coef,)

    @property
    def n_firms(self) -> int:
        """Number of firms in the design."""
        return len(self.y)

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
        """Rows of the likelihood: a firm per missing-binary combination."""
        return len(self.row_firm)

    @property
    def marginalised(self) -> bool:
        """Whether some firm's missing binary covariates are summed out."""
        return self.firm_rows.shape[1] > 1

    @property
    def decisions(self) -> dict:
        """What the design decided from the data.

        Each transformed covariate's centre and scale on the model's scale
        (``x_model = (t(x) - centre) / scale``).
        """
        return {"transforms": {name: {"center": c, "scale": s}
                               for name, (c, s) in self.transform_stats.items()},
                "centred_columns": {
                    part: {c.label: float(v) for c, v in zip(columns, centres, strict=True)
                           if v != 0.0}
                    for part, columns, centres in (("fixed", self.fixed, self.fixed_centres),
                                                   ("zero", self.zero, self.zero_centres))}}


def column_matrix(columns: list[Column], x, n_rows: int,
                  levels: dict[str, str] | None = None):
    """The (row, column) matrix of design ``columns`` at covariate values ``x``.

    Parameters
    ----------
    columns : list of Column
        ``design.fixed``, ``design.zero`` or ``design.selection``.
    x : ndarray or TensorVariable
        (row, covariate) values on the model's scale.
    n_rows : int
        Rows of ``x``.
    levels : dict, optional
        Categorical covariate -> the level every row takes (a counterfactual); otherwise
        each row keeps its own.

    Returns
    -------
    ndarray, TensorVariable or None
        numpy when ``x`` is; None when there are no columns.
    """
    out = []
    for column in columns:
        if column.dummy is not None and levels and column.source in levels:
            out.append(np.full(n_rows, float(levels[column.source] == column.level)))
        elif column.dummy is not None:
            out.append(column.dummy)
        else:
            value = np.ones(n_rows)
            for j in column.factors:
                value = value * x[:, j]
            out.append(value)
    if not out:
        return None
    return np.stack(out, axis=1) if isinstance(x, np.ndarray) else pt.stack(out, axis=1)


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
        if column.dummy is None and not np.isin(value, (0.0, 1.0)).all():
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


def _observed(column: Column, values: np.ndarray) -> np.ndarray:
    """A design column's values over the firms where it is observed."""
    value = column.dummy if column.dummy is not None else np.prod(
        values[:, list(column.factors)], axis=1)
    return value[~np.isnan(value)]


def _offset(value: np.ndarray) -> float:
    """The mean of ``value``, or 0 where it is constant, empty or already at mean zero."""
    if value.size == 0:
        return 0.0
    mean, sd = float(value.mean()), float(value.std())
    return mean if sd > 0 and abs(mean) > 1e-9 * sd else 0.0


def varying_matrix(design: Design, X, n_rows: int):
    """The (row, effect) values :math:`z_{ie}` of the cluster-varying effects.

    1 for the intercept, else the effect's fixed-effect column of ``X`` (from
    :func:`column_matrix`); numpy when ``X`` is.
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


def model_scale(design: Design, frame: pd.DataFrame) -> np.ndarray:
    """(row, covariate) values of new rows on ``design``'s scale (NaN where missing).

    The transforms use the design's own centres and scales, not the new rows'.
    """
    columns = [_transform(design.spec, name, frame[name].to_numpy(dtype=float),
                          design.transform_stats.get(name, (0.0, 1.0)))[0]
               for name in design.covariates]
    return np.column_stack(columns) if columns else np.zeros((len(frame), 0))


def new_columns(columns: list[Column], frame: pd.DataFrame, x: np.ndarray) -> np.ndarray:
    """(row, column) matrix of a design's ``columns`` for new rows.

    ``x`` comes from :func:`model_scale`; a dummy marks its own level, as in the fitted
    design.
    """
    out = np.empty((len(frame), len(columns)))
    for k, column in enumerate(columns):
        if column.source is not None:
            labels = frame[column.source].astype(object).where(frame[column.source].notna(),
                                                               MISSING_LEVEL).astype(str)
            out[:, k] = (labels == column.level).to_numpy(dtype=float)
        else:
            out[:, k] = np.prod(x[:, list(column.factors)], axis=1) if column.factors \
                else 1.0
    return out


def _columns(terms: tuple[Term, ...], spec: Spec, covariates: list[str],
             frame: pd.DataFrame) -> list[Column]:
    out = []
    for term in terms:
        if spec.covariates[term.factors[0]] == "categorical":
            name = term.factors[0]
            labels = frame[name].fillna(MISSING_LEVEL).astype(str)
            levels = sorted(labels.unique())
            base = spec.baselines.get(name, levels[0])
            if base not in levels:
                raise DataError(f"column {name!r}: baseline {base!r} (from the spec's "
                                f"[baselines]) is not among its values {levels}. Fix: use one "
                                "of them.")
            for level in levels:
                if level != base:
                    dummy = (labels == level).to_numpy(dtype=float)
                    out.append(Column(f"{name}[{level}]", dummy=dummy, source=name,
                                      level=level, baseline=base))
        else:
            idx = tuple(covariates.index(f) for f in term.factors)
            out.append(Column(spec.term_label(term), factors=idx))
    return out


def make_design(spec: Spec, data: FirmData) -> Design:
    """Build the design of ``spec`` on validated ``data``."""
    frame = data.frame
    roles = spec.roles
    sel = spec.selection or {"terms": ()}
    used = list(dict.fromkeys(f for t in (*spec.fixed, *spec.zero, *sel["terms"])
                              for f in t.factors))
    numeric = [c for c in used if spec.covariates[c] != "categorical"]
    n_before = len(frame)
    if roles.per:  # a rate per unit of ``per``: only firms with per > 0 have one
        frame = frame[frame[roles.per] > 0]
        if frame.empty:
            raise DataError(f"no firm has {roles.per!r} > 0, so the rate {roles.outcome!r} "
                            "is defined for none.")
    if spec.selection and spec.missing == "impute" and \
            frame[spec.selection["treatment"]].isna().any():
        treatment = spec.selection["treatment"]
        where = ", ".join(f"row {i + 1}" for i in frame.index[frame[treatment].isna()][:5])
        raise DataError(f"column {treatment!r} is the selection model's treatment and cannot "
                        f"be missing: {where}. Fix: fill them in or remove those firms.")
    if spec.missing == "drop":
        frame = frame.dropna(subset=used)
        if frame.empty:
            raise DataError(f"no firm is complete in the covariates {used}; listwise deletion "
                            "leaves nothing. Fix: use missing = \"impute\" in the spec.")
    frame = frame.reset_index(drop=True)
    values, stats = [], {}
    for name in numeric:
        column, stats[name] = _transform(spec, name, frame[name].to_numpy(dtype=float))
        values.append(column)
    values = np.column_stack(values) if values else np.zeros((len(frame), 0))
    groups = frame[roles.cluster] if roles.cluster else pd.Series(ONE_GROUP, frame.index)
    clusters = sorted(groups.unique())
    cluster_index = groups.map({c: i for i, c in enumerate(clusters)}).to_numpy()
    if spec.pool_by_domain and data.domains:
        domains = sorted({data.domains[c] for c in clusters})
        cluster_domain = np.array([domains.index(data.domains[c]) for c in clusters])
    else:
        domains, cluster_domain = ["all"], np.zeros(len(clusters), dtype=int)
    fixed = _columns(spec.fixed, spec, numeric, frame)
    zero = _columns(spec.zero, spec, numeric, frame)
    labels = [spec.term_label(t) for t in spec.fixed]
    names = [t.name for t in spec.fixed]
    varying_index = [-1 if v == "intercept" else [c.label for c in fixed].index(
        labels[names.index(v)]) for v in spec.varying]
    offset = None
    y = frame[roles.outcome].to_numpy(dtype=float)
    if roles.exposure or roles.per:
        units = frame[roles.exposure or roles.per].to_numpy(dtype=float)
        offset = np.log(units)
        if roles.per:
            y = np.round(y * units)
    binary = [spec.covariates[c] == "binary" for c in numeric]
    ids = frame[roles.id].to_numpy(dtype=str) if roles.id else np.array(
        [f"row{i + 1}" for i in range(len(frame))])
    design = Design(
        spec=spec, firm_ids=ids, y=y.astype(np.int64),
        offset=offset, covariates=numeric, binary=binary, values=values,
        transform_stats=stats, fixed=fixed, zero=zero,
        selection=_columns(sel["terms"], spec, numeric, frame),
        treatment=numeric.index(spec.selection["treatment"]) if spec.selection else None,
        varying=list(spec.varying),
        varying_index=varying_index, cluster_labels=clusters, domain_labels=domains,
        cluster_index=cluster_index, cluster_domain=cluster_domain, frame=frame,
        n_dropped=n_before - len(frame),
    )
    design.fixed_centres = column_centres(design.fixed, values)
    design.zero_centres = column_centres(design.zero, values)
    design.fixed_means = column_means(design.fixed, values)
    design.zero_means = column_means(design.zero, values)
    _expand(design)
    return design


def _expand(design: Design) -> None:
    """Rows for marginalising missing binary covariates; indices of continuous latents."""
    missing = np.isnan(design.values)
    is_bin = np.array(design.binary, dtype=bool)
    for j, name in enumerate(design.covariates):
        where = np.flatnonzero(missing[:, j])
        if len(where):
            (design.impute_binary if is_bin[j] else design.impute_continuous)[name] = where
    bin_missing = missing & is_bin[None, :]
    patterns, inverse = np.unique(bin_missing, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    row_firm, row_bits = [], []
    for p, pattern in enumerate(patterns):
        firms = np.flatnonzero(inverse == p)
        cols = np.flatnonzero(pattern)
        combos = np.array(list(itertools.product((0.0, 1.0), repeat=len(cols))))
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

