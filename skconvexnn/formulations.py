"""The linear operators of the convex formulations.

Gated ReLU (Mishkin, Sahiner & Pilanci 2022) is a group lasso on the expanded design
``A = [D_1 X, ..., D_P X]``, one group per (pattern, output) pair. The weights are held
as ``U`` of shape ``(d, c * P)``: column ``g = k * P + j`` is the weight vector of
pattern ``j`` for output ``k`` (output-major, so a sorted list of groups keeps each
output's columns together). Solvers work on a subset of the columns (a working set)
through :meth:`GatedReLUDesign.restrict`.
"""

import numpy as np
from scipy import sparse

#: Upper bound on the entries of one ``block x P`` temporary in :meth:`full_adjoint`.
ADJOINT_BLOCK_ENTRIES = 1 << 22


class GatedReLUDesign:
    """The gated design ``A``: ``F[:, k] = sum_j D_j X U[:, k * P + j]``.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        Rows as the solver sees them (intercept column included when there is one).
    mask : ndarray of shape (n_samples, n_patterns), uint8
        Activation patterns ``D_j`` as columns.
    n_outputs : int
        Number of model outputs ``c``.
    kernels : namespace
        Masked-product kernels from :func:`skconvexnn.backends.get_backend`.
    """

    def __init__(self, X, mask, n_outputs, kernels):
        self.X = X
        self.mask = mask
        self.n_outputs = int(n_outputs)
        self.kernels = kernels
        self.n_samples, self.n_features = X.shape
        self.n_patterns = mask.shape[1]
        self.n_groups = self.n_patterns * self.n_outputs
        self.dtype = X.dtype

    def astype(self, dtype):
        """The same operator on a copy of ``X`` in ``dtype`` (float32 -> float64 polish)."""
        return GatedReLUDesign(self.X.astype(dtype), self.mask, self.n_outputs, self.kernels)

    def restrict(self, groups):
        """The operator on the columns ``groups`` (sorted increasingly)."""
        return RestrictedGatedDesign(self, groups)

    def full_adjoint(self, R, dtype=None):
        """``A^T R`` for every group, shape (d, c * P), in ``dtype`` (default: the data's).

        Rows are processed in blocks so that no ``n x P`` temporary exists whole; a
        float32 fit asks for float64 here to compute its certificate.
        """
        dtype = self.dtype if dtype is None else dtype
        P = self.n_patterns
        G = np.zeros((self.n_features, self.n_groups), dtype=dtype)
        if P == 0:
            return G
        R = np.ascontiguousarray(R, dtype=dtype)
        block = max(1, ADJOINT_BLOCK_ENTRIES // P)
        B = np.empty((min(block, self.n_samples), P), dtype=dtype)
        one_block = np.array([0, P], dtype=np.int64)
        for start in range(0, self.n_samples, block):
            stop = min(start + block, self.n_samples)
            Xt = self.X[start:stop].T
            for k in range(self.n_outputs):
                Bb = B[: stop - start]
                self.kernels.masked_broadcast(R[start:stop, k:k + 1], self.mask[start:stop],
                                              one_block, Bb)
                G[:, k * P:(k + 1) * P] += Xt @ Bb
        return G


class RestrictedGatedDesign:
    """The gated design on a sorted set of columns, with their patterns gathered.

    ``forward`` and ``adjoint`` cost one dense product each (``n x d x m``) plus one
    pass over the gathered ``n x m`` mask.
    """

    def __init__(self, design, groups):
        groups = np.asarray(groups, dtype=np.int64)
        P = design.n_patterns
        self.design = design
        self.groups = groups
        self.X = design.X
        self.kernels = design.kernels
        self.dtype = design.dtype
        self.n_samples, self.n_features = design.n_samples, design.n_features
        self.n_outputs = design.n_outputs
        self.mask = np.ascontiguousarray(design.mask[:, groups % P])
        self.starts = np.searchsorted(groups // P, np.arange(self.n_outputs + 1)).astype(
            np.int64)

    def __len__(self):
        return len(self.groups)

    def forward(self, U, dtype=None):
        """Model output ``F`` (n, c) of the weights ``U`` (d, m) of these columns."""
        dtype = self.dtype if dtype is None else dtype
        F = np.zeros((self.n_samples, self.n_outputs), dtype=dtype)
        if len(self.groups) == 0:
            return F
        Z = np.ascontiguousarray(self.X @ np.asarray(U, dtype=dtype), dtype=dtype)
        self.kernels.masked_rowsum(Z, self.mask, self.starts, F)
        return F

    def adjoint(self, R, dtype=None):
        """``G[:, w] = X^T D_j R[:, k]`` for every column ``w`` = (j, k); shape (d, m)."""
        dtype = self.dtype if dtype is None else dtype
        if len(self.groups) == 0:
            return np.zeros((self.n_features, 0), dtype=dtype)
        B = np.empty((self.n_samples, len(self.groups)), dtype=dtype)
        self.kernels.masked_broadcast(np.ascontiguousarray(R, dtype=dtype), self.mask,
                                      self.starts, B)
        return np.asarray(self.X.T @ B, dtype=dtype)

    def squared_norm_estimate(self, weights, n_iter=15, random_state=0):
        """``lambda_max(A_W^T diag(weights) A_W)`` by power iteration, inflated by 5%."""
        rng = np.random.default_rng(random_state)
        V = rng.standard_normal((self.n_features, len(self.groups))).astype(self.dtype)
        estimate = 0.0
        for _ in range(n_iter):
            norm = np.linalg.norm(V)
            if norm == 0:
                return 0.0
            V /= norm
            F = self.forward(V)
            F *= weights[:, None]
            V = self.adjoint(F)
            estimate = float(np.linalg.norm(V))
        return 1.05 * estimate


def as_solver_matrix(X):
    """Dense arrays stay as they are (C order); sparse input becomes CSR."""
    if sparse.issparse(X):
        return sparse.csr_matrix(X)
    return np.ascontiguousarray(X)


class ReLUDesign:
    """The design of the cone-constrained ReLU program (Pilanci & Ergen 2020).

    ``F[:, k] = sum_j D_j X (v_jk - w_jk)``: every pattern gives two groups per output, a
    positive one (``v``, a hidden unit with output weight ``+sqrt||v||``) and a negative
    one (``w``). Column ``g = k * 2P + s * P + j`` of ``U`` holds ``v_jk`` (``s = 0``) or
    ``w_jk`` (``s = 1``), so the columns of an output stay together when sorted. It is
    the gated design on the doubled patterns ``[D, D]`` with a sign per column.

    Parameters
    ----------
    X, mask, n_outputs, kernels
        As for :class:`GatedReLUDesign`.
    """

    def __init__(self, X, mask, n_outputs, kernels):
        self.patterns = mask
        self.gated = GatedReLUDesign(X, np.hstack([mask, mask]), n_outputs, kernels)
        self.X = X
        self.kernels = kernels
        self.n_outputs = int(n_outputs)
        self.n_samples, self.n_features = X.shape
        self.n_patterns = mask.shape[1]
        self.n_groups = self.gated.n_groups
        self.dtype = X.dtype
        within = np.arange(self.n_groups) % (2 * self.n_patterns)
        self.group_sign = np.where(within < self.n_patterns, 1.0, -1.0)
        self.group_pattern = (within % max(self.n_patterns, 1)).astype(np.int64)

    def astype(self, dtype):
        return ReLUDesign(self.X.astype(dtype), self.patterns, self.n_outputs, self.kernels)

    def restrict(self, groups):
        return SignedRestriction(self.gated.restrict(groups), self.group_sign[groups])

    def full_adjoint(self, R, dtype=None):
        G = self.gated.full_adjoint(R, dtype)
        G *= self.group_sign.astype(G.dtype)
        return G


class SignedRestriction:
    """A restricted gated design whose columns carry a sign (+v, -w)."""

    def __init__(self, restriction, signs):
        self.inner = restriction
        self.signs = signs
        self.groups = restriction.groups
        self.kernels = restriction.kernels
        self.dtype = restriction.dtype
        self.n_samples = restriction.n_samples
        self.n_features = restriction.n_features
        self.n_outputs = restriction.n_outputs

    def __len__(self):
        return len(self.inner)

    def forward(self, U, dtype=None):
        return self.inner.forward(U * self.signs, dtype)

    def adjoint(self, R, dtype=None):
        G = self.inner.adjoint(R, dtype)
        G *= self.signs.astype(G.dtype)
        return G

    def squared_norm_estimate(self, weights, n_iter=15, random_state=0):
        return self.inner.squared_norm_estimate(weights, n_iter, random_state)
