r"""Calibrated synthetic firm tables with known true parameters.

The generative model (documented in full in ``data/README.md``):

.. math::

    \eta_i &= \beta_0 + x_i^\top \beta + (\delta_{d[i]} + u_{c[i]})^\top z_i
               + \tau w_i \\
    \mathrm{pat}_i &\sim \pi\,\delta_0 + (1 - \pi)\,
               \mathrm{NB2}(\mu_i = e^{\eta_i}, \alpha),
    \quad \mathrm{Var} = \mu + \alpha\mu^2

with :math:`z_i = (1, \mathrm{participant}_i)`, domain deviations :math:`\delta_d` fixed by
design (bio above IT), cluster deviations :math:`u_c \sim N(0, \mathrm{diag}(\sigma_c^2))`
drawn once with ``TRUTH_SEED``, and :math:`\beta_0`, :math:`\alpha` calibrated so that the
mean and SD of pat match Table 3. Covariates come from a Gaussian copula whose correlations
follow Appendix 2 and whose marginals follow Table 3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize, stats

from bayescluster.core.atomic import write_text
from bayescluster.study import registry
from bayescluster.study.paper import appendix2

if TYPE_CHECKING:
    from bayescluster.model.design import Design

GENERATOR_VERSION = "1.0.0"
TRUTH_SEED = 20010401
CALIBRATION_SEED = 7
CALIBRATION_N = 200_000

TARGET = {"pat_mean": 8.56, "pat_sd": 13.41, "claim_mean": 58.35, "claim_sd": 93.84,
          "citation_mean": 0.90, "citation_sd": 2.89}

# Copula order; the correlations are Appendix 2's (national = "university",
# sameregion = "cluster" there).
COPULA = ("participant", "scale", "rd", "projects", "national", "jointrd", "sameregion", "age")
BINARY_SHARE = {"participant": 0.25, "national": 0.52, "jointrd": 0.63, "sameregion": 0.72}

# Fixed effects on the raw scale: Table 4 model (3), except log(scale) (see data/README.md).
FIXED = {
    "participant": -0.182,
    "log(scale)": 1.0,
    "rd": 0.078,
    "projects": 0.194,
    "national": -0.033,
    "jointrd": 0.139,
    "sameregion": -0.622,
    "participant:national:sameregion": 0.796,
}
VARYING = ("intercept", "participant")
DOMAIN_DEVIATION = {  # (intercept, participant) by design: bio above IT (footnote 21)
    "manufacturing": (0.10, 0.00),
    "it": (-0.30, -0.35),
    "bio": (0.25, 0.45),
    "energy": (-0.05, -0.10),
}
DOMAIN_SD = (0.25, 0.35)
CLUSTER_SD = (0.30, 0.20)
P_ZERO = 0.15
MISSING_OF_229 = {"rd": 7, "projects": 19, "national": 9, "jointrd": 3, "sameregion": 4}
INCOMPLETE_OF_229 = 32  # 229 - 197 complete cases in the paper
INDUSTRIES = ("machinery", "electronics", "chemicals", "software", "biotech", "other")
INDUSTRY_P = {
    "manufacturing": (0.40, 0.25, 0.15, 0.05, 0.05, 0.10),
    "it": (0.10, 0.30, 0.05, 0.45, 0.02, 0.08),
    "bio": (0.05, 0.05, 0.30, 0.05, 0.45, 0.10),
    "energy": (0.30, 0.15, 0.30, 0.05, 0.05, 0.15),
}
PURPOSES = ("problem", "science", "commercialize", "seeds", "cost")
PURPOSE_P = (0.30, 0.15, 0.25, 0.15, 0.15)
# How firms come to participate: "copula", Appendix 2's correlations (participation's
# latent correlated rho with the firm trait); "probit", the selection model's own
# assumption (a probit in the selection covariates with cluster effects, its error
# correlated rho with the trait)
PARTICIPATION = ("copula", "probit")
SELECTION_TERMS = ("age", "log(scale)", "rd", "projects", "national", "jointrd", "sameregion")
SELECTION_CLUSTER_SD = 0.3
AGE_MEAN = 6 + 80 * 2.61 / (2.61 + 2.99)  # the age margin's mean (a scaled Beta(2.61, 2.99))

@dataclass(frozen=True)
class Simulated:
    """A simulated firm table and the parameters that generated it."""

    data: pd.DataFrame
    truth: dict


def _latent_correlation(rho: float) -> np.ndarray:
    """Appendix 2 correlations, inflated for the binary margins, plus the firm trait."""
    target = appendix2().loc[list(COPULA), list(COPULA)].to_numpy(dtype=float)
    # A binary cut at share p attenuates a latent correlation by phi(z_p)/sqrt(p(1-p)).
    attenuation = np.ones(len(COPULA))
    for j, name in enumerate(COPULA):
        if name in BINARY_SHARE:
            p = BINARY_SHARE[name]
            attenuation[j] = stats.norm.pdf(stats.norm.ppf(p)) / np.sqrt(p * (1 - p))
    latent = target / np.outer(attenuation, attenuation)
    np.fill_diagonal(latent, 1.0)
    full = np.eye(len(COPULA) + 1)
    full[: len(COPULA), : len(COPULA)] = latent
    full[0, -1] = full[-1, 0] = rho  # participation latent <-> firm trait
    values, vectors = np.linalg.eigh(full)
    if values.min() < 1e-6:  # nearest positive-definite correlation matrix
        values = np.clip(values, 1e-6, None)
        full = vectors @ np.diag(values) @ vectors.T
        d = np.sqrt(np.diag(full))
        full = full / np.outer(d, d)
    return full


def allocate(n: int) -> pd.Series:
    """Firms per cluster, proportional to Appendix 1's firm counts (largest remainder).

    At least two firms a cluster when ``n >= 38``.

    Parameters
    ----------
    n : int
        Number of firms in all.

    Returns
    -------
    Series
        Firms in each cluster (summing to ``n``), indexed by cluster id in the registry's
        order.
    """
    weights = registry.cluster_firms()
    floor = 2 if n >= 2 * len(weights) else 0
    rest = n - floor * len(weights)
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(int)
    remainder = (share - counts).to_numpy()
    order = np.argsort(-remainder, kind="stable")[: rest - counts.sum()]
    counts.iloc[order] += 1
    return counts + floor


def _covariates(n: int, rng: np.random.Generator, rho: float, cluster: np.ndarray, *,
                participation: str = "copula",
                instrument: float = 1.0) -> dict[str, np.ndarray]:
    corr = _latent_correlation(rho if participation == "copula" else 0.0)
    z = rng.standard_normal((n, corr.shape[0])) @ np.linalg.cholesky(corr).T
    u = stats.norm.cdf(z[:, : len(COPULA)])
    col = {name: u[:, j] for j, name in enumerate(COPULA)}
    out = {name: (col[name] > 1 - share).astype(float) for name, share in BINARY_SHARE.items()}
    out["scale"] = np.round(20 + 280 * stats.beta.ppf(col["scale"], 0.774, 1.002))
    log_sd = 0.8
    rd = np.exp(np.log(3.98) - log_sd**2 / 2 + log_sd * stats.norm.ppf(col["rd"]))
    out["rd"] = np.round(np.clip(rd, 0.05, 30.0), 2)
    out["projects"] = np.minimum(1 + stats.nbinom.ppf(col["projects"], 1.29, 1.29 / 2.35), 10)
    out["age"] = np.round(6 + 80 * stats.beta.ppf(col["age"], 2.61, 2.99))
    out["trait"] = z[:, -1]
    if participation == "probit":
        equation = dict(participation_equation())
        # a stronger instrument: age's slope times `instrument`, the index at mean age kept
        equation["intercept"] += (1.0 - instrument) * equation["age"] * AGE_MEAN
        equation["age"] *= instrument
        gamma = np.array([equation[t] for t in ("intercept", *SELECTION_TERMS)])
        effect = pd.Series(cluster).map(selection_cluster_effects()).to_numpy()
        nu, xi = rng.standard_normal(n), rng.standard_normal(n)
        out["participant"] = (_selection_matrix(out) @ gamma + effect + nu > 0).astype(float)
        out["trait"] = rho * nu + np.sqrt(1.0 - rho**2) * xi
    return out


def _selection_matrix(cov: dict) -> np.ndarray:
    return np.column_stack([np.ones(len(cov["age"]))]
                           + [np.log(cov["scale"]) if t == "log(scale)" else cov[t]
                              for t in SELECTION_TERMS])


@cache
def participation_equation() -> dict[str, float]:
    """The ``"probit"`` participation's coefficients on the raw selection covariates.

    Maximum likelihood probit of the copula generator's participation on
    ``SELECTION_TERMS`` in its reference sample, so that both kinds of participation have
    the same share and the same dependence on the covariates.

    Returns
    -------
    dict of str to float
        ``intercept`` and each of ``SELECTION_TERMS`` -> its coefficient.

    Raises
    ------
    RuntimeError
        When the probit's optimiser does not converge.
    """
    rng = np.random.default_rng(CALIBRATION_SEED)
    cov = _covariates(CALIBRATION_N, rng, 0.0, np.zeros(CALIBRATION_N))
    X, d = _selection_matrix(cov), cov["participant"]
    scale = np.r_[1.0, X[:, 1:].std(axis=0)]
    Xs, sign = X / scale, 2 * d - 1

    def loss(g):
        q = sign * (Xs @ g)
        ratio = np.exp(stats.norm.logpdf(q) - stats.norm.logcdf(q))
        return -stats.norm.logcdf(q).mean(), -(Xs.T @ (sign * ratio)) / len(q)

    fitted = optimize.minimize(loss, np.zeros(X.shape[1]), jac=True, method="BFGS")
    if not fitted.success:
        raise RuntimeError(f"the participation probit did not converge: {fitted.message}")
    gamma = fitted.x / scale
    return {t: float(g) for t, g in zip(("intercept", *SELECTION_TERMS), gamma, strict=True)}


@cache
def selection_cluster_effects() -> dict[str, float]:
    """Each cluster's shift of the ``"probit"`` participation index (fixed by the truth seed).

    Returns
    -------
    dict of str to float
        Cluster id -> its shift, drawn from N(0, ``SELECTION_CLUSTER_SD``).
    """
    rng = np.random.default_rng(TRUTH_SEED + 1)
    clusters = list(registry.cluster_domains())
    return dict(zip(clusters, rng.normal(0.0, SELECTION_CLUSTER_SD, len(clusters)).tolist(),
                    strict=True))


def _group_truth() -> dict:
    rng = np.random.default_rng(TRUTH_SEED)
    clusters = registry.cluster_domains()
    cluster_dev = rng.standard_normal((len(clusters), len(VARYING))) * np.array(CLUSTER_SD)
    return {
        "domain_deviation": {d: dict(zip(VARYING, v, strict=True))
                             for d, v in DOMAIN_DEVIATION.items()},
        "cluster_deviation": {c: dict(zip(VARYING, np.round(dev, 4).tolist(), strict=True))
                              for c, dev in zip(clusters, cluster_dev, strict=True)},
    }


def _linear_predictor(cov: dict, cluster: np.ndarray, groups: dict, trait_sd: float) -> np.ndarray:
    eta = np.zeros(len(cluster))
    for term, beta in FIXED.items():
        value = np.ones(len(cluster))
        for factor in term.split(":"):
            value = value * (np.log(cov["scale"]) if factor == "log(scale)" else cov[factor])
        eta += beta * value
    domains = registry.cluster_domains()
    for effect in VARYING:
        dev = {c: groups["domain_deviation"][domains[c]][effect]
               + groups["cluster_deviation"][c][effect] for c in domains}
        slope = 1.0 if effect == "intercept" else cov[effect]
        eta += pd.Series(cluster).map(dev).to_numpy() * slope
    return eta + trait_sd * cov["trait"]


def _nb_draw(rng, mu, alpha):
    return rng.poisson(rng.gamma(1.0 / alpha, mu * alpha))


@cache
def calibration(rho: float = 0.0, trait_sd: float = 0.0, participation: str = "copula",
                instrument: float = 1.0) -> dict:
    """Intercept, NB dispersion and claim/citation rates matching Table 3.

    Computed once on a fixed reference sample of ``CALIBRATION_N`` firms.

    Parameters
    ----------
    rho : float
        Correlation of participation's latent with the firm trait (see :func:`simulate`).
    trait_sd : float
        SD of the firm trait on the log-mean scale; above 0 the dispersion is the one
        calibrated without it.
    participation : {"copula", "probit"}
        How firms come to participate (see :func:`simulate`).
    instrument : float
        Age's slope in the ``"probit"`` participation index, as a multiple.

    Returns
    -------
    dict
        ``intercept`` (of the log mean), ``dispersion`` (NB2's alpha) and ``rates``: for
        ``claim`` and ``citation`` the ``mean`` and gamma ``shape`` of the per-patent rate.

    Raises
    ------
    ValueError
        When no positive dispersion reaches Table 3's SD of pat.
    """
    rng = np.random.default_rng(CALIBRATION_SEED)
    cluster = np.repeat(allocate(CALIBRATION_N).index.to_numpy(), allocate(CALIBRATION_N))
    cov = _covariates(CALIBRATION_N, rng, rho, cluster, participation=participation,
                      instrument=instrument)
    eta = _linear_predictor(cov, cluster, _group_truth(), trait_sd)
    m = np.exp(eta - eta.max())
    intercept = np.log(TARGET["pat_mean"] / ((1 - P_ZERO) * m.mean())) - eta.max()
    mu = np.exp(intercept + eta)
    if trait_sd > 0:  # the trait adds spread of its own: keep the base dispersion
        alpha = calibration(0.0, 0.0)["dispersion"]
    else:
        second = TARGET["pat_sd"] ** 2 + TARGET["pat_mean"] ** 2
        alpha = (second / (1 - P_ZERO) - mu.mean() - (mu**2).mean()) / (mu**2).mean()
        if alpha <= 0.02:
            raise ValueError(f"cannot reach Table 3's SD of pat (alpha={alpha:.3f})")
    pat = np.where(rng.random(CALIBRATION_N) < P_ZERO, 0, _nb_draw(rng, mu, alpha))
    positive = pat > 0
    q, inv_pat = positive.mean(), (1.0 / pat[positive]).mean()
    rates = {}
    for name in ("claim", "citation"):
        mean = TARGET[f"{name}_mean"] / q
        var_pos = (TARGET[f"{name}_sd"] ** 2 + TARGET[f"{name}_mean"] ** 2) / q - mean**2
        rates[name] = {"mean": float(mean), "shape": float(mean**2 / (var_pos - mean * inv_pat))}
    return {"intercept": float(intercept), "dispersion": float(alpha), "rates": rates}


def _missing_mask(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Missing cells in Table 3's counts scaled with n.

    They are confined to the paper's share of incomplete firms (32 of 229), so that
    listwise deletion keeps 197 of 229.
    """
    k = {c: int(round(v * n / 229)) for c, v in MISSING_OF_229.items()}
    pool_size = min(int(round(INCOMPLETE_OF_229 * n / 229)), sum(k.values()))
    pool = rng.permutation(n)[:pool_size]
    labels = rng.permutation(np.repeat(list(k), list(k.values())))
    first = labels[:pool_size]
    mask = {c: np.zeros(n, bool) for c in k}
    for c in k:
        mask[c][pool[first == c]] = True
        extra = int((labels[pool_size:] == c).sum())
        eligible = pool[~mask[c][pool]]
        mask[c][rng.choice(eligible, size=min(extra, len(eligible)), replace=False)] = True
    return mask


def simulate(n: int = 229, seed: int = 2001, rho: float = 0.0,
             trait_sd: float | None = None, missing: bool = True,
             participation: str = "copula", instrument: float = 1.0) -> Simulated:
    r"""Simulate ``n`` firms with known truth.

    Parameters
    ----------
    n : int
        Number of firms (at least 2), spread over the 19 clusters by :func:`allocate`.
    seed : int
        Seed of everything firm-level; group effects are fixed by ``TRUTH_SEED``.
    rho : float
        Correlation, in (-1, 1), between the latent participation propensity and a firm
        trait that raises patenting (selection on unobservables).
    trait_sd : float, optional
        SD of that firm trait on the log-mean scale; default 0.5 when ``rho != 0`` and 0
        otherwise.
    missing : bool
        Blank covariates at the seed data's missing rates (``False``: a complete table,
        e.g. for peers that cannot impute); the values drawn are the same either way.
    participation : {"copula", "probit"}
        ``"copula"`` (default): participation is a binary margin of the Appendix 2 copula,
        its latent correlated ``rho`` with the trait. ``"probit"``: the selection model's
        own assumption,
        :math:`d_i = 1[\gamma_0 + w_i^\top\gamma + v_{c_i} + \nu_i > 0]` with
        :math:`\gamma` from :func:`participation_equation`, cluster shifts
        :math:`v_c \sim N(0, 0.3)` (:func:`selection_cluster_effects`) and the trait
        :math:`\rho\nu_i + \sqrt{1-\rho^2}\,\xi_i`.
    instrument : float
        With ``"probit"`` participation, age's slope in the participation index times
        this (the index at mean age kept): the exclusion restriction's strength. Must be
        1 with ``"copula"``.

    Returns
    -------
    Simulated
        ``data``, the firm table in the study's layout (``firm_id``, ``cluster``, ``pat``,
        ``claim``, ``citation``, the covariates, ``industry``, ``purpose``), and ``truth``,
        the parameters that generated it (what :func:`write` puts in the truth file).

    Raises
    ------
    ValueError
        When ``n``, ``rho``, ``participation`` or ``instrument`` is out of range.
    """
    trait_sd = _checked_trait_sd(n, rho, trait_sd=trait_sd, participation=participation,
                                 instrument=instrument)
    cal = calibration(float(rho), trait_sd, participation, float(instrument))
    groups = _group_truth()
    rng = np.random.default_rng(seed)
    counts = allocate(n)
    cluster = np.repeat(counts.index.to_numpy(), counts.to_numpy())
    cov = _covariates(n, rng, rho, cluster, participation=participation, instrument=instrument)
    mu = np.exp(cal["intercept"] + _linear_predictor(cov, cluster, groups, trait_sd))
    pat = _patents(rng, mu, cal["dispersion"])
    quality = _quality(rng, pat, cal["rates"])
    industry, purpose = _firm_labels(rng, cluster)
    mask = _missing_mask(n, rng)
    if not missing:
        mask = {column: np.zeros(n, dtype=bool) for column in mask}
    frame = _table(cluster=cluster, pat=pat, quality=quality, cov=cov, industry=industry,
                   purpose=purpose, mask=mask)
    truth = _truth(n=n, seed=seed, rho=rho, trait_sd=trait_sd, participation=participation,
                   instrument=instrument, cal=cal, groups=groups, mask=mask, counts=counts)
    return Simulated(frame, truth)


def _checked_trait_sd(n: int, rho: float, *, trait_sd: float | None, participation: str,
                      instrument: float) -> float:
    """Check :func:`simulate`'s options and return the firm trait's SD they give."""
    if n < 2:
        raise ValueError("n must be at least 2")
    if not -1 < rho < 1:
        raise ValueError("rho must lie in (-1, 1)")
    trait_sd = (0.5 if rho != 0 else 0.0) if trait_sd is None else float(trait_sd)
    if participation not in PARTICIPATION:
        raise ValueError(f"participation must be one of {PARTICIPATION}")
    if instrument != 1.0 and participation != "probit":
        raise ValueError("instrument applies to participation='probit' only")
    return trait_sd


def _patents(rng: np.random.Generator, mu: np.ndarray, dispersion: float) -> np.ndarray:
    """Patent counts: a structural zero with probability ``P_ZERO``, else NB2(mu, alpha)."""
    structural_zero = rng.random(len(mu)) < P_ZERO
    return np.where(structural_zero, 0, _nb_draw(rng, mu, dispersion))


def _quality(rng: np.random.Generator, pat: np.ndarray,
             rates: dict) -> dict[str, np.ndarray]:
    """Claims and citations per patent (0 without patents), claims drawn first."""
    quality = {}
    for name in ("claim", "citation"):
        r = rates[name]
        rate = rng.gamma(r["shape"], r["mean"] / r["shape"], size=len(pat))
        total = rng.poisson(pat * rate)
        quality[name] = np.round(np.where(pat > 0, total / np.maximum(pat, 1), 0.0), 2)
    return quality


def _firm_labels(rng: np.random.Generator,
                 cluster: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's industry (by its cluster's domain) and purpose of joint research."""
    domains = registry.cluster_domains()
    domain = np.array([domains[c] for c in cluster])
    industry = np.empty(len(cluster), dtype=object)
    for d, p in INDUSTRY_P.items():
        at = domain == d
        industry[at] = rng.choice(INDUSTRIES, size=at.sum(), p=p)
    purpose = rng.choice(PURPOSES, size=len(cluster), p=PURPOSE_P)
    return industry, purpose


def _table(*, cluster: np.ndarray, pat: np.ndarray, quality: dict[str, np.ndarray],
           cov: dict[str, np.ndarray], industry: np.ndarray, purpose: np.ndarray,
           mask: dict[str, np.ndarray]) -> pd.DataFrame:
    """The firm table in the study's layout, the cells ``mask`` marks blank."""
    n = len(cluster)
    frame = pd.DataFrame({
        "firm_id": [f"F{i:07d}" for i in range(1, n + 1)],
        "cluster": cluster,
        "pat": pat.astype(int),
        "claim": quality["claim"],
        "citation": quality["citation"],
        "participant": cov["participant"].astype(int),
        "scale": cov["scale"].astype(int),
        "rd": cov["rd"],
        "projects": pd.array(cov["projects"].astype(int), dtype="Int64"),
        "national": pd.array(cov["national"].astype(int), dtype="Int64"),
        "jointrd": pd.array(cov["jointrd"].astype(int), dtype="Int64"),
        "sameregion": pd.array(cov["sameregion"].astype(int), dtype="Int64"),
        "age": cov["age"].astype(int),
        "industry": industry.astype(str),
        "purpose": purpose,
    })
    for column, where in mask.items():
        frame.loc[where, column] = pd.NA if column != "rd" else np.nan
    return frame


def _truth(*, n: int, seed: int, rho: float, trait_sd: float, participation: str,
           instrument: float, cal: dict, groups: dict, mask: dict[str, np.ndarray],
           counts: pd.Series) -> dict:
    """The parameters that generated a table: what :func:`write` puts in its truth file."""
    return {
        "generator_version": GENERATOR_VERSION,
        "seed": int(seed),
        "n": int(n),
        "family": "zinb",
        "scale": "raw covariates: participant, log(scale), rd, projects, binaries as 0/1",
        "intercept": cal["intercept"],
        "fixed": dict(FIXED),
        "varying": list(VARYING),
        "domain_sd": dict(zip(VARYING, DOMAIN_SD, strict=True)),
        "cluster_sd": dict(zip(VARYING, CLUSTER_SD, strict=True)),
        "cluster_corr": 0.0,
        **groups,
        "domain_effect": {d: {e: (cal["intercept"] if e == "intercept" else FIXED[e]) + v[e]
                              for e in VARYING}
                          for d, v in groups["domain_deviation"].items()},
        "dispersion": cal["dispersion"],
        "p_zero": P_ZERO,
        "selection": {"rho": float(rho), "trait_sd": trait_sd, "participation": participation,
                      "instrument": float(instrument),
                      **({"equation": participation_equation(),
                          "cluster_effect": selection_cluster_effects()}
                         if participation == "probit" else {})},
        "quality_rates": cal["rates"],
        "missing": {c: int(m.sum()) for c, m in mask.items()},
        "clusters": {c: int(k) for c, k in counts.items()},
    }


def truth_path(csv_path: str | Path) -> Path:
    """``PATH.csv`` -> ``PATH.truth.json``.

    Parameters
    ----------
    csv_path : str or Path
        A simulated table's CSV file.

    Returns
    -------
    Path
        Its truth file, beside it.
    """
    path = Path(csv_path)
    return path.with_name(path.name.removesuffix(".csv") + ".truth.json")


def write(sim: Simulated, path: str | Path) -> tuple[Path, Path]:
    """Write the table and its truth file atomically; same simulation, same bytes.

    Parameters
    ----------
    sim : Simulated
        A table and its truth, from :func:`simulate`.
    path : str or Path
        The CSV file to write; the truth goes to :func:`truth_path` of it (JSON).

    Returns
    -------
    table : Path
        The CSV file.
    truth : Path
        The truth file.
    """
    path = Path(path)
    write_text(path, sim.data.to_csv(index=False, lineterminator="\n"))
    truth = truth_path(path)
    write_text(truth, json.dumps(_jsonable(sim.truth), indent=2, sort_keys=True) + "\n")
    return path, truth


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 10)
    return value


def load_truth(csv_path: str | Path) -> dict:
    """Read the truth file written beside a simulated table.

    Parameters
    ----------
    csv_path : str or Path
        The simulated table's CSV file (not the truth file).

    Returns
    -------
    dict
        The truth as :func:`simulate` made it, its floats rounded to 10 digits.
    """
    return json.loads(truth_path(csv_path).read_text())




def model_scale_truth(truth: dict, design: Design) -> dict:
    """The generator's truth as the estimands of a fitted design.

    Fixed effects move to the design's scale (a standardised covariate's effect is per SD,
    the intercept moves to the covariates' centres; terms the generator lacks are 0). A
    varying effect's population value is the model's: the mean over domains of each domain's
    effect, and a domain's effect is the mean over its clusters, so the realised cluster
    deviations (drawn once, not zero-mean) enter both.

    Parameters
    ----------
    truth : dict
        A simulated table's truth (:func:`load_truth`, ``Simulated.truth``).
    design : Design
        The design of a fit to that table.

    Returns
    -------
    dict
        ``{"fixed": {label: value}, "domain_total": {(domain, effect): value}}``.

    Raises
    ------
    ValueError
        For an interaction of standardised covariates, which has no closed form.
    """
    fixed, intercept = {}, truth["intercept"]
    for column in design.fixed:
        if column.indicators:
            fixed[column.label] = 0.0
            continue
        beta = truth["fixed"].get(column.label, 0.0)
        names = [design.covariates[j] for j in column.factors]
        stats = [design.transform_stats.get(n, (0.0, 1.0)) for n in names]
        scaled = [n for n, (c, s) in zip(names, stats, strict=True) if (c, s) != (0.0, 1.0)]
        if scaled and len(names) > 1:
            raise ValueError(f"no closed form for interaction {column.label!r} of "
                             "standardised covariates")
        if scaled:
            center, sd = stats[0]
            fixed[column.label] = beta * sd
            intercept += beta * center
        else:
            fixed[column.label] = beta
    fixed["intercept"] = intercept
    domains = registry.cluster_domains()
    totals = {}
    for effect in design.varying:
        base = fixed["intercept" if effect == "intercept" else effect]
        per_domain = {}
        for domain in design.domain_labels:
            members = [c for c in design.cluster_labels
                       if domain == "all" or domains.get(c) == domain]
            dev = truth["domain_deviation"].get(domain, {}).get(effect, 0.0)
            per_domain[domain] = base + dev + float(np.mean(
                [truth["cluster_deviation"][c][effect] for c in members]))
            totals[(domain, effect)] = per_domain[domain]
        fixed["intercept" if effect == "intercept" else effect] = float(
            np.mean(list(per_domain.values())))
    return {"fixed": fixed, "domain_total": totals}
