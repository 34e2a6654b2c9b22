"""Group lasso on the gated design: FISTA inside a working-set loop, certified by the gap.

Optimal supports are small (tens of groups out of thousands), so most of the ``P * c``
groups stay zero. The outer loop (as in celer, Massias et al. 2018, and skglm) does
one full adjoint product at the current point, which gives

- the duality gap of the *full* problem (the certificate; the best dual value is
  kept across outer iterations), and
- the groups whose optimality condition ``||A_g^T grad L|| <= alpha`` is most violated;

then solves the problem restricted to a working set (the current support plus the
worst violators, at least 1.5 times the support) with FISTA, to a fraction of the
current gap. Each inner run continues the last one's momentum on the columns the two
working sets share (restarting it at every outer iteration took 1.5-2x the
iterations). Only the largest bounds matter to both, so the ReLU program projects only
the columns that may be among them (``dual_bounds(..., n_largest=...)``).
``solver="fista"`` runs FISTA on every group instead (one outer iteration).
"""

import time
from dataclasses import dataclass, field

import numpy as np

from .._progress import Progress
from .registry import resolve_solver
#: Smallest working set.
_WS_MIN_SIZE = 16
#: Size of the working set, in units of the current support (celer doubles it; 1.5
#: fitted digits' exact ReLU model ~20% faster and no benchmark slower, RESULTS 25).
_WS_GROWTH = 1.5
#: Inner solves stop at this fraction of the outer duality gap (celer uses 0.3).
_INNER_GAP_FRACTION = 0.3


@dataclass
class GroupLassoResult:
    """Solution of the gated group lasso and its certificate."""

    U: np.ndarray
    F: np.ndarray
    primal: float
    dual: float
    n_iter: int
    converged: bool
    stalled: bool = False
    objectives: list = field(default_factory=list)
    #: Step size FISTA ended with (a warm start along a path can begin with it).
    step: float = None
    #: One ``(n_iter, seconds, primal, relative_gap)`` per certificate evaluation.
    history: list = field(default_factory=list)

    @property
    def gap(self):
        """Absolute duality gap ``primal - dual`` (>= 0 up to rounding)."""
        return self.primal - self.dual

    @property
    def relative_gap(self):
        """``gap / primal``: a bound on the relative distance to the optimal value."""
        return self.gap / self.primal if self.primal > 0 else 0.0


def _initial_step(op, loss):
    lipschitz = loss.curvature * op.squared_norm_estimate(loss.weights)
    return 1.0 / lipschitz if lipschitz > 0 else 1.0


def solve_group_lasso(design, loss, penalty, U, *, tol, max_iter, solver="auto",
                      verbose=0, callback=None, step=None):
    """Minimise ``L(A U) + alpha * sum_g ||U_g||`` to relative duality gap ``tol``.

    Runs in the data's precision. When float32 rounding stops the gap from shrinking
    before ``tol``, the solve continues in float64 from where it stopped, and the
    weights come back in float32 with the certificate of those returned weights
    (evaluated in float64). Arguments as in :func:`solve_group_lasso_at_precision`.
    """
    result = solve_group_lasso_at_precision(design, loss, penalty, U, tol=tol,
                                            max_iter=max_iter, solver=solver,
                                            verbose=verbose, callback=callback, step=step)
    if not result.stalled or design.dtype == np.float64:
        return result
    polished = solve_group_lasso_at_precision(
        design.astype(np.float64), loss, penalty, result.U, tol=tol,
        max_iter=max(0, max_iter - result.n_iter), solver=solver, verbose=verbose,
        callback=callback, label="skconvexnn, float64 polish")
    final = solve_group_lasso_at_precision(design, loss, penalty, polished.U, tol=tol,
                                           max_iter=0)
    final.n_iter = result.n_iter + polished.n_iter
    final.objectives = result.objectives + polished.objectives
    offset = result.history[-1][1] if result.history else 0.0
    final.history = result.history + [
        (result.n_iter + it, offset + seconds, primal, gap)
        for it, seconds, primal, gap in polished.history]
    # Still short of tol: float32 cannot represent a better-certified solution.
    final.stalled = not final.converged and polished.converged
    return final


def solve_group_lasso_at_precision(design, loss, penalty, U, *, tol, max_iter,
                                   solver="auto", verbose=0, callback=None, step=None,
                                   label="skconvexnn"):
    """Minimise ``L(A U) + alpha * sum_g ||U_g||`` in the precision of ``design``.

    Parameters
    ----------
    design : GatedReLUDesign
    loss : loss object from :mod:`skconvexnn.losses`
    penalty : GroupL2
    U : ndarray of shape (d, n_groups)
        Starting point (zeros, or a warm start).
    tol : float
        Stop when ``(primal - dual) / primal <= tol``.
    max_iter : int
        Budget of FISTA iterations, over all outer iterations.
    solver : {"auto", "working_set", "fista"} or Solver
        A solver of the registry with an ``inner`` method (``"auto"``: working set).
    verbose : int
        0: silent; 1: a progress bar (iterations, objective, gap); 2: a line per
        iteration.
    callback : callable, optional
        ``callback(objective)`` after every FISTA iteration (benchmarks time it).
    step : float, optional
        Initial step size; None estimates ``1 / Lipschitz`` by power iteration. (A
        path passes the previous solve's final step; backtracking corrects it.)
    label : str, default="skconvexnn"
        Name on the progress lines.

    Returns
    -------
    GroupLassoResult
        ``stalled`` when float32 rounding stopped progress before ``tol``.
    """
    solver = resolve_solver(solver, "group_lasso", "working_set")
    use_working_set = solver.working_set
    norms = design.kernels.group_norms
    alpha = penalty.alpha
    all_groups = np.arange(design.n_groups, dtype=np.int64)
    U = np.array(U, dtype=design.dtype, order="C")
    support = np.flatnonzero(norms(U) > 0)
    F = design.restrict(support).forward(U[:, support])

    best_dual = -np.inf
    n_iter = 0
    objectives = []
    converged = stalled = False
    history = []
    progress = Progress(verbose, max_iter, tol, label=label)
    inner_objectives = []  # this outer iteration's, for the progress lines
    if verbose >= 1:
        user_callback = callback

        def callback(objective):
            progress.update(n_iter + len(inner_objectives), objective)
            inner_objectives.append(objective)
            if user_callback is not None:
                user_callback(objective)

    start = time.perf_counter()
    carried = None  # (groups, momentum) of the last inner run that handed it back
    while True:
        # The certificate, in float64 whatever the working precision.
        if design.dtype == np.float64:
            F_check = F
        else:
            support = np.flatnonzero(norms(U) > 0)
            F_check = design.restrict(support).forward(U[:, support], dtype=np.float64)
        gradient = design.full_adjoint(loss.gradient(F_check), dtype=np.float64)
        weight_norms = norms(U)
        # The working set adds the largest bounds of the zero groups to the support:
        # only those (and the largest, for the certificate) need their projections.
        n_support = int((weight_norms > 0).sum())
        size = int(min(design.n_groups, max(_WS_MIN_SIZE, int(_WS_GROWTH * n_support))))
        bounds = penalty.dual_bounds(U, gradient, step if step is not None else 1.0,
                                     n_largest=size - n_support if use_working_set
                                     else None)
        kappa = penalty.dual_scaling(bounds)
        best_dual = max(best_dual, loss.dual_value(F_check, kappa))
        primal = loss.value(F_check) + penalty.value_from_norms(weight_norms)
        gap = primal - best_dual
        relative_gap = gap / primal if primal > 0 else 0.0
        history.append((n_iter, time.perf_counter() - start, primal, relative_gap))
        progress.update(n_iter, primal, relative_gap,
                        note=f"{int((weight_norms > 0).sum())} active groups")
        if gap <= tol * primal:
            converged = True
            break
        if n_iter >= max_iter or stalled:
            break
        inner_objectives = []

        if use_working_set:
            support = weight_norms > 0
            score = bounds / alpha
            score[support] = np.inf
            groups = np.sort(np.argpartition(-score, size - 1)[:size]).astype(np.int64)
            tol_abs, tol_rel = _INNER_GAP_FRACTION * gap, 0.0
        else:
            groups = all_groups
            tol_abs, tol_rel = 0.0, tol
        op = design.restrict(groups)
        if step is None:
            step = _initial_step(op, loss)

        momentum = {} if carried is None else {
            "momentum": momentum_on(groups, *carried, op, norms)}
        inner = solver.inner(op, loss, penalty.restrict(groups), U[:, groups], F,
                             step=step, max_iter=max_iter - n_iter, tol_abs=tol_abs,
                             tol_rel=tol_rel, callback=callback, **momentum)
        if getattr(inner, "momentum", None) is not None:
            carried = (groups, inner.momentum)
        U[:, groups] = inner.U
        F = inner.F
        step = inner.step
        stalled = inner.stalled
        if not use_working_set and (design.dtype == np.float64 or inner.dual_in_float64):
            # With every group in play the inner dual points are feasible for the full
            # problem, so their best value is a certificate too (in float64).
            best_dual = max(best_dual, inner.dual)
        n_iter += inner.n_iter
        objectives.extend(inner.objectives)

    progress.close(n_iter, primal, relative_gap,
                   "converged" if converged else "stalled (precision)" if stalled
                   else "max_iter reached")
    return GroupLassoResult(U=U, F=F, primal=primal, dual=best_dual, n_iter=n_iter,
                            converged=converged, stalled=stalled and not converged,
                            objectives=objectives, history=history, step=step)


def momentum_on(groups, old_groups, momentum, op, norms):
    """An inner run's ``momentum = (Y, A Y, t)`` on ``old_groups``, moved to ``groups``
    (both sorted; ``op`` the design restricted to ``groups``).

    Shared columns keep their extrapolated weights, new ones start at zero. The output
    ``A Y`` is kept when every dropped column of ``Y`` is zero (then it is unchanged),
    else computed again.
    """
    Y_old, FY_old, t = momentum
    position = np.searchsorted(old_groups, groups)
    shared = position < len(old_groups)
    shared[shared] = old_groups[position[shared]] == groups[shared]
    Y = np.zeros((Y_old.shape[0], len(groups)), dtype=Y_old.dtype)
    Y[:, shared] = Y_old[:, position[shared]]
    dropped = np.ascontiguousarray(Y_old[:, ~np.isin(old_groups, groups)])
    if dropped.shape[1] and np.any(norms(dropped) > 0):
        return Y, op.forward(Y), t
    return Y, FY_old, t
