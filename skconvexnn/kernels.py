"""The kernel view of the gated ReLU program (Dwaraknath, Ergen & Pilanci 2023).

With the squared loss, the gated program over patterns ``D_j = diag(1[X g_j >= 0])`` is
multiple kernel learning over the kernels ``K_j = D_j X X^T D_j``: with weights
``eta >= 0`` on them, ``K_eta = sum_j eta_j K_j`` and

    J(eta) = alpha/2 [ y^T (K_eta + alpha W^-1)^-1 y + sum_j eta_j ]

(``W`` the loss's weights: ``sample_weight / sum(sample_weight) / n_outputs``), the
program's optimum is ``min_{eta >= 0} J(eta)``, reached at ``eta_j = ||u_j||``. For fixed
weights the network is kernel ridge regression with the kernel

    k_eta(x, x') = sum_j eta_j 1[g_j . x >= 0] 1[g_j . x' >= 0] x . x',

here :class:`GatedReLUKernel` (``x`` with a trailing 1 when ``fit_intercept``). The
neural tangent kernel (NTK) of the gated network ``f(x) = m^-1/2 sum_j v_j 1[g_j . x >=
0] x . w_j`` with respect to its first-layer weights, ``v_j = +-1``, is the same kernel
with the target-independent weights ``eta_j = 1 / m`` (:func:`ntk_weights`). (The
gradient in the output weights ``v_j`` adds ``m^-1 sum_j 1[.] 1[.] (w_j . x)(w_j . x')``,
which depends on the random first layer and is no kernel of the patterns alone; the
correspondence with the convex program, whose variables are the first-layer weights of
each pattern, is the first-layer kernel, which is what this module implements.) As the
number ``m`` of gates, drawn isotropically, grows it tends to the arc-cosine kernel
``x . x' (pi - arccos cos(x, x')) / (2 pi)`` (:class:`ArcCosineNTK`). So on the
training set the NTK's objective can never be below the optimal weights' (the
fitted network's): :func:`mkl_objective` evaluates both, and :func:`reweight` runs the
seed paper's iteration ``eta_j <- eta_j ||X^T D_j beta||`` from one to the other.

The kernels are :class:`sklearn.gaussian_process.kernels.Kernel` objects without
hyperparameters, so ``GaussianProcessRegressor(kernel=...)`` takes them (with a
``WhiteKernel`` or ``alpha`` for the noise) and, being callables of ``(X, Y)``,
``SVC(kernel=...)`` and ``KernelRidge(kernel=...)`` too.
"""

import numpy as np
from scipy import sparse
from sklearn.gaussian_process.kernels import Kernel
from sklearn.utils.validation import check_array

from .losses import make_loss
from .patterns import add_intercept_column
from .solvers.reweighting import _OutputKernel

__all__ = ["ArcCosineNTK", "GatedReLUKernel", "mkl_objective", "ntk_weights", "reweight"]


def _rows(X, fit_intercept):
    """``X`` as dense float64 rows, with a trailing 1 when ``fit_intercept``."""
    X = check_array(X, accept_sparse="csr", dtype=np.float64)
    if sparse.issparse(X):
        X = X.toarray()
    return add_intercept_column(X) if fit_intercept else X


class _FixedKernel(Kernel):
    """A kernel without hyperparameters: its gradient has no columns."""

    def _with_gradient(self, K, eval_gradient):
        if eval_gradient:
            return K, np.empty(K.shape + (0,))
        return K

    def is_stationary(self):
        return False

    def __eq__(self, other):
        if type(self) is not type(other):
            return False
        mine, theirs = self.get_params(), other.get_params()
        return all(np.array_equal(np.asarray(mine[key]), np.asarray(theirs[key]))
                   for key in mine)

    def __hash__(self):  # equality compares arrays; hash by type only
        return hash(type(self))


class GatedReLUKernel(_FixedKernel):
    r"""The kernel of a gated ReLU network with fixed gates and kernel weights.

    .. math::

        k(x, x') = \sum_j \eta_j \, 1[g_j \cdot \tilde x \ge 0] \,
                   1[g_j \cdot \tilde x' \ge 0] \; \tilde x \cdot \tilde x',

    with ``x~ = (x, 1)`` when ``fit_intercept`` (else ``x``). With ``weights=None``
    (``eta_j = 1 / m`` for ``m`` gates) it is the gated network's neural tangent kernel;
    a fitted :class:`~skconvexnn.GatedReLURegressor`'s ``kernels_`` hold the optimal
    weights of its program, with which kernel ridge regression is the network.

    Parameters
    ----------
    gates : array-like of shape (n_features + fit_intercept, n_gates)
        Gate vectors, in the coordinates of ``x~`` (as a fitted estimator's ``gates_``).
    weights : array-like of shape (n_gates,), default=None
        Non-negative kernel weights ``eta``; ``None`` for the NTK's ``1 / n_gates``.
    fit_intercept : bool, default=True
        Whether inputs get a trailing 1 (the gates' and the inner product's intercept).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.kernel_ridge import KernelRidge
    >>> from skconvexnn.kernels import GatedReLUKernel
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3))
    >>> kernel = GatedReLUKernel(rng.standard_normal((4, 200)))
    >>> K = kernel(X)
    >>> bool(np.allclose(K, K.T) and np.linalg.eigvalsh(K).min() > -1e-10)
    True
    >>> KernelRidge(kernel=kernel).fit(X, X[:, 0] ** 2).predict(X[:2]).shape
    (2,)
    """

    def __init__(self, gates, weights=None, fit_intercept=True):
        self.gates = gates
        self.weights = weights
        self.fit_intercept = fit_intercept

    def _checked(self):
        gates = check_array(self.gates, dtype=np.float64)
        if self.weights is None:
            weights = ntk_weights(gates)
        else:
            weights = np.asarray(self.weights, dtype=np.float64)
            if weights.shape != (gates.shape[1],):
                raise ValueError(f"weights has shape {weights.shape}; it needs one weight "
                                 f"per gate, shape ({gates.shape[1]},).")
            if not np.all(np.isfinite(weights)) or np.any(weights < 0):
                raise ValueError("weights must be finite and non-negative.")
        return gates, weights

    def _patterns(self, X, gates):
        rows = _rows(X, self.fit_intercept)
        if rows.shape[1] != gates.shape[0]:
            raise ValueError(
                f"X has {rows.shape[1] - bool(self.fit_intercept)} features, but the gates "
                f"are for {gates.shape[0] - bool(self.fit_intercept)} (fit_intercept="
                f"{self.fit_intercept}).")
        return rows, (rows @ gates >= 0).astype(np.float64)

    def __call__(self, X, Y=None, eval_gradient=False):
        """The kernel matrix ``k(X, Y)`` (``Y=None``: ``k(X, X)``); with
        ``eval_gradient`` also its gradient in the (no) hyperparameters."""
        if eval_gradient and Y is not None:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        gates, weights = self._checked()
        rows_x, masks_x = self._patterns(X, gates)
        if Y is None:
            rows_y, masks_y = rows_x, masks_x
        else:
            rows_y, masks_y = self._patterns(Y, gates)
        K = (rows_x @ rows_y.T) * ((masks_x * weights) @ masks_y.T)
        return self._with_gradient(K, eval_gradient)

    def diag(self, X):
        """``k(x, x)`` for every row: ``||x~||^2`` times the weight of its gates."""
        gates, weights = self._checked()
        rows, masks = self._patterns(X, gates)
        return np.einsum("nd,nd->n", rows, rows) * (masks @ weights)


class ArcCosineNTK(_FixedKernel):
    r"""The gated ReLU network's neural tangent kernel with infinitely many gates.

    .. math::

        k(x, x') = \tilde x \cdot \tilde x' \;
                   \frac{\pi - \arccos\big(\cos(\tilde x, \tilde x')\big)}{2 \pi},

    the limit of :class:`GatedReLUKernel` with ``weights=None`` when its ``m`` gates are
    drawn from an isotropic distribution in the coordinates of ``x~`` (the probability
    that a random hyperplane through 0 leaves ``x~`` and ``x~'`` on its positive side).
    The estimators sample gates that are standard normal in standardized feature
    coordinates, so standardize ``X`` for the two to match.

    Parameters
    ----------
    fit_intercept : bool, default=True
        Whether inputs get a trailing 1 before the kernel is taken.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn.kernels import ArcCosineNTK
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> ArcCosineNTK(fit_intercept=False)(X).round(3).tolist()
    [[0.5, 0.0, 0.375], [0.0, 0.5, 0.375], [0.375, 0.375, 1.0]]
    """

    def __init__(self, fit_intercept=True):
        self.fit_intercept = fit_intercept

    def __call__(self, X, Y=None, eval_gradient=False):
        """The kernel matrix ``k(X, Y)``; see :class:`GatedReLUKernel`."""
        if eval_gradient and Y is not None:
            raise ValueError("Gradient can only be evaluated when Y is None.")
        rows_x = _rows(X, self.fit_intercept)
        rows_y = rows_x if Y is None else _rows(Y, self.fit_intercept)
        if rows_x.shape[1] != rows_y.shape[1]:
            raise ValueError(f"X and Y have {rows_x.shape[1]} and {rows_y.shape[1]} "
                             "columns: they need the same features.")
        inner = rows_x @ rows_y.T
        norms = np.outer(np.linalg.norm(rows_x, axis=1), np.linalg.norm(rows_y, axis=1))
        with np.errstate(invalid="ignore", divide="ignore"):
            cosine = np.where(norms > 0, inner / norms, 1.0)
        K = inner * (np.pi - np.arccos(np.clip(cosine, -1.0, 1.0))) / (2 * np.pi)
        if Y is None:
            # Exactly symmetric, and the diagonal exact: arccos is ill-conditioned at
            # a cosine of 1, where rounding would cost half the digits.
            K = (K + K.T) / 2
            K.flat[::len(K) + 1] = np.einsum("nd,nd->n", rows_x, rows_x) / 2
        return self._with_gradient(K, eval_gradient)

    def diag(self, X):
        """``k(x, x) = ||x~||^2 / 2``."""
        rows = _rows(X, self.fit_intercept)
        return np.einsum("nd,nd->n", rows, rows) / 2


def ntk_weights(gates):
    """The neural tangent kernel's weights of a gated network: ``1 / m`` per gate.

    Parameters
    ----------
    gates : ndarray of shape (n_features, n_gates)

    Returns
    -------
    ndarray of shape (n_gates,)
        Summed over gates with one pattern on the data, each pattern's share of the
        gates.
    """
    n_gates = np.shape(gates)[1]
    return np.full(n_gates, 1.0 / n_gates)


def _output_kernels(X, y, gates, alpha, fit_intercept, sample_weight):
    """One :class:`~skconvexnn.solvers.reweighting._OutputKernel` per column of ``y``,
    in the squared-error loss's scaling, and the patterns of ``gates`` on ``X``."""
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha!r}.")
    rows = _rows(X, fit_intercept)
    gates = check_array(gates, dtype=np.float64)
    if gates.shape[0] != rows.shape[1]:
        raise ValueError(f"gates has {gates.shape[0]} rows; X (with fit_intercept="
                         f"{fit_intercept}) has {rows.shape[1]} columns.")
    Y = check_array(y, ensure_2d=False, dtype=np.float64)
    Y = Y.reshape(len(Y), -1)
    if len(Y) != len(rows):
        raise ValueError(f"X has {len(rows)} rows but y has {len(Y)}.")
    loss = make_loss("squared_error", Y, sample_weight)
    root_weights = np.sqrt(loss.weights / loss.n_outputs)
    mask = rows @ gates >= 0
    gram = rows @ rows.T
    return [_OutputKernel(rows, gram, mask, root_weights, Y[:, k], alpha)
            for k in range(Y.shape[1])]


def _weights_per_output(weights, n_gates, n_outputs):
    weights = np.asarray(weights, dtype=np.float64)
    if weights.ndim == 1:
        weights = np.repeat(weights[:, None], n_outputs, axis=1)
    if weights.shape != (n_gates, n_outputs):
        raise ValueError(f"weights has shape {weights.shape}; it needs ({n_gates},) or "
                         f"({n_gates}, {n_outputs}).")
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError("weights must be finite and non-negative.")
    return weights


def mkl_objective(X, y, gates, weights, alpha, *, fit_intercept=True, sample_weight=None):
    """The multiple-kernel objective ``J(eta)`` of kernel weights on a gated program.

    ``J(eta) = alpha/2 sum_k [y_k^T (K_eta + alpha W^-1)^-1 y_k + sum_j eta_jk]``: kernel
    ridge regression's objective with the kernel :class:`GatedReLUKernel` ``(gates,
    eta_k)`` per output. It is at least the optimum of the gated program
    (:func:`~skconvexnn.solve_gated_relu` with ``loss="squared_error"``) over the same
    gates, and equal to it at the optimal weights (``eta_j = ||u_j||``).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
    gates : array-like of shape (n_features + fit_intercept, n_gates)
    weights : array-like of shape (n_gates,) or (n_gates, n_outputs)
        Kernel weights ``eta >= 0`` (one column for every output, or one per output).
    alpha : float
        The program's regularization strength (of the squared error
        ``sum_i w_i (f_i - y_i)^2 / (2 n_outputs)``, ``w`` the normalized weights).
    fit_intercept : bool, default=True
    sample_weight : array-like of shape (n_samples,), default=None

    Returns
    -------
    float
    """
    kernels = _output_kernels(X, y, gates, alpha, fit_intercept, sample_weight)
    weights = _weights_per_output(weights, np.shape(gates)[1], len(kernels))
    return float(sum(kernel.evaluate(weights[:, k]).objective
                     for k, kernel in enumerate(kernels)))


def reweight(X, y, gates, alpha, *, weights=None, n_steps=10, fit_intercept=True,
             sample_weight=None):
    """The seed paper's iterative reweighting from the NTK to the optimal kernel.

    Each step solves kernel ridge regression with the current weights,
    ``beta = (K_eta + alpha W^-1)^-1 y``, and multiplies every weight by
    ``s_j = ||X~^T D_j beta||`` (the new ``eta_j`` is the network's ``||u_j||``). The
    objective :func:`mkl_objective` never increases along the way and tends to the
    gated program's optimum, sublinearly (``solver="reweighting"`` of the estimators
    takes Newton steps instead).

    Parameters
    ----------
    X, y, gates, alpha, fit_intercept, sample_weight
        As :func:`mkl_objective`.
    weights : array-like of shape (n_gates,) or (n_gates, n_outputs), default=None
        Where to start; ``None`` for the NTK's (:func:`ntk_weights`).
    n_steps : int, default=10

    Returns
    -------
    weights : ndarray of shape (n_steps + 1, n_gates, n_outputs)
        The weights before every step and after the last.
    objectives : ndarray of shape (n_steps + 1,)
        ``J`` at each of them.
    """
    kernels = _output_kernels(X, y, gates, alpha, fit_intercept, sample_weight)
    start = ntk_weights(gates) if weights is None else weights
    eta = _weights_per_output(start, np.shape(gates)[1], len(kernels))
    history, objectives = [eta.copy()], []
    points = [kernel.evaluate(eta[:, k]) for k, kernel in enumerate(kernels)]
    objectives.append(sum(point.objective for point in points))
    for _ in range(int(n_steps)):
        points = [kernel.evaluate(point.eta * point.scores)
                  for kernel, point in zip(kernels, points)]
        history.append(np.column_stack([point.eta for point in points]))
        objectives.append(sum(point.objective for point in points))
    return np.array(history), np.array(objectives)
