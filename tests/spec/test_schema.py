"""The spec reference is made from the table the parser checks keys against: every key it
accepts has its row, every prior its default from the code, and the committed reference is
current."""

import pytest

from bayescluster.core.errors import SpecError
from bayescluster.spec import parse, schema


def test_every_key_the_parser_accepts_is_in_the_reference_and_no_other():
    covered = {(section, key) for e in schema.ENTRIES for section, key in e.keys}
    for section, keys in parse.SECTIONS.items():
        if section == "priors":
            continue
        if keys is None:
            assert (None, section) in covered or (section, None) in covered, section
        else:
            assert {(section, k) for k in keys} <= covered, section
    priors = {k for names in schema.PRIOR_MEANINGS for k in names}
    assert priors == set(parse.SECTIONS["priors"])


def test_a_key_the_reference_lacks_is_refused_by_the_parser():
    text = 'schema_version = 1\nfamily = "negbin"\n[columns]\noutcome = "y"\ncluster = "g"\n' \
           '[hierarchy]\nshrink = true\n'
    with pytest.raises(SpecError, match="shrink"):
        parse.parse_spec(text, "s.toml")


def test_the_reference_shows_the_defaults_a_fit_uses():
    text = schema.reference()
    assert "`gamma(alpha=2, beta=5)`" in text  # sd_cluster's, from DEFAULT_PRIORS
    assert "`halfnormal(sigma=1) or gamma(alpha=1, beta=0.1) or gamma(alpha=2, beta=0.5)`" \
        in text  # dispersion's, from the families' registry


def test_models_readme_holds_the_current_reference():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / schema.DOCUMENT
    text = path.read_text()
    assert schema.with_reference(text) == text, f"{schema.DOCUMENT}: run `make tables`"
