"""Regularization paths: ``alpha_max`` from the dual, and warm-started solves down a grid.

As for the Lasso (:func:`sklearn.linear_model.lasso_path`), the zero network is optimal
exactly when the loss gradient at zero is dual feasible, which gives the smallest
``alpha`` with no hidden unit in closed form; a decreasing grid from there, each solve
started from the previous solution, costs far less than cold fits at every ``alpha``.
"""

import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from .losses import Loss, loss_names
from .programs import PROGRAMS, solve
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
    n_gates = np.asarray(gates).shape[1]
    coef_init = step = None
    records = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for index, alpha in enumerate(grid):
            start = time.perf_counter()
            if index >= 2:
                coef_init = secant_prediction(grid[index - 2:index],
                                              [record[0] for record in records[-2:]], alpha)
            solution = solve(program, X, Y, gates, alpha, loss=loss,
                             sample_weight=sample_weight, coef_init=coef_init, tol=tol,
                             max_iter=max_iter, solver=solver, backend=backend,
                             n_jobs=n_jobs, step=step)
            step = solution.step
            seconds = time.perf_counter() - start
            weights = solution.weights
            full = np.zeros(weights.shape[:-2] + (n_gates, weights.shape[-1]),
                            dtype=weights.dtype)
            full[..., solution.gate_indices, :] = weights
            coef_init = full
            records.append((full, solution.objective, solution.duality_gap,
                            solution.n_active, solution.n_iter, solution.converged,
                            seconds, getattr(solution, "constraint_violation", 0.0)))
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
