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


def activation_patterns(X, gates, *, strict=False):
    """Distinct, non-zero activation patterns of ``gates`` on ``X``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Rows as the solver sees them (intercept column included when there is one).
    gates : ndarray of shape (n_features, n_gates)
    strict : bool, default=False
        ``False``: ``1[X g >= 0]`` (Pilanci & Ergen). ``True``: ``1[X g > 0]`` (scnn).

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
    for start in range(0, n_samples, PATTERN_BLOCK_ROWS):
        block = X[start:start + PATTERN_BLOCK_ROWS]
        scores = np.ascontiguousarray(block @ gates, dtype=np.float64)
        _patterns.pack_sign_block(scores, start, bool(strict), mask, packed)
    keep = _patterns.unique_columns(packed)
    return np.ascontiguousarray(mask[:, keep]), keep
