"""Categorical covariates with R's and formulae's semantics: levels fixed at fit time and
recorded, the baseline a pandas Categorical's first category or else the first sorted
level (or the one asked for), a blank cell a missing value (never a level), an unseen
level an error, interactions expanded as formulae expands them."""

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from scipy import special, stats

import bayescluster as bc
from bayescluster.analysis.effects import parse_profile
from bayescluster.analysis.predict import new_rows
from bayescluster.api import table
from bayescluster.core.errors import DataError, SpecError
from bayescluster.model.build import build
from bayescluster.model.design import make_design, model_scale
from bayescluster.model.terms import column_matrix


def _frame(n=48, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.poisson(3, n), "kind": rng.choice(["N", "A", "Q"], n),
                         "sex": rng.choice(["M", "F"], n), "x": rng.normal(size=n),
                         "code": rng.choice([10, 2, 1], n), "g": rng.choice(list("abcd"), n)})


def _design(formula, frame, **options):
    spec = bc.formula_spec(formula, frame, family="negbin", **options)
    return make_design(spec, table(frame, spec))


def test_levels_are_sorted_numbers_numerically_and_recorded():
    design = _design("y ~ kind + C(code) + (1 | g)", _frame())
    assert design.levels == {"kind": ("A", "N", "Q"), "code": ("1", "2", "10")}
    assert design.decisions["levels"] == {"kind": ["A", "N", "Q"], "code": ["1", "2", "10"]}
    assert design.coef_labels == ["kind[N]", "kind[Q]", "code[2]", "code[10]"]


def test_a_categoricals_declared_order_gives_the_baseline():
    frame = _frame().assign(kind=lambda f: pd.Categorical(f["kind"],
                                                          categories=["Q", "N", "A", "Z"]))
    design = _design("y ~ kind", frame)
    assert design.levels["kind"] == ("Q", "N", "A")  # Z has no row: left out, and said
    assert design.coef_labels == ["kind[N]", "kind[A]"]
    assert any("'Z' have no rows" in note for note in design.notes)


def test_the_baseline_can_be_set_and_a_wrong_one_names_the_levels():
    assert _design("y ~ kind", _frame(), baselines={"kind": "Q"}).coef_labels == [
        "kind[A]", "kind[N]"]
    with pytest.raises(DataError, match=r"column 'kind': the baseline 'B' is not among its "
                                        r"levels 'A', 'N', 'Q'\. Fix: pass --baseline kind="):
        _design("y ~ kind", _frame(), baselines={"kind": "B"})


@pytest.mark.parametrize("blank", ["", "  ", np.nan, None])
def test_a_blank_cell_is_missing_never_a_level(blank):
    frame = _frame().astype({"kind": object})
    frame.loc[[3, 7], "kind"] = blank
    design = _design("y ~ kind + x", frame)
    assert design.levels["kind"] == ("A", "N", "Q")  # no '' or '(missing)' level
    assert list(design.impute_categorical["kind"]) == [3, 7]
    rows = np.bincount(design.row_firm, minlength=design.n_firms)
    assert rows[3] == rows[7] == 3 and design.n_rows == design.n_firms + 4
    assert any("2 blank cell(s) are missing values, not a level" in n for n in design.notes)
    dropped = _design("y ~ kind + x", frame, missing="drop")
    assert dropped.n_dropped == 2 and dropped.levels["kind"] == ("A", "N", "Q")
    assert any('dropped (missing = "drop")' in n for n in dropped.notes)


def test_a_marginalised_categorical_is_the_mixture_over_its_levels():
    frame = _frame().astype({"kind": object})
    frame.loc[[3, 7], "kind"] = np.nan
    design = _design("y ~ kind + x", frame)
    built = build(design)
    point = dict(zip([v.name for v in built.model.free_RVs],
                     pm.draw(built.model.free_RVs, random_seed=4), strict=True))
    firm_ll = built.evaluator().fn(*(np.asarray(v)[None] for v in point.values()))[1][0]
    beta = dict(zip(design.coef_labels, point["beta"], strict=True))
    intercept = point.get("intercept", point.get("intercept_at_means",
                                                 0.0) - design.fixed_means @ point["beta"])
    p = point["impute_kind_p"]
    n = 1 / point["dispersion"]
    for i in (3, 7, 0):
        row = frame.iloc[i]
        kinds = ["A", "N", "Q"] if pd.isna(row["kind"]) else [row["kind"]]
        terms = []
        for k in kinds:
            eta = intercept + beta["x"] * row["x"] + beta.get(f"kind[{k}]", 0.0)
            ll = stats.nbinom.logpmf(row["y"], n, n / (n + np.exp(eta)))
            terms.append(ll + (np.log(p[["A", "N", "Q"].index(k)]) if len(kinds) > 1 else 0))
        assert firm_ll[i] == pytest.approx(special.logsumexp(terms), rel=1e-9)


@pytest.mark.parametrize("formula", ["y ~ kind * sex", "y ~ x + x:kind", "y ~ x:kind",
                                     "y ~ kind:sex", "y ~ kind * sex * x", "y ~ C(code):kind"])
def test_interactions_are_expanded_as_formulae_expands_them(formula):
    from formulae import design_matrices

    frame = _frame(120)
    design = _design(formula, frame)
    ours = column_matrix(design.fixed, design.values, design.n_firms)
    theirs = design_matrices(formula, frame.assign(code=frame["code"].astype(str)))
    matrix = np.asarray(theirs.common.design_matrix)[:, 1:]
    assert ours.shape == matrix.shape
    labels = [label.replace("C(code)", "code") for term in theirs.common.terms.values()
              for label in term.labels][1:]
    order = [labels.index(c) for c in design.coef_labels]  # same columns, maybe reordered
    np.testing.assert_array_equal(ours, matrix[:, order])


def test_a_categorical_varying_effect_varies_by_level():
    design = _design("y ~ kind + x + (1 + kind | g)", _frame())
    assert design.varying == ["intercept", "kind[N]", "kind[Q]"]


def test_an_unseen_or_blank_level_in_new_rows_is_an_error_not_the_baseline(tmp_path):
    frame = _frame()
    run = bc.fit("y ~ kind + x + (1 | g)", frame, family="negbin", prior_only=True,
                 draws=20, quiet=True)
    new = frame.head(3).copy()
    new["kind"] = ["Z", "A", "N"]
    with pytest.raises(DataError, match=r"column 'kind' has level\(s\) in the new rows that "
                                        r"the model was not fitted to: row 1 \('Z'\)\. Its "
                                        r"levels are 'A', 'N', 'Q'"):
        new_rows(run, new)
    new["kind"] = ["Q", "", "N"]
    with pytest.raises(DataError, match=r"'kind' are missing \(blank\) in row 2"):
        new_rows(run, new)
    design = run.design
    assert design.code("kind", "Q") == 2.0 and design.code("kind", " A ") == 0.0
    with pytest.raises(DataError, match="level 'Z' was not in the data"):
        design.code("kind", "Z")
    # the levels the fit saw travel with the run, whatever order a reader gives them
    run.save(tmp_path / "run")
    loaded = bc.load_run(tmp_path / "run")
    assert loaded.design.levels == design.levels
    shuffled = frame.assign(kind=pd.Categorical(frame["kind"], categories=["Q", "A", "N"]))
    np.testing.assert_array_equal(model_scale(loaded.design, shuffled.head(5)),
                                  model_scale(design, frame.head(5)))


def test_counterfactuals_and_profiles_take_levels():
    assert parse_profile("sex=M, x=1.5,kind=N") == {"sex": "M", "x": 1.5, "kind": "N"}
    with pytest.raises(DataError, match="must look like name=value"):
        parse_profile("sex")


def test_c_marks_a_categorical_and_cannot_be_mixed_with_the_plain_column():
    spec = bc.formula_spec("y ~ C(code) + x", _frame(), family="negbin")
    assert spec.covariates["code"] == "categorical"
    with pytest.raises(SpecError, match=r"'code' both as C\(code\) and as code"):
        bc.formula_spec("y ~ C(code) + code:x", _frame(), family="negbin")
    with pytest.raises(SpecError, match=r"writes C\(code\), but \[covariates\] declares "
                                        r"code = 'numeric'"):
        bc.formula_spec("y ~ C(code)", _frame(), family="negbin", roles={"code": "numeric"})
