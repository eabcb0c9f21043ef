from dataclasses import replace

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest
from scipy import special, stats

from bayescluster.model.build import build
from bayescluster.model.design import make_design
from bayescluster.model.parameterization import choose
from bayescluster.spec import load_spec, parse_spec
from bayescluster.study.firms import validate

SMALL = """
schema_version = 1
name = "small"
family = "{family}"
missing = "impute"
[columns]
outcome = "pat"
cluster = "cluster"
id = "firm_id"
[covariates]
participant = "binary"
national = "binary"
sameregion = "binary"
rd = "numeric"
[transforms]
rd = "standardize"
[fixed]
terms = ["participant", "national", "sameregion", "rd"]
"""


def test_drop_is_listwise_as_in_the_paper(firms):
    design = make_design(load_spec("paper_m3"), validate(firms))
    assert design.n_firms == 197 and design.n_dropped == 32
    assert "industry[software]" in design.coef_labels
    assert not any(label.startswith("purpose[problem]") for label in design.coef_labels)


def test_impute_keeps_every_firm_and_expands_binary_rows(firms):
    design = make_design(load_spec("zinb_hier"), validate(firms))
    assert design.n_firms == 229 and design.n_dropped == 0
    n_missing_bin = np.isnan(design.values[:, [design.covariates.index(c) for c in
                                               ("national", "jointrd", "sameregion")]]).sum(1)
    rows_per_firm = np.bincount(design.row_firm, minlength=design.n_firms)
    np.testing.assert_array_equal(rows_per_firm, 2 ** n_missing_bin)
    assert set(design.impute_continuous) == {"rd", "projects"}
    said = {note.split(":")[0]: note for note in design.notes}
    assert "7 blank cell(s) are missing values; the model draws them as unknowns" in \
        said["column 'rd'"]
    assert "9 blank cell(s) are missing values; the model sums over 0 and 1" in \
        said["column 'national'"]
    for firm in range(design.n_firms):
        rows = design.firm_rows[firm][design.firm_rows[firm] < design.n_rows]
        assert (design.row_firm[rows] == firm).all()


def test_transforms_standardise_after_log(firms):
    design = make_design(load_spec("zinb_hier"), validate(firms))
    scale = design.values[:, design.covariates.index("scale")]
    assert abs(scale.mean()) < 1e-12 and abs(scale.std() - 1) < 1e-12
    center, sd = design.transform_stats["scale"]
    np.testing.assert_allclose(scale * sd + center, np.log(firms["scale"].astype(float)))


@pytest.mark.parametrize("family", ["negbin", "poisson"])
def test_marginalised_binary_loglik_equals_hand_mixture(firms, family):
    table = firms.head(60).copy()
    spec = parse_spec(SMALL.format(family=family))
    design = make_design(spec, validate(table))
    built = build(design)
    assert design.marginalised
    point = dict(zip([v.name for v in built.model.free_RVs],
                     pm.draw(built.model.free_RVs, random_seed=3), strict=True))
    _, firm_ll, _ = (out[0] for out in built.evaluator().fn(
        *(np.asarray(v)[None] for v in point.values()))[:3])
    frame = design.frame
    rd_c, rd_s = design.transform_stats["rd"]
    p = {c: point.get(f"impute_{c}_p") for c in ("national", "sameregion")}
    beta = dict(zip(design.coef_labels, point["beta"], strict=True))
    intercept = point["intercept"] if "intercept" in point else \
        point["intercept_at_means"] - design.fixed_means @ point["beta"]  # see _intercept
    rd_obs = design.values[:, design.covariates.index("rd")]
    rd_obs = rd_obs[~np.isnan(rd_obs)]
    rd_missing = rd_obs.mean() + rd_obs.std() * (
        point["impute_rd_mean"] + point["impute_rd_sd"] * point["impute_rd_z"])
    rd_index = {f: k for k, f in enumerate(design.impute_continuous.get("rd", []))}
    for i in range(len(frame)):
        row = frame.iloc[i]
        combos = [{}]
        for c in ("national", "sameregion"):
            if np.isnan(row[c]):
                combos = [{**k, c: v} for k in combos for v in (0.0, 1.0)]
        rd = (row["rd"] - rd_c) / rd_s if not np.isnan(row["rd"]) else rd_missing[rd_index[i]]
        terms = []
        for combo in combos:
            x = {c: combo.get(c, row[c]) for c in ("national", "sameregion")}
            eta = (intercept + beta["participant"] * row["participant"]
                   + beta["national"] * x["national"] + beta["sameregion"] * x["sameregion"]
                   + beta["rd"] * rd)
            logw = sum(np.log(p[c]) if v == 1 else np.log1p(-p[c]) for c, v in combo.items())
            if family == "poisson":
                ll = stats.poisson.logpmf(row["pat"], np.exp(eta))
            else:
                n = 1 / point["dispersion"]
                ll = stats.nbinom.logpmf(row["pat"], n, n / (n + np.exp(eta)))
            terms.append(ll + logw)
        assert firm_ll[i] == pytest.approx(special.logsumexp(terms), rel=1e-9), i


def test_categorical_baseline_from_spec(firms):
    design = make_design(load_spec("paper_m1"), validate(firms))
    purposes = [c for c in design.coef_labels if c.startswith("purpose[")]
    assert purposes == ["purpose[commercialize]", "purpose[cost]", "purpose[science]",
                        "purpose[seeds]"]


def test_domain_optional_one_grouping_level(firms):
    text = (load_spec("zinb_hier").text.replace('domain = "domain"\n', ""))
    design = make_design(parse_spec(text), validate(firms, parse_spec(text).roles))
    assert design.domain_labels == ["all"]
    built = build(design)
    assert "domain_effect" not in built.model.named_vars
    assert built.model.coords["domain"] == ("all",)


@pytest.mark.slow  # compiles five batched evaluators (~100 s)
@pytest.mark.parametrize("which", ["impute", "paper_m3", "one_effect", "noncentered",
                                   "centered"])
def test_batched_evaluator_equals_the_model_graph_draw_by_draw(firms, which):
    """The evaluator's draw axis (vectorize_graph) changes no value: each draw of the batch
    equals the unbatched model graph at that draw (also for outputs no parameter reaches,
    and for a single varying effect), interpreted (a run's usual size) or compiled by numba
    (many draws times rows)."""
    import pytensor

    from bayescluster.model.build import COMPILED_FROM_VALUES

    if which == "impute":
        spec = parse_spec(SMALL.format(family="zinb"))
    elif which == "paper_m3":
        spec = load_spec("paper_m3")
    elif which == "one_effect":
        spec = parse_spec(load_spec("negbin_hier").text.replace(
            'varying = ["intercept", "participant"]', 'varying = ["intercept"]'))
    else:
        spec = load_spec("zinb_hier")
        spec = parse_spec(spec.text.replace('"auto"', f'"{which}"'))
    built = build(make_design(spec, validate(firms)))
    rvs = built.model.free_RVs
    points = [pm.draw(rvs, random_seed=s) for s in range(3)]
    stacked = [np.stack([p[k] for p in points]) for k in range(len(rvs))]
    outputs = [built.eta, built.firm_loglik, built.row_logpost, built.x]
    single = pytensor.function(rvs, outputs, on_unused_input="ignore")
    interpreted, compiled = built.evaluator(), built.evaluator(COMPILED_FROM_VALUES)
    assert interpreted is not compiled
    for evaluator in (interpreted, compiled):
        batch = evaluator.fn(*stacked)
        for s, point in enumerate(points):
            for got, has_axis, want in zip(batch, evaluator.batched, single(*point),
                                           strict=False):
                assert got.shape == ((3,) if has_axis else ()) + np.shape(want)
                np.testing.assert_allclose(got[s] if has_axis else got, want, rtol=1e-10,
                                           atol=1e-12)


@pytest.mark.slow  # compiles four models with their gradients (~60 s)
@pytest.mark.parametrize("name", ["zinb_hier", "hurdle_hier", "negbin_hier", "zero_terms"])
def test_fused_likelihood_is_the_weighted_sum_of_the_firms_log_likelihoods(firms, name,
                                                                          monkeypatch):
    """On complete covariates the sampled likelihood is ``glm_logp``'s one pass; it equals
    the evaluator's per-firm log-likelihood (the row kernel after a linear predictor of
    pytensor ops) weighted and summed, in value and in gradient: non-centred clusters
    (zinb_hier), centred ones (hurdle_hier), zero-part covariates and zero weights."""
    import pytensor
    import pytensor.tensor as pt

    from bayescluster.model import build as model_module
    from bayescluster.model.build import FIRM_WEIGHT, fused_likelihood

    monkeypatch.setattr(model_module, "FUSED_FROM_ROWS", 0)
    text = load_spec("zinb_hier" if name == "zero_terms" else name).text
    if name == "zero_terms":
        text = text.replace("terms = []  # intercept only", 'terms = ["scale", "rd"]  #')
    if name == "hurdle_hier":
        text = text.replace('"auto"', '"centered"')
    complete = firms.dropna(subset=["rd", "projects", "national", "jointrd", "sameregion"])
    design = make_design(parse_spec(text), validate(complete))
    assert fused_likelihood(design, np.asarray(design.row_values))
    assert len(design.zero) == (2 if name == "zero_terms" else 0)
    built = build(design)
    model = built.model
    weight = np.random.default_rng(5).uniform(0, 2, design.n_firms)
    weight[:7] = 0.0
    model.set_data(FIRM_WEIGHT, weight)
    fused, by_firm = model.replace_rvs_by_values([model["loglik"],
                                                  (built.firm_loglik * weight).sum()])
    values = model.value_vars
    grads = [pt.grad(g, values, disconnected_inputs="ignore")  # centred: sd not in the
             for g in (fused, by_firm)]                          # likelihood
    f = pytensor.function(values, [fused, by_firm, *grads[0], *grads[1]],
                          on_unused_input="ignore")
    rng = np.random.default_rng(9)
    for point in [model.initial_point(random_seed=seed) for seed in range(3)]:
        out = f(*(point[v.name] + rng.normal(0, 0.3, np.shape(point[v.name])) for v in values))
        assert out[0] == pytest.approx(out[1], rel=1e-10)
        for got, want in zip(out[2:2 + len(values)], out[2 + len(values):], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)


def test_continuous_columns_are_centred_inside_the_model(firms):
    """paper_m3 takes log(scale), rd and projects as given: the model samples the intercept
    at their means and reports it on the user's scale, with the same linear predictor."""
    spec = load_spec("paper_m3")
    design = make_design(spec, validate(firms))
    centred = design.decisions["centred_columns"]["fixed"]
    assert set(centred) == {"log(scale)", "rd", "projects"}
    for label, value in centred.items():
        column = design.values[:, design.covariates.index(label.removeprefix("log(")
                                                          .removesuffix(")"))]
        assert value == pytest.approx(np.nanmean(column))
    # indicators, dummies and standardised columns are left alone: zinb_hier is unchanged
    standard = make_design(load_spec("zinb_hier"), validate(firms))
    assert not standard.fixed_centres.any() and not standard.zero_centres.any()
    built = build(design, replace(choose(design), intercepts_at_means=False))
    names = [rv.name for rv in built.model.free_RVs]
    assert "intercept_centred" in names and "intercept" not in names
    model = built.model
    beta = np.linspace(-0.5, 0.5, len(design.coef_labels))
    eta, intercept = pytensor.function(
        [model["intercept_centred"], model["beta"]], [built.eta, model["intercept"]],
        mode="FAST_COMPILE")(0.7, beta)
    assert design.n_rows == design.n_firms  # missing = "drop": a row per firm
    X = _column_values(design, design.fixed, design.row_values)
    assert intercept == pytest.approx(0.7 - design.fixed_centres @ beta)
    np.testing.assert_allclose(eta, intercept + X @ beta, rtol=1e-12)


def _column_values(design, columns, values=None):
    """Each column from the table's own labels: a product of covariates and level tests."""
    values = design.values if values is None else values
    out = []
    for c in columns:
        column = np.prod(values[:, list(c.factors)], axis=1)
        for j, k in c.indicators:
            name = design.covariates[j]
            labels = design.frame[name].astype(object).to_numpy()
            column = column * np.where(pd.isna(labels), np.nan,
                                       labels == design.levels[name][k])
        out.append(column)
    return np.column_stack(out)


@pytest.mark.parametrize("name", ["paper_m3", "zinb_hier", "hurdle_hier"])
def test_intercepts_sampled_at_every_columns_mean_are_the_same_model(name, firms):
    """The sampler moves the intercepts at every column's mean (dummies and indicators
    too); the shear to the old coordinates has Jacobian 1, so the log density at matching
    points is the same, prior included, and so are the linear predictors."""
    design = make_design(load_spec(name), validate(firms))
    values = _column_values(design, design.fixed)
    np.testing.assert_allclose(design.fixed_means, np.nanmean(values, axis=0), rtol=1e-12,
                               atol=1e-12)
    chosen = choose(design)
    assert chosen.intercepts_at_means == (not design.varying)  # single-level models only
    new = build(design, replace(chosen, intercepts_at_means=True))
    old = build(design, replace(chosen, intercepts_at_means=False))
    parts = [("intercept", design.fixed_means - design.fixed_centres, "beta")]
    if design.zero:
        parts.append(("zero_intercept", design.zero_means - design.zero_centres,
                      "zero_beta"))
    rng = np.random.default_rng(4)
    for seed in range(3):
        point = {k: v + 0.3 * rng.standard_normal(np.shape(v))
                 for k, v in new.model.initial_point(random_seed=seed).items()}
        mapped = dict(point)
        for intercept, shift, coef in parts:
            at_means = mapped.pop(f"{intercept}_at_means")
            key = f"{intercept}_centred" if f"{intercept}_centred" in old.model.named_vars \
                else intercept
            mapped[key] = at_means - shift @ point[coef]
        assert new.model.compile_logp()(point) == pytest.approx(
            old.model.compile_logp()(mapped), rel=1e-12)
        eta_new, eta_old = (
            pytensor.function(b.model.value_vars, b.model.replace_rvs_by_values([b.eta])[0],
                              on_unused_input="ignore")(
                *[p[v.name] for v in b.model.value_vars])
            for b, p in ((new, point), (old, mapped)))
        np.testing.assert_allclose(eta_new, eta_old, rtol=1e-10)


@pytest.mark.parametrize("name", ["zinb_hier", "hurdle_hier", "negbin_hier"])
def test_batched_predictive_draws_each_firms_own_distribution(name, within):
    """``predictive`` draws a batch of posterior draws at once: its log-likelihoods are the
    model's, draw by draw, and its replicated counts have the family's mean and variance
    for each draw (summed over firms and draws, as z-scores)."""
    import xarray as xr

    from bayescluster.model.evaluate import draws, predictive
    from bayescluster.model.families import LIKELIHOODS, MAX_RATE, expit
    from bayescluster.study.simulate import simulate

    table = simulate(229, seed=5, missing=False).data
    design = make_design(load_spec(name), validate(table))
    built = build(design)
    rvs = built.model.free_RVs
    values = pm.draw(rvs, draws=600, random_seed=6)
    ds = xr.Dataset({rv.name: (("chain", "draw", *[f"{rv.name}_{k}" for k in
                                                    range(v.ndim - 1)]), v[None])
                     for rv, v in zip(rvs, values, strict=True)})
    loglik, y_rep = predictive(built, ds, np.random.default_rng(7))
    family = LIKELIHOODS[design.spec.family]
    alpha = ds["dispersion"].values[0]
    total, variance, n = 0.0, 0.0, 0
    for d in draws(built, ds, np.random.default_rng(8)):
        np.testing.assert_array_equal(loglik[0, d.draw], d.firm_loglik)
        mu = np.exp(np.minimum(d.eta, np.log(MAX_RATE)))
        p_zero = None if d.zeta is None else expit(d.zeta)
        mean = family.mean(mu, alpha[d.draw], p_zero)
        keep = mu < 50  # prior draws reach absurd rates; their variance swamps the sum
        y = y_rep[0, d.draw][keep]
        total += float((y - mean[keep]).sum())
        # the variance of a draw's counts, from the family's own sampler (second moment)
        sims = family.sample(np.random.default_rng(d.draw), np.tile(mu[keep], (40, 1)),
                             alpha[d.draw], None if p_zero is None else
                             np.tile(p_zero[keep], (40, 1)))
        variance += float(sims.var(axis=0).sum())
        n += int(keep.sum())
    assert n > 10_000
    z = total / np.sqrt(variance)
    assert within("replicated total, z", z, -5.0, 5.0)
