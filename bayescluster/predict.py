"""Posterior quantities per draw and firm, computed from a run's draws without refitting.

A firm's covariates in a draw are its observed values, its imputed continuous values in
that draw, and, for a missing binary covariate, a value drawn from its conditional
posterior given the firm's outcome (the same rule the posterior predictive uses).
Counterfactual predictions change covariates and recompute the linear predictor:

.. math:: \\eta_i = \\beta_0 + X(x_i)\\beta + \\sum_e g_{c_i e}\\, Z_e(x_i) + o_i,
   \\qquad g = \\texttt{cluster\\_total} - \\text{population effect}
"""

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import xarray as xr

from bayescluster.families import FAMILIES, expit

BATCH_VALUES = 20_000_000  # draws evaluated at once x rows: about 160 MB per output


@dataclass
class Draw:
    """One posterior draw, evaluated on the model's own tensors."""

    chain: int
    draw: int
    eta: np.ndarray  # (firm,) log mean of the count part
    zeta: np.ndarray | None  # (firm,) logit P(zero)
    firm_loglik: np.ndarray  # (firm,)
    x: np.ndarray  # (firm, covariate)


def stacked(ds: xr.Dataset, name: str) -> np.ndarray:
    """(chain * draw, ...) array of a posterior variable."""
    values = np.asarray(ds[name].values)
    return values.reshape(-1, *values.shape[2:])


def thin_indices(n_chain: int, n_draw: int, max_draws: int | None) -> list[tuple[int, int]]:
    pairs = [(c, d) for c in range(n_chain) for d in range(n_draw)]
    if max_draws is None or len(pairs) <= max_draws:
        return pairs
    keep = np.linspace(0, len(pairs) - 1, max_draws).round().astype(int)
    return [pairs[k] for k in keep]


def draws(built, ds: xr.Dataset, rng: np.random.Generator,
          max_draws: int | None = None, given_outcome: bool = True) -> Iterator[Draw]:
    """Evaluate the model at each posterior draw (thinned evenly to ``max_draws``).

    A firm with missing binary covariates gets one combination per draw, drawn from its
    posterior given the outcome (``given_outcome``), or from its prior (for prior
    predictive draws, which must not see the outcome)."""
    design = built.design
    fn = built.evaluator()
    names = [rv.name for rv in built.model.free_RVs]
    arrays = [np.asarray(ds[n].values) for n in names]
    n_chain, n_draw = arrays[0].shape[:2]
    pairs = thin_indices(n_chain, n_draw, max_draws)
    size = max(1, min(256, BATCH_VALUES // max(design.n_rows, 1)))
    for start in range(0, len(pairs), size):
        chains, draws_ = np.array(pairs[start:start + size]).T
        batch = fn(*[a[chains, draws_] for a in arrays])
        for k, (c, d) in enumerate(pairs[start:start + size]):
            yield _draw(design, [o[k] for o in batch], c, d, rng, given_outcome)


def _draw(design, out, c, d, rng, given_outcome) -> Draw:
    """One draw's tensors (firm-level), with a firm's binary-covariate combination
    drawn from its conditional probability when the design marginalises one."""
    eta, firm_ll, x = out[0], out[1], out[3]
    row_lp = out[2] if given_outcome else out[4]
    rows = np.arange(design.n_firms)
    if design.marginalised:
        lp = np.append(row_lp, -np.inf)[design.firm_rows]
        p = np.exp(lp - lp.max(axis=1, keepdims=True))
        cum = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        pick = (rng.random((design.n_firms, 1)) > cum).sum(axis=1)
        rows = design.firm_rows[rows, np.minimum(pick, cum.shape[1] - 1)]
    zeta = out[5][rows] if len(out) > 5 else None
    return Draw(c, d, eta[rows], zeta, firm_ll, x[rows])


def columns(design, x: np.ndarray, which: str = "fixed") -> np.ndarray:
    """Design columns (firm, coef) from covariate values (firm, covariate)."""
    cols = design.fixed if which == "fixed" else design.zero
    out = np.empty((x.shape[0], len(cols)))
    for k, column in enumerate(cols):
        if column.dummy is not None:
            out[:, k] = column.dummy
        else:
            out[:, k] = np.prod(x[:, list(column.factors)], axis=1)
    return out


class Predictor:
    """Counterfactual means from posterior draws: ``mean(x, s)`` for covariates ``x``."""

    def __init__(self, run):
        self.run = run
        self.design = run.design
        self.family = FAMILIES[run.spec.family]
        post = run.posterior
        self.intercept = stacked(post, "intercept")
        self.beta = stacked(post, "beta") if "beta" in post else None
        self.alpha = stacked(post, "dispersion") if self.family.dispersion else None
        self.zero_intercept = stacked(post, "zero_intercept") if "zero_intercept" in post \
            else None
        self.zero_beta = stacked(post, "zero_beta") if "zero_beta" in post else None
        self.group = None
        if self.design.varying:
            total = stacked(post, "cluster_total")  # (S, cluster, effect)
            population = np.stack([self.intercept if k < 0 else self.beta[:, k]
                                   for k in self.design.varying_index], axis=-1)
            self.group = total - population[:, None, :]
        # a selection model's firm effect sigma_f * eps, eps ~ N(0, 1), averaged out of the
        # mean: E[exp(sigma_f eps)] = exp(sigma_f^2 / 2)
        self.firm_shift = 0.5 * stacked(post, "firm_sd") ** 2 if "firm_sd" in post else None
        self.n_draw = post.sizes["draw"]

    def index(self, chain: int, draw: int) -> int:
        return chain * self.n_draw + draw

    def parameters(self, x: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(mu, P(zero)) per firm for covariates ``x`` at stacked draw ``s``."""
        design = self.design
        X = columns(design, x)
        eta = self.intercept[s] + (X @ self.beta[s] if self.beta is not None else 0.0)
        if self.group is not None:
            Z = np.column_stack([np.ones(len(x)) if k < 0 else X[:, k]
                                 for k in design.varying_index])
            eta = eta + (self.group[s][design.cluster_index] * Z).sum(axis=1)
        if design.offset is not None:
            eta = eta + design.offset
        if self.firm_shift is not None:
            eta = eta + self.firm_shift[s]
        p_zero = None
        if self.family.zero_part:
            zeta = self.zero_intercept[s] + (
                columns(design, x, "zero") @ self.zero_beta[s] if self.zero_beta is not None
                else 0.0)
            p_zero = expit(zeta)
        return np.exp(eta), p_zero

    def margins(self, x: np.ndarray, s: int) -> dict[str, np.ndarray]:
        """E[y], P(y >= 1) and E[y | y >= 1] per firm."""
        mu, p_zero = self.parameters(x, s)
        alpha = None if self.alpha is None else self.alpha[s]
        mean = self.family.mean(mu, alpha, p_zero)
        positive = self.family.p_positive(mu, alpha, p_zero)
        return {"total": mean, "extensive": positive,
                "intensive": mean / np.maximum(positive, 1e-300)}
