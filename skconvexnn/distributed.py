"""One fit spread over a Dask cluster: consensus ADMM over the row blocks of ``X``.

When ``X`` is a :mod:`dask.array` (or a dask DataFrame) whose rows are split into
blocks ``k = 1..K``, the gated program

    min_U  sum_k pi_k L_k(F_k U) + alpha sum_g ||U_g||

(``L_k`` the loss on block ``k``'s rows, ``pi_k`` its share of the sample weight, ``F_k``
its masked design) is solved by consensus ADMM (Boyd et al. 2011, section 7.1, scaled
form; the splitting dask-glm uses for generalized linear models). Each block keeps a
copy ``U_k`` of the weights:

    U_k = argmin_U pi_k L_k(F_k U) + rho/2 ||U - Z + W_k||^2      (on the block's worker)
    Z   = prox_{(alpha / (K rho)) sum_g ||.||}(mean_k (U_k + W_k))  (on the driver)
    W_k = W_k + U_k - Z,

the first step by a few L-BFGS iterations (in float64) started from the block's last
``U_k`` (an inexact ADMM), over-relaxed, with ``rho`` balanced between the primal and
dual residuals (Boyd et al., sections 3.4.3 and 3.4.1; nothing is factored, so changing
it is free). Only arrays of the weights' size travel: a block's rows, targets and
activation patterns stay on the worker that computed them, and nothing with a row per
sample comes back to the driver.

Certificate, every few iterations, at the consensus point ``Z`` (the weights returned),
in float64: the primal value and the loss gradient ``sum_k pi_k F_k^T grad L_k(F_k Z)``
are sums over the blocks; the dual point ``-kappa grad L(F Z)`` is scaled into dual
feasibility by the penalty's own ``kappa``
(:meth:`~skconvexnn.penalties.GroupL2.dual_scaling`), and its dual value is again a sum
over the blocks; so is that of a second dual point, taken at each block's own copy
``U_k`` (:func:`_certificate`). The gap therefore bounds the distance to the optimum
wherever ADMM stops, as every other solver's does.

The gates are drawn as in memory (:func:`~skconvexnn.patterns.sample_gates`) from the
columns' weighted means and deviations, themselves sums over the blocks; the patterns
are computed where the rows are. A gate whose pattern is empty on every block is left
out, as in memory; two gates with the same pattern on every row are both kept (in memory
one is), which changes no optimal value.

Every task is a pure function of its inputs: if a worker is lost, the scheduler
recomputes its blocks from the array's graph on another worker and the fit goes on; if
it cannot, the fit stops with a ``RuntimeError`` that says so (:func:`fit_on_cluster`,
:func:`consensus_admm`).
"""

import sys
import time
from concurrent.futures import CancelledError
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from sklearn.utils import check_array

from ._progress import Progress
from .backends import NUMPY
from .losses import as_loss
from .patterns import gate_scales, gates_from_moments
from .penalties import GroupL2

#: Rows per product inside a block: bounds the temporaries (``rows x columns``).
_ROWS_PER_PRODUCT = 32768
#: ADMM iterations between certificates (each costs two rounds over the blocks).
_CHECK_EVERY = 5
#: L-BFGS iterations of one block's step, warm-started from the last one.
_LOCAL_ITERATIONS = 10
#: Residual balancing: ``rho`` doubles or halves when one relative residual exceeds the
#: other this many times, at most every ``_RHO_EVERY`` iterations.
_BALANCE = 5.0
_RHO_EVERY = 5
#: Over-relaxation (Boyd et al., section 3.4.3): the copies enter the z- and
#: multiplier steps as ``r U_k + (1 - r) Z``.
_RELAXATION = 1.6


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (without importing dask)."""
    dask = sys.modules.get("dask")
    return dask is not None and bool(dask.is_dask_collection(obj))


def _get_client():
    try:
        from distributed import get_client
    except ImportError as exc:  # pragma: no cover - dask[distributed] is a test extra
        raise ImportError("A fit on a dask array runs on a dask.distributed cluster: "
                          "pip install 'dask[distributed]'.") from exc
    try:
        return get_client()
    except ValueError as exc:
        raise ValueError("X is a dask collection, so the fit runs on a dask.distributed "
                         "cluster, and no Client is connected: create one first "
                         "(distributed.Client() starts a local cluster), or pass X as a "
                         "NumPy array.") from exc


def _lost_cluster_errors():
    from distributed import KilledWorker
    from distributed.comm import CommClosedError

    return (KilledWorker, CommClosedError, CancelledError, OSError, TimeoutError)


def _gather(client, futures, what):
    """``client.gather(futures)``; a lost cluster as a RuntimeError that says so."""
    try:
        return client.gather(futures)
    except _lost_cluster_errors() as exc:
        try:
            detail = f"{type(exc).__name__}: {exc}"
        except Exception:  # some of distributed's errors cannot print themselves
            detail = type(exc).__name__
        raise RuntimeError(
            f"The distributed fit lost its workers or its data during {what} and could "
            f"not recompute them ({detail}). No model was fitted: check the workers' "
            "logs and memory limits, then fit again.") from exc


# --- the data, by blocks of rows ------------------------------------------------------


def _as_dask_array(obj, name):
    import dask.array as da

    if hasattr(obj, "to_dask_array"):  # a dask DataFrame or Series
        obj = obj.to_dask_array(lengths=True)
    elif not isinstance(obj, da.Array):
        obj = np.asarray(obj)
        obj = da.from_array(obj, chunks=obj.shape or 1)
    if obj.ndim and any(np.isnan(size) for size in obj.chunks[0]):
        obj = obj.compute_chunk_sizes()
    if name == "X" and obj.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got a dask array of "
                         f"shape {obj.shape}.")
    return obj


def row_blocks(X, y, sample_weight=None):
    """``(X, y, sample_weight)`` as dask arrays with the same blocks of rows, ``X`` in
    one block of columns: what a distributed fit reads. ``y`` and ``sample_weight`` may
    be NumPy arrays (they are sent to the cluster in the blocks of ``X``)."""
    X = _as_dask_array(X, "X").rechunk({1: -1})
    rows = X.chunks[0]
    arrays = []
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is None:
            arrays.append(None)
            continue
        value = _as_dask_array(value, name)
        if value.ndim not in (1, 2) or value.shape[0] != X.shape[0]:
            raise ValueError(f"{name} must have one row per row of X ({X.shape[0]}); got "
                             f"shape {value.shape}.")
        if name == "sample_weight" and value.ndim != 1:
            raise ValueError("sample_weight must be 1-D.")
        arrays.append(value.rechunk({0: rows, **({1: -1} if value.ndim == 2 else {})}))
    return X, arrays[0], arrays[1]


@dataclass
class _Rows:
    """One block of rows as loaded on a worker: features (not copied: the intercept
    coordinate is added in the products), targets, weights (rows of zero weight
    dropped) and the labels of all its rows."""

    X: np.ndarray
    y: np.ndarray
    weights: np.ndarray
    labels: np.ndarray = None


def _load_rows(X, y, weights, classification):
    X = check_array(X, dtype=[np.float64, np.float32], ensure_min_samples=0,
                    input_name="X")
    y = np.asarray(y)
    labels = np.unique(y) if classification else None
    if not classification:
        y = check_array(y, ensure_2d=False, dtype=np.float64, ensure_min_samples=0,
                        input_name="y")
    w = (np.ones(X.shape[0]) if weights is None
         else check_array(weights, ensure_2d=False, dtype=np.float64,
                          ensure_min_samples=0, input_name="sample_weight"))
    if (w < 0).any():
        raise ValueError("Negative values in data passed to sample_weight.")
    counted = w > 0
    if not counted.all():
        X, y, w = X[counted], y[counted], w[counted]
    return _Rows(X, y, w, labels)


def _column_sums(rows, mean=None):
    """``(sum w, sum w x)``, or ``sum w (x - mean)^2`` given ``mean``, in float64 by
    pieces of rows (no float64 copy of the block)."""
    total = np.zeros(rows.X.shape[1])
    for start in range(0, rows.X.shape[0], _ROWS_PER_PRODUCT):
        X = np.asarray(rows.X[start:start + _ROWS_PER_PRODUCT], dtype=np.float64)
        w = rows.weights[start:start + _ROWS_PER_PRODUCT]
        total += w @ (X if mean is None else (X - mean) ** 2)
    return (float(rows.weights.sum()), total) if mean is None else total


def _target_sums(rows, mean=None):
    """``sum w y`` per output, or ``sum_i w_i mean_j (y_ij - mean_j)^2`` given ``mean``."""
    Y = rows.y[:, None] if rows.y.ndim == 1 else rows.y
    if mean is None:
        return rows.weights @ Y
    return float(rows.weights @ np.mean((Y - mean) ** 2, axis=1))


def _labels(rows):
    return rows.labels, np.unique(rows.y)


class _Block:
    """A block's part of the program, kept on its worker: rows, 0/1 patterns, encoded
    targets and the loss bound to them by pieces of ``_ROWS_PER_PRODUCT`` rows (each
    weighted by its share of the whole data's weight). With ``fit_intercept`` the last
    coordinate of the gates and weights multiplies a column of ones that is never
    stored."""

    def __init__(self, rows, gates, encode, loss, total_weight, fit_intercept):
        self.X = rows.X
        self.fit_intercept = fit_intercept
        self.mask = np.empty((rows.X.shape[0], gates.shape[1]), dtype=bool)
        for start in range(0, rows.X.shape[0], _ROWS_PER_PRODUCT):
            stop = start + _ROWS_PER_PRODUCT
            self.mask[start:stop] = self._times(rows.X[start:stop], gates) >= 0
        Y = encode(rows.y)
        shares = rows.weights / total_weight
        self.pieces = []
        for start in range(0, rows.X.shape[0], _ROWS_PER_PRODUCT):
            stop = min(start + _ROWS_PER_PRODUCT, rows.X.shape[0])
            share = float(shares[start:stop].sum())
            if share > 0:
                self.pieces.append((start, stop, share,
                                    loss.bind(Y[start:stop], shares[start:stop])))
        self.n_outputs = Y.shape[1]
        self.n_patterns = gates.shape[1]

    def active_patterns(self):
        """Which patterns are on for some row of the block, and its number of rows."""
        return self.mask.any(axis=0), self.mask.shape[0]

    def curvature_trace(self):
        """``sum_i pi_i c_i ||x_i||^2 |active patterns of row i|``: the trace of the
        block's Hessian bound (``c_i`` the loss's curvature bound)."""
        total = 0.0
        for start, stop, share, loss in self.pieces:
            X = np.asarray(self.X[start:stop], dtype=np.float64)
            per_row = ((np.einsum("ij,ij->i", X, X) + self.fit_intercept)
                       * self.mask[start:stop].sum(axis=1))
            total += share * loss.curvature * float(loss.weights @ per_row)
        return total * self.n_outputs

    def _times(self, X, U):
        """``[X, 1] @ U`` (``X @ U`` without an intercept)."""
        if not self.fit_intercept:
            return X @ U
        out = X @ U[:-1]
        out += U[-1]
        return out

    def _transposed_times(self, X, R):
        """``[X, 1]^T @ R``."""
        if not self.fit_intercept:
            return X.T @ R
        return np.vstack([X.T @ R, R.sum(axis=0, keepdims=True)])

    def _outputs(self, X, mask, U):
        c, P = self.n_outputs, self.n_patterns
        products = self._times(X, U).reshape(X.shape[0], c, P)
        products *= mask[:, None, :]
        return products.sum(axis=2)

    def value_and_gradient(self, U, dtype):
        """``(pi_k L_k(F_k U), pi_k F_k^T grad L_k)`` computed in ``dtype``; ``U`` of
        shape ``(d, c P)``, column ``k P + j`` for output ``k`` and pattern ``j``."""
        c, P = self.n_outputs, self.n_patterns
        U = np.asarray(U, dtype=dtype)
        value, G = 0.0, np.zeros(U.shape, dtype=np.float64)
        for start, stop, share, loss in self.pieces:
            X = np.asarray(self.X[start:stop], dtype=dtype)
            mask = self.mask[start:stop]
            piece_value, R = loss.value_and_gradient(self._outputs(X, mask, U))
            value += share * piece_value
            weighted = (mask[:, None, :] * (share * R).astype(dtype)[:, :, None])
            G += self._transposed_times(X, weighted.reshape(X.shape[0], c * P))
        return value, G

    def dual_value(self, U, kappa):
        """``pi_k D_k(F_k U, kappa)`` in float64 (:meth:`~skconvexnn.losses.Loss.
        dual_value`)."""
        U = np.asarray(U, dtype=np.float64)
        total = 0.0
        for start, stop, share, loss in self.pieces:
            X = np.asarray(self.X[start:stop], dtype=np.float64)
            total += share * loss.dual_value(self._outputs(X, self.mask[start:stop], U),
                                             kappa)
        return total

    def local_step(self, V, U, rho, n_steps):
        """``argmin pi_k L_k(F_k U) + rho/2 ||U - V||^2`` by ``n_steps`` L-BFGS
        iterations from ``U``, in float64 whatever the rows' precision (float32
        gradients stall ADMM: a gap of 4e-4 where float64 reaches 1e-4, measured)."""
        shape = V.shape
        dtype = np.float64

        def objective(x):
            W = x.reshape(shape)
            value, G = self.value_and_gradient(W, dtype)
            D = W - V
            return value + 0.5 * rho * float(np.vdot(D, D)), (G + rho * D).ravel()

        result = minimize(objective, np.asarray(U, dtype=np.float64).ravel(), jac=True,
                          method="L-BFGS-B",
                          options={"maxiter": n_steps, "maxcor": 10, "gtol": 0.0,
                                   "ftol": 0.0})
        return result.x.reshape(shape)


def _block(rows, gates, encode, loss, total_weight, fit_intercept):
    return _Block(rows, gates, encode, loss, total_weight, fit_intercept)


def _active_patterns(block):
    return block.active_patterns()


def _curvature_trace(block):
    return block.curvature_trace()


def _certificate_parts(block, U, Z):
    """At the consensus point ``Z``: the block's loss and gradient; at its own copy
    ``U``: its gradient (float64)."""
    value, gradient = block.value_and_gradient(Z, np.float64)
    return value, gradient, block.value_and_gradient(U, np.float64)[1]


def _dual_values(block, U, Z, kappa, kappa_U):
    return block.dual_value(Z, kappa), block.dual_value(U, kappa_U)


def _local_step(block, V, U, rho, n_steps):
    return block.local_step(V, U, rho, n_steps)


# --- the program on the cluster ---------------------------------------------------------


@dataclass
class DistributedData:
    """A program's data on the cluster: the futures of its blocks and what the driver
    learned of them (a small summary: nothing has a row per sample).

    Attributes
    ----------
    blocks : list of distributed.Future
        One :class:`_Block` per block of rows, held by the workers.
    gates : ndarray of shape (n_features + fit_intercept, n_gates)
        The gates of the program (those whose pattern is empty everywhere dropped).
    gate_indices : ndarray of int
        Their columns among the gates drawn.
    n_samples : int
        Rows with positive weight.
    n_features : int
    n_outputs : int
    dtype : numpy dtype
    client : distributed.Client
    """

    blocks: list
    gates: np.ndarray
    gate_indices: np.ndarray
    n_samples: int
    n_features: int
    n_outputs: int
    dtype: np.dtype
    client: object

    def release(self):
        """Let the cluster drop the blocks."""
        self.client.cancel(self.blocks)
        self.blocks = []


def load_rows(X, y, sample_weight, *, classification, client=None):
    """Validate and load the blocks of rows on the cluster.

    Returns ``(rows, summary)``: the futures of the loaded blocks and a dict of their
    weights, the columns' weighted mean and deviation, and, for a classifier,
    the labels (of all rows, and of rows with positive weight).
    """
    import dask

    client = _get_client() if client is None else client
    X, y, sample_weight = row_blocks(X, y, sample_weight)
    n_features = X.shape[1]
    parts = zip(X.to_delayed().ravel(), y.to_delayed().ravel(),
                (sample_weight.to_delayed().ravel() if sample_weight is not None
                 else [None] * X.numblocks[0]))
    rows = client.compute([dask.delayed(_load_rows)(Xb, yb, wb, classification)
                           for Xb, yb, wb in parts])
    sums = _gather(client, client.map(_column_sums, rows, pure=False), "loading the rows")
    total_weight = sum(weight for weight, _ in sums)
    if not total_weight > 0:
        raise ValueError("sample_weight has no positive entry: nothing to fit.")
    mean = sum(first for _, first in sums) / total_weight
    variance = sum(_gather(client, client.map(_column_sums, rows, mean=mean, pure=False),
                           "loading the rows")) / total_weight
    summary = {"n_features": n_features, "total_weight": total_weight, "mean": mean,
               "std": gate_scales(mean, variance), "dtype": X.dtype}
    if classification:
        labels = _gather(client, client.map(_labels, rows, pure=False), "reading labels")
        summary["labels"] = np.unique(np.concatenate([all_ for all_, _ in labels]))
        summary["weighted_labels"] = np.unique(np.concatenate([w for _, w in labels]))
    return rows, summary


def target_moments(client, rows, total_weight, centered):
    """``(mean, scale)`` of the targets over the blocks, as
    :meth:`~skconvexnn.losses.Loss.scale` computes them in memory."""
    first = sum(_gather(client, client.map(_target_sums, rows, pure=False),
                        "reading targets")) / total_weight
    center = first if centered else np.zeros_like(first)
    spread = sum(_gather(client, client.map(_target_sums, rows, mean=center, pure=False),
                         "reading targets")) / total_weight
    scale = float(np.sqrt(spread))
    return first, (scale if np.isfinite(scale) and scale > 0 else 1.0)


def build_program(client, rows, summary, n_gates, *, fit_intercept, encode, loss,
                  n_outputs, random_state=None, gates=None):
    """The gated program's blocks on the cluster (:class:`DistributedData`), with the
    gates of :func:`~skconvexnn.patterns.sample_gates` (or ``gates``)."""
    if gates is None:
        gates = gates_from_moments(summary["mean"], summary["std"], n_gates,
                                   fit_intercept=fit_intercept, random_state=random_state)
    blocks = client.map(_block, rows, gates=gates, encode=encode, loss=as_loss(loss),
                        total_weight=summary["total_weight"],
                        fit_intercept=fit_intercept, pure=False)
    active, sizes = zip(*_gather(client, client.map(_active_patterns, blocks, pure=False),
                                 "computing the patterns"))
    keep = np.flatnonzero(np.logical_or.reduce(active))
    if len(keep) < gates.shape[1]:
        blocks = client.map(_block, rows, gates=gates[:, keep], encode=encode,
                            loss=as_loss(loss), total_weight=summary["total_weight"],
                            fit_intercept=fit_intercept, pure=False)
    return DistributedData(blocks=blocks, gates=gates[:, keep], gate_indices=keep,
                           n_samples=int(sum(sizes)), n_features=gates.shape[0],
                           n_outputs=n_outputs, dtype=np.dtype(summary["dtype"]),
                           client=client)


@dataclass
class DistributedResult:
    """Outcome of :func:`consensus_admm`: the weights ``U`` (columns ``k P + j``), their
    certificate and the course of the solve."""

    U: np.ndarray
    primal: float
    dual: float
    n_iter: int
    converged: bool
    objectives: list
    history: list
    rho: float

    @property
    def relative_gap(self):
        gap = self.primal - self.dual
        return gap / self.primal if self.primal > 0 else 0.0


def _certificate(data, Z, Us, penalty, what):
    """``(primal, dual)``, in float64: the primal value at the consensus point ``Z``
    and the better of two dual points, ``-kappa grad L`` at the outputs of ``Z`` and
    at each block's outputs of its own copy ``U_k``. The dual is separable over rows,
    so the second is a dual point too; as ADMM converges its scaling ``kappa`` tends to
    1 with the dual residual (the z-step makes ``sum_k rho W_k`` a subgradient of the
    penalty at ``Z``), often before the first's does."""
    client = data.client
    parts = _gather(client, client.map(_certificate_parts, data.blocks, Us, Z=Z,
                                       pure=False), what)
    primal = sum(value for value, _, _ in parts) + penalty.value(Z)
    norms = penalty.kernels.group_norms
    kappa = penalty.dual_scaling(norms(sum(at_Z for _, at_Z, _ in parts)))
    kappa_U = penalty.dual_scaling(norms(sum(at_U for _, _, at_U in parts)))
    duals = _gather(client, client.map(_dual_values, data.blocks, Us, Z=Z, kappa=kappa,
                                       kappa_U=kappa_U, pure=False), what)
    return primal, max(sum(at_Z for at_Z, _ in duals), sum(at_U for _, at_U in duals))


def consensus_admm(data, alpha, *, tol=1e-3, max_iter=500, U0=None, rho=None,
                   local_iterations=_LOCAL_ITERATIONS, check_every=_CHECK_EVERY,
                   verbose=0, callback=None):
    """Consensus ADMM for the gated program on the blocks of ``data``
    (:class:`DistributedData`), stopped at a relative duality gap ``tol``.

    ``callback(n_iter, primal, relative_gap)`` is called at every certificate.
    Returns a :class:`DistributedResult`.
    """
    client = data.client
    penalty = GroupL2(alpha, NUMPY)
    K = len(data.blocks)
    n_columns = data.n_outputs * data.gates.shape[1]
    Z = (np.zeros((data.n_features, n_columns)) if U0 is None
         else np.array(U0, dtype=np.float64))
    if rho is None:
        trace = sum(_gather(client, client.map(_curvature_trace, data.blocks, pure=False),
                            "sizing the steps"))
        # A tenth of the mean eigenvalue of a block's Hessian bound (measured: 1.5-2x
        # fewer iterations than the mean itself with over-relaxation; balanced after).
        rho = max(0.1 * trace / (K * Z.size), 1e-12)
    Us = [Z.copy() for _ in range(K)]
    Ws = [np.zeros_like(Z) for _ in range(K)]
    progress = Progress(verbose, max_iter, tol, label="consensus ADMM")
    start = time.perf_counter()
    best = (np.inf, Z)
    dual = -np.inf
    objectives, history = [], []
    converged = False
    n_iter = 0
    last_rho_change = 0
    while n_iter < max_iter:
        n_iter += 1
        futures = client.map(_local_step, data.blocks, [Z - W for W in Ws], Us, rho=rho,
                             n_steps=local_iterations, pure=False)
        Us = _gather(client, futures, f"ADMM iteration {n_iter}")
        Z_old = Z
        relaxed = [_RELAXATION * U + (1.0 - _RELAXATION) * Z_old for U in Us]
        # The z-step: the group prox of the penalty / (K rho) at the mean copy.
        Z = sum(U + W for U, W in zip(relaxed, Ws)) / K
        penalty.prox(Z, 0.0, 1.0 / (K * rho), out=Z)
        for W, U in zip(Ws, relaxed):
            W += U - Z
        if n_iter % check_every == 0 or n_iter == max_iter:
            primal, block_dual = _certificate(data, Z, Us, penalty,
                                              f"the certificate at iteration {n_iter}")
            dual = max(dual, block_dual)
            if primal < best[0]:
                best = (primal, Z.copy())
            gap = best[0] - dual
            relative_gap = gap / best[0] if best[0] > 0 else 0.0
            objectives.append(primal)
            history.append((n_iter, time.perf_counter() - start, primal, relative_gap))
            progress.update(n_iter, primal, relative_gap, note=f"rho {rho:.2e}")
            if callback is not None:
                callback(n_iter, primal, relative_gap)
            if gap <= tol * best[0]:
                converged = True
                break
        if n_iter - last_rho_change >= _RHO_EVERY:
            primal_residual = np.sqrt(sum(np.sum((U - Z) ** 2) for U in Us))
            primal_size = max(np.sqrt(sum(np.sum(U ** 2) for U in Us)),
                              np.sqrt(K) * np.linalg.norm(Z), 1e-300)
            dual_residual = rho * np.sqrt(K) * np.linalg.norm(Z - Z_old)
            dual_size = max(rho * np.sqrt(sum(np.sum(W ** 2) for W in Ws)), 1e-300)
            ratio = (primal_residual / primal_size) / max(dual_residual / dual_size,
                                                          1e-300)
            if ratio > _BALANCE or ratio < 1 / _BALANCE:
                factor = 2.0 if ratio > _BALANCE else 0.5
                rho *= factor
                for W in Ws:
                    W /= factor
                last_rho_change = n_iter
    primal, Z = best
    progress.close(n_iter, primal, (primal - dual) / primal if primal > 0 else 0.0,
                   "converged" if converged else "max_iter reached")
    return DistributedResult(U=Z, primal=primal, dual=dual, n_iter=n_iter,
                             converged=converged, objectives=objectives,
                             history=history, rho=rho)


# --- the estimators' fit and predictions on dask arrays --------------------------------


class _LabelEncoding:
    """Labels to the classifiers' targets: +-1 for two classes, one-hot for more."""

    def __init__(self, classes):
        self.classes = classes

    def __call__(self, y):
        index = np.searchsorted(self.classes, y)
        if len(self.classes) == 2:
            return (2.0 * index - 1.0)[:, None]
        return np.eye(len(self.classes))[index]


class _TargetEncoding:
    """Targets to the regressors' program targets: ``y / scale - offset``."""

    def __init__(self, scale, offset):
        self.scale, self.offset = scale, offset

    def __call__(self, y):
        Y = (y[:, None] if y.ndim == 1 else y) / self.scale
        return Y if self.offset is None else Y - self.offset


def fit_on_cluster(estimator, X, y, sample_weight=None):
    """Fit a gated estimator to dask arrays ``X``, ``y`` on the connected
    ``dask.distributed`` cluster (consensus ADMM over the blocks of rows of ``X``).

    What ``GatedReLUClassifier.fit`` / ``GatedReLURegressor.fit`` do when ``X`` is a
    dask collection; every fitted attribute is set as an in-memory fit sets it.
    """
    from sklearn.base import is_classifier
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import _check_feature_names

    from ._path import PathPoint
    from .programs import GatedReLUProgram
    from .solutions import GatedReLUSolution

    name = type(estimator).__name__
    program = estimator._program()
    if not isinstance(program, GatedReLUProgram) or program.name != "gated":
        raise ValueError(
            f"{name} cannot fit a dask array: a fit on a cluster solves the gated program "
            f"(GatedReLUClassifier, GatedReLURegressor), and the {program.name} "
            "program's constraints are not split over blocks of rows. Fit a gated "
            "estimator, or compute X into memory (X.compute()).")
    if estimator.solver not in ("auto", "admm"):
        raise ValueError(f"solver={estimator.solver!r} runs in one process; a fit on a "
                         "dask array runs consensus ADMM: use solver='auto' or 'admm'.")
    classification = is_classifier(estimator)
    loss = as_loss(estimator.loss)
    if not classification and loss.name != "squared_error":
        raise ValueError(f"{name} fits a dask array with loss='squared_error' only (its "
                         f"baseline and scale are sums over the blocks); got {loss!r}.")
    if classification and getattr(y, "ndim", 1) != 1:
        raise ValueError(f"{name} on a cluster takes 1-D labels y; got {y.ndim}-D.")
    client = _get_client()
    # The names of a dask DataFrame's columns, from its empty pandas "meta" frame.
    _check_feature_names(estimator, getattr(X, "_meta", X), reset=True)
    fit_intercept = estimator.fit_intercept
    rows, summary = load_rows(X, y, sample_weight, classification=classification,
                              client=client)
    estimator.n_features_in_ = summary["n_features"]
    data = None
    try:
        if classification:
            check_classification_targets(summary["labels"])
            estimator.classes_ = summary["labels"]
            n_weighted = len(summary["weighted_labels"])
            if n_weighted < 2:
                raise ValueError(f"{name} needs samples of at least 2 classes with "
                                 f"positive weight; got {n_weighted} class.")
            encode, offset = _LabelEncoding(estimator.classes_), None
            n_outputs = 1 if len(estimator.classes_) == 2 else len(estimator.classes_)
            estimator.out_activation_ = "logistic" if n_outputs == 1 else "softmax"
        else:
            estimator._y_is_1d = y.ndim == 1
            estimator.out_activation_ = loss.out_activation
            mean, scale = target_moments(client, rows, summary["total_weight"],
                                         centered=fit_intercept)
            estimator.target_scale_ = scale if estimator._rescales_targets else 1.0
            offset = mean / estimator.target_scale_ if fit_intercept else None
            encode = _TargetEncoding(estimator.target_scale_, offset)
            n_outputs = len(mean)
        signature = (summary["n_features"], fit_intercept, n_outputs)
        warm = (estimator.warm_start
                and getattr(estimator, "_warm_signature", None) == signature)
        gates = estimator._gate_source if warm else None
        data = build_program(client, rows, summary, estimator.n_patterns,
                             fit_intercept=fit_intercept, encode=encode, loss=loss,
                             n_outputs=n_outputs,
                             random_state=estimator._gates_random_state(), gates=gates)
        U0 = None
        if warm and estimator._last_point is not None:
            U0 = program.pack(estimator._last_point.coef[:, data.gate_indices, :],
                              np.arange(len(data.gate_indices)), None, np.float64)
        start = time.perf_counter()
        result = consensus_admm(data, estimator._fit_alpha(), tol=estimator.tol,
                                max_iter=estimator.max_iter, U0=U0,
                                verbose=estimator.verbose)
    finally:
        client.cancel(rows)
        if data is not None:
            data.release()
    n_patterns = data.gates.shape[1]
    weights = program.unpack(result.U, data.n_features, n_patterns, n_outputs).astype(
        data.dtype, copy=False)
    solution = GatedReLUSolution(
        weights=weights, gate_indices=np.arange(n_patterns), patterns=None,
        objective=result.primal, dual_objective=result.dual,
        duality_gap=result.relative_gap, n_iter=result.n_iter,
        converged=result.converged, stalled=False,
        objective_curve=np.asarray(result.objectives, dtype=np.float64), output=None,
        history={key: np.asarray(values) for key, values in zip(
            ("n_iter", "time", "objective", "duality_gap"),
            zip(*result.history) if result.history else [[]] * 4)})
    point = PathPoint(alpha=estimator._fit_alpha(), gates=data.gates, coef=weights,
                      solver_state=None, solution=solution,
                      fit_time=time.perf_counter() - start)
    shape = _Shape((data.n_samples, summary["n_features"]), data.dtype)
    estimator._set_solution(point, shape, _Shape((data.n_samples, n_outputs), None),
                            None, loss, offset)
    estimator._gate_source = data.gates
    return estimator


@dataclass
class _Shape:
    """What a fitted estimator records of data it never held: shape and dtype."""

    shape: tuple
    dtype: object


def map_rows(method, X, n_columns=None, dtype=np.float64):
    """``method`` (a fitted estimator's ``predict``, ``predict_proba``...) applied to
    each block of rows of the dask array or DataFrame ``X``: a dask array with one row
    per row of ``X`` (``n_columns`` None: one value per row)."""
    if hasattr(X, "to_dask_array"):  # keep the column names the model was fitted with
        columns = X.columns

        def method_on_frame(block, _method=method):
            import pandas as pd

            return _method(pd.DataFrame(block, columns=columns))

        X, method = X.to_dask_array(lengths=True), method_on_frame
    X = X.rechunk({1: -1})
    if n_columns is None:
        return X.map_blocks(method, drop_axis=1, dtype=dtype)
    return X.map_blocks(method, chunks=(X.chunks[0], (n_columns,)), dtype=dtype)
