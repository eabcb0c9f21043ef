r"""NB2's row log-likelihood and its gradient in one pass.

For each row, with :math:`n = 1/\alpha`, :math:`d = \eta - \log n`,
:math:`s = \mathrm{logit}^{-1}(d) = \mu/(n + \mu)` and :math:`\mathrm{sp} = \log(1 + e^d)`:

.. math::

    \log \mathrm{NB2}(y) &= C_y(n) - \log y! - n\,\mathrm{sp} + y\,(d - \mathrm{sp}),
    \qquad C_y(n) = \log\Gamma(y + n) - \log\Gamma(n) = \textstyle\sum_{j<y} \log(n + j) \\
    \partial_\eta &= y(1 - s) - n s, \qquad
    \partial_n = D_y(n) - \mathrm{sp} + s - y(1 - s)/n, \qquad
    D_y(n) = \psi(y + n) - \psi(n) = \textstyle\sum_{j<y} 1/(n + j)

and the zero parts of :mod:`bayescluster.spec.families` (zinb: :math:`\log(\pi + (1-\pi)p_0)`
at zero; hurdle: :math:`\log\pi` at zero, :math:`\log(1-\pi) + \log\mathrm{NB2} -
\log(1 - p_0)` above; :math:`\pi = \mathrm{logit}^{-1}\zeta`).

Why by hand: differentiating the same expression symbolically evaluates about ten
transcendental functions a row (``softplus`` and ``sigmoid`` of the same argument, ``Psi``
and ``GammaLn`` of :math:`y + n`, each through its own call); here a row costs one ``exp`` and
one ``log`` (one more of each at a zinb zero; :func:`_log1p`), and :math:`C_y, D_y` come
from one running sum over the counts up to the largest (``TABLE_ROWS`` per row at most),
shared by every row with that count. One op returns the log-likelihood and its partial
derivatives, so the gradient is a product, not a second pass. It is the log-density of every
model whose base distribution is NB2, under each zero structure;
``tests/model/test_families.py`` checks it against scipy's log-pmf and its derivatives.
"""

import math
from collections.abc import Sequence
from importlib.util import find_spec

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

CODES = {"none": 0, "zi": 1, "hurdle": 2}  # a zero structure's code
TABLE_ROWS = 4  # the count table runs to max(y) while that is below 4 x rows + 64


@numba.njit(cache=True)
def digamma(x: float) -> float:
    r""":math:`\psi(x)`, :math:`x > 0`: recurrence up to 6, then the asymptotic series.

    Parameters
    ----------
    x : float
        The argument, above 0.

    Returns
    -------
    float
        :math:`\psi(x) = \Gamma'(x)/\Gamma(x)`.
    """
    result = 0.0
    while x < 6.0:
        result -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (
        1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12.0))))))
    return result + math.log(x) - 0.5 * inv - series


@numba.njit(cache=True, inline="always")
def _log1p(x: float) -> float:
    r""":math:`\log(1 + x)`, :math:`x > -1`, to full precision through one ``log``.

    libm's ``log1p`` takes about twice as long. :math:`u = 1 + x` rounds; the factor
    :math:`x / (u - 1)` undoes the rounding (Higham, *Accuracy and Stability of Numerical
    Algorithms*, 2nd ed., problem 1.5).
    """
    u = 1.0 + x
    if u == 1.0:
        return x
    return math.log(u) * (x / (u - 1.0))


@numba.njit(cache=True, inline="always")
def _softplus(x: float) -> float:
    return max(x, 0.0) + _log1p(math.exp(-abs(x)))


@numba.njit(cache=True, inline="always")
def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    t = math.exp(x)
    return t / (1.0 + t)


@numba.njit(cache=True, inline="always")
def _count_tables(y, n):
    """:math:`C_k(n)` and :math:`D_k(n)` for k below min(max y + 1, TABLE_ROWS x rows + 64)."""
    y_max = 0.0
    for i in range(y.shape[0]):
        y_max = max(y_max, y[i])
    size = int(min(y_max + 1.0, TABLE_ROWS * y.shape[0] + 64.0))
    c_table = np.empty(size)
    d_table = np.empty(size)
    if size > 0:
        c_table[0] = 0.0
        d_table[0] = 0.0
    for k in range(1, size):
        c_table[k] = c_table[k - 1] + math.log(n + (k - 1))
        d_table[k] = d_table[k - 1] + 1.0 / (n + (k - 1))
    return c_table, d_table


@numba.njit(cache=True, inline="always")
def _zero_part(z: float):
    """Log pi, log(1 - pi), pi for the zero-part logit z."""
    return -_softplus(-z), -_softplus(z), _sigmoid(z)


@numba.njit(cache=True, inline="always")
def _row(yi, log_y_fact, eta, n, log_n, c_table, d_table, log_pz, log_pc, pi, code):
    """One row: (log-likelihood, d/d eta, d/d alpha, d/d zeta)."""
    d = eta - log_n
    t = math.exp(-abs(d))
    sp = max(d, 0.0) + _log1p(t)
    if d >= 0:
        s, oms = 1.0 / (1.0 + t), t / (1.0 + t)
    else:
        s, oms = t / (1.0 + t), 1.0 / (1.0 + t)
    log_p0 = -n * sp
    if code == 1 and yi == 0.0:
        b = log_pc + log_p0
        hi, lo = max(log_pz, b), min(log_pz, b)
        e = math.exp(lo - hi)
        lp = hi + _log1p(e)
        r = 1.0 / (1.0 + e) if b >= log_pz else e / (1.0 + e)  # P(count part | y = 0)
        return lp, -r * n * s, -n * n * r * (s - sp), (1.0 - pi) * (1.0 - r) - pi * r
    if code == 2 and yi == 0.0:
        return log_pz, 0.0, 0.0, 1.0 - pi
    k = int(yi) if yi < c_table.shape[0] else -1  # (a huge float does not fit an int)
    if k >= 0 and k == yi:
        c, dc = c_table[k], d_table[k]
    else:
        c = math.lgamma(yi + n) - math.lgamma(n)
        dc = digamma(yi + n) - digamma(n)
    lp = c - log_y_fact + log_p0 + yi * (d - sp)
    g_eta = yi * oms - n * s
    g_n = dc - sp + s - yi * oms / n
    g_zeta = 0.0
    if code != 0:
        lp += log_pc
        g_zeta = -pi
    if code == 2:
        x = n * sp  # -log p0
        lp -= math.log(-math.expm1(-x)) if x < math.log(2.0) else _log1p(-math.exp(-x))
        ratio = 1.0 / math.expm1(x)  # p0 / (1 - p0)
        g_eta -= ratio * n * s
        g_n += ratio * (s - sp)
    return lp, g_eta, -n * n * g_n, g_zeta


@numba.njit(cache=True)
def nb_rows(y: np.ndarray, log_y_fact: np.ndarray, eta: np.ndarray, alpha: np.ndarray,
            zeta: np.ndarray, code: int) -> np.ndarray:
    r"""(4, row): log-likelihood and its derivatives by eta, alpha and zeta.

    ``zeta`` has one value per row or one for all rows; ``alpha`` is a 0-d array.

    Parameters
    ----------
    y : ndarray
        (row,) counts, as floats.
    log_y_fact : ndarray
        (row,) :math:`\log y!`.
    eta : ndarray
        (row,) log mean :math:`\eta = \log\mu` of the count part.
    alpha : ndarray
        0-d: the NB2 dispersion :math:`\alpha`.
    zeta : ndarray
        (row,) or (1,): the zero part's logit of P(zero) (ignored where ``code`` is 0).
    code : int
        The zero structure's code in :data:`~bayescluster.model.kernel.CODES` (0 none, 1 zi, 2
        hurdle).

    Returns
    -------
    ndarray
        (4, row): each row's log-likelihood and its derivatives by :math:`\eta`,
        :math:`\alpha` and :math:`\zeta`.
    """
    n_rows = y.shape[0]
    out = np.empty((4, n_rows))
    n = 1.0 / alpha.item()
    log_n = math.log(n)
    c_table, d_table = _count_tables(y, n)
    shared_zeta = zeta.shape[0] == 1
    log_pz, log_pc, pi = _zero_part(zeta[0])
    for i in range(n_rows):
        if not shared_zeta:
            log_pz, log_pc, pi = _zero_part(zeta[i])
        out[0, i], out[1, i], out[2, i], out[3, i] = _row(
            y[i], log_y_fact[i], eta[i], n, log_n, c_table, d_table, log_pz, log_pc, pi, code)
    return out


@numba.njit(cache=True)
def nb_glm(y: np.ndarray, log_y_fact: np.ndarray, offset: np.ndarray, weight: np.ndarray,
           X: np.ndarray, row_cluster: np.ndarray, zcols: np.ndarray, base: np.ndarray,
           coef: np.ndarray, group: np.ndarray, alpha: np.ndarray, zeta: np.ndarray,
           code: int) -> tuple:
    r"""The weighted log-likelihood of a whole regression and its gradient, one pass over rows.

    :math:`\eta_i = b + o_i + x_i^\top\beta + \sum_e G_{c_i e} z_{ie}` with
    :math:`z_{ie} = x_{i,\mathrm{zcols}_e}` (1 where ``zcols[e] < 0``); returns
    :math:`\sum_i w_i \ell_i` and its derivatives by :math:`b`, :math:`\beta`, :math:`G`,
    :math:`\alpha` and :math:`\zeta`. ``base``, ``offset`` and ``zeta`` have one value per
    row or one for all rows.

    Parameters
    ----------
    y : ndarray
        (row,) counts, as floats.
    log_y_fact : ndarray
        (row,) :math:`\log y!`.
    offset : ndarray
        (row,) or (1,): the offset :math:`o_i` on the log scale.
    weight : ndarray
        (row,) each row's weight :math:`w_i` in the sum.
    X : ndarray
        (row, coef) fixed-effect columns.
    row_cluster : ndarray
        (row,) int64: each row's cluster :math:`c_i`.
    zcols : ndarray
        (effect,) int64: the column of ``X`` each varying effect multiplies, -1 for the
        intercept.
    base : ndarray
        (row,) or (1,): the intercept :math:`b`.
    coef : ndarray
        (coef,) the slopes :math:`\beta`.
    group : ndarray
        (cluster, effect) the group effects :math:`G`.
    alpha : ndarray
        0-d: the NB2 dispersion :math:`\alpha`.
    zeta : ndarray
        (row,) or (1,): the zero part's logit of P(zero) (ignored where ``code`` is 0).
    code : int
        The zero structure's code in :data:`~bayescluster.model.kernel.CODES` (0 none, 1 zi, 2
        hurdle).

    Returns
    -------
    tuple
        ``(total, d_base, d_coef, d_group, d_alpha, d_zeta)``: the weighted log-likelihood
        (float) and its derivatives, each the shape of its input (``d_alpha`` a float).
    """
    n_rows, n_coef = X.shape
    n_effect = zcols.shape[0]
    n = 1.0 / alpha.item()
    log_n = math.log(n)
    c_table, d_table = _count_tables(y, n)
    g_base, g_coef, g_group = np.zeros(base.shape), np.zeros(n_coef), np.zeros(group.shape)
    g_zeta = np.zeros(zeta.shape)
    shared_zeta, shared_base, shared_offset = (zeta.shape[0] == 1, base.shape[0] == 1,
                                               offset.shape[0] == 1)
    log_pz, log_pc, pi = _zero_part(zeta[0])
    total = g_alpha = 0.0
    for i in range(n_rows):
        c = row_cluster[i]
        eta = (base[0] if shared_base else base[i]) + (offset[0] if shared_offset else offset[i])
        for j in range(n_coef):
            eta += X[i, j] * coef[j]
        for e in range(n_effect):
            eta += group[c, e] * (1.0 if zcols[e] < 0 else X[i, zcols[e]])
        if not shared_zeta:
            log_pz, log_pc, pi = _zero_part(zeta[i])
        lp, ge, ga, gz = _row(y[i], log_y_fact[i], eta, n, log_n, c_table, d_table, log_pz,
                              log_pc, pi, code)
        w = weight[i]
        total += w * lp
        g_alpha += w * ga
        ge *= w
        g_base[0 if shared_base else i] += ge
        g_zeta[0 if shared_zeta else i] += w * gz
        for j in range(n_coef):
            g_coef[j] += ge * X[i, j]
        for e in range(n_effect):
            g_group[c, e] += ge * (1.0 if zcols[e] < 0 else X[i, zcols[e]])
    return total, g_base, g_coef, g_group, g_alpha, g_zeta


def _value_cotangent(op, cotangents):
    """The cotangent of an op's first output (its log-likelihood), None if disconnected.

    The other outputs are its derivatives, which have no derivatives of their own here.
    """
    if any(not isinstance(c.type, DisconnectedType) for c in cotangents[1:]):
        raise NotImplementedError(f"{type(op).__name__}: only the log-likelihood has a "
                                  "gradient")
    g = cotangents[0]
    return None if isinstance(g.type, DisconnectedType) else g


class NBRows(Op):
    """``(y, log y!, eta, alpha, zeta) -> (logp, d/d eta, d/d alpha, d/d zeta)`` per row.

    ``zeta`` has one value per row, or static shape (1,): one zero-part logit for all rows.
    """

    __props__ = ("zero",)
    gufunc_signature = "(n),(n),(n),(),(m)->(n),(n),(n),(n)"

    def __init__(self, zero: str):
        self.zero = zero
        super().__init__()

    def make_node(self, y, log_y_fact, eta, alpha, zeta):
        inputs = [pt.as_tensor_variable(v).astype("float64")
                  for v in (y, log_y_fact, eta, alpha, zeta)]
        outputs = [pt.tensor(dtype="float64", shape=inputs[2].type.shape) for _ in range(4)]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        y, log_y_fact, eta, alpha, zeta = inputs
        out = nb_rows(y, log_y_fact, eta, np.asarray(alpha), zeta, CODES[self.zero])
        for k in range(4):
            output_storage[k][0] = out[k]

    def infer_shape(self, node, shapes):
        return [shapes[2]] * 4

    def connection_pattern(self, node):
        return [[False] * 4, [False] * 4, [True, False, False, False],
                [True, False, False, False], [True, False, False, False]]

    def pullback(self, inputs, outputs, cotangents):
        _, _, eta, alpha, zeta = inputs
        g = _value_cotangent(self, cotangents)
        if g is None:
            return [disconnected_type() for _ in inputs]
        g_zeta = g * outputs[3]
        if zeta.type.shape[0] == 1 and eta.type.shape[0] != 1:
            g_zeta = g_zeta.sum(keepdims=True)
        return [disconnected_type(), disconnected_type(), g * outputs[1],
                (g * outputs[2]).sum(), g_zeta]


def row_logp(zero: str, y: pt.TensorVariable, eta: pt.TensorVariable,
             alpha: pt.TensorVariable, zeta: pt.TensorVariable | None = None
             ) -> pt.TensorVariable:
    r"""Per-row log-likelihood of NB2 under a zero structure (``"none"``, ``"zi"``, ``"hurdle"``).

    In pytensor; ``zeta`` is the zero part's logit (None without a zero part).

    Parameters
    ----------
    zero : str
        The zero structure: ``"none"``, ``"zi"`` or ``"hurdle"``.
    y : TensorVariable
        (row,) counts, as floats (shared data in the model).
    eta : TensorVariable
        (row,) log mean :math:`\eta = \log\mu` of the count part.
    alpha : TensorVariable
        The NB2 dispersion :math:`\alpha` (scalar).
    zeta : TensorVariable or None
        The zero part's logit of P(zero), (row,) or a scalar for every row; None without a
        zero part.

    Returns
    -------
    TensorVariable
        (row,) log-likelihoods; the gradient by ``eta``, ``alpha`` and ``zeta`` comes from
        the same kernel call.
    """
    y = pt.as_tensor_variable(y)
    zeta = pt.zeros((1,)) if zeta is None else pt.atleast_1d(zeta)
    return NBRows(zero)(y, pt.gammaln(y + 1.0), eta, alpha, zeta)[0]


class NBGLM(Op):
    """A whole regression's weighted log-likelihood and its derivatives (:func:`nb_glm`).

    ``(y, log y!, offset, weight, X, row_cluster, base, coef, group, alpha, zeta) ->
    (sum_i w_i l_i, its derivatives by base, coef, group, alpha, zeta)``.
    Varying effect ``e`` multiplies column ``zcols[e]`` of ``X`` (the intercept where -1).
    The data inputs (the first six) have no gradient: ``X`` must not depend on parameters.
    """

    __props__ = ("zero", "zcols")

    def __init__(self, zero: str, zcols: tuple[int, ...]):
        self.zero = zero
        self.zcols = tuple(int(k) for k in zcols)
        super().__init__()

    def make_node(self, y, log_y_fact, offset, weight, X, row_cluster, base, coef, group,
                  alpha, zeta):
        data = [pt.as_tensor_variable(v).astype("float64")
                for v in (y, log_y_fact, offset, weight, X)]
        params = [pt.as_tensor_variable(v).astype("float64")
                  for v in (base, coef, group, alpha, zeta)]
        inputs = [*data, pt.as_tensor_variable(row_cluster).astype("int64"), *params]
        outputs = [pt.dscalar()] + [v.type() for v in params]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        *data, row_cluster, base, coef, group, alpha, zeta = inputs
        out = nb_glm(*data, row_cluster, np.array(self.zcols, dtype=np.int64), base, coef,
                     group, np.asarray(alpha), zeta, CODES[self.zero])
        for k, value in enumerate(out):
            output_storage[k][0] = np.asarray(value, dtype="float64")

    def infer_shape(self, node, shapes):
        return [(), *shapes[6:]]

    def connection_pattern(self, node):
        return [[False] * 6] * 6 + [[True] + [False] * 5] * 5

    def pullback(self, inputs, outputs, cotangents):
        g = _value_cotangent(self, cotangents)
        if g is None:
            return [disconnected_type() for _ in inputs]
        return [disconnected_type() for _ in range(6)] + [g * d for d in outputs[1:]]


def glm_logp(zero: str, y: pt.TensorVariable | np.ndarray,
             weight: pt.TensorVariable | np.ndarray, X: np.ndarray,
             row_cluster: np.ndarray | None, zcols: Sequence[int], base: pt.TensorVariable,
             coef: pt.TensorVariable | None, group: pt.TensorVariable | None,
             alpha: pt.TensorVariable, zeta: pt.TensorVariable | None = None,
             offset: np.ndarray | None = None) -> pt.TensorVariable:
    r""":math:`\sum_i w_i \log p(y_i \mid \eta_i)` of an NB2 regression under a zero structure.

    With :math:`\eta_i = b + o_i + x_i^\top\beta + \sum_e G_{c_i e} z_{ie}` (pytensor; the
    value and gradient of :func:`nb_glm`). ``X`` (row, coef), ``row_cluster`` and
    ``offset`` are numpy data; ``y`` and ``weight`` may be shared data; ``base`` a scalar or
    one per row; ``group`` (cluster, effect) multiplies columns ``zcols``.

    Parameters
    ----------
    zero : str
        The zero structure: ``"none"``, ``"zi"`` or ``"hurdle"``.
    y : TensorVariable or ndarray
        (row,) counts, as floats.
    weight : TensorVariable or ndarray
        (row,) each row's weight :math:`w_i` (0 leaves a row out).
    X : ndarray
        (row, coef) fixed-effect columns, data (a graph raises TypeError).
    row_cluster : ndarray or None
        (row,) each row's cluster index; None, like ``zcols``, when ``group`` is None.
    zcols : sequence of int
        (effect,) the column of ``X`` each varying effect multiplies, -1 for the intercept.
    base : TensorVariable
        The intercept :math:`b`, a scalar or (row,).
    coef : TensorVariable or None
        (coef,) the slopes :math:`\beta`; None without fixed-effect columns.
    group : TensorVariable or None
        (cluster, effect) the group effects :math:`G`; None without varying effects.
    alpha : TensorVariable
        The NB2 dispersion :math:`\alpha` (scalar).
    zeta : TensorVariable or None
        The zero part's logit of P(zero), (row,) or a scalar; None without a zero part.
    offset : ndarray or None
        (row,) the offset :math:`o_i` on the log scale; None for none.

    Returns
    -------
    TensorVariable
        Scalar: :math:`\sum_i w_i \log p(y_i \mid \eta_i)`.

    Raises
    ------
    TypeError
        When ``X`` is a graph rather than data.
    """
    if not isinstance(X, np.ndarray):
        raise TypeError("glm_logp: X must be data (a numpy array), not a graph")
    y = pt.as_tensor_variable(y)
    n_rows = X.shape[0]
    offset = np.zeros(1) if offset is None else np.asarray(offset, dtype="float64")
    zeta = pt.zeros((1,)) if zeta is None else pt.atleast_1d(zeta)
    if group is None:
        group, zcols, row_cluster = pt.zeros((1, 0)), (), np.zeros(n_rows, dtype=np.int64)
    op = NBGLM(zero, zcols)
    return op(y, pt.gammaln(y + 1.0), offset, weight, X, row_cluster, pt.atleast_1d(base),
              coef if coef is not None else pt.zeros(0), group, alpha, zeta)[0]


@register_funcify_default_op_cache_key(NBRows)
def _numba_nb_rows(op, node, **kwargs):
    code = CODES[op.zero]

    @numba.njit
    def nb_rows_op(y, log_y_fact, eta, alpha, zeta):
        out = nb_rows(y, log_y_fact, eta, alpha, zeta, code)
        return out[0], out[1], out[2], out[3]

    return nb_rows_op, 1


@register_funcify_default_op_cache_key(NBGLM)
def _numba_nb_glm(op, node, **kwargs):
    code = CODES[op.zero]
    zcols = np.array(op.zcols, dtype=np.int64)

    @numba.njit
    def nb_glm_op(y, log_y_fact, offset, weight, X, row_cluster, base, coef, group, alpha,
                  zeta):
        total, g_base, g_coef, g_group, g_alpha, g_zeta = nb_glm(
            y, log_y_fact, offset, weight, X, row_cluster, zcols, base, coef, group, alpha,
            zeta, code)
        return np.asarray(total), g_base, g_coef, g_group, np.asarray(g_alpha), g_zeta

    return nb_glm_op, 1


def _register_jax():
    from pytensor.link.jax.dispatch import jax_funcify

    def logp(code, y, log_y_fact, eta, alpha, zeta):
        import jax
        import jax.numpy as jnp
        from jax.scipy.special import gammaln

        n = 1.0 / alpha
        sp = jax.nn.softplus(eta - jnp.log(n))
        nb = gammaln(y + n) - gammaln(n) - log_y_fact - n * sp + y * (eta - jnp.log(n) - sp)
        if code == 0:
            return nb
        log_pz, log_pc = -jax.nn.softplus(-zeta), -jax.nn.softplus(zeta)
        if code == 1:
            return jnp.where(y == 0, jnp.logaddexp(log_pz, log_pc - n * sp), log_pc + nb)
        return jnp.where(y == 0, log_pz, log_pc + nb - jnp.log(-jnp.expm1(-n * sp)))

    @jax_funcify.register(NBRows)
    def _jax_nb_rows(op, **kwargs):
        import jax
        import jax.numpy as jnp

        code = CODES[op.zero]

        def nb_rows_op(y, log_y_fact, eta, alpha, zeta):
            # a row depends only on its own eta and zeta: one forward pass per input
            zeta = jnp.broadcast_to(zeta, eta.shape)
            value, g_eta = jax.jvp(lambda e: logp(code, y, log_y_fact, e, alpha, zeta),
                                   (eta,), (jnp.ones_like(eta),))
            _, g_alpha = jax.jvp(lambda a: logp(code, y, log_y_fact, eta, a, zeta), (alpha,),
                                 (jnp.ones_like(alpha),))
            _, g_zeta = jax.jvp(lambda z: logp(code, y, log_y_fact, eta, alpha, z), (zeta,),
                                (jnp.ones_like(zeta),))
            return value, g_eta, g_alpha, g_zeta

        return nb_rows_op

    @jax_funcify.register(NBGLM)
    def _jax_nb_glm(op, **kwargs):
        import jax
        import jax.numpy as jnp

        code = CODES[op.zero]
        zcols = np.array(op.zcols, dtype=np.int64)

        def nb_glm_op(y, log_y_fact, offset, weight, X, row_cluster, base, coef, group,
                      alpha, zeta):
            def total(base, coef, group, alpha, zeta):
                Z = jnp.where(zcols < 0, 1.0, X[:, jnp.maximum(zcols, 0)])
                eta = base + offset + X @ coef + (group[row_cluster] * Z).sum(axis=1)
                return (weight * logp(code, y, log_y_fact, eta, alpha, zeta)).sum()

            value, grads = jax.value_and_grad(total, argnums=(0, 1, 2, 3, 4))(
                base, coef, group, alpha, zeta)
            return (value, *grads)

        return nb_glm_op


if find_spec("jax") is not None:  # the optional ``jax`` extra
    _register_jax()
