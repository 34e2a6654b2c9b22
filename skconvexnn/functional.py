"""Functional core: solve one convex program with explicit gates.

For benchmarks and research: the caller chooses the rows ``X`` (with an intercept
column if wanted), the targets, the gates and ``alpha``, and gets back the weights, the
objective and its certificate. Each function is :func:`skconvexnn.programs.solve` with
its program (:mod:`skconvexnn.programs`); the estimators in
:mod:`skconvexnn.estimators` go through the same entry point.
"""

from ._validation import check_magnitudes
from .programs import (GatedReLUProgram, ReLUProgram, RobustReLUProgram,
                       ThreeLayerGatedReLUProgram, ThreeLayerReLUProgram, solve)
from .solutions import (GatedReLUSolution, ReLUSolution, RobustReLUSolution,
                        ThreeLayerGatedReLUSolution, ThreeLayerReLUSolution,
                        certificate_holds, robust_constraint_violation)

__all__ = ["GatedReLUSolution", "ReLUSolution", "RobustReLUSolution",
           "ThreeLayerGatedReLUSolution", "ThreeLayerReLUSolution", "certificate_holds",
           "check_magnitudes", "robust_constraint_violation", "solve_gated_relu",
           "solve_relu", "solve_robust_relu", "solve_three_layer_gated_relu",
           "solve_three_layer_relu"]


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
    solver : {"auto", "working_set", "fista", "reweighting", "admm"} or Solver, default="auto"
        ``working_set`` runs FISTA on a growing set of groups chosen from the full
        gradient; ``fista`` runs it on all groups; ``reweighting`` (squared loss only)
        takes Newton steps on the program's kernel weights (:mod:`skconvexnn.kernels`)
        on the working set; ``admm`` runs ADMM on all groups
        (:mod:`skconvexnn.solvers.admm`; ``max_iter`` counts its iterations). ``auto`` is ``reweighting`` for the squared loss on at most
        1000 rows times outputs, else ``working_set``. A
        :class:`~skconvexnn.solvers.Solver` with another inner method is taken too
        (:mod:`skconvexnn.solvers.registry`).
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
    return solve(GatedReLUProgram(strict_patterns=strict_patterns), X, Y, gates, alpha,
                 loss=loss, sample_weight=sample_weight, coef_init=coef_init, tol=tol,
                 max_iter=max_iter, solver=solver, backend=backend, n_jobs=n_jobs,
                 verbose=verbose, callback=callback, step=step)


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
    feasible, and the duality gap certifies the result. ``solver="admm"`` runs ADMM
    instead (:mod:`skconvexnn.solvers.admm`): no projections in its iterations, its
    weights projected onto their cones where it stops.

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
    return solve(ReLUProgram(strict_patterns=strict_patterns), X, Y, gates, alpha,
                 loss=loss, sample_weight=sample_weight, coef_init=coef_init, tol=tol,
                 max_iter=max_iter, solver=solver, backend=backend, n_jobs=n_jobs,
                 verbose=verbose, callback=callback, step=step)


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
    program = RobustReLUProgram(eps, n_perturbed=n_perturbed, strict_patterns=strict_patterns)
    return solve(program, X, Y, gates, alpha, loss=loss, sample_weight=sample_weight,
                 coef_init=coef_init, tol=tol, max_iter=max_iter, backend=backend,
                 n_jobs=n_jobs, verbose=verbose)


def solve_three_layer_gated_relu(X, Y, gates, second_gates, alpha, *, loss="squared_error",
                                 sample_weight=None, strict_patterns=False, coef_init=None,
                                 tol=1e-6, max_iter=10000, solver="auto", backend="auto",
                                 n_jobs=None, verbose=0, callback=None, step=None):
    r"""Solve the three-layer gated ReLU program for a given gate network.

    .. math::

        \min_U \; L\Big(\sum_{l, i} D_{li} X U_{li},\; Y\Big)
        + \alpha \sum_{l, i, k} \|U_{lik}\|_2, \qquad
        D_{li} = \mathrm{diag}\big(1[X g_i \ge 0] \, 1[(X G)_+ a_l \ge 0]\big)

    (:class:`~skconvexnn.programs.ThreeLayerGatedReLUProgram`): the gated program on the
    product patterns of the gate network ``(gates, second_gates)``.

    Parameters
    ----------
    X, Y, alpha, loss, sample_weight, strict_patterns, tol, max_iter, solver, backend,
    n_jobs, verbose, callback, step
        As in :func:`solve_gated_relu`.
    gates : ndarray of shape (n_features, n_gates)
        First-layer gates ``G``.
    second_gates : ndarray of shape (n_gates, n_second)
        Second-layer gates ``A``, acting on ``(X G)_+``.
    coef_init : ndarray of shape (n_second, n_features, n_gates, n_outputs), default=None

    Returns
    -------
    ThreeLayerGatedReLUSolution
    """
    return solve(ThreeLayerGatedReLUProgram(second_gates, strict_patterns=strict_patterns),
                 X, Y, gates, alpha, loss=loss, sample_weight=sample_weight,
                 coef_init=coef_init, tol=tol, max_iter=max_iter, solver=solver,
                 backend=backend, n_jobs=n_jobs, verbose=verbose, callback=callback,
                 step=step)


def solve_three_layer_relu(X, Y, gates, second_gates, alpha, *, loss="squared_error",
                           sample_weight=None, strict_patterns=False, coef_init=None,
                           tol=1e-6, max_iter=50000, solver="auto", backend="auto",
                           n_jobs=None, verbose=0, callback=None, step=None):
    r"""Solve the three-layer ReLU program (Ergen & Pilanci 2021) for a given gate network.

    Parallel sub-networks ``((X W_1)_+ w_2)_+ w_3`` with ``||W_1||_F <= 1`` and weight
    decay on the last two layers (equivalently, ``alpha`` times the l2 path norm),
    trained to the global optimum over the patterns of the gate network: the program of
    :class:`~skconvexnn.programs.ThreeLayerReLUProgram`, solved by the method of
    multipliers on its second-layer constraints around the two-layer ReLU program's
    working-set FISTA, in float64, and certified once both layers' constraints hold.

    Parameters
    ----------
    X, Y, gates, second_gates, alpha, loss, sample_weight, strict_patterns, tol, solver,
    backend, n_jobs, verbose, callback, step
        As in :func:`solve_three_layer_gated_relu` (``"reweighting"`` is refused).
    coef_init : ndarray of shape (2, 2, n_second, n_features, n_gates, n_outputs), default=None
        Warm start; projected onto the first-layer cones.
    max_iter : int, default=50000
        FISTA iterations over all the augmented problems.

    Returns
    -------
    ThreeLayerReLUSolution
        ``duality_gap`` is NaN (void) when ``max_iter`` ran out before the second-layer
        constraints held up to rounding.
    """
    return solve(ThreeLayerReLUProgram(second_gates, strict_patterns=strict_patterns),
                 X, Y, gates, alpha, loss=loss, sample_weight=sample_weight,
                 coef_init=coef_init, tol=tol, max_iter=max_iter, solver=solver,
                 backend=backend, n_jobs=n_jobs, verbose=verbose, callback=callback,
                 step=step)
