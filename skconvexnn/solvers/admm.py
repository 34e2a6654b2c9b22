"""ADMM for the gated and ReLU programs (Bai, Gautam & Sojoudi 2022), with one factorisation.

The ReLU program with the squared loss, per output,

    min_u  1/2 ||W^1/2 (F u - y)||^2 + alpha sum_g ||u_g||   s.t.  E_g X u_g >= 0,

(``F u = sum_g sigma_g D_g X u_g``, ``sigma_g = +1`` for a ``v`` column and ``-1`` for a
``w`` column, ``E_g = 2 D_g - I``, ``W`` the loss's weights over the outputs) is split
into a smooth part in ``u`` and copies on which the non-smooth terms act: ``v = u``
under the group norm and slacks ``s = E X u / tau >= 0`` (``tau`` only scales the
constraint, to the size of the weights). Scaled ADMM (Boyd et al. 2011, section 3.1.1)
then repeats

    u = argmin 1/2 ||W^1/2 (F u - y)||^2 + rho/2 ||u - v + lam||^2
                                        + rho/2 ||E X u / tau - s + nu||^2,
    v = prox_{(alpha / rho) ||.||}(u + lam),     s = (E X u / tau + nu)_+,
    lam += u - v,                                nu += E X u / tau - s,

over-relaxed (``u`` replaced by ``1.6 u + (1 - 1.6) v`` in the last two lines, and the
same for the slacks; Boyd et al., section 3.4.3). The u-step is one linear system
whose matrix does not change with the iterate (``A = B + F^T W F / rho``,
``B = I + X^T X / tau^2`` on every column, since ``E_g^2 = I``). In coordinates that
diagonalise ``X^T X`` (``X V = X_r`` with orthogonal columns; ``V`` from one symmetric
eigendecomposition, spanning the row space of a wide ``X``) ``B`` is diagonal, and
Woodbury's identity leaves one ``n x n`` matrix to factor, shared by every output:

    A^-1 = B^-1 - B^-1 F^T W^1/2 (rho I + K)^-1 W^1/2 F B^-1,
    K = W^1/2 [(X_r B^-1 X_r^T) o (M M^T)] W^1/2,

``M`` the columns' 0/1 patterns. An iteration is four products of ``X_r`` with blocks of
``n`` or ``r`` rows by the number of columns, and two triangular solves: no cone
projection. The gated program is the same without the slacks (``B = I``). ``rho``
follows the ratio of the relative primal and dual residuals (as OSQP does; Boyd et
al., section 3.4.1) at most every 50 iterations, each change refactoring ``rho I + K``.

A loss that is not quadratic but of bounded curvature (logistic, softmax, Huber) is
replaced in each u-step by its quadratic majorizer at the current outputs (weights
``w_i`` times :attr:`~skconvexnn.losses.Loss.curvature`, the same matrix ``K``): a
majorized ADMM, convergent but slower where the bound is loose.

Certificate, every 10 iterations: the primal value at the point returned, ``v`` (group
sparse) with its nonzero columns projected exactly onto their cones (so the weights
returned are feasible), and the dual value at the u-iterate's outputs, scaled into
dual feasibility by bounds from ADMM's own multipliers: ``mu_g = -rho nu_g / tau >= 0``
are cone multipliers, and ``||G_g - X^T (E_g mu_g)||`` bounds group ``g``'s distance to
dual feasibility for any ``mu_g >= 0`` (tight up to the dual residual at ADMM's
fixed points). Both are the loss's and the penalty's own formulas, so the gap holds
however far ADMM is from converging.
"""

import numpy as np
from scipy import linalg, sparse

from ..penalties import ConeConstrainedGroupL2
from .fista import FistaResult

#: ADMM iterations between certificates (each costs a few products more).
_CHECK_EVERY = 10
#: Residual balancing: ``rho`` is multiplied by the square root of the ratio of the
#: relative primal and dual residuals when it leaves ``[1 / _BALANCE, _BALANCE]``, at
#: most every ``_RHO_EVERY`` iterations (each change refactors an ``n x n`` matrix).
_BALANCE = 5.0
_RHO_EVERY = 50
#: Over-relaxation (Boyd et al., section 3.4.3; 1.5-1.8 is usual).
_RELAXATION = 1.6


def admm_memory(n_samples, n_features, n_patterns, n_outputs):
    """Bytes of the largest arrays of an ADMM solve (``n_features`` None: as many as
    rows): the ``n x n`` matrices (``X_r B^-1 X_r^T``, the system and its factor), the
    rotation of the rows, and the iterates (``u, v, lam`` and their products with
    ``X``, slacks, multipliers and their temporaries) for the ReLU program's two
    columns per pattern."""
    n = n_samples
    r = n if n_features is None else min(n_samples, n_features)
    columns = 2 * n_patterns * n_outputs
    return {"ADMM n x n matrices (3 x n x n)": 3 * n * n * 8,
            "ADMM rotated rows (n x r, r x r)": (n * r + 2 * r * r) * 8,
            "ADMM iterates (9 x r x columns, 12 x n x columns)":
                (9 * r + 12 * n) * columns * 8}


class _Columns:
    """The columns of a design restricted to every group, as ADMM reads them: the
    rows ``X``, and for each output's columns (the same for every output) their 0/1
    patterns times their signs ``sigma``."""

    def __init__(self, op):
        inner = getattr(op, "inner", op)  # a signed restriction (ReLU) or a gated one
        design = inner.design
        groups = np.asarray(op.groups)
        signs = np.asarray(getattr(op, "signs", np.ones(len(groups))), dtype=np.float64)
        per_output = design.n_patterns
        self.outputs = np.unique(groups // per_output)
        m = len(groups) // max(len(self.outputs), 1)
        within = (groups % per_output).reshape(len(self.outputs), m)
        if len(groups) != m * len(self.outputs) or (within != within[0]).any():
            raise ValueError("ADMM solves with every group in play: the same columns "
                             "for every output.")
        self.n_columns = m
        patterns = design.column_patterns[within[0]]
        self.masks = design.mask[:, patterns].astype(np.float64)
        self.signed_masks = self.masks * signs[:m]
        X = design.X
        self.X = X.toarray() if sparse.issparse(X) else np.asarray(X)
        self.X = self.X.astype(np.float64, copy=False)


def _rotation(X):
    """``(V, X_r)`` with ``X V = X_r``, ``X_r``'s columns orthogonal, ``V``'s orthonormal
    (``d x r``, ``r = min(n, d)``; on a wide table ``V`` spans the row space and the
    null space of ``X``, which no part of the program sees, is dropped)."""
    n, d = X.shape
    if d <= n:
        _, V = linalg.eigh(X.T @ X, check_finite=False)
        return V, X @ V
    levels, Q = linalg.eigh(X @ X.T, check_finite=False)
    keep = levels > max(n, d) * np.finfo(np.float64).eps * max(levels.max(initial=0), 0)
    Q = Q[:, keep]
    V = X.T @ Q
    V /= np.linalg.norm(V, axis=0)
    return V, X @ V


def admm(op, loss, penalty, U, F, *, step, max_iter, tol_abs, tol_rel=0.0, dual=-np.inf,
         callback=None):
    """ADMM from ``U`` on every column of ``op`` (gated or ReLU design, a loss of
    bounded curvature); arguments and result as :func:`~skconvexnn.solvers.fista.fista`'s.

    ``max_iter`` counts ADMM iterations; ``step`` is not used and is handed back. The
    weights returned are ``v`` with its nonzero columns projected onto their cones
    (ReLU program). Their certificate is evaluated every ``_CHECK_EVERY`` iterations
    and at the last; ``callback(primal)`` is called then, with the objective
    certified. The certificate is computed in float64 whatever the data's precision.
    """
    cols = _Columns(op)
    cones = isinstance(penalty, ConeConstrainedGroupL2)
    alpha = penalty.alpha
    V, Xr = _rotation(cols.X)
    n, r = Xr.shape
    c, m = len(cols.outputs), cols.n_columns
    levels = np.einsum("nr,nr->r", Xr, Xr)
    # The cone constraint scaled to the size of the weights: B = I + X_r^T X_r / tau^2
    # has mean 2 on its diagonal.
    tau = (float(np.sqrt(levels.mean())) if cones and levels.mean() > 0 else 1.0)
    b_diag = 1.0 + levels / tau ** 2 if cones else np.ones(r)
    # The loss, or for a loss that is not quadratic its majorizer at the current
    # outputs: weights w_i times the loss's curvature bound, targets F - grad / that.
    quadratic_weights = np.asarray(loss.weights, dtype=np.float64) * loss.curvature
    root_w = np.sqrt(quadratic_weights)
    if loss.quadratic:
        wy = quadratic_weights[:, None] * np.asarray(loss.Y, dtype=np.float64)[:, cols.outputs]
    E = 2.0 * cols.masks - 1.0

    K = (Xr / b_diag) @ Xr.T  # X_r B^-1 X_r^T, then K in place
    K *= cols.masks @ cols.masks.T
    K *= root_w[:, None]
    K *= root_w[None, :]
    rho = max(float(np.trace(K)) / n, 1e-12)

    def factor(rho):
        system = K.copy()
        system.flat[::n + 1] += rho
        return linalg.cho_factor(system, lower=True, overwrite_a=True, check_finite=False)

    chol = factor(rho)

    def as_blocks(A):  # (rows, c * m) -> (rows, c, m)
        return A.reshape(A.shape[0], c, m)

    # State, in the rotated coordinates: u = V^T (weights).
    u = V.T @ np.asarray(U, dtype=np.float64)
    v = u.copy()
    lam = np.zeros_like(u)
    Xu = Xr @ u
    if cones:
        slack = as_blocks(Xu) * E[:, None, :] / tau
        s = np.maximum(slack, 0.0)
        nu = np.zeros_like(s)

    objectives = []
    primal = loss.value(F) + penalty.value(U)
    converged = False
    n_iter = 0
    last_rho_change = 0
    best_U, best_F = np.array(U, copy=True), F
    while n_iter < max_iter:
        n_iter += 1
        if not loss.quadratic:
            outputs = np.einsum("nkm,nm->nk", as_blocks(Xu), cols.signed_masks)
            wy = quadratic_weights[:, None] * outputs - loss.gradient(outputs)
        # u-step: the right side F^T W y / rho + (v - lam) + G^T (s - nu), then A^-1.
        R = cols.signed_masks[:, None, :] * (wy / rho)[:, :, None]
        if cones:
            R = R + (s - nu) * E[:, None, :] / tau
        w = (v - lam + Xr.T @ R.reshape(n, c * m)) / b_diag[:, None]
        t = root_w[:, None] * np.einsum("nkm,nm->nk", as_blocks(Xr @ w), cols.signed_masks)
        z = linalg.cho_solve(chol, t, check_finite=False) * root_w[:, None]
        Q = cols.signed_masks[:, None, :] * z[:, :, None]
        u = w - (Xr.T @ Q.reshape(n, c * m)) / b_diag[:, None]
        Xu = Xr @ u
        # v-step (the group prox), s-step, multipliers, over-relaxed.
        v_old = v
        u_relaxed = _RELAXATION * u + (1.0 - _RELAXATION) * v_old
        v = u_relaxed + lam
        norms = np.sqrt(np.einsum("rg,rg->g", v, v))
        v *= np.maximum(1.0 - (alpha / rho) / np.maximum(norms, 1e-300), 0.0)
        lam += u_relaxed - v
        if cones:
            s_old = s
            slack = as_blocks(Xu) * E[:, None, :] / tau
            slack_relaxed = _RELAXATION * slack + (1.0 - _RELAXATION) * s_old
            s = np.maximum(slack_relaxed + nu, 0.0)
            nu += slack_relaxed - s

        if n_iter % _CHECK_EVERY and n_iter < max_iter:
            continue
        # The certificate: the primal value at the point returned, the dual value at
        # the u-iterate's outputs (there ADMM's multipliers make the bounds tight up
        # to the dual residual).
        P = V @ v
        nonzero = np.flatnonzero(norms > alpha / rho)
        if cones and len(nonzero):
            P[:, nonzero] = penalty.restrict(op.groups[nonzero]).project(P[:, nonzero])
        P = P.astype(op.dtype, copy=False)
        F_P = op.forward(P, dtype=np.float64)
        primal = loss.value(F_P) + penalty.value(P.astype(np.float64, copy=False))
        F_u = np.einsum("nkm,nm->nk", as_blocks(Xu), cols.signed_masks)
        T = cols.signed_masks[:, None, :] * loss.gradient(F_u)[:, :, None]
        if cones:
            T -= np.maximum(-rho * nu / tau, 0.0) * E[:, None, :]
        bounds = np.sqrt(np.einsum("rg,rg->g", *(2 * [Xr.T @ T.reshape(n, c * m)])))
        dual = max(dual, loss.dual_value(F_u, penalty.dual_scaling(bounds)))
        best_U, best_F = P, F_P.astype(op.dtype, copy=False)
        objectives.append(primal)
        if callback is not None:
            callback(primal)
        if primal - dual <= max(tol_abs, tol_rel * primal):
            converged = True
            break
        # Residual balancing (as OSQP: the ratio of the relative residuals).
        if n_iter - last_rho_change >= _RHO_EVERY:
            primal_res = [np.sum((u - v) ** 2)]
            primal_size = [np.sum(u ** 2), np.sum(v ** 2)]
            dual_change, dual_size = v - v_old, lam
            if cones:
                primal_res.append(np.sum((slack - s) ** 2))
                primal_size[0] += np.sum(slack ** 2)
                primal_size[1] += np.sum(s ** 2)
                dual_change = dual_change + Xr.T @ ((s - s_old) * E[:, None, :] / tau
                                                    ).reshape(n, c * m)
                dual_size = dual_size + Xr.T @ (nu * E[:, None, :] / tau).reshape(n, c * m)
            relative_primal = np.sqrt(sum(primal_res) / max(max(primal_size), 1e-300))
            relative_dual = np.sqrt(np.sum(dual_change ** 2)
                                    / max(np.sum(dual_size ** 2), 1e-300))
            ratio = np.sqrt(relative_primal / max(relative_dual, 1e-300))
            if not 1 / _BALANCE <= ratio <= _BALANCE:
                new_rho = rho * float(np.clip(ratio, 1e-3, 1e3))
                lam *= rho / new_rho
                if cones:
                    nu *= rho / new_rho
                rho = new_rho
                chol = factor(rho)
                last_rho_change = n_iter

    return FistaResult(U=best_U, F=best_F, n_iter=n_iter, step=step, primal=primal,
                       dual=dual, converged=converged, stalled=False,
                       objectives=objectives, dual_in_float64=True)
