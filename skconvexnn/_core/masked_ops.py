"""Numba kernels for the masked products of the gated ReLU model.

The model output is ``F[:, k] = sum_j D_j X U[:, j, k]``. The solvers work on a set of
``m`` columns (a working set) ordered by output, so that the columns of output ``k``
are ``starts[k]:starts[k + 1]``; they read their patterns from the ``n x P`` 0/1 mask
directly, as runs of consecutive mask columns
(:func:`skconvexnn.formulations.column_runs`), so no ``n x m``
copy of the mask is made and the inner loops stay contiguous. Then one dense product
``Z = X @ U`` (BLAS, ``n x d x m``) does the heavy work and :func:`masked_rowsum`
folds ``Z`` into ``F``; the adjoint
``G[:, w] = X^T D_j R[:, k]`` is the product ``X^T @ B`` with ``B`` built by
:func:`masked_broadcast`. Both kernels read each of the ``n x m`` entries once, in
memory order, with no branch and no Python loop over patterns. The solvers call them
on blocks of rows (:mod:`skconvexnn._parallel`).
"""

import numpy as np
from numba import njit


#: Let the compiler reorder the sums (SIMD); NaN and inf keep their meaning.
_REASSOCIATE = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_REASSOCIATE)
def masked_rowsum(Z, mask, runs, run_starts, F):
    """``F[i, k] = sum_{w in output k} mask[i, pattern(w)] * Z[i, w]``.

    Parameters
    ----------
    Z : ndarray of shape (n, m)
        ``X @ U`` for the ``m`` columns in play.
    mask : ndarray of shape (n, P), uint8
        All the activation patterns, one per column.
    runs, run_starts : ndarray of int64
        The columns in play and their patterns, from
        :func:`skconvexnn.formulations.column_runs`.
    F : ndarray of shape (n, c)
        Output, overwritten.
    """
    n = Z.shape[0]
    c = run_starts.shape[0] - 1
    for i in range(n):
        for k in range(c):
            acc = Z.dtype.type(0)
            for r in range(run_starts[k], run_starts[k + 1]):
                offset = runs[r, 2] - runs[r, 0]
                # Contiguous in both arrays: the compiler vectorizes this loop.
                for w in range(runs[r, 0], runs[r, 1]):
                    acc += mask[i, offset + w] * Z[i, w]
            F[i, k] = acc


@njit(cache=True, nogil=True)
def masked_broadcast(R, mask, runs, run_starts, B):
    """``B[i, w] = mask[i, pattern(w)] * R[i, k]`` for the columns ``w`` of output ``k``.

    ``X^T @ B`` is then the adjoint ``X^T D_j R[:, k]`` of every column in play.
    """
    n = B.shape[0]
    c = run_starts.shape[0] - 1
    for i in range(n):
        for k in range(c):
            value = R[i, k]
            for r in range(run_starts[k], run_starts[k + 1]):
                offset = runs[r, 2] - runs[r, 0]
                for w in range(runs[r, 0], runs[r, 1]):
                    B[i, w] = mask[i, offset + w] * value


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
