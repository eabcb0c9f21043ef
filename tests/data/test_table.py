import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bayescluster.core.errors import DataError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.data import Roles, read_table
from bayescluster.study.firms import PAPER_ROLES, load, validate


@pytest.fixture
def table(firms):
    return firms.head(40).copy()


def write(tmp_path, frame, name="t.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_valid_table_summary(firms):
    data = validate(firms)
    assert data.n_firms == 229
    assert data.missing == {"projects": 19, "national": 9, "jointrd": 3, "sameregion": 4,
                            "rd": 7}
    assert set(data.domains.values()) == {"manufacturing", "it", "bio", "energy"}
    assert data.frame["domain"].notna().all()


def test_caller_frame_is_not_changed(table):
    before = table.copy()
    validate(table)
    pd.testing.assert_frame_equal(table, before)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"does not exist\. Fix: give the path"):
        load(tmp_path / "nope.csv")


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load(tmp_path)


def test_empty_file(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(DataError, match="is empty: no header and no rows"):
        load(tmp_path / "e.csv")


def test_header_only_is_an_empty_table(tmp_path, table):
    (tmp_path / "h.csv").write_text(",".join(table.columns) + "\n")
    with pytest.raises(DataError, match=r"has a header but no rows \(its header reads "
                                        r"'firm_id, cluster"):
        load(tmp_path / "h.csv")
    with pytest.raises(DataError, match=r"the table is empty \(no rows\)"):
        validate(table.iloc[:0])


def test_a_broken_line_is_named_not_read_as_missing_values(tmp_path):
    header, *rows = DEFAULT_DATA.read_text().splitlines()
    short = ",".join(rows[1].split(",")[:5])
    (tmp_path / "s.csv").write_text("\n".join([header, rows[0], short, *rows[2:]]) + "\n")
    with pytest.raises(DataError, match=r"fewer cells than its header \(15\): line 3\. Fix"):
        load(tmp_path / "s.csv")
    (tmp_path / "l.csv").write_text("\n".join([header, rows[0] + ",7", *rows[1:]]) + "\n")
    with pytest.raises(DataError, match=r"more cells than its header \(15\): line 2 "):
        load(tmp_path / "l.csv")
    (tmp_path / "b.csv").write_text("\n\n".join([header, *rows]) + "\n")  # blank lines
    assert len(load(tmp_path / "b.csv").frame) == len(rows)


@pytest.mark.parametrize(("content", "said"), [
    (b"\x81\x8d\x00\xff\xfe" * 50, r"is binary, not a CSV table \(a NUL byte on line 1"),
    (b"firm,pat\n" + b"1,2\n" * 30 + b"3,\x80\n", r"is not UTF-8 text: byte 0x80 on line 32, "
                                                  r"column 3"),
    (b"PK\x03\x04" + bytes(200), r"is a zip archive \(an Excel \.xlsx"),
    ("firm,pat\n1,2\n".encode("utf-16"), r"is UTF-16 text"),
])
def test_a_file_that_is_not_utf8_text_is_refused_by_name(tmp_path, content, said):
    """Read as bytes first: never a UnicodeDecodeError, whatever the bytes and wherever."""
    (tmp_path / "b.csv").write_bytes(content)
    with pytest.raises(DataError, match=r"file '.*b\.csv' " + said + r".*Fix: save it as "
                                        r"comma-separated UTF-8"):
        load(tmp_path / "b.csv")


def test_a_utf8_byte_order_mark_is_dropped(tmp_path):
    (tmp_path / "bom.csv").write_bytes("firm,pat\n1,2\n".encode("utf-8-sig"))
    assert list(read_table(tmp_path / "bom.csv").columns) == ["firm", "pat"]


def test_required_column_missing_suggests_closest(table):
    with pytest.raises(DataError, match=r"required column 'participant' is missing\. Did you "
                                        r"mean 'participnt'\?.*Fix: add it, or name a column"):
        validate(table.rename(columns={"participant": "participnt"}))


@pytest.mark.parametrize("value, message", [
    (-1, r"'pat' is a count but has negative values: row 3 \(-1\)"),
    (2.5, r"'pat' is a count but has non-integer values: row 3 \(2\.5\)"),
    ("many", r"'pat' must be numeric; 1 value\(s\) are not numbers: row 3 \('many'\)"),
])
def test_bad_counts(table, value, message):
    table["pat"] = table["pat"].astype(object)
    table.loc[2, "pat"] = value
    with pytest.raises(DataError, match=message):
        validate(table)


def test_bad_count_covariate(table):
    table["projects"] = table["projects"].astype(object)
    table.loc[0, "projects"] = -2
    with pytest.raises(DataError, match=r"'projects' is a count but has negative values"):
        validate(table)


def test_binary_outside_01(table):
    table.loc[[1, 4], "participant"] = 2
    with pytest.raises(DataError, match=r"'participant' is binary but has values outside "
                                        r"\{0, 1\}: row 2 \(2\), row 5 \(2\)\. Fix: code"):
        validate(table)


def test_nonpositive_where_log_taken(table):
    table.loc[6, "scale"] = 0
    with pytest.raises(DataError, match=r"'scale' must be positive \(its log is taken\) but "
                                        r"has values <= 0: row 7 \(0\)"):
        validate(table)


def test_unknown_cluster_lists_known_and_suggests(table):
    table.loc[3, "cluster"] = "hokaido"
    with pytest.raises(DataError, match=r"not in the registry: row 4 \('hokaido'\)\. Did you "
                                        r"mean 'hokkaido'\? Known clusters: hokkaido, tohoku"):
        validate(table)


def test_cluster_without_a_domain(table):
    table["domain"] = "it"
    table.loc[[0, 1], "domain"] = ""
    with pytest.raises(DataError, match=r"column 'domain' is blank for cluster\(s\) hokkaido "
                                        r"\(row 1, row 2\)\. Fix: give every row"):
        validate(table)


def test_cluster_with_two_domains(table):
    table["domain"] = "it"
    table.loc[0, "domain"] = "bio"
    with pytest.raises(DataError, match=r"cluster\(s\) hokkaido carry more than one domain"):
        validate(table)


def test_user_domains_allow_unknown_clusters(table):
    table["cluster"] = np.where(np.arange(len(table)) < 20, "alpha", "beta")
    table["domain"] = np.where(np.arange(len(table)) < 20, "bio", "it")
    data = validate(table)
    assert data.domains == {"alpha": "bio", "beta": "it"}


def test_duplicate_firm_ids(table):
    table.loc[5, "firm_id"] = table.loc[0, "firm_id"]
    with pytest.raises(DataError, match=r"duplicate ids: row 1 \('F0000001'\), row 6 "
                                        r"\('F0000001'\)\. Fix: give every firm a unique id"):
        validate(table)


def test_small_cluster_warns(firms):
    table = firms.copy()
    table.loc[0, "cluster"] = "okinawa"
    keep = (table["cluster"] != "tokai-bio") | (table.index == table.index[
        table["cluster"] == "tokai-bio"][0])
    with pytest.warns(UserWarning, match=r"1 cluster with fewer than 2 firms: tokai-bio"):
        data = validate(table[keep])
    assert "tokai-bio" in data.warnings[0]


def test_missing_outcome_is_an_error(table):
    table["pat"] = table["pat"].astype(float)
    table.loc[[0, 9], "pat"] = np.nan
    with pytest.raises(DataError, match=r"outcome column 'pat' has 2 missing value\(s\): row "
                                        r"1, row 10\. Fix: .*never imputed"):
        validate(table)


def test_missing_covariates_are_reported_per_column(table):
    table["age"] = table["age"].astype(float)
    table.loc[[1, 2, 3], "age"] = np.nan
    data = validate(table)
    assert data.missing["age"] == 3
    assert len(data.frame) == len(table)


def test_at_most_five_rows_shown(table):
    table.loc[:9, "participant"] = 3
    with pytest.raises(DataError, match=r"row 5 \(3\) and 5 more\."):
        validate(table)


def test_empty_cluster_cell(table):
    table["cluster"] = table["cluster"].astype(object)
    table.loc[2, "cluster"] = None
    with pytest.raises(DataError, match=r"column 'cluster' has empty values: row 3"):
        validate(table)


def test_infinite_value(table):
    table.loc[0, "rd"] = np.inf
    with pytest.raises(DataError, match=r"column 'rd' has infinite values: row 1"):
        validate(table)


def test_non_numeric_covariate(table):
    table["rd"] = table["rd"].astype(object)
    table.loc[0, "rd"] = "high"
    with pytest.raises(DataError, match=r"column 'rd' must be numeric.*row 1 \('high'\)"):
        validate(table)


def test_duplicate_column_names(tmp_path, table):
    text = table.to_csv(index=False).replace("claim,citation", "claim,claim", 1)
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(DataError, match=r"appear more than once"):
        load(tmp_path / "d.csv")


def test_roles_map_a_users_own_names(table):
    renamed = table.rename(columns={"pat": "patents", "cluster": "region"})
    roles = Roles(outcome="patents", cluster="region", domain="domain", id="firm_id",
                  binary=("participant",), positive=("scale",))
    data = validate(renamed, roles)
    assert data.frame["patents"].dtype.kind == "i"


def test_cli_shows_error_without_traceback(tmp_path, table, capsys):
    from bayescluster.cli import main

    table.loc[0, "participant"] = 7
    path = write(tmp_path, table)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: column 'participant' is binary")
    assert "Traceback" not in err


CELLS = st.one_of(st.none(), st.just(""), st.text(max_size=6), st.integers(-5, 400),
                  st.floats(allow_nan=True, allow_infinity=True, width=32),
                  st.sampled_from(["hokkaido", "nowhere", "0", "1", "1.5", "-0"]))


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_malformed_tables_raise_data_error_or_succeed(tmp_path, firms, data):
    frame = firms.head(data.draw(st.integers(0, 12))).copy().astype(object)
    columns = list(frame.columns)
    for column in data.draw(st.lists(st.sampled_from(columns), max_size=3, unique=True)):
        if data.draw(st.booleans()):
            frame = frame.drop(columns=column)
        else:
            frame = frame.rename(columns={column: data.draw(st.text(max_size=5))})
    for _ in range(data.draw(st.integers(0, 8))):
        if len(frame) and len(frame.columns):
            i = data.draw(st.integers(0, len(frame) - 1))
            j = data.draw(st.integers(0, len(frame.columns) - 1))
            frame.iat[i, j] = data.draw(CELLS)
    path = tmp_path / "fuzz.csv"
    if data.draw(st.booleans()):
        frame.to_csv(path, index=False)
        source = path
    else:
        source = frame
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # small clusters: a warning, not error
            result = validate(source, PAPER_ROLES)
    except DataError:
        return
    assert len(result.frame) == len(frame)


def test_a_domain_label_typo_is_an_error_unless_declared(table):
    from bayescluster.data import validate as generic
    from bayescluster.study.registry import cluster_domains

    typo = table.assign(domain=table["cluster"].map(cluster_domains()))
    typo.loc[typo["cluster"] == typo["cluster"].iloc[0], "domain"] = "Bio"
    with pytest.raises(DataError, match=r"domain label\(s\) not among bio, energy, it, "
                                        r"manufacturing: row 1 \('Bio'\).* Did you mean 'bio'\?"):
        validate(typo)
    declared = Roles(**{**PAPER_ROLES.__dict__, "domains": ("Bio", "it", "energy",
                                                            "manufacturing")})
    assert "Bio" in set(generic(typo, declared).domains.values())


def test_a_table_grouped_by_labels_of_its_own_keeps_them(table):
    """The registry's domain labels bind a table that uses them (or near misses of them),
    not one grouped by labels of its own; a declaration binds every table."""
    halves = {c: ("north", "south")[i % 2] for i, c in enumerate(sorted(table["cluster"].unique()))}
    own = table.assign(domain=table["cluster"].map(halves))
    assert set(validate(own).domains.values()) <= {"north", "south"}
    near = own.assign(domain=own["domain"].replace({"north": "Energy"}))
    with pytest.raises(DataError, match=r"not among bio, energy, it, manufacturing: .*"
                                        r" Did you mean 'energy'\?"):
        validate(near)
    declared = Roles(**{**PAPER_ROLES.__dict__, "domains": ("east", "west")})
    from bayescluster.data import validate as generic

    with pytest.raises(DataError, match=r"not among east, west: .*\('(north|south)'\)"):
        generic(own, declared)
