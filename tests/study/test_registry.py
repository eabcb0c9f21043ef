import pandas as pd

from bayescluster.study import registry


def test_nineteen_projects_four_domains_every_one_assigned():
    table = registry.clusters()
    assert len(table) == 19
    assert table["project"].tolist() == list(range(1, 20))
    assert table["cluster"].is_unique
    assert set(table["domain"]) == {"manufacturing", "it", "bio", "energy"}
    assert table["domain"].notna().all()
    assert table["domain"].value_counts().to_dict() == {
        "manufacturing": 9, "energy": 4, "it": 3, "bio": 3}


def test_transcribed_values_against_appendix_1():
    t = registry.clusters().set_index("cluster")
    assert t.loc["tokai-mfg", ["firms", "universities", "budget_million_yen"]].tolist() == [
        864, 30, 8237]
    assert t.loc["kansai-bio", "budget_million_yen"] == 11063
    assert t.loc["tokai-bio", "universities"] == 47
    assert t.loc["okinawa", "prefectures"] == "Okinawa"
    assert t.loc["kanto-it", "firms"] == 240


def test_cells_left_empty_stay_missing():
    t = registry.clusters().set_index("cluster")
    assert pd.isna(t.loc["kyushu-energy", "incubators"])
    assert pd.isna(t.loc["kanto-it", "financial_institutions"])


def test_domain_rule_largest_subproject_then_first_field():
    t = registry.clusters().set_index("cluster")
    sub = registry.subprojects()
    hok = sub[sub["project"] == 1].sort_values("firms", ascending=False)
    assert hok.iloc[0]["fields"] == "IT" and t.loc["hokkaido", "domain"] == "it"
    for cluster, row in t.iterrows():
        if cluster in ("hokkaido",):
            continue
        first = row["fields"].split(",")[0].strip().lower()
        expected = {"manufacturing": "manufacturing", "it": "it", "bio": "bio",
                    "energy": "energy"}[first]
        assert row["domain"] == expected, cluster


def test_project_rows_sum_their_subprojects():
    t = registry.clusters().set_index("project")
    sums = registry.subprojects().groupby("project")[["firms", "budget_million_yen"]].sum()
    for project in (1, 4):
        assert t.loc[project, "firms"] == sums.loc[project, "firms"]
        assert t.loc[project, "budget_million_yen"] == sums.loc[project, "budget_million_yen"]
