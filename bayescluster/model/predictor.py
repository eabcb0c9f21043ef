r"""The linear predictor in numpy, one posterior draw at a time.

Counterfactual means, prediction and the no-pooling fits all evaluate it here
(:class:`Predictor`, :func:`linear_predictor`, :func:`zero_logit`).

.. math:: \eta_i = \beta_0 + X(x_i)\beta + \sum_e g_{c_i e}\, z_e(x_i) + o_i,
   \qquad g = \texttt{cluster\_total} - \text{population effect}

with :math:`X` the fixed-effect columns of the covariates :math:`x_i`
(:func:`~bayescluster.model.terms.column_matrix`), :math:`z` the varying-effect values
(:func:`~bayescluster.model.design.varying_matrix`) and :math:`o_i` the offset.
"""

import numpy as np
import xarray as xr

from bayescluster.model.design import Design, varying_matrix
from bayescluster.model.families import LIKELIHOODS, MAX_RATE, expit
from bayescluster.model.terms import column_matrix


def linear_predictor(X: np.ndarray, Z: np.ndarray | None, *, intercept: float,
                     beta: np.ndarray | None = None, group_rows: np.ndarray | None = None,
                     offset: np.ndarray | None = None) -> np.ndarray:
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
    """(chain * draw, ...) array of a posterior variable.

    Parameters
    ----------
    ds : Dataset
        Draws with dims (chain, draw, ...).
    name : str
        The variable.

    Returns
    -------
    ndarray
        (chain * draw, ...) the draws stacked chain by chain (stacked draw
        ``chain * n_draw + draw``).
    """
    values = np.asarray(ds[name].values)
    return values.reshape(-1, *values.shape[2:])


def columns(design: Design, x: np.ndarray, which: str = "fixed") -> np.ndarray:
    """(firm, column) design columns from covariate values (firm, covariate).

    ``which`` is ``fixed`` or ``zero``; a design without such columns gives (firm, 0).
    A categorical covariate's value in ``x`` is its level's code
    (:meth:`~bayescluster.model.design.Design.code`).

    Parameters
    ----------
    design : Design
        The run's design (its columns).
    x : ndarray
        (firm, covariate) values on the model's scale.
    which : str
        ``"fixed"`` (the count part's columns) or ``"zero"`` (the zero part's).

    Returns
    -------
    ndarray
        (firm, column) the design columns' values.
    """
    cols = design.fixed if which == "fixed" else design.zero
    out = column_matrix(cols, x, x.shape[0])
    return np.zeros((x.shape[0], 0)) if out is None else out


def zero_logit(W: np.ndarray, intercept: float, beta: np.ndarray | None = None
               ) -> np.ndarray:
    r""":math:`\zeta = \gamma_0 + W\gamma`, the zero part's logit, for one draw (W: (row, coef)).

    Parameters
    ----------
    W : ndarray
        (row, coef) the zero part's design columns.
    intercept : float
        :math:`\gamma_0`.
    beta : ndarray, optional
        (coef,) :math:`\gamma`; None without zero-part columns.

    Returns
    -------
    ndarray
        (row,) :math:`\zeta`, the logit of P(zero).
    """
    return intercept + (W @ beta if beta is not None else np.zeros(W.shape[0]))


class Predictor:
    """Per-row means from posterior draws at any covariate values.

    The one numpy evaluator of a run's linear predictors (count part, zero part, a selection
    model's firm effect averaged out of the mean): counterfactual means, marginal effects
    and prediction read it.

    Parameters
    ----------
    design : Design
        The run's design (its firms, clusters and offsets).
    posterior : Dataset
        The run's posterior draws.
    keep : ndarray, optional
        The stacked draws to use (all by default).
    """

    def __init__(self, design: Design, posterior: xr.Dataset, keep: np.ndarray | None = None):
        self.design = design
        self.family = LIKELIHOODS[design.spec.family]
        post = posterior

        self.keep = np.arange(post.sizes["chain"] * post.sizes["draw"]) if keep is None \
            else keep

        def draws(name):
            return stacked(post, name)[self.keep]

        self.intercept = draws("intercept")
        self.beta = draws("beta") if "beta" in post else None
        self.theta = draws(self.family.parameter) if self.family.parameter else None
        self.zero_intercept = draws("zero_intercept") if "zero_intercept" in post else None
        self.zero_beta = draws("zero_beta") if "zero_beta" in post else None
        self.population = self.group = None
        if design.varying:
            self.population = np.stack([self.intercept if k < 0 else self.beta[:, k]
                                        for k in design.varying_index], axis=-1)
            self.group = draws("cluster_total") - self.population[:, None, :]
        # a selection model's firm effect sigma_f * eps, eps ~ N(0, 1), averaged out of the
        # mean: E[exp(sigma_f eps)] = exp(sigma_f^2 / 2)
        self.firm_shift = 0.5 * draws("firm_sd") ** 2 if "firm_sd" in post else None
        self.n_draw = post.sizes["draw"]

    def index(self, chain: int, draw: int) -> int:
        """The stacked draw index of (chain, draw) (a predictor of every draw).

        Parameters
        ----------
        chain : int
            The chain.
        draw : int
            The draw within the chain.

        Returns
        -------
        int
            ``chain * n_draw + draw``: an index into the stacked draws when ``keep`` kept
            them all.
        """
        return chain * self.n_draw + draw

    def parameters(self, x: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray | None]:
        r"""(mu, P(zero)) of the fit's own firms at draw ``s`` with covariates ``x``.

        Parameters
        ----------
        x : ndarray
            (firm, covariate) values on the model's scale, a row per firm of the design.
        s : int
            The stacked draw (a position in ``keep``).

        Returns
        -------
        (ndarray, ndarray or None)
            (firm,) :math:`\mu = e^\eta` with each firm's cluster effects and offset
            (capped at ``MAX_RATE``), and (firm,) P(zero) (None without a zero part).
        """
        group_rows = None if self.group is None else self.group[s][self.design.cluster_index]
        return self.parameters_at(x, s, group_rows=group_rows, offset=self.design.offset)

    def parameters_at(self, x: np.ndarray, s: int, *, group_rows: np.ndarray | None = None,
                      offset: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        r"""(mu, P(zero)) per row at draw ``s``.

        Parameters
        ----------
        x : ndarray
            (row, covariate) values on the model's scale (a categorical's level codes).
        s : int
            The stacked draw.
        group_rows : ndarray, optional
            (row, effect) each row's group effects (None: none).
        offset : ndarray, optional
            (row,) offsets.

        Returns
        -------
        (ndarray, ndarray or None)
            The rows' :math:`\mu = e^\eta` (capped at ``MAX_RATE``) and P(zero) (None
            without a zero part).
        """
        design = self.design
        X = columns(design, x)
        Z = None if group_rows is None else varying_matrix(design, X, len(x))
        eta = linear_predictor(X, Z, intercept=self.intercept[s],
                               beta=None if self.beta is None else self.beta[s],
                               group_rows=group_rows, offset=offset)
        if self.firm_shift is not None:
            eta = eta + self.firm_shift[s]
        p_zero = None
        if self.family.zero_part:
            p_zero = expit(zero_logit(columns(design, x, "zero"), self.zero_intercept[s],
                                      None if self.zero_beta is None else self.zero_beta[s]))
        return np.exp(np.minimum(eta, np.log(MAX_RATE))), p_zero

    def margins(self, x: np.ndarray, s: int) -> dict[str, np.ndarray]:
        """E[y], P(y >= 1) and E[y | y >= 1] per firm.

        Parameters
        ----------
        x : ndarray
            (firm, covariate) values on the model's scale, a row per firm of the design.
        s : int
            The stacked draw (a position in ``keep``).

        Returns
        -------
        dict of str to ndarray
            (firm,) each: ``total`` E[y], ``extensive`` P(y >= 1) and ``intensive``
            E[y | y >= 1].
        """
        mu, p_zero = self.parameters(x, s)
        theta = None if self.theta is None else self.theta[s]
        mean = self.family.mean(mu, theta, p_zero)
        positive = self.family.p_positive(mu, theta, p_zero)
        return {"total": mean, "extensive": positive,
                "intensive": mean / np.maximum(positive, 1e-300)}
