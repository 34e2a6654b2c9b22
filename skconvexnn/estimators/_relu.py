"""Two-layer ReLU networks trained to the global optimum of their cone-constrained program."""

from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from .._path import GatedUnitGates
from ..programs import ReLUProgram
from ._base import BaseConvexNetwork, ConvexClassifierMixin, ConvexRegressorMixin
from ._docs import (ATTRIBUTES, PARAMETERS, REGRESSOR_ATTRIBUTES, RELU_ATTRIBUTES,
                    RELU_OBJECTIVE, RELU_PARAMETERS, regression_loss_parameter)

#: The gated program that proposes the ReLU program's patterns (``patterns="gated"``)
#: is solved to a relative gap of ``min(PROPOSAL_TOL, 10 * tol)``: its units only point
#: the way, and the ReLU program's certificate is its own (a tight ``tol`` still gets a
#: proposal solved tightly enough for a warm path to end at a cold fit's optimum). On
#: digits, breast_cancer and wine (3 seeds each, default ``tol``) the ReLU objectives
#: stayed within 0.4% of those with a proposal solved to ``tol``, the mean test
#: accuracies equal or higher, and digits fitted 23% faster.
PROPOSAL_TOL = 1e-2


class _ReLUProgram(BaseConvexNetwork):
    """Estimators of the cone-constrained ReLU program (an ordinary ReLU network), and
    how they choose its patterns."""

    #: The network this estimator holds, for :mod:`skconvexnn.attacks`.
    _network_kind = "relu"

    _pattern_constraints: dict = {"patterns": [StrOptions({"gated", "random"})]}

    def _program(self):
        return ReLUProgram()

    def _gates(self, X, X_aug, Y, sample_weight, loss, previous=None):
        """The sampled gates and, with ``patterns="gated"``, the input weights of the
        hidden units of the gated program on those gates at the fit's ``alpha``
        (:class:`~skconvexnn._path.GatedUnitGates`: each unit's own pattern).

        A warm fit keeps the sampled gates and starts the gated program from the
        previous fit's gated solution; it therefore solves the very program of a cold
        fit and ends at the same optimum, started from the previous weights on the
        patterns the two programs share. (Carrying the previous fit's active patterns
        along as well gave optima up to 0.3% lower, but programs that took FISTA 36%
        more iterations on a 60 x 4 path than the cold fits did.)
        """
        if self.patterns == "random":
            return super()._gates(X, X_aug, Y, sample_weight, loss, previous)
        if isinstance(previous, GatedUnitGates):
            sampled, gated_coef = previous.sampled, previous.gated_coef
        else:
            sampled, gated_coef = self._sample_gates(X, sample_weight), None
        return GatedUnitGates(sampled, X_aug, Y, loss, sample_weight,
                              gated_coef=gated_coef, tol=min(PROPOSAL_TOL, 10 * self.tol),
                              max_iter=self.max_iter,
                              solver=self._gated_solver(), backend=self.backend,
                              n_jobs=self.n_jobs)

    def _gated_solver(self):
        """The solver of the gated program that proposes patterns."""
        return self.solver


def export_network(estimator, mlp):
    """Copy a fitted ReLU estimator's network (any number of hidden layers) and its
    bookkeeping into a fresh ``mlp`` (:class:`~sklearn.neural_network.MLPClassifier`
    or ``MLPRegressor``); return it."""
    check_is_fitted(estimator)
    mlp.set_params(hidden_layer_sizes=tuple(c.shape[1] for c in estimator.coefs_[:-1]),
                   activation="relu", alpha=estimator._weight_decay() * estimator._n_train,
                   max_iter=estimator.max_iter, tol=estimator.tol,
                   random_state=estimator.random_state)
    mlp.coefs_ = [c.copy() for c in estimator.coefs_]
    mlp.intercepts_ = [b.copy() for b in estimator.intercepts_]
    mlp.n_layers_ = len(estimator.coefs_) + 1
    mlp.n_outputs_ = estimator.n_outputs_
    mlp.n_features_in_ = estimator.n_features_in_
    if hasattr(estimator, "feature_names_in_"):
        mlp.feature_names_in_ = estimator.feature_names_in_
    mlp.n_iter_ = estimator.n_iter_
    mlp.t_ = estimator.n_iter_ * estimator._n_train
    mlp.loss_ = estimator.loss_
    mlp.best_loss_ = estimator.best_loss_
    mlp.loss_curve_ = list(estimator.loss_curve_)
    return mlp


def classifier_mlp(estimator):
    """A fitted ``MLPClassifier`` holding a ReLU classifier's network, with its classes
    and output activation."""
    mlp = export_network(estimator, MLPClassifier())
    mlp.classes_ = estimator.classes_.copy()
    mlp._label_binarizer = LabelBinarizer().fit(estimator.classes_)
    # One definition of the probabilities: the estimator's own output activation.
    mlp.out_activation_ = estimator.out_activation_
    return mlp


def regressor_mlp(estimator):
    """A fitted ``MLPRegressor`` holding a ReLU regressor's network: a log-link loss
    (``"poisson"``) exports as ``MLPRegressor(loss="poisson")``, the others as
    ``"squared_error"`` (the MLP's ``loss`` only matters if it is trained further)."""
    log_link = estimator.out_activation_ == "exp"
    mlp = export_network(estimator,
                         MLPRegressor(loss="poisson" if log_link else "squared_error"))
    mlp.out_activation_ = estimator.out_activation_
    return mlp


class ConvexReLUClassifier(ClassifierMixin, ConvexClassifierMixin, _ReLUProgram):
    __doc__ = f"""Two-layer ReLU network classifier trained to the global optimum.

    A drop-in replacement for :class:`sklearn.neural_network.MLPClassifier` (one hidden
    layer, ReLU) whose training is a convex program, solved to a certified optimum:
    {RELU_OBJECTIVE}
    ``L`` is the logistic loss (binary), the softmax cross-entropy (multiclass), or the
    squared error on +-1 / one-hot targets, averaged over samples. Every hidden unit
    feeds one output (one-vs-all, as in scnn). :meth:`to_mlp` returns the same network as
    a fitted ``MLPClassifier``.

    Parameters
    ----------
    {PARAMETERS.strip()}
    loss : {{"log_loss", "squared_error"}}, default="log_loss"
        ``"log_loss"``: logistic (two classes) or softmax cross-entropy (more).
        ``"squared_error"``: squared error on +-1 (binary) or one-hot targets;
        ``predict_proba`` is then the sigmoid / softmax of the outputs, as
        ``MLPClassifier`` computes it, but uncalibrated.
    {RELU_PARAMETERS.strip()}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {ATTRIBUTES.strip()}
    {RELU_ATTRIBUTES.strip()}

    See Also
    --------
    GatedReLUClassifier : the gated relaxation (faster to solve, not a ReLU network).
    ConvexReLURegressor : the same model for regression.
    sklearn.neural_network.MLPClassifier : the SGD-trained network this replaces.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skconvexnn import ConvexReLUClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), ConvexReLUClassifier(random_state=0)).fit(X, y)
    >>> relu = clf[-1]
    >>> bool(relu.duality_gap_ <= relu.tol), relu.constraint_violation_ < 1e-9
    (True, True)
    >>> mlp = relu.to_mlp()  # a fitted MLPClassifier holding the same network
    >>> bool((mlp.predict(clf[0].transform(X)) == clf.predict(X)).all())
    True
    """

    _offers_partial_fit = True
    _parameter_constraints: dict = {**BaseConvexNetwork._parameter_constraints,
                                    **ConvexClassifierMixin._loss_constraints,
                                    **_ReLUProgram._pattern_constraints}

    def __init__(self, n_patterns=100, *, alpha=1e-3, loss="log_loss", fit_intercept=True,
                 patterns="gated", solver="auto", max_iter=10000, tol=1e-3,
                 random_state=None, warm_start=False, backend="auto", n_jobs=None,
                 verbose=0):
        self.n_patterns = n_patterns
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

    def to_mlp(self):
        """A fitted :class:`~sklearn.neural_network.MLPClassifier` with this network.

        The MLP has ``hidden_layer_sizes=(n_neurons_,)``, ``activation="relu"``, this
        estimator's ``coefs_`` and ``intercepts_``, and ``alpha`` set to this estimator's
        ``alpha`` times the number of training samples (MLP's full-batch scaling of the
        weight decay on its weights; this program also decays the hidden biases). Its
        ``predict`` and ``predict_proba`` agree with this estimator's on any input, for
        every ``loss``.

        Returns
        -------
        MLPClassifier
        """
        return classifier_mlp(self)


class ConvexReLURegressor(RegressorMixin, ConvexRegressorMixin, _ReLUProgram):
    __doc__ = f"""Two-layer ReLU network regressor trained to the global optimum.

    A drop-in replacement for :class:`sklearn.neural_network.MLPRegressor` (one hidden
    layer, ReLU) whose training is a convex program, solved to a certified optimum:
    {RELU_OBJECTIVE}
    with ``L`` the regression loss (below), averaged with ``sample_weight``, and one
    output per column of ``y``. With ``fit_intercept=True`` the program fits ``y``
    around a fixed output bias. :meth:`to_mlp` returns the same network as a fitted
    ``MLPRegressor``.

    Parameters
    ----------
    {PARAMETERS.strip()}
    {regression_loss_parameter().strip()}
    {RELU_PARAMETERS.strip()}

    Attributes
    ----------
    {ATTRIBUTES.strip()}
    {RELU_ATTRIBUTES.strip()}
    {REGRESSOR_ATTRIBUTES.strip()}

    See Also
    --------
    GatedReLURegressor : the gated relaxation (faster to solve, not a ReLU network).
    ConvexReLUClassifier : the same model for classification.
    sklearn.neural_network.MLPRegressor : the SGD-trained network this replaces.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import ConvexReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = np.maximum(X[:, 0], 0) - X[:, 1]
    >>> reg = ConvexReLURegressor(alpha=1e-4, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    >>> bool(np.allclose(reg.to_mlp().predict(X), reg.predict(X)))
    True
    """

    _offers_partial_fit = True
    _parameter_constraints: dict = {**BaseConvexNetwork._parameter_constraints,
                                    **ConvexRegressorMixin._loss_constraints,
                                    **_ReLUProgram._pattern_constraints}

    def __init__(self, n_patterns=100, *, alpha=1e-3, loss="squared_error",
                 fit_intercept=True, patterns="gated", solver="auto", max_iter=10000,
                 tol=1e-3, random_state=None, warm_start=False, backend="auto",
                 n_jobs=None, verbose=0):
        self.n_patterns = n_patterns
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

    def to_mlp(self):
        """A fitted :class:`~sklearn.neural_network.MLPRegressor` with this network.

        The MLP has ``hidden_layer_sizes=(n_neurons_,)``, ``activation="relu"``, this
        estimator's ``coefs_`` and ``intercepts_`` (the output bias included), and
        ``alpha`` set to this estimator's ``alpha`` times the number of training samples
        (MLP's full-batch scaling of the weight decay on its weights; this program also
        decays the hidden biases). Its ``predict`` agrees with this
        estimator's on any input: a log-link loss (``"poisson"``) exports as
        ``MLPRegressor(loss="poisson")``; the others as ``"squared_error"`` (the
        MLP's ``loss`` only matters if it is trained further).

        Returns
        -------
        MLPRegressor
        """
        return regressor_mlp(self)
