"""Numba kernels for the masked products of the gated ReLU model.

The model output is ``F[:, k] = sum_j D_j X U[:, j, k]``. With the weights of the
columns in play stacked as ``U`` of shape ``(d, m)`` — column ``w`` belongs to pattern
``col_pattern[w]`` and output ``col_output[w]`` — one dense product ``Z = X @ U``
(BLAS, ``n x d x m``) does the heavy work, and :func:`masked_forward` folds ``Z`` into
``F`` by masking and summing over patterns. The adjoint ``G[:, w] = X^T D_j R[:, k]`` is
the product ``X^T @ B`` with ``B`` built by :func:`masked_adjoint_operand`. Both
kernels touch each of the ``n x m`` entries once; there is no Python loop over
patterns.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def masked_forward(Z, mask, col_pattern, col_output, F):
    """Accumulate ``F[i, col_output[w]] += mask[i, col_pattern[w]] * Z[i, w]``.

    Parameters
    ----------
    Z : ndarray of shape (n, m)
        ``X @ U`` for the ``m`` columns in play.
    mask : ndarray of shape (n, P), uint8
        Activation patterns.
    col_pattern, col_output : ndarray of shape (m,), int64
        Pattern and output index of each column.
    F : ndarray of shape (n, c)
        Output, overwritten.
    """
    n, m = Z.shape
    F[:, :] = 0
    for i in range(n):
        for w in range(m):
            if mask[i, col_pattern[w]]:
                F[i, col_output[w]] += Z[i, w]


@njit(cache=True, nogil=True)
def masked_adjoint_operand(R, mask, col_pattern, col_output, B):
    """Fill ``B[i, w] = mask[i, col_pattern[w]] * R[i, col_output[w]]``.

    ``X^T @ B`` is then the adjoint ``(X^T D_j R[:, k])`` for every column.
    """
    n, m = B.shape
    for i in range(n):
        for w in range(m):
            if mask[i, col_pattern[w]]:
                B[i, w] = R[i, col_output[w]]
            else:
                B[i, w] = 0


@njit(cache=True, nogil=True)
def group_norms(U):
    """Euclidean norm of every column of ``U`` (one group per column), in float64."""
    d, m = U.shape
    out = np.zeros(m)
    for r in range(d):
        for w in range(m):
            out[w] += np.float64(U[r, w]) * np.float64(U[r, w])
    return np.sqrt(out)


@njit(cache=True, nogil=True)
def group_soft_threshold(V, threshold, out):
    """Prox of ``threshold * sum_w ||V[:, w]||``: shrink every column towards zero.

    ``out[:, w] = V[:, w] * max(0, 1 - threshold / ||V[:, w]||)``. Returns the norms of
    the result's columns (float64), which the objective needs next.
    """
    d, m = V.shape
    norms = group_norms(V)
    scale = np.zeros(m)
    for w in range(m):
        if norms[w] > threshold:
            scale[w] = 1.0 - threshold / norms[w]
            norms[w] = norms[w] - threshold
        else:
            norms[w] = 0.0
    for r in range(d):
        for w in range(m):
            out[r, w] = V[r, w] * scale[w]
    return norms
