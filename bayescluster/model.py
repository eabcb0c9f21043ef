r"""Design -> PyMC model: the hierarchical linear predictor, written once for every family.

.. math::

    \eta_i &= \beta_0 + x_i^\top\beta + \sum_{e} (\delta_{d[c_i],e} + u_{c_i,e})\, z_{ie}
              + \log(\mathrm{exposure}_i) \\
    \delta_{d,e} &\sim N(0, \sigma^{\mathrm{dom}}_e), \qquad
    u_c \sim \mathrm{MvN}(0,\ \mathrm{diag}(\sigma^{\mathrm{clu}})\,\Omega\,
                          \mathrm{diag}(\sigma^{\mathrm{clu}})),
    \quad \Omega \sim \mathrm{LKJ}(\eta_{\mathrm{LKJ}}) \\
    \mathrm{logit}\,\pi_i &= \gamma_0 + w_i^\top\gamma, \qquad
    y_i \sim \mathrm{Family}(e^{\eta_i}, \alpha, \pi_i)

with :math:`z_{i,\mathrm{intercept}} = 1` and :math:`z_{ie}` the value of varying slope
:math:`e`. A cluster's effect is population + domain deviation + cluster deviation
(``cluster_total``); the domain deviations sum to zero over domains (``ZeroSumNormal``), so
the population effect is the mean of the domain effects and is not confounded with them.
Under ``parameterization = "auto"`` clusters are non-centred
(:math:`u_c = \mathrm{diag}(\sigma^{\mathrm{clu}}) L \tilde u_c`) where they have few firms
and centred where they are data-rich (:func:`centred_clusters`), and domain deviations are
partially centred, :math:`\delta_{\cdot e} = (\sigma^{\mathrm{dom}}_e)^{1-w_e}
\tilde\delta_{\cdot e}`, as far as the data pin them at the current
:math:`\sigma^{\mathrm{dom}}_e` (:func:`domain_centring`).
Default priors (standardised covariates): :math:`\beta_0 \sim N(\log\bar y, 2.5)`,
:math:`\beta \sim N(0, 1)`,
:math:`\sigma^{\mathrm{dom}}, \sigma^{\mathrm{clu}} \sim \mathrm{Gamma}(2, 5)` (mean 0.4,
zero-avoiding: with four domains a half-normal lets the sampler into the funnel's neck),
:math:`\eta_{\mathrm{LKJ}} = 2`, :math:`\alpha \sim N^+(0, 1)`,
:math:`\gamma_0 \sim N(-1.5, 1.5)`, :math:`\gamma \sim N(0, 1)`. Missing continuous
covariates are latent, :math:`x^{\mathrm{mis}} \sim N(m, s)` on the covariate's scale;
missing binary covariates, :math:`x \sim \mathrm{Bernoulli}(p)`, are summed out of the
likelihood.
"""

from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.distributions.dist_math import normal_lcdf
from pytensor.graph.replace import vectorize_graph

from bayescluster.design import Design
from bayescluster.families import FAMILIES
from bayescluster.nbkernel import glm_logp

Y_DATA = "y_rows"  # the outcome per row, as shared data
# parameterization "auto": see centred_clusters
CENTRE_ABOVE = 1.0  # a cluster's data-to-prior information ratio
POOLED_ABOVE = 1.5  # the median cluster's
FIRM_WEIGHT = "firm_weight"  # each firm's weight in the likelihood (0 holds a firm out)
FUSED_FROM_ROWS = 20_000  # see fused_likelihood

DISTS = {
    "normal": pm.Normal,
    "halfnormal": pm.HalfNormal,
    "exponential": pm.Exponential,
    "student_t": pm.StudentT,
    "halfstudent_t": pm.HalfStudentT,
    "gamma": pm.Gamma,
    "beta": pm.Beta,
}


def prior(name: str, spec: dict, design: Design | None = None, **kwargs):
    """A PyMC variable from a spec prior ``{dist = ..., params}``."""
    params = {k: v for k, v in spec.items() if k != "dist"}
    if params.get("mu") == "auto":
        params["mu"] = _auto_intercept(design)
    return DISTS[spec["dist"]](name, **params, **kwargs)


def prior_dist(spec: dict, **kwargs):
    params = {k: v for k, v in spec.items() if k != "dist"}
    return DISTS[spec["dist"]].dist(**params, **kwargs)


def _auto_intercept(design: Design) -> float:
    offset = 0.0 if design.offset is None else float(np.mean(design.offset))
    return float(np.log(design.y.mean() + 0.1) - offset)


@dataclass
class Built:
    """A PyMC model and the tensors post-processing evaluates draw by draw."""

    model: pm.Model
    design: Design
    eta: pt.TensorVariable  # (row,)
    zeta: pt.TensorVariable | None  # (row,)
    firm_loglik: pt.TensorVariable  # (firm,)
    row_logpost: pt.TensorVariable  # (row,) joint log-prob of the row's combination
    x: pt.TensorVariable  # (row, covariate): values with imputations filled in
    row_logw: pt.TensorVariable  # (row,) the combination's log-prob without the outcome

    def evaluator(self):
        """Compiled function: free RV values (in ``model.free_RVs`` order), each with a
        leading draw axis -> the tensors, each with that axis."""
        outputs = [self.eta, self.firm_loglik, self.row_logpost, self.x,
                   pt.zeros(self.design.n_rows) + self.row_logw]
        if self.zeta is not None:
            outputs.append(self.zeta)
        rvs = self.model.free_RVs
        batched = [pt.tensor(dtype=rv.type.dtype, shape=(None, *rv.type.shape), name=rv.name)
                   for rv in rvs]
        vectorised = vectorize_graph(outputs, dict(zip(rvs, batched, strict=True)))
        n_draws = batched[0].shape[0]
        # an output no parameter reaches (x without imputation) comes back without the axis
        vectorised = [v if v.ndim > o.ndim else pt.broadcast_to(v, (n_draws, *v.shape))
                      for v, o in zip(vectorised, outputs, strict=True)]
        return pytensor.function(batched, vectorised, on_unused_input="ignore",
                                 mode="FAST_RUN")


def coords(design: Design, centred: np.ndarray | None = None) -> dict:
    out = {
        "firm": design.firm_ids.tolist(),
        "cluster": design.cluster_labels,
        "domain": design.domain_labels,
        "coef": design.coef_labels,
        "effect": design.varying,
        "effect2": design.varying,
        "zero_coef": design.zero_labels,
        "selection_coef": design.selection_labels,
    }
    for name, firms in {**design.impute_continuous, **design.impute_binary}.items():
        out[f"missing_{name}"] = design.firm_ids[firms].tolist()
    if centred is not None and _cluster_dims(centred)[0] != "cluster":
        labels = np.asarray(design.cluster_labels)
        out["cluster_noncentred"] = labels[~centred].tolist()
        out["cluster_centred"] = labels[centred].tolist()
    return out


def _row_covariates(design: Design, priors: dict):
    """(row, covariate) values with continuous latents filled in (numpy without latents);
    binary log weights."""
    x = np.nan_to_num(design.row_values)
    if design.impute_continuous:
        x = pt.as_tensor_variable(x)
        for name, firms in design.impute_continuous.items():
            j = design.covariates.index(name)
            observed = design.values[:, j][~np.isnan(design.values[:, j])]
            center, scale = float(observed.mean()), float(observed.std()) or 1.0
            m = prior(f"impute_{name}_mean", priors["impute_mean"])
            s = prior(f"impute_{name}_sd", priors["impute_sd"])
            raw = pm.Normal(f"impute_{name}_z", 0.0, 1.0, dims=f"missing_{name}")
            latent = pm.Deterministic(f"impute_{name}", center + scale * (m + s * raw),
                                      dims=f"missing_{name}")
            position = np.full(design.n_firms, -1)
            position[firms] = np.arange(len(firms))
            rows = np.flatnonzero(position[design.row_firm] >= 0)
            x = pt.set_subtensor(x[rows, j], latent[position[design.row_firm[rows]]])
            # observed values pull m and s toward the covariate's own distribution
            pm.Normal(f"impute_{name}_obs", center + scale * m, scale * s,
                      observed=observed)
    logw = pt.zeros(design.n_rows)
    for name in design.impute_binary:
        j = design.covariates.index(name)
        p = pm.Beta(f"impute_{name}_p", 1.0, 1.0)
        bits = design.row_bits[:, j]
        logw = logw + np.where(bits == 1, 1.0, 0.0) * pt.log(p) + np.where(
            bits == 0, 1.0, 0.0) * pt.log1p(-p)
        observed = design.values[:, j][~np.isnan(design.values[:, j])]
        pm.Bernoulli(f"impute_{name}_obs", p, observed=observed.astype(np.int64))
    return x, logw


def _columns(x, columns, n_rows):
    """(row, column) design matrix; numpy when ``x`` is."""
    out = []
    for column in columns:
        if column.dummy is not None:
            out.append(column.dummy)
        else:
            value = np.ones(n_rows)
            for j in column.factors:
                value = value * x[:, j]
            out.append(value)
    if not out:
        return None
    return np.stack(out, axis=1) if isinstance(x, np.ndarray) else pt.stack(out, axis=1)


def _fisher(design: Design, group: np.ndarray, n_group: int, slopes: bool) -> np.ndarray:
    r"""(group, effect) Fisher information about each varying effect,
    :math:`I_{ge} = \hat\mu_g / (1 + \hat\mu_g/\hat\alpha) \sum_{i \in g} z_{ie}^2`: the
    negative-binomial information in :math:`\log\mu` of one firm at the group's mean count
    :math:`\hat\mu_g` (moment estimate :math:`\hat\alpha`; :math:`\infty` for families
    without dispersion) times the firms' squared values of the effect (1 for the intercept;
    the intercept's alone unless ``slopes``)."""
    y = design.y.astype(float)
    mean, var = y.mean(), y.var()
    alpha = np.inf if var <= mean else float(np.clip(mean**2 / (var - mean), 0.05, 1e3))
    if not FAMILIES[design.spec.family].dispersion:
        alpha = np.inf
    n = np.bincount(group, minlength=n_group)
    mu = np.bincount(group, weights=y, minlength=n_group) / np.maximum(n, 1)
    z = np.ones((design.n_firms, 1))
    if slopes:
        X = _columns(np.nan_to_num(design.values), design.fixed, design.n_firms)
        z = np.stack([z[:, 0] if k < 0 else X[:, k] for k in design.varying_index], axis=1)
    z2 = np.stack([np.bincount(group, weights=z[:, e] ** 2, minlength=n_group)
                   for e in range(z.shape[1])], axis=1)
    return (mu / (1.0 + mu / alpha))[:, None] * z2


def _prior_mean(design: Design, name: str) -> float:
    return float(np.mean(pm.draw(prior_dist(design.spec.priors[name]), draws=4000,
                                 random_seed=0)))


def information_ratio(design: Design) -> np.ndarray:
    r"""Each cluster's information about its intercept, relative to the prior's.

    :math:`r_c = n_c \hat\mu_c / (1 + \hat\mu_c/\hat\alpha)\cdot\bar\sigma^2`: the
    negative-binomial Fisher information of :math:`n_c` firms with cluster mean
    :math:`\hat\mu_c` (:func:`_fisher`) times the prior mean of the cluster SD squared.
    :math:`r_c > 1`: the data say more about the cluster's intercept than the prior does.
    """
    fisher = _fisher(design, design.cluster_index, len(design.cluster_labels), slopes=False)
    return fisher[:, 0] * _prior_mean(design, "sd_cluster") ** 2


def centred_clusters(design: Design) -> np.ndarray:
    r"""Which clusters get the centred parameterisation (a bool per cluster).

    ``noncentered`` and ``centered`` choose for every cluster; ``auto`` centres cluster
    :math:`c` iff :math:`r_c >` ``CENTRE_ABOVE`` (1) and the median :math:`r` >
    ``POOLED_ABOVE`` (1.5), :math:`r` from :func:`information_ratio`. Data-rich clusters
    need the centred form (the non-centred one puts a ridge between the cluster SD and the
    standardised deviation), but only once the typical cluster pins the cluster SD away
    from zero: otherwise even one centred cluster sits in a funnel as the SD shrinks.
    Measured on the simulated data (4 x 1000 draws, min-ESS per sampling second):
    229 firms (median r 0.8), centring the one cluster with r = 5 cost 9 divergences;
    1,000 firms (median r 1.6 and 2.6 for two seeds), 14 and 18 centred: 2.1x and 2.8x
    none centred; 2,290 firms (median 3.7 and 6.4), all 19 centred: 4.0x and 2.4x the 2 and
    4 that r > 10 centres, 0 divergences; 10,700 firms: all 19, 1.06x r > 10's 18.
    """
    mode = design.spec.parameterization
    if mode != "auto":
        return np.full(len(design.cluster_labels), mode == "centered")
    r = information_ratio(design)
    return (r > CENTRE_ABOVE) & (np.median(r) > POOLED_ABOVE)


def domain_information(design: Design) -> np.ndarray | None:
    r"""Per effect, :math:`A_e`: the median domain's information about its deviation
    through its clusters, per unit of domain variance,

    .. math:: A_{de} = \sum_{c \in d} \left(\bar\sigma_{\mathrm{clu}}^2
              + 1/I_{ce}\right)^{-1}

    (:math:`I_{ce}` the clusters' Fisher information from :func:`_fisher`,
    :math:`\bar\sigma_{\mathrm{clu}}` the cluster SD's prior mean). None where the
    centring does not follow the data: ``parameterization`` ``centered`` or
    ``noncentered``, and the Poisson family, which stays non-centred (``poisson_hier`` on
    the shipped data diverged in every seed partially centred, 1 a seed at target_accept
    0.95 in 2 seeds, and fully centred, 3-6; in none of 3 non-centred)."""
    if design.spec.parameterization != "auto" or not FAMILIES[design.spec.family].dispersion:
        return None
    fisher = _fisher(design, design.cluster_index, len(design.cluster_labels), slopes=True)
    sd_cluster = _prior_mean(design, "sd_cluster")
    per_cluster = 1.0 / (sd_cluster**2 + 1.0 / np.maximum(fisher, 1e-300))
    a = np.zeros((len(design.domain_labels), len(design.varying)))
    np.add.at(a, design.cluster_domain, per_cluster)
    return np.median(a, axis=0)


def domain_centring(design: Design, sd_domain):
    r"""How centred each varying effect's domain deviations are at domain SD
    ``sd_domain`` (a number, array or tensor per effect): :math:`w_e \in [0, 1]`
    (0 non-centred, 1 centred; :func:`_domain_effects`).

    ``noncentered`` and ``centered`` give 0 and 1; ``auto`` the partial centring of
    Papaspiliopoulos, Roberts and Sköld (2007), :math:`w_e = r_e/(1 + r_e)`, the share of a
    domain deviation's posterior precision that comes from the data, at the current SD:
    :math:`r_e = \sigma_e^2 A_e` (:func:`domain_information`). With four domains the
    domain SD's posterior spans an order of magnitude, and each pure form has a tail the
    sampler cannot follow: where the data pin the deviations the non-centred form narrows
    as the SD grows, the centred one as it shrinks. A fixed :math:`w` (the rule evaluated at
    the SD's prior mean, shipped until 2026-12-01) still had the centred form's neck: at
    10,700 simulated firms (:math:`w = 0.77`) two of five seeds diverged (244 and 3
    divergences, all with :math:`\log\sigma_{\mathrm{int}}` ~3 SDs below its mean);
    with :math:`w` following :math:`\sigma`, none of five (4 x 1000 draws,
    target_accept 0.9), nor in three seeds at 229 simulated firms, two at 2,290, or three on
    the shipped data. The price, at 2,290 and 10,700 firms: the domain SDs' bulk ESS about
    halves (1,000-1,700 of 4,000 draws, from 2,400-3,500); at 229 firms the min ESS rises
    (1,220-1,390, from 1,000-1,200)."""
    information = domain_information(design)
    if information is None:
        return 0.0 * sd_domain + (1.0 if design.spec.parameterization == "centered" else 0.0)
    r = sd_domain**2 * information
    return r / (1.0 + r)


def _group_effects(design: Design, priors: dict, model_coef, beta0, centred: np.ndarray):
    r"""Per-cluster deviations (cluster, effect) and the domain-and-cluster totals.

    Non-centred clusters: :math:`u_c = \mathrm{diag}(\sigma) L \tilde u_c`. Centred
    clusters sample their total :math:`t_c \sim \mathrm{MvN}(\mu + \delta_{d[c]}, \Sigma)`
    directly (population effect inside the mean, so a data-rich cluster's total does not
    trade off against the population effect), and :math:`u_c = t_c - \mu - \delta_{d[c]}`.
    """
    spec = design.spec
    n_effect = len(design.varying)
    domain_dev = pt.zeros((len(design.domain_labels), n_effect))
    if spec.pool_by_domain:
        sd_domain = prior("sd_domain", priors["sd_domain"], dims="effect")
        domain_dev = _domain_effects(design, sd_domain)
    centre = domain_dev[design.cluster_domain]
    chol = _cluster_chol(priors, n_effect)
    population = pt.stack([beta0 if k < 0 else model_coef[k] for k in design.varying_index])
    dims_nc, dims_c = _cluster_dims(centred)
    parts = []
    if (~centred).any():
        raw = pm.Normal("cluster_raw", 0.0, 1.0, dims=(dims_nc, "effect"))
        parts.append((np.flatnonzero(~centred), pt.dot(raw, chol.T)))
    if centred.any():
        at = np.flatnonzero(centred)
        mean = population[None, :] + centre[at]
        level = pm.MvNormal("cluster_level", mu=mean, chol=chol, dims=(dims_c, "effect"))
        parts.append((at, level - mean))
    if len(parts) == 1:  # one form for every cluster: no scatter into a zero matrix
        cluster_dev = parts[0][1]
    else:
        cluster_dev = pt.zeros((len(design.cluster_labels), n_effect))
        for at, dev in parts:
            cluster_dev = pt.set_subtensor(cluster_dev[at], dev)
    cluster_dev = pm.Deterministic("cluster_effect", cluster_dev, dims=("cluster", "effect"))
    if spec.pool_by_domain:
        pm.Deterministic("domain_total", population[None, :] + domain_dev,
                         dims=("domain", "effect"))
    pm.Deterministic("cluster_total", population[None, :] + centre + cluster_dev,
                     dims=("cluster", "effect"))
    return centre + cluster_dev


def _domain_effects(design: Design, sd_domain):
    r"""Domain deviations (domain, effect), :math:`\delta_{\cdot e} \sim
    \mathrm{ZeroSumNormal}(\sigma^{\mathrm{dom}}_e)`, partially centred:
    :math:`\delta_{\cdot e} = \sigma_e^{1 - w_e}\,\tilde\delta_{\cdot e}`,
    :math:`\tilde\delta_{\cdot e} \sim \mathrm{ZeroSumNormal}(\sigma_e^{w_e})`
    (``domain_raw``; :math:`w_e`, a function of :math:`\sigma_e`, from
    :func:`domain_centring`). :math:`\delta \mid \sigma` is ZeroSumNormal(:math:`\sigma`)
    for any :math:`w`: scaling :math:`\tilde\delta` by :math:`\sigma^{1-w}` multiplies its
    SD :math:`\sigma^{w}` up to :math:`\sigma`."""
    w = domain_centring(design, sd_domain)[:, None]
    raw = pm.ZeroSumNormal("domain_raw", sd_domain[:, None] ** w, dims=("effect", "domain"))
    return pm.Deterministic("domain_effect", (raw * sd_domain[:, None] ** (1.0 - w)).T,
                            dims=("domain", "effect"))


def _cluster_chol(priors: dict, n_effect: int):
    r"""Cholesky factor :math:`L` of the cluster covariance
    :math:`\mathrm{diag}(\sigma)\,\Omega\,\mathrm{diag}(\sigma)`, :math:`\Omega \sim
    \mathrm{LKJ}(\eta)`. Up to two varying effects it is written out: for a 2 x 2
    correlation, LKJ(:math:`\eta`) is :math:`(r + 1)/2 \sim \mathrm{Beta}(\eta, \eta)`
    and :math:`L = \begin{pmatrix}\sigma_1 & 0\\ \sigma_2 r & \sigma_2\sqrt{1 - r^2}
    \end{pmatrix}`, a graph a fraction the size of ``LKJCholeskyCov``'s (its cost is paid
    at every gradient)."""
    if n_effect > 2:
        chol, corr, sds = pm.LKJCholeskyCov(
            "cluster_chol", n=n_effect, eta=priors["lkj_eta"],
            sd_dist=prior_dist(priors["sd_cluster"], shape=n_effect), compute_corr=True,
            store_in_trace=False)
        pm.Deterministic("sd_cluster", sds, dims="effect")
        pm.Deterministic("cluster_corr", corr, dims=("effect", "effect2"))
        return chol
    sds = prior("sd_cluster", priors["sd_cluster"], dims="effect")
    if n_effect == 1:
        return sds[None, :]  # the 1 x 1 diag(sd): AllocDiag has no batched numba kernel
    eta = priors["lkj_eta"]
    r = 2.0 * pm.Beta("cluster_corr_beta", eta, eta) - 1.0
    pm.Deterministic("cluster_corr", pt.stack([pt.stack([1.0, r]), pt.stack([r, 1.0])]),
                     dims=("effect", "effect2"))
    zero = pt.zeros(())
    return pt.stack([pt.stack([sds[0], zero]),
                     pt.stack([sds[1] * r, sds[1] * pt.sqrt(1.0 - r**2)])])


def _cluster_dims(centred: np.ndarray) -> tuple[str, str]:
    """Dims of the non-centred and centred cluster variables: ``cluster`` when one form
    covers every cluster, else ``cluster_noncentred`` / ``cluster_centred``."""
    if centred.all() or not centred.any():
        return "cluster", "cluster"
    return "cluster_noncentred", "cluster_centred"


def _selection(design: Design, priors: dict, x, eta):
    r"""Self-selection into the treatment (an endogenous-treatment count model).

    .. math::

        d_i &= 1[\gamma_0 + w_i^\top\gamma + v_{c_i} + \nu_i > 0], \quad
        \nu_i \sim N(0, 1),\ v_c \sim N(0, \sigma_v) \\
        \eta_i &\mathrel{+}= \sigma_f \varepsilon_i, \quad
        \varepsilon_i = \rho\,\nu_i + \sqrt{1 - \rho^2}\,\xi_i, \quad
        \xi_i \sim N(0, 1)

    so :math:`\mathrm{corr}(\nu_i, \varepsilon_i) = \rho`, with
    :math:`(\rho + 1)/2 \sim \mathrm{Beta}`. The treatment contributes its probit
    likelihood :math:`\Phi(\pm(\gamma_0 + w_i^\top\gamma + v_{c_i}))`; the latent
    :math:`\nu_i` is drawn from its normal truncated by :math:`d_i`, as the inverse CDF of a
    uniform :math:`u_i` (non-centred: changing :math:`\rho` moves no latent variable).
    Returns the count model's linear predictor with the firm effect, and the treatment's
    log-probability per row."""
    sel = design.spec.selection
    firm_sd = prior("firm_sd", priors["firm_sd"])
    raw = prior("selection_rho_raw", priors["selection_rho"])
    rho = pm.Deterministic("rho", 2.0 * raw - 1.0)
    index = pt.zeros(design.n_rows) + prior("selection_intercept",
                                             priors["selection_intercept"])
    W = _columns(x, design.selection, design.n_rows)
    index = index + pt.dot(W, prior("selection_beta", priors["selection_coef"],
                                    dims="selection_coef"))
    if sel["cluster_effect"]:
        sd = prior("selection_sd_cluster", priors["selection_sd_cluster"])
        v = pm.Normal("selection_cluster_z", 0.0, 1.0, dims="cluster")
        pm.Deterministic("selection_cluster_effect", sd * v, dims="cluster")
        index = index + (sd * v)[design.cluster_index[design.row_firm]]
    treated = pt.eq(x[:, design.treatment], 1.0)
    log_p0, log_p1 = normal_lcdf(0.0, 1.0, -index), normal_lcdf(0.0, 1.0, index)
    u = pm.Uniform("selection_u", 0.0, 1.0, dims="firm")[design.row_firm]
    p0 = pt.exp(log_p0)
    q = pt.clip(pt.switch(treated, p0 + u * (1.0 - p0), u * p0), 1e-12, 1.0 - 1e-12)
    nu = pm.math.probit(q)
    xi = pm.Normal("firm_xi", 0.0, 1.0, dims="firm")[design.row_firm]
    eta = eta + firm_sd * (rho * nu + pt.sqrt(1.0 - rho**2) * xi)
    return eta, pt.switch(treated, log_p1, log_p0)


def fused_likelihood(design: Design, x) -> bool:
    """Whether the sampled log-likelihood is one :func:`~bayescluster.nbkernel.glm_logp`
    (linear predictor, likelihood and gradient in one pass over the rows, as Stan's
    ``*_glm`` functions): a negative-binomial family on complete covariates (``x`` is data,
    a row per firm), no selection equation, and at least ``FUSED_FROM_ROWS`` rows.
    Otherwise it is the sum of the rows' ``row_logpost``, which the predictive evaluator
    uses either way.

    The one pass reads each row's data once and writes nothing per row, which pays once
    the per-row arrays of pytensor's graph outgrow the processor's cache: at 100,000 firms
    it halved the time of a gradient with two chains sampling at once (6.4 against 13.9 ms),
    while at 229 to 10,700 firms pytensor's graph sampled ~1.1x faster
    (``benchmarks/bench.py`` variants ``fused`` and ``rows``)."""
    return (FAMILIES[design.spec.family].dispersion and isinstance(x, np.ndarray)
            and not design.marginalised and design.treatment is None
            and design.n_rows >= FUSED_FROM_ROWS)


def build(design: Design) -> Built:
    """The PyMC model of ``design`` (see the module docstring for the math)."""
    spec = design.spec
    priors = spec.priors
    family = FAMILIES[spec.family]
    centred = centred_clusters(design) if design.varying else None
    with pm.Model(coords=coords(design, centred)) as model:
        beta0 = prior("intercept", priors["intercept"], design)
        coef = prior("beta", priors["coef"], dims="coef") if design.fixed else None
        x, logw = _row_covariates(design, priors)
        eta = pt.zeros(design.n_rows) + beta0
        X = _columns(x, design.fixed, design.n_rows)
        if X is not None:
            eta = eta + pt.dot(X, coef)
        group = row_cluster = offset = None
        if design.varying:
            group = _group_effects(design, priors, coef, beta0, centred)
            row_cluster = design.cluster_index[design.row_firm]
            Z = pt.stack([np.ones(design.n_rows) if k < 0 else X[:, k]
                          for k in design.varying_index], axis=1)
            eta = eta + (group[row_cluster] * Z).sum(axis=1)
        if design.offset is not None:
            offset = design.offset[design.row_firm]
            eta = eta + offset
        alpha = prior("dispersion", priors["dispersion"]) if family.dispersion else None
        zeta = zeta_rows = None
        if family.zero_part:
            zeta_rows = gamma0 = prior("zero_intercept", priors["zero_intercept"])
            W = _columns(x, design.zero, design.n_rows)
            if W is not None:
                zeta_rows = gamma0 + pt.dot(W, prior("zero_beta", priors["zero_coef"],
                                                     dims="zero_coef"))
            else:
                pm.Deterministic("p_zero", pt.sigmoid(gamma0))
            zeta = pt.zeros(design.n_rows) + zeta_rows
        if design.treatment is not None:
            eta, selection_logp = _selection(design, priors, x, eta)
            logw = logw + selection_logp
        # shared, so a compiled model can be refit to new outcomes (SBC) without recompiling
        y = pm.Data(Y_DATA, design.y[design.row_firm].astype("float64"))
        row_logpost = family.logp(y, eta, alpha, zeta_rows) + logw
        if design.marginalised:
            padded = pt.concatenate([row_logpost, pt.as_tensor_variable([-np.inf])])
            firm_loglik = pm.math.logsumexp(padded[design.firm_rows], axis=1).ravel()
        else:
            firm_loglik = row_logpost
        weight = pm.Data(FIRM_WEIGHT, np.ones(design.n_firms))
        if fused_likelihood(design, x):
            X = np.zeros((design.n_rows, 0)) if X is None else X
            loglik = glm_logp(family.name, y, weight, X, row_cluster, design.varying_index,
                              beta0, coef, group, alpha, zeta_rows, offset)
        else:
            loglik = (firm_loglik * weight).sum()
        pm.Potential("loglik", loglik)
    return Built(model, design, eta, zeta, firm_loglik, row_logpost, pt.as_tensor_variable(x),
                 logw)
