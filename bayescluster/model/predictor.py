r"""The linear predictor in numpy, one posterior draw at a time.

Counterfactual means, prediction and the no-pooling fits all evaluate it here.

.. math:: \eta_i = \beta_0 + X(x_i)\beta + \sum_e g_{c_i e}\, z_e(x_i) + o_i,
   \qquad g = \texttt{cluster\_total} - \text{population effect}

with :math:`X` the fixed-effect columns of the covariates :math:`x_i`
(:func:`~bayescluster.model.design.column_matrix`), :math:`z` the varying-effect values
(:func:`~bayescluster.model.design.varying_matrix`) and :math:`o_i` the offset.
"""

import numpy as np
import xarray as xr

from bayescluster.model.design import Design, varying_matrix
from bayescluster.model.families import LIKELIHOODS, expit
from bayescluster.model.terms import column_matrix


def linear_predictor(X: np.ndarray, Z: np.ndarray | None, *, intercept, beta=None,
                     group_rows: np.ndarray | None = None, offset=None) -> np.ndarray:
    r""":math:`\eta = \beta_0 + X\beta + \sum_e g_e z_e + o` for one draw.

    Parameters
    ----------
    X : ndarray
        (row, coef) fixed-effect columns.
    Z : ndarray or None
        (row, effect) varying-effect values.
    intercept : float
        :math:`\beta_0`.
    beta : ndarray, optional
        (coef,) coefficients.
    group_rows : ndarray, optional
        (row, effect) each row's group effects :math:`g`.
    offset : ndarray, optional
        (row,) offsets.

    Returns
    -------
    ndarray
        (row,) linear predictor.
    """
    eta = intercept + (X @ beta if beta is not None and X.shape[1] else 0.0)
    if group_rows is not None:
        eta = eta + (group_rows * Z).sum(axis=1)
    if offset is not None:
        eta = eta + offset
    return np.broadcast_to(eta, (X.shape[0],)).astype(float)


def stacked(ds: xr.Dataset, name: str) -> np.ndarray:
    """(chain * draw, ...) array of a posterior variable."""
    values = np.asarray(ds[name].values)
    return values.reshape(-1, *values.shape[2:])


def columns(design: Design, x: np.ndarray, which: str = "fixed") -> np.ndarray:
    """(firm, column) design columns from covariate values (firm, covariate).

    ``which`` is ``fixed`` or ``zero``; a design without such columns gives (firm, 0).
    A categorical covariate's value in ``x`` is its level's code
    (:meth:`~bayescluster.model.design.Design.code`).
    """
    cols = design.fixed if which == "fixed" else design.zero
    out = column_matrix(cols, x, x.shape[0])
    return np.zeros((x.shape[0], 0)) if out is None else out


class Predictor:
    """Per-firm means from posterior draws at any covariate values.

    Parameters
    ----------
    design : Design
        The run's design (its firms, clusters and offsets).
    posterior : Dataset
        The run's posterior draws.
    """

    def __init__(self, design: Design, posterior: xr.Dataset):
        self.design = design
        self.family = LIKELIHOODS[design.spec.family]
        post = posterior
        self.intercept = stacked(post, "intercept")
        self.beta = stacked(post, "beta") if "beta" in post else None
        self.alpha = stacked(post, "dispersion") if self.family.dispersion else None
        self.zero_intercept = stacked(post, "zero_intercept") if "zero_intercept" in post \
            else None
        self.zero_beta = stacked(post, "zero_beta") if "zero_beta" in post else None
        self.group = None
        if design.varying:
            total = stacked(post, "cluster_total")  # (S, cluster, effect)
            population = np.stack([self.intercept if k < 0 else self.beta[:, k]
                                   for k in design.varying_index], axis=-1)
            self.group = total - population[:, None, :]
        # a selection model's firm effect sigma_f * eps, eps ~ N(0, 1), averaged out of the
        # mean: E[exp(sigma_f eps)] = exp(sigma_f^2 / 2)
        self.firm_shift = 0.5 * stacked(post, "firm_sd") ** 2 if "firm_sd" in post else None
        self.n_draw = post.sizes["draw"]

    def index(self, chain: int, draw: int) -> int:
        """The stacked draw index of (chain, draw)."""
        return chain * self.n_draw + draw

    def parameters(self, x: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray | None]:
        """(mu, P(zero)) per firm at stacked draw ``s`` for covariates ``x``."""
        design = self.design
        X = columns(design, x)
        group_rows = Z = None
        if self.group is not None:
            Z = varying_matrix(design, X, len(x))
            group_rows = self.group[s][design.cluster_index]
        eta = linear_predictor(X, Z, intercept=self.intercept[s],
                               beta=None if self.beta is None else self.beta[s],
                               group_rows=group_rows, offset=design.offset)
        if self.firm_shift is not None:
            eta = eta + self.firm_shift[s]
        p_zero = None
        if self.family.zero_part:
            zeta = self.zero_intercept[s] + (
                columns(design, x, "zero") @ self.zero_beta[s]
                if self.zero_beta is not None
                else np.zeros(len(x)))
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
