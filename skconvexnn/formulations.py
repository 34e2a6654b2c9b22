"""The linear operators of the convex formulations.

Gated ReLU (Mishkin, Sahiner & Pilanci 2022) is a group lasso on the expanded design
``A = [D_1 X, ..., D_P X]``, one group per (pattern, output) pair. The weights are held
as ``U`` of shape ``(d, P * c)``: column ``g = j * c + k`` is the weight vector of
pattern ``j`` for output ``k``. Solvers work on a subset of the columns (a working
set), so every product takes the list of columns in play.
"""

import numpy as np
from scipy import sparse

#: Upper bound on the entries of one ``block x m`` temporary in :meth:`adjoint`.
ADJOINT_BLOCK_ENTRIES = 1 << 22


class GatedReLUDesign:
    """The operator ``U -> F``, ``F[:, k] = sum_j D_j X U[:, j * c + k]``, and its adjoint.

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

    def columns(self, groups):
        """Pattern and output index of each group in ``groups``."""
        groups = np.asarray(groups, dtype=np.int64)
        return groups // self.n_outputs, groups % self.n_outputs

    def forward(self, U, groups, dtype=None):
        """Model output ``F`` (n, c) of the weights ``U`` (d, len(groups)).

        ``dtype`` (default: the data's) is the precision of the products; the
        certificate of a float32 fit asks for float64.
        """
        dtype = self.dtype if dtype is None else dtype
        col_pattern, col_output = self.columns(groups)
        F = np.empty((self.n_samples, self.n_outputs), dtype=dtype)
        if len(col_pattern) == 0:
            F[...] = 0
            return F
        Z = np.ascontiguousarray(self.X @ np.asarray(U, dtype=dtype), dtype=dtype)
        self.kernels.masked_forward(Z, self.mask, col_pattern, col_output, F)
        return F

    def adjoint(self, R, groups, dtype=None):
        """``G[:, w] = X^T D_j R[:, k]`` for every group ``w`` in ``groups``; shape (d, m).

        Rows are processed in blocks so the ``n x m`` operand never exists whole when
        ``m`` is large (the full-gradient check of the working-set solver). ``dtype`` as
        in :meth:`forward`.
        """
        dtype = self.dtype if dtype is None else dtype
        col_pattern, col_output = self.columns(groups)
        m = len(col_pattern)
        G = np.zeros((self.n_features, m), dtype=dtype)
        if m == 0:
            return G
        R = np.ascontiguousarray(R, dtype=dtype)
        block = max(1, ADJOINT_BLOCK_ENTRIES // m)
        if block >= self.n_samples:
            B = np.empty((self.n_samples, m), dtype=dtype)
            self.kernels.masked_adjoint_operand(R, self.mask, col_pattern, col_output, B)
            return np.asarray(self.X.T @ B, dtype=dtype)
        B = np.empty((block, m), dtype=dtype)
        for start in range(0, self.n_samples, block):
            stop = min(start + block, self.n_samples)
            Bb = B[: stop - start]
            self.kernels.masked_adjoint_operand(
                R[start:stop], self.mask[start:stop], col_pattern, col_output, Bb
            )
            G += self.X[start:stop].T @ Bb
        return G

    def squared_norm_estimate(self, groups, weights, n_iter=15, random_state=0):
        """Estimate ``||A_W||^2`` in the ``weights``-weighted norm by power iteration.

        Returns ``lambda_max(A_W^T diag(weights) A_W)`` for the columns in ``groups``,
        inflated by 5% to stay an upper bound despite the few iterations.
        """
        rng = np.random.default_rng(random_state)
        V = rng.standard_normal((self.n_features, len(groups))).astype(self.dtype)
        estimate = 0.0
        for _ in range(n_iter):
            norm = np.linalg.norm(V)
            if norm == 0:
                return 0.0
            V /= norm
            F = self.forward(V, groups)
            F *= weights[:, None]
            V = self.adjoint(F, groups)
            estimate = float(np.vdot(V.astype(np.float64), V) ** 0.5)
        return 1.05 * estimate


def as_solver_matrix(X):
    """Dense arrays stay as they are (C order); sparse input becomes CSR."""
    if sparse.issparse(X):
        return sparse.csr_matrix(X)
    return np.ascontiguousarray(X)
