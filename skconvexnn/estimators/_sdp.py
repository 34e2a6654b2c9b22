"""Estimators over the SDP relaxation: a network, and how far it can be from the best of
any width.

:class:`SDPRelaxationRegressor` and :class:`SDPRelaxationClassifier` solve the
relaxation of :mod:`skconvexnn.sdp` (a certified lower bound on the weight-decay
objective of every two-layer ReLU network), round it to a network of the width asked
for, and (by default) also fit the sampled exact-ReLU program at the same ``alpha``;
they predict with the better of the two networks and report ``global_gap_``, the
relative distance of its objective to the bound: how far, at most, the network returned
is from the global optimum over all widths.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from .._validation import check_magnitudes
from ..functional import solve_relu
from ..network import relu_network
from ..patterns import add_intercept_column, sample_gates
from ..sdp import SDP_SOLVERS, SDPRelaxation, round_to_network, solve_sdp_relaxation

_PARAMETERS = """    alpha : float, default=1e-3
        Weight decay: the objective is ``sum_i w_i ||f(x_i) - y_i||^2 / (2 c) + alpha *
        (1/2)(||W1||^2 + ||b1||^2 + ||W2||^2)`` (weights ``w_i`` summing to one, ``c``
        outputs), as every exported network of the library pays; the output bias is
        free and unregularized.
    fit_intercept : bool, default=True
        Hidden bias (a column of ones in the first layer, regularized) and free output
        bias. The bound then covers every network of that form.
    width : int, default=None
        Hidden units of the rounded network; ``None`` gives the numerical rank of the
        relaxation's solution.
    solver : {"douglas-rachford", "clarabel", "scs"}, default="douglas-rachford"
        Our splitting on the reduced relaxation, or a conic solver through CVXPY on the
        same form (the ``sdp`` extra; Clarabel is faster below about 75 rows). Beyond a
        few hundred rows the splitting's bound within a time limit is valid but loose
        (benchmarks/RESULTS.md section 21).
    tol : float, default=1e-5
        Relative gap between the relaxation's primal objective and its certified bound
        at which the splitting stops.
    max_iter : int, default=10000
        Splitting iterations. The bound is valid wherever it stops.
    time_limit : float, default=None
        Seconds for the splitting (the bound it has is kept).
    rounding_max_iter : int, default=1000
        L-BFGS iterations refining the rounded network on its own objective.
    relu_upper_bound : bool, default=True
        Also fit the sampled exact-ReLU program (:func:`~skconvexnn.solve_relu`) at the
        same ``alpha`` and keep its network when its objective is lower.
    n_patterns : int, default=100
        Gates sampled for that program.
    random_state : int, RandomState instance or None, default=None
        Gates and the rounding's padding units.
    verbose : int, default=0
        Progress of the splitting."""

_ATTRIBUTES = """    lower_bound_ : float
        Certified lower bound on the objective of every two-layer ReLU network of any
        width on the training data (the relaxation's dual value at a feasible point).
    relaxation_objective_ : float
        The relaxation's primal objective where the solver stopped (not a bound).
    relaxation_converged_ : bool
        Whether the splitting met ``tol`` (the bound then is within ``tol`` of the
        relaxation's optimum).
    rounded_objective_ : float
        Objective of the network rounded from the relaxation.
    relu_objective_ : float
        Objective of the exact-ReLU program's network (NaN without
        ``relu_upper_bound``).
    objective_ : float
        Objective of the network returned (the lower of the two): an upper bound.
    global_gap_ : float
        ``(objective_ - lower_bound_) / objective_``: the network returned is within this
        relative distance of the best two-layer ReLU network of any width.
    network_source_ : {"rounded", "relu"}
        Which network predicts.
    coefs_, intercepts_ : lists of ndarrays
        The network in ``MLPRegressor``'s layout.
    n_neurons_ : int
    lifted_factor_ : ndarray of shape (2n + d + c, r)
        ``Lambda = lifted_factor_ @ lifted_factor_.T``, the relaxation's solution.
    n_iter_ : int
        Splitting iterations.
    relaxation_ : SDPRelaxationResult
        The solve, with its history."""


class _BaseSDPRelaxation(BaseEstimator):
    _parameter_constraints: dict = {
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "width": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions(set(SDP_SOLVERS))],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "time_limit": [Interval(Real, 0, None, closed="neither"), None],
        "rounding_max_iter": [Interval(Integral, 0, None, closed="left")],
        "relu_upper_bound": ["boolean"],
        "n_patterns": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=1e-3, *, fit_intercept=True, width=None,
                 solver="douglas-rachford", tol=1e-5, max_iter=10000, time_limit=None,
                 rounding_max_iter=1000, relu_upper_bound=True, n_patterns=100,
                 random_state=None, verbose=0):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.width = width
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.time_limit = time_limit
        self.rounding_max_iter = rounding_max_iter
        self.relu_upper_bound = relu_upper_bound
        self.n_patterns = n_patterns
        self.random_state = random_state
        self.verbose = verbose

    def _fit_targets(self, X, Y, sample_weight):
        """Solve, round, compare; set every fitted attribute. ``Y`` is (n, c)."""
        counted = sample_weight > 0
        X, Y, sample_weight = X[counted], Y[counted], sample_weight[counted]
        X = np.asarray(X, dtype=np.float64)
        X_aug = add_intercept_column(X) if self.fit_intercept else X
        program = SDPRelaxation(X_aug, Y, self.alpha, sample_weight,
                                fit_output_bias=self.fit_intercept)
        result = solve_sdp_relaxation(
            X_aug, Y, self.alpha, sample_weight=sample_weight,
            fit_output_bias=self.fit_intercept, solver=self.solver, tol=self.tol,
            max_iter=self.max_iter, time_limit=self.time_limit, verbose=self.verbose)
        rng = check_random_state(self.random_state)
        rounded = round_to_network(program, result.factor, self.width,
                                   max_iter=self.rounding_max_iter, random_state=rng)
        best, source = (rounded.U, rounded.V, rounded.bias), "rounded"
        self.rounded_objective_ = rounded.objective
        self.relu_objective_ = np.nan
        if self.relu_upper_bound:
            offset = (np.average(Y, axis=0, weights=sample_weight) if self.fit_intercept
                      else np.zeros(Y.shape[1]))
            gates = sample_gates(X, self.n_patterns, fit_intercept=self.fit_intercept,
                                 sample_weight=sample_weight, random_state=rng)
            solution = solve_relu(X_aug, Y - offset, gates, self.alpha,
                                  sample_weight=sample_weight)
            network = relu_network(solution.weights, fit_intercept=False)
            U, V = network.coefs[0], network.coefs[1].T
            self.relu_objective_ = program.network_objective(U, V)
            if self.relu_objective_ < rounded.objective:
                best = (U, V, program.output_bias(np.maximum(X_aug @ U, 0) @ V.T))
                source = "relu"
        U, V, bias = best
        self.network_source_ = source
        self.objective_ = program.network_objective(U, V, bias)
        self.lower_bound_ = result.lower_bound
        self.relaxation_objective_ = result.objective
        self.relaxation_converged_ = result.converged
        self.global_gap_ = ((self.objective_ - self.lower_bound_)
                            / max(self.objective_, np.finfo(float).tiny))
        self.lifted_factor_ = result.factor
        self.n_iter_ = result.n_iter
        self.relaxation_ = result
        W1 = U[:-1] if self.fit_intercept else U
        b1 = U[-1] if self.fit_intercept else np.zeros(U.shape[1])
        self.coefs_ = [W1, V.T.copy()]
        self.intercepts_ = [b1, np.asarray(bias, dtype=np.float64)]
        self.n_neurons_ = U.shape[1]
        self.n_outputs_ = Y.shape[1]
        return self

    def _check_fit(self, X, y, sample_weight, **kwargs):
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32],
                             ensure_min_samples=2, **kwargs)
        check_magnitudes(X, y if kwargs.get("y_numeric") else None)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
        if not np.any(sample_weight > 0):
            raise ValueError("sample_weight must have at least one positive entry.")
        return X, y, sample_weight

    def _forward(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False)
        hidden = np.maximum(X @ self.coefs_[0] + self.intercepts_[0], 0)
        return hidden @ self.coefs_[1] + self.intercepts_[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class SDPRelaxationRegressor(RegressorMixin, _BaseSDPRelaxation):
    __doc__ = f"""Two-layer ReLU regression with a certificate over every width.

    Solves the SDP relaxation of Prakhya, Birdal & Yurtsever (2024) (:mod:`skconvexnn.sdp`)
    for a lower bound on the weight-decay objective of every two-layer ReLU network,
    rounds its solution to a network, and keeps the better of that network and the
    sampled exact-ReLU program's. Squared loss only (as the relaxation). The relaxation
    has a ``(2n + d + c)``-square matrix variable: small tables (hundreds of rows).

    Parameters
    ----------
{_PARAMETERS}

    Attributes
    ----------
{_ATTRIBUTES}

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from skconvexnn.estimators import SDPRelaxationRegressor
    >>> X, y = make_regression(n_samples=30, n_features=2, noise=1.0, random_state=0)
    >>> model = SDPRelaxationRegressor(alpha=1e-2, random_state=0).fit(X, y / 50)
    >>> bool(model.lower_bound_ <= model.objective_)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit to ``X`` (n, d) and targets ``y`` (n,) or (n, c)."""
        X, y, sample_weight = self._check_fit(X, y, sample_weight, y_numeric=True,
                                              multi_output=True)
        self._y_is_1d = y.ndim == 1
        Y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
        return self._fit_targets(X, Y, sample_weight)

    def predict(self, X):
        """Predicted targets, (n,) or (n, c) like ``y``."""
        out = self._forward(X)
        return out.ravel() if self._y_is_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class SDPRelaxationClassifier(ClassifierMixin, _BaseSDPRelaxation):
    __doc__ = f"""Two-layer ReLU classification with a certificate over every width.

    The squared loss on +-1 targets (two classes) or one-hot targets (more), as the
    seed and ``ConvexReLUClassifier(loss="squared_error")``; otherwise as
    :class:`SDPRelaxationRegressor`.

    Parameters
    ----------
{_PARAMETERS}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
{_ATTRIBUTES}
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit to ``X`` (n, d) and labels ``y`` (n,)."""
        X, y, sample_weight = self._check_fit(X, y, sample_weight)
        check_classification_targets(y)
        self.classes_, index = np.unique(y, return_inverse=True)
        if len(np.unique(index[sample_weight > 0])) < 2:
            raise ValueError(f"{type(self).__name__} needs samples of at least 2 classes "
                             "with positive weight.")
        if len(self.classes_) == 2:
            Y = (2.0 * index - 1.0)[:, None]
        else:
            Y = np.eye(len(self.classes_))[index]
        return self._fit_targets(X, Y, sample_weight)

    def decision_function(self, X):
        """Network output: (n,) for two classes (positive: ``classes_[1]``), else (n, c)."""
        scores = self._forward(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted labels."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]
