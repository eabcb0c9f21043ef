"""Messages in the table's own words: rows, the grouping columns' names and the outcome's for
any table; the study's firms, clusters and patents only for the study's own table. validate
and describe read any table through a formula or a spec."""

import re

import numpy as np
import pandas as pd
import pytest

from bayescluster.cli import main
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.data.roles import Roles, Words
from bayescluster.data.table import validate

STUDY = re.compile(r"\b(firms?|clusters?|patents?)\b", re.I)


@pytest.fixture
def nests(tmp_path):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"bird": [f"b{k}" for k in range(40)],
                          "nest": rng.choice(["n1", "n2", "n3", "n4"], 40),
                          "kind": rng.choice(["oak", "ash"], 40),
                          "eggs": rng.poisson(2, 40)})
    frame.loc[3, "kind"] = ""
    path = tmp_path / "nests.csv"
    frame.to_csv(path, index=False)
    return path


def test_validate_and_describe_read_any_table_through_a_formula(nests, capsys):
    formula = "eggs ~ kind + (1 | nest)"
    assert main(["validate", str(nests), "--formula", formula, "--id", "bird"]) == 0
    out = capsys.readouterr().out
    assert "valid table of 40 rows" in out and "4 nest groups" in out
    assert "kind: 2 levels (ash" in out and "kind 1; complete rows 39" in out
    assert not STUDY.findall(out)
    assert main(["describe", str(nests), "--formula", formula]) == 0
    out = capsys.readouterr().out
    assert "Table 3" not in out and "(blank)" in out and not STUDY.findall(out)


def test_a_table_that_is_not_the_studys_needs_its_count_named(nests, capsys):
    assert main(["validate", str(nests)]) == 2
    err = capsys.readouterr().err
    assert "which column is the count?" in err and "--formula" in err
    assert "Traceback" not in err


def test_the_studys_table_keeps_the_studys_words(capsys):
    assert main(["validate", str(DEFAULT_DATA)]) == 0
    out = capsys.readouterr().out
    assert "valid table of 229 firms" in out and "19 clusters in 4 domains" in out


def test_data_errors_speak_of_rows_and_the_tables_groups():
    roles = Roles(outcome="eggs", cluster="nest", id="bird")
    frame = pd.DataFrame({"bird": ["a", "a", "c"], "nest": ["n1", "n1", "n2"],
                          "eggs": [1, 0, 2]})
    with pytest.raises(Exception, match=r"duplicate ids: .*Fix: give every row a unique id"):
        validate(frame, roles)
    with pytest.warns(UserWarning, match=r"3 nest groups with fewer than 2 rows: n1, n3, n2"):
        validate(frame.assign(bird=["a", "b", "c"], nest=["n1", "n3", "n2"]), roles)
    with pytest.raises(Exception, match="is 0 in every row"):
        validate(frame.assign(bird=["a", "b", "c"], eggs=0), roles)


def test_words_relabel_the_packages_terms_as_the_tables_columns():
    words = Words.of(Roles(outcome="TICKS", cluster="BROOD", domain="LOCATION"))
    assert words.count(1, "groups") == "1 BROOD group" and words.count(3) == "3 rows"
    table = pd.DataFrame({"median": [1.0], "domain": ["l1"], "new_cluster": [True],
                          "sd_x": [0.5]},
                         index=pd.MultiIndex.from_tuples([("b1", "intercept")],
                                                         names=["cluster", "effect"]))
    shown = words.relabel(table)
    assert list(shown.index.names) == ["BROOD", "effect"]
    assert list(shown.columns) == ["median", "LOCATION", "new_BROOD", "sd_x"]
    assert list(table.index.names) == ["cluster", "effect"]  # the table itself is kept
