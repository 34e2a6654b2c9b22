"""Iterative reweighting: the gated program with squared loss as multiple kernel learning.

With the squared loss the gated program splits into one group lasso per output ``k``,

    min_U  1/2 sum_i w_i (f_ik - y_ik)^2 + alpha sum_j ||u_jk||,   f_k = sum_j D_j X u_jk,

(``w_i`` the loss's weights over the number of outputs), and the identity
``alpha ||u|| = min_{eta > 0} alpha/2 (||u||^2 / eta + eta)`` turns it into multiple
kernel learning (Dwaraknath, Ergen & Pilanci 2023; the eta-trick of Bach, Jenatton,
Mairal & Obozinski 2012, section 5): minimise over ``eta >= 0``

    J(eta) = alpha/2 [ y_k^T (K_eta + alpha W^-1)^-1 y_k + sum_j eta_j ],
    K_eta = sum_j eta_j D_j X X^T D_j = (X X^T) o (M diag(eta) M^T),

``M`` the 0/1 patterns. For fixed ``eta`` the weights are kernel ridge regression's,
``beta = (K_eta + alpha W^-1)^-1 y_k`` and ``u_j = eta_j X^T D_j beta``. ``J`` is convex
(a partial minimum of a jointly convex function of ``(u, eta)``), with

    dJ/deta_j = alpha/2 (1 - s_j^2),   s_j = ||X^T D_j beta||,
    d2J/deta_i deta_j = alpha v_i^T (K_eta + alpha W^-1)^-1 v_j,   v_j = D_j X X^T D_j beta,

and its minimisers give the group lasso's optimum (``s_j = 1`` where ``eta_j > 0``,
``s_j <= 1`` elsewhere). The classical reweighting step ``eta_j <- eta_j s_j``
(``= ||u_j||``) decreases ``J`` but converges sublinearly; this solver takes projected
Newton steps on ``eta >= 0`` instead: weights at zero that want to stay there are held
(Bertsekas 1982's epsilon-active set), the Hessian on the others (of rank at most
``n``) is damped as in Levenberg-Marquardt, an Armijo search keeps ``J`` decreasing, and
the reweighting step is the fallback. Near the optimum it converges quadratically.

Here it is the inner method of the working-set loop (``solver="reweighting"``): on the
groups in play it starts from the current weights (``eta = ||u||``; from a cold start,
equal weights for every pattern, the gated network's neural tangent kernel up to the
multiplicity of patterns, scaled to minimise ``J`` along that ray), and after every step
evaluates the same certificate as FISTA at the weights it would return. Each step costs
a Cholesky factorisation of an ``n x n`` matrix per output (one more per halving of the
line search): the method is for tables of up to a few thousand rows.
"""

import numpy as np
from scipy import linalg, sparse
from scipy.optimize import minimize_scalar

from .fista import FistaResult

#: Armijo's sufficient-decrease fraction and the most halvings of a Newton step.
_ARMIJO = 1e-4
_MAX_HALVINGS = 4
#: Dampings of the Hessian (relative to its mean diagonal) tried per step, the least.
_MAX_DAMPINGS = 8
_MIN_DAMPING = 1e-10
#: Rounding puts a floor under the gap: stop as stalled when the best gap has not
#: shrunk by ``_STALL_FACTOR`` in ``_STALL_WINDOW`` steps (Newton's converge
#: quadratically near the optimum, so such a run is at the floor).
_STALL_FACTOR = 0.9
_STALL_WINDOW = 20


def reweighting_memory(n_samples, n_features, n_patterns, n_outputs):
    """Bytes of the largest arrays of a reweighting solve, at most every pattern in
    play: ``X X^T``, one output's kernel and its factor (``n x n``); one output's
    patterns, Hessian columns and their solves (``n x P`` floats); the Hessian and its
    damped copy (``P x P``)."""
    return {"MKL kernel matrices (3 x n x n)": 3 * n_samples * n_samples * 8,
            "MKL patterns and Hessian columns (3 x n x P)": 3 * n_samples * n_patterns * 8,
            "MKL Hessians (2 x P x P)": 2 * n_patterns * n_patterns * 8}


def reweighting(op, loss, penalty, U, F, *, step, max_iter, tol_abs, tol_rel=0.0,
                dual=-np.inf, callback=None):
    """Newton steps on the kernel weights from ``U`` on the columns of ``op`` (gated
    design, squared loss); arguments and result as
    :func:`~skconvexnn.solvers.fista.fista`'s.

    ``step`` is not used; it is handed back for the next FISTA solve. ``max_iter``
    counts steps (each a Newton step on every output's kernel weights).
    """
    alpha = penalty.alpha
    X = op.X
    gram = X @ X.T
    gram = gram.toarray() if sparse.issparse(gram) else np.asarray(gram, dtype=np.float64)
    root_weights = np.sqrt(loss.weights / loss.n_outputs)
    targets = np.asarray(loss.Y, dtype=np.float64)
    n_patterns = op.design.n_patterns
    outputs = op.groups // n_patterns
    patterns = op.design.column_patterns[op.groups % n_patterns]
    eta = op.kernels.group_norms(U).astype(np.float64)
    kernels = []
    for k in np.unique(outputs):
        columns = np.flatnonzero(outputs == k)
        kernel = _OutputKernel(X, gram, op.design.mask[:, patterns[columns]],
                               root_weights, targets[:, k], alpha)
        if not eta[columns].any():
            eta[columns] = kernel.uniform_start()
        kernels.append((columns, kernel, kernel.evaluate(eta[columns])))

    primal = loss.value(F) + penalty.value(U)
    converged = primal - dual <= max(tol_abs, tol_rel * primal)
    objectives = []
    n_iter = best_iter = 0
    best_gap = primal - dual
    stalled = False
    while not converged and not stalled and n_iter < max_iter:
        n_iter += 1
        weights = np.zeros((U.shape[0], len(op.groups)))
        for index, (columns, kernel, point) in enumerate(kernels):
            point = kernel.newton_step(point)
            kernels[index] = (columns, kernel, point)
            weights[:, columns] = point.weights
        U = weights.astype(op.dtype)
        # The certificate of the weights themselves, as FISTA's: nothing here relies
        # on the kernel algebra being exact.
        F = op.forward(U)
        value, gradient = loss.value_and_gradient(F)
        G = op.adjoint(gradient)
        kappa = penalty.dual_scaling(penalty.dual_bounds(U, G, 1.0))
        dual = max(dual, loss.dual_value(F, kappa))
        primal = value + penalty.value(U)
        objectives.append(primal)
        if callback is not None:
            callback(primal)
        converged = primal - dual <= max(tol_abs, tol_rel * primal)
        if primal - dual < _STALL_FACTOR * best_gap:
            best_gap, best_iter = primal - dual, n_iter
        elif not converged and n_iter - best_iter >= _STALL_WINDOW:
            stalled = True

    return FistaResult(U=U, F=F, n_iter=n_iter, step=step, primal=primal, dual=dual,
                       converged=converged, stalled=stalled, objectives=objectives)


class _KernelPoint:
    """Kernel weights ``eta`` of one output with what they give: ``J``, the Cholesky
    factor of ``S K_eta S + alpha I``, ``beta`` and ``B = X^T (M o beta)``."""

    def __init__(self, eta, objective, factor, beta, products):
        self.eta = eta
        self.objective = objective
        self.factor = factor
        self.beta = beta
        self.products = products

    @property
    def scores(self):
        """``s_j = ||X^T D_j beta||``: 1 on the support at the optimum."""
        return np.sqrt(np.einsum("dj,dj->j", self.products, self.products))

    @property
    def weights(self):
        """``u_j = eta_j X^T D_j beta``."""
        return self.products * self.eta


class _OutputKernel:
    """The MKL objective of one output: ``J(eta)``, its gradient and Hessian."""

    def __init__(self, X, gram, mask, root_weights, y, alpha):
        self.X = X
        self.gram = gram
        self.masks = mask.astype(np.float64)
        self.root_weights = root_weights
        self.y = y
        self.alpha = alpha
        self.damping = 1e-6

    def _system(self, eta):
        """``S K_eta S`` with ``K_eta = (X X^T) o (M diag(eta) M^T)``."""
        system = self.gram * ((self.masks * eta) @ self.masks.T)
        system *= self.root_weights[:, None]
        system *= self.root_weights[None, :]
        return system

    def evaluate(self, eta):
        """The point ``eta``: a factorisation of a matrix with eigenvalues >= alpha."""
        system = self._system(eta)
        system.flat[::len(system) + 1] += self.alpha
        factor = linalg.cholesky(system, lower=True, overwrite_a=True, check_finite=False)
        half = linalg.solve_triangular(factor, self.root_weights * self.y, lower=True,
                                       check_finite=False)
        beta = self.root_weights * linalg.solve_triangular(
            factor, half, lower=True, trans="T", check_finite=False)
        objective = self.alpha / 2 * (half @ half + eta.sum())
        products = np.asarray(self.X.T @ (self.masks * beta[:, None]))
        return _KernelPoint(eta, objective, factor, beta, products)

    def newton_step(self, point):
        """The next point: a damped projected Newton step with an Armijo search, or
        the reweighting step ``eta * s`` if the search fails (it decreases ``J`` too).

        The weights at (or within ``epsilon`` of) zero whose gradient is positive are
        held at zero (Bertsekas' epsilon-active set); on the others the Hessian, of
        rank at most ``n``, is damped by ``mu I`` (Levenberg-Marquardt): ``mu`` grows
        tenfold when a step fails and shrinks when a full step succeeds.
        """
        alpha = self.alpha
        scores = point.scores
        gradient = alpha / 2 * (1.0 - scores ** 2)
        projected = point.eta - np.maximum(point.eta - gradient, 0.0)
        epsilon = min(1e-3 * point.eta.max(initial=0.0), np.linalg.norm(projected))
        free = ~((point.eta <= epsilon) & (gradient > 0))
        hessian = None
        if free.any():
            # v_j = D_j X X^T D_j beta; the Hessian alpha V^T C^-1 V through the factor.
            V = self.masks[:, free] * np.asarray(self.X @ point.products[:, free])
            Z = linalg.solve_triangular(point.factor, self.root_weights[:, None] * V,
                                        lower=True, check_finite=False)
            hessian = alpha * (Z.T @ Z)
            scale = max(np.trace(hessian) / len(hessian), 1e-300)
        for _ in range(_MAX_DAMPINGS):
            direction = -point.eta.copy()
            if hessian is not None:
                damped = hessian.copy()
                damped.flat[::len(damped) + 1] += self.damping * scale
                try:
                    direction[free] = linalg.solve(damped, -gradient[free],
                                                   assume_a="pos", check_finite=False)
                except linalg.LinAlgError:  # not positive definite in rounding
                    self.damping *= 10
                    continue
            t = 1.0
            for halving in range(_MAX_HALVINGS):
                eta = np.maximum(point.eta + t * direction, 0.0)
                trial = self.evaluate(eta)
                if trial.objective <= point.objective + _ARMIJO * gradient @ (eta - point.eta):
                    if halving == 0:
                        self.damping = max(self.damping / 10, _MIN_DAMPING)
                    return trial
                t /= 2
            self.damping *= 10
        return self.evaluate(point.eta * scores)

    def uniform_start(self):
        """Equal weights ``t`` minimising ``J(t 1) = alpha/2 (z^T (t L + alpha)^-1 z +
        m t)`` (``L`` the eigenvalues of ``S K_1 S``, ``z = Q^T S y``): the neural
        tangent kernel of the gated network over these patterns, best scaled."""
        m = self.masks.shape[1]
        levels, vectors = linalg.eigh(self._system(np.ones(m)), check_finite=False)
        levels = np.clip(levels, 0.0, None)
        if levels[-1] <= 0:
            return np.ones(m)
        z2 = (vectors.T @ (self.root_weights * self.y)) ** 2

        def objective(log_t):
            t = np.exp(log_t)
            return float(z2 @ (1.0 / (t * levels + self.alpha)) + m * t)

        # The minimiser balances fit and weights near the ridge's scale alpha / L_max.
        center = np.log(self.alpha / levels[-1])
        best = minimize_scalar(objective, bounds=(center - 30, center + 30),
                               method="bounded", options={"xatol": 1e-3})
        return np.full(m, np.exp(best.x))
