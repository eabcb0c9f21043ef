"""Which spec the user means, and the options that change it.

A shipped spec's name, a TOML file, a :class:`~bayescluster.spec.parse.Spec` or a formula: the one
place the front
door and the command line resolve a model.
"""

from pathlib import Path
from typing import Any

import pandas as pd

from bayescluster.core.errors import SpecError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.data.table import read_table
from bayescluster.spec.formula import formula_toml, infer_roles, read_formula
from bayescluster.spec.parse import Spec, amend, load_spec, parse_spec


def formula_spec(formula: str, data: pd.DataFrame | str | Path | None = None, *,
                 family: str | None = None, zero_formula: str | None = None,
                 roles: dict[str, str] | None = None, name: str = "formula",
                 id: str | None = None, missing: str | None = None,
                 baselines: dict[str, str] | None = None,
                 parameterization: str | None = None, priors: dict | None = None) -> Spec:
    """The spec of a formula, its covariates' roles read from ``data`` unless given.

    Parameters
    ----------
    formula : str
        ``"y ~ x + log(z) + C(k) + (1 + x | group)"``; see :mod:`bayescluster.spec.formula`
        for the grammar.
    data : DataFrame, str or Path, optional
        The table the roles are read from (default: the shipped firm table).
    family : str, optional
        The likelihood family (default ``zinb``).
    zero_formula : str, optional
        The zero part's formula, ``"~ 1 + x"``.
    roles : dict, optional
        Covariate -> role (``binary``, ``count``, ``positive``, ``numeric``,
        ``categorical``), overriding what the data suggest.
    name : str
        The spec's name.
    id : str, optional
        The row id column.
    missing : {"impute", "drop"}, optional
        The missing-data rule (default ``impute``).
    baselines : dict, optional
        Categorical covariate -> its baseline level.
    parameterization : {"auto", "noncentered", "centered"}, optional
        How the group effects are sampled (default ``auto``).
    priors : dict, optional
        Priors by key, as a spec's ``[priors]`` (``{"sd_cluster": {"dist": "gamma",
        "alpha": 4, "beta": 10}}``); the others keep their defaults.

    Returns
    -------
    Spec
        The validated spec; its text keeps the formula beside the roles.

    Examples
    --------
    >>> spec = bc.formula_spec("y ~ x + (1 | g)", table, family="negbin", id="id")
    >>> spec.family, spec.columns["cluster"]
    ('negbin', 'g')
    """
    frame = read_table(DEFAULT_DATA if data is None else data) \
        if not isinstance(data, pd.DataFrame) else data
    read = read_formula(formula, zero_formula)
    chosen = {**infer_roles(frame, read["covariates"], read["transforms"],
                            tuple(read["categorical"])), **(roles or {})}
    text = formula_toml(formula, family=family, zero_formula=zero_formula, roles=chosen,
                        name=name, id_column=id,
                        settings={"missing": missing, "baselines": baselines,
                                  "parameterization": parameterization, "priors": priors})
    return parse_spec(text, f"formula {formula!r}")


FORMULA_ONLY = ("family", "zero_formula", "roles", "id")


def chosen_spec(model: Spec | str | Path, data: pd.DataFrame | str | Path | None = None,
                **options: Any) -> Spec:
    """The spec ``model`` stands for, with ``options`` applied.

    Parameters
    ----------
    model : Spec, str or Path
        A :class:`~bayescluster.spec.parse.Spec`, a shipped spec's name, a TOML file's path, or a
        formula (text
        with ``~``).
    data : DataFrame, str or Path, optional
        The table a formula's roles are read from.
    **options : Any
        :func:`formula_spec`'s options for a formula; for a spec ``missing``,
        ``baselines``, ``parameterization`` and ``priors`` replace its keys
        (:func:`~bayescluster.spec.parse.amend`), and a formula's own options are refused.

    Returns
    -------
    Spec
        The validated spec, amended by ``options``.

    Raises
    ------
    SpecError
        For a formula's own option given with a spec, a model of another type, or an
        invalid spec.
    """
    if isinstance(model, str) and "~" in model:
        return formula_spec(model, data, **options)
    given = [k for k in FORMULA_ONLY if options.get(k) is not None]
    if given:
        raise SpecError(f"{', '.join(given)} go(es) with a formula; a spec names its own. "
                        "Fix: drop them, or give a formula.")
    if isinstance(model, Spec):
        spec = model
    elif isinstance(model, str | Path):
        spec = load_spec(model)
    else:
        raise SpecError(f"model must be a spec name, a TOML path, a formula or a Spec, not "
                        f"{type(model).__name__}. Fix: e.g. bc.fit('zinb_hier', data).")
    return amend(spec, **{k: v for k, v in options.items() if k not in FORMULA_ONLY})
