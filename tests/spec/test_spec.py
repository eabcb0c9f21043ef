from pathlib import Path

import pytest

from bayescluster.core.errors import SpecError
from bayescluster.core.resources import MODELS, shipped
from bayescluster.spec import load_spec, parse_spec

BASE = shipped(MODELS, "zinb_hier.toml").read_text()
COEF = '\ncoef = { dist = "normal", mu = 0.0, sigma = 1.0 }'  # the study's, in [priors]
SHIPPED = ["paper_m1", "paper_m2", "paper_m3", "negbin_hier", "zinb_hier", "hurdle_hier",
           "poisson_hier"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_specs_load(name):
    spec = load_spec(name)
    assert spec.name == name
    assert spec.roles.outcome == "pat"


def test_paper_specs_are_single_level_negbin_with_drop():
    for model in ("m1", "m2", "m3"):
        spec = load_spec(f"paper_{model}")
        assert spec.family == "negbin" and not spec.varying and spec.missing == "drop"
        assert spec.paper_model == model
    assert "participant:log(scale)" in [load_spec("paper_m2").term_label(t)
                                        for t in load_spec("paper_m2").fixed]


def test_default_spec_roles_and_hierarchy():
    spec = load_spec("zinb_hier")
    assert spec.varying == ("intercept", "participant") and spec.pool_by_domain
    assert spec.roles.binary == ("participant", "national", "jointrd", "sameregion")
    assert spec.priors["sd_cluster"] == {"dist": "gamma", "alpha": 2.0, "beta": 5.0}


def test_unknown_family_lists_valid():
    with pytest.raises(SpecError, match=r"unknown family 'zipp'\. .*Valid names are: poisson, "
                                        r"zip, hurdle_poisson, negbin, zinb, hurdle_nb, nb1"):
        parse_spec(BASE.replace('family = "zinb"', 'family = "zipp"'))


def test_unknown_top_level_key():
    with pytest.raises(SpecError, match=r"unknown top-level key\(s\).*'famly'.*Did you mean "
                                        r"'family'\?"):
        parse_spec('famly = "zinb"\n' + BASE)


def test_unknown_section_key():
    with pytest.raises(SpecError, match=r"unknown key\(s\) in \[hierarchy\]: 'varyng'.*Valid "
                                        r"names are: varying, pool_by_domain"):
        parse_spec(BASE.replace("varying =", "varyng ="))


def test_unknown_covariate_in_term():
    with pytest.raises(SpecError, match=r"unknown covariate in \[fixed\] term "
                                        r"'participant:natonal'.*Did you mean 'national'"):
        parse_spec(BASE.replace('"participant:national:sameregion"',
                                '"participant:natonal"'))


def test_unknown_role_and_transform():
    with pytest.raises(SpecError, match=r"unknown role for covariate 'rd': 'real'.*Valid "
                                        r"names are: count, binary"):
        parse_spec(BASE.replace('rd = "numeric"', 'rd = "real"'))
    with pytest.raises(SpecError, match=r"unknown transform of 'rd': 'sqrt'"):
        parse_spec(BASE.replace('rd = "standardize"', 'rd = "sqrt"'))


def test_log_of_a_numeric_covariate_is_refused():
    with pytest.raises(SpecError, match=r"a log needs a 'positive' or 'count' covariate"):
        parse_spec(BASE.replace('rd = "standardize"', 'rd = ["log"]'))


def test_binary_covariates_are_not_transformed():
    with pytest.raises(SpecError, match=r"binary covariates are used as they are"):
        parse_spec(BASE.replace('rd = "standardize"', 'national = "standardize"'))


def test_varying_effect_must_be_a_fixed_term():
    with pytest.raises(SpecError, match=r"unknown varying effect\(s\).*'age'.*Valid names are: "
                                        r"intercept, participant"):
        parse_spec(BASE.replace('["intercept", "participant"]', '["intercept", "age"]'))


def test_bad_prior():
    with pytest.raises(SpecError, match=r"unknown prior distribution for coef: 'cauchy'.*"
                                        r"Valid names are: normal"):
        parse_spec(BASE.replace(COEF, '\ncoef = { dist = "cauchy", mu = 0, sigma = 1 }'))
    with pytest.raises(SpecError, match=r"normal needs sigma"):
        parse_spec(BASE.replace(COEF, '\ncoef = { dist = "normal", mu = 0 }'))
    with pytest.raises(SpecError, match=r"sd_cluster.sigma = 'auto' has the wrong type"):
        parse_spec(BASE.replace(COEF, '\nsd_cluster = { dist = "halfnormal", sigma = "auto" }'))


def test_schema_version_required():
    with pytest.raises(SpecError, match=r"schema_version must be 1"):
        parse_spec(BASE.replace("schema_version = 1", "schema_version = 9"))


def test_zero_terms_need_a_zero_part():
    text = BASE.replace('family = "zinb"', 'family = "negbin"')
    with pytest.raises(SpecError, match=r"\[zero\] terms\) need a family with a zero part"
                                        r".*Fix: choose one of zip, hurdle_poisson, zinb"):
        parse_spec(text.replace("terms = []  #", 'terms = ["participant"]  #'))


def test_invalid_toml():
    with pytest.raises(SpecError, match=r"is not valid TOML"):
        parse_spec("family = ")


def test_spec_not_found_lists_shipped():
    with pytest.raises(SpecError, match=r"spec 'zinb_heir' not found.*zinb_hier"):
        load_spec("zinb_heir")


def test_users_own_column_names(tmp_path: Path):
    text = BASE.replace('outcome = "pat"', 'outcome = "patents"')
    spec = parse_spec(text)
    assert spec.roles.outcome == "patents"


def test_a_model_that_groups_by_cluster_needs_the_cluster_column():
    text = BASE.replace('cluster = "cluster"\n', "")
    with pytest.raises(SpecError, match=r"must name the 'cluster' column, which \[hierarchy\] "
                                        r"varying, \[columns\] domain need\(s\) to group"):
        parse_spec(text)


def test_a_single_level_spec_may_leave_the_cluster_out():
    text = shipped(MODELS, "paper_m1.toml").read_text().replace('cluster = "cluster"\n', "")
    spec = parse_spec(text)
    assert spec.roles.cluster is None and not spec.hierarchical


@pytest.mark.parametrize(("given", "ours"), [("nb2", "negbin"), ("NB2", "negbin"),
                                             ("nbinom1", "nb1"), ("hurdle_nb2", "hurdle_nb")])
def test_another_softwares_family_name_is_answered_with_ours(given, ours):
    """'nb2' is NB2, this package's negbin: not nb1, the nearest spelling."""
    with pytest.raises(SpecError, match=f"this package calls it '{ours}'"):
        parse_spec(f'schema_version = 1\nfamily = "{given}"\n[columns]\noutcome = "y"\n'
                   'cluster = "g"\n', "s.toml")
