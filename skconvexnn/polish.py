"""Polish a fitted MLP to the global optimum over its own activation patterns.

A fitted ``MLPClassifier`` / ``MLPRegressor`` with one hidden ReLU layer has, on its
training rows, one activation pattern per hidden unit: ``D_j = 1[X w_j + b_j >= 0]``.
Its units are a feasible point of the cone-constrained ReLU program over those
patterns (Pilanci & Ergen 2020), with the MLP's output bias fixed: unit ``j`` with
output weight ``a_j`` is the block ``(w_j, b_j) |a_j|`` of ``V`` (``a_j > 0``) or ``W``
(``a_j < 0``), inside its cone, and its penalty ``alpha ||(w_j, b_j)|| |a_j||`` is at most
the unit's weight decay ``alpha / 2 (||(w_j, b_j)||^2 + a_j^2)``. The program's optimum is
therefore no worse than the MLP's weight-decay objective (one output; with several
the program gives every output its own units, see :func:`polish_mlp`), and the solver
certifies it. L-BFGS and Adam stop at a stationary point of a non-convex objective;
over the patterns they found the convex program goes the rest of the way.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.base import clone
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.utils.validation import check_array, check_is_fitted

from .losses import as_loss
from .patterns import add_intercept_column
from .programs import ReLUProgram, solve
from .solutions import ReLUSolution


@dataclass
class PolishResult:
    """The MLP polished by :func:`polish_mlp`, and its certificate.

    Attributes
    ----------
    mlp : MLPClassifier or MLPRegressor
        A fitted copy of the MLP given, with the polished network (its hidden layer has
        as many units as the convex solution's active blocks).
    objective : float
        The polished network's objective on the training rows: the mean loss plus
        ``alpha_mlp / (2 n)`` times the squared weights *and hidden biases* (the
        program's regularizer; scikit-learn's MLP leaves its biases out).
    mlp_objective : float
        The same objective at the MLP given.
    duality_gap : float
        Certified ``(objective - optimum) / objective`` over the MLP's patterns (NaN
        when void).
    converged : bool
        Whether ``duality_gap <= tol`` at feasible weights.
    solution : ReLUSolution
        The convex program's solution (weights, patterns, certificate).
    """

    mlp: object
    objective: float
    mlp_objective: float
    duality_gap: float
    converged: bool
    solution: ReLUSolution


def _network_objective(loss, X_aug, coefs, intercepts, alpha):
    """``loss(F) + alpha / 2 (||W1||^2 + ||b1||^2 + ||W2||^2)`` of a one-hidden-layer
    ReLU network (``loss`` bound, with the output bias inside it)."""
    W1, W2 = coefs
    b1, _ = intercepts
    hidden = np.maximum(X_aug[:, :-1] @ W1 + b1, 0)
    decay = np.sum(W1 ** 2) + np.sum(b1 ** 2) + np.sum(W2 ** 2)
    return loss.value(hidden @ W2) + alpha / 2 * float(decay)


def _targets(mlp, y, n_samples):
    """``(Y, loss)``: the program's targets and loss name for the MLP's task."""
    if isinstance(mlp, MLPClassifier):
        if mlp._label_binarizer.y_type_ == "multilabel-indicator":
            raise ValueError("polish_mlp takes a classifier of one label per sample, not "
                             "a multilabel MLPClassifier.")
        y = np.asarray(y).ravel()
        if len(y) != n_samples:
            raise ValueError(f"y has {len(y)} entries for {n_samples} rows of X.")
        unknown = ~np.isin(y, mlp.classes_)
        if unknown.any():
            raise ValueError(f"y holds labels the MLP was not fitted on: "
                             f"{np.unique(y[unknown])[:5].tolist()}.")
        index = np.searchsorted(mlp.classes_, y)
        if len(mlp.classes_) == 2:
            return (2.0 * index - 1.0)[:, None], "log_loss"
        return np.eye(len(mlp.classes_))[index], "log_loss"
    if mlp.loss != "squared_error":
        raise ValueError(f"polish_mlp takes an MLPRegressor with loss='squared_error'; "
                         f"got loss={mlp.loss!r}.")
    Y = np.asarray(y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if len(Y) != n_samples:
        raise ValueError(f"y has {len(Y)} rows for {n_samples} rows of X.")
    if Y.shape[1] != mlp.n_outputs_:
        raise ValueError(f"y has {Y.shape[1]} outputs; the MLP has {mlp.n_outputs_}.")
    return Y, "squared_error"


def _convex_point(W1, b1, W2):
    """The MLP's units as weights ``[V, W]`` of the ReLU program on the gates
    ``[W1; b1]`` (shape ``(2, d + 1, h, c)``)."""
    units = np.vstack([W1, b1[None, :]])  # (d + 1, h): unit j's gate is its weights
    positive = np.maximum(W2, 0.0)  # (h, c)
    negative = np.maximum(-W2, 0.0)
    return np.stack([units[:, :, None] * positive[None], units[:, :, None] * negative[None]])


def polish_mlp(mlp, X, y, *, tol=1e-6, max_iter=10000, solver="auto", verbose=0):
    """Polish a fitted one-hidden-layer ReLU MLP to the certified global optimum of its
    weight-decay objective over its own activation patterns.

    The MLP's hidden units give the gates (``[coefs_[0]; intercepts_[0]]``, so their
    patterns on ``X`` are the MLP's own), its output bias is kept fixed, and the
    cone-constrained ReLU program (:func:`~skconvexnn.solve_relu`) at
    ``alpha = mlp.alpha / n_samples`` (scikit-learn's full-batch weight decay,
    ``alpha_mlp / (2 n) ||W||^2`` on the mean loss) is solved from the MLP's own
    weights. With one output (binary classification, one regression target) the
    result's objective is never above the MLP's (``mlp_objective``), up to ``tol``
    times it: the MLP is a feasible point of the program. With several outputs the
    program gives each output its own units (as :class:`ConvexReLUClassifier` does),
    so a unit shared by outputs costs the sum of its output weights' magnitudes, not
    their root sum of squares: the polished objective may then be above the MLP's.

    Parameters
    ----------
    mlp : MLPClassifier or MLPRegressor
        Fitted, ``activation="relu"``, one hidden layer; a classifier of one label
        per sample (logistic or softmax loss) or a regressor with the squared error.
    X : array-like of shape (n_samples, n_features)
        The rows to polish on (the MLP's training rows, normally).
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Their labels or targets.
    tol : float, default=1e-6
        Target relative duality gap.
    max_iter : int, default=10000
        Iteration budget of the solver.
    solver : str, default="auto"
        A solver of the ReLU program (:func:`~skconvexnn.solve_relu`).
    verbose : int, default=0

    Returns
    -------
    PolishResult
        The polished MLP (a fitted copy, same class and parameters), both objectives
        and the certificate.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.neural_network import MLPClassifier
    >>> from sklearn.preprocessing import scale
    >>> from skconvexnn import polish_mlp
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X = scale(X)
    >>> mlp = MLPClassifier((20,), alpha=1.0, max_iter=300, random_state=0).fit(X, y)
    >>> result = polish_mlp(mlp, X, y)
    >>> result.converged, result.objective <= result.mlp_objective
    (True, True)
    """
    if not isinstance(mlp, (MLPClassifier, MLPRegressor)):
        raise ValueError(f"polish_mlp takes a fitted MLPClassifier or MLPRegressor; got "
                         f"{type(mlp).__name__}.")
    check_is_fitted(mlp)
    if mlp.activation != "relu" or len(mlp.coefs_) != 2:
        raise ValueError(f"polish_mlp takes an MLP with one hidden layer of ReLU units; "
                         f"got activation={mlp.activation!r} and "
                         f"{len(mlp.coefs_) - 1} hidden layers.")
    X = check_array(X, dtype=np.float64)
    if X.shape[1] != mlp.n_features_in_:
        raise ValueError(f"X has {X.shape[1]} features; the MLP was fitted on "
                         f"{mlp.n_features_in_}.")
    n = X.shape[0]
    Y, loss_name = _targets(mlp, y, n)
    W1, W2 = (np.asarray(c, dtype=np.float64) for c in mlp.coefs_)
    b1, b2 = (np.asarray(b, dtype=np.float64) for b in mlp.intercepts_)
    alpha = mlp.alpha / n
    X_aug = add_intercept_column(X)
    gates = np.vstack([W1, b1[None, :]])
    Y_program, loss = as_loss(loss_name).shifted(Y, b2)
    bound = loss.bind(Y_program)
    mlp_objective = _network_objective(bound, X_aug, [W1, W2], [b1, b2], alpha)

    program = ReLUProgram()
    solution = solve(program, X_aug, Y_program, gates, alpha, loss=loss,
                     coef_init=_convex_point(W1, b1, W2), tol=tol, max_iter=max_iter,
                     solver=solver, verbose=verbose)
    network = program.network(solution.weights, True, output_bias=b2)
    polished = clone(mlp).set_params(hidden_layer_sizes=(network.coefs[0].shape[1],))
    for name, value in vars(mlp).items():
        if name.endswith("_") and not name.startswith("__"):
            setattr(polished, name, value)
    polished._label_binarizer = getattr(mlp, "_label_binarizer", None)
    if polished._label_binarizer is None:
        del polished._label_binarizer
    polished.coefs_ = [c.astype(mlp.coefs_[0].dtype) for c in network.coefs]
    polished.intercepts_ = [b.astype(mlp.coefs_[0].dtype) for b in network.intercepts]
    objective = _network_objective(bound, X_aug, network.coefs, network.intercepts, alpha)
    # scikit-learn's convention for loss_: its penalty leaves the biases out.
    polished.loss_ = objective - alpha / 2 * float(np.sum(network.intercepts[0] ** 2))
    return PolishResult(mlp=polished, objective=objective, mlp_objective=mlp_objective,
                        duality_gap=solution.duality_gap, converged=solution.converged,
                        solution=solution)
