"""Regularization paths: ``alpha_max`` from the dual, and warm-started solves down a grid.

As for the Lasso (:func:`sklearn.linear_model.lasso_path`), the zero network is optimal
exactly when the loss gradient at zero is dual feasible, which gives the smallest
``alpha`` with no hidden unit in closed form; a decreasing grid from there, each solve
started from the previous solution, costs far less than cold fits at every ``alpha``.
"""

import time
import warnings
from dataclasses import dataclass, replace
from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .losses import Loss, loss_names
from .programs import PROGRAMS, GatedReLUProgram, solve
from .solvers import Solver

#: The losses the gated and ReLU programs take (those with a gradient).
SMOOTH_LOSSES = loss_names("classification", smooth=True) | loss_names("regression",
                                                                       smooth=True)


@validate_params(
    {"X": ["array-like", "sparse matrix"], "Y": ["array-like"], "gates": ["array-like"],
     "program": [StrOptions(set(PROGRAMS))],
     "loss": [StrOptions(SMOOTH_LOSSES), Loss],
     "sample_weight": ["array-like", None], "strict_patterns": ["boolean"],
     "backend": [str]},
    prefer_skip_nested_validation=True)
def alpha_max(X, Y, gates, *, program="gated", loss="squared_error", sample_weight=None,
              strict_patterns=False, backend="auto"):
    """Smallest ``alpha`` at which the zero network solves the convex program.

    The zero weights are optimal exactly when ``-grad L(0)`` is dual feasible: for the
    gated program when ``||(D_j X)^T grad_k L(0)|| <= alpha`` for every pattern ``j``
    and output ``k``; for the ReLU program when the projections of
    ``-+(D_j X)^T grad_k L(0)`` onto the activation cones are that short. The maximum
    of these norms is ``alpha_max``: at any smaller ``alpha`` at least one hidden unit
    is active.

    Parameters
    ----------
    X, Y, gates, loss, sample_weight, strict_patterns, backend
        As in :func:`skconvexnn.solve_gated_relu`.
    program : {"gated", "relu"}, default="gated"
        The gated program (:func:`~skconvexnn.solve_gated_relu`) or the cone-constrained
        ReLU program (:func:`~skconvexnn.solve_relu`).

    Returns
    -------
    float
        ``alpha_max`` (0 when no pattern can fit anything: the targets are already
        optimal at zero output).

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import alpha_max, solve_gated_relu
    >>> rng = np.random.default_rng(0)
    >>> X, gates = rng.standard_normal((50, 3)), rng.standard_normal((3, 10))
    >>> y = np.maximum(X[:, 0], 0)
    >>> top = alpha_max(X, y, gates)
    >>> solve_gated_relu(X, y, gates, top).n_active, solve_gated_relu(X, y, gates, 0.9 * top).n_active > 0
    (0, True)
    """
    program = PROGRAMS[program](strict_patterns=strict_patterns)
    return program.alpha_max(X, Y, gates, loss=loss, sample_weight=sample_weight,
                             backend=backend)


def alpha_grid(top, n_alphas=20, eps=1e-3):
    """``n_alphas`` values from ``top`` down to ``eps * top``, evenly spaced in log scale."""
    if not (np.isfinite(top) and top > 0):
        raise ValueError(f"alpha_max is {top!r}: the zero network is optimal for every "
                         "alpha (are the targets constant?), so there is no path.")
    return np.geomspace(top, top * eps, n_alphas)


def secant_prediction(alphas, coefs, alpha):
    """Predict the solution at ``alpha`` from the last two of a path, linearly in
    ``log(alpha)`` (a secant predictor, as in homotopy continuation).

    Parameters
    ----------
    alphas : sequence of two floats
        The previous two values of ``alpha``.
    coefs : sequence of two ndarrays
        The solutions there, in one layout.
    alpha : float
        The next value.

    Returns
    -------
    ndarray
        ``coefs[1] + t * (coefs[1] - coefs[0])`` with
        ``t = log(alphas[1] / alpha) / log(alphas[0] / alphas[1])``. A warm start only:
        the solver corrects it (and projects it onto the cones for the ReLU program).
    """
    t = np.log(alphas[1] / alpha) / np.log(alphas[0] / alphas[1])
    return coefs[1] + t * (coefs[1] - coefs[0])


class FixedGates:
    """Gates that do not change along a path: the same program at every ``alpha``.

    Parameters
    ----------
    gates : ndarray of shape (n_features, n_gates)
    """

    def __init__(self, gates):
        self.gates = gates

    def at(self, alpha):
        """The gates of the program at ``alpha``: always ``gates``."""
        return self.gates


class GatedUnitGates:
    """Sampled gates plus the hidden units of the gated program at each ``alpha``.

    How the ReLU estimators choose patterns with ``patterns="gated"``: at ``alpha``,
    the gated program (:class:`~skconvexnn.programs.GatedReLUProgram`) is solved on the
    sampled gates, and the input weights of its hidden units join the sampled gates as
    gates of their own (each unit's own activation pattern, the pattern the gated
    network would learn). Down a path, each gated solve starts from the previous one.

    Parameters
    ----------
    sampled : ndarray of shape (n_features, n_sampled)
        The sampled gates.
    X, Y, loss, sample_weight
        The gated program's data (``X`` with its intercept column), as in
        :func:`~skconvexnn.solve_gated_relu`.
    gated_coef : ndarray of shape (n_features, n_sampled, n_outputs), default=None
        Starting weights of the first gated solve (a previous fit's, from
        :attr:`gated_coef`).
    **options
        ``tol``, ``max_iter``, ``solver``, ``backend``, ``n_jobs`` of the gated solves.
    """

    def __init__(self, sampled, X, Y, loss, sample_weight, gated_coef=None, **options):
        self.sampled = sampled
        self._data = (X, Y, loss, sample_weight)
        self.gated_coef = gated_coef
        self._options = options

    def detached(self):
        """The same source without its data (what a fitted estimator keeps for a warm
        fit: the sampled gates and the last gated solution, not the training rows)."""
        return GatedUnitGates(self.sampled, None, None, None, None, self.gated_coef,
                              **self._options)

    def at(self, alpha):
        """The sampled gates followed by the gated program's hidden units at ``alpha``."""
        X, Y, loss, sample_weight = self._data
        if X is None:
            raise RuntimeError("a detached GatedUnitGates has no data to solve on.")
        gated = solve(GatedReLUProgram(), X, Y, self.sampled, alpha, loss=loss,
                      sample_weight=sample_weight, coef_init=self.gated_coef,
                      **self._options)
        self.gated_coef = in_gate_layout(gated.weights, gated.gate_indices,
                                         self.sampled.shape[1])
        units = gated.weights.reshape(X.shape[1], -1)
        units = units[:, np.einsum("dw,dw->w", units, units, dtype=np.float64) > 0]
        return np.hstack([self.sampled, units.astype(np.float64)])


def in_gate_layout(weights, gate_indices, n_gates):
    """Weights of a solution (its kept gates on axis -2) in the layout of all
    ``n_gates`` gates, zero for gates whose pattern was empty or a duplicate."""
    full = np.zeros(weights.shape[:-2] + (n_gates, weights.shape[-1]), dtype=weights.dtype)
    full[..., gate_indices, :] = weights
    return full


def transfer_by_pattern(X, old_gates, coef, new_gates):
    """Weights ``coef`` of ``old_gates`` (gates on axis -2) moved to the first of
    ``new_gates`` with the same activation pattern on ``X``; zero for the others.

    A warm start for a program whose gates changed: a block's pattern, not its gate,
    is what the program sees.
    """
    old_patterns = np.asarray(X @ old_gates) >= 0
    new_patterns = np.asarray(X @ new_gates) >= 0
    columns = {}
    for j in range(new_patterns.shape[1]):
        columns.setdefault(new_patterns[:, j].tobytes(), j)
    moved = np.zeros(coef.shape[:-2] + (new_gates.shape[1], coef.shape[-1]),
                     dtype=coef.dtype)
    for j in range(old_patterns.shape[1]):
        target = columns.get(old_patterns[:, j].tobytes())
        if target is not None:
            moved[..., target, :] = coef[..., j, :]
    return moved


@dataclass
class PathPoint:
    """One solve of a path: where the next solve starts from.

    Attributes
    ----------
    alpha : float
    gates : ndarray of shape (n_features, n_gates)
        The gates of the program solved.
    coef : ndarray
        The solution's weights in the layout of ``gates``
        (:func:`in_gate_layout`).
    solver_state : object
        What the solver takes up again at the next solve (FISTA's step size; None for
        PDHG), opaque to everything but the solver.
    solution : object or None
        The solution (:mod:`skconvexnn.solutions`), with its certificate (None in the
        point a fitted estimator keeps: :meth:`for_warm_start`).
    fit_time : float
        Seconds of the solve (with the gates' own, for :class:`GatedUnitGates`).
    """

    alpha: float
    gates: np.ndarray
    coef: np.ndarray
    solver_state: Any
    solution: Any
    fit_time: float

    def for_warm_start(self):
        """The point without its solution: all a later solve starts from (a solution
        holds per-row arrays, the patterns and outputs, that a fitted model need not
        keep)."""
        return replace(self, solution=None)


def _warm_start(X, previous, gates, alpha):
    """Starting weights (layout of ``gates``) and solver state at ``alpha``, from the
    last one or two points of a path: their secant prediction when the last two share
    ``gates``, the last solution when it does, else that solution moved by pattern."""
    if not previous:
        return None, None
    last = previous[-1]
    state = last.solver_state
    if _same_gates(last.gates, gates):
        if len(previous) == 2 and _same_gates(previous[0].gates, gates):
            first = previous[0]
            return secant_prediction([first.alpha, last.alpha], [first.coef, last.coef],
                                     alpha), state
        return last.coef, state
    return transfer_by_pattern(X, last.gates, last.coef, gates), state


def _same_gates(first, second):
    return first is second or (first.shape == second.shape
                               and np.array_equal(first, second))


def iter_path(program, X, Y, gates, alphas, *, loss="squared_error", sample_weight=None,
              tol=1e-6, max_iter=10000, solver="auto", backend="auto", n_jobs=None,
              verbose=0, start=None):
    """Solve ``program`` at each of ``alphas`` in turn, each solve warm-started from the
    ones before; yield a :class:`PathPoint` per ``alpha``.

    The one warm-start loop of the package: :func:`path`, the estimators' ``fit``
    (a path of one ``alpha``, started from the previous fit with ``warm_start``) and
    the CV estimators' folds all walk it. From the third ``alpha`` on, a solve starts
    from the :func:`secant_prediction` of the two before (when they share their
    gates); the solver also takes up its own state where the last solve left it
    (FISTA's step size).

    Parameters
    ----------
    program : ConvexProgram
        The program (:mod:`skconvexnn.programs`).
    X, Y, loss, sample_weight, tol, max_iter, solver, backend, n_jobs, verbose
        As in :func:`~skconvexnn.solve_gated_relu`.
    gates : ndarray of shape (n_features, n_gates), FixedGates or GatedUnitGates
        The gates, or what gives the gates at each ``alpha`` (its ``at(alpha)``).
    alphas : sequence of float
        In the order solved (decreasing, for warm starts that help).
    start : PathPoint, default=None
        A previous point to start from (a warm ``fit``).

    Yields
    ------
    PathPoint
    """
    source = gates if hasattr(gates, "at") else FixedGates(gates)
    previous = [] if start is None else [start]
    for alpha in alphas:
        alpha = float(alpha)
        begin = time.perf_counter()
        at_alpha = source.at(alpha)
        coef_init, step = _warm_start(X, previous, at_alpha, alpha)
        solution = solve(program, X, Y, at_alpha, alpha, loss=loss,
                         sample_weight=sample_weight, coef_init=coef_init, tol=tol,
                         max_iter=max_iter, solver=solver, backend=backend, n_jobs=n_jobs,
                         verbose=verbose, step=step)
        coef = in_gate_layout(solution.weights, solution.gate_indices, at_alpha.shape[1])
        point = PathPoint(alpha, at_alpha, coef, solution.step, solution,
                          time.perf_counter() - begin)
        previous = previous[-1:] + [point]
        yield point


@dataclass
class RegularizationPath:
    """Solutions of a convex program along a decreasing grid of ``alpha``.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        The grid, decreasing.
    alpha_max : float or None
        Smallest ``alpha`` with the zero network optimal (None when ``alphas`` was
        given).
    coefs : ndarray of shape (n_alphas, n_features, n_gates, n_outputs) or \
(n_alphas, 2, n_features, n_gates, n_outputs)
        The weights at every ``alpha``, in the layout of the input ``gates`` (zero for
        gates whose pattern was empty or a duplicate).
    objectives : ndarray of shape (n_alphas,)
        Objective at every ``alpha``.
    duality_gaps : ndarray of shape (n_alphas,)
        Relative duality gap (the certificate) at every ``alpha``.
    n_active : ndarray of shape (n_alphas,)
        Hidden units (non-zero blocks) at every ``alpha``.
    n_iter : ndarray of shape (n_alphas,)
        FISTA iterations of every solve.
    converged : ndarray of shape (n_alphas,), bool
        Whether every solve reached ``tol``.
    fit_times : ndarray of shape (n_alphas,)
        Seconds of every solve.
    constraint_violations : ndarray of shape (n_alphas,)
        Largest cone-constraint violation (zeros for the gated program).
    """

    alphas: np.ndarray
    alpha_max: float
    coefs: np.ndarray
    objectives: np.ndarray
    duality_gaps: np.ndarray
    n_active: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    fit_times: np.ndarray
    constraint_violations: np.ndarray


@validate_params(
    {"X": ["array-like", "sparse matrix"], "Y": ["array-like"], "gates": ["array-like"],
     "program": [StrOptions(set(PROGRAMS))],
     "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
     "eps": [Interval(Real, 0, 1, closed="neither")],
     "loss": [StrOptions(SMOOTH_LOSSES), Loss],
     "sample_weight": ["array-like", None], "strict_patterns": ["boolean"],
     "tol": [Interval(Real, 0, None, closed="neither")],
     "max_iter": [Interval(Integral, 1, None, closed="left")],
     "solver": [str, Solver], "backend": [str], "n_jobs": [Integral, None]},
    prefer_skip_nested_validation=True)
def path(X, Y, gates, *, program="gated", alphas=20, eps=1e-3, loss="squared_error",
         sample_weight=None, strict_patterns=False, tol=1e-6, max_iter=10000,
         solver="auto", backend="auto", n_jobs=None):
    """Solve a convex program for a decreasing grid of ``alpha``, with warm starts.

    The analogue of :func:`sklearn.linear_model.lasso_path` for the programs of
    :func:`~skconvexnn.solve_gated_relu` and :func:`~skconvexnn.solve_relu`: the grid
    starts at :func:`alpha_max`, where the network is exactly zero, and each solve
    starts from the previous solution, extrapolated along the path from the two before
    (:func:`secant_prediction`). Every point carries its certificate.

    Parameters
    ----------
    X, Y, gates, loss, sample_weight, strict_patterns, tol, max_iter, solver, backend, n_jobs
        As in :func:`~skconvexnn.solve_gated_relu` (``X`` as the solver sees it: append
        a column of ones for an intercept).
    program : {"gated", "relu"}, default="gated"
        Which convex program.
    alphas : int or array-like, default=20
        Number of ``alpha`` values on a log grid from ``alpha_max`` down to
        ``eps * alpha_max``, or the values themselves (solved in decreasing order).
    eps : float, default=1e-3
        Length of the log grid: ``alpha_min / alpha_max``.

    Returns
    -------
    RegularizationPath

    Warns
    -----
    ConvergenceWarning
        When a solve stops at ``max_iter`` above ``tol`` (its gap is in the result).

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import path
    >>> rng = np.random.default_rng(0)
    >>> X, gates = rng.standard_normal((60, 3)), rng.standard_normal((3, 20))
    >>> y = np.maximum(X[:, 0], 0) - X[:, 1]
    >>> result = path(X, y, gates, alphas=5)
    >>> int(result.n_active[0]), bool(result.n_active[1] > 0)
    (0, True)
    >>> bool(np.all(result.duality_gaps <= 1e-6))
    True
    """
    if isinstance(alphas, Integral):
        top = alpha_max(X, Y, gates, program=program, loss=loss,
                        sample_weight=sample_weight, strict_patterns=strict_patterns,
                        backend=backend)
        grid = alpha_grid(top, alphas, eps)
    else:
        top = None
        grid = np.sort(np.asarray(alphas, dtype=np.float64).ravel())[::-1]
        if grid.size == 0 or not np.all(np.isfinite(grid)) or grid[-1] <= 0:
            raise ValueError("alphas must be positive finite numbers; got "
                             f"{np.asarray(alphas)!r}.")
    program = PROGRAMS[program](strict_patterns=strict_patterns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        points = list(iter_path(program, X, Y, np.asarray(gates), grid, loss=loss,
                                sample_weight=sample_weight, tol=tol, max_iter=max_iter,
                                solver=solver, backend=backend, n_jobs=n_jobs))
    records = [(point.coef, point.solution.objective, point.solution.duality_gap,
                point.solution.n_active, point.solution.n_iter, point.solution.converged,
                point.fit_time, getattr(point.solution, "constraint_violation", 0.0))
               for point in points]
    coefs, objectives, gaps, active, iters, converged, times, violations = zip(*records)
    result = RegularizationPath(
        alphas=grid, alpha_max=top, coefs=np.stack(coefs),
        objectives=np.array(objectives), duality_gaps=np.array(gaps),
        n_active=np.array(active), n_iter=np.array(iters),
        converged=np.array(converged), fit_times=np.array(times),
        constraint_violations=np.array(violations))
    if not result.converged.all():
        worst = int(np.argmax(result.duality_gaps))
        warnings.warn(
            f"path: {int((~result.converged).sum())} of {len(grid)} solves stopped at "
            f"max_iter={max_iter} above tol={tol:g} (worst relative gap "
            f"{result.duality_gaps[worst]:.2e} at alpha={grid[worst]:.3g}).",
            ConvergenceWarning)
    return result
