"""A formula and its TOML equivalent give the same spec and build the same model; what the
grammar cannot read is an error naming the part."""

import numpy as np
import pandas as pd
import pytest

import bayescluster as bc
from bayescluster.core.errors import SpecError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.spec import parse_spec
from bayescluster.spec.formula import infer_roles, read_formula

FORMULA = ("pat ~ participant + log(scale) + scale(rd) + participant:national:sameregion"
           " + offset(log(age)) + (1 + participant | domain/cluster)")
TOML = """schema_version = 1
name = "formula"
family = "hurdle_nb"

[columns]
outcome = "pat"
cluster = "cluster"
domain = "domain"
id = "firm_id"
exposure = "age"

[covariates]
participant = "binary"
scale = "positive"
rd = "numeric"
national = "binary"
sameregion = "binary"

[transforms]
scale = "log"
rd = "standardize"

[fixed]
terms = ["participant", "scale", "rd", "participant:national:sameregion"]

[zero]
terms = ["scale"]

[hierarchy]
varying = ["intercept", "participant"]
pool_by_domain = true
"""


def _formula_spec():
    return bc.formula_spec(FORMULA, DEFAULT_DATA, family="hurdle_nb",
                           zero_formula="~ 1 + log(scale)", id="firm_id")


def test_formula_and_toml_give_the_same_spec():
    ours, theirs = _formula_spec(), parse_spec(TOML)
    for field in ("family", "columns", "covariates", "transforms", "fixed", "zero", "varying",
                  "pool_by_domain", "parameterization", "priors", "missing"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert ours.roles == theirs.roles
    assert FORMULA in ours.text  # the run keeps what was asked


@pytest.mark.slow  # builds and compiles both models
def test_formula_and_toml_build_the_same_model():
    from bayescluster.model.build import build
    from bayescluster.model.design import make_design
    from bayescluster.study.firms import load

    models = []
    for spec in (_formula_spec(), parse_spec(TOML)):
        models.append(build(make_design(spec, load(DEFAULT_DATA, spec.roles))).model)
    ours, theirs = models
    assert [v.name for v in ours.free_RVs] == [v.name for v in theirs.free_RVs]
    point = ours.initial_point(random_seed=3)
    rng = np.random.default_rng(3)
    point = {k: v + 0.1 * rng.standard_normal(np.shape(v)) for k, v in point.items()}
    assert ours.compile_logp()(point) == theirs.compile_logp()(point)


@pytest.mark.parametrize(("formula", "message"), [
    ("pat ~ poly(rd) + (1 | cluster)", r"cannot read the call poly\(\.\.\.\)"),
    ("pat ~ 0 + rd + (1 | cluster)", "without an intercept"),
    ("pat ~ rd + (1 | a:b)", r"cannot read the grouping \(… \| a:b\)"),
    ("pat ~ log(rd) + rd + (1 | cluster)", "'rd' with two transforms"),
    ("log(pat) ~ rd + (1 | cluster)", "transformed outcome log\\(pat\\)"),
    ("pat ~ rd + offset(age) + (1 | cluster)", r"offset is written offset\(log\(x\)\)"),
    ("pat ~ rd + (1 + scale | cluster)", "varying effect\\(s\\) scale missing from the fixed"),
    ("pat ~ rd + (1 | domain) + (1 + rd | domain:cluster)", "same effects at both levels"),
    ("pat ~ rd +", "cannot be parsed"),
])
def test_what_the_grammar_cannot_read_is_named(formula, message):
    with pytest.raises(SpecError, match=message):
        read_formula(formula)


def test_a_formula_without_groups_is_a_single_level_model():
    read = read_formula("art ~ fem + ment", "~ 1 + ment")
    assert read["columns"] == {"outcome": "art"}
    assert read["varying"] == [] and read["pool_by_domain"] is False
    assert read["fixed"] == ["fem", "ment"] and read["zero"] == ["ment"]


def test_a_toml_formula_needs_roles_and_owns_its_sections():
    text = TOML.replace('family = "hurdle_nb"', f'family = "zinb"\nformula = "{FORMULA}"')
    with pytest.raises(SpecError, match=r"\[fixed\]|fixed, zero, transforms"):
        parse_spec(text)
    bare = f'schema_version = 1\nformula = "{FORMULA}"\n[covariates]\nparticipant = "binary"\n'
    with pytest.raises(SpecError, match="scale, rd, national, sameregion have no role"):
        parse_spec(bare)


def test_roles_are_read_from_the_values():
    frame = pd.DataFrame({"b": ["0", "1", ""], "n": ["0.5", "2", "3"], "c": ["x", "y", "x"],
                          "p": ["1", "2", "3"]})
    assert infer_roles(frame, ["b", "n", "c", "p"], {"p": ["log"]}) == {
        "b": "binary", "n": "numeric", "c": "categorical", "p": "positive"}
    with pytest.raises(SpecError, match="names 'q', which is not a column"):
        infer_roles(frame, ["q"], {})
    with pytest.raises(SpecError, match=r"names 'HEIGHt', .*\. Did you mean 'HEIGHT'\? "):
        infer_roles(pd.DataFrame({"HEIGHT": [1.0], "YEAR": ["a"]}), ["HEIGHt"], {})


@pytest.mark.sampling
def test_fit_verb_takes_a_formula(tmp_path, capsys):
    from bayescluster.cli import main
    from bayescluster.inference.run import load

    out = tmp_path / "run"
    code = main(["fit", "--formula", FORMULA, "--family", "hurdle_nb", "--zero-formula",
                 "~ 1 + log(scale)", "--id", "firm_id", "--prior-only", "--draws", "50",
                 "--out", str(out), "--quiet"])
    assert code == 0
    run = load(out)
    assert FORMULA in run.spec.text and run.spec.family == "hurdle_nb"
    assert [t.name for t in run.spec.fixed] == [t.name for t in parse_spec(TOML).fixed]
    assert main(["fit", "--formula", FORMULA, "--spec", "zinb_hier", "--out",
                 str(tmp_path / "x")]) == 2
    assert "either --spec or --formula" in capsys.readouterr().err
