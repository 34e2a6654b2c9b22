"""Adversarial attacks and certified bounds for fitted networks (l_inf threat model).

Every function takes a fitted network estimator: one of skconvexnn's ReLU networks
(``ConvexReLU*``, ``RobustConvexReLU*``) or a scikit-learn ``MLPClassifier`` /
``MLPRegressor`` (any depth and activation for the attacks). ``eps`` is in the units of
the features the estimator sees: in a Pipeline, attack its last step on the
transformed data.

- :func:`fgsm` and :func:`pgd` search for perturbations ``||delta||_inf <= eps`` that
  increase a loss (by default the classification margin, or the squared error).
- :func:`robust_accuracy` is the accuracy that survives an attack.
- :func:`certified_bounds` gives, for a one-hidden-layer ReLU network, bounds no
  attack can cross: exact for a unit whose sign cannot change on the ball (all units of
  a robust fit on its training points), interval bounds for the others.
- :func:`exact_worst_margins` solves the worst case exactly (a mixed-integer program
  per sample): the ground truth the certificates are checked against, for small
  networks and data.
"""

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.special import expit, log_expit, logsumexp, softmax
from sklearn.base import is_classifier
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from .interval_bounds import worst_case_bounds
from .losses import LOSSES, Loss, as_loss



def _attack_losses(classifier):
    """What an attack on a classifier (or a regressor) may increase: the margin, the
    cross-entropy, and the programs' margin (residual) losses."""
    if classifier:
        return {"margin", "cross_entropy"} | {
            name for name, loss in LOSSES.items() if loss.kind == "margin"}
    return {name for name, loss in LOSSES.items() if loss.kind == "residual"}

_ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a ** 2),
    "logistic": (expit, lambda z, a: a * (1.0 - a)),
    "identity": (lambda z: z, lambda z, a: np.ones_like(z)),
}


def _network(estimator):
    """``(coefs, intercepts, activation)`` of a fitted network estimator.

    skconvexnn's estimators say which network they hold by their class attribute
    ``_network_kind`` (``"relu"`` or ``"gated"``), so this module needs none of them.
    """
    kind = getattr(type(estimator), "_network_kind", None)
    if isinstance(estimator, Pipeline):
        raise ValueError(
            "Attack the Pipeline's last step on the transformed data (eps is measured "
            "in the units of the features that step sees): "
            "attack(pipe[-1], pipe[:-1].transform(X), y, eps).")
    if kind == "gated":
        raise ValueError(
            f"{type(estimator).__name__} is a gated network (its units switch on fixed "
            "gates, not on their own pre-activation); attack a ConvexReLU* or "
            "RobustConvexReLU* network instead.")
    if kind != "relu" and not isinstance(estimator, (MLPClassifier, MLPRegressor)):
        raise ValueError(
            "Attacks need a fitted ConvexReLU*, RobustConvexReLU*, MLPClassifier or "
            f"MLPRegressor; got {type(estimator).__name__}.")
    check_is_fitted(estimator)
    activation = getattr(estimator, "activation", "relu")
    if kind == "relu":
        activation = "relu"
    return estimator.coefs_, estimator.intercepts_, activation


def _forward(coefs, intercepts, activation, X):
    """Decision outputs (before any output activation) and the layers' cache."""
    act, _ = _ACTIVATIONS[activation]
    cache = []
    A = X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        Z = A @ W + b
        if i < len(coefs) - 1:
            A = act(Z)
            cache.append((Z, A))
        else:
            A = Z
    return A, cache


def _input_gradient(coefs, activation, cache, dF):
    """``dL/dX`` from ``dL/dF`` through the network (backpropagation)."""
    _, dact = _ACTIVATIONS[activation]
    G = dF @ coefs[-1].T
    for i in range(len(coefs) - 2, -1, -1):
        Z, A = cache[i]
        G = G * dact(Z, A)
        G = G @ coefs[i].T
    return G


def _encode(estimator, y, n_outputs):
    """Targets as the loss functions use them: (n, c) +-1 columns for classifiers
    (one column for two classes) plus class indices, or real targets (n, c)."""
    if is_classifier(estimator):
        classes = estimator.classes_
        index = np.searchsorted(classes, y)
        if np.any(index >= len(classes)) or np.any(classes[np.minimum(
                index, len(classes) - 1)] != y):
            raise ValueError("y holds labels the estimator was not fitted on.")
        if n_outputs == 1:
            return (2.0 * index - 1.0)[:, None], index
        return 2.0 * np.eye(n_outputs)[index] - 1.0, index
    Y = np.asarray(y, dtype=np.float64)
    return (Y[:, None] if Y.ndim == 1 else Y), None


def _loss_and_gradient(loss, F, Y, index):
    """Per-sample loss of decision outputs ``F`` and its gradient in ``F``."""
    n, c = F.shape
    if isinstance(loss, Loss) or loss in LOSSES:
        # A program's loss: one-vs-rest on +-1 columns, or averaged residuals.
        return as_loss(loss).sample_values_and_gradients(F, Y)
    if loss == "cross_entropy":
        if c == 1:
            margin = Y[:, 0] * F[:, 0]
            return -log_expit(margin), (-Y[:, 0] * expit(-margin))[:, None]
        value = logsumexp(F, axis=1) - F[np.arange(n), index]
        grad = softmax(F, axis=1)
        grad[np.arange(n), index] -= 1.0
        return value, grad
    # margin: how far the best wrong class (or the wrong sign) is ahead of the right one.
    if c == 1:
        return -Y[:, 0] * F[:, 0], -Y
    others = np.where(np.eye(c, dtype=bool)[index], -np.inf, F)
    rival = others.argmax(axis=1)
    grad = np.zeros_like(F)
    grad[np.arange(n), rival] = 1.0
    grad[np.arange(n), index] -= 1.0
    return others[np.arange(n), rival] - F[np.arange(n), index], grad


def _prepare(estimator, X, y, eps, loss, clip):
    coefs, intercepts, activation = _network(estimator)
    X = check_array(X, dtype=np.float64)
    if X.shape[1] != coefs[0].shape[0]:
        raise ValueError(f"X has {X.shape[1]} features; the network expects "
                         f"{coefs[0].shape[0]}.")
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a non-negative finite number; got {eps!r}.")
    if loss == "auto":
        loss = "margin" if is_classifier(estimator) else "squared_error"
    allowed = _attack_losses(is_classifier(estimator))
    if (loss.name if isinstance(loss, Loss) else loss) not in allowed:
        raise ValueError(f"loss={loss!r} does not fit a "
                         f"{'classifier' if is_classifier(estimator) else 'regressor'}: "
                         f"use 'auto' or one of {sorted(allowed)}.")
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y has {y.shape[0]} rows; X has {X.shape[0]}.")
    Y, index = _encode(estimator, y, coefs[-1].shape[1])
    lower = upper = None
    if clip is not None:
        lower, upper = clip
        if lower >= upper:
            raise ValueError(f"clip must be (lower, upper) with lower < upper; got {clip}.")
    network = (coefs, [np.asarray(b, dtype=np.float64) for b in intercepts], activation)
    return network, X, Y, index, loss, lower, upper


def _project(X_adv, X, eps, lower, upper):
    np.clip(X_adv, X - eps, X + eps, out=X_adv)
    if lower is not None:
        np.clip(X_adv, lower, upper, out=X_adv)
    return X_adv


def _losses(network, X_adv, Y, index, loss):
    F, cache = _forward(*network, X_adv)
    value, dF = _loss_and_gradient(loss, F, Y, index)
    return value, dF, cache


def fgsm(estimator, X, y, eps, *, loss="auto", clip=None):
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size ``eps``.

    Parameters
    ----------
    estimator : fitted network estimator
        ``ConvexReLU*``, ``RobustConvexReLU*``, ``MLPClassifier`` or ``MLPRegressor``.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True labels or targets.
    eps : float
        l_inf radius (>= 0), in the units of ``X``.
    loss : {"auto", "margin", "log_loss", "hinge", "cross_entropy", "squared_error"}
        What the attack increases, on the decision outputs ``F``. ``"auto"``:
        ``"margin"`` for classifiers (best wrong output minus the right one; ``-y f``
        for two classes), ``"squared_error"`` for regressors. ``"log_loss"`` and
        ``"hinge"`` are the one-vs-rest losses on +-1 targets that the robust
        classifiers train on, ``"cross_entropy"`` is the softmax loss.
    clip : (float, float), default=None
        Valid range of the features (e.g. ``(0, 1)`` for pixels).

    Returns
    -------
    X_adv : ndarray of shape (n_samples, n_features)
    """
    network, X, Y, index, loss, lower, upper = _prepare(estimator, X, y, eps, loss, clip)
    _, dF, cache = _losses(network, X, Y, index, loss)
    gradient = _input_gradient(network[0], network[2], cache, dF)
    return _project(X + eps * np.sign(gradient), X, eps, lower, upper)


def pgd(estimator, X, y, eps, *, n_steps=50, step_size=None, n_restarts=5, loss="auto",
        clip=None, random_state=None, return_losses=False):
    """Projected gradient descent on the l_inf ball (Madry et al. 2018), with restarts.

    Each restart begins at a uniform random point of the ball (the first at ``X``
    itself), takes ``n_steps`` signed-gradient steps and projects back; per sample, the
    perturbation with the largest loss seen over all steps and restarts is kept.

    Parameters
    ----------
    estimator, X, y, eps, loss, clip
        As in :func:`fgsm`.
    n_steps : int, default=50
    step_size : float, default=None
        ``2.5 * eps / n_steps`` when None.
    n_restarts : int, default=5
    random_state : int, RandomState instance or None, default=None
    return_losses : bool, default=False
        Also return each sample's loss at the returned point.

    Returns
    -------
    X_adv : ndarray of shape (n_samples, n_features)
    losses : ndarray of shape (n_samples,)
        Only with ``return_losses=True``.
    """
    network, X, Y, index, loss, lower, upper = _prepare(estimator, X, y, eps, loss, clip)
    if n_steps < 1 or n_restarts < 1:
        raise ValueError("n_steps and n_restarts must be at least 1.")
    rng = check_random_state(random_state)
    step = 2.5 * eps / n_steps if step_size is None else float(step_size)
    best, _, _ = _losses(network, X, Y, index, loss)
    best_X = X.copy()
    for restart in range(n_restarts):
        X_adv = X.copy() if restart == 0 else X + rng.uniform(-eps, eps, size=X.shape)
        _project(X_adv, X, eps, lower, upper)
        for _ in range(n_steps + 1):
            value, dF, cache = _losses(network, X_adv, Y, index, loss)
            better = value > best
            best[better] = value[better]
            best_X[better] = X_adv[better]
            gradient = _input_gradient(network[0], network[2], cache, dF)
            X_adv += step * np.sign(gradient)
            _project(X_adv, X, eps, lower, upper)
    return (best_X, best) if return_losses else best_X


def robust_accuracy(estimator, X, y, eps, *, attack="pgd", clip=None, random_state=None,
                    **attack_params):
    """Fraction of samples still classified correctly after the attack.

    Parameters
    ----------
    estimator : fitted classifier
    X, y, eps, clip, random_state
        As in :func:`pgd`.
    attack : {"pgd", "fgsm"}, default="pgd"
    **attack_params
        Passed to the attack (``n_steps``, ``n_restarts``, ``step_size``, ``loss``).

    Returns
    -------
    float
    """
    if not is_classifier(estimator):
        raise ValueError("robust_accuracy needs a classifier.")
    if attack == "pgd":
        X_adv = pgd(estimator, X, y, eps, clip=clip, random_state=random_state,
                    **attack_params)
    elif attack == "fgsm":
        X_adv = fgsm(estimator, X, y, eps, clip=clip, **attack_params)
    else:
        raise ValueError(f"attack must be 'pgd' or 'fgsm'; got {attack!r}.")
    return float(np.mean(estimator.predict(X_adv) == np.asarray(y)))


def certified_bounds(estimator, X, y, eps, *, loss="auto"):
    """Per-sample bounds that no perturbation ``||delta||_inf <= eps`` can cross.

    For a one-hidden-layer ReLU network. A unit whose pre-activation keeps its sign on
    the whole ball contributes linearly, and its worst case is exact (the l1 norm of
    the summed input weights); a unit that may switch is bounded by its interval
    ``[0, max pre-activation]``. Every bound is sound; on the training points of a
    robust fit no unit switches, so the bounds are its exact worst case there.

    Parameters
    ----------
    estimator : fitted one-hidden-layer ReLU network
    X, y, eps
        As in :func:`pgd`.
    loss : {"auto", "log_loss", "hinge", "squared_error"}, default="auto"
        The loss whose worst case is bounded: ``"auto"`` is ``"log_loss"`` for
        classifiers and ``"squared_error"`` for regressors (per sample, as
        :func:`pgd` computes it).

    Returns
    -------
    worst_loss : ndarray of shape (n_samples,)
        Upper bound on the loss at any point of the ball.
    certified : ndarray of shape (n_samples,), bool
        Classifiers: the prediction provably stays right on the whole ball
        (regressors: all False).
    """
    coefs, intercepts, activation = _network(estimator)
    if len(coefs) != 2 or activation != "relu":
        raise ValueError("certified_bounds needs a network with one hidden layer of "
                         f"ReLU units; got {len(coefs) - 1} hidden layers of "
                         f"{activation!r}.")
    if loss == "auto":
        loss = "log_loss" if is_classifier(estimator) else "squared_error"
    allowed = _attack_losses(is_classifier(estimator)) & set(LOSSES)
    if (loss.name if isinstance(loss, Loss) else loss) not in allowed:
        raise ValueError(f"loss must be 'auto' or one of {sorted(allowed)}; got {loss!r}.")
    network, X, Y, index, loss, _, _ = _prepare(estimator, X, y, eps, loss, None)
    return worst_case_bounds(network[0], network[1], X, Y, index, eps, loss)


def exact_worst_margins(estimator, X, y, eps, *, clip=None):
    """The exact worst classification margin of every sample over its l_inf ball.

    For a one-hidden-layer ReLU network the minimum over ``||delta||_inf <= eps`` of the
    margin ``f_y(x + delta) - max_{k != y} f_k(x + delta)`` (``y f(x + delta)`` for two
    classes, ``y = +-1``) is a mixed-integer linear program: a binary variable per hidden
    unit that may switch on the ball, with its interval bounds as big-M constants
    (Tjeng, Xiao & Tedrake 2019). Each is solved to optimality by HiGHS
    (:func:`scipy.optimize.milp`), one per sample and rival class. This is a
    verification tool for small networks and data (it can take seconds per sample);
    a sample is provably robust exactly when its margin is positive.

    Parameters
    ----------
    estimator : fitted classifier with one hidden layer of ReLU units
        ``ConvexReLUClassifier``, ``RobustConvexReLUClassifier`` or an
        ``MLPClassifier`` with ``activation="relu"``.
    X : array-like of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    eps : float
        l_inf radius (>= 0), in the units of ``X``.
    clip : (float, float), default=None
        Valid range of the features.

    Returns
    -------
    margins : ndarray of shape (n_samples,)
        The exact worst margins: the network's margin at ``X_worst``, a point HiGHS
        proved optimal (up to its feasibility tolerances).
    X_worst : ndarray of shape (n_samples, n_features)
        A perturbed point where each margin is attained.
    """
    if not is_classifier(estimator):
        raise ValueError("exact_worst_margins needs a classifier.")
    coefs, intercepts, activation = _network(estimator)
    if len(coefs) != 2 or activation != "relu":
        raise ValueError("exact_worst_margins needs a network with one hidden layer of "
                         "ReLU units.")
    network, X, Y, index, _, lower, upper = _prepare(estimator, X, y, eps, "margin", clip)
    (W1, W2), (b1, b2) = ([np.asarray(a, dtype=np.float64) for a in network[0]],
                          network[1])
    c = W2.shape[1]
    margins = np.empty(X.shape[0])
    X_worst = X.copy()
    for i, x in enumerate(X):
        lo, hi = x - eps, x + eps
        if lower is not None:
            lo, hi = np.maximum(lo, lower), np.minimum(hi, upper)
        # Interval bounds of every unit's pre-activation on the box.
        centre, radius = (lo + hi) / 2, (hi - lo) / 2
        pre_mid = centre @ W1 + b1
        pre_rad = radius @ np.abs(W1)
        l_pre, u_pre = pre_mid - pre_rad, pre_mid + pre_rad
        if c == 1:
            rivals = [(Y[i, 0] * W2[:, 0], Y[i, 0] * b2[0])]
        else:
            rivals = [(W2[:, index[i]] - W2[:, k], b2[index[i]] - b2[k])
                      for k in range(c) if k != index[i]]
        best, best_x = np.inf, x
        for weight, offset in rivals:
            value, point = _milp_min_output(W1, b1, weight, lo, hi, l_pre, u_pre)
            if value + offset < best:
                best, best_x = value + offset, point
        margins[i] = best
        X_worst[i] = best_x
    return margins, X_worst


def _milp_min_output(W1, b1, weight, lo, hi, l_pre, u_pre):
    """``min weight . relu(W1^T x + b1)`` over the box ``[lo, hi]``, exactly.

    Variables ``[x (d), a (h), s (h)]``: ``a`` the unit outputs, ``s`` binary for the
    units that may switch; stable units are linear (on) or zero (off).
    """
    d, h = W1.shape
    n_var = d + 2 * h
    rows, row_lo, row_hi = [], [], []
    low = np.concatenate([lo, np.zeros(h), np.zeros(h)])
    high = np.concatenate([hi, np.maximum(u_pre, 0.0), np.ones(h)])
    integrality = np.zeros(n_var)
    for j in range(h):
        pre = np.zeros(n_var)
        pre[:d] = W1[:, j]
        a = np.zeros(n_var)
        a[d + j] = 1.0
        if l_pre[j] >= 0:          # always on: a = W1_j . x + b1_j
            rows.append(a - pre)
            row_lo.append(b1[j])
            row_hi.append(b1[j])
            high[d + h + j] = 0.0
        elif u_pre[j] <= 0:        # always off: a = 0
            high[d + j] = 0.0
            high[d + h + j] = 0.0
        else:                      # may switch: a >= pre, a <= u s, a <= pre - l (1 - s)
            integrality[d + h + j] = 1
            rows.append(a - pre)
            row_lo.append(b1[j])
            row_hi.append(np.inf)
            on = a.copy()
            on[d + h + j] = -u_pre[j]
            rows.append(on)
            row_lo.append(-np.inf)
            row_hi.append(0.0)
            off = a - pre
            off[d + h + j] = -l_pre[j]
            rows.append(off)
            row_lo.append(-np.inf)
            row_hi.append(b1[j] - l_pre[j])
    cost = np.zeros(n_var)
    cost[d:d + h] = weight
    constraints = [LinearConstraint(np.array(rows), row_lo, row_hi)] if rows else []
    result = milp(cost, constraints=constraints, integrality=integrality,
                  bounds=Bounds(low, high),
                  options={"mip_rel_gap": 0.0})
    if result.x is None:  # pragma: no cover - the box is never empty
        raise RuntimeError(f"the exact verification failed: {result.message}")
    point = result.x[:d]
    # Evaluate the network at the point found (the program's value up to tolerances).
    return float(weight @ np.maximum(point @ W1 + b1, 0.0)), point
