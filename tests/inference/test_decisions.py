"""A run records what its fit decided; loading, summaries and reports read it from there,
and refits take the spec's sampling settings."""

from types import SimpleNamespace

import numpy as np
import pytest

from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.inference import refit as refit_module
from bayescluster.inference.fit import fit
from bayescluster.inference.run import load, save
from bayescluster.model import parameterization
from bayescluster.reporting.sections import model_math
from bayescluster.spec import load_spec, parse_spec
from bayescluster.study.firms import load as load_firms


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    spec = parse_spec(load_spec("zinb_hier").text.replace("draws = 2000", "draws = 100"))
    data = load_firms(DEFAULT_DATA, spec.roles)
    run = fit(spec, data, chains=2, tune=100, seed=2, quiet=True)
    path = tmp_path_factory.mktemp("runs") / "zinb"
    save(run, path)
    return run, path


@pytest.mark.sampling
def test_the_run_records_transforms_and_parameterisation(saved):
    run, _ = saved
    recorded = run.decisions
    for name, (center, scale) in run.design.transform_stats.items():
        assert recorded["transforms"][name] == {"center": center, "scale": scale}
    scale = run.data.frame["scale"].dropna()
    assert recorded["transforms"]["scale"]["center"] == pytest.approx(np.log(scale).mean())
    centred = parameterization.centred_clusters(run.design)
    np.testing.assert_array_equal(run.parameterisation.centred, centred)
    np.testing.assert_allclose(run.parameterisation.domain_information,
                               parameterization.domain_information(run.design))
    assert run.settings["target_accept"] == 0.9 and run.settings["draws"] == 100
    assert run.parameterisation.mass_matrix == "diag"  # with cluster effects


@pytest.mark.sampling
def test_a_loaded_run_is_rebuilt_and_described_from_its_record(saved, monkeypatch):
    _, path = saved
    recorded = load(path)

    def recompute(*args, **kwargs):
        raise AssertionError("the parameterisation was recomputed, not read from the run")

    monkeypatch.setattr(parameterization, "centred_clusters", recompute)
    monkeypatch.setattr(parameterization, "domain_information", recompute)
    monkeypatch.setattr(parameterization, "choose", recompute)
    assert recorded.built.parameterisation.to_record() == \
        recorded.decisions["parameterisation"]
    text = model_math(recorded.spec, recorded.design, recorded.parameterisation)
    n_centred = int(recorded.parameterisation.centred.sum())
    assert f"{n_centred} of 19 clusters centred" in text
    assert "r = σ_domain[e]² × " in text


def test_refits_take_the_specs_sampling_settings(monkeypatch):
    spec = parse_spec(load_spec("zinb_hier").text.replace(
        "draws = 2000", "draws = 2000\ntarget_accept = 0.93\ntune = 700"))
    seen = {}

    class Model:
        def with_data(self, **shared):
            seen["shared"] = shared
            return self

    design = SimpleNamespace(row_firm=np.array([0, 0, 1]))
    built = SimpleNamespace(design=design,
                            parameterisation=SimpleNamespace(mass_matrix="low_rank"))
    monkeypatch.setattr(refit_module, "compiled", lambda spec, data: (built, Model()))
    import nutpie

    monkeypatch.setattr(nutpie, "sample", lambda model, **kw: seen.update(kw) or "tree")
    built, tree = refit_module.refit(spec, None, seed=4, chains=2, draws=50,
                                     outcome=np.array([3, 5]), weights=np.array([1.0, 0.0]))
    assert tree == "tree"
    assert (seen["target_accept"], seen["tune"], seen["draws"]) == (0.93, 700, 50)
    assert seen["adaptation"] == "low_rank"  # the fit's recorded mass matrix
    np.testing.assert_array_equal(seen["shared"]["y_rows"], [3.0, 3.0, 5.0])
    np.testing.assert_array_equal(seen["shared"]["firm_weight"], [1.0, 0.0])
    refit_module.refit(spec, None, seed=4, target_accept=0.99)
    assert (seen["target_accept"], seen["draws"]) == (0.99, 2000)
