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


def test_sbc_refuses_a_model_whose_treatment_is_modelled(tmp_path, capsys):
    """The selection model's participation is data with a likelihood: a refit keeping the
    observed treatment is not a draw from the joint model, so its ranks would mislead."""
    code = main(["sbc", "--spec", "selection_zinb", "--sims", "5", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and "its treatment ('participant') is modelled" in err and "Fix:" in err
    assert not any(tmp_path.iterdir())
