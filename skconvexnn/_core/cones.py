"""Numba kernels: Euclidean projection onto the activation cones of the ReLU program.

Pattern ``j`` defines the polyhedral cone ``K_j = {z : s_i (x_i . z) >= 0, i = 1..n}``
with ``s_i = 2 D_j[i] - 1``: the weights whose ReLU unit has activation pattern ``D_j`` on
the training rows. By Moreau's decomposition the projection of ``v`` onto ``K_j`` is

    z = v + A^T mu,   mu = argmin_{mu >= 0} ||v + A^T mu||,   A = diag(s) X,

a non-negative least-squares problem solved here by the active-set method of Lawson and
Hanson, warm-started from the previous call's active set (successive FISTA iterates move
little, so a warm projection usually costs one ``n x d`` pass). The multipliers ``mu``
also certify the dual: ``||v + A^T mu||`` is an upper bound on ``dist(v, -cone(A^T))``
for any ``mu >= 0``, and the objective ``||z||`` decreases along the method, so a caller
that only needs ``||z|| <= target`` can stop as soon as it holds.
"""

import numpy as np
from numba import njit

#: Relative ridge on the active-set Gram matrix: keeps nearly dependent rows solvable.
_RIDGE = 1e-13


@njit(cache=True, nogil=True)
def _solve_active(X, mask, j, v, act, k):
    """Least squares on the active set: ``(A_P A_P^T) mu = -A_P v`` (BLAS products)."""
    d = X.shape[1]
    rows = np.empty((k, d))
    signs = np.empty(k)
    for a in range(k):
        signs[a] = 2.0 * mask[act[a], j] - 1.0
        for t in range(d):
            rows[a, t] = X[act[a], t]
    gram = np.dot(rows, rows.T)
    rhs = -signs * np.dot(rows, v)
    for a in range(k):
        for b in range(k):
            gram[a, b] *= signs[a] * signs[b]
        gram[a, a] += _RIDGE * gram[a, a] + 1e-300
    return np.linalg.solve(gram, rhs)


@njit(cache=True, nogil=True)
def project_onto_cone(X, mask, j, v, act, mu, k, tol, target, max_steps, z):
    """Project ``v`` onto ``K_j``; warm-started Lawson-Hanson.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
    mask : ndarray of shape (n, P), uint8
    j : int
        Pattern index.
    v : ndarray of shape (d,)
    act : int64 ndarray of shape (d,)
        Active constraints (row indices) of the warm start; updated in place.
    mu : float64 ndarray of shape (d,)
        Their multipliers (> 0); updated in place.
    k : int
        Size of the warm active set.
    tol : float
        Constraints are met when ``s_i x_i . z >= -tol * ||v||``.
    target : float
        Stop early once ``||z|| <= target`` (``-1`` never): the point ``z`` is then not
        the projection, but ``v + A^T mu`` with ``mu >= 0``, a valid dual bound.
    max_steps : int
        At most this many constraints enter (``-1``: until the projection is exact).
        A capped run also returns ``v + A^T mu`` with ``mu >= 0``.
    z : ndarray of shape (d,)
        Receives the result.

    Returns
    -------
    k : int
        Size of the final active set.
    """
    n, d = X.shape
    vnorm = 0.0
    for t in range(d):
        vnorm += v[t] * v[t]
    vnorm = np.sqrt(vnorm)
    threshold = -tol * (vnorm + 1e-300)
    steps = 4 * d + 16 if max_steps < 0 else max_steps + 1
    for _ in range(steps):
        # Inner loop: least squares on the active set, stepping back to keep mu > 0.
        while k > 0:
            sol = _solve_active(X, mask, j, v, act, k)
            if sol.min() > 0:
                for a in range(k):
                    mu[a] = sol[a]
                break
            # Move from mu towards sol until the first multiplier reaches zero; it leaves.
            alpha, leaving = np.inf, 0
            for a in range(k):
                if sol[a] <= 0:
                    ratio = mu[a] / (mu[a] - sol[a]) if mu[a] > sol[a] else 0.0
                    if ratio < alpha:
                        alpha, leaving = ratio, a
            kept = 0
            for a in range(k):
                value = mu[a] + alpha * (sol[a] - mu[a])
                if a != leaving and value > 0:
                    act[kept] = act[a]
                    mu[kept] = value
                    kept += 1
            k = kept
        for t in range(d):
            z[t] = v[t]
        for a in range(k):
            ia = act[a]
            coef = (2.0 * mask[ia, j] - 1.0) * mu[a]
            for t in range(d):
                z[t] += coef * X[ia, t]
        if target >= 0:
            znorm = 0.0
            for t in range(d):
                znorm += z[t] * z[t]
            if np.sqrt(znorm) <= target:
                return k
        if k >= d:
            return k
        # The most violated constraint outside the active set enters.
        worst, worst_value = -1, threshold
        Xz = np.dot(X, z)
        for i in range(n):
            value = (2.0 * mask[i, j] - 1.0) * Xz[i]
            if value < worst_value:
                is_active = False
                for a in range(k):
                    if act[a] == i:
                        is_active = True
                        break
                if not is_active:
                    worst, worst_value = i, value
        if worst < 0:
            return k
        act[k] = worst
        mu[k] = 0.0
        k += 1
    return k


@njit(cache=True, nogil=True)
def _restore_active(X, mask, j, v, act, mu, k):
    """Least squares on the warm active set, dropping constraints until ``mu > 0``."""
    while k > 0:
        sol = _solve_active(X, mask, j, v, act, k)
        if sol.min() > 0:
            for a in range(k):
                mu[a] = sol[a]
            return k
        alpha, leaving = np.inf, 0
        for a in range(k):
            if sol[a] <= 0:
                ratio = mu[a] / (mu[a] - sol[a]) if mu[a] > sol[a] else 0.0
                if ratio < alpha:
                    alpha, leaving = ratio, a
        kept = 0
        for a in range(k):
            value = mu[a] + alpha * (sol[a] - mu[a])
            if a != leaving and value > 0:
                act[kept] = act[a]
                mu[kept] = value
                kept += 1
        k = kept
    return k


@njit(cache=True, nogil=True)
def warm_candidates(X, mask, col_pattern, col_group, V, active, mu, n_active, out):
    """Phase 1: ``out[:, w] = V[:, w] + A^T mu`` on each column's warm active set."""
    d, m = V.shape
    v = np.empty(d)
    for w in range(m):
        g = col_group[w]
        j = col_pattern[w]
        for t in range(d):
            v[t] = V[t, w]
        k = _restore_active(X, mask, j, v, active[g], mu[g], n_active[g])
        n_active[g] = k
        for t in range(d):
            out[t, w] = v[t]
        for a in range(k):
            ia = active[g, a]
            coef = (2.0 * mask[ia, j] - 1.0) * mu[g, a]
            for t in range(d):
                out[t, w] += coef * X[ia, t]


@njit(cache=True, nogil=True)
def finish_projections(X, mask, col_pattern, col_group, V, XZ, active, mu, n_active, tol,
                       targets, max_steps, out):
    """Phase 3: given the candidates ``out`` and ``XZ = X @ out``, finish the columns.

    A column is done when its candidate meets its early-stop target or satisfies every
    constraint; otherwise Lawson-Hanson continues from the warm state.
    """
    n, d = X.shape
    m = V.shape[1]
    v = np.empty(d)
    z = np.empty(d)
    for w in range(m):
        g = col_group[w]
        j = col_pattern[w]
        vnorm = 0.0
        znorm = 0.0
        for t in range(d):
            vnorm += V[t, w] * V[t, w]
            znorm += out[t, w] * out[t, w]
        if targets[w] >= 0 and np.sqrt(znorm) <= targets[w]:
            continue
        threshold = -tol * (np.sqrt(vnorm) + 1e-300)
        feasible = True
        for i in range(n):
            if (2.0 * mask[i, j] - 1.0) * XZ[i, w] < threshold:
                feasible = False
                break
        if feasible:
            continue
        for t in range(d):
            v[t] = V[t, w]
        n_active[g] = project_onto_cone(X, mask, j, v, active[g], mu[g], n_active[g], tol,
                                        targets[w], max_steps, z)
        for t in range(d):
            out[t, w] = z[t]
