"""Numba kernels for FISTA's vector updates: one pass each, no temporaries.

On small problems the ``d x m`` updates of an iteration (the step's inner products,
the restart test, the extrapolation) cost as much as a fifth of the two products;
fused, each reads its arrays once. Sums are accumulated in float64 whatever the
working precision.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def step_products(G, x_new, y):
    """``(<G, x_new - y>, ||x_new - y||^2)``, the sufficient-decrease test's terms."""
    lin = 0.0
    quad = 0.0
    a, b = G.shape
    for i in range(a):
        for j in range(b):
            s = np.float64(x_new[i, j]) - np.float64(y[i, j])
            lin += np.float64(G[i, j]) * s
            quad += s * s
    return lin, quad


@njit(cache=True, nogil=True)
def restart_product(y, x_new, x):
    """``<y - x_new, x_new - x>``: positive when the momentum points uphill."""
    total = 0.0
    a, b = y.shape
    for i in range(a):
        for j in range(b):
            step = np.float64(x_new[i, j])
            total += (np.float64(y[i, j]) - step) * (step - np.float64(x[i, j]))
    return total


@njit(cache=True, nogil=True)
def extrapolate(x_new, x, beta, out):
    """``out = x_new + beta * (x_new - x)`` (``out`` may be ``x``)."""
    a, b = out.shape
    for i in range(a):
        for j in range(b):
            out[i, j] = x_new[i, j] + beta * (x_new[i, j] - x[i, j])
