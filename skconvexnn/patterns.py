"""Gates and activation patterns.

A gate ``g`` (a vector in the space of the solver's input rows, bias coordinate
included when the model has an intercept) defines the activation pattern
``D = diag(1[X g >= 0])``. The convex programs need each distinct, non-zero pattern
once; :func:`activation_patterns` computes the patterns of a set of gates and the
de-duplication in compiled code (:mod:`skconvexnn._core._patterns`).
"""

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state

from ._core import _patterns
from ._parallel import RowWorkers

#: Rows per block when patterns are computed: bounds the ``block x P`` score buffer.
PATTERN_BLOCK_ROWS = 8192


def add_intercept_column(X):
    """Append a column of ones (the intercept coordinate) to dense or sparse ``X``."""
    ones = np.ones((X.shape[0], 1), dtype=X.dtype)
    if sparse.issparse(X):
        return sparse.hstack([X, ones], format="csr", dtype=X.dtype)
    return np.hstack([X, ones])


def _weighted_mean_std(X, sample_weight):
    if sparse.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        mean, var = mean_variance_axis(
            sparse.csr_matrix(X, dtype=np.float64), axis=0, weights=sample_weight
        )
    else:
        X64 = np.asarray(X, dtype=np.float64)
        mean = np.average(X64, axis=0, weights=sample_weight)
        var = np.average((X64 - mean) ** 2, axis=0, weights=sample_weight)
    std = np.sqrt(var)
    std[~(std > 1e-12 * np.maximum(1.0, np.abs(mean)))] = 1.0
    return mean, std


def sample_gates(X, n_gates, *, fit_intercept=True, sample_weight=None,
                 random_state=None):
    """Draw ``n_gates`` gates, standard normal in standardized feature coordinates.

    Each gate is a hyperplane ``z . (x - mean) / std + b = 0`` with ``z ~ N(0, I_d)``
    and, when ``fit_intercept``, ``b ~ N(0, 1)``; ``mean`` and ``std`` are the (weighted)
    column statistics of ``X``. It is returned expressed in the coordinates of ``X``
    itself: ``g = [z / std, b - mean . (z / std)]`` (or ``z / std`` without intercept),
    so that ``X_aug @ g`` is the gate's score and patterns, weights and predictions all
    live in the input space. The patterns therefore do not change when the features are
    shifted or rescaled: fitting raw or standardized data gives the same patterns for the
    same ``random_state``. Without an intercept the hyperplanes pass through the origin
    and only the scale is used.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    n_gates : int
    fit_intercept : bool, default=True
    sample_weight : ndarray of shape (n_samples,), default=None
    random_state : int, RandomState instance or None

    Returns
    -------
    gates : ndarray of shape (n_features + fit_intercept, n_gates), float64
    """
    rng = check_random_state(random_state)
    n_features = X.shape[1]
    Z = rng.standard_normal((n_features + int(fit_intercept), n_gates))
    mean, std = _weighted_mean_std(X, sample_weight)
    gates = np.empty_like(Z)
    gates[:n_features] = Z[:n_features] / std[:, None]
    if fit_intercept:
        gates[n_features] = Z[n_features] - mean @ gates[:n_features]
    return gates


def activation_patterns(X, gates, *, strict=False, workers=None):
    """Distinct, non-zero activation patterns of ``gates`` on ``X``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Rows as the solver sees them (intercept column included when there is one).
    gates : ndarray of shape (n_features, n_gates)
    strict : bool, default=False
        ``False``: ``1[X g >= 0]`` (Pilanci & Ergen). ``True``: ``1[X g > 0]`` (scnn).
    workers : RowWorkers, default=None
        Threads for the row blocks (one when None).

    Returns
    -------
    mask : ndarray of shape (n_samples, n_patterns), uint8, C-contiguous
        The distinct non-zero patterns, in gate order.
    keep : ndarray of shape (n_patterns,), int64
        For each pattern, the index of the first gate that produced it.
    """
    n_samples = X.shape[0]
    n_gates = gates.shape[1]
    gates = np.ascontiguousarray(gates, dtype=np.float64)
    mask = np.zeros((n_samples, n_gates), dtype=np.uint8)
    packed = np.zeros((n_gates, _patterns.n_words(n_samples)), dtype=np.uint64)
    workers = RowWorkers(1) if workers is None else workers

    def work(start, stop, slot):
        # Blocks start at multiples of 64 rows, so no two share a packed word.
        scores = np.ascontiguousarray(X[start:stop] @ gates, dtype=np.float64)
        _patterns.pack_sign_block(scores, start, bool(strict), mask, packed)

    workers.run([(start, min(start + PATTERN_BLOCK_ROWS, n_samples))
                 for start in range(0, n_samples, PATTERN_BLOCK_ROWS)], work)
    keep = _patterns.unique_columns(packed)
    return np.ascontiguousarray(mask[:, keep]), keep


def robust_gates(X_aug, gates, eps, *, n_perturbed):
    """Gates whose patterns an ``eps``-robust unit can keep, for the robust programs.

    A unit ``u`` keeps its pattern on every training point's l_inf ball of radius
    ``eps`` only if no training point lies within ``eps ||u^f||_1`` of its hyperplane.
    For each gate (direction ``g^f`` on the first ``n_perturbed`` coordinates, bias last)
    this moves the bias to the middle of the gap of width ``>= 2 eps`` in the projected
    values ``x . g^f / ||g^f||_1`` nearest to the gate's own threshold, so the gate
    itself is a feasible unit of its pattern; gates without such a gap are dropped.
    The coordinate directions ``+-e_i`` (robustified the same way) and the constant
    gate (the pattern of all rows) are added: the most robust directions and the
    linear unit.

    Parameters
    ----------
    X_aug : ndarray of shape (n_samples, n_perturbed + 1)
        Rows with the intercept column last.
    gates : ndarray of shape (n_perturbed + 1, n_gates)
    eps : float
        ``> 0``.
    n_perturbed : int

    Returns
    -------
    ndarray of shape (n_perturbed + 1, n_kept)
    """
    m = int(n_perturbed)
    X_aug = X_aug.toarray() if sparse.issparse(X_aug) else np.asarray(X_aug)
    features = np.asarray(X_aug[:, :m], dtype=np.float64)
    axes = np.hstack([np.eye(m + 1)[:, :m], -np.eye(m + 1)[:, :m]])
    candidates = np.hstack([gates, axes])
    kept = []
    for g in candidates.T:
        scale = np.abs(g[:m]).sum()
        if scale == 0:
            continue
        values = np.sort(features @ g[:m] / scale)
        threshold = -g[m] / scale
        gaps = np.flatnonzero(np.diff(values) >= 2 * eps)
        if len(gaps) == 0:
            continue
        middles = 0.5 * (values[gaps] + values[gaps + 1])
        best = middles[np.argmin(np.abs(middles - threshold))]
        robust = g.copy()
        robust[m] = -best * scale
        kept.append(robust)
    constant = np.zeros(m + 1)
    constant[m] = 1.0
    kept.append(constant)
    return np.column_stack(kept)
