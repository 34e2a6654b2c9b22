"""Numba kernels for the masked products of the gated ReLU model.

The model output is ``F[:, k] = sum_j D_j X U[:, j, k]``. The solvers work on a set of
``m`` columns (a working set) ordered by output, so that the columns of output ``k``
are ``starts[k]:starts[k + 1]``, with their pattern columns gathered once into a
``n x m`` 0/1 matrix ``M``. Then one dense product ``Z = X @ U`` (BLAS, ``n x d x m``)
does the heavy work and :func:`masked_rowsum` folds ``Z`` into ``F``; the adjoint
``G[:, w] = X^T D_j R[:, k]`` is the product ``X^T @ B`` with ``B`` built by
:func:`masked_broadcast`. Both kernels read each of the ``n x m`` entries once, in
memory order, with no branch and no Python loop over patterns.
"""

import numpy as np
from numba import njit


#: Let the compiler reorder the sums (SIMD); NaN and inf keep their meaning.
_REASSOCIATE = {"reassoc", "contract"}


@njit(cache=True, nogil=True, fastmath=_REASSOCIATE)
def masked_rowsum(Z, M, starts, F):
    """``F[i, k] = sum_{w in block k} M[i, w] * Z[i, w]``.

    Parameters
    ----------
    Z : ndarray of shape (n, m)
        ``X @ U`` for the ``m`` columns in play.
    M : ndarray of shape (n, m), uint8
        Their activation patterns.
    starts : ndarray of shape (c + 1,), int64
        Columns of output ``k`` are ``starts[k]:starts[k + 1]``.
    F : ndarray of shape (n, c)
        Output, overwritten.
    """
    n = Z.shape[0]
    c = starts.shape[0] - 1
    for i in range(n):
        for k in range(c):
            acc = Z.dtype.type(0)
            for w in range(starts[k], starts[k + 1]):
                acc += M[i, w] * Z[i, w]
            F[i, k] = acc


@njit(cache=True, nogil=True)
def masked_broadcast(R, M, starts, B):
    """``B[i, w] = M[i, w] * R[i, k]`` for the columns ``w`` of output block ``k``.

    ``X^T @ B`` is then the adjoint ``X^T D_j R[:, k]`` of every column in play.
    """
    n = B.shape[0]
    c = starts.shape[0] - 1
    for i in range(n):
        for k in range(c):
            r = R[i, k]
            for w in range(starts[k], starts[k + 1]):
                B[i, w] = M[i, w] * r


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
