"""FISTA with backtracking, step growth and adaptive restart, stopping on the duality gap.

Minimises ``L(A_W U) + alpha * sum_w ||U[:, w]||`` over the columns ``W`` in play
(all of them, or a working set). The iteration (Beck & Teboulle 2009) is the one scnn
calls R-FISTA, with its momentum written correctly (``t+ = (1 + sqrt(1 + 4 t^2)) / 2``):

1. at the extrapolated point ``Y``: gradient ``G = A^T grad L(A Y)``;
2. ``X+ = prox_{step * penalty}(Y - step * G)``, backtracking (``step *= 1/2``) until the
   quadratic upper bound holds; the step grows by 1.25 when the bound is loose by 5x
   (Liu et al.'s Lassplore rule, as scnn). For the ReLU program the prox projects onto
   the activation cones first, so every iterate is feasible;
3. momentum, restarted when the gradient-mapping test fails (O'Donoghue & Candes 2015).

One forward product (at ``X+``) and one adjoint (at ``Y``) per iteration: the output at
the extrapolated point is extrapolated too (``A Y+ = A X+ + beta (A X+ - A X)``).

The gradient at ``Y`` also gives a dual point ``Theta = -kappa grad L(A Y)``, with
``kappa`` from the dual bounds the penalty gives with its prox
(``prox_and_dual_bounds``), so every iteration knows a duality gap for free: the best
dual value seen so far against the current primal value. The loop stops when that gap
is below the tolerance.
"""

from dataclasses import dataclass, field

import numpy as np

#: Slack of the sufficient-decrease test, in units of the working precision times the
#: loss's rounding scale ``|L| + <|grad L|, |F|>`` (a relative error ``eps`` in the
#: outputs ``F`` moves the loss by up to ``eps <|grad L|, |F|>``, far more than
#: ``eps |L|`` when the fit is close): rounding near the optimum must not make
#: backtracking shrink the step forever.
_DECREASE_SLACK_EPS = 100
#: In low precision (float32) the gradient's rounding puts a floor under the duality
#: gap: stop as stalled when the best gap has not shrunk by ``_STALL_FACTOR`` in
#: ``_STALL_WINDOW`` iterations. (In float64 the objective can look flat while the
#: iterate and the gap still improve, so only ``max_iter`` stops it.)
_STALL_FACTOR = 0.9
_STALL_WINDOW = 200
_MAX_BACKTRACKS = 60
_GROWTH_FACTOR = 1.25
_GROWTH_LOOSENESS = 5.0


@dataclass
class FistaResult:
    """Outcome of one FISTA run on a set of columns."""

    U: np.ndarray
    F: np.ndarray
    n_iter: int
    step: float
    primal: float
    dual: float
    converged: bool
    stalled: bool = False
    objectives: list = field(default_factory=list)
    #: Whether ``dual`` was computed in float64 (else in the data's precision).
    dual_in_float64: bool = False
    #: ``(Y, A_W Y, t)``: the extrapolated point, its output and the momentum
    #: parameter the next iteration would have used (``momentum=`` continues from it).
    momentum: tuple = None


def fista(op, loss, penalty, U, F, *, step, max_iter, tol_abs, tol_rel=0.0,
          dual=-np.inf, callback=None, momentum=None):
    """Run FISTA from ``U`` (with output ``F = A_W U``) on the columns of ``op``.

    Parameters
    ----------
    op : RestrictedGatedDesign
        The design on the columns in play, ``A_W``.
    loss : loss object from :mod:`skconvexnn.losses`
    penalty : GroupL2
    U : ndarray of shape (d, len(op))
        Starting weights; not modified.
    F : ndarray of shape (n, c)
        ``op.forward(U)``.
    step : float
        Initial step size (``1 / Lipschitz`` estimate).
    max_iter : int
        Iteration budget.
    tol_abs, tol_rel : float
        Stop when ``primal - dual <= max(tol_abs, tol_rel * primal)``.
    dual : float, default=-inf
        A dual value already known for this problem (kept if better).
    callback : callable, optional
        ``callback(primal)`` after every iteration.
    momentum : tuple, optional
        ``(Y, FY, t)`` with ``FY = op.forward(Y)``: start from this extrapolated point
        and momentum parameter instead of ``(U, F, 1)`` (a working set's next run on a
        changed set of columns continues the last run's momentum; adaptive restart
        drops it if it points uphill).

    Returns
    -------
    FistaResult
        ``dual`` is the best dual value of the problem restricted to the columns of ``op``.
    """
    kernels = op.kernels
    x = U.copy()
    Fx = F.copy()
    if momentum is None:
        y = x.copy()
        Fy = Fx.copy()
        t = 1.0
    else:
        y, Fy, t = momentum
        y = np.array(y, dtype=x.dtype, order="C")
        Fy = np.array(Fy, dtype=Fx.dtype)
    x_new = np.empty_like(x)
    eps = float(np.finfo(op.dtype).eps)
    detect_stall = eps > 1e-10
    stalled = False
    best_gap, best_iter = np.inf, 0
    objectives = []
    primal = loss.value(Fx) + penalty.value(x)
    converged = primal - dual <= max(tol_abs, tol_rel * primal)
    n_iter = 0
    if not (0 < step < np.inf):
        stalled, converged = True, False  # an overflowed Lipschitz estimate
    while not converged and not stalled and n_iter < max_iter:
        n_iter += 1
        f_y, R = loss.value_and_gradient(Fy)
        G = op.adjoint(R)
        slack = _DECREASE_SLACK_EPS * eps * (abs(f_y) + float(np.abs(R * Fy).sum()))

        for _ in range(_MAX_BACKTRACKS):
            norms_new, bounds = penalty.prox_and_dual_bounds(y, G, step, x_new)
            # A cone projection has multiplied its columns by X already.
            products = penalty.products(x_new)
            Fx_new = (op.forward(x_new) if products is None
                      else op.forward_from_products(products))
            f_new = loss.value(Fx_new)
            lin, quad = kernels.step_products(G, x_new, y)
            excess = f_new - f_y - lin
            if excess <= quad / (2 * step) + slack:
                break
            step *= 0.5
            if not step > 0:
                break
        if not (step > 0 and np.isfinite(f_new)):
            # Overflow or underflow: nothing sensible is left to do at this precision.
            stalled = True
            break
        # The gradient at y gives a dual point; the penalty gave its feasibility bounds.
        dual = max(dual, loss.dual_value(Fy, penalty.dual_scaling(bounds)))
        if _GROWTH_LOOSENESS * 2 * step * excess < quad:
            step *= _GROWTH_FACTOR

        primal = f_new + penalty.value_from_norms(norms_new)
        objectives.append(primal)
        if callback is not None:
            callback(primal)

        if kernels.restart_product(y, x_new, x) > 0:
            # The momentum points uphill: restart from the new iterate.
            t = 1.0
            y[...] = x_new
            Fy = Fx_new.copy()
        else:
            t_next = (1.0 + np.sqrt(1.0 + 4.0 * t * t)) / 2.0
            beta = (t - 1.0) / t_next
            t = t_next
            kernels.extrapolate(x_new, x, beta, y)
            Fy = Fx_new + beta * (Fx_new - Fx)
        x, x_new = x_new, x
        Fx = Fx_new
        converged = primal - dual <= max(tol_abs, tol_rel * primal)
        if detect_stall and not converged:
            if primal - dual < _STALL_FACTOR * best_gap:
                best_gap, best_iter = primal - dual, n_iter
            elif n_iter - best_iter >= _STALL_WINDOW:
                stalled = True
                break

    return FistaResult(U=x, F=Fx, n_iter=n_iter, step=step, primal=primal, dual=dual,
                       converged=converged, stalled=stalled, objectives=objectives,
                       momentum=(y, Fy, t))
