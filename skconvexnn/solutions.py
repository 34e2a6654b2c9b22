"""Solutions of the convex programs and the checks behind their certificates.

A solution holds the weights a solver returned, in the layout of the gates, with the
certificate evaluated at those weights: the objective, the best dual value and the
relative duality gap, which is void (NaN) for a constrained program whose weights
violate their constraints by more than rounding (:func:`certificate_holds`).
"""

from dataclasses import dataclass

import numpy as np
from scipy import sparse


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


_HISTORY_KEYS = ("n_iter", "time", "objective", "duality_gap")


def history_arrays(entries):
    """A solver's certificate history (``(n_iter, time, objective, gap)`` tuples) as
    named arrays."""
    columns = list(zip(*entries)) if entries else [[]] * 4
    return {key: np.asarray(column, dtype=np.int64 if key == "n_iter" else np.float64)
            for key, column in zip(_HISTORY_KEYS, columns)}


def summed_curves(curves):
    """Objective curves of separate outputs summed; a finished output keeps its last
    value while the others go on."""
    length = max(len(curve) for curve in curves)
    return np.sum([np.pad(curve, (0, length - len(curve)), mode="edge")
                   for curve in curves], axis=0)


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
    tolerance = violation_tolerance(X, weights, dtype)
    return tolerance > 0 and violation <= tolerance


def violation_tolerance(X, weights, dtype):
    """The largest constraint violation :func:`certificate_holds` counts as rounding at
    ``weights`` (blocks on the axes ``(..., n_features, n_patterns, n_outputs)``)."""
    return max(1e-10, 1000 * float(np.finfo(dtype).eps)) * constraint_scale(X, weights)


def constraint_scale(X, weights):
    """``max_i ||x_i|| * max ||u||`` over the blocks of ``weights``: the size of the
    pre-activations a constraint violation is a slack of."""
    weights = np.asarray(weights, dtype=np.float64)
    u_scale = float(np.sqrt((weights ** 2).sum(axis=-3).max())) if weights.size else 0.0
    X = X.toarray() if sparse.issparse(X) else np.asarray(X)
    x_scale = float(np.sqrt(np.einsum("nd,nd->n", X, X).max())) if X.size else 0.0
    return x_scale * u_scale


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


@dataclass
class ThreeLayerGatedReLUSolution(GatedReLUSolution):
    """Solution of the three-layer gated program and its certificate.

    As :class:`GatedReLUSolution`, with ``weights`` of shape
    ``(n_second, n_features, n_first, n_outputs)``: ``weights[l, :, i, k]`` is the
    block of the pair of first-layer gate ``i`` and second-layer gate ``l`` (zero for a
    pair whose product pattern is empty or repeats an earlier pair's), and
    ``gate_indices`` all the first-layer gates (the gate network needs every one).

    Attributes
    ----------
    pair_indices : ndarray of shape (n_patterns,)
        The pair ``l * n_first + i`` of each distinct product pattern (the columns of
        ``patterns``).
    """

    pair_indices: np.ndarray = None


@dataclass
class ThreeLayerReLUSolution(ReLUSolution):
    """Solution of the three-layer ReLU program and its certificate.

    As :class:`ReLUSolution`, with ``weights`` of shape ``(2, 2, n_second, n_features,
    n_first, n_outputs)`` (second-layer sign, first-layer sign, second-layer gate,
    features, first-layer gate, output; zero for gates whose pattern is empty or
    repeated) and ``gate_indices`` all the first-layer gates. ``objective`` is the
    objective of the network of the weights (its loss on its own outputs plus ``alpha``
    times its path norm) and ``duality_gap`` compares it with a lower bound on the
    program's optimum: a certificate of that network whether or not the weights meet
    the second-layer constraints exactly. ``constraint_violation`` is the largest
    violation of either layer's constraints at the weights returned (``converged``
    asks it to be below ``tol`` relative to ``max ||x_i|| max ||z||``).

    Attributes
    ----------
    second_patterns : ndarray of shape (n_samples, n_second_patterns), uint8
        The distinct second-layer patterns ``D_{2,l}``.
    second_gate_indices : ndarray of shape (n_second_patterns,)
        The second-layer gate of each.
    first_gate_indices : ndarray of shape (n_first_patterns,)
        The first-layer gate of each distinct first-layer pattern (the columns of
        ``patterns``).
    """

    second_patterns: np.ndarray = None
    second_gate_indices: np.ndarray = None
    first_gate_indices: np.ndarray = None
