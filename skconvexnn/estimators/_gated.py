"""Gated ReLU networks trained to the global optimum of their convex group-lasso program."""

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from ._base import BaseGatedReLU

_COMMON_PARAMETERS_DOC = """
    n_patterns : int, default=100
        Number of gate vectors sampled (the analogue of ``hidden_layer_sizes``). Gates
        that produce the same activation pattern on the training data, or none at all,
        are merged or dropped; ``n_patterns_`` is what remains.
    alpha : float, default=1e-3
        Regularization strength (> 0). It equals the weight-decay coefficient of the
        equivalent network in the objective ``loss + (alpha/2) * (||W1||^2 + ||W2||^2)``
        with the loss averaged over samples. ``MLPClassifier`` adds
        ``alpha_mlp / (2 n_samples) * ||W||^2`` to its mean loss, so its ``alpha_mlp``
        corresponds to ``alpha * n_samples`` here.
    fit_intercept : bool, default=True
        Append a constant input: each hidden unit gets a bias, regularized with its
        weights as in the convex formulation (Pilanci & Ergen 2020).
    solver : {"auto", "working_set", "fista"}, default="auto"
        ``"working_set"`` (what ``"auto"`` picks): FISTA on a working set of groups grown
        from the full gradient and certified by the full duality gap. ``"fista"``: FISTA
        on every group at once.
    max_iter : int, default=10000
        Budget of FISTA iterations.
    tol : float, default=1e-3
        Stop when the relative duality gap ``(primal - dual) / primal`` is below ``tol``:
        then ``objective_ - optimum <= tol * objective_``. (1e-3
        and 1e-4 gave the same cross-validated accuracy in ``benchmarks/RESULTS.md``;
        1e-3 fits 25-40% faster.)
    random_state : int, RandomState instance or None, default=None
        Draws the gates. The same seed gives the same fit, bit for bit, on one machine.
    warm_start : bool, default=False
        Reuse the previous fit's gates and weights as the starting point (useful along
        a decreasing sequence of ``alpha``). The gates are kept, so ``n_patterns`` and
        ``random_state`` only take effect on a cold fit (or when the number of features
        or outputs changed).
    backend : {"auto", "numba", "numpy", "cupy"}, default="auto"
        Where the kernels run: ``"numba"`` (compiled CPU kernels, what ``"auto"`` picks
        for NumPy input), ``"numpy"`` (reference implementation) or ``"cupy"`` (GPU,
        optional extra ``gpu``).
    n_jobs : int, default=None
        Threads for BLAS during ``fit``; None keeps the current setting, -1 uses all
        cores.
    verbose : int, default=0
        1 or more prints the objective and duality gap at every outer iteration.
"""

_COMMON_ATTRIBUTES_DOC = """
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` was a DataFrame with string column names.
    gates_ : ndarray of shape (n_features_in_ + fit_intercept, n_patterns_)
        The gates of the distinct activation patterns, in the coordinates of ``X``
        (last row: the bias coordinate, when ``fit_intercept``).
    n_patterns_ : int
        Number of distinct non-zero activation patterns on the training data.
    convex_coef_ : ndarray of shape (n_features_in_ + fit_intercept, n_patterns_, n_outputs_)
        Solution ``U`` of the convex program: ``U[:, j, k]`` weighs pattern ``j`` for
        output ``k``.
    coefs_ : list of two ndarrays
        The equivalent network's weights, ``(n_features_in_, n_neurons_)`` and
        ``(n_neurons_, n_outputs_)``, in the layout of ``MLPClassifier.coefs_``.
    intercepts_ : list of two ndarrays
        Hidden biases ``(n_neurons_,)`` and output biases ``(n_outputs_,)`` (zero, but for
        the regressor's target mean).
    hidden_pattern_ : ndarray of shape (n_neurons_,)
        Column of ``gates_`` that switches each hidden unit on.
    n_neurons_ : int
        Active hidden units: non-zero blocks of ``convex_coef_``.
    n_layers_ : int
        3, as in ``MLPClassifier``.
    n_outputs_ : int
        Number of network outputs.
    out_activation_ : str
        Output activation: ``"logistic"``, ``"softmax"`` or ``"identity"``.
    objective_ : float
        Final value of the convex objective.
    loss_ : float
        Same as ``objective_`` (``MLPClassifier.loss_`` also includes its penalty).
    duality_gap_ : float
        Relative duality gap at the solution: the certificate of optimality.
    converged_ : bool
        Whether ``duality_gap_ <= tol`` was reached.
    n_iter_ : int
        FISTA iterations run.
    loss_curve_ : list of float
        Objective after every iteration.
"""

_OBJECTIVE_DOC = r"""
    .. math::

        \min_{U} \; L\Big(\sum_{j=1}^{P} D_j X U_j,\; Y\Big)
        + \alpha \sum_{j=1}^{P} \sum_{k=1}^{c} \|U_{jk}\|_2,
        \qquad D_j = \mathrm{diag}\big(1[X g_j \ge 0]\big),

    a group lasso (Mishkin, Sahiner & Pilanci 2022) whose solution is the global
    optimum of a two-layer gated ReLU network with weight decay. The gates ``g_j`` are
    standard normal in standardized feature coordinates and stored in the coordinates
    of ``X`` (see :func:`skconvexnn.patterns.sample_gates`), so the patterns do not
    depend on how the features are scaled. A prediction on ``x`` is
    ``sum_j 1[x . g_j >= 0] x . U_j``.
"""


def _uses_log_loss(estimator):
    return estimator.loss == "log_loss"


class GatedReLUClassifier(ClassifierMixin, BaseGatedReLU):
    __doc__ = f"""Gated ReLU network classifier trained to the global optimum.

    Solves the convex program
    {_OBJECTIVE_DOC}
    with ``L`` the logistic loss (binary), the softmax cross-entropy (multiclass), or
    the squared error on +-1 / one-hot targets, averaged over samples (scnn's scaling).
    Every fit reports its certificate, ``duality_gap_``.

    Parameters
    ----------
    {_COMMON_PARAMETERS_DOC.strip()}
    loss : {{"log_loss", "squared_error"}}, default="log_loss"
        ``"log_loss"``: logistic (two classes) or softmax cross-entropy (more), with
        ``predict_proba``. ``"squared_error"``: squared error on +-1 (binary) or one-hot
        targets, as scnn; no probabilities.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {_COMMON_ATTRIBUTES_DOC.strip()}

    See Also
    --------
    GatedReLURegressor : the same model for regression.
    sklearn.neural_network.MLPClassifier : the SGD-trained network this replaces.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skconvexnn import GatedReLUClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), GatedReLUClassifier(random_state=0)).fit(X, y)
    >>> bool(clf[-1].duality_gap_ <= clf[-1].tol)
    True
    """

    _parameter_constraints: dict = {
        **BaseGatedReLU._parameter_constraints,
        "loss": [StrOptions({"log_loss", "squared_error"})],
    }

    def __init__(self, n_patterns=100, *, alpha=1e-3, loss="log_loss", fit_intercept=True,
                 solver="auto", max_iter=10000, tol=1e-3, random_state=None,
                 warm_start=False, backend="auto", n_jobs=None, verbose=0):
        self.n_patterns = n_patterns
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data ``X`` and labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is their weighted average.

        Returns
        -------
        self
        """
        X, y, sample_weight = self._check_fit_inputs(X, y, sample_weight)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        n_weighted_classes = len(np.unique(y_index[sample_weight > 0]))
        if n_weighted_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with "
                f"positive weight; got {n_weighted_classes} class."
            )
        if len(self.classes_) == 2:
            Y = (2.0 * y_index - 1.0)[:, None]
            self.out_activation_ = "logistic" if self.loss == "log_loss" else "identity"
        else:
            Y = np.eye(len(self.classes_))[y_index]
            self.out_activation_ = "softmax" if self.loss == "log_loss" else "identity"
        return self._fit_convex(X, Y, sample_weight, self.loss)

    def decision_function(self, X):
        """Network output: shape (n_samples,) for two classes, else (n_samples, n_classes).

        Positive values (binary) or the largest column (multiclass) give the class.
        """
        scores = self._forward(self._validate_X_predict(X))
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels, shape (n_samples,)."""
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    @available_if(_uses_log_loss)
    def predict_proba(self, X):
        """Class probabilities (sigmoid / softmax of the output); ``loss="log_loss"`` only."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = expit(scores)
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)

    @available_if(_uses_log_loss)
    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


class GatedReLURegressor(RegressorMixin, BaseGatedReLU):
    __doc__ = f"""Gated ReLU network regressor trained to the global optimum.

    Solves the convex program
    {_OBJECTIVE_DOC}
    with ``L(F, Y) = ||F - Y||_F^2 / (2 n c)`` (scnn's scaling; weighted average with
    ``sample_weight``). ``y`` may have several columns (``c`` outputs). With
    ``fit_intercept=True`` the (weighted) mean of ``y`` is the network's output bias
    ``intercepts_[1]`` (not regularized, as in ``MLPRegressor``) and the program above
    fits ``y`` minus that mean, so predictions shift with the targets. Every fit reports
    its certificate, ``duality_gap_``.

    Parameters
    ----------
    {_COMMON_PARAMETERS_DOC.strip()}
    loss : {{"squared_error"}}, default="squared_error"
        The regression loss.

    Attributes
    ----------
    {_COMMON_ATTRIBUTES_DOC.strip()}

    See Also
    --------
    GatedReLUClassifier : the same model for classification.
    sklearn.neural_network.MLPRegressor : the SGD-trained network this replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import GatedReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = np.maximum(X[:, 0], 0) - X[:, 1]
    >>> reg = GatedReLURegressor(alpha=1e-4, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    _parameter_constraints: dict = {
        **BaseGatedReLU._parameter_constraints,
        "loss": [StrOptions({"squared_error"})],
    }

    def __init__(self, n_patterns=100, *, alpha=1e-3, loss="squared_error",
                 fit_intercept=True, solver="auto", max_iter=10000, tol=1e-3,
                 random_state=None, warm_start=False, backend="auto", n_jobs=None,
                 verbose=0):
        self.n_patterns = n_patterns
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is their weighted average.

        Returns
        -------
        self
        """
        X, y, sample_weight = self._check_fit_inputs(X, y, sample_weight,
                                                     multi_output=True, y_numeric=True)
        self._y_is_1d = y.ndim == 1
        self.out_activation_ = "identity"
        Y = y[:, None] if y.ndim == 1 else y
        # With an intercept, the (weighted) target mean is the network's output bias and
        # the convex program fits what is left: predictions shift with y.
        offset = (np.average(Y, axis=0, weights=sample_weight) if self.fit_intercept
                  else None)
        return self._fit_convex(X, Y, sample_weight, self.loss, output_offset=offset)

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs) like ``y``."""
        out = self._forward(self._validate_X_predict(X))
        return out.ravel() if self._y_is_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
