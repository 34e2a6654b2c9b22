"""Bounds over l_inf balls for a one-hidden-layer ReLU network, by interval arithmetic.

A unit whose pre-activation keeps its sign on the whole ball ``||delta||_inf <= eps``
is linear there, so its contribution to any linear function of the outputs has an
exact worst case (the l1 norm of the summed input weights); a unit that may switch is
bounded by its interval ``[0, max pre-activation]``. Every bound is sound; on the
training points of a robust fit no unit switches, and the bounds are exact there.
The public entry point is :func:`skconvexnn.attacks.certified_bounds`; the robust
estimators compute their certificate (``robust_loss_``, ``certified_accuracy_``) here.
"""

import numpy as np

from .losses import as_loss


def output_lower_bounds(W1, b1, W2, X, eps, coef):
    """Lower bound over the ball of ``sum_c coef[i, c] f_c(x_i + delta)`` minus the
    output bias term, for ``coef`` of shape (n, c)."""
    pre = X @ W1 + b1
    radius = eps * np.abs(W1).sum(axis=0)
    on = pre - radius >= 0
    straddle = (pre + radius > 0) & ~on
    beta = coef @ W2.T                        # (n, h): weight of each unit in the sum
    linear = np.einsum("nh,nh->n", beta * on, pre)
    sensitivity = (beta * on) @ W1.T          # (n, d)
    spread = eps * np.abs(sensitivity).sum(axis=1)
    slack = np.minimum(beta * (pre + radius), 0.0) * straddle
    return linear - spread + slack.sum(axis=1)


def worst_case_bounds(coefs, intercepts, X, Y, index, eps, loss):
    """Per-sample worst-case loss and certified correctness of the network
    ``(coefs, intercepts)`` on the balls of radius ``eps`` around the rows of ``X``.

    ``Y`` holds encoded targets (+-1 columns for classifiers, one column for two
    classes; real values for a residual loss), ``index`` the class indices (several
    classes). ``loss`` (a name or a :class:`~skconvexnn.losses.Loss`) is a margin loss
    (one-vs-rest, summed over outputs) or a residual loss (averaged). Returns ``(worst_loss, certified)`` as
    :func:`skconvexnn.attacks.certified_bounds` does.
    """
    W1, W2 = (np.asarray(W, dtype=np.float64) for W in coefs)
    b1, b2 = (np.asarray(b, dtype=np.float64) for b in intercepts)
    n, c = Y.shape
    loss = as_loss(loss)
    worst = np.zeros(n)
    if loss.kind == "residual":
        for k in range(c):
            unit = np.zeros((n, c))
            unit[:, k] = 1.0
            low = output_lower_bounds(W1, b1, W2, X, eps, unit) + b2[k]
            high = -output_lower_bounds(W1, b1, W2, X, eps, -unit) + b2[k]
            worst += loss.worst_of_bounds(low, high, Y[:, k])
        return worst / c, np.zeros(n, dtype=bool)
    for k in range(c):
        unit = np.zeros((n, c))
        unit[:, k] = Y[:, k]
        margin = output_lower_bounds(W1, b1, W2, X, eps, unit) + Y[:, k] * b2[k]
        worst += loss.worst_of_bounds(margin, None, Y[:, k])
        if c == 1:
            certified = margin > 0
    if c > 1:
        certified = np.ones(n, dtype=bool)
        for k in range(c):
            pair = np.zeros((n, c))
            pair[np.arange(n), index] = 1.0
            pair[:, k] -= 1.0
            rival = index != k
            gap = output_lower_bounds(W1, b1, W2, X, eps, pair) + pair @ b2
            certified &= ~rival | (gap > 0)
    return worst, certified
