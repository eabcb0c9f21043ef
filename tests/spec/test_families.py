"""The families' registry: every family declared once, documented from the registry, and no
code outside it that branches on a family's name."""

import re
from pathlib import Path

import pytest

from bayescluster.spec.families import BASES, DOCUMENTS, FAMILIES, ZEROS, with_families_table
from bayescluster.spec.parse import parse_spec

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("document", DOCUMENTS)
def test_every_documents_families_table_is_the_registrys(document):
    text = (ROOT / document).read_text()
    assert with_families_table(text) == text, f"{document}: run `make tables`"


def test_every_base_times_every_zero_structure_is_a_family():
    assert len(FAMILIES) == len(BASES) * len(ZEROS)
    for family in FAMILIES.values():
        assert family.base.names[family.zero.name] == family.name


NAMES = "|".join(map(re.escape, FAMILIES))
BRANCH = re.compile(rf"""(==|!=)\s*["']({NAMES})["']|["']({NAMES})["']\s*(==|!=)"""
                    rf"""|\bin\s*[(\[{{][^)\]}}]*["']({NAMES})["']""")


def test_the_branch_finder_finds_planted_branches():
    for line in ('if self.name == "poisson":', "if name in ('negbin', 'zinb'):",
                 'x = "hurdle_nb" != family', 'if spec.family in ["zip"]:'):
        assert BRANCH.search(line), line
    assert not BRANCH.search('family = "zinb"')


def test_no_code_branches_on_a_familys_name():
    branch = BRANCH
    allowed = {ROOT / "bayescluster" / "spec" / "families.py"}
    found = [f"{path.relative_to(ROOT)}:{k + 1}: {line.strip()}"
             for path in sorted((ROOT / "bayescluster").rglob("*.py")) if path not in allowed
             for k, line in enumerate(path.read_text().splitlines()) if branch.search(line)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_spec_takes_every_family_and_its_own_parameters_prior(name):
    family = FAMILIES[name]
    spec = parse_spec(f'schema_version = 1\nfamily = "{name}"\n[columns]\noutcome = "y"\n'
                      '[covariates]\n')
    if family.parameter is not None:
        assert spec.priors[family.parameter.name] == family.parameter.prior
    others = {b.parameter.name for b in BASES.values() if b.parameter} - (
        {family.parameter.name} if family.parameter else set())
    assert not others & set(spec.priors)
