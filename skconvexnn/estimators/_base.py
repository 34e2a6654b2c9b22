"""What every convex-network estimator shares: parameters, validation, the fit helper,
and the classification / regression logic.

An estimator is one of the mixins below (classifier or regressor) over
:class:`BaseConvexNetwork`, plus its program: ``_program()`` returns the
:class:`~skconvexnn.programs.ConvexProgram` it solves, which also says which network its
solution is and how that network predicts. ``_gated.py``, ``_relu.py`` and
``_robust.py`` provide it (and, for the ReLU programs, how the patterns are chosen).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network._base import ACTIVATIONS
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import (_check_partial_fit_first_call,
                                      check_classification_targets)
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..backends import BACKENDS, check_backend
from ..distributed import fit_on_cluster, is_dask_collection, map_rows
from .._validation import check_magnitudes
from ..losses import Loss, as_loss, loss_names
from ..network import TwoLayerNetwork
from ..patterns import add_intercept_column, sample_gates
from .._path import GatedUnitGates, iter_path
from ..solvers import solver_names

#: What ``fit``/``predict`` accept: dense float arrays, CSR/CSC matrices.
_ACCEPT_SPARSE = ["csr", "csc"]
_DTYPES = [np.float64, np.float32]

#: Solver iterations one ``partial_fit`` call runs on its batch.
PARTIAL_FIT_ITERATIONS = 10


class BaseConvexNetwork(BaseEstimator):
    """Shared machinery of the convex-network estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "n_patterns": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions({"auto", *solver_names("group_lasso")})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "backend": [StrOptions(set(BACKENDS))],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    # --- the program ----------------------------------------------------------------

    def _program(self):
        """The :class:`~skconvexnn.programs.ConvexProgram` this estimator solves."""
        raise NotImplementedError

    #: Whether ``partial_fit`` is offered (the two-layer gated and ReLU estimators).
    _offers_partial_fit = False

    def _path(self, X_aug, Y, gates, sample_weight, loss, alphas, start=None,
              max_iter=None):
        """Solve the program at each of ``alphas`` from ``start`` (a previous
        :class:`~skconvexnn._path.PathPoint`, or None for a cold fit), each solve at most
        ``max_iter`` iterations (default: the parameter); yield the points
        (:func:`~skconvexnn._path.iter_path`)."""
        return iter_path(self._program(), X_aug, Y, gates, alphas, loss=loss,
                         sample_weight=sample_weight, tol=self.tol,
                         max_iter=self.max_iter if max_iter is None else max_iter,
                         solver=self.solver, backend=self.backend, n_jobs=self.n_jobs,
                         verbose=self.verbose, start=start)

    def _network(self, weights, output_offset):
        """The :class:`~skconvexnn.network.TwoLayerNetwork` of the convex weights."""
        return self._program().network(weights, self.fit_intercept, output_offset)

    def _forward(self, X):
        """Network output (n, n_outputs_) on validated ``X``."""
        return self._program().forward(X, self._current_network(), self.gates_,
                                       self.fit_intercept)

    def _sample_gates(self, X, sample_weight):
        """The ``n_patterns`` sampled gates of a cold fit."""
        return sample_gates(X, self.n_patterns, fit_intercept=self.fit_intercept,
                            sample_weight=sample_weight,
                            random_state=self._gates_random_state())

    def _gates_random_state(self):
        """What draws the gates: ``random_state``."""
        return self.random_state

    def _gates(self, X, X_aug, Y, sample_weight, loss, previous=None):
        """The gates of the program, or what gives them at each ``alpha``
        (:class:`~skconvexnn._path.GatedUnitGates`): a cold fit's ``n_patterns``
        sampled gates, or ``previous``, the last fit's (a warm fit)."""
        if previous is not None:
            return previous
        return self._sample_gates(X, sample_weight)

    def _fit_alpha(self):
        """The regularization strength of the program ``fit`` solves."""
        return self.alpha

    def _weight_decay(self):
        """The weight-decay coefficient of the fitted network on the data's own
        targets (``alpha`` of the program ``fit`` solved, unless the targets were
        rescaled)."""
        return self._fit_alpha()

    # --- shared ---------------------------------------------------------------------

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                             reset=False)

    def _check_fit_inputs(self, X, y, sample_weight, *, reset=True, min_samples=2,
                          **validate_kwargs):
        check_backend(self.backend)
        X, y = validate_data(self, X, y, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                             ensure_min_samples=min_samples, reset=reset,
                             **validate_kwargs)
        check_magnitudes(X, y if validate_kwargs.get("y_numeric") else None)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
        return X, y, sample_weight

    def _current_network(self):
        return TwoLayerNetwork(self.coefs_, self.intercepts_, self.hidden_pattern_)

    def _program_data(self, X, Y, sample_weight, loss, output_offset):
        """``(X, X_aug, Y_program, sample_weight, loss_program, Y)`` of the convex
        program fitting targets ``Y`` (n, c), already encoded for ``loss``.

        Rows without weight take no part in the fit, not even in the gate statistics
        (``X``, ``Y`` and ``sample_weight`` are returned without them).
        ``X_aug`` is ``X`` with a column of ones when ``fit_intercept``.
        ``output_offset`` (c,), when given, is a fixed output bias: the program fits
        ``Y`` with it added to the network's output (``Y - output_offset`` for a
        residual loss, :meth:`~skconvexnn.losses.Loss.shifted`) and the network adds it
        back (``intercepts_[1]``).
        """
        counted = sample_weight > 0
        if not counted.all():
            X, Y, sample_weight = X[counted], Y[counted], sample_weight[counted]
        X_aug = add_intercept_column(X) if self.fit_intercept else X
        Y = np.asarray(Y, dtype=np.float64)
        Y_program, loss_program = Y, loss
        if output_offset is not None:
            Y_program, loss_program = as_loss(loss).shifted(Y, output_offset)
        return X, X_aug, Y_program, sample_weight, loss_program, Y

    def _fit_convex(self, X, Y, sample_weight, loss, output_offset=None, *,
                    max_iter=None, warm=None):
        """Fit the convex program to targets ``Y`` (n, c) already encoded for ``loss``
        (see :meth:`_program_data` for ``output_offset``), for at most ``max_iter``
        iterations (default: the parameter), warm-started when ``warm`` (default:
        ``warm_start``) and the last fit has the same shape. Sets every fitted
        attribute and returns ``self``."""
        X, X_aug, Y_program, sample_weight, loss_program, Y = self._program_data(
            X, Y, sample_weight, loss, output_offset)
        # Warm start only from a fit of the same shape and meaning (a toggled
        # fit_intercept with one more feature has the same shape but other gates).
        signature = (X.shape[1], self.fit_intercept, Y.shape[1])
        warm = ((self.warm_start if warm is None else warm)
                and getattr(self, "_warm_signature", None) == signature)
        previous = self._last_point if warm else None
        if not warm:
            self._frozen_gates = None
        if getattr(self, "_frozen_gates", None) is not None:
            gates = self._frozen_gates  # partial_fit: one program, batch after batch
        else:
            gates = self._gates(X, X_aug, Y_program, sample_weight, loss_program,
                                self._gate_source if warm else None)
        point = next(self._path(X_aug, Y_program, gates, sample_weight, loss_program,
                                [self._fit_alpha()], start=previous, max_iter=max_iter))
        # Keep what a warm fit needs, not the training rows a gate source holds.
        self._gate_source = gates.detached() if isinstance(gates, GatedUnitGates) else gates
        return self._set_solution(point, X, Y, sample_weight, loss, output_offset)

    def _partial_fit_convex(self, X, Y, sample_weight, loss, output_offset, first):
        """One ``partial_fit`` call: :data:`PARTIAL_FIT_ITERATIONS` iterations on the
        batch's program, warm-started unless ``first``; the gates are fixed from the
        first call on (or from the last ``fit``'s)."""
        with warnings.catch_warnings():
            # A few steps on one batch are not meant to converge (MLP does not warn).
            warnings.simplefilter("ignore", ConvergenceWarning)
            self._fit_convex(X, Y, sample_weight, loss, output_offset,
                             max_iter=PARTIAL_FIT_ITERATIONS, warm=not first)
        if self._frozen_gates is None:
            self._frozen_gates = self._last_point.gates
        return self

    def _set_solution(self, point, X, Y, sample_weight, loss, output_offset):
        """Set the fitted attributes from a :class:`~skconvexnn._path.PathPoint` of the
        program on the rows ``X`` with targets ``Y``, ``sample_weight`` and ``loss``
        (before the output offset moves them: :meth:`_program_data`); warn if its
        certificate falls short. Returns ``self``."""
        solution = point.solution
        self._output_offset = output_offset  # what partial_fit keeps
        network = self._network(solution.weights, output_offset)
        self.gates_ = point.gates[:, solution.gate_indices]
        self.n_patterns_ = len(solution.gate_indices)
        self.convex_coef_ = solution.weights
        self._set_network(network)
        self.n_outputs_ = Y.shape[1]
        self.objective_ = solution.objective
        self.loss_ = solution.objective
        self.best_loss_ = solution.objective
        self.duality_gap_ = solution.duality_gap
        self.converged_ = solution.converged
        self.n_iter_ = solution.n_iter
        self.loss_curve_ = solution.objective_curve.tolist()
        self.convergence_history_ = solution.history
        if hasattr(solution, "constraint_violation"):
            self.constraint_violation_ = solution.constraint_violation
        self._warm_signature = (X.shape[1], self.fit_intercept, Y.shape[1])
        self._last_point = point.for_warm_start()
        self._n_train = X.shape[0]  # rows with positive weight (MLP's alpha scaling)
        self._warn_if_not_converged(solution, X.dtype)
        return self

    def _set_network(self, network):
        """Set the fitted network's attributes, under MLP's names where it has them."""
        self.coefs_ = network.coefs
        self.intercepts_ = network.intercepts
        self.hidden_pattern_ = network.hidden_pattern
        self.n_neurons_ = len(network.hidden_pattern)
        self.n_layers_ = 3

    def _warn_if_not_converged(self, solution, dtype):
        name = type(self).__name__
        if np.isnan(solution.duality_gap):
            message = (f"{name}: the returned weights violate their constraints by "
                       f"{solution.constraint_violation:.2e}, more than rounding, so the "
                       "duality gap certifies nothing: duality_gap_ is NaN (void). "
                       "Increase max_iter or use a smaller eps.")
        elif solution.stalled and dtype == np.float32:
            message = (f"{name}: float32 precision stopped the solver at relative duality "
                       f"gap {solution.duality_gap:.2e} > tol={self.tol:g}. Pass float64 "
                       "data for a tighter certificate, or loosen tol.")
        elif solution.stalled:
            message = (f"{name}: the solver stopped making progress (its step size under- "
                       f"or overflowed) at relative duality gap {solution.duality_gap:.2e} "
                       f"> tol={self.tol:g}. Rescale the features and targets.")
        elif not solution.converged:
            message = (f"{name} stopped after max_iter={self.max_iter} iterations with "
                       f"relative duality gap {solution.duality_gap:.2e} > tol={self.tol:g}. "
                       "Increase max_iter, loosen tol, or standardize the features.")
        else:
            return
        warnings.warn(message, ConvergenceWarning)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


class ConvexClassifierMixin:
    """Label encoding, decisions and probabilities of the convex classifiers.

    Two classes: one output, targets +-1 (logistic loss, or squared error as scnn).
    More: one output per class, one-hot targets (softmax cross-entropy, or squared
    error). The classifiers have no output bias.

    Probabilities have one definition for every loss, the one ``MLPClassifier``
    applies to its outputs (``out_activation_``): the sigmoid of the output for two
    classes, the softmax of the outputs for more. So ``to_mlp().predict_proba`` is
    this estimator's ``predict_proba``. They are the model's probabilities with
    ``loss="log_loss"``, and uncalibrated scores otherwise.
    """

    _loss_constraints: dict = {"loss": [StrOptions(
        loss_names("classification", smooth=True) | {"squared_error"})]}
    #: What ``fit`` asks of ``y`` (passed to ``validate_data``).
    _target_checks: dict = {}

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data ``X`` and labels ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array or DataFrame is fitted on the connected ``dask.distributed``
            cluster, block by block of rows (gated estimators:
            :mod:`skconvexnn.distributed`).
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is their weighted average.

        Returns
        -------
        self
        """
        if is_dask_collection(X):
            return fit_on_cluster(self, X, y, sample_weight)
        X, y, sample_weight = self._check_fit_inputs(X, y, sample_weight,
                                                     **self._target_checks)
        Y, offset = self._encode_targets(y, sample_weight)
        return self._fit_convex(X, Y, sample_weight, self.loss, output_offset=offset)

    @available_if(lambda estimator: estimator._offers_partial_fit)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the model with a few solver iterations on a batch.

        The first call fixes the classes and the activation patterns (sampled from
        its rows); each call then runs ``PARTIAL_FIT_ITERATIONS`` (10) iterations of
        the solver on the convex program of the batch (``alpha`` as in ``fit``),
        warm-started from the current weights: a stochastic proximal method on the
        program. Called repeatedly on the same rows it converges to ``fit``'s optimum
        on them; ``duality_gap_`` is the certificate on the last batch. No
        ConvergenceWarning is raised. Not for dask arrays.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
            Labels, all in ``classes`` (a batch need not hold every class).
        classes : array-like of shape (n_classes,), default=None
            Every class of the stream: required at the first call, optional after.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        first = _check_partial_fit_first_call(self, classes)
        X, y, sample_weight = self._check_fit_inputs(X, y, sample_weight, reset=first,
                                                     min_samples=1, **self._target_checks)
        check_classification_targets(y)
        if len(self.classes_) < 2:
            raise ValueError(f"partial_fit needs at least 2 classes; got classes="
                             f"{self.classes_}.")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y has classes not in classes_={self.classes_}: {unknown}.")
        Y = self._one_hot_or_signs(np.searchsorted(self.classes_, y))
        return self._partial_fit_convex(X, Y, sample_weight, self.loss, None, first)

    def _one_hot_or_signs(self, y_index):
        """+-1 targets (two classes) or one-hot ones; sets ``out_activation_``."""
        if len(self.classes_) == 2:
            self.out_activation_ = "logistic"
            return (2.0 * y_index - 1.0)[:, None]
        self.out_activation_ = "softmax"
        return np.eye(len(self.classes_))[y_index]

    def _encode_targets(self, y, sample_weight):
        """Program targets of labels ``y`` (+-1 or one-hot) and no output offset.

        Sets ``classes_`` and ``out_activation_``.
        """
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        n_weighted_classes = len(np.unique(y_index[sample_weight > 0]))
        if n_weighted_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes with "
                f"positive weight; got {n_weighted_classes} class."
            )
        return self._one_hot_or_signs(y_index), None

    def decision_function(self, X):
        """Network output: shape (n_samples,) for two classes, else (n_samples, n_classes).

        Positive values (binary) or the largest column (multiclass) give the class.
        A dask array ``X`` gives a dask array (computed block by block of rows), as do
        :meth:`predict` and :meth:`predict_proba`.
        """
        if is_dask_collection(X):
            return map_rows(self.decision_function, X,
                            None if len(self.classes_) == 2 else len(self.classes_))
        scores = self._forward(self._validate_X_predict(X))
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predicted class labels, shape (n_samples,)."""
        if is_dask_collection(X):
            return map_rows(self.predict, X, dtype=self.classes_.dtype)
        scores = self.decision_function(X)
        index = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[index]

    def predict_proba(self, X):
        """Class probabilities: the sigmoid of the output (two classes) or the softmax of
        the outputs (more), as ``MLPClassifier`` computes them.

        With ``loss="log_loss"`` these are the probabilities the model was trained to
        give; with any other loss they are uncalibrated scores (their ``argmax`` is
        still :meth:`predict`).

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        if is_dask_collection(X):
            return map_rows(self.predict_proba, X, len(self.classes_))
        scores = self.decision_function(X)
        if scores.ndim == 1:
            positive = expit(scores)
            return np.column_stack([1.0 - positive, positive])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`, computed stably."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)


class ConvexRegressorMixin:
    """Targets and predictions of the convex regressors (several outputs).

    ``loss`` is a name of :data:`skconvexnn.losses.LOSSES` or a
    :class:`~skconvexnn.losses.Loss` with its parameters. With ``fit_intercept=True``
    the loss's baseline (the weighted mean of ``y`` for a residual loss) is the
    network's output bias (not regularized, as in ``MLPRegressor``) and the convex
    program fits ``y`` around it, so predictions shift with the targets. For the
    squared error and Huber's loss the program fits ``y`` divided by its scale
    (``target_scale_``, :meth:`~skconvexnn.losses.Loss.scale`), so predictions also
    scale with the targets and ``alpha`` is relative to their spread. Predictions are
    the network's output through the loss's ``out_activation`` (``"identity"``, or
    ``"exp"`` for a log link).
    """

    _loss_constraints: dict = {"loss": [StrOptions(loss_names("regression", smooth=True)),
                                        Loss]}
    #: What a ``Loss`` passed as ``loss`` must be able to do (see ``Loss``).
    _loss_abilities: dict = {"smooth": True}
    _target_checks: dict = {"multi_output": True, "y_numeric": True}
    #: Whether the program fits the targets over their scale (``target_scale_``).
    _rescales_targets = True

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to data ``X`` and targets ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array or DataFrame is fitted on the connected ``dask.distributed``
            cluster, block by block of rows (gated estimators, squared error:
            :mod:`skconvexnn.distributed`).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is their weighted average.

        Returns
        -------
        self
        """
        if is_dask_collection(X):
            return fit_on_cluster(self, X, y, sample_weight)
        X, y, sample_weight = self._check_fit_inputs(X, y, sample_weight,
                                                     **self._target_checks)
        Y, offset = self._encode_targets(y, sample_weight)
        return self._fit_convex(X, Y, sample_weight, self.loss, output_offset=offset)

    @available_if(lambda estimator: estimator._offers_partial_fit)
    def partial_fit(self, X, y, sample_weight=None):
        """Update the model with a few solver iterations on a batch.

        The first call fixes the activation patterns, the targets' scale
        (``target_scale_``) and the output bias from its rows (after a ``fit``: that
        fit's); each call then runs ``PARTIAL_FIT_ITERATIONS`` (10) iterations of the
        solver on the convex program of the batch, warm-started from the current
        weights: a stochastic proximal method on the program. Called repeatedly on the
        same rows it converges to ``fit``'s optimum on them; ``duality_gap_`` is the
        certificate on the last batch. No ConvergenceWarning is raised.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        first = not hasattr(self, "target_scale_")
        X, y, sample_weight = self._check_fit_inputs(X, y, sample_weight, reset=first,
                                                     min_samples=1, **self._target_checks)
        if first:
            Y, offset = self._encode_targets(y, sample_weight)
        else:
            Y = (y[:, None] if y.ndim == 1 else y) / self.target_scale_
            if Y.shape[1] != self.n_outputs_:
                raise ValueError(f"y has {Y.shape[1]} outputs; the model has "
                                 f"{self.n_outputs_}.")
            as_loss(self.loss).check_targets(Y)
            offset = self._output_offset
        return self._partial_fit_convex(X, Y, sample_weight, self.loss, offset, first)

    def _encode_targets(self, y, sample_weight):
        """Program targets ``(n, c)``, divided by their scale when the loss
        ``scales_with_targets`` (:meth:`~skconvexnn.losses.Loss.scale`), and the
        output offset (their baseline for the loss with ``fit_intercept``, else None).
        Sets ``out_activation_`` and ``target_scale_``."""
        loss = as_loss(self.loss)
        if loss.task != "regression" or any(
                getattr(loss, ability) != value
                for ability, value in self._loss_abilities.items()):
            raise ValueError(f"{type(self).__name__} takes a regression loss with "
                             f"{self._loss_abilities}; got {loss!r}.")
        self._y_is_1d = y.ndim == 1
        self.out_activation_ = loss.out_activation
        Y = y[:, None] if y.ndim == 1 else y
        loss.check_targets(Y)
        self.target_scale_ = (loss.scale(Y, sample_weight, centered=self.fit_intercept)
                              if loss.scales_with_targets and self._rescales_targets
                              else 1.0)
        if self.target_scale_ != 1.0:
            Y = Y / self.target_scale_
        # The baseline of the scaled targets (Huber's location depends on delta).
        offset = loss.baseline(Y, sample_weight) if self.fit_intercept else None
        return Y, offset

    def _network(self, weights, output_offset):
        """The network of the program's weights, in the units of ``y``: the program
        fits ``y / target_scale_``, so its outputs (weights and offset) scale back."""
        scale = self.target_scale_
        if output_offset is not None:
            output_offset = output_offset * scale
        return super()._network(weights * weights.dtype.type(scale), output_offset)

    def _weight_decay(self):
        """``alpha`` in the units of ``y``: the program on ``y / s`` at ``alpha`` is the
        program on ``y`` at ``alpha * s`` (its objective divided by ``s^2``)."""
        return super()._weight_decay() * self.target_scale_

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs) like ``y``
        (a dask array for a dask ``X``, computed block by block of rows)."""
        if is_dask_collection(X):
            return map_rows(self.predict, X, None if self._y_is_1d else self.n_outputs_)
        out = self._forward(self._validate_X_predict(X))
        # The output activation maps the network's output to a prediction in place.
        ACTIVATIONS[self.out_activation_](out)
        return out.ravel() if self._y_is_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
