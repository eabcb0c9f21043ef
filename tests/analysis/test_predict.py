"""Predictions for new firms against a brute-force computation from the posterior draws."""

import numpy as np
import pandas as pd
import pytest

from bayescluster.analysis.predict import new_rows, predict
from bayescluster.cli import main
from bayescluster.core.errors import BayesclusterError, DataError
from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.inference.fit import fit
from bayescluster.spec import load_spec
from bayescluster.study.firms import load
from bayescluster.study.registry import cluster_domains

pytestmark = pytest.mark.sampling
COVARIATES = ["participant", "scale", "rd", "projects", "national", "jointrd", "sameregion"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, sampler_seed):
    spec = load_spec("zinb_hier")
    run = fit(spec, load(DEFAULT_DATA, spec.roles), chains=2, draws=150, tune=150,
              seed=sampler_seed(6), quiet=True)
    run.save(tmp_path_factory.mktemp("runs") / "zinb")
    return run


@pytest.fixture(scope="module")
def table():
    """Six complete shipped firms, then the first of them again in a new bio cluster."""
    frame = pd.read_csv(DEFAULT_DATA).dropna(subset=COVARIATES).head(6)
    frame = frame[["firm_id", "cluster", *COVARIATES]].reset_index(drop=True)
    domains = cluster_domains()
    first = frame.iloc[[0]].assign(firm_id="N1", cluster="newtown")
    out = pd.concat([frame, first], ignore_index=True)
    out["domain"] = [domains.get(c, domains[frame.loc[0, "cluster"]]) for c in out["cluster"]]
    return out


def _brute_force(run, row) -> tuple[float, float]:
    """E[y] and P(y = 0) of one row in a fitted cluster, averaged over every draw, written
    out from the spec's formulas and the run's recorded centres and scales."""
    post = run.posterior
    stats = run.decisions["transforms"]

    def scaled(name, value):
        value = np.log(value) if name == "scale" else value
        return (value - stats[name]["center"]) / stats[name]["scale"] if name in stats \
            else value

    x = {name: scaled(name, float(row[name])) for name in COVARIATES}
    x["participant:national:sameregion"] = x["participant"] * x["national"] * x["sameregion"]
    x["log(scale)"] = x.pop("scale")
    means, zeros = [], []
    for c in range(post.sizes["chain"]):
        for d in range(post.sizes["draw"]):
            draw = post.isel(chain=c, draw=d)
            beta = draw["beta"]
            eta = float(draw["intercept"]) + sum(float(beta.sel(coef=k)) * v
                                                 for k, v in x.items())
            total = draw["cluster_total"].sel(cluster=row["cluster"])
            eta += float(total.sel(effect="intercept")) - float(draw["intercept"])
            eta += (float(total.sel(effect="participant"))
                    - float(beta.sel(coef="participant"))) * x["participant"]
            mu, pi, alpha = np.exp(eta), float(draw["p_zero"]), float(draw["dispersion"])
            means.append((1 - pi) * mu)
            zeros.append(pi + (1 - pi) * (1 + alpha * mu) ** (-1 / alpha))
    return float(np.mean(means)), float(np.mean(zeros))


def test_known_clusters_match_the_brute_force_computation(run, table):
    new = new_rows(run, table)
    result = predict(run, new, max_draws=None)
    assert list(result["new_cluster"]) == [False] * 6 + [True]
    for i in range(6):
        mean, p_zero = _brute_force(run, table.loc[i])
        assert result.loc[i, "mean"] == pytest.approx(mean, rel=1e-9)
        assert result.loc[i, "p_zero"] == pytest.approx(p_zero, rel=1e-9)
    assert (result["lower"] <= result["mean"]).all() and (result["mean"] <= result["upper"]).all()
    bounds = result[["lower", "upper"]].to_numpy()
    assert np.array_equal(bounds, np.round(bounds))  # a count's interval is of counts


def test_a_new_cluster_is_less_certain_than_a_known_one(run, table, within):
    result = predict(run, new_rows(run, table), max_draws=None)
    width = result["mean_upper"] - result["mean_lower"]
    # same firm, its cluster effect now unknown: the posterior ratio is well above 1.2, and
    # 300 draws move each interval end by ~0.15 of its sd
    assert within("new / known width", width.iloc[6] / width.iloc[0], lower=1.2)


def test_counterfactual_differences_against_the_row_itself(run, table):
    result = predict(run, new_rows(run, table), counterfactual={"participant": 1},
                     max_draws=200)
    already = table["participant"] == 1
    assert np.allclose(result.loc[already, "difference"], 0.0)
    assert np.allclose(result["counterfactual_mean"] - result["mean"], result["difference"])
    with pytest.raises(BayesclusterError, match=r"unknown covariate\(s\) 'size' in the "
                                                r"counterfactual"):
        predict(run, new_rows(run, table), counterfactual={"size": 1})


def test_new_rows_are_checked(run, table):
    gap = table.copy()
    gap.loc[2, "participant"] = np.nan  # the fit's table had no blank participant
    with pytest.raises(DataError, match=r"'participant' are missing \(blank\) in row 3; the "
                                        r"fit has no distribution to draw them from \(its "
                                        r"table had no blank there\)"):
        new_rows(run, gap)
    lost = table.assign(cluster=["atlantis"] * len(table), domain="space")
    with pytest.raises(DataError, match=r"'atlantis' belong to no domain the run knows"):
        predict(run, new_rows(run, lost))


def test_predict_verb_writes_the_table_and_refuses_bad_rows(run, table, tmp_path, capsys):
    table.to_csv(tmp_path / "new.csv", index=False)
    out = tmp_path / "pred.csv"
    code = main(["predict", str(run.path), "--data", str(tmp_path / "new.csv"), "--out",
                 str(out), "--counterfactual", "participant=1", "--max-draws", "100",
                 "--draws-out", str(tmp_path / "draws.csv")])
    assert code == 0
    draws = pd.read_csv(tmp_path / "draws.csv")
    assert list(draws.columns) == ["sample", "row", "count"] and len(draws) == 100 * len(table)
    written = pd.read_csv(out)
    assert {"mean", "lower", "upper", "p_zero", "new_cluster", "difference"} <= set(written)
    assert len(written) == len(table)
    table.drop(columns="rd").to_csv(tmp_path / "bad.csv", index=False)
    assert main(["predict", str(run.path), "--data", str(tmp_path / "bad.csv")]) == 2
    assert "required column 'rd' is missing" in capsys.readouterr().err


def test_a_blank_the_fit_imputed_is_drawn_from_the_fits_own_distribution(run, table, within):
    """A blank binary cell (national) averages E[y] over national ~ Bernoulli(p_s), draw by
    draw; a blank continuous cell (rd) is drawn from N(m_s, s_s) on the model's scale, as
    the fit drew its own blanks."""
    from scipy import stats

    from bayescluster.analysis.predict import _blanks, predict_draws
    from bayescluster.model.design import model_scale
    from bayescluster.model.predictor import stacked

    row = table.iloc[[0]]
    blank = row.assign(national=np.nan)
    drawn = predict_draws(run, new_rows(run, blank), max_draws=None)["mean"].values[:, 0]
    at = {v: predict_draws(run, new_rows(run, row.assign(national=v)),
                           max_draws=None)["mean"].values[:, 0] for v in (0, 1)}
    p = stacked(run.posterior, "impute_national_p")
    exact = p * at[1] + (1 - p) * at[0]
    # each draw picks one of the two means: the average's Monte Carlo SD, from the draws
    se = np.sqrt(np.sum(p * (1 - p) * (at[1] - at[0]) ** 2)) / len(p)
    assert np.all(np.isclose(drawn, at[0]) | np.isclose(drawn, at[1]))
    assert within("blank national: mean - exact mixture, in SE",
                  (drawn.mean() - exact.mean()) / se, -4.5, 4.5)

    design, j = run.design, run.design.covariates.index("rd")
    x = model_scale(design, pd.concat([row.assign(rd=np.nan)] * 20, ignore_index=True))
    keep = np.arange(len(p))
    fill = _blanks(run, x, keep, np.random.default_rng(1))[:, :, j]
    observed = design.values[:, j][~np.isnan(design.values[:, j])]
    m, sd = (stacked(run.posterior, f"impute_rd_{k}")[:, None] for k in ("mean", "sd"))
    z = ((fill - observed.mean()) / observed.std() - m) / sd
    assert within("blank rd: KS p-value of the standardised draws",
                  stats.kstest(z.ravel(), "norm").pvalue, lower=1e-4)
    assert np.isnan(_blanks(run, x, keep, np.random.default_rng(1))[:, :, :j]).all()
    assert np.isfinite(predict(run, new_rows(run, row.assign(rd=np.nan)))["mean"]).all()
