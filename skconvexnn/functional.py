"""Functional core: solve one convex program with explicit gates.

For benchmarks and research: the caller chooses the rows ``X`` (with an intercept
column if wanted), the targets, the gates and ``alpha``, and gets back the weights, the
objective and its certificate. The estimators in :mod:`skconvexnn.estimators` are a
thin layer over :func:`solve_gated_relu` and :func:`solve_relu`.
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils import check_array
from threadpoolctl import threadpool_limits

from ._parallel import row_workers
from .backends import check_backend, get_backend
from .formulations import GatedReLUDesign, ReLUDesign, as_solver_matrix
from .losses import as_loss, loss_names
from .patterns import activation_patterns
from .penalties import ConeConstrainedGroupL2, GroupL2
from .solvers import solve_group_lasso
from .solvers.pdhg import solve_robust_pdhg


@dataclass
class GatedReLUSolution:
    """Solution of a gated ReLU program and its certificate.

    Attributes
    ----------
    weights : ndarray of shape (n_features, n_patterns, n_outputs)
        ``weights[:, j, k]`` is the block ``U_j`` of pattern ``j`` for output ``k``.
    gate_indices : ndarray of shape (n_patterns,)
        Column of the input ``gates`` that produced each distinct, non-zero pattern.
    patterns : ndarray of shape (n_samples, n_patterns), uint8
        The activation patterns ``D_j`` (rows with zero sample weight left out).
    objective : float
        Primal objective ``L(F) + alpha * sum ||U_jk||``.
    dual_objective : float
        Best dual objective found; ``objective - dual_objective >= 0`` bounds the
        distance to the optimal value.
    duality_gap : float
        Relative duality gap ``(objective - dual_objective) / objective``. NaN (a void
        certificate) for a constrained program whose weights violate their constraints
        by more than rounding (:func:`certificate_holds`).
    n_iter : int
        FISTA iterations.
    converged : bool
        Whether ``duality_gap <= tol`` was reached within ``max_iter`` (and, for a
        constrained program, the weights satisfy their constraints).
    stalled : bool
        Whether a float32 solve stopped because rounding kept the gap from shrinking.
    objective_curve : ndarray
        Objective after every iteration.
    output : ndarray of shape (n_samples, n_outputs)
        Model output ``sum_j D_j X U_j`` on the training rows with positive weight.
    step : float
        The solver's final step size (pass it as ``step`` to a warm-started solve of
        a nearby problem).
    history : dict of ndarrays
        The certificate at every evaluation (each outer iteration of the working-set
        solver): ``"n_iter"`` (FISTA iterations so far), ``"time"`` (seconds since the
        solve started), ``"objective"`` and ``"duality_gap"`` (relative).
    """

    weights: np.ndarray
    gate_indices: np.ndarray
    patterns: np.ndarray
    objective: float
    dual_objective: float
    duality_gap: float
    n_iter: int
    converged: bool
    stalled: bool
    objective_curve: np.ndarray
    output: np.ndarray
    history: dict = None
    step: float = None

    @property
    def n_active(self):
        """Number of non-zero blocks: the hidden units of the network."""
        norms = np.einsum("...rjk,...rjk->...jk", self.weights, self.weights,
                          dtype=np.float64)
        return int((norms > 0).sum())


@dataclass
class ReLUSolution(GatedReLUSolution):
    """Solution of a cone-constrained ReLU program and its certificate.

    As :class:`GatedReLUSolution`, with ``weights`` of shape
    ``(2, n_features, n_patterns, n_outputs)``: ``weights[0]`` holds the ``v`` blocks
    (hidden units with a positive output weight), ``weights[1]`` the ``w`` blocks, and

    Attributes
    ----------
    constraint_violation : float
        ``max (-(2 D_j - I) X u)_+`` over every non-zero block of the weights returned
        (evaluated in float64): how far they are from their activation cones (zero up
        to rounding: the solver's iterates are feasible by construction).
    """

    constraint_violation: float = 0.0


@dataclass
class RobustReLUSolution(ReLUSolution):
    """Solution of the robust ReLU program (Bai, Gautam & Sojoudi 2022).

    As :class:`ReLUSolution`; ``constraint_violation`` is the largest
    ``eps ||u^f||_1 - min_i (2 D_j - I)_ii x_i . u`` over the non-zero blocks.
    With several outputs the programs separate (one per output); ``history`` then
    lists the outputs' solves one after the other (iterations and time cumulative,
    objective and gap of the output being solved).

    Attributes
    ----------
    worst_case_loss : float
        The loss term of ``objective``: the (weighted) mean worst-case training loss.
    """

    worst_case_loss: float = 0.0


def _max_abs(A):
    data = A.data if sparse.issparse(A) else A
    return float(np.max(np.abs(data))) if data.size else 0.0


def check_magnitudes(X, Y=None):
    """Refuse data whose squares overflow float64: no least-squares solve survives it.

    ``Y`` (regression targets) is checked too when given. Compares without squaring,
    so the check itself cannot overflow.
    """
    n_samples, n_features = X.shape
    limit = np.sqrt(np.finfo(np.float64).max / max(1, n_samples * n_features))
    if _max_abs(X) > limit:
        raise ValueError(
            f"X has entries as large as {_max_abs(X):.3g}: their squares overflow float64. "
            "Rescale the features (e.g. with StandardScaler).")
    if Y is not None and _max_abs(np.asarray(Y)) > np.sqrt(
            np.finfo(np.float64).max / max(1, n_samples)):
        raise ValueError(
            f"y has values as large as {_max_abs(np.asarray(Y)):.3g}: their squares overflow "
            "float64. Rescale the targets.")


def _validate(X, Y, gates, alpha, loss, sample_weight, coef_init, coef_shape, backend):
    """Check a program's inputs; drop rows with zero weight. Raises ValueError."""
    check_backend(backend)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number; got {alpha!r}.")
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
                    input_name="X")
    Y = check_array(Y, ensure_2d=False, dtype=np.float64, input_name="Y")
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y must have shape ({X.shape[0]},) or ({X.shape[0]}, n_outputs); "
                         f"got {Y.shape}.")
    gates = check_array(gates, dtype=np.float64, input_name="gates")
    if gates.shape[0] != X.shape[1]:
        raise ValueError(f"gates must have shape ({X.shape[1]}, n_gates) to match X; "
                         f"got {gates.shape}.")
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    sample_weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                                input_name="sample_weight")
    if sample_weight.shape != (X.shape[0],) or np.any(sample_weight < 0) or not (
            sample_weight.sum() > 0):
        raise ValueError("sample_weight must be non-negative, of shape (n_samples,), "
                         "and not all zero.")
    check_magnitudes(X, Y if as_loss(loss).kind == "residual" else None)
    if coef_init is not None:
        coef_init = np.asarray(coef_init)
        shape = coef_shape(X.shape[1], gates.shape[1], Y.shape[1])
        if coef_init.shape != shape:
            raise ValueError(f"coef_init must have shape {shape}; got {coef_init.shape}.")
    # Rows with zero weight do not enter the program, not even through the patterns.
    counted = sample_weight > 0
    if not counted.all():
        X, Y, sample_weight = X[counted], Y[counted], sample_weight[counted]
    return X, Y, gates, sample_weight, coef_init


def _smooth_loss(loss, Y, sample_weight):
    """``loss`` bound to ``Y``; refuses a loss FISTA cannot take (no gradient)."""
    spec = as_loss(loss)
    if not spec.smooth:
        raise ValueError(f"loss={spec.name!r} has no gradient, so only the robust program "
                         f"takes it; the gated and ReLU programs take "
                         f"{sorted(loss_names(spec.task, smooth=True))}.")
    return spec.bind(Y, sample_weight)


def _solve(design, loss_obj, penalty, U0, tol, max_iter, solver, verbose, callback, step):
    return solve_group_lasso(design, loss_obj, penalty, U0, tol=tol, max_iter=max_iter,
                             solver=solver, verbose=verbose, callback=callback, step=step)


_HISTORY_KEYS = ("n_iter", "time", "objective", "duality_gap")


def _history(entries):
    """A solver's certificate history (``(n_iter, time, objective, gap)`` tuples) as
    named arrays."""
    columns = list(zip(*entries)) if entries else [[]] * 4
    return {key: np.asarray(column, dtype=np.int64 if key == "n_iter" else np.float64)
            for key, column in zip(_HISTORY_KEYS, columns)}


def solve_gated_relu(X, Y, gates, alpha, *, loss="squared_error", sample_weight=None,
                     strict_patterns=False, coef_init=None, tol=1e-6, max_iter=10000,
                     solver="auto", backend="auto", n_jobs=None, verbose=0, callback=None,
               step=None):
    r"""Solve the gated ReLU program for given gates.

    .. math::

        \min_U \; L\Big(\sum_j D_j X U_j,\; Y\Big) + \alpha \sum_{j,k} \|U_{jk}\|_2,
        \qquad D_j = \mathrm{diag}(1[X g_j \ge 0]).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Rows as the solver sees them: append a column of ones for an intercept.
        float32 stays float32; anything else becomes float64.
    Y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Targets: real values for ``squared_error``; +-1 (one column) or one-hot
        (several columns) for ``log_loss``.
    gates : ndarray of shape (n_features, n_gates)
        Gate vectors; duplicate and all-zero patterns are dropped.
    alpha : float
        Regularization strength, ``> 0``.
    loss : {"squared_error", "log_loss"}, default="squared_error"
        ``squared_error`` is ``||F - Y||^2 / (2 n c)`` (scnn's scaling); ``log_loss`` is
        the logistic (one output) or softmax cross-entropy (several) loss, averaged.
    sample_weight : ndarray of shape (n_samples,), default=None
        Non-negative weights; the loss is their weighted average.
    strict_patterns : bool, default=False
        Use ``1[X g > 0]`` (scnn's convention) instead of ``1[X g >= 0]``.
    coef_init : ndarray of shape (n_features, n_gates, n_outputs), default=None
        Warm start, in the layout of ``gates``.
    tol : float, default=1e-6
        Target relative duality gap.
    max_iter : int, default=10000
        FISTA iteration budget.
    solver : {"auto", "working_set", "fista"}, default="auto"
        ``working_set`` (the default) runs FISTA on a growing set of groups chosen from
        the full gradient; ``fista`` runs it on all groups.
    backend : {"auto", "numba", "numpy"}, default="auto"
    n_jobs : int, default=None
        Threads for the products and kernels, which run over blocks of rows with BLAS
        pinned to one thread inside (no oversubscription). None follows the BLAS
        library's current thread setting (all cores unless ``OPENBLAS_NUM_THREADS``,
        ``OMP_NUM_THREADS``, ``threadpoolctl`` or joblib limit it); -1 is every
        available core.
    verbose : int, default=0
    callback : callable, default=None
        ``callback(objective)`` after every FISTA iteration.
    step : float, default=None
        Initial step size of FISTA (``solution.step`` of a nearby solve); None
        estimates ``1 / Lipschitz`` by power iteration.

    Returns
    -------
    GatedReLUSolution
    """
    X, Y, gates, sample_weight, coef_init = _validate(
        X, Y, gates, alpha, loss, sample_weight, coef_init, lambda d, g, c: (d, g, c),
        backend)
    loss_obj = _smooth_loss(loss, Y, sample_weight)
    kernels = get_backend(backend, X)
    X = as_solver_matrix(X)
    n_outputs = Y.shape[1]
    with row_workers(n_jobs) as workers:
        mask, keep = activation_patterns(X, gates, strict=strict_patterns, workers=workers)
        design = GatedReLUDesign(X, mask, n_outputs, kernels, workers)
        # Solver layout: column k * P + j holds the block of pattern j for output k.
        if coef_init is None:
            U0 = np.zeros((X.shape[1], design.n_groups), dtype=X.dtype)
        else:
            U0 = coef_init[:, keep, :].transpose(0, 2, 1).reshape(X.shape[1], -1)
        result = _solve(design, loss_obj, GroupL2(alpha, kernels), U0, tol, max_iter,
                        solver, verbose, callback, step)
    return GatedReLUSolution(
        weights=np.ascontiguousarray(
            result.U.reshape(X.shape[1], n_outputs, len(keep)).transpose(0, 2, 1)),
        gate_indices=keep, patterns=mask, objective=result.primal,
        dual_objective=result.dual, duality_gap=result.relative_gap, n_iter=result.n_iter,
        converged=result.converged, stalled=result.stalled,
        objective_curve=np.asarray(result.objectives, dtype=np.float64), output=result.F,
        history=_history(result.history), step=result.step)


def solve_relu(X, Y, gates, alpha, *, loss="squared_error", sample_weight=None,
               strict_patterns=False, coef_init=None, tol=1e-6, max_iter=10000,
               solver="auto", backend="auto", n_jobs=None, verbose=0, callback=None,
               step=None):
    r"""Solve the cone-constrained ReLU program (Pilanci & Ergen 2020) for given gates.

    .. math::

        \min_{V, W} \; L\Big(\sum_j D_j X (V_j - W_j),\; Y\Big)
        + \alpha \sum_{j,k} \big(\|V_{jk}\|_2 + \|W_{jk}\|_2\big)
        \quad \text{s.t.} \quad (2 D_j - I) X V_{jk} \ge 0,\; (2 D_j - I) X W_{jk} \ge 0.

    Its solution is a two-layer ReLU network trained to the global optimum of its
    weight-decay objective (over the sampled patterns). The solver is FISTA with the
    exact proximal operator of the constrained group norm, ``shrink(project_K(.))``
    (projections onto the activation cones by warm-started non-negative least
    squares), inside the same working-set loop as the gated program: every iterate is
    feasible, and the duality gap certifies the result.

    Parameters
    ----------
    X, Y, gates, alpha, loss, sample_weight, strict_patterns, tol, max_iter, solver,
    backend, n_jobs, verbose, callback, step
        As in :func:`solve_gated_relu`. Sparse ``X`` is densified for the projections.
    coef_init : ndarray of shape (2, n_features, n_gates, n_outputs), default=None
        Warm start (``[V, W]`` in the layout of ``gates``); projected onto the cones.

    Returns
    -------
    ReLUSolution
    """
    X, Y, gates, sample_weight, coef_init = _validate(
        X, Y, gates, alpha, loss, sample_weight, coef_init,
        lambda d, g, c: (2, d, g, c), backend)
    loss_obj = _smooth_loss(loss, Y, sample_weight)
    kernels = get_backend(backend, X)
    X = as_solver_matrix(X)
    n_outputs = Y.shape[1]
    d = X.shape[1]
    with row_workers(n_jobs) as workers:
        mask, keep = activation_patterns(X, gates, strict=strict_patterns, workers=workers)
        design = ReLUDesign(X, mask, n_outputs, kernels, workers)
        dense_rows = X.toarray() if sparse.issparse(X) else X
        penalty = ConeConstrainedGroupL2(alpha, kernels, dense_rows, mask,
                                         design.group_pattern, workers=workers)
        # Solver layout: column k * 2P + s * P + j holds [V, W][s] of pattern j, output k.
        if coef_init is None:
            U0 = np.zeros((d, design.n_groups), dtype=X.dtype)
        else:
            U0 = coef_init[:, :, keep, :].transpose(1, 3, 0, 2).reshape(d, -1)
            U0 = penalty.project(np.asarray(U0, dtype=np.float64)).astype(X.dtype)
        result = _solve(design, loss_obj, penalty, U0, tol, max_iter, solver, verbose,
                        callback, step)
    weights = np.ascontiguousarray(
        result.U.reshape(d, n_outputs, 2, len(keep)).transpose(2, 0, 3, 1))
    violation = penalty.constraint_violation(result.U)
    # The gap certifies the returned weights only where they lie in their cones.
    feasible = certificate_holds(violation, dense_rows, weights, X.dtype)
    return ReLUSolution(
        weights=weights, gate_indices=keep, patterns=mask, objective=result.primal,
        dual_objective=result.dual,
        duality_gap=result.relative_gap if feasible else np.nan, n_iter=result.n_iter,
        converged=result.converged and feasible, stalled=result.stalled,
        objective_curve=np.asarray(result.objectives, dtype=np.float64), output=result.F,
        history=_history(result.history), step=result.step,
        constraint_violation=violation)


def _summed_curves(curves):
    """Objective curves of separate outputs summed; a finished output keeps its last
    value while the others go on."""
    length = max(len(curve) for curve in curves)
    return np.sum([np.pad(curve, (0, length - len(curve)), mode="edge")
                   for curve in curves], axis=0)


def solve_robust_relu(X, Y, gates, alpha, eps, *, loss="log_loss", sample_weight=None,
                      n_perturbed=None, strict_patterns=False, coef_init=None, tol=1e-6,
                      max_iter=20000, backend="auto", n_jobs=None, verbose=0):
    r"""Solve the adversarially robust ReLU program for given gates.

    For every output ``k`` (the outputs separate: one-vs-rest for classes)

    .. math::

        \min_{V, W} \; \sum_i w_i\, \ell^{\mathrm{wc}}_i
        + \alpha \sum_j \big(\|V_j\|_2 + \|W_j\|_2\big)
        \quad \text{s.t.} \quad (2 D_j - I) X V_j \ge \epsilon \|V_j^f\|_1,\;
        (2 D_j - I) X W_j \ge \epsilon \|W_j^f\|_1,

    where ``u^f`` are the first ``n_perturbed`` coordinates (the features an attacker
    moves by at most ``eps`` each), ``a_i = sum_j D_j[i] (V_j^f - W_j^f)`` and the
    worst-case loss is ``l(y_i f_i - eps ||a_i||_1)`` for ``log_loss`` / ``hinge``
    (``y = +-1``) and ``(|y_i - f_i| + eps ||a_i||_1)^2 / (2 c)`` for
    ``squared_error`` (``c`` outputs). The constraints keep every unit's pattern fixed
    on each training point's ``eps``-ball, so the worst case is exact there: no
    perturbation of a training point can do worse. ``eps = 0`` is the program of
    :func:`solve_relu`. Solved by restarted PDHG (:mod:`skconvexnn.solvers.pdhg`).

    Parameters
    ----------
    X, Y, gates, alpha, sample_weight, strict_patterns, backend, verbose
        As in :func:`solve_relu`; ``Y`` holds +-1 labels for the margin losses.
        Sparse ``X`` is densified.
    n_jobs : {None, 1}, default=None
        The program is solved on one thread (PDHG's products are plain BLAS calls,
        and OpenBLAS's own threads collapse on a loaded machine); any other value is
        refused.
    eps : float
        The l_inf radius, ``>= 0``.
    loss : {"log_loss", "hinge", "squared_error"}, default="log_loss"
    n_perturbed : int, default=None
        How many leading columns of ``X`` an attacker moves (the estimators leave the
        intercept column, last, out); None: all.
    coef_init : ndarray of shape (2, n_features, n_gates, n_outputs), default=None
    tol : float, default=1e-6
        Target relative duality gap and relative constraint violation.
    max_iter : int, default=20000
        PDHG iterations per output.

    Returns
    -------
    RobustReLUSolution
    """
    loss = as_loss(loss)
    if not loss.robust:
        raise ValueError(f"loss must be one with a worst case over the l_inf ball, one of "
                         f"{sorted(loss_names('classification', robust=True))} or "
                         f"{sorted(loss_names('regression', robust=True))}; got {loss!r}.")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a non-negative finite number; got {eps!r}.")
    if n_jobs not in (None, 1):
        raise ValueError(f"The robust program is solved on one thread (its PDHG's products "
                         f"are plain BLAS calls, pinned to one thread): n_jobs must be None "
                         f"or 1; got {n_jobs!r}. Run several fits in parallel instead "
                         f"(e.g. GridSearchCV(n_jobs=...)).")
    X, Y, gates, sample_weight, coef_init = _validate(
        X, Y, gates, alpha, loss, sample_weight, coef_init,
        lambda d, g, c: (2, d, g, c), backend)
    kernels = get_backend(backend, X)
    if loss.kind == "margin" and not np.all(np.abs(Y) == 1):
        raise ValueError(f"loss={loss.name!r} needs labels +-1 in Y.")
    n_perturbed = X.shape[1] if n_perturbed is None else int(n_perturbed)
    if not 0 <= n_perturbed <= X.shape[1]:
        raise ValueError(f"n_perturbed must be in [0, {X.shape[1]}]; got {n_perturbed}.")
    dense = X.toarray() if sparse.issparse(X) else np.asarray(X)
    rows = np.ascontiguousarray(dense, dtype=np.float64)
    n_outputs = Y.shape[1]
    weights = sample_weight / sample_weight.sum()
    if loss.kind == "residual":  # averaged over the outputs
        weights = weights / n_outputs
    # PDHG's products are plain BLAS calls, and OpenBLAS's busy-waiting threads
    # collapse on a loaded machine (a 17 s fit took 468 s; benchmarks/RESULTS.md
    # section 8.2): one thread.
    with threadpool_limits(limits=1, user_api="blas"):
        mask, keep = activation_patterns(rows, gates, strict=strict_patterns)
        P, d = mask.shape[1], rows.shape[1]
        coef = np.zeros((2, d, P, n_outputs))
        results, history, offset_iter, offset_time = [], [], 0, 0.0
        for k in range(n_outputs):
            U0 = None
            if coef_init is not None:
                U0 = np.hstack([coef_init[0, :, keep, k].T, coef_init[1, :, keep, k].T])
            result = solve_robust_pdhg(rows, mask, Y[:, k], weights, alpha, eps,
                                       n_perturbed, loss, U0=U0, tol=tol,
                                       max_iter=max_iter, verbose=verbose,
                                       label=f"robust output {k}" if n_outputs > 1
                                       else "robust",
                                       candidate_directions=gates[:, keep],
                                       kernels=kernels)
            coef[0, :, :, k], coef[1, :, :, k] = result.U[:, :P], result.U[:, P:]
            history += [(it + offset_iter, t + offset_time, obj, gap)
                        for it, t, obj, gap in result.history]
            offset_iter += result.n_iter
            offset_time += result.history[-1][1] if result.history else 0.0
            results.append(result)
    coef = coef.astype(X.dtype)
    weights64 = coef.astype(np.float64)
    primal = sum(r.primal for r in results)
    dual = sum(r.dual for r in results)
    penalty = alpha * float(np.sqrt(np.einsum("sdpk,sdpk->spk", weights64, weights64)).sum())
    output = np.einsum("np,dpk,nd->nk", mask.astype(np.float64), weights64[0] - weights64[1],
                       rows)
    violation = robust_constraint_violation(rows, mask, weights64, eps, n_perturbed)
    # The gap certifies the returned weights only where they satisfy the constraints.
    feasible = certificate_holds(violation, rows, weights64, X.dtype)
    if not feasible:
        gap = np.nan
    else:
        gap = max(primal - dual, 0.0) / primal if primal > 0 else 0.0
    return RobustReLUSolution(
        weights=coef, gate_indices=keep, patterns=mask, objective=primal,
        dual_objective=dual, duality_gap=gap, n_iter=offset_iter,
        converged=feasible and all(r.converged for r in results), stalled=False,
        objective_curve=_summed_curves([r.objectives for r in results]),
        output=output,
        history=_history(history),
        step=None, constraint_violation=violation, worst_case_loss=primal - penalty)


def certificate_holds(violation, X, weights, dtype):
    """Whether a constraint violation is only rounding, so that a duality gap computed
    at ``weights`` certifies them.

    The violation is measured relative to ``max_i ||x_i|| * max ||u||`` (the size of
    the pre-activations it is a slack of) and compared with ``1000`` times the
    precision of the weights (``1e-10`` at least: the cone projections stop at
    ``1e-12``). Anything larger is a real violation: a unit could switch on a
    training point, and the network would not be the convex model the gap speaks of.
    """
    if violation == 0:
        return True
    weights = np.asarray(weights, dtype=np.float64)
    # Blocks are indexed by (..., n_features, n_patterns, n_outputs).
    u_scale = float(np.sqrt((weights ** 2).sum(axis=-3).max())) if weights.size else 0.0
    X = X.toarray() if sparse.issparse(X) else np.asarray(X)
    x_scale = float(np.sqrt(np.einsum("nd,nd->n", X, X).max())) if X.size else 0.0
    scale = x_scale * u_scale
    tolerance = max(1e-10, 1000 * float(np.finfo(dtype).eps))
    return scale > 0 and violation <= tolerance * scale


def robust_constraint_violation(X, mask, weights, eps, n_perturbed):
    """Largest ``eps ||u^f||_1 - min_i (2 D_j - I)_ii x_i . u`` over the non-zero blocks
    ``u`` of ``weights`` (2, d, P, c), evaluated in float64; 0 when all are feasible.

    ``eps = 0`` gives the violation of the ReLU program's cones.
    """
    weights = np.asarray(weights, dtype=np.float64)
    signs = 2.0 * np.asarray(mask, dtype=np.float64) - 1.0
    worst = 0.0
    for s in range(weights.shape[0]):
        for k in range(weights.shape[3]):
            U = weights[s, :, :, k]
            active = np.flatnonzero(np.einsum("dp,dp->p", U, U) > 0)
            if len(active) == 0:
                continue
            slack = (signs[:, active] * (X @ U[:, active])).min(axis=0)
            if eps > 0:
                slack -= eps * np.abs(U[:n_perturbed, active]).sum(axis=0)
            worst = max(worst, float(-slack.min()))
    return worst
