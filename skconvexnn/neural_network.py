"""``MLPClassifier`` and ``MLPRegressor`` with scikit-learn's signature, trained by
convex programs.

Changing one import line is the whole migration::

    from skconvexnn.neural_network import MLPClassifier  # was: sklearn.neural_network

The two classes subclass scikit-learn's: they take the same constructor parameters,
validate them the same way, are ``isinstance`` of scikit-learn's classes and predict
with scikit-learn's own forward pass through ``coefs_`` and ``intercepts_``. Only the
training differs: the network is the solution of the convex ReLU program over sampled
activation patterns (:class:`~skconvexnn.ConvexReLUClassifier`; two hidden layers:
:class:`~skconvexnn.ThreeLayerConvexReLUClassifier`), certified by its duality gap
(``duality_gap_``, ``converged_``), instead of a local minimum reached by SGD, Adam or
L-BFGS. How each parameter maps onto the convex program is in the classes'
docstrings; the fitted convex estimator, with every certificate attribute, is
``convex_estimator_``.
"""

import copy
import inspect
import warnings

import numpy as np
from sklearn import neural_network as _sklearn_nn
from sklearn.base import is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight

from ._path import alpha_max
from ._validation import check_magnitudes
from .estimators import (ConvexReLUClassifier, ConvexReLURegressor,
                         ThreeLayerConvexReLUClassifier, ThreeLayerConvexReLURegressor)
from .estimators._base import PARTIAL_FIT_ITERATIONS
from .losses import MultilabelLogistic, as_loss
from .patterns import add_intercept_column, sample_gates

__all__ = ["MLPClassifier", "MLPRegressor", "IgnoredParameterWarning"]

#: The optimizer's parameters: validated as scikit-learn validates them, no effect on
#: the convex solve.
OPTIMIZER_PARAMETERS = ("solver", "batch_size", "learning_rate", "learning_rate_init",
                        "power_t", "shuffle", "momentum", "nesterovs_momentum",
                        "beta_1", "beta_2", "epsilon", "max_fun")

#: The program's ``alpha`` for ``alpha=0``: a vanishing penalty on the averaged loss
#: (the program needs a positive one for its certificate).
VANISHING_ALPHA = 1e-8

#: Below this fraction of ``alpha_max`` nearly every unit is active, so the working
#: set (which pays off for sparse supports) only delays FISTA on all of them: at MLP's
#: default ``alpha`` it ended a 200-iteration budget with the 16 units of its first
#: working set (digits: test accuracy 0.46; FISTA on every group: 0.97).
WORKING_SET_RATIO = 1e-2

#: Points of the regularization path ``early_stopping=True`` walks, from the largest
#: ``alpha`` that fits anything down to ``alpha``.
EARLY_STOPPING_POINTS = 20


class IgnoredParameterWarning(UserWarning):
    """An optimizer parameter of scikit-learn's MLP was set; the convex solve has no
    use for it."""


def _optimizer_defaults(sklearn_class):
    signature = inspect.signature(sklearn_class.__init__)
    return {name: signature.parameters[name].default for name in OPTIMIZER_PARAMETERS}


_PARAMETER_MAPPING = """
    How scikit-learn's parameters map onto the convex program
    ---------------------------------------------------------
    hidden_layer_sizes : int or tuple of one or two ints, default=(100,)
        One hidden layer of width ``h``: the exact ReLU program over
        ``max(1, h // 2)`` sampled activation patterns. Every hidden unit of its
        solution feeds one output (one-vs-all) and a pattern gives at most two units
        per output, so each output is fed by at most ``h`` units (2 for ``h = 1``)
        and the network has at most ``h * n_outputs_`` (``n_neurons_`` of
        ``convex_estimator_``: how many the optimum uses). Two hidden layers ``(h1,
        h2)``: the three-layer ReLU program on a gate network of ``h1`` first-layer
        and ``h2`` second-layer gates
        (:class:`~skconvexnn.ThreeLayerConvexReLUClassifier`). More layers:
        ValueError.
    activation : {"relu"}, default="relu"
        The convex reformulation is exact for ReLU only; any other value raises
        ValueError.
    alpha : float, default=1e-4
        scikit-learn's scale: the L2 penalty ``alpha / (2 n_samples) * ||W||^2`` of
        ``MLPClassifier(solver="lbfgs")``. The convex program's ``alpha`` is
        ``alpha / n_samples`` (the sum of ``sample_weight`` when given; regressors:
        also over the targets' scale, ``convex_estimator_.target_scale_``), which is
        the same weight decay on the network's weights (the hidden biases are decayed
        too).
        ``alpha=0`` solves the program with the vanishing penalty
        :data:`VANISHING_ALPHA` on the averaged loss: its duality gap certifies the
        fit of that program.
    max_iter : int, default=200
        Iterations of the convex solver. With ``warm_start=True`` it bounds the total
        over the fits, as scikit-learn's MLP does: a warm fit runs ``max_iter -
        n_iter_`` more (none when that is 0: the model is kept, with a
        ConvergenceWarning).
    tol : float, default=1e-4
        The relative duality gap the solve stops at; ``tol=0`` runs to ``max_iter``.
        With ``early_stopping=True`` also the validation score's least improvement,
        as in scikit-learn.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows (stratified for single-label
        classification) and walk the regularization path from the largest ``alpha``
        that fits anything down to ``alpha`` (:data:`EARLY_STOPPING_POINTS` points, each
        warm-started from the last); stop when the validation score (accuracy or
        R^2) has not improved by ``tol`` for ``n_iter_no_change`` points, and keep the
        best point: the convex analogue of stopping SGD early. ``validation_scores_``
        holds one score per point, ``n_iter_`` counts the points (at most
        ``max_iter``; each point's solve runs at most ``max_iter`` iterations).
    validation_fraction, n_iter_no_change
        As in scikit-learn, for ``early_stopping``.
    random_state : int, RandomState instance or None, default=None
        Draws the activation patterns (and the validation split).
    warm_start : bool, default=False
        Start from the last fit's weights and patterns (same classes required, as in
        scikit-learn).
    verbose : bool or int, default=False
        Print the solver's progress and, after each solve, one line
        ``Iteration N, loss = ...`` with its relative duality gap.
    solver, batch_size, learning_rate, learning_rate_init, power_t, shuffle, momentum, \
nesterovs_momentum, beta_1, beta_2, epsilon, max_fun
        The optimizer's: validated as scikit-learn validates them and without effect
        on the convex solve (an :class:`IgnoredParameterWarning` when set away from
        scikit-learn's defaults). ``solver="lbfgs"`` hides ``partial_fit``, as in
        scikit-learn.
"""

_METHODS = """
    ``partial_fit(X, y)`` fixes the activation patterns at its first call and then runs
    :data:`PARTIAL_FIT_ITERATIONS` solver iterations per call on the convex program of
    the batch, warm-started from the current weights (``alpha`` scaled to the
    batch's rows): a stochastic proximal method on the program, whose certificate
    (``duality_gap_``) is the last batch's. Called repeatedly on the same rows it
    converges to ``fit``'s optimum on them.

    Attributes
    ----------
    coefs_, intercepts_, n_layers_, n_outputs_, out_activation_, n_features_in_, \
feature_names_in_
        As in scikit-learn: the fitted ReLU network.
    loss_ : float
        The convex objective (loss plus the program's penalty) at the returned
        weights.
    best_loss_ : float or None
        ``loss_``; None with ``early_stopping=True``, as in scikit-learn.
    loss_curve_ : list of float
        The convex objective per solver iteration of the last solve.
    validation_scores_, best_validation_score_ : list of float, float or None
        One validation score per path point with ``early_stopping=True``; None
        otherwise.
    n_iter_ : int
        Solver iterations (path points with ``early_stopping=True``), summed over
        warm fits and ``partial_fit`` calls.
    t_ : int
        Rows times iterations seen by the solver, summed likewise.
    duality_gap_ : float
        The relative duality gap at the returned weights (NaN: void, with a warning).
    converged_ : bool
        Whether the gap and the constraint violation are within ``tol``.
    convex_estimator_ : ConvexReLUClassifier, ConvexReLURegressor or a three-layer one
        The fitted convex estimator: patterns, certificate, ``to_mlp``.
"""


class _ConvexTraining:
    """The convex training shared by :class:`MLPClassifier` and :class:`MLPRegressor`.

    scikit-learn's ``fit`` and ``partial_fit`` validate the parameters and route to
    ``_fit``; this ``_fit`` replaces the gradient-based one.
    """

    _convex_classes = None  # (one hidden layer, two hidden layers)

    # --- parameters -----------------------------------------------------------------

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if any(size <= 0 for size in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        if not 1 <= len(sizes) <= 2:
            raise ValueError(
                f"{type(self).__name__} trains networks of one or two hidden layers (the "
                f"convex programs of skconvexnn); got hidden_layer_sizes={sizes}.")
        return [int(size) for size in sizes]

    def _check_convex_parameters(self):
        if self.activation != "relu":
            raise ValueError(
                f"{type(self).__name__} supports activation='relu' only (its convex "
                f"reformulation is exact for ReLU networks); got "
                f"activation={self.activation!r}.")
        defaults = _optimizer_defaults(self._sklearn_class)
        changed = [name for name, default in defaults.items()
                   if getattr(self, name) != default]
        if changed:
            warnings.warn(
                f"{type(self).__name__}: {', '.join(changed)} only tune scikit-learn's "
                "gradient-based optimizers and have no effect on the convex solve "
                "(see the class docstring).", IgnoredParameterWarning, stacklevel=3)

    def _convex_params(self, sizes, max_iter):
        params = dict(max_iter=max_iter, tol=self.tol, random_state=self._pattern_seed,
                      verbose=max(0, int(self.verbose) - 1), warm_start=True)
        if len(sizes) == 1:
            # Sampled patterns, each unit's own: the width stays what was asked.
            params.update(n_patterns=max(1, sizes[0] // 2), patterns="random")
        else:
            params.update(n_patterns=tuple(sizes))
        return params

    # --- fitting --------------------------------------------------------------------

    def _fit(self, X, y, sample_weight=None, incremental=False):
        sizes = self._hidden_layer_sizes()
        self._check_convex_parameters()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not hasattr(self, "coefs_") or (not self.warm_start
                                                     and not incremental)
        X, y = self._validate_input(X, y, incremental, reset=first_pass)
        try:
            check_magnitudes(X)
        except ValueError as exc:
            raise ValueError(
                f"{exc} scikit-learn's MLP reports such data as: Solver produced "
                "non-finite parameter weights. The input data may contain large values "
                "and need to be preprocessed.") from None
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
        convex_class = self._convex_classes[len(sizes) - 1]
        # Another width is another program: a cold start, as a new network in MLP.
        if first_pass or getattr(self, "_fitted_sizes", None) != sizes:
            self._pattern_seed = check_random_state(self.random_state).randint(
                np.iinfo(np.int32).max)
            self.convex_estimator_ = convex_class()
            self._fitted_sizes = sizes
            self.n_iter_, self.t_ = 0, 0
            self.validation_scores_ = None
            self.best_validation_score_ = None
        if self.early_stopping:
            self._fit_path(X, y, sample_weight, sizes)
        else:
            self._fit_once(X, y, sample_weight, sizes, incremental)
        self._copy_network(X.dtype)
        if self.verbose:
            print(f"Iteration {self.n_iter_}, loss = {self.loss_:.8f}, relative duality "
                  f"gap = {self.duality_gap_:.2e} (tol {self.tol:g})")
        return self

    def _solve(self, X, y, sample_weight, sizes, max_iter, alpha=None, top=None,
               incremental=False):
        """Fit ``convex_estimator_`` at the program's ``alpha`` (from this estimator's
        unless given) for at most ``max_iter`` iterations, warm-started from its last
        fit (``incremental``: its ``partial_fit`` step); ``top``: the data's
        ``alpha_max`` when known. Returns the convex estimator."""
        convex = self.convex_estimator_
        convex.set_params(**self._convex_params(sizes, max_iter))
        Y, offset, loss = self._program_targets(convex, y, sample_weight)
        n_train = float(sample_weight.sum())
        if alpha is None:
            alpha = self._program_alpha(convex, n_train)
        if len(sizes) == 1:
            if top is None:
                top = self._alpha_max(X, y, sample_weight, sizes)
            convex.set_params(solver="fista" if alpha < WORKING_SET_RATIO * top
                              else "auto")
        convex.set_params(alpha=alpha)
        if incremental:
            convex._partial_fit_convex(X, Y, sample_weight, loss, offset,
                                       first=not hasattr(convex, "_last_point"))
        else:
            convex._fit_convex(X, Y, sample_weight, loss, output_offset=offset)
        return convex

    def _program_alpha(self, convex, n_train):
        if self.alpha == 0:
            return VANISHING_ALPHA
        scale = getattr(convex, "target_scale_", 1.0) if not is_classifier(self) else 1.0
        return self.alpha / (n_train * scale)

    def _fit_once(self, X, y, sample_weight, sizes, incremental):
        convex = self.convex_estimator_
        if incremental:
            budget = PARTIAL_FIT_ITERATIONS
        else:
            budget = self.max_iter - self.n_iter_
            if budget <= 0:
                warnings.warn(
                    f"{type(self).__name__}: n_iter_={self.n_iter_} already reached "
                    f"max_iter={self.max_iter}; the warm fit kept the last model. Raise "
                    "max_iter to continue.", ConvergenceWarning)
                return
        self._solve(X, y, sample_weight, sizes, budget, incremental=incremental)
        self.n_iter_ += convex.n_iter_
        self.t_ += convex.n_iter_ * X.shape[0]
        self.loss_ = self.best_loss_ = convex.objective_
        self.loss_curve_ = list(convex.loss_curve_)

    def _fit_path(self, X, y, sample_weight, sizes):
        """``early_stopping``: the path on a training part, scored on the rest; the
        best point is kept."""
        X_train, X_val, y_train, y_val, w_train, w_val = self._validation_split(
            X, y, sample_weight)
        n_train = float(w_train.sum())
        scores = [] if self.validation_scores_ is None else list(self.validation_scores_)
        best_score = max(scores) if scores else -np.inf
        best, stale = None, 0
        top = self._alpha_max(X_train, y_train, w_train, sizes)
        low = self._program_alpha(self.convex_estimator_, n_train)
        alphas = np.geomspace(top, low, EARLY_STOPPING_POINTS) if top > low else [low]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for alpha in alphas:
                if self.n_iter_ >= self.max_iter:
                    break
                convex = self._solve(X_train, y_train, w_train, sizes, self.max_iter,
                                     alpha=alpha, top=top)
                self.n_iter_ += 1
                self.t_ += convex.n_iter_ * X_train.shape[0]
                self._copy_network(X.dtype)
                score = float(self._score(X_val, y_val, sample_weight=w_val))
                scores.append(score)
                if self.verbose:
                    print(f"Validation score: {score:f} (alpha={alpha:.3g})")
                stale = stale + 1 if not score >= best_score + self.tol else 0
                if score > best_score or best is None:
                    best_score, best = max(score, best_score), copy.deepcopy(convex)
                if stale >= self.n_iter_no_change:
                    break
        if best is not None:
            self.convex_estimator_ = best
        self.validation_scores_ = scores
        self.best_validation_score_ = max(scores) if scores else None
        self.loss_ = self.convex_estimator_.objective_
        self.best_loss_ = None
        self.loss_curve_ = list(self.convex_estimator_.loss_curve_)

    def _alpha_max(self, X, y, sample_weight, sizes):
        """The gated program's ``alpha_max`` on the first layer's sampled gates (a bound
        on the ReLU program's: above it no unit is active)."""
        convex = self.convex_estimator_
        Y, offset, loss = self._program_targets(convex, y, sample_weight)
        X_aug = add_intercept_column(X) if convex.fit_intercept else X
        if offset is not None:
            Y, loss = as_loss(loss).shifted(Y, offset)
        n_first = sizes[0] if len(sizes) == 2 else self._convex_params(sizes, 1)[
            "n_patterns"]
        gates = sample_gates(X, n_first, fit_intercept=convex.fit_intercept,
                             sample_weight=sample_weight, random_state=self._pattern_seed)
        return alpha_max(X_aug, Y, gates, program="gated", loss=loss,
                         sample_weight=sample_weight)

    def _validation_split(self, X, y, sample_weight):
        # As scikit-learn: stratified on the binarized labels of one output only.
        labels = y.reshape(len(y), -1)
        stratify = labels if is_classifier(self) and labels.shape[1] == 1 else None
        parts = train_test_split(X, y, sample_weight, random_state=self._pattern_seed,
                                 test_size=self.validation_fraction, stratify=stratify)
        X_train, X_val, y_train, y_val, w_train, w_val = parts
        if X_val.shape[0] < 2:
            raise ValueError("The validation set is too small. Increase "
                             "'validation_fraction' or the size of your dataset.")
        if is_classifier(self):
            y_val = self._label_binarizer.inverse_transform(y_val)
        return X_train, X_val, y_train, y_val, w_train, w_val

    def _copy_network(self, dtype):
        convex = self.convex_estimator_
        self.coefs_ = [np.asarray(c, dtype=dtype) for c in convex.coefs_]
        self.intercepts_ = [np.asarray(b, dtype=dtype) for b in convex.intercepts_]
        self.n_layers_ = len(self.coefs_) + 1
        self.n_outputs_ = self.coefs_[-1].shape[1]
        self.out_activation_ = convex.out_activation_
        self.duality_gap_ = convex.duality_gap_
        self.converged_ = convex.converged_
        if not all(np.isfinite(w).all() for w in self.coefs_ + self.intercepts_):
            raise ValueError("Solver produced non-finite parameter weights. The input "
                             "data may contain large values and need to be preprocessed.")


class MLPClassifier(_ConvexTraining, _sklearn_nn.MLPClassifier):
    _sklearn_class = _sklearn_nn.MLPClassifier
    _convex_classes = (ConvexReLUClassifier, ThreeLayerConvexReLUClassifier)

    def _program_targets(self, convex, y, sample_weight):
        """``(Y, offset, loss)`` of the program from the binarized labels ``y``."""
        Y = np.asarray(y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y[:, None]
        multilabel = self._label_binarizer.y_type_.startswith("multilabel")
        if multilabel:
            convex.out_activation_ = "logistic"
            return 2.0 * Y - 1.0, None, MultilabelLogistic()
        if Y.shape[1] == 1:
            convex.out_activation_ = "logistic"
            return 2.0 * Y - 1.0, None, "log_loss"
        convex.out_activation_ = "softmax"
        return Y, None, "log_loss"


class MLPRegressor(_ConvexTraining, _sklearn_nn.MLPRegressor):
    _sklearn_class = _sklearn_nn.MLPRegressor
    _convex_classes = (ConvexReLURegressor, ThreeLayerConvexReLURegressor)

    def _program_targets(self, convex, y, sample_weight):
        """``(Y, offset, loss)``: the convex regressor's own encoding (scaled targets
        around their baseline)."""
        convex.set_params(loss=self.loss)
        if getattr(convex, "_frozen_gates", None) is not None:
            # partial_fit: the first batch's scale and offset stay (one program).
            Y = (y[:, None] if y.ndim == 1 else y) / convex.target_scale_
            return Y, convex._output_offset, self.loss
        Y, offset = convex._encode_targets(np.asarray(y, dtype=np.float64), sample_weight)
        return Y, offset, self.loss


for _class, _sklearn_class in ((MLPClassifier, _sklearn_nn.MLPClassifier),
                               (MLPRegressor, _sklearn_nn.MLPRegressor)):
    _class.__doc__ = f"""{_sklearn_class.__name__} with scikit-learn's signature, trained by a
    convex program to a certified global optimum over sampled activation patterns.

    A subclass of :class:`sklearn.neural_network.{_sklearn_class.__name__}`: the same
    parameters, validation, attributes and prediction (scikit-learn's forward pass
    through ``coefs_``, ``intercepts_``); ``fit`` and ``partial_fit`` solve the
    convex ReLU program instead of running SGD, Adam or L-BFGS. The parameters are
    scikit-learn's (see its documentation); below, what each means here.
    {_PARAMETER_MAPPING}
    {_METHODS}
    See Also
    --------
    skconvexnn.ConvexReLU{'Classifier' if _class is MLPClassifier else 'Regressor'} :
        the estimator underneath, with the convex program's own parameters.
    """
