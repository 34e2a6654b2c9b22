"""Two-layer ReLU networks trained to the global optimum of their adversarially robust
convex program (Bai, Gautam & Sojoudi 2022)."""

import warnings
from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..interval_bounds import worst_case_bounds
from ..losses import Loss, as_loss, loss_names
from ..patterns import robust_gates
from ..programs import RobustReLUProgram
from ..solvers import solver_names
from ._base import BaseConvexNetwork
from ._docs import (ATTRIBUTES, PARAMETERS, RELU_PARAMETERS, regression_loss_parameter,
                    without_parameters)
from ._relu import ConvexReLUClassifier, ConvexReLURegressor, _ReLUProgram

ROBUST_OBJECTIVE = r"""
    .. math::

        \min_{V, W} \; \frac{1}{n} \sum_{i=1}^{n} \ell^{\mathrm{wc}}_i
        + \alpha \sum_{j, k} \big(\|V_{jk}\|_2 + \|W_{jk}\|_2\big)
        \quad \text{s.t.} \quad (2 D_j - I) X V_{jk} \ge \epsilon \|V_{jk}^f\|_1, \;
        (2 D_j - I) X W_{jk} \ge \epsilon \|W_{jk}^f\|_1,

    the program of :class:`ConvexReLUClassifier` with the activation cones tightened so
    that no hidden unit changes its activation on any point of a training sample's
    l_inf ball of radius ``eps`` (``u^f``: the input weights without the bias), and the
    loss replaced by its exact worst case over that ball, ``l(y_i f(x_i) - eps
    ||a_i||_1)`` with ``a_i = sum_j D_j[i] (V_j^f - W_j^f)`` the gradient of the
    network at ``x_i``. The training loss of the fitted network is therefore a
    *certificate*: no perturbation ``||delta||_inf <= eps`` of a training point can raise
    its loss above ``robust_loss_`` says (:func:`skconvexnn.attacks.certified_bounds`
    computes the same bounds on any data). With ``eps=0`` it is the program of the
    ``ConvexReLU*`` estimators. Solved by restarted PDHG
    (:mod:`skconvexnn.solvers.pdhg`), certified by a duality gap and the largest
    constraint violation.
"""

ROBUST_PARAMETERS = """
    eps : float, default=0.05
        Radius of the l_inf ball of perturbations (>= 0), in the units of the features
        ``fit`` sees (after any scaler in a Pipeline). 0 gives the ``ConvexReLU*``
        program. When ``eps > 0`` (and ``fit_intercept``), each gate's bias is moved
        into a gap of width ``2 eps`` of the data along its direction (so a unit can
        keep its pattern), gates without one are dropped, and the coordinate
        directions and the constant unit are added
        (:func:`skconvexnn.patterns.robust_gates`).
    solver : {"auto", "pdhg"}, default="auto"
        Restarted primal-dual hybrid gradient, the only solver of this program.
    max_iter : int, default=20000
        Budget of PDHG iterations per output. ``n_iter_`` counts PDHG iterations (over
        all outputs) and ``loss_curve_`` holds the objective at every certificate
        evaluation (every 40 iterations). It bounds the fit time: an iteration costs
        four dense products of size ``n_samples x n_features x 2 n_patterns_`` (about
        5 ms on 455 x 30 rows with 87 patterns, one core, where ``tol=1e-3`` took
        21,000 iterations at ``alpha=1e-2`` and 31,000 at ``1e-3``; benchmarks/RESULTS.md
        section 9.5). In a grid search, a lower ``max_iter`` or a looser ``tol`` bounds
        each fit; a fit stopped early warns and its certificate still holds.
    tol : float, default=1e-3
        Stop when the relative duality gap at the feasible point the iterate is
        restored to is below ``tol`` (tried once the iterate's gap and its constraint
        violation, relative to ``max ||x_i|| * max ||u||``, are below ``tol``).
"""

ROBUST_ATTRIBUTES = """
    convex_coef_ : ndarray of shape (2, n_features_in_ + fit_intercept, n_patterns_, n_outputs_)
        Solution ``(V, W)`` of the robust program.
    hidden_pattern_ : ndarray of shape (n_neurons_,)
        Activation pattern (column of ``gates_``) of each hidden unit.
    constraint_violation_ : float
        Largest ``eps ||u^f||_1 - min_i (2 D_j - I) x_i . u`` over the non-zero blocks
        of the weights returned: zero. PDHG's iterates are feasible only in the limit,
        so the solver moves every violating unit inside its set (or to zero, where its
        pattern leaves no room) before it certifies and returns the weights. Were a
        violation beyond rounding left, ``duality_gap_`` would be NaN.
    robust_loss_ : float
        Certified worst-case training loss: the mean over training samples (weighted
        by ``sample_weight``) of a bound on the loss at the worst point of each
        sample's ``eps``-ball, computed from the fitted network by
        :func:`skconvexnn.attacks.certified_bounds` (sound even where a unit switches:
        such a unit is bounded by its interval).
"""


class _RobustProgram(_ReLUProgram):
    """The robust program's hooks: robust gates, the PDHG solve, the certificate."""

    _offers_partial_fit = False

    _robust_constraints: dict = {
        "eps": [Interval(Real, 0, None, closed="left")],
        "solver": [StrOptions({"auto", *solver_names("robust")})],
    }

    def _check_robust_parameters(self):
        if not np.isfinite(self.eps):
            raise ValueError(f"eps must be a non-negative finite number; got {self.eps!r}.")
        if self.n_jobs not in (None, 1):
            raise ValueError(
                f"{type(self).__name__} solves on one thread: n_jobs must be None or 1; "
                f"got {self.n_jobs!r}. Run fits in parallel instead (e.g. "
                "GridSearchCV(n_jobs=...)).")

    def _n_perturbed(self, X_aug):
        return X_aug.shape[1] - int(self.fit_intercept)

    def _gated_solver(self):
        return "auto"

    def _gates(self, X, X_aug, Y, sample_weight, loss, previous=None):
        """A cold fit's gates: the ReLU estimators' (the sampled gates and the gated
        program's units at ``alpha``), then, with an intercept, each moved off the
        data by ``eps`` (:func:`~skconvexnn.patterns.robust_gates`). A warm fit keeps
        the previous fit's gates."""
        if previous is not None:
            return previous
        # The gated program that proposes patterns knows the logistic loss on +-1
        # labels (two classes) or one-hot targets.
        margin = as_loss(loss).kind == "margin"
        gated_loss = "log_loss" if margin else loss
        Y_gated = (Y + 1.0) / 2.0 if margin and Y.shape[1] > 1 else Y
        gates = super()._gates(X, X_aug, Y_gated, sample_weight, gated_loss)
        if hasattr(gates, "at"):
            gates = gates.at(self._fit_alpha())
        if self.eps > 0 and self.fit_intercept:
            gates = robust_gates(X_aug, gates, self.eps, n_perturbed=self._n_perturbed(X_aug))
        return gates

    def _program(self):
        # The attacker moves the features, not the intercept column (last).
        return RobustReLUProgram(self.eps, n_perturbed=self.n_features_in_)

    def _path(self, *args, **kwargs):
        self._check_robust_parameters()
        return super()._path(*args, **kwargs)

    def _fit_convex(self, X, Y, sample_weight, loss, output_offset=None):
        self._check_robust_parameters()
        return super()._fit_convex(X, Y, sample_weight, loss, output_offset)

    def _set_solution(self, point, X, Y, sample_weight, loss, output_offset):
        """The fitted attributes, then the certificate computed from the network:
        ``robust_loss_`` and (classifiers) ``certified_accuracy_``."""
        super()._set_solution(point, X, Y, sample_weight, loss, output_offset)
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
        self._zero_if_no_unit_depends_on_input(X)
        index = Y.argmax(axis=1) if Y.shape[1] > 1 else None
        worst, certified = worst_case_bounds(
            self.coefs_, self.intercepts_, np.asarray(X, dtype=np.float64), Y, index,
            self.eps, loss)
        self.robust_loss_ = float(np.average(worst, weights=sample_weight))
        if hasattr(self, "classes_"):
            self.certified_accuracy_ = float(np.average(certified, weights=sample_weight))
        return self

    def _zero_if_no_unit_depends_on_input(self, X):
        """When eps leaves no hidden unit whose input weights matter (each moves its
        pre-activation on the training data by at most ``tol`` times its bias), set
        them to exactly zero and warn: the fit is the zero network (a constant)."""
        if self.eps == 0:
            return
        nontrivial = ([g for g in self.gates_.T if np.any(g[:-1] != 0)]
                      if self.fit_intercept else list(self.gates_.T))
        if self.n_neurons_:
            W1, b1 = self.coefs_[0], self.intercepts_[0]
            x_scale = float(np.sqrt(np.einsum("nd,nd->n", X, X).max()))
            reach = np.sqrt(np.einsum("du,du->u", W1, W1)) * x_scale
            if np.any(reach > self.tol * np.abs(b1)):
                return
            W1[...] = 0.0
            self.convex_coef_[:, :X.shape[1]] = 0.0
        elif nontrivial:
            return  # alpha, not eps, made the network zero
        name = type(self).__name__
        if not nontrivial:
            why = ("no activation pattern but the constant one can be kept on every "
                   "training sample's eps-ball (no gap of width 2 * eps in the data along "
                   "any gate direction)")
        else:
            why = ("every hidden unit's worst-case loss over the eps-balls is lowest with "
                   "zero input weights")
        warnings.warn(
            f"{name}: with eps={self.eps:g}, {why}, so the fit is the zero network "
            "(a constant prediction). Use a smaller eps, in the units of the features "
            "fit sees.", UserWarning)


class RobustConvexReLUClassifier(_RobustProgram, ConvexReLUClassifier):
    __doc__ = f"""Adversarially robust two-layer ReLU network classifier, trained to the global
    optimum of its convex program.

    Robust training (Bai, Gautam & Sojoudi 2022) that is a convex program, not a min-max:
    {ROBUST_OBJECTIVE}
    ``l`` is the logistic or hinge loss on +-1 targets; with more than two classes one
    output per class (one-vs-rest: each output is a robust binary problem, the loss is
    their sum) and the largest output wins. ``predict_proba`` is the sigmoid of the
    output (two classes) or the softmax of the one-vs-rest outputs (more; uncalibrated
    scores, since the program trains each output on its own), exactly as the fitted
    ``MLPClassifier`` that :meth:`to_mlp` returns computes them.

    Parameters
    ----------
    {without_parameters(PARAMETERS, {"solver", "max_iter", "tol"}).strip()}
    loss : {{"log_loss", "hinge"}}, default="log_loss"
        ``"log_loss"`` or ``"hinge"`` (its ``predict_proba`` is uncalibrated).
    {RELU_PARAMETERS.strip()}
    {ROBUST_PARAMETERS.strip()}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {ATTRIBUTES.strip()}
    {ROBUST_ATTRIBUTES.strip()}
    certified_accuracy_ : float
        Fraction of training samples (weighted) whose prediction provably stays right
        on their whole ``eps``-ball; no attack can push the training accuracy below it.

    See Also
    --------
    ConvexReLUClassifier : the same network without robustness (``eps=0``).
    skconvexnn.attacks.pgd : measure robustness on test data.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import RobustConvexReLUClassifier
    >>> from skconvexnn.attacks import robust_accuracy
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((100, 2))
    >>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
    >>> clf = RobustConvexReLUClassifier(eps=0.1, n_patterns=10, random_state=0).fit(X, y)
    >>> bool(robust_accuracy(clf, X, y, eps=0.1, random_state=0)
    ...      >= clf.certified_accuracy_ > 0.8)
    True
    """

    _parameter_constraints: dict = {
        **BaseConvexNetwork._parameter_constraints,
        "loss": [StrOptions(loss_names("classification", robust=True))],
        **_ReLUProgram._pattern_constraints,
        **_RobustProgram._robust_constraints,
    }

    def __init__(self, n_patterns=100, *, eps=0.05, alpha=1e-3, loss="log_loss",
                 fit_intercept=True, patterns="gated", solver="auto", max_iter=20000,
                 tol=1e-3, random_state=None, warm_start=False, backend="auto",
                 n_jobs=None, verbose=0):
        self.n_patterns = n_patterns
        self.eps = eps
        self.patterns = patterns
        self.alpha = alpha
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.warm_start = warm_start
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _encode_targets(self, y, sample_weight):
        """+-1 targets: one column for two classes, one per class (one-vs-rest) else."""
        Y, offset = super()._encode_targets(y, sample_weight)
        if Y.shape[1] > 1:
            Y = 2.0 * Y - 1.0
        return Y, offset


class RobustConvexReLURegressor(_RobustProgram, ConvexReLURegressor):
    __doc__ = f"""Adversarially robust two-layer ReLU network regressor, trained to the global
    optimum of its convex program.

    Robust training (Bai, Gautam & Sojoudi 2022) that is a convex program:
    {ROBUST_OBJECTIVE}
    with the worst case of the loss over the ball, ``l(|y_i - f(x_i)| + eps
    ||a_i||_1) / c`` per output for a residual loss ``l`` (``c`` outputs, each its own
    program; ``(|y_i - f(x_i)| + eps ||a_i||_1)^2 / (2 c)`` for the squared error).
    With ``fit_intercept=True`` the output bias is fixed as in
    :class:`ConvexReLURegressor`.

    Parameters
    ----------
    {without_parameters(PARAMETERS, {"solver", "max_iter", "tol"}).strip()}
    {regression_loss_parameter(robust=True).strip()}
    {RELU_PARAMETERS.strip()}
    {ROBUST_PARAMETERS.strip()}

    Attributes
    ----------
    {ATTRIBUTES.strip()}
    {ROBUST_ATTRIBUTES.strip()}
    target_scale_ : float
        1: unlike :class:`ConvexReLURegressor`, the robust program fits ``y`` as given
        (its worst case, ``robust_loss_`` and ``alpha`` are in the units of ``y``), so
        standardize targets of large spread yourself.

    See Also
    --------
    ConvexReLURegressor : the same network without robustness (``eps=0``).

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import RobustConvexReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-1, 1, size=(200, 2))
    >>> y = np.maximum(X[:, 0], 0) - X[:, 1]
    >>> reg = RobustConvexReLURegressor(eps=0.01, n_patterns=20, random_state=0).fit(X, y)
    >>> bool(reg.converged_), bool(reg.score(X, y) > 0.95)
    (True, True)
    >>> bool(reg.robust_loss_ >= 0.5 * np.mean((reg.predict(X) - y) ** 2))
    True
    """

    _parameter_constraints: dict = {
        **BaseConvexNetwork._parameter_constraints,
        "loss": [StrOptions(loss_names("regression", robust=True)), Loss],
        **_ReLUProgram._pattern_constraints,
        **_RobustProgram._robust_constraints,
    }
    _loss_abilities: dict = {"robust": True}
    _rescales_targets = False

    def __init__(self, n_patterns=100, *, eps=0.05, alpha=1e-3, loss="squared_error",
                 fit_intercept=True, patterns="gated", solver="auto", max_iter=20000,
                 tol=1e-3, random_state=None, warm_start=False, backend="auto",
                 n_jobs=None, verbose=0):
        self.n_patterns = n_patterns
        self.eps = eps
        self.patterns = patterns
        self.alpha = alpha
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.warm_start = warm_start
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose
