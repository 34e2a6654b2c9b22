"""Numba kernels: Euclidean projection onto the activation cones of the ReLU program.

Pattern ``j`` defines the polyhedral cone ``K_j = {z : s_i (x_i . z) >= 0, i = 1..n}``
with ``s_i = 2 D_j[i] - 1``: the weights whose ReLU unit has activation pattern ``D_j`` on
the training rows. By Moreau's decomposition the projection of ``v`` onto ``K_j`` is

    z = v + A^T mu,   mu = argmin_{mu >= 0} ||v + A^T mu||,   A = diag(s) X,

a non-negative least-squares problem solved here by the active-set method of Lawson and
Hanson, warm-started from the previous call's active set (successive FISTA iterates move
little). The least-squares systems on the active set share a Cholesky factor of its Gram
matrix ``A_P A_P^T``, extended row by row when a constraint enters and kept across calls
while the set is unchanged, so a warm projection costs two triangular solves.

The multipliers also certify the dual: ``||v + A^T mu||`` is an upper bound on
``dist(v, -cone(A^T))`` for any ``mu >= 0``, and the objective ``||z||`` decreases along
the method, so a caller that only needs ``||z|| <= target`` can stop as soon as it holds.
"""

import numpy as np
from numba import njit

#: Relative ridge on the Gram matrix's diagonal: keeps nearly dependent rows solvable.
_RIDGE = 1e-13
#: A row whose Cholesky pivot falls below this fraction of its norm is dependent.
_PIVOT = 1e-12


@njit(cache=True, nogil=True)
def _extend_factor(X, gram, mask, j, act, k, L, n_factored):
    """Extend the Cholesky factor ``L`` of ``A_P A_P^T`` from ``n_factored`` to ``k`` rows.

    ``gram`` is ``X X^T`` (n x n), or an empty array: the products are then computed
    from the rows.

    Returns the number of rows factored: ``k``, or the position of the first row that
    is (numerically) a combination of the rows before it.
    """
    n, d = X.shape
    use_gram = gram.shape[0] == n
    for r in range(n_factored, k):
        ir = act[r]
        sr = 2.0 * mask[ir, j] - 1.0
        diag = 0.0
        if use_gram:
            diag = gram[ir, ir]
        else:
            for t in range(d):
                diag += X[ir, t] * X[ir, t]
        norm2 = diag
        diag += _RIDGE * diag + 1e-300
        for a in range(r):
            ia = act[a]
            g = 0.0
            if use_gram:
                g = gram[ir, ia]
            else:
                for t in range(d):
                    g += X[ir, t] * X[ia, t]
            g *= sr * (2.0 * mask[ia, j] - 1.0)
            for b in range(a):
                g -= L[r, b] * L[a, b]
            L[r, a] = g / L[a, a]
            diag -= L[r, a] * L[r, a]
        if diag <= _PIVOT * (norm2 + 1e-300):
            return r
        L[r, r] = np.sqrt(diag)
    return k


@njit(cache=True, nogil=True)
def _solve_factored(X, mask, j, v, act, k, L, out):
    """``out = (A_P A_P^T)^{-1} (-A_P v)`` with the factor ``L`` of the first ``k`` rows."""
    d = X.shape[1]
    for a in range(k):
        ia = act[a]
        acc = 0.0
        for t in range(d):
            acc += X[ia, t] * v[t]
        acc *= -(2.0 * mask[ia, j] - 1.0)
        for b in range(a):
            acc -= L[a, b] * out[b]
        out[a] = acc / L[a, a]
    for a in range(k - 1, -1, -1):
        acc = out[a]
        for b in range(a + 1, k):
            acc -= L[b, a] * out[b]
        out[a] = acc / L[a, a]


@njit(cache=True, nogil=True)
def _remove(act, mu, k, keep, L, n_factored):
    """Keep the active entries flagged in ``keep``; the factor stays valid up to the
    first removed position. Returns ``(k, n_factored)``."""
    kept = 0
    first_removed = k
    for a in range(k):
        if keep[a]:
            act[kept] = act[a]
            mu[kept] = mu[a]
            kept += 1
        elif a < first_removed:
            first_removed = a
    return kept, min(n_factored, first_removed)


@njit(cache=True, nogil=True)
def _least_squares_nonnegative(X, gram, mask, j, v, act, mu, k, L, n_factored, sol,
                               keep):
    """Lawson-Hanson inner loop: least squares on the active set, stepping back and
    dropping constraints until every multiplier is positive.

    Returns ``(k, n_factored)``; ``mu[:k]`` holds the solution.
    """
    while k > 0:
        n_factored = _extend_factor(X, gram, mask, j, act, k, L, n_factored)
        if n_factored < k:
            # A dependent row cannot enter: drop it (and what follows it).
            for a in range(k):
                keep[a] = a < n_factored
            k, n_factored = _remove(act, mu, k, keep, L, n_factored)
            continue
        _solve_factored(X, mask, j, v, act, k, L, sol)
        if sol[:k].min() > 0:
            for a in range(k):
                mu[a] = sol[a]
            return k, n_factored
        # Move from mu towards sol until the first multiplier reaches zero; it leaves.
        alpha, leaving = np.inf, 0
        for a in range(k):
            if sol[a] <= 0:
                ratio = mu[a] / (mu[a] - sol[a]) if mu[a] > sol[a] else 0.0
                if ratio < alpha:
                    alpha, leaving = ratio, a
        for a in range(k):
            mu[a] = mu[a] + alpha * (sol[a] - mu[a])
            keep[a] = a != leaving and mu[a] > 0
        k, n_factored = _remove(act, mu, k, keep, L, n_factored)
    return k, n_factored


@njit(cache=True, nogil=True)
def _combine(X, mask, j, v, act, mu, k, z):
    """``z = v + A_P^T mu``."""
    d = X.shape[1]
    for t in range(d):
        z[t] = v[t]
    for a in range(k):
        ia = act[a]
        coef = (2.0 * mask[ia, j] - 1.0) * mu[a]
        for t in range(d):
            z[t] += coef * X[ia, t]


@njit(cache=True, nogil=True)
def _products(X, gram, mask, j, Xv, act, mu, k, Xz):
    """``Xz = X z`` for ``z = v + A_P^T mu``, from ``Xv = X v`` and the rows of ``X X^T``:
    ``n k`` operations instead of the ``n d`` of a product with ``X``."""
    n = X.shape[0]
    for i in range(n):
        Xz[i] = Xv[i]
    for a in range(k):
        ia = act[a]
        coef = (2.0 * mask[ia, j] - 1.0) * mu[a]
        for i in range(n):
            Xz[i] += coef * gram[ia, i]


@njit(cache=True, nogil=True)
def project_onto_cone(X, gram, mask, j, v, act, mu, k, L, n_factored, tol, target, max_steps,
                      z, Xz):
    """Project ``v`` onto ``K_j``; warm-started Lawson-Hanson.

    Parameters
    ----------
    X : ndarray of shape (n, d), float64, C-contiguous
    gram : ndarray of shape (n, n) or (0, 0), float64
        ``X X^T`` when the caller keeps it: factors then cost no row products, and the
        products ``X z`` of the steps are updated from its rows (``n k`` operations for
        ``k`` active constraints) instead of recomputed (``n d``).
    mask : ndarray of shape (n, P), uint8
    j : int
        Pattern index.
    v : ndarray of shape (d,)
    act : int64 ndarray of shape (r,)
        Active constraints (row indices) of the warm start; updated in place. An active
        set holds independent rows of ``X``, so ``r = min(n, d)`` is enough.
    mu : float64 ndarray of shape (r,)
        Their multipliers (> 0); updated in place.
    k : int
        Size of the warm active set.
    L : ndarray of shape (r, r)
        Cholesky factor of the active set's Gram matrix, valid for its first
        ``n_factored`` rows; updated in place.
    n_factored : int
    tol : float
        Constraints are met when ``s_i x_i . z >= -tol * ||v||``.
    target : float
        Stop early once ``||z|| <= target`` (``-1`` never): the point ``z`` is then not
        the projection, but ``v + A^T mu`` with ``mu >= 0``, a valid dual bound.
    max_steps : int
        At most this many constraints enter (``-1``: until the projection is exact).
        A capped run also returns ``v + A^T mu`` with ``mu >= 0``.
    z : ndarray of shape (d,)
        On entry ``v + A_P^T mu`` of the warm start (its first ``k`` entries of ``act``
        and ``mu``); receives the result.
    Xz : ndarray of shape (n,)
        On entry ``X z`` of the entry ``z``; overwritten.

    Returns
    -------
    (k, n_factored) : the final active set size and factored rows.
    """
    n, d = X.shape
    use_gram = gram.shape[0] == n
    vnorm = np.sqrt((v * v).sum())
    threshold = -tol * (vnorm + 1e-300)
    sol = np.empty(d)
    keep = np.empty(d, dtype=np.bool_)
    is_active = np.zeros(n, dtype=np.bool_)
    Xv = np.empty(0)
    if use_gram:
        # X v from the entry point's products: X z - X A_P^T mu.
        Xv = Xz.copy()
        for a in range(k):
            ia = act[a]
            coef = (2.0 * mask[ia, j] - 1.0) * mu[a]
            for i in range(n):
                Xv[i] -= coef * gram[ia, i]
    steps = 4 * d + 16 if max_steps < 0 else max_steps + 1
    for step in range(steps):
        if step > 0:
            k, n_factored = _least_squares_nonnegative(X, gram, mask, j, v, act, mu, k, L,
                                                       n_factored, sol, keep)
            _combine(X, mask, j, v, act, mu, k, z)
            if use_gram:
                _products(X, gram, mask, j, Xv, act, mu, k, Xz)
            else:
                Xz[:] = np.dot(X, z)
        if target >= 0 and np.sqrt((z * z).sum()) <= target:
            break
        if k >= act.shape[0]:
            break  # as many independent rows as there can be
        # The most violated constraint outside the active set enters.
        for a in range(k):
            is_active[act[a]] = True
        worst, worst_value = -1, threshold
        for i in range(n):
            value = (2.0 * mask[i, j] - 1.0) * Xz[i]
            if value < worst_value and not is_active[i]:
                worst, worst_value = i, value
        for a in range(k):
            is_active[act[a]] = False
        if worst < 0:
            break
        act[k] = worst
        mu[k] = 0.0
        k += 1
    return k, n_factored


@njit(cache=True, nogil=True)
def warm_candidates(X, gram, mask, col_pattern, col_group, V, active, mu, n_active,
                    factors, n_factored, out):
    """Phase 1: ``out[:, w] = V[:, w] + A^T mu`` on each column's warm active set.

    ``gram``: ``X X^T`` or an empty array (see :func:`project_onto_cone`).

    ``factors[w]`` / ``n_factored[w]`` is column ``w``'s Cholesky factor (pass
    ``n_factored[w] = 0`` when none is known).
    """
    d, m = V.shape
    v = np.empty(d)
    sol = np.empty(d)
    keep = np.empty(d, dtype=np.bool_)
    for w in range(m):
        g = col_group[w]
        j = col_pattern[w]
        for t in range(d):
            v[t] = V[t, w]
        k, n_factored[w] = _least_squares_nonnegative(
            X, gram, mask, j, v, active[g], mu[g], n_active[g], factors[w], n_factored[w],
            sol, keep)
        n_active[g] = k
        _combine(X, mask, j, v, active[g], mu[g], k, out[:, w])


@njit(cache=True, nogil=True)
def finish_projections(X, gram, mask, col_pattern, col_group, V, XZ, active, mu, n_active,
                       factors, n_factored, tol, targets, max_steps, out, moved):
    """Phase 3: given the candidates ``out`` and ``XZ = X @ out``, finish the columns.

    A column is done when its candidate meets its early-stop target or satisfies every
    constraint; otherwise Lawson-Hanson continues from the warm state, and
    ``moved[w]`` is set to 1 (else 0): ``XZ[:, w]`` no longer matches ``out[:, w]``.
    """
    n, d = X.shape
    m = V.shape[1]
    v = np.empty(d)
    z = np.empty(d)
    Xz = np.empty(n)
    for w in range(m):
        g = col_group[w]
        j = col_pattern[w]
        moved[w] = 0
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
            z[t] = out[t, w]
        for i in range(n):
            Xz[i] = XZ[i, w]
        n_active[g], n_factored[w] = project_onto_cone(
            X, gram, mask, j, v, active[g], mu[g], n_active[g], factors[w], n_factored[w],
            tol, targets[w], max_steps, z, Xz)
        moved[w] = 1
        for t in range(d):
            out[t, w] = z[t]


@njit(cache=True, nogil=True)
def combine_warm(X, mask, col_pattern, col_group, V, active, mu, n_active, out):
    """``out[:, w] = V[:, w] + A^T mu`` with each column's stored multipliers as they
    are (no least-squares step): for ``mu >= 0`` a point of ``V + cone(A^T)``, whose
    norm is a valid dual bound, at ``k d`` operations for ``k`` stored constraints."""
    for w in range(V.shape[1]):
        g = col_group[w]
        _combine(X, mask, col_pattern[w], V[:, w], active[g], mu[g], n_active[g],
                 out[:, w])
