"""Simulation-based calibration on a Dask LocalCluster (small: 20 simulations)."""

import numpy as np
import pytest

from bayescluster.analysis import sbc
from bayescluster.cli import main

pytestmark = pytest.mark.sampling


@pytest.fixture(scope="module")
def ranks_dir(tmp_path_factory, sampler_seed):
    out = tmp_path_factory.mktemp("sbc")
    code = main(["sbc", "--sims", "20", "--draws", "200", "--tune", "300", "--thin", "2",
                 "--workers", "2", "--seed", str(sampler_seed(3)), "--out", str(out)])
    assert code == 0
    return out


def test_sbc_ranks_are_complete_and_in_range(ranks_dir):
    import pandas as pd

    ranks = pd.read_csv(ranks_dir / "ranks.csv")
    assert set(ranks["sim"]) == set(range(20))
    per_sim = ranks.groupby("sim")["parameter"].nunique()
    assert (per_sim == per_sim.iloc[0]).all() and per_sim.iloc[0] >= 14
    assert ranks["rank"].between(0, ranks["draws"]).all()
    assert (ranks["draws"] == 2 * 100).all()  # 2 chains x 200 draws, every 2nd
    assert (ranks_dir / "rank_histograms.png").stat().st_size > 10_000
    assert (ranks_dir / "rank_ecdf.png").stat().st_size > 10_000


def test_sbc_ranks_look_uniform(ranks_dir, within):
    """A calibrated model: no parameter's ranks far from uniform. Bonferroni over the
    parameters at 0.1 %: a calibrated model fails with probability at most 1 in 1,000,
    whatever the seed."""
    import pandas as pd

    table = pd.read_csv(ranks_dir / "uniformity.csv", index_col="parameter")
    assert within("log10 of min p-value x parameters / 0.001",
                  np.log10(table["p_value"].min() * len(table) / 0.001), lower=0), table


def test_uniformity_flags_miscalibrated_ranks():
    import pandas as pd

    rng = np.random.default_rng(0)
    good = pd.DataFrame({"parameter": "a", "rank": rng.integers(0, 101, 200), "draws": 100})
    bad = pd.DataFrame({"parameter": "b", "rank": rng.integers(0, 30, 200), "draws": 100})
    table = sbc.uniformity(pd.concat([good, bad]))
    assert table.loc["a", "p_value"] > 0.01 > 1e-6 > table.loc["b", "p_value"]
    assert table.loc["a", "in_band"] and not table.loc["b", "in_band"]


def test_the_rank_ecdf_band_holds_calibrated_ranks_at_its_probability():
    """Ranks of a calibrated model (uniform on 0..L) leave the 99% simultaneous band in
    about 1% of parameters: at most 6 of 200 (binomial upper tail < 0.5%)."""
    import pandas as pd

    rng = np.random.default_rng(1)
    ranks = pd.concat([pd.DataFrame({"parameter": f"p{k}", "rank": rng.integers(0, 201, 200),
                                     "draws": 200}) for k in range(200)])
    ecdf = sbc.rank_ecdf(ranks, n_simulations=500)
    assert (~sbc.uniformity(ranks, ecdf=ecdf)["in_band"]).sum() <= 6


BINARIES = ["national", "jointrd", "sameregion"]


def _complete_firms(path, columns):
    """The shipped firms without a missing value in ``columns``, written to ``path``."""
    import pandas as pd

    from bayescluster.core.resources import DEFAULT_DATA

    pd.read_csv(DEFAULT_DATA).dropna(subset=columns).to_csv(path, index=False)
    return path


def test_sbc_of_a_selection_model_needs_its_binaries_observed(tmp_path, capsys):
    """Each simulation draws the treatment from the participation probit, whose index a
    firm with a summed-out binary does not have: refused before any fit, naming them."""
    code = main(["sbc", "--spec", "selection_zinb", "--sims", "5",
                 "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "'national', 'jointrd', 'sameregion'" in err and "Fix:" in err
    assert not (tmp_path / "out").exists()


def test_a_selection_simulation_draws_its_treatment_from_the_probit(tmp_path, within,
                                                                    sampler_seed):
    """Participation in each simulation is Bernoulli(Phi(s)), s the prior draw's probit
    index: summed over 100 simulations, the treated count minus its expectation, in SDs,
    is N(0, 1); |z| < 5 fails with probability 6e-7. The outcome is drawn on that
    treatment: a simulation's outcomes change with it."""
    from bayescluster.spec import load_spec
    from bayescluster.study.firms import load

    spec = load_spec("selection_zinb")
    data = load(_complete_firms(tmp_path / "firms.csv", BINARIES), spec.roles)
    tasks = sbc.prior_simulations(spec, data, 100, seed=sampler_seed(5))
    treated = sum(int(t["treatment"].sum()) for t in tasks)
    expected = sum(t["p_treatment"].sum() for t in tasks)
    variance = sum((t["p_treatment"] * (1 - t["p_treatment"])).sum() for t in tasks)
    assert within("treated count's z", (treated - expected) / np.sqrt(variance), -5, 5)
    assert all(set(np.unique(t["treatment"])) <= {0, 1} for t in tasks)
    assert len({tuple(t["treatment"]) for t in tasks}) == 100
    assert {"rho", "firm_sd", "selection_intercept", "selection_beta[age]"} <= set(
        tasks[0]["theta"])


def test_sbc_of_a_selection_model_ranks_rho_and_the_participation_equation(tmp_path):
    """Two simulations end to end on firms with the binaries observed: each refit is on its
    own drawn treatment, and the ranks cover rho, the firm effect's SD and the probit."""
    import pandas as pd

    data = _complete_firms(tmp_path / "firms.csv", BINARIES)
    code = main(["sbc", "--spec", "selection_zinb", "--data", str(data), "--sims", "2",
                 "--chains", "1", "--draws", "60", "--tune", "60", "--thin", "1",
                 "--workers", "2", "--seed", "7", "--out", str(tmp_path / "out")])
    assert code == 0
    ranks = pd.read_csv(tmp_path / "out" / "ranks.csv")
    names = set(ranks["parameter"])
    assert {"rho", "firm_sd", "selection_intercept", "selection_sd_cluster",
            "selection_beta[age]", "intercept", "beta[participant]"} <= names
    assert ranks.groupby("sim")["parameter"].nunique().eq(len(names)).all()
    assert ranks["rank"].between(0, 60).all()
