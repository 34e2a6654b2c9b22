"""The losses of skconvexnn written in CVXPY, and targets for them: shared by the tests
that check each program's optimum against CVXPY + Clarabel."""

import cvxpy as cp
import numpy as np
from scipy.special import xlogy


def program_targets(loss, signal, rng):
    """Targets for ``loss`` from a network's output ``signal`` (n, c)."""
    n, n_outputs = signal.shape
    if loss in ("squared_error", "huber"):
        Y = signal + 0.1 * rng.standard_normal((n, n_outputs))
        if loss == "huber":  # a few gross outliers, beyond Huber's delta = 1
            Y[:4] += 5 * rng.choice([-1.0, 1.0], size=(4, n_outputs))
        return Y
    if loss == "poisson":  # counts whose log-rate is the signal
        return rng.poisson(np.exp(np.clip(signal, -3, 2))).astype(float)
    return None  # classification: each test draws its labels


def data_term(F, Y, w, loss):
    """The weighted average loss of outputs ``F`` (a CVXPY expression: a vector for
    one output, else (n, c)) with targets ``Y`` (n, c) and weights ``w`` summing to 1,
    in skconvexnn's scaling (averaged over outputs for the regression losses)."""
    c = Y.shape[1]
    if c == 1:
        Y = Y[:, 0]
        weigh = lambda terms: w @ terms  # noqa: E731
    else:
        weigh = lambda terms: cp.sum(cp.multiply(w[:, None], terms))  # noqa: E731
    if loss == "squared_error":
        return weigh(cp.square(F - Y)) / (2 * c)
    if loss == "huber":  # cp.huber(r, 1) = 2 H(r) for Huber's H with delta = 1
        return weigh(cp.huber(F - Y, 1.0)) / (2 * c)
    if loss == "poisson":  # half the deviance: its constant added outside CVXPY
        constant = float(np.sum(w[:, None] * (xlogy(Y, Y) - Y).reshape(len(w), -1))) / c
        return weigh(cp.exp(F) - cp.multiply(Y, F)) / c + constant
    if loss == "multilabel_log_loss":  # one logistic loss per +-1 column, summed
        return weigh(cp.logistic(-cp.multiply(Y, F)))
    if c == 1:
        return w @ cp.logistic(-cp.multiply(Y, F))
    return w @ (cp.log_sum_exp(F, axis=1) - cp.sum(cp.multiply(Y, F), axis=1))
