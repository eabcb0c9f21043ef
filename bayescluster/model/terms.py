"""Design columns of a model's terms: products of covariates and indicators of levels.

A term of continuous and binary covariates is one column, their product; a term with
categorical covariates is expanded by formulae, as bambi expands it (:func:`encode`). The
same columns are evaluated in numpy (prediction, effects) and in pytensor (the model) by
:func:`column_matrix`.
"""

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytensor.tensor as pt

from bayescluster.spec.parse import Spec, Term


@dataclass(frozen=True)
class Column:
    """A design column: a product of covariates and indicators of categorical levels.

    Attributes
    ----------
    label : str
        ``x``, ``log(x):z``, ``kind[N]`` or ``kind[N]:log(x)``.
    term : str
        The term the column belongs to (a spec term's name, or a term formulae adds for
        a full-rank design, e.g. ``sex`` of ``kind:sex``).
    factors : tuple of int
        Covariates (indices into ``Design.covariates``) multiplied together.
    indicators : tuple of (int, int)
        (covariate, level code) pairs: the column is 0 unless each covariate takes its
        level.
    """

    label: str
    term: str = ""
    factors: tuple[int, ...] = ()
    indicators: tuple[tuple[int, int], ...] = ()


def _column_values(column: Column, x, n_rows: int):
    """One column's (row,) values at covariates ``x`` (numpy or pytensor)."""
    value = None
    for j in column.factors:
        value = x[:, j] if value is None else value * x[:, j]
    for j, k in column.indicators:
        hit = (x[:, j] == k).astype(float) if isinstance(x, np.ndarray) else \
            pt.cast(pt.eq(x[:, j], k), "float64")
        value = hit if value is None else value * hit
    return np.ones(n_rows) if value is None else value


def column_matrix(columns: list[Column], x: np.ndarray | pt.TensorVariable, n_rows: int
                  ) -> np.ndarray | pt.TensorVariable | None:
    """The (row, column) matrix of design ``columns`` at covariate values ``x``.

    Parameters
    ----------
    columns : list of Column
        ``design.fixed``, ``design.zero`` or ``design.selection``.
    x : ndarray or TensorVariable
        (row, covariate) values on the model's scale (a categorical covariate's level
        code).
    n_rows : int
        Rows of ``x``.

    Returns
    -------
    ndarray, TensorVariable or None
        numpy when ``x`` is; None when there are no columns.
    """
    out = [_column_values(column, x, n_rows) for column in columns]
    if not out:
        return None
    return np.stack(out, axis=1) if isinstance(x, np.ndarray) else pt.stack(out, axis=1)


def _product_columns(terms: tuple[Term, ...], spec: Spec, covariates: list[str]
                     ) -> list[Column]:
    """Columns of terms without a categorical covariate: a product each."""
    return [Column(spec.term_label(t), t.name, tuple(covariates.index(f) for f in t.factors))
            for t in terms]


def encode(terms: tuple[Term, ...], spec: Spec, covariates: list[str],
           levels: dict[str, tuple[str, ...]]) -> list[Column]:
    """The design columns of ``terms`` (an intercept always included).

    A term of continuous and binary covariates is one column, their product; terms with
    categorical covariates are expanded by formulae, as bambi expands them: a categorical
    covariate is coded by indicators of its levels, reduced (the baseline left out) where
    a lower-order term already spans it, full where the design needs every level to stay
    full rank, with terms added where formulae adds them (``a:b`` alone gives ``b`` and
    ``a:b``).

    Parameters
    ----------
    terms : tuple of Term
        The spec's terms of one part (``spec.fixed``, ``spec.zero`` or the selection
        equation's).
    spec : Spec
        The spec (its covariate labels, ``log(x)`` for a logged one).
    covariates : list of str
        ``Design.covariates``: a column's factors and indicators index into it.
    levels : dict
        Categorical covariate -> its levels, baseline first.

    Returns
    -------
    list of Column
        The columns in formulae's order; one per term without a categorical covariate.
    """
    if not any(f in levels for t in terms for f in t.factors):
        return _product_columns(terms, spec, covariates)
    from formulae import design_matrices

    names = list(dict.fromkeys(f for t in terms for f in t.factors))
    n = max([2, *(len(levels[f]) for f in names if f in levels)])
    frame = {"y": np.ones(n)}
    for f in names:  # codes L000000, L000001, ... sort as the levels are ordered
        frame[f] = [f"L{k % len(levels[f]):06d}" for k in range(n)] if f in levels \
            else np.arange(1.0, n + 1.0)
    response = next(c for c in ("y", "response", "outcome_") if c not in names)
    frame[response] = frame.pop("y")
    formula = f"`{response}` ~ " + " + ".join(":".join(f"`{f}`" for f in t.factors)
                                             for t in terms)
    common = design_matrices(formula, pd.DataFrame(frame)).common
    out = []
    for name, term in common.terms.items():
        if name == "Intercept":
            continue
        parts = []
        for component in term.components:
            j = covariates.index(component.name)
            if component.kind != "categoric":
                parts.append([((j,), (), spec.label(component.name))])
                continue
            matrix = np.asarray(component.contrast_matrix.matrix)
            codes = [int(level[1:]) for level in component.levels]
            parts.append([((), ((j, codes[int(np.argmax(matrix[:, c]))]),),
                           f"{component.name}"
                           f"[{levels[component.name][codes[int(np.argmax(matrix[:, c]))]]}]")
                          for c in range(matrix.shape[1])])
        for combo in itertools.product(*parts):
            out.append(Column(":".join(p[2] for p in combo), name,
                              tuple(j for p in combo for j in p[0]),
                              tuple(i for p in combo for i in p[1])))
    return out
