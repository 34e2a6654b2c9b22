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
    """Weighted column means and standard deviations of ``X`` (std 1 where constant)."""
    if sparse.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        mean, var = mean_variance_axis(
            sparse.csr_matrix(X, dtype=np.float64), axis=0, weights=sample_weight
        )
    else:
        X64 = np.asarray(X, dtype=np.float64)
        mean = np.average(X64, axis=0, weights=sample_weight)
        var = np.average((X64 - mean) ** 2, axis=0, weights=sample_weight)
    return mean, gate_scales(mean, var)


def gate_scales(mean, variance):
    """The standard deviations the gates are drawn in: ``sqrt(variance)``, and 1 for a
    column that is constant up to rounding."""
    std = np.sqrt(np.asarray(variance, dtype=np.float64))
    std[~(std > 1e-12 * np.maximum(1.0, np.abs(mean)))] = 1.0
    return std


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
    mean, std = _weighted_mean_std(X, sample_weight)
    return gates_from_moments(mean, std, n_gates, fit_intercept=fit_intercept,
                              random_state=random_state)


def gates_from_moments(mean, std, n_gates, *, fit_intercept=True, random_state=None):
    """The gates of :func:`sample_gates` from the column statistics of ``X`` alone
    (its weighted ``mean`` and ``std``, with ``1`` for a constant column), as a fit
    whose rows are not all in one place (:mod:`skconvexnn.distributed`) computes them.

    Returns
    -------
    gates : ndarray of shape (n_features + fit_intercept, n_gates), float64
    """
    rng = check_random_state(random_state)
    n_features = len(mean)
    Z = rng.standard_normal((n_features + int(fit_intercept), n_gates))
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
    gates = np.ascontiguousarray(gates, dtype=np.float64)
    return patterns_of_scores(lambda start, stop: X[start:stop] @ gates, X.shape[0],
                              gates.shape[1], strict=strict, workers=workers)


def patterns_of_scores(scores, n_samples, n_columns, *, strict=False, workers=None):
    """Distinct, non-zero patterns ``1[S >= 0]`` of a score matrix ``S`` computed by
    blocks of rows, so that no ``n_samples x n_columns`` float array is ever held.

    Parameters
    ----------
    scores : callable
        ``scores(start, stop)``: the rows ``start:stop`` of ``S``, shape
        ``(stop - start, n_columns)``.
    n_samples, n_columns : int
        The shape of ``S``.
    strict : bool, default=False
        ``1[S > 0]`` instead.
    workers : RowWorkers, default=None

    Returns
    -------
    mask, keep
        As :func:`activation_patterns` returns them, ``keep`` indexing the columns of
        ``S``.
    """
    mask = np.zeros((n_samples, n_columns), dtype=np.uint8)
    packed = np.zeros((n_columns, _patterns.n_words(n_samples)), dtype=np.uint64)
    workers = RowWorkers(1) if workers is None else workers

    def work(start, stop, slot):
        # Blocks start at multiples of 64 rows, so no two share a packed word.
        block = np.ascontiguousarray(scores(start, stop), dtype=np.float64)
        _patterns.pack_sign_block(block, start, bool(strict), mask, packed)

    workers.run([(start, min(start + PATTERN_BLOCK_ROWS, n_samples))
                 for start in range(0, n_samples, PATTERN_BLOCK_ROWS)], work)
    keep = _patterns.unique_columns(packed)
    return np.ascontiguousarray(mask[:, keep]), keep


# --- three layers -------------------------------------------------------------------
#
# A three-layer gated or ReLU network's patterns come from a fixed random *gate
# network* of two layers: first-layer gates ``G`` (the columns ``g_i``, in the
# coordinates of the solver's rows, as for two layers) and second-layer gates ``A``
# (``n_first x n_second``, standard normal) acting on the first layer's ReLU features:
# the first-layer pattern ``i`` is ``1[X g_i >= 0]``, the second-layer pattern ``l`` is
# ``1[(X G)_+ a_l >= 0]``, the sign pattern of a two-layer ReLU network on those very
# first-layer units.


def sample_second_layer_gates(n_first, n_second, random_state=None):
    """Second-layer gates ``A`` of a gate network, shape (n_first, n_second), standard
    normal (:func:`second_layer_scores` says what they gate)."""
    return check_random_state(random_state).standard_normal((n_first, n_second))


def second_layer_scores(X, gates, second_gates):
    """``(X G)_+ A``: the second-layer pre-activations of the gate network on the rows
    ``X``, shape (n_samples, n_second). Its signs are the second-layer patterns."""
    first = np.asarray(X @ gates, dtype=np.float64)
    np.maximum(first, 0.0, out=first)
    return first @ second_gates


def composite_scores(X, gates, second_gates):
    """Scores whose signs are the products of the gate network's patterns,
    ``1[X g_i >= 0] * 1[(X G)_+ a_l >= 0]`` (the minimum of the two pre-activations is
    non-negative exactly when both are), in column ``l * n_first + i``; shape
    (n_samples, n_second * n_first)."""
    first = np.asarray(X @ gates, dtype=np.float64)
    second = np.maximum(first, 0.0) @ second_gates
    n = first.shape[0]
    return np.minimum(second[:, :, None], first[:, None, :]).reshape(n, -1)


def composite_patterns(X, gates, second_gates, *, strict=False, workers=None):
    """Distinct non-zero products of first- and second-layer patterns of a gate network
    (:func:`composite_scores`), the patterns of a three-layer gated network.

    Returns
    -------
    mask : ndarray of shape (n_samples, n_patterns), uint8
    keep : ndarray of shape (n_patterns,), int64
        For each pattern, the first pair ``l * n_first + i`` that produced it.
    """
    gates = np.ascontiguousarray(gates, dtype=np.float64)
    second_gates = np.ascontiguousarray(second_gates, dtype=np.float64)
    return patterns_of_scores(
        lambda start, stop: composite_scores(X[start:stop], gates, second_gates),
        X.shape[0], gates.shape[1] * second_gates.shape[1], strict=strict, workers=workers)


def second_layer_patterns(X, gates, second_gates, *, strict=False, workers=None):
    """Distinct non-zero second-layer patterns of a gate network on ``X``
    (:func:`second_layer_scores`); ``keep`` indexes the columns of ``second_gates``."""
    gates = np.ascontiguousarray(gates, dtype=np.float64)
    second_gates = np.ascontiguousarray(second_gates, dtype=np.float64)
    return patterns_of_scores(
        lambda start, stop: second_layer_scores(X[start:stop], gates, second_gates),
        X.shape[0], second_gates.shape[1], strict=strict, workers=workers)


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
