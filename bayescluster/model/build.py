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
and centred where they are data-rich, and domain deviations are partially centred,
:math:`\delta_{\cdot e} = (\sigma^{\mathrm{dom}}_e)^{1-w_e} \tilde\delta_{\cdot e}`, as far
as the data pin them at the current :math:`\sigma^{\mathrm{dom}}_e`
(:mod:`bayescluster.model.parameterization`).
Default priors (standardised covariates): :math:`\beta_0 \sim N(\log\bar y, 2.5)`,
:math:`\beta \sim N(0, 1)`,
:math:`\sigma^{\mathrm{dom}}, \sigma^{\mathrm{clu}} \sim \mathrm{Gamma}(2, 5)` (mean 0.4,
zero-avoiding: with four domains a half-normal lets the sampler into the funnel's neck),
:math:`\eta_{\mathrm{LKJ}} = 2`, :math:`\alpha \sim N^+(0, 1)`,
:math:`\gamma_0 \sim N(-1.5, 1.5)`, :math:`\gamma \sim N(0, 1)`. Missing continuous
covariates are latent, :math:`x^{\mathrm{mis}} \sim N(m, s)` on the covariate's scale;
missing binary covariates, :math:`x \sim \mathrm{Bernoulli}(p)`, and missing categorical
ones, :math:`x \sim \mathrm{Categorical}(p)` with :math:`p \sim \mathrm{Dirichlet}(1)`, are
summed out of the likelihood.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pymc.distributions.dist_math import normal_lcdf
from pytensor.compile.executor import Function
from pytensor.graph.replace import vectorize_graph

from bayescluster.model.design import Design, column_sds, varying_matrix
from bayescluster.model.families import LIKELIHOODS, Likelihood
from bayescluster.model.parameterization import Parameterisation, choose
from bayescluster.model.priors import has_location, prior, prior_dist, scaled
from bayescluster.model.terms import Column, column_matrix

Y_DATA = "y_rows"  # the outcome per row, as shared data
FIRM_WEIGHT = "firm_weight"  # each firm's weight in the likelihood (0 holds a firm out)
TREATMENT_DATA = "treatment"  # a selection model's treatment per firm, as shared data
FUSED_FROM_ROWS = 20_000  # see fused_likelihood
COMPILED_FROM_VALUES = 20_000_000  # see compiles


@dataclass(frozen=True)
class Evaluator:
    """A compiled function of batched draws, and which of its outputs have the draw axis."""

    fn: object
    batched: tuple[bool, ...]


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
    parameterisation: Parameterisation
    selection_index: pt.TensorVariable | None = None  # (row,) the probit's index
    _evaluators: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def evaluator(self, draws: int = 0) -> Evaluator:
        """The batched evaluator of the model's tensors, built on first use.

        It maps free RV values (in ``model.free_RVs`` order), each with a leading draw
        axis, to the tensors: eta, firm_loglik, row_logpost, x, row_logw and zeta, each
        with that axis unless no parameter reaches it. Shared data (the outcome, weights,
        a selection model's treatment) are read at each call.

        Parameters
        ----------
        draws : int
            How many draws the caller's whole set holds (a run's chains x draws, not the
            subset asked for, so that every verb on a run gets the same numbers): with the
            rows, it decides whether the function is compiled (:func:`compiles`).

        Returns
        -------
        Evaluator
            The function (``fn``) and, per output, whether it has the draw axis
            (``batched``).
        """
        compiled = compiles(draws * self.design.n_rows)
        if compiled not in self._evaluators:
            self._evaluators[compiled] = self._compile_evaluator(compiled)
        return self._evaluators[compiled]

    def _compile_evaluator(self, compiled: bool):
        outputs = [self.eta, self.firm_loglik, self.row_logpost, self.x,
                   pt.zeros(self.design.n_rows) + self.row_logw]
        if self.zeta is not None:
            outputs.append(self.zeta)
        rvs = self.model.free_RVs
        batched = [pt.tensor(dtype=rv.type.dtype, shape=(None, *rv.type.shape), name=rv.name)
                   for rv in rvs]
        vectorised = vectorize_graph(outputs, dict(zip(rvs, batched, strict=True)))
        fn = post_function(batched, vectorised, compiled)
        # an output no parameter reaches (x without imputation) comes back without the axis
        return Evaluator(fn, tuple(v.ndim > o.ndim
                                   for v, o in zip(vectorised, outputs, strict=True)))


def compiles(values: int) -> bool:
    """Whether post-processing is worth a numba compile at ``values`` numbers (draws x rows).

    Parameters
    ----------
    values : int
        Draws times rows the function will be evaluated at.

    Returns
    -------
    bool
        True from :data:`COMPILED_FROM_VALUES` on (:func:`post_function`).
    """
    return values >= COMPILED_FROM_VALUES


def post_function(inputs: list, outputs: list, compiled: bool = False) -> Function:
    """A pytensor function that post-processing evaluates at batches of draws.

    Interpreted unless asked: the graph is rewritten as for a fast compile and each node
    runs its numpy (or scipy) implementation, with no C or numba code generated. numba's
    compile of a model's post-processing is tens of seconds on a machine whose caches are
    empty, and its kernels hold the data, so a new table pays part of it again; the
    interpreted function takes about a second to build and evaluates a few times slower per
    value, which only tells from tens of millions of values on (the first answer before and
    after: ``reports/limit.md``).

    Parameters
    ----------
    inputs : list of TensorVariable
        The function's inputs.
    outputs : list of TensorVariable or TensorVariable
        What it returns.
    compiled : bool
        Compile with numba (``FAST_RUN``, without fast-math: :func:`exact_arithmetic`).

    Returns
    -------
    pytensor.compile.executor.Function
        Unused inputs are allowed.
    """
    if compiled:
        with exact_arithmetic():
            return pytensor.function(inputs, outputs, on_unused_input="ignore",
                                     mode="FAST_RUN")
    from pytensor.compile.mode import Mode

    with pytensor.config.change_flags(cxx=""):
        return pytensor.function(inputs, outputs, on_unused_input="ignore",
                                 mode=Mode(linker="py", optimizer="fast_compile"))


@contextmanager
def exact_arithmetic() -> Iterator[None]:
    """Compile without fast-math, in this process and those it starts (PyMC's chains).

    Same seed, data and spec give the same draws whether the model is compiled fresh or
    loaded from pytensor's compile cache. Under numba's fast-math, LLVM reassociates and
    contracts floating-point operations across the functions it inlines; a function loaded
    from the cache arrives as machine code, so what nutpie compiles around it cannot inline
    it, and a fresh and a cached compile round differently (about 1e-14 in the gradient,
    enough for the chains to part). The cost is a few per cent of sampling time
    (``reports/parameterisation.md``).

    Yields
    ------
    None
        Inside the block, ``numba__fastmath`` is off in pytensor's config and in
        ``PYTENSOR_FLAGS``; both are restored on leaving it.
    """
    before = os.environ.get("PYTENSOR_FLAGS")
    os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, (before, "numba__fastmath=False")))
    try:
        with pytensor.config.change_flags(numba__fastmath=False):
            yield
    finally:
        if before is None:
            del os.environ["PYTENSOR_FLAGS"]
        else:
            os.environ["PYTENSOR_FLAGS"] = before


def coords(design: Design, centred: np.ndarray | None = None) -> dict:
    """The model's named dims, labelled with the data's own firms, clusters and domains.

    Parameters
    ----------
    design : Design
        The model's design.
    centred : ndarray or None
        (cluster,) True where a cluster is sampled centred
        (``Parameterisation.centred``); with both forms present the dims
        ``cluster_noncentred`` and ``cluster_centred`` are added. None: no cluster effects.

    Returns
    -------
    dict
        Dim name -> labels: ``firm``, ``cluster``, ``domain``, ``coef``, ``effect``,
        ``effect2``, ``zero_coef``, ``selection_coef``, ``missing_{name}`` per imputed
        covariate and ``level_{name}`` per imputed categorical one.
    """
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
    for name, firms in {**design.impute_continuous, **design.impute_binary,
                        **design.impute_categorical}.items():
        out[f"missing_{name}"] = design.firm_ids[firms].tolist()
    for name in design.impute_categorical:
        out[f"level_{name}"] = list(design.levels[name])
    if centred is not None and _cluster_dims(centred)[0] != "cluster":
        labels = np.asarray(design.cluster_labels)
        out["cluster_noncentred"] = labels[~centred].tolist()
        out["cluster_centred"] = labels[centred].tolist()
    return out


def _row_covariates(design: Design, priors: dict):
    """(row, covariate) values with continuous latents filled in, and binary log weights.

    The values are numpy when no continuous covariate is imputed and no treatment is
    modelled. A selection model's treatment column is shared data (``TREATMENT_DATA``), so
    a compiled model can be refit to a simulated treatment (SBC).
    """
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
    for name in design.impute_categorical:
        j = design.covariates.index(name)
        p = pm.Dirichlet(f"impute_{name}_p", a=np.ones(len(design.levels[name])),
                         dims=f"level_{name}")
        bits = design.row_bits[:, j]
        summed = np.flatnonzero(bits >= 0)
        logw = pt.set_subtensor(logw[summed], logw[summed]
                                + pt.log(p)[bits[summed].astype(np.int64)])
        observed = design.values[:, j][~np.isnan(design.values[:, j])]
        pm.Categorical(f"impute_{name}_obs", p=p, observed=observed.astype(np.int64))
    if design.treatment is not None:
        j = design.treatment
        treatment = pm.Data(TREATMENT_DATA, design.values[:, j].astype("float64"))
        x = pt.set_subtensor(pt.as_tensor_variable(x)[:, j], treatment[design.row_firm])
    return x, logw


def _intercept(name: str, spec: dict, design: Design, centres: np.ndarray,
               means: np.ndarray, coef, at_means: bool):
    r"""The intercept the sampler moves, and the column values it sits at.

    Where design columns are centred (:func:`~bayescluster.model.design.column_centres`)
    the prior is on the intercept at the continuous covariates' means,
    :math:`\beta_0^c \sim p` (as brms' ``Intercept``), and :func:`_uncentred` gives
    ``name`` on the user's scale: the same linear predictor, with far less correlation
    between the intercept and the slopes. Otherwise the intercept is ``name`` itself.

    With ``at_means`` and a location prior, the sampler moves the intercept at every
    column's mean :math:`\bar m` (:func:`~bayescluster.model.design.column_means`:
    indicators and dummies too), ``{name}_at_means``,
    :math:`\beta_0^m = \beta_0^c + (\bar m - \bar x)^\top\beta`, given the prior
    :math:`\beta_0^m \mid \beta \sim p(\cdot - (\bar m - \bar x)^\top\beta)`. The map
    :math:`(\beta_0^c, \beta) \mapsto (\beta_0^m, \beta)` is a shear with Jacobian 1, so
    the model, its prior on :math:`\beta_0^c` included, is unchanged; only the sampler's
    coordinates are.
    """
    shift = means - centres
    if at_means and coef is not None and has_location(spec) and np.any(shift):
        return prior(f"{name}_at_means", spec, design, shift=pt.dot(shift, coef)), means
    return prior(f"{name}_centred" if np.any(centres) else name, spec, design), centres


def _uncentred(name: str, sampled, centres: np.ndarray, coef):
    r"""The intercept on the user's scale, :math:`\beta_0 = \beta_0^c - \bar x^\top\beta`."""
    if not np.any(centres):
        return sampled
    return pm.Deterministic(name, sampled - pt.dot(centres, coef))


def _group_effects(design: Design, priors: dict, model_coef, beta0,
                   parameterisation: Parameterisation, beta0_sampled=None):
    r"""Per-cluster deviations (cluster, effect) and the domain-and-cluster totals.

    Non-centred clusters: :math:`u_c = \mathrm{diag}(\sigma) L \tilde u_c`. Centred
    clusters sample their total :math:`t_c \sim \mathrm{MvN}(\mu + \delta_{d[c]}, \Sigma)`
    directly (population effect inside the mean, so a data-rich cluster's total does not
    trade off against the population effect), and :math:`u_c = t_c - \mu - \delta_{d[c]}`;
    with centred columns their intercept is sampled at the covariates' means
    (``beta0_sampled``, see :func:`_intercept`).
    """
    spec = design.spec
    n_effect = len(design.varying)
    domain_dev = pt.zeros((len(design.domain_labels), n_effect))
    centred = parameterisation.centred
    if spec.pool_by_domain:
        sd_domain = prior("sd_domain", priors["sd_domain"], dims="effect")
        domain_dev = _domain_effects(parameterisation, sd_domain)
    centre = domain_dev[design.cluster_domain]
    chol = _cluster_chol(priors, n_effect)
    population = pt.stack([beta0 if k < 0 else model_coef[k] for k in design.varying_index])
    sampled = population if beta0_sampled is None or beta0_sampled is beta0 else pt.stack(
        [beta0_sampled if k < 0 else model_coef[k] for k in design.varying_index])
    dims_nc, dims_c = _cluster_dims(centred)
    parts = []
    if (~centred).any():
        raw = pm.Normal("cluster_raw", 0.0, 1.0, dims=(dims_nc, "effect"))
        parts.append((np.flatnonzero(~centred), pt.dot(raw, chol.T)))
    if centred.any():
        at = np.flatnonzero(centred)
        mean = sampled[None, :] + centre[at]
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


def _domain_effects(parameterisation: Parameterisation, sd_domain):
    r"""Domain deviations (domain, effect), zero-sum normal and partially centred.

    :math:`\delta_{\cdot e} \sim \mathrm{ZeroSumNormal}(\sigma^{\mathrm{dom}}_e)`, as
    :math:`\delta_{\cdot e} = \sigma_e^{1 - w_e}\,\tilde\delta_{\cdot e}`,
    :math:`\tilde\delta_{\cdot e} \sim \mathrm{ZeroSumNormal}(\sigma_e^{w_e})`
    (``domain_raw``; :math:`w_e`, a function of :math:`\sigma_e`, from
    :meth:`Parameterisation.domain_weight`). :math:`\delta \mid \sigma` is
    ZeroSumNormal(:math:`\sigma`) for any :math:`w`: scaling :math:`\tilde\delta` by
    :math:`\sigma^{1-w}` multiplies its SD :math:`\sigma^{w}` up to :math:`\sigma`.
    """
    w = parameterisation.domain_weight(sd_domain)[:, None]
    raw = pm.ZeroSumNormal("domain_raw", sd_domain[:, None] ** w, dims=("effect", "domain"))
    return pm.Deterministic("domain_effect", (raw * sd_domain[:, None] ** (1.0 - w)).T,
                            dims=("domain", "effect"))


def _cluster_chol(priors: dict, n_effect: int):
    r"""Cholesky factor :math:`L` of the cluster covariance.

    :math:`\mathrm{diag}(\sigma)\,\Omega\,\mathrm{diag}(\sigma)`, :math:`\Omega \sim
    \mathrm{LKJ}(\eta)`. Up to two varying effects it is written out: for a 2 x 2
    correlation, LKJ(:math:`\eta`) is :math:`(r + 1)/2 \sim \mathrm{Beta}(\eta, \eta)`
    and :math:`L = \begin{pmatrix}\sigma_1 & 0\\ \sigma_2 r & \sigma_2\sqrt{1 - r^2}
    \end{pmatrix}`, a graph a fraction the size of ``LKJCholeskyCov``'s (its cost is paid
    at every gradient).
    """
    if n_effect > 2:
        chol, corr, sds = pm.LKJCholeskyCov(
            "cluster_chol", n=n_effect, eta=priors["lkj_eta"],
            sd_dist=prior_dist(priors["sd_cluster"], shape=n_effect), compute_corr=True,
            store_in_trace=False)
        scaled(pm.modelcontext(None)["cluster_chol"])
        pm.Deterministic("sd_cluster", sds, dims="effect")
        pm.Deterministic("cluster_corr", corr, dims=("effect", "effect2"))
        return chol
    sds = prior("sd_cluster", priors["sd_cluster"], dims="effect")
    if n_effect == 1:
        return sds[None, :]  # the 1 x 1 diag(sd): AllocDiag has no batched numba kernel
    eta = priors["lkj_eta"]
    r = 2.0 * scaled(pm.Beta("cluster_corr_beta", eta, eta)) - 1.0
    pm.Deterministic("cluster_corr", pt.stack([pt.stack([1.0, r]), pt.stack([r, 1.0])]),
                     dims=("effect", "effect2"))
    zero = pt.zeros(())
    return pt.stack([pt.stack([sds[0], zero]),
                     pt.stack([sds[1] * r, sds[1] * pt.sqrt(1.0 - r**2)])])


def _cluster_dims(centred: np.ndarray) -> tuple[str, str]:
    """Dims of the non-centred and centred cluster variables.

    ``cluster`` when one form covers every cluster, else ``cluster_noncentred`` /
    ``cluster_centred``.
    """
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
    Returns the count model's linear predictor with the firm effect, the treatment's
    log-probability per row, and the probit's index
    :math:`\gamma_0 + w_i^\top\gamma + v_{c_i}` per row.
    """
    sel = design.spec.selection
    firm_sd = prior("firm_sd", priors["firm_sd"])
    raw = prior("selection_rho_raw", priors["selection_rho"])
    rho = pm.Deterministic("rho", 2.0 * raw - 1.0)
    index = pt.zeros(design.n_rows) + prior("selection_intercept",
                                             priors["selection_intercept"])
    W = column_matrix(design.selection, x, design.n_rows)
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
    return eta, pt.switch(treated, log_p1, log_p0), index


def fused_likelihood(design: Design, x: np.ndarray | pt.TensorVariable) -> bool:
    """Whether the sampled log-likelihood is one :func:`~bayescluster.model.kernel.glm_logp`.

    That is the linear predictor, likelihood and gradient in one pass over the rows (as
    Stan's ``*_glm`` functions), used for a family whose base has one (NB2) on complete covariates
    (``x`` is data, a row per firm), with no selection equation, from ``FUSED_FROM_ROWS``
    rows. Otherwise it is the sum of the rows' ``row_logpost``, which the predictive
    evaluator uses either way. The one pass reads each row's data once and writes nothing
    per row, which pays once the per-row arrays of pytensor's graph outgrow the processor's
    cache; below that pytensor's graph is faster (``benchmarks/bench.py`` variants
    ``fused`` and ``rows``, ``reports/benchmarks.md``).

    Parameters
    ----------
    design : Design
        The model's design.
    x : ndarray or TensorVariable
        (row, covariate) the rows' covariates on the model's scale: numpy unless a
        continuous covariate is imputed or a selection model's treatment is shared data.

    Returns
    -------
    bool
        True where the fused op computes the sampled log-likelihood.
    """
    return (LIKELIHOODS[design.spec.family].base.fused and isinstance(x, np.ndarray)
            and not design.marginalised and design.treatment is None
            and design.n_rows >= FUSED_FROM_ROWS)


def build(design: Design, parameterisation: Parameterisation | None = None) -> Built:
    """The PyMC model of ``design`` (see the module docstring for the math).

    Parameters
    ----------
    design : Design
        The numeric design of a spec on a firm table.
    parameterisation : Parameterisation, optional
        The hierarchy's parameterisation; by default decided from the design
        (:func:`bayescluster.model.parameterization.choose`). A saved run passes the one
        it recorded.

    Returns
    -------
    Built
        The model and the tensors the evaluators read.
    """
    spec = design.spec
    priors = spec.priors
    family = LIKELIHOODS[spec.family]
    if parameterisation is None:
        parameterisation = choose(design)
    centred = parameterisation.centred
    with pm.Model(coords=coords(design, centred)) as model:
        at_means = parameterisation.intercepts_at_means
        coef, beta0_sampled, at = _intercept_and_slopes(
            design, priors, at_means, intercept="intercept", slopes="beta", key="coef",
            columns=design.fixed, centres=design.fixed_centres, means=design.fixed_means)
        beta0 = _uncentred("intercept", beta0_sampled, at, coef)
        x, logw = _row_covariates(design, priors)
        count = _count_predictor(design, priors, parameterisation, x, coef, beta0,
                                 beta0_sampled)
        theta = prior(family.parameter, priors[family.parameter]) if family.parameter else None
        zeta = zeta_rows = None
        if family.zero_part:
            zeta_rows = _zero_logit(design, priors, x, at_means)
            zeta = pt.zeros(design.n_rows) + zeta_rows
        eta, selection_index = count.eta, None
        if design.treatment is not None:
            eta, selection_logp, selection_index = _selection(design, priors, x, eta)
            logw = logw + selection_logp
        row_logpost, firm_loglik = _likelihood(design, family, count, eta, theta, zeta_rows,
                                               x, logw)
    return Built(model, design, eta, zeta, firm_loglik, row_logpost, pt.as_tensor_variable(x),
                 logw, parameterisation, selection_index)


def _intercept_and_slopes(design: Design, priors: dict, at_means: bool, *, intercept: str,
                          slopes: str, key: str, columns: list[Column], centres: np.ndarray,
                          means: np.ndarray
                          ) -> tuple[pt.TensorVariable | None, pt.TensorVariable, np.ndarray]:
    """One linear predictor's slopes, its intercept as sampled, and the columns' values there.

    ``intercept`` names the intercept and its ``[priors]`` key; ``slopes`` the slopes,
    ``key`` their ``[priors]`` key and dim. At every column's mean (``at_means``) the
    intercept's prior depends on the slopes, so they are created first; otherwise after
    it. Returns (slopes or None without columns, intercept, the column values it sits at:
    see :func:`_intercept`).
    """
    def slope_prior():
        return prior(slopes, priors[key], dims=key,
                     sds=column_sds(columns, design.values)) if columns else None

    coef = slope_prior() if at_means else None
    sampled, at = _intercept(intercept, priors[intercept], design, centres, means, coef,
                             at_means)
    if not at_means:
        coef = slope_prior()
    return coef, sampled, at


@dataclass(frozen=True)
class _CountPart:
    """The count part's linear predictor, and the pieces the fused likelihood rebuilds it from."""

    eta: pt.TensorVariable  # (row,)
    intercept: pt.TensorVariable  # on the user's scale
    coef: pt.TensorVariable | None  # (coef,)
    X: np.ndarray | pt.TensorVariable | None  # (row, coef)
    group: pt.TensorVariable | None  # (cluster, effect) domain-and-cluster deviations
    row_cluster: np.ndarray | None  # (row,)
    offset: np.ndarray | None  # (row,)


def _count_predictor(design: Design, priors: dict, parameterisation: Parameterisation,
                     x: np.ndarray | pt.TensorVariable, coef: pt.TensorVariable | None,
                     beta0: pt.TensorVariable, beta0_sampled: pt.TensorVariable
                     ) -> _CountPart:
    r""":math:`\eta`: intercept, fixed effects, the clusters' and domains' effects, offset."""
    eta = pt.zeros(design.n_rows) + beta0
    X = column_matrix(design.fixed, x, design.n_rows)
    if X is not None:
        eta = eta + pt.dot(X, coef)
    group = row_cluster = offset = None
    if design.varying:
        group = _group_effects(design, priors, coef, beta0, parameterisation,
                               beta0_sampled)
        row_cluster = design.cluster_index[design.row_firm]
        Z = pt.as_tensor_variable(varying_matrix(design, X, design.n_rows))
        eta = eta + (group[row_cluster] * Z).sum(axis=1)
    if design.offset is not None:
        offset = design.offset[design.row_firm]
        eta = eta + offset
    return _CountPart(eta, beta0, coef, X, group, row_cluster, offset)


def _zero_logit(design: Design, priors: dict, x: np.ndarray | pt.TensorVariable,
                at_means: bool) -> pt.TensorVariable:
    r"""The zero part's logit :math:`\zeta`: (row,), or a scalar when it has no columns.

    Without columns P(zero) is one number, recorded as ``p_zero``.
    """
    W = column_matrix(design.zero, x, design.n_rows)
    gamma, gamma0, at = _intercept_and_slopes(
        design, priors, at_means, intercept="zero_intercept", slopes="zero_beta",
        key="zero_coef", columns=design.zero, centres=design.zero_centres,
        means=design.zero_means)
    if W is not None:
        gamma0 = _uncentred("zero_intercept", gamma0, at, gamma)
        return gamma0 + pt.dot(W, gamma)
    pm.Deterministic("p_zero", pt.sigmoid(gamma0))
    return gamma0


def _likelihood(design: Design, family: Likelihood, count: _CountPart, eta: pt.TensorVariable,
                theta: pt.TensorVariable | None, zeta_rows: pt.TensorVariable | None,
                x: np.ndarray | pt.TensorVariable, logw: pt.TensorVariable
                ) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """The outcome as shared data, the rows' and firms' log-likelihoods, the ``loglik`` potential.

    Each row's log-probability joins its combination's ``logw``; a firm's log-likelihood
    sums its combinations out. Returns (row_logpost, firm_loglik).
    """
    # shared, so a compiled model can be refit to new outcomes (SBC) without recompiling
    y = pm.Data(Y_DATA, design.y[design.row_firm].astype("float64"))
    row_logpost = family.logp(y, eta, theta, zeta_rows) + logw
    if design.marginalised:
        padded = pt.concatenate([row_logpost, pt.as_tensor_variable([-np.inf])])
        firm_loglik = pm.math.logsumexp(padded[design.firm_rows], axis=1).ravel()
    else:
        firm_loglik = row_logpost
    weight = pm.Data(FIRM_WEIGHT, np.ones(design.n_firms))
    if fused_likelihood(design, x):
        X = np.zeros((design.n_rows, 0)) if count.X is None else count.X
        loglik = family.glm_logp(y=y, weight=weight, X=X, row_cluster=count.row_cluster,
                                 zcols=design.varying_index, base=count.intercept,
                                 coef=count.coef, group=count.group, alpha=theta,
                                 zeta=zeta_rows, offset=count.offset)
    else:
        loglik = (firm_loglik * weight).sum()
    pm.Potential("loglik", loglik)
    return row_logpost, firm_loglik
