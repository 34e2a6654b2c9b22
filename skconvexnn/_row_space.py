"""Wide tables solved in the row space of ``X``: ``n`` coordinates instead of ``d``.

The group-lasso programs see a block of weights ``u`` only through ``X u`` (the fit,
and for the ReLU program its cone constraints) and through ``||u||_2``. Write
``X = R B`` with ``B`` (``r x d``, ``r <= min(n, d)``) orthonormal rows spanning the
row space of ``X`` and ``R = X B^T`` (``n x r``). A block's part outside that space
changes no product and only adds to its norm, so every optimum has ``u = B^T z``, and
the program on ``X`` is the program on ``R`` in the weights ``z``: the same objective,
dual, patterns and cones. When ``d > n`` the programs solve it there, at ``r / d`` of
the cost of every product, and return ``B^T z``.

:func:`row_space` computes the factorization once per array (a thin SVD, ``O(n^2 d)``)
and keeps it while the array lives and is unchanged, so that the solves of a path
share it.
"""

import weakref
import zlib

import numpy as np
import scipy.linalg
from scipy import sparse

_CACHE = {}


class RowSpace:
    """``X = R B``: ``B`` orthonormal rows spanning the row space of ``X``, ``R = X B^T``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_columns)

    Attributes
    ----------
    basis : ndarray of shape (rank, n_columns), float64
        ``B``; singular directions below ``max(n, d) * eps`` of the largest are dropped
        (numerically outside the row space).
    rows : ndarray of shape (n_samples, rank)
        ``R``, in the dtype of ``X``.
    """

    def __init__(self, X):
        dense = X.toarray() if sparse.issparse(X) else X
        left, singular, basis = scipy.linalg.svd(np.asarray(dense, dtype=np.float64),
                                                 full_matrices=False, check_finite=False)
        eps = np.finfo(np.float64).eps
        keep = singular > (singular[0] * max(X.shape) * eps if singular.size else 0.0)
        self.basis = np.ascontiguousarray(basis[keep])
        self.rows = np.ascontiguousarray(left[:, keep] * singular[keep], dtype=X.dtype)

    def reduce(self, weights):
        """``B w`` along the features axis (``-3``) of weights ``(..., d, P, c)``."""
        return np.moveaxis(np.tensordot(self.basis, weights, axes=([1], [-3])), 0, -3)

    def expand(self, weights):
        """``B^T z`` along the features axis (``-3``) of weights ``(..., r, P, c)``."""
        return np.moveaxis(np.tensordot(self.basis.T, weights, axes=([1], [-3])), 0, -3)


def _fingerprint(X):
    if sparse.issparse(X):
        X = X.tocsr()
        parts = (X.data, X.indices, X.indptr)
    else:
        parts = (X,)
    checksum = 0
    for part in parts:
        checksum = zlib.crc32(memoryview(np.ascontiguousarray(part)).cast("B"), checksum)
    return X.shape, X.dtype.str, checksum


def row_space(X):
    """The :class:`RowSpace` of ``X``, computed once while ``X`` lives unchanged."""
    key, fingerprint = id(X), _fingerprint(X)
    entry = _CACHE.get(key)
    if entry is not None and entry[0] == fingerprint:
        return entry[1]
    space = RowSpace(X)
    if key not in _CACHE:
        weakref.finalize(X, _CACHE.pop, key, None)
    _CACHE[key] = (fingerprint, space)
    return space
