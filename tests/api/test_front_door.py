"""``import bayescluster as bc``: one call from a name, path, Spec or DataFrame to a run whose
tree ArviZ reads unchanged; Python errors are the package's exceptions."""

import arviz as az
import numpy as np
import pytest

import bayescluster as bc
from bayescluster.core.errors import BayesclusterError, DataError, SpecError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.spec import load_spec, resolve
from bayescluster.study.simulate import simulate

SHORT = {"chains": 2, "draws": 80, "tune": 80, "seed": 4, "quiet": True}


@pytest.fixture(scope="module")
def frame():
    return simulate(240, seed=9).data


@pytest.fixture(scope="module")
def run(frame):
    return bc.fit("negbin_hier", frame, **SHORT)


@pytest.mark.sampling
def test_name_path_or_spec_and_frame_or_file_fit_the_same_model(run, frame, tmp_path):
    path = tmp_path / "firms.csv"
    frame.to_csv(path, index=False)
    spec = load_spec("negbin_hier")
    again = bc.fit(spec, path, **SHORT)
    from_file = bc.fit(resolve("negbin_hier"), str(path), **SHORT)  # the TOML file's path
    for other in (again, from_file):
        np.testing.assert_array_equal(other.posterior["beta"].values,
                                      run.posterior["beta"].values)


@pytest.mark.sampling
def test_the_tree_is_arviz_s_own(run):
    table = az.summary(run.tree, var_names=["beta"])
    assert list(table.index) == [f"beta[{c}]" for c in run.design.coef_labels]
    assert az.plot_forest(run.tree, var_names=["beta"]) is not None


@pytest.mark.sampling
def test_save_load_and_report_from_the_front_door(run, tmp_path):
    path = run.save(tmp_path / "run")
    loaded = bc.load_run(path.parent)
    np.testing.assert_array_equal(loaded.posterior["beta"].values,
                                  run.posterior["beta"].values)
    table = bc.parameters(loaded)
    assert {"fixed", "group"} <= set(table.index.get_level_values("block"))
    files = bc.report(loaded, tmp_path / "report")
    assert files["html"].stat().st_size > 10_000
    before = files["html"].stat().st_mtime_ns
    with pytest.raises(bc.RunError, match=r"already holds files.*force=True"):
        bc.report(loaded, tmp_path / "report")  # nothing is overwritten without force
    assert files["html"].stat().st_mtime_ns == before


def test_python_errors_are_the_package_s_exceptions(frame):
    with pytest.raises(SpecError, match=r"model must be a spec name.*not int"):
        bc.fit(3, frame)
    with pytest.raises(SpecError, match="not found.*zinb_hier"):
        bc.fit("zinb_hierr", frame)
    with pytest.raises(DataError, match="required column 'pat' is missing"):
        bc.fit("zinb_hier", frame.drop(columns="pat"))
    with pytest.raises(BayesclusterError, match="at least 2 simulations"):
        bc.sbc("zinb_hier", frame, sims=1)
    with pytest.raises(BayesclusterError, match="'national', 'jointrd', 'sameregion'"):
        bc.sbc("selection_zinb", sims=5)  # the shipped firms miss some binaries
    assert issubclass(SpecError, BayesclusterError)


def test_the_default_table_is_the_shipped_one():
    spec = load_spec("zinb_hier")
    assert bc.table(None, spec).frame.equals(bc.table(DEFAULT_DATA, spec).frame)
