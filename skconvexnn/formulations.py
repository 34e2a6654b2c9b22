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

from ._parallel import RowWorkers


#: Largest ``n x m`` float copy of the masks a restricted design keeps (the GEMM-only
#: products); above it the products read the byte mask in row blocks.
FLOAT_MASK_BYTES = 256 * 2**20
#: Columns whose patterns form runs shorter than this on average are gathered into a
#: byte mask of their own, when it fits in ``GATHERED_MASK_BYTES``.
SHORT_RUNS = 8
GATHERED_MASK_BYTES = 64 * 2**20
PATTERN_GATHER_ROWS = 8192



def column_runs(cols, starts):
    """The columns in play as runs of consecutive mask columns, output by output.

    Parameters
    ----------
    cols : ndarray of shape (m,), int
        The mask column (pattern) of each column in play.
    starts : ndarray of shape (c + 1,), int
        Columns of output ``k`` are ``starts[k]:starts[k + 1]``.

    Returns
    -------
    runs : ndarray of shape (r, 3), int64
        ``(first, stop, first_pattern)``: columns ``first:stop`` read the mask columns
        ``first_pattern : first_pattern + stop - first``.
    run_starts : ndarray of shape (c + 1,), int64
        Runs of output ``k`` are ``run_starts[k]:run_starts[k + 1]``.
    """
    cols = np.asarray(cols, dtype=np.int64)
    runs, run_starts = [], [0]
    for k in range(len(starts) - 1):
        lo, hi = int(starts[k]), int(starts[k + 1])
        if hi > lo:
            breaks = lo + 1 + np.flatnonzero(np.diff(cols[lo:hi]) != 1)
            firsts = np.concatenate([[lo], breaks])
            stops = np.concatenate([breaks, [hi]])
            runs.append(np.column_stack([firsts, stops, cols[firsts]]))
        run_starts.append(run_starts[-1] + (len(runs[-1]) if hi > lo else 0))
    runs = np.vstack(runs) if runs else np.zeros((0, 3), dtype=np.int64)
    return (np.ascontiguousarray(runs, dtype=np.int64),
            np.asarray(run_starts, dtype=np.int64))


class GatedReLUDesign:
    """The gated design ``A``: ``F[:, k] = sum_j D_j X U[:, k * P + j]``.

    Parameters
    ----------
    X : {ndarray, CSR matrix} of shape (n_samples, n_features)
        Rows as the solver sees them (intercept column included when there is one).
    mask : ndarray of shape (n_samples, n_masks), uint8
        Activation patterns as columns.
    n_outputs : int
        Number of model outputs ``c``.
    kernels : namespace
        Masked-product kernels from :func:`skconvexnn.backends.get_backend`.
    workers : RowWorkers, default=None
        Threads for the products (one when None).
    column_patterns : ndarray of shape (P,), int, default=None
        The mask column of each of the ``P`` columns per output; default
        ``arange(n_masks)``. (The ReLU design repeats every pattern twice.)
    """

    def __init__(self, X, mask, n_outputs, kernels, workers=None, column_patterns=None):
        self.X = X
        self.mask = mask
        self.n_outputs = int(n_outputs)
        self.kernels = kernels
        self.workers = RowWorkers(1) if workers is None else workers
        if column_patterns is None:
            column_patterns = np.arange(mask.shape[1])
        self.column_patterns = np.asarray(column_patterns, dtype=np.int64)
        self.n_samples, self.n_features = X.shape
        self.n_patterns = len(self.column_patterns)
        self.n_groups = self.n_patterns * self.n_outputs
        self.dtype = X.dtype
        self._float_patterns_cache = None

    def astype(self, dtype):
        """The same operator on a copy of ``X`` in ``dtype`` (float32 -> float64 polish)."""
        return GatedReLUDesign(self.X.astype(dtype), self.mask, self.n_outputs, self.kernels,
                               self.workers, self.column_patterns)

    def restrict(self, groups):
        """The operator on the columns ``groups`` (sorted increasingly)."""
        return RestrictedGatedDesign(self, groups)

    def full_adjoint(self, R, dtype=None):
        """``A^T R`` for every group, shape (d, c * P), in ``dtype`` (default: the data's).

        A float32 fit asks for float64 here to compute its certificate.
        """
        dtype = np.dtype(self.dtype if dtype is None else dtype)
        patterns = self._float_patterns(dtype)
        if patterns is None:
            return RestrictedGatedDesign(self, np.arange(self.n_groups),
                                         float_mask=False).adjoint(R, dtype)
        # G_k = (X * R[:, k])^T @ M for every output: GEMMs over the patterns, shared
        # by all outputs (and by both signs of the ReLU design), nothing n x cP.
        R = np.ascontiguousarray(R, dtype=dtype)
        n_masks = self.mask.shape[1]
        blocks = self.workers.blocks(self.n_samples, self.n_features,
                                     work_width=n_masks * self.n_outputs)
        partial = [np.zeros((self.n_outputs, self.n_features, n_masks), dtype=dtype)
                   for _ in range(self.workers.slots(len(blocks)))]

        def work(start, stop, slot):
            rows = self.X[start:stop]
            for k in range(self.n_outputs):
                partial[slot][k] += (rows * R[start:stop, k:k + 1]).T @ patterns[start:stop]

        self.workers.run(blocks, work)
        total = partial[0]
        for other in partial[1:]:
            total += other
        return np.ascontiguousarray(
            total[:, :, self.column_patterns].transpose(1, 0, 2).reshape(self.n_features, -1))

    def _float_patterns(self, dtype):
        """The ``n x n_masks`` patterns as floats of ``dtype`` (kept for the next
        certificate), or None where they would not fit in ``FLOAT_MASK_BYTES`` or ``X``
        is sparse."""
        if sparse.issparse(self.X) or self.n_samples * self.mask.shape[1] * dtype.itemsize \
                > FLOAT_MASK_BYTES:
            return None
        cached = self._float_patterns_cache
        if cached is None or cached.dtype != dtype:
            cached = self._float_patterns_cache = self.mask.astype(dtype)
        return cached


class RestrictedGatedDesign:
    """The gated design on a sorted set of columns.

    ``forward`` and ``adjoint`` run over blocks of rows on the design's
    :class:`~skconvexnn._parallel.RowWorkers`, in one of two ways:

    - **float mask** (one output, dense ``X``, when ``n x m`` entries of the data's
      dtype fit in ``FLOAT_MASK_BYTES``): the columns' patterns are gathered once into
      an ``n x m`` array ``M`` of the data's dtype, and both products become GEMMs
      with nothing else of size ``n x m``: ``F[:, k] = rowsum((M_k @ U_k^T) * X)`` and
      ``G_k = (X * R[:, k])^T @ M_k``. This is the fast path of the solvers' repeated
      products on a working set: the iteration costs its two GEMMs and ``O(n d)``.
    - **uint8 mask** (large ``n``, sparse ``X``, or another dtype than the data's): per
      block one GEMM ``Z = X @ U`` and one pass of :mod:`skconvexnn._core.masked_ops`
      over it, reading the patterns from the shared ``n x P`` byte mask, with
      ``block x m`` temporaries only.
    """

    def __init__(self, design, groups, float_mask=None):
        groups = np.asarray(groups, dtype=np.int64)
        P = design.n_patterns
        self.design = design
        self.groups = groups
        self.X = design.X
        self.mask = design.mask
        self.kernels = design.kernels
        self.workers = design.workers
        self.dtype = design.dtype
        self.n_samples, self.n_features = design.n_samples, design.n_features
        self.n_outputs = design.n_outputs
        self.starts = np.searchsorted(groups // P, np.arange(self.n_outputs + 1))
        patterns = design.column_patterns[groups % P]
        self.runs, self.run_starts = column_runs(patterns, self.starts)
        m = len(groups)
        if (len(self.runs) * SHORT_RUNS > m
                and self.n_samples * m <= GATHERED_MASK_BYTES):
            # Scattered columns make short runs, each with its own loop: gather their
            # patterns once into an n x m byte mask with one run per output.
            self.mask = np.empty((self.n_samples, m), dtype=np.uint8)
            for start in range(0, self.n_samples, PATTERN_GATHER_ROWS):
                self.mask[start:start + PATTERN_GATHER_ROWS] = (
                    design.mask[start:start + PATTERN_GATHER_ROWS][:, patterns])
            self.runs, self.run_starts = column_runs(np.arange(m), self.starts)
        # Row blocks bound the temporaries: block x m (byte mask) or block x d (float).
        self._byte_blocks = self.workers.blocks(self.n_samples, len(groups))
        self._float_blocks = self.workers.blocks(self.n_samples, self.n_features,
                                                 work_width=len(groups))
        self._buffers = {}
        if float_mask is None:
            # Several outputs make several smaller GEMMs: no faster than the byte mask.
            float_mask = (self.n_outputs == 1 and not sparse.issparse(self.X)
                          and len(groups) > 0 and
                          self.n_samples * len(groups) * self.dtype.itemsize
                          <= FLOAT_MASK_BYTES)
        self.float_mask = None
        if float_mask:
            self.float_mask = np.empty((self.n_samples, len(groups)), dtype=self.dtype)

            def gather(start, stop, slot):
                self.float_mask[start:stop] = design.mask[start:stop][:, patterns]

            self.workers.run(self._byte_blocks, gather)

    def __len__(self):
        return len(self.groups)

    def _buffer(self, name, slot, shape, dtype):
        """A per-thread scratch array, kept between calls (no page faults per product)."""
        key = (name, slot, np.dtype(dtype).char)
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] < shape[0]:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf[:shape[0]]

    def _rows(self, start, stop, dtype):
        rows = self.X[start:stop]
        return rows if rows.dtype == dtype else rows.astype(dtype)

    def forward(self, U, dtype=None):
        """Model output ``F`` (n, c) of the weights ``U`` (d, m) of these columns."""
        dtype = np.dtype(self.dtype if dtype is None else dtype)
        F = np.zeros((self.n_samples, self.n_outputs), dtype=dtype)
        m = len(self.groups)
        if m == 0:
            return F
        if self.float_mask is not None and dtype == self.dtype:
            self.workers.run(self._float_blocks, self._forward_float_mask(U, F))
            return F
        U = np.ascontiguousarray(U, dtype=dtype)
        dense = not sparse.issparse(self.X)

        def work(start, stop, slot):
            rows = self._rows(start, stop, dtype)
            if dense:
                Z = np.matmul(rows, U, out=self._buffer("Z", slot, (stop - start, m), dtype))
            else:
                Z = np.ascontiguousarray(rows @ U, dtype=dtype)
            self.kernels.masked_rowsum(Z, self.mask[start:stop], self.runs, self.run_starts,
                                       F[start:stop])

        self.workers.run(self._byte_blocks, work)
        return F

    def forward_from_products(self, XU):
        """:meth:`forward` of weights ``U`` given ``XU = X @ U`` (n, m): the masked sums
        only (a cone projection has made the product already)."""
        F = np.zeros((self.n_samples, self.n_outputs), dtype=self.dtype)
        if len(self.groups) == 0:
            return F
        XU = np.ascontiguousarray(XU, dtype=self.dtype)

        def work(start, stop, slot):
            self.kernels.masked_rowsum(XU[start:stop], self.mask[start:stop], self.runs,
                                       self.run_starts, F[start:stop])

        self.workers.run(self._byte_blocks, work)
        return F

    def adjoint(self, R, dtype=None):
        """``G[:, w] = X^T D_j R[:, k]`` for every column ``w`` = (j, k); shape (d, m)."""
        dtype = np.dtype(self.dtype if dtype is None else dtype)
        m = len(self.groups)
        use_float = self.float_mask is not None and dtype == self.dtype
        blocks = self._float_blocks if use_float else self._byte_blocks
        G = [np.zeros((self.n_features, m), dtype=dtype)
             for _ in range(self.workers.slots(len(blocks)))]
        if m == 0:
            return G[0]
        R = np.ascontiguousarray(R, dtype=dtype)
        work = self._adjoint_float_mask(R, G) if use_float else self._adjoint_byte_mask(
            R, G, dtype)
        self.workers.run(blocks, work)
        for partial in G[1:]:
            G[0] += partial
        return G[0]

    def _forward_float_mask(self, U, F):
        d = self.n_features
        Ut = np.ascontiguousarray(U.T, dtype=self.dtype)

        def work(start, stop, slot):
            rows = self.X[start:stop]
            H = self._buffer("H", slot, (stop - start, d), self.dtype)
            for k in range(self.n_outputs):
                lo, hi = self.starts[k], self.starts[k + 1]
                if hi > lo:
                    np.matmul(self.float_mask[start:stop, lo:hi], Ut[lo:hi], out=H)
                    F[start:stop, k] = np.einsum("ij,ij->i", H, rows)

        return work

    def _adjoint_float_mask(self, R, G):
        d = self.n_features

        def work(start, stop, slot):
            rows = self.X[start:stop]
            XR = self._buffer("XR", slot, (stop - start, d), self.dtype)
            out = self._buffer("G", slot, (d, len(self.groups)), self.dtype)
            for k in range(self.n_outputs):
                lo, hi = self.starts[k], self.starts[k + 1]
                if hi > lo:
                    np.multiply(rows, R[start:stop, k:k + 1], out=XR)
                    G[slot][:, lo:hi] += np.matmul(XR.T, self.float_mask[start:stop, lo:hi],
                                                   out=out[:, :hi - lo])

        return work

    def _adjoint_byte_mask(self, R, G, dtype):
        m = len(self.groups)
        dense = not sparse.issparse(self.X)

        def work(start, stop, slot):
            B = self._buffer("B", slot, (stop - start, m), dtype)
            self.kernels.masked_broadcast(R[start:stop], self.mask[start:stop], self.runs,
                                          self.run_starts, B)
            rows = self._rows(start, stop, dtype)
            if dense:
                G[slot] += np.matmul(rows.T, B,
                                     out=self._buffer("G", slot, (self.n_features, m), dtype))
            else:
                G[slot] += rows.T @ B

        return work

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
    X, mask, n_outputs, kernels, workers
        As for :class:`GatedReLUDesign`.
    """

    def __init__(self, X, mask, n_outputs, kernels, workers=None):
        self.patterns = mask
        P = mask.shape[1]
        self.gated = GatedReLUDesign(X, mask, n_outputs, kernels, workers,
                                     column_patterns=np.tile(np.arange(P), 2))
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
        return ReLUDesign(self.X.astype(dtype), self.patterns, self.n_outputs, self.kernels,
                          self.gated.workers)

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

    def forward_from_products(self, XU):
        """:meth:`forward` given ``XU = X @ U``."""
        return self.inner.forward_from_products(XU * self.signs)

    def adjoint(self, R, dtype=None):
        G = self.inner.adjoint(R, dtype)
        G *= self.signs.astype(G.dtype)
        return G

    def squared_norm_estimate(self, weights, n_iter=15, random_state=0):
        return self.inner.squared_norm_estimate(weights, n_iter, random_state)
