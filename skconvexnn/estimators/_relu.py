"""Two-layer ReLU networks trained to the global optimum of their cone-constrained program."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.validation import check_is_fitted

from ..programs import GatedReLUProgram, ReLUProgram, solve
from ._base import BaseConvexNetwork, ConvexClassifierMixin, ConvexRegressorMixin
from ._docs import (ATTRIBUTES, PARAMETERS, RELU_ATTRIBUTES, RELU_OBJECTIVE,
                    RELU_PARAMETERS, regression_loss_parameter)

class _ReLUProgram(BaseConvexNetwork):
    """Estimators of the cone-constrained ReLU program (an ordinary ReLU network), and
    how they choose its patterns."""

    #: The network this estimator holds, for :mod:`skconvexnn.attacks`.
    _network_kind = "relu"

    _pattern_constraints: dict = {"patterns": [StrOptions({"gated", "random"})]}

    def _program(self):
        return ReLUProgram()

    def _choose_gates(self, X, X_aug, Y, sample_weight, loss):
        """The sampled gates and, with ``patterns="gated"``, the input weights of the
        hidden units of the gated program on those gates (each unit's own pattern)."""
        gates = self._sample_gates(X, sample_weight)
        self._sampled_gates = gates
        self._gated_coef = None
        if self.patterns == "random":
            return gates
        return np.hstack([gates, self._gated_units(X_aug, Y, sample_weight, loss)])

    def _gated_units(self, X_aug, Y, sample_weight, loss):
        """Hidden units of the gated program on the sampled gates at this ``alpha``
        (warm-started from the previous fit's gated solution when there is one)."""
        gates = self._sampled_gates
        gated = solve(
            GatedReLUProgram(), X_aug, Y, gates, self._fit_alpha(), loss=loss,
            sample_weight=sample_weight, coef_init=self._gated_coef, tol=self.tol,
            max_iter=self.max_iter, solver=self._gated_solver(), backend=self.backend,
            n_jobs=self.n_jobs)
        coef = np.zeros((gates.shape[0], gates.shape[1], Y.shape[1]))
        coef[:, gated.gate_indices] = gated.weights
        self._gated_coef = coef
        units = gated.weights.reshape(X_aug.shape[1], -1)
        units = units[:, np.einsum("dw,dw->w", units, units, dtype=np.float64) > 0]
        return units.astype(np.float64)

    def _gated_solver(self):
        """The solver of the gated program that proposes patterns."""
        return self.solver

    def _warm_gates(self, X, X_aug, Y, sample_weight, loss):
        """The gates of a cold fit at the new ``alpha`` (the sampled gates and, with
        ``patterns="gated"``, the gated units at that ``alpha``), started from the
        previous fit's weights on the patterns the two programs share.

        A warm fit therefore solves the very program of a cold fit: it ends at the
        same optimum. (Carrying the previous fit's active patterns along as well gave
        optima up to 0.3% lower, but programs that took FISTA 36% more iterations on
        a 60 x 4 path than the cold fits did.)"""
        if self.patterns == "random" or getattr(self, "_sampled_gates", None) is None:
            return self.gates_, self._warm_coef()
        coef = self._warm_coef()
        units = self._gated_units(X_aug, Y, sample_weight, loss)
        gates = np.hstack([self._sampled_gates, units])
        return gates, _transfer_by_pattern(X_aug, self.gates_, coef, gates)

    def _export(self, mlp):
        """Copy the fitted network and its bookkeeping into a fresh ``mlp``."""
        check_is_fitted(self)
        mlp.set_params(hidden_layer_sizes=(self.n_neurons_,), activation="relu",
                       alpha=self._fit_alpha() * self._n_train, max_iter=self.max_iter,
                       tol=self.tol, random_state=self.random_state)
        mlp.coefs_ = [c.copy() for c in self.coefs_]
        mlp.intercepts_ = [b.copy() for b in self.intercepts_]
        mlp.n_layers_ = 3
        mlp.n_outputs_ = self.n_outputs_
        mlp.n_features_in_ = self.n_features_in_
        if hasattr(self, "feature_names_in_"):
            mlp.feature_names_in_ = self.feature_names_in_
        mlp.n_iter_ = self.n_iter_
        mlp.t_ = self.n_iter_ * self._n_train
        mlp.loss_ = self.loss_
        mlp.best_loss_ = self.best_loss_
        mlp.loss_curve_ = list(self.loss_curve_)
        return mlp


def _transfer_by_pattern(X_aug, old_gates, coef, new_gates):
    """Weights ``coef`` (2, d, P_old, c) of ``old_gates`` moved onto the first column of
    ``new_gates`` with the same activation pattern on ``X_aug`` (zero elsewhere)."""
    old_patterns = np.asarray(X_aug @ old_gates) >= 0
    new_patterns = np.asarray(X_aug @ new_gates) >= 0
    columns = {}
    for j in range(new_patterns.shape[1]):
        columns.setdefault(new_patterns[:, j].tobytes(), j)
    moved = np.zeros(coef.shape[:2] + (new_gates.shape[1], coef.shape[3]))
    for j in range(old_patterns.shape[1]):
        target = columns.get(old_patterns[:, j].tobytes())
        if target is not None:
            moved[:, :, target] = coef[:, :, j]
    return moved


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
        mlp = self._export(MLPClassifier())
        mlp.classes_ = self.classes_.copy()
        mlp._label_binarizer = LabelBinarizer().fit(self.classes_)
        # One definition of the probabilities: the estimator's own output activation.
        mlp.out_activation_ = self.out_activation_
        return mlp


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
        # MLPRegressor has the log link of loss="poisson" (its other losses: identity).
        log_link = self.out_activation_ == "exp"
        mlp = self._export(MLPRegressor(loss="poisson" if log_link else "squared_error"))
        mlp.out_activation_ = self.out_activation_
        return mlp
