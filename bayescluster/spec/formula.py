"""Model formulas in brms' and bambi's grammar, read by formulae (as bambi does), never eval.

``formula = "pat ~ participant + log(scale) + rd + participant:national:sameregion +
(1 + participant | domain/cluster)"`` and ``zero_formula = "~ 1 + log(scale)"`` stand for
a spec's ``[columns]`` outcome, cluster and domain, ``[fixed]``, ``[zero]``,
``[transforms]`` and ``[hierarchy]`` varying and pool_by_domain. What the package reads:

- terms ``x``, interactions ``x:z`` and ``x*z`` (``x + z + x:z``);
- ``log(x)``, ``scale(x)`` (centre and scale by the data's mean and SD) and
  ``scale(log(x))``, one transform per covariate wherever it appears;
- ``C(x)``: ``x`` is categorical whatever its values (numbers coded as levels); a text
  column is categorical without it. Categorical covariates enter interactions as formulae
  expands them (``kind*sex``, ``kind:log(x)``);
- ``offset(log(x))``: ``x`` is the exposure;
- ``(effects | domain/cluster)``: effects varying by cluster, pooled toward domain means
  (also written ``(effects | domain) + (effects | domain:cluster)``), or
  ``(effects | cluster)``: one grouping level. The effects are ``1`` and fixed terms.
  Without a group term the model is single-level: every firm in one group.

Anything else is a :class:`~bayescluster.core.errors.SpecError` naming the part.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from bayescluster.core.errors import SpecError, did_you_mean
from bayescluster.spec.families import DEFAULT_FAMILY

if TYPE_CHECKING:
    import pandas as pd

TRANSFORMS = {"log": "log", "scale": "standardize"}
CATEGORICAL = "C"  # C(x): x is categorical


def _fail(part: str, formula: str, fix: str) -> SpecError:
    return SpecError(f"formula {formula!r}: cannot read {part}. {fix}")


def _unwrap(node, formula: str) -> tuple[str, tuple[str, ...]]:
    """(covariate, transforms applied innermost first) of a formula variable or call."""
    callee = getattr(node, "callee", None)
    if callee is None:
        name = getattr(node, "name", None)
        if not isinstance(name, str):
            raise _fail(f"{node!r}", formula, "Arguments must be column names.")
        return name, ()
    if callee not in (*TRANSFORMS, CATEGORICAL) or len(node.args) != 1 or node.kwargs:
        raise _fail(f"the call {callee}(...)", formula,
                    "The calls read are log(x), scale(x), scale(log(x)), C(x) and "
                    "offset(log(x)); a baseline level is set with --baseline x=LEVEL.")
    name, chain = _unwrap(node.args[0], formula)
    return name, (*chain, TRANSFORMS.get(callee, CATEGORICAL))


def _component(component, formula: str) -> tuple[str, tuple[str, ...]]:
    if hasattr(component, "call"):
        return _unwrap(component.call, formula)
    return component.name, ()


def _terms(terms, formula: str, transforms: dict[str, tuple[str, ...]]) -> list[str]:
    """Term names (covariates joined by ':'), recording each covariate's transforms.

    ``C(x)`` is recorded as the chain ``("C",)``.
    """
    names = []
    for term in terms:
        factors = []
        for component in term.components:
            name, chain = _component(component, formula)
            if chain not in ((), ("log",), ("standardize",), ("log", "standardize"),
                             (CATEGORICAL,)):
                raise _fail(f"{component.name}", formula,
                            "Write log(x), scale(x), scale(log(x)) or C(x).")
            if (CATEGORICAL,) in (chain, transforms.get(name)) and \
                    transforms.setdefault(name, chain) != chain:
                raise _fail(f"{name!r} both as C({name}) and as {name}", formula,
                            f"Write C({name}) wherever {name} appears.")
            if transforms.setdefault(name, chain) != chain:
                raise _fail(f"{name!r} with two transforms", formula,
                            "Use one transform of a covariate wherever it appears.")
            factors.append(name)
        names.append(":".join(factors))
    return names


def _split(description, formula: str) -> tuple[list, str | None]:
    """The non-offset common terms, and the exposure column of an offset(log(x))."""
    kept, exposure = [], None
    for term in description.common_terms:
        if type(term).__name__ == "Intercept":
            continue
        calls = [c for c in getattr(term, "components", []) if hasattr(c, "call")]
        if calls and calls[0].call.callee == "offset":
            call = calls[0].call
            inner = call.args[0] if len(call.args) == 1 else None
            name, chain = _unwrap(inner, formula) if inner is not None else (None, None)
            if len(term.components) != 1 or chain != ("log",):
                raise _fail(str(term), formula, "An offset is written offset(log(x)).")
            exposure = name
            continue
        kept.append(term)
    return kept, exposure


def _groups(description, formula: str, transforms) -> tuple[list[str], str, str | None]:
    """Varying effects, the cluster column and the domain column (None: one level)."""
    by_factor: dict[tuple[str, ...], list[str]] = {}
    for group in description.group_terms:
        factor = tuple(c.name for c in group.factor.components)
        if type(group.expr).__name__ == "Intercept":
            effect = ["intercept"]
        else:
            effect = _terms([group.expr], formula, transforms)
        by_factor.setdefault(factor, []).extend(effect)
    if not by_factor:
        return [], "", None
    factors = sorted(by_factor, key=len)
    if len(factors) == 1 and len(factors[0]) == 1:
        cluster, domain = factors[0][0], None
    elif len(factors) == 2 and len(factors[0]) == 1 and factors[1][:1] == factors[0] \
            and len(factors[1]) == 2 and by_factor[factors[0]] == by_factor[factors[1]]:
        domain, cluster = factors[1]
    else:
        shown = ", ".join("(… | " + ":".join(f) + ")" for f in factors)
        raise _fail(f"the grouping {shown}", formula, "Write (effects | domain/cluster) or "
                    "(effects | cluster), with the same effects at both levels.")
    varying = by_factor[factors[0]]
    if "intercept" not in varying:
        raise _fail("group effects without their intercept", formula,
                    "Include 1 in the varying effects, e.g. (1 + x | cluster).")
    return varying, cluster, domain


def _describe(formula: str):
    from formulae import model_description

    if not isinstance(formula, str):
        raise SpecError(f"a formula must be text like \"y ~ x + (1 | cluster)\", not "
                        f"{type(formula).__name__}.")
    text = formula.strip()
    try:  # formulae reads a one-sided formula without its ~
        return model_description(text[1:] if text.startswith("~") else text)
    except Exception as error:  # formulae's parse and scan errors have no common base
        raise SpecError(f"formula {formula!r} cannot be parsed: {error}. Fix: write it as "
                        "y ~ x + log(z) + (1 + x | domain/cluster).") from None


def _has_intercept(description) -> bool:
    return any(type(t).__name__ == "Intercept" for t in description.common_terms)


def read_formula(formula: str, zero_formula: str | None = None) -> dict:
    """The spec sections a formula and a zero-part formula stand for.

    Parameters
    ----------
    formula : str
        The count part, ``"y ~ x + log(z) + (1 + x | domain/cluster)"``.
    zero_formula : str or None
        The zero part, ``"~ 1 + x"``; None for no zero-part terms.

    Returns
    -------
    dict
        ``columns`` (outcome, cluster, domain, exposure), ``fixed``, ``zero``,
        ``transforms`` (covariate -> chain), ``varying``, ``pool_by_domain``,
        ``covariates`` (every covariate named, in order) and ``categorical`` (those
        written ``C(x)``).

    Raises
    ------
    SpecError
        For what the grammar above does not read, naming the part and the fix.
    """
    description = _describe(formula)
    if description.response is None:
        raise _fail("a formula without an outcome", formula, "Write outcome ~ terms.")
    if not _has_intercept(description):
        raise _fail("a model without an intercept", formula, "Drop the 0 or -1.")
    response = description.response.term.components[0]
    outcome, chain = _component(response, formula)
    if chain:
        raise _fail(f"the transformed outcome {response.name}", formula,
                    "The outcome is a count, modelled as it is.")
    transforms: dict[str, tuple[str, ...]] = {}
    kept, exposure = _split(description, formula)
    fixed = _terms(kept, formula, transforms)
    varying, cluster, domain = _groups(description, formula, transforms)
    missing = [v for v in varying if v != "intercept" and v not in fixed]
    if missing:
        raise _fail(f"varying effect(s) {', '.join(missing)} missing from the fixed terms",
                    formula, "Write them in the fixed part too, as brms does.")
    zero = []
    if zero_formula is not None:
        zero_description = _describe(zero_formula)
        if zero_description.response is not None or zero_description.group_terms:
            raise _fail("an outcome or groups in the zero part", zero_formula,
                        "Write the zero part as ~ 1 + terms.")
        zero = _terms([t for t in zero_description.common_terms
                       if type(t).__name__ != "Intercept"], zero_formula, transforms)
    covariates = list(dict.fromkeys(f for t in (*fixed, *zero) for f in t.split(":")))
    columns = {"outcome": outcome}
    if cluster:
        columns["cluster"] = cluster
    if domain:
        columns["domain"] = domain
    if exposure:
        columns["exposure"] = exposure
    return {"columns": columns, "fixed": fixed, "zero": zero,
            "transforms": {k: list(v) for k, v in transforms.items()
                           if v and v != (CATEGORICAL,)},
            "categorical": [k for k, v in transforms.items() if v == (CATEGORICAL,)],
            "varying": ["intercept", *[v for v in varying if v != "intercept"]] if cluster
            else [],
            "pool_by_domain": domain is not None, "covariates": covariates}


def infer_roles(frame: pd.DataFrame, covariates: list[str],
                transforms: Mapping[str, list[str]], categorical: tuple[str, ...] = ()
                ) -> dict[str, str]:
    """Each covariate's role, read from its values.

    A logged one is ``positive``; one written ``C(x)`` (in ``categorical``), one of text
    or a ``pandas.Categorical`` is ``categorical``; one with only 0 and 1 (or True and
    False) ``binary``; any other number ``numeric``.

    Parameters
    ----------
    frame : DataFrame
        The table, a column per covariate, values on the user's scale.
    covariates : list of str
        The covariates the formula names (:func:`read_formula`'s ``covariates``).
    transforms : Mapping
        Covariate -> its transforms (:func:`read_formula`'s ``transforms``).
    categorical : tuple of str
        The covariates written ``C(x)``.

    Returns
    -------
    dict of str to str
        Covariate -> role, in ``covariates`` order.

    Raises
    ------
    SpecError
        For a covariate that is not a column of ``frame``.
    """
    import pandas as pd

    roles = {}
    for name in covariates:
        if name not in frame:
            raise SpecError(f"the formula names {name!r}, which is not a column of the data."
                            f"{did_you_mean(name, frame.columns)} Columns present: "
                            f"{', '.join(map(str, frame.columns))}.")
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype(object)
        values = pd.to_numeric(column, errors="coerce")
        text = values.isna() & column.notna() & (column.astype(str).str.strip() != "")
        if "log" in transforms.get(name, ()):
            roles[name] = "positive"
        elif name in categorical or isinstance(frame[name].dtype, pd.CategoricalDtype) \
                or text.any():
            roles[name] = "categorical"
        elif values.dropna().isin([0, 1]).all():
            roles[name] = "binary"
        else:
            roles[name] = "numeric"
    return roles


def formula_toml(formula: str, *, family: str | None = None, zero_formula: str | None = None,
                 roles: Mapping[str, str], name: str = "formula",
                 id_column: str | None = None, settings: Mapping | None = None) -> str:
    """The TOML text of a spec given by a formula, its roles written out.

    The text keeps the formula (so a run shows what was asked) beside the roles, which
    :func:`infer_roles` reads from the data when the caller does not give them.
    ``settings`` are further spec keys: ``missing``, ``baselines`` (covariate -> level),
    ``parameterization`` (written to ``[hierarchy]``) and ``priors`` (as ``[priors]``).

    Parameters
    ----------
    formula : str
        The count part's formula, kept as the spec's ``formula``.
    family : str or None
        The likelihood family; None for ``DEFAULT_FAMILY``.
    zero_formula : str or None
        The zero part's formula; None for none.
    roles : Mapping
        Covariate -> role, written as ``[covariates]``.
    name : str
        The spec's name.
    id_column : str or None
        The row id column (``[columns] id``); None for none.
    settings : Mapping or None
        ``missing``, ``baselines``, ``parameterization`` and ``priors``; None or {} values
        are left out.

    Returns
    -------
    str
        The spec's TOML text (validated when parsed, not here).
    """
    from bayescluster.spec.toml import dumps

    raw = {"schema_version": 1, "name": name, "family": family or DEFAULT_FAMILY,
           "formula": formula}
    if zero_formula is not None:
        raw["zero_formula"] = zero_formula
    settings = {k: v for k, v in (settings or {}).items() if v is not None and v != {}}
    if "missing" in settings:
        raw["missing"] = settings["missing"]
    if id_column:
        raw["columns"] = {"id": id_column}
    raw["covariates"] = dict(roles)
    if settings.get("baselines"):
        raw["baselines"] = {k: str(v) for k, v in settings["baselines"].items()}
    if "parameterization" in settings:
        raw["hierarchy"] = {"parameterization": settings["parameterization"]}
    if settings.get("priors"):
        raw["priors"] = dict(settings["priors"])
    return dumps(raw)
