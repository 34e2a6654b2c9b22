"""Numba kernels of the robust program: the projections and proximal maps of its
primal-dual solver (:mod:`skconvexnn.solvers.pdhg`).

Two sets recur (MATH.md section 5, derived in the module docstring of the solver):

* the **robust pattern set** ``C_eps = {(s, t) : s_i >= eps ||t||_1 for every i}`` in
  ``R^n x R^m``: ``s`` are the signed pre-activations ``(2 D_j - I) X u`` of a unit and
  ``t`` its feature weights. Projecting ``(s0, t0)`` onto it is a one-dimensional
  convex problem in the level ``tau = eps ||t||_1``::

      min_tau  1/2 ||(tau - s0)_+||^2 + 1/2 dist(t0, B_1(tau / eps))^2

  whose derivative ``sum (tau - s0_i)_+ - theta(tau / eps) / eps`` (``theta``: the
  soft-threshold level of the projection onto the l1 ball) is increasing and piecewise
  linear. The root is located among the breakpoints and solved exactly on its piece.

* the **conjugate of a worst-case loss** ``phi(f, a) = c l(y f - eps ||a||_1)`` (margin
  losses), ``c/2 (|y - f| + eps ||a||_1)^2`` (squared error) or ``c H(|y - f| + eps
  ||a||_1)`` (Huber: the squared error's conjugate with the dual level capped at
  ``c delta``). Its proximal map reduces
  to one increasing scalar equation in the dual level ``lambda``; it is solved by
  safeguarded Newton steps to machine precision.
"""

import numpy as np
from numba import njit

HINGE, LOGISTIC, SQUARED, HUBER = 0, 1, 2, 3
#: The kernel's code of each robust loss, by the loss's name.
LOSS_CODES = {"hinge": HINGE, "log_loss": LOGISTIC, "squared_error": SQUARED, "huber": HUBER}


@njit(cache=True, nogil=True)
def _l1_threshold(a_sorted, radius):
    """Soft-threshold level ``theta`` with ``sum (a - theta)_+ = radius`` (0 if the l1
    norm of ``a`` is at most ``radius``); ``a_sorted``: absolute values, decreasing."""
    return _l1_threshold_and_count(a_sorted, radius)[0]


@njit(cache=True, nogil=True)
def _pattern_set_slope(tau, s0, a_sorted, eps):
    """Derivative in ``tau`` of the projection's reduced objective."""
    acc = 0.0
    for i in range(s0.shape[0]):
        if s0[i] < tau:
            acc += tau - s0[i]
    return acc - _l1_threshold(a_sorted, tau / eps) / eps


@njit(cache=True, nogil=True)
def project_pattern_set(s0, t0, eps, s, t):
    """Euclidean projection of ``(s0, t0)`` onto ``{(s, t): s >= eps ||t||_1}``.

    Writes the result into ``s`` and ``t`` and returns the level ``tau``. ``eps > 0``.
    """
    m = t0.shape[0]
    a_sorted = -np.sort(-np.abs(t0))
    l1 = 0.0
    for i in range(m):
        l1 += a_sorted[i]
    # The slope is increasing; below lo it is negative, at hi it is >= 0.
    lo, hi = 0.0, eps * l1
    if _pattern_set_slope(0.0, s0, a_sorted, eps) >= 0.0:
        tau = 0.0
    else:
        # Breakpoints of the piecewise-linear slope inside (lo, hi).
        points = np.empty(s0.shape[0] + m + 2)
        n_points = 0
        points[n_points] = lo
        n_points += 1
        points[n_points] = hi
        n_points += 1
        for i in range(s0.shape[0]):
            if lo < s0[i] < hi:
                points[n_points] = s0[i]
                n_points += 1
        cumulative = 0.0
        for i in range(m):
            cumulative += a_sorted[i]
            # theta == a_sorted[i + 1] at radius cumulative - (i + 1) * a_sorted[i + 1]
            nxt = a_sorted[i + 1] if i + 1 < m else 0.0
            radius = cumulative - (i + 1) * nxt
            level = eps * radius
            if lo < level < hi:
                points[n_points] = level
                n_points += 1
        points = np.sort(points[:n_points])
        # Binary search for the piece [points[a], points[b]] that holds the root.
        a, b = 0, n_points - 1
        while b - a > 1:
            mid = (a + b) // 2
            if _pattern_set_slope(points[mid], s0, a_sorted, eps) < 0.0:
                a = mid
            else:
                b = mid
        x0, x1 = points[a], points[b]
        y0 = _pattern_set_slope(x0, s0, a_sorted, eps)
        y1 = _pattern_set_slope(x1, s0, a_sorted, eps)
        if y1 - y0 > 0.0:
            tau = x0 - y0 * (x1 - x0) / (y1 - y0)
        else:
            tau = x1
        tau = min(max(tau, x0), x1)
    for i in range(s0.shape[0]):
        s[i] = max(s0[i], tau)
    theta = _l1_threshold(a_sorted, tau / eps)
    for i in range(m):
        magnitude = abs(t0[i]) - theta
        t[i] = np.sign(t0[i]) * magnitude if magnitude > 0.0 else 0.0
    return tau


@njit(cache=True, nogil=True)
def _l1_threshold_and_count(a_sorted, radius):
    """:func:`_l1_threshold` and the number of entries above it (0 when the l1 norm of
    ``a`` is at most ``radius``)."""
    m = a_sorted.shape[0]
    total = 0.0
    for i in range(m):
        total += a_sorted[i]
    if total <= radius:
        return 0.0, 0
    cumulative = 0.0
    for i in range(m):
        cumulative += a_sorted[i]
        theta = (cumulative - radius) / (i + 1)
        if i + 1 == m or a_sorted[i + 1] <= theta:
            return max(theta, 0.0), i + 1
    return 0.0, m


@njit(cache=True, nogil=True)
def _slope_and_curvature(tau, low, n_low, a_sorted, eps):
    """:func:`_pattern_set_slope` from the entries ``low[:n_low]`` of ``s0`` that can
    lie below ``tau``, and its derivative in ``tau`` (right derivative at kinks)."""
    total = 0.0
    count = 0
    for i in range(n_low):
        if low[i] < tau:
            total += tau - low[i]
            count += 1
    theta, n_above = _l1_threshold_and_count(a_sorted, tau / eps)
    curvature = count + (1.0 / (eps * eps * n_above) if n_above > 0 else 0.0)
    return total - theta / eps, curvature


@njit(cache=True, nogil=True)
def project_pattern_sets(S0, T0, eps, S, T):
    """:func:`project_pattern_set` for every column of ``S0`` (n, G) / ``T0`` (m, G).

    The same projection, found faster: the level ``tau`` is the root of the same
    increasing piecewise-linear slope, reached by Newton steps safeguarded by
    bisection (exact once a step lands on the root's piece), over only the entries of
    ``s0`` below the largest possible level ``eps ||t0||_1``; the arrays are read and
    written row by row (C order) except for the columns that move.
    """
    n, G = S0.shape
    m = T0.shape[0]
    smallest = np.full(G, np.inf)
    l1 = np.zeros(G)
    for i in range(n):
        for g in range(G):
            value = S0[i, g]
            S[i, g] = value
            if value < smallest[g]:
                smallest[g] = value
    for i in range(m):
        for g in range(G):
            T[i, g] = T0[i, g]
            l1[g] += abs(T0[i, g])
    low = np.empty(n)
    rows = np.empty(n, dtype=np.int64)
    magnitudes = np.empty(m)
    for g in range(G):
        hi = eps * l1[g]
        if smallest[g] >= hi:
            continue  # already in the set: the projection is the point itself
        n_low = 0
        for i in range(n):
            if S0[i, g] < hi:
                low[n_low] = S0[i, g]
                rows[n_low] = i
                n_low += 1
        for i in range(m):
            magnitudes[i] = abs(T0[i, g])
        a_sorted = -np.sort(-magnitudes)
        lo = 0.0
        value, curvature = _slope_and_curvature(lo, low, n_low, a_sorted, eps)
        tau = 0.0
        if value < 0.0:
            # The slope is increasing: negative at lo, non-negative at hi.
            for _ in range(200):
                step = tau - value / curvature
                if not (lo < step < hi):
                    step = 0.5 * (lo + hi)
                if abs(step - tau) <= 1e-15 * hi:
                    tau = step
                    break
                tau = step
                value, curvature = _slope_and_curvature(tau, low, n_low, a_sorted, eps)
                if value == 0.0:
                    break
                if value < 0.0:
                    lo = tau
                else:
                    hi = tau
        for r in range(n_low):
            if low[r] < tau:
                S[rows[r], g] = tau
        theta, _ = _l1_threshold_and_count(a_sorted, tau / eps)
        for i in range(m):
            magnitude = abs(T0[i, g]) - theta
            T[i, g] = np.sign(T0[i, g]) * magnitude if magnitude > 0.0 else 0.0


@njit(cache=True, nogil=True)
def _box_excess(q0, eps, lam):
    """``sum_i (|q0_i| - eps lam)_+``: how far ``q0`` sticks out of the box."""
    acc = 0.0
    for i in range(q0.shape[0]):
        excess = abs(q0[i]) - eps * lam
        if excess > 0.0:
            acc += excess
    return acc


@njit(cache=True, nogil=True)
def _loss_slope(kind, lam, lam0, q0, eps, sigma, c):
    """Derivative in the dual level ``lambda`` of the reduced prox objective."""
    if kind == HINGE:
        base = -sigma + (lam - lam0)
    elif kind == LOGISTIC:
        s = lam / c
        if s <= 0.0:
            return -np.inf
        if s >= 1.0:
            return np.inf
        base = sigma * np.log(s / (1.0 - s)) + (lam - lam0)
    else:
        # lam0 holds |p0 - sigma y| for the squared error and Huber.
        excess = lam0 - lam
        base = sigma * lam / c - (excess if excess > 0.0 else 0.0)
    return base - eps * _box_excess(q0, eps, lam)


@njit(cache=True, nogil=True)
def _loss_curvature(kind, lam, lam0, q0, eps, sigma, c):
    """Derivative of :func:`_loss_slope` in ``lambda`` (right derivative at kinks)."""
    count = 0
    for i in range(q0.shape[0]):
        if abs(q0[i]) > eps * lam:
            count += 1
    base = 1.0
    if kind == LOGISTIC:
        s = lam / c
        base = 1.0 + sigma / (c * s * (1.0 - s))
    elif kind == SQUARED or kind == HUBER:
        base = sigma / c + (1.0 if lam < lam0 else 0.0)
    return base + eps * eps * count


@njit(cache=True, nogil=True)
def _increasing_root(kind, lo, hi, lam0, q0, eps, sigma, c):
    """Root of the increasing slope in ``(lo, hi)``: Newton steps, bisection when a
    step leaves the bracket (the slope is piecewise linear, or smooth and convex in
    pieces, so few steps are needed)."""
    lam = 0.5 * (lo + hi)
    for _ in range(200):
        value = _loss_slope(kind, lam, lam0, q0, eps, sigma, c)
        if value == 0.0:
            return lam
        if value < 0.0:
            lo = lam
        else:
            hi = lam
        if hi - lo <= 4e-16 * max(abs(hi), 1e-300):
            break
        step = lam - value / _loss_curvature(kind, lam, lam0, q0, eps, sigma, c)
        if not (lo < step < hi):
            step = 0.5 * (lo + hi)
        elif abs(step - lam) <= 1e-15 * abs(lam):
            return step  # Newton has converged to rounding
        lam = step
    return lam


@njit(cache=True, nogil=True)
def prox_loss_conjugate(kind, P0, Q0, y, c, eps, sigma, parameter, P, Q):
    """Proximal map of ``sigma * sum_k phi_k^*`` at ``(P0, Q0)``, row by row.

    ``phi_k(f, a)`` is the worst-case loss of sample ``k`` (weight ``c[k]``, target
    ``y[k]``, margin losses with ``y = +-1``). Its conjugate is finite on
    ``{p = -y lambda, ||q||_inf <= eps lambda, lambda in dom}`` (margin losses) or
    ``{|p|, ||q||_inf / eps <= lambda}`` (squared error; Huber adds ``lambda <= c
    delta``), so the prox is a clip of ``q``
    to the box of half-width ``eps lambda`` with ``lambda`` the root of one increasing
    scalar equation.

    Parameters
    ----------
    kind : int
        A value of ``LOSS_CODES``.
    P0 : ndarray of shape (n,)
    Q0 : ndarray of shape (n, m)
    y, c : ndarrays of shape (n,)
    eps, sigma : float
    parameter : float
        The loss's parameter: Huber's ``delta`` (unused by the others).
    P, Q : ndarrays like ``P0``, ``Q0``, receive the result.
    """
    n, m = Q0.shape
    for k in range(n):
        q0 = Q0[k]
        residual = kind == SQUARED or kind == HUBER
        if residual:
            b = P0[k] - sigma * y[k]
            lam0 = abs(b)
            lo, hi = 0.0, lam0
            for i in range(m):
                if eps > 0.0 and abs(q0[i]) / eps > hi:
                    hi = abs(q0[i]) / eps
            hi = hi * 1.000001 + 1e-300
            if kind == HUBER:
                hi = min(hi, c[k] * parameter)
        else:
            lam0 = -y[k] * P0[k]
            lo, hi = 0.0, c[k]
        if _loss_slope(kind, lo, lam0, q0, eps, sigma, c[k]) >= 0.0:
            lam = lo
        elif _loss_slope(kind, hi, lam0, q0, eps, sigma, c[k]) <= 0.0:
            lam = hi
        else:
            lam = _increasing_root(kind, lo, hi, lam0, q0, eps, sigma, c[k])
        if residual:
            b = P0[k] - sigma * y[k]
            P[k] = min(max(b, -lam), lam)
        else:
            P[k] = -y[k] * lam
        bound = eps * lam
        for i in range(m):
            Q[k, i] = min(max(q0[i], -bound), bound)
