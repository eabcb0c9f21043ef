"""Scale: the automatic parameterisation, likelihood weights, leave-one-cluster-out on Dask,
the JAX backend."""

import json
import warnings
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytest

from bayescluster.core.resources import DEFAULT_DATA
from bayescluster.inference.fit import fit
from bayescluster.inference.run import save
from bayescluster.model.build import FIRM_WEIGHT, build
from bayescluster.model.design import make_design
from bayescluster.model.parameterization import (
    CENTRE_ABOVE,
    centred_clusters,
    choose,
    domain_centring,
    domain_information,
    information_ratio,
)
from bayescluster.model.priors import prior_dist
from bayescluster.reporting.sections import model_math
from bayescluster.spec import load_spec, parse_spec
from bayescluster.study.firms import load, validate
from bayescluster.study.simulate import simulate


def _design(n: int, mode: str = "auto", name: str = "zinb_hier"):
    spec = parse_spec(load_spec(name).text.replace('"auto"', f'"{mode}"'))
    data = load(DEFAULT_DATA, spec.roles) if n == 229 else validate(
        simulate(n, seed=5, missing=False).data, spec.roles)
    return make_design(spec, data)


def test_auto_centres_data_rich_clusters_once_the_typical_cluster_pins_the_sd():
    small = _design(229)  # 12 firms a cluster
    assert information_ratio(small).max() > CENTRE_ABOVE  # one data-rich cluster, but
    assert not centred_clusters(small).any()  # the median cluster cannot pin the SD
    mid = _design(1000)
    ratio, centred = information_ratio(mid), centred_clusters(mid)
    assert 0 < centred.sum() < len(centred)
    assert ratio[centred].min() > CENTRE_ABOVE >= ratio[~centred].max()
    assert centred_clusters(_design(10_700)).all()  # ~560 firms a cluster
    assert centred_clusters(_design(229, "centered")).all()
    assert not centred_clusters(_design(10_700, "noncentered")).any()


def test_information_ratio_is_the_negative_binomial_fisher_information():
    """Against the variance of the score in log mu, from scipy's negative binomial."""
    from scipy import stats

    design = _design(10_700)
    y = design.y.astype(float)
    alpha = y.mean() ** 2 / (y.var() - y.mean())
    ratio = information_ratio(design)
    c = int(np.argmax(np.bincount(design.cluster_index)))
    n, mu = (design.cluster_index == c).sum(), y[design.cluster_index == c].mean()
    draws = stats.nbinom(alpha, alpha / (alpha + mu)).rvs(200_000, random_state=1)
    score = draws - (draws + alpha) * mu / (mu + alpha)  # d log p / d log mu
    sd = pm.draw(prior_dist(design.spec.priors["sd_cluster"]), draws=4000, random_seed=0)
    assert ratio[c] == pytest.approx(n * score.var() * sd.mean() ** 2, rel=0.02)


@pytest.mark.slow  # prior draws through a compiled model (~17 s)
def test_mixed_parameterisation_keeps_the_hierarchy(sampler_seed, within):
    """Under the prior, every cluster's deviation divided by its SD is N(0, 1), whether the
    cluster is centred or not, and the totals add up."""
    design = _design(1000)
    centred = centred_clusters(design)
    assert 0 < centred.sum() < len(centred)
    built = build(design)
    assert built.model["cluster_level"].eval().shape[0] == centred.sum()
    with warnings.catch_warnings(), built.model:
        warnings.filterwarnings("ignore", message=".*Potential.*")
        prior = pm.sample_prior_predictive(draws=12_000, random_seed=sampler_seed(2))["prior"]
    dev = prior["cluster_effect"].values[0]  # (draw, cluster, effect)
    z = dev / prior["sd_cluster"].values[0][:, None, :]
    for name, subset in (("centred", centred), ("non-centred", ~centred)):
        values = z[:, subset, :].ravel()
        # draws of one cluster share its SD draw, so the values are far from independent:
        # at 3,000 draws the non-centred sd of z varied by 0.02 over seeds; at 12,000 by
        # about 0.01, so 0.05 is 5 of those
        assert within(f"mean of z, {name}", values.mean(), -0.05, 0.05)
        assert within(f"sd of z, {name}", values.std(), 0.95, 1.05)
    population = np.stack([prior["intercept"].values[0],
                           prior["beta"].sel(coef="participant").values[0]], axis=-1)
    domain = prior["domain_effect"].values[0][:, design.cluster_domain, :]
    assert np.allclose(prior["cluster_total"].values[0],
                       population[:, None, :] + domain + dev)


def test_auto_partially_centres_the_domain_effects_as_far_as_the_data_pin_them():
    """w = r/(1 + r), r = sd_domain^2 A with A the median domain's information through its
    clusters, recomputed here firm by firm; the intercept (all firms) is pinned more than
    the participation slope (participants only), both more with more firms, and w runs
    from non-centred at a vanishing domain SD to centred at a large one."""
    design = _design(229)
    information = domain_information(design)
    y = design.y.astype(float)
    size = y.mean() ** 2 / (y.var() - y.mean())  # NB2 moment estimate, 1/alpha
    sd2 = 0.4**2  # the prior mean of Gamma(2, 5), the cluster SD's prior
    participant = design.values[:, design.covariates.index("participant")]
    z = np.stack([np.ones(design.n_firms), np.nan_to_num(participant)], axis=1)
    a = np.zeros((len(design.domain_labels), 2))
    for c in range(len(design.cluster_labels)):
        firms = design.cluster_index == c
        mu = y[firms].mean()
        fisher = mu / (1 + mu / size) * (z[firms] ** 2).sum(axis=0)
        with np.errstate(divide="ignore"):  # a cluster without participants adds 0
            a[design.cluster_domain[c]] += 1 / (sd2 + 1 / fisher)
    a = np.median(a, axis=0)
    assert information == pytest.approx(a, rel=0.04)  # 0.04: the prior mean is sampled
    sd = np.array([0.3, 0.3])
    w = domain_centring(design, sd)
    assert w == pytest.approx(sd**2 * a / (1 + sd**2 * a), rel=0.04)  # the firm-by-firm A
    assert 0 < w[1] < w[0] < 1
    assert domain_centring(design, np.array([1e-4, 1e-4])) == pytest.approx([0, 0], abs=1e-5)
    assert domain_centring(design, np.array([1e3, 1e3])) == pytest.approx([1, 1], abs=1e-3)
    assert (f"domain deviations centred by w = r/(1 + r), r = σ_domain[e]² × "
            f"{information[0]:.3g} (intercept), {information[1]:.3g} (participant)"
            ) in model_math(design.spec, design, choose(design))  # the report says so
    assert (domain_information(_design(10_700)) > information).all()
    assert domain_information(_design(229, "centered")) is None
    assert domain_centring(_design(229, "centered"), sd) == pytest.approx([1, 1])
    assert not domain_centring(_design(229, name="poisson_hier"), sd).any()
    assert not domain_centring(_design(10_700, "noncentered"), sd).any()
    poisson = _design(229, name="poisson_hier")
    assert "domain deviations centred by w = 0" in model_math(poisson.spec, poisson,
                                                              choose(poisson))


def test_partial_centring_keeps_the_zero_sum_hierarchy(sampler_seed, within):
    """Under the prior, each effect's domain deviations sum to zero and, divided by their
    SD, have ZeroSumNormal's variance (K - 1)/K, whatever the centring."""
    design = _design(229)
    assert domain_information(design) is not None
    built = build(design)
    with warnings.catch_warnings(), built.model:
        warnings.filterwarnings("ignore", message=".*Potential.*")
        prior = pm.sample_prior_predictive(draws=4000, random_seed=sampler_seed(4))["prior"]
    dev = prior["domain_effect"].values[0]  # (draw, domain, effect)
    assert np.abs(dev.sum(axis=1)).max() < 1e-9
    z = dev / prior["sd_domain"].values[0][:, None, :]
    for e in range(2):
        assert abs(z[:, :, e].mean()) < 1e-9  # the zero sum, draw by draw
        # 4,000 draws x 3 free domains: the variance's sampling sd is 0.75 sqrt(2/12,000),
        # 1.3 % of it, so 5 % is about 4 of them
        assert within(f"var of z[{e}] / (3/4)", z[:, :, e].var() / 0.75, 0.95, 1.05)


@pytest.mark.slow  # compiles the model twice (~18 s)
def test_zero_weight_removes_exactly_those_firms_likelihood():
    design = _design(229)
    built = build(design)
    model = built.model
    point = model.initial_point(random_seed=3)
    logp = model.compile_logp()
    [firm_ll] = model.replace_rvs_by_values([built.firm_loglik])
    per_firm = pytensor.function(model.value_vars, firm_ll, on_unused_input="ignore")(
        *[point[v.name] for v in model.value_vars])
    before = logp(point)
    held = design.cluster_index == 3
    weight = np.ones(design.n_firms)
    weight[held] = 0.0
    model.set_data(FIRM_WEIGHT, weight)
    assert before - logp(point) == pytest.approx(per_firm[held].sum(), rel=1e-9)


@pytest.mark.sampling
def test_leave_one_cluster_out_from_the_command_line_listens_on_loopback_only(tmp_path):
    """The CLI user's path: a run, then `loo --by-cluster` on a local Dask cluster, which
    writes the tables and figure; every socket its processes listen on, the scheduler's
    and workers' HTTP servers included, is on the loopback address. (The scores themselves
    are checked in tests/inference/test_cluster.py.)"""
    import ipaddress
    import subprocess
    import sys
    import time

    import psutil

    sim = simulate(400, seed=8).data
    keep = ["kanto", "kanto-bio", "kansai-it", "tohoku-energy"]
    spec = load_spec("negbin_hier")
    sim[sim["cluster"].isin(keep)].to_csv(tmp_path / "firms.csv", index=False)
    run = fit(spec, load(tmp_path / "firms.csv", spec.roles), chains=2, draws=100, tune=100,
              seed=1, quiet=True)
    save(run, tmp_path / "run")
    log = (tmp_path / "log.txt").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "bayescluster"), "loo", str(tmp_path / "run"),
         "--by-cluster", "--chains", "1", "--draws", "100", "--tune", "100", "--workers", "2",
         "--out", str(tmp_path / "out")], stdout=log, stderr=subprocess.STDOUT)
    listening = set()
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            for p in [root, *root.children(recursive=True)]:
                listening |= {(p.pid, c.laddr.ip, c.laddr.port)
                              for c in p.net_connections(kind="inet")
                              if c.status == psutil.CONN_LISTEN}
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
        time.sleep(0.2)
    log.close()
    assert proc.returncode == 0, (tmp_path / "log.txt").read_text()
    assert len(listening) >= 4, listening  # the scheduler, its HTTP server, two workers...
    assert all(ipaddress.ip_address(ip).is_loopback for _, ip, _ in listening), listening
    written = pd.read_csv(tmp_path / "out" / "loco.csv")
    assert sorted(written["cluster"]) == sorted(keep)
    assert (tmp_path / "out" / "loco.png").stat().st_size > 5_000
    assert (tmp_path / "out" / "loco_summary.csv").exists()


@pytest.mark.sampling
def test_jax_backend_on_cpu_matches_numba(default_run, sampler_seed, within):
    """nutpie with JAX (the GPU path) on CPU: the same posterior as the default numba fit."""
    spec = default_run.spec
    run = fit(spec, default_run.data, chains=2, draws=1000, tune=1000, seed=sampler_seed(5),
              quiet=True, backend="jax")
    assert json.loads(run.tree.attrs["settings"])["backend"] == "jax"
    pairs = {name: (run.posterior[name], default_run.posterior[name])
             for name in ("intercept", "dispersion")}
    pairs |= {f"beta[{c}]": (run.posterior["beta"].sel(coef=c),
                             default_run.posterior["beta"].sel(coef=c))
              for c in run.posterior["coef"].values}
    for name, (a, b) in pairs.items():
        se = np.hypot(float(azs.mcse(a, method="mean")), float(azs.mcse(b, method="mean")))
        # two independent estimates of one posterior mean: their difference in SE of the
        # difference. Over 14 seeds of the false-failure study it varied 1.5 times as much
        # as those SE said (2 chains estimate each MCSE roughly), so 5 SE left jointrd a
        # rate of 1.2e-3; 6 SE is 4 of the observed spread (reports/false_failures.md)
        assert within(f"{name} jax - numba", float(a.mean() - b.mean()), -6 * se,
                      6 * se), name


def test_the_reports_math_has_only_the_terms_the_model_has():
    """One grouping without domains and one varying effect: no domain deviation, no
    correlation and no LKJ prior in the Model section; a second varying effect brings the
    correlation back."""
    from bayescluster.data.table import validate as validate_table
    from bayescluster.reporting.sections import _prior_used
    from bayescluster.spec.choose import formula_spec

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"y": rng.poisson(3, 60), "x": rng.normal(size=60),
                          "g": rng.choice(["a", "b", "c", "d", "e"], 60)})
    for formula, both in (("y ~ x + (1 | g)", False), ("y ~ x + (1 + x | g)", True)):
        spec = formula_spec(formula, frame, family="negbin")
        design = make_design(spec, validate_table(frame, spec.roles))
        text = model_math(spec, design, choose(design))
        assert "δ" not in text and "σ_domain" not in text
        assert ("LKJ" in text) is both and ("u[c] ~ Normal(0, σ_cluster)" in text) is not both
        assert _prior_used("lkj_eta", spec, design) is both
        assert not _prior_used("sd_domain", spec, design)
    domains = _design(229)
    assert "δ[d(c_i), e]" in model_math(domains.spec, domains, choose(domains))
