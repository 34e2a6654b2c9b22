r"""The three-layer ReLU program, solved by an augmented Lagrangian around the working set.

The program (:class:`~skconvexnn.programs.ThreeLayerReLUProgram`) is the two-layer ReLU
program on *virtual outputs*, one per second-layer block ``b = (s, l)`` and output
``k``: ``H_{kb} = sum_{i, sigma} sigma D_i X z_{b i sigma k}``, every ``z`` in the cone of
its first-layer pattern ``i``, with the model's output ``F_k = sum_b D_{2,l} H_{kb}``
(:class:`BlockCoupling`) and one more family of constraints, coupling the blocks of a
virtual output: ``s (2 D_{2,l} - I) H_{kb} >= 0``, which keeps the second layer's
pattern.

Those constraints are handled by the method of multipliers: each outer iteration
solves, with the working-set FISTA of the two-layer programs (cone projections in its
prox, its own certificate), the augmented problem

.. math::

    \min_{z \in K} \; L(\Phi(H)) + \frac{1}{2 \rho} \sum_r w_r
    \big(\|(\mu_r - \rho\, S_r \circ H_r)_+\|^2 - \|\mu_r\|^2\big)
    + \alpha \sum \|z\|_2

(:class:`AugmentedLagrangianLoss`), then updates ``mu <- (mu - rho S o H)_+`` and raises
``rho`` when the violation did not shrink enough.

**Certificate.** The multipliers ``mu`` (scaled by the sample weights) and the dual
point ``Theta = -grad L(F)`` are scaled together by ``kappa``, from the cone-projected
dual bounds of the Lagrangian's gradient ``Phi^T grad L - w mu S``, into the dual-feasible
set, so ``D = -L^*(kappa grad L(F))`` is a lower bound on the optimum at any iterate.
The iterates satisfy the coupled constraints only in the limit, so the primal side is
not the convex objective at the iterate but the objective of the *network* its weights
define (:func:`~skconvexnn.network.three_layer_relu_network`): its own outputs,
``sum_b s_b (s_b H_b)_+`` (each second-layer unit switches on its own pre-activation,
whatever the pattern asked of it), plus ``alpha`` times its path norm. That is a true
objective of the network returned, so ``(J - D) / J`` bounds how far it is from the
best network with the gate network's patterns, feasible or not. The solve stops when
that gap and the violation of the coupled constraints (relative to
``max ||x_i|| max ||z||``) are both below ``tol``. (Rescaling the first-layer blocks
of a violating second-layer unit to restore its constraint, a small linear program,
was tried: on breast_cancer it kept a unit only when it was zero.)
"""

import time
from dataclasses import dataclass, field

import numpy as np

from .._progress import Progress
from ..solutions import constraint_scale
from .working_set import solve_group_lasso

#: First penalty parameter, and its growth when the violation did not shrink by
#: ``_VIOLATION_DECREASE``.
_RHO_START = 1.0
_RHO_GROWTH = 10.0
_RHO_MAX = 1e8
_VIOLATION_DECREASE = 0.5
#: Relative duality gap of the first augmented problem, and its decrease per outer
#: iteration (down to a tenth of ``tol``).
_INNER_TOL_START = 1e-2
_INNER_TOL_DECREASE = 0.3
#: FISTA iterations an augmented problem may take: at least this many, at most as many
#: as all the problems before it (an augmented problem asked for more precision than
#: its multipliers deserve would otherwise spend the whole budget).
_INNER_MIN_BUDGET = 2000


class BlockCoupling:
    """The second layer of the three-layer program: virtual outputs, blocks and signs.

    Virtual output ``v = k * B + b`` (output ``k``, block ``b``; ``B = 2 P_2``) is the
    block of second-layer pattern ``l = b mod P_2`` with sign ``s = +1`` for
    ``b < P_2`` and ``-1`` after.

    Parameters
    ----------
    mask : ndarray of shape (n_samples, n_second), uint8
        The distinct second-layer patterns ``D_{2,l}``.
    n_outputs : int
    """

    def __init__(self, mask, n_outputs):
        M = np.asarray(mask, dtype=np.float64)
        n, P2 = M.shape
        self.n_samples, self.n_outputs = n, int(n_outputs)
        self.n_blocks = 2 * P2
        #: ``(n, B)``: the pattern of each block.
        self.block_mask = np.hstack([M, M])
        #: ``(B,)``: the sign ``s`` of each block's second-layer unit.
        self.block_sign = np.concatenate([np.ones(P2), -np.ones(P2)])
        #: ``(n, B)``: ``s (2 D_{2,l} - I)``, the signs the constraints ask of ``H``.
        self.signs = (2.0 * self.block_mask - 1.0) * self.block_sign
        #: The same for every virtual output, ``(n, c B)``.
        self.column_signs = np.tile(self.signs, (1, self.n_outputs))
        #: Most blocks active on a row: ``||Phi_r||^2``, for the curvature.
        self.max_blocks = float(self.block_mask.sum(axis=1).max()) if n else 0.0

    def outputs(self, H):
        """Model output ``F = Phi(H)`` (n, c) of the virtual outputs ``H`` (n, c B)."""
        n = H.shape[0]
        return np.einsum("nkb,nb->nk", H.reshape(n, self.n_outputs, self.n_blocks),
                         self.block_mask)

    def spread(self, G):
        """``Phi^T G``: a gradient in the outputs (n, c) as one in the virtual outputs."""
        n = G.shape[0]
        return (G[:, :, None] * self.block_mask[:, None, :]).reshape(n, -1)

    def slack(self, H):
        """``S o H`` (n, c B): the coupled constraints ask it to be non-negative."""
        return H * self.column_signs

    def network_outputs(self, H):
        """The outputs (n, c) of the network of the weights that give ``H``: block ``b``
        of sign ``s_b`` adds ``s_b (s_b H_b)_+``, its second-layer unit's own
        activation, which is ``D_{2,l} H_b`` where the coupled constraint holds."""
        n = H.shape[0]
        active = np.maximum(H.reshape(n, self.n_outputs, self.n_blocks) * self.block_sign,
                            0.0)
        return np.einsum("nkb,b->nk", active, self.block_sign)


class AugmentedLagrangianLoss:
    """``L(Phi(H))`` plus the augmented-Lagrangian term of the coupled constraints, as a
    loss of the virtual outputs for the working-set solver.

    Parameters
    ----------
    loss : bound loss (:mod:`skconvexnn.losses`)
    coupling : BlockCoupling
    multipliers : ndarray of shape (n_samples, n_virtual)
        ``mu >= 0``.
    rho : float
        The penalty parameter.
    """

    def __init__(self, loss, coupling, multipliers, rho):
        self.loss = loss
        self.coupling = coupling
        self.mu = multipliers
        self.rho = float(rho)
        self.weights = loss.weights
        # Hessian in H, per unit of sample weight: the loss's through Phi, plus rho.
        self.curvature = loss.curvature * max(coupling.max_blocks, 1.0) + self.rho

    def _parts(self, H):
        F = self.coupling.outputs(H)
        value, G = self.loss.value_and_gradient(F)
        q = np.maximum(self.mu - self.rho * self.coupling.slack(H), 0.0)
        return F, value, G, q

    def value_and_gradient(self, H):
        F, value, G, q = self._parts(H)
        w = self.weights[:, None]
        value += float(np.sum(w * (q * q - self.mu * self.mu))) / (2 * self.rho)
        gradient = self.coupling.spread(G) - w * q * self.coupling.column_signs
        return value, gradient

    def value(self, H):
        return self.value_and_gradient(H)[0]

    def gradient(self, H):
        return self.value_and_gradient(H)[1]

    def dual_value(self, H, kappa):
        """The dual objective of the augmented problem at ``Theta = -kappa grad(H)``, or
        a lower bound on it: the conjugate of the sum is at most the sum of the
        conjugates at the two parts of the gradient, ``L^*(kappa grad L(F))`` (the
        loss's own :meth:`~skconvexnn.losses.Loss.dual_value`) and, entry by entry,
        the penalty term's ``(w / (2 rho)) (mu - kappa q)^2`` with ``q = (mu - rho S o
        H)_+``. Exact at ``kappa = 1``."""
        F, _, _, q = self._parts(H)
        residual = self.mu - kappa * q
        penalty_conjugate = float(np.einsum("n,nv,nv->", self.weights, residual,
                                            residual)) / (2 * self.rho)
        return self.loss.dual_value(F, kappa) - penalty_conjugate


def lagrangian_gradient(loss, coupling, H, multipliers):
    """Gradient in the virtual outputs of ``L(Phi(H)) - sum_r w_r <mu_r, S_r o H_r>``."""
    G = loss.gradient(coupling.outputs(H))
    return (coupling.spread(np.asarray(G, dtype=np.float64))
            - loss.weights[:, None] * multipliers * coupling.column_signs)


def block_violation(coupling, H):
    """``max (-S o H)_+``: how far the coupled constraints are from holding."""
    return float(max(0.0, -coupling.slack(H).min())) if H.size else 0.0


@dataclass
class ThreeLayerResult:
    """The last iterate of the three-layer solve: weights, virtual outputs, the network's
    outputs and objective, and the best lower bound found."""

    U: np.ndarray
    H: np.ndarray
    F: np.ndarray
    primal: float
    dual: float
    violation: float
    n_iter: int
    converged: bool
    multipliers: np.ndarray = None
    objectives: list = field(default_factory=list)
    history: list = field(default_factory=list)
    step: float = None

    @property
    def relative_gap(self):
        gap = self.primal - self.dual
        return max(gap, 0.0) / self.primal if self.primal > 0 else 0.0


def _forward(design, U):
    norms = design.kernels.group_norms(U)
    support = np.flatnonzero(norms > 0)
    return design.restrict(support).forward(U[:, support], dtype=np.float64)


def dual_bound(design, loss, coupling, penalty, U, H, multipliers):
    """A lower bound on the three-layer program's optimum from the dual point of the
    loss gradient at the convex model's output ``Phi(H)`` and the multipliers ``mu >= 0``
    of the coupled constraints, scaled together into the dual-feasible set (valid at any
    ``U``, feasible or not)."""
    F = coupling.outputs(H)
    G = design.full_adjoint(lagrangian_gradient(loss, coupling, H, multipliers),
                            dtype=np.float64)
    # The exact dual constraint of every column is ||project_K(-G_g)|| <= alpha.
    kappa = penalty.dual_scaling(penalty.dual_bounds(np.zeros_like(U), G, 1.0))
    return loss.dual_value(F, kappa)


def solve_augmented_lagrangian(design, loss, coupling, penalty, U, *, tol, max_iter,
                               solver="auto", verbose=0, callback=None, step=None,
                               label="skconvexnn, three layers"):
    """Minimise the three-layer ReLU program to relative duality gap ``tol``.

    Parameters
    ----------
    design : ReLUDesign
        The two-layer ReLU design on the virtual outputs (``c * B`` of them).
    loss : bound loss
        The loss of the model's outputs ``F = Phi(H)``.
    coupling : BlockCoupling
    penalty : ConeConstrainedGroupL2
        The first-layer cones of every column.
    U : ndarray of shape (d, n_groups)
        Starting point, in the cones.
    tol, max_iter, solver, verbose, callback, step
        As in :func:`~skconvexnn.solvers.working_set.solve_group_lasso`; ``max_iter``
        is the FISTA budget over all outer iterations, and ``tol`` also bounds the
        relative violation of the coupled constraints.

    Returns
    -------
    ThreeLayerResult
        ``primal`` is the objective of the network of ``U``; ``violation`` the largest
        ``(-S o H)_+``.
    """
    X = penalty.X
    U = np.array(U, dtype=np.float64)
    multipliers = np.zeros((coupling.n_samples, design.n_outputs))
    rho = _RHO_START
    inner_tol = max(_INNER_TOL_START, tol)
    n_iter, objectives, history = 0, [], []
    best_dual, previous_violation = -np.inf, np.inf
    progress = Progress(verbose, max_iter, tol, label=label)
    start = time.perf_counter()
    while True:
        augmented = AugmentedLagrangianLoss(loss, coupling, multipliers, rho)
        budget = min(max(0, max_iter - n_iter), max(_INNER_MIN_BUDGET, n_iter))
        inner = solve_group_lasso(design, augmented, penalty, U, tol=inner_tol,
                                  max_iter=budget, solver=solver, callback=callback,
                                  step=step)
        U, step = inner.U, inner.step
        n_iter += inner.n_iter
        objectives.extend(inner.objectives)
        H = np.asarray(inner.F, dtype=np.float64)
        multipliers = np.maximum(multipliers - rho * coupling.slack(H), 0.0)
        violation = block_violation(coupling, H)
        scale = constraint_scale(X, U[:, :, None])
        relative_violation = violation / scale if scale > 0 else 0.0
        primal = loss.value(coupling.network_outputs(H)) + penalty.value(U)
        best_dual = max(best_dual, dual_bound(design, loss, coupling, penalty, U, H,
                                              multipliers))
        gap = max(primal - best_dual, 0.0) / primal if primal > 0 else 0.0
        history.append((n_iter, time.perf_counter() - start, primal, gap))
        progress.update(n_iter, primal, gap,
                        note=f"violation {relative_violation:.1e}, rho {rho:.0e}")
        converged = gap <= tol and relative_violation <= tol
        if converged or n_iter >= max_iter or inner.stalled:
            break
        if violation > _VIOLATION_DECREASE * previous_violation:
            rho = min(_RHO_MAX, rho * _RHO_GROWTH)
        previous_violation = violation
        inner_tol = max(0.1 * tol, _INNER_TOL_DECREASE * inner_tol)
    progress.close(n_iter, primal, gap, "converged" if converged else "max_iter reached")
    return ThreeLayerResult(
        U=U, H=H, F=coupling.network_outputs(H), primal=primal, dual=best_dual,
        violation=violation, n_iter=n_iter, converged=converged, multipliers=multipliers,
        objectives=objectives, history=history, step=step)
