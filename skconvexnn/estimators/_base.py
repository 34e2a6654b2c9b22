"""What every convex-network estimator shares: parameters, validation, the fit helper."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..backends import BACKENDS, check_backend
from ..functional import check_magnitudes, solve_gated_relu
from ..network import TwoLayerNetwork, gated_forward, gated_network
from ..patterns import add_intercept_column, sample_gates
from ..solvers import SOLVERS

#: What ``fit``/``predict`` accept: dense float arrays, CSR/CSC matrices.
_ACCEPT_SPARSE = ["csr", "csc"]
_DTYPES = [np.float64, np.float32]


class BaseGatedReLU(BaseEstimator):
    """Shared machinery of the gated ReLU estimators (not for direct use)."""

    _parameter_constraints: dict = {
        "n_patterns": [Interval(Integral, 1, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "fit_intercept": ["boolean"],
        "solver": [StrOptions(set(SOLVERS))],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "warm_start": ["boolean"],
        "backend": [StrOptions(set(BACKENDS))],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def _validate_X_predict(self, X):
        check_is_fitted(self)
        return validate_data(self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                             reset=False)

    def _fit_convex(self, X, Y, sample_weight, loss, output_offset=None):
        """Fit the convex program to targets ``Y`` (n, c) already encoded for ``loss``.

        ``output_offset`` (c,), when given, is a fixed output bias: the program fits
        ``Y - output_offset`` and the network adds it back (``intercepts_[1]``).
        Sets every fitted attribute and returns ``self``.
        """
        # Rows without weight take no part in the fit, not even in the gate statistics.
        counted = sample_weight > 0
        if not counted.all():
            X, Y, sample_weight = X[counted], Y[counted], sample_weight[counted]
        X_aug = add_intercept_column(X) if self.fit_intercept else X
        Y = np.asarray(Y, dtype=np.float64)
        if output_offset is not None:
            Y = Y - output_offset

        # Warm start only from a fit of the same shape and meaning (a toggled
        # fit_intercept with one more feature has the same shape but other gates).
        signature = (X.shape[1], self.fit_intercept, Y.shape[1])
        warm = self.warm_start and getattr(self, "_warm_signature", None) == signature
        if warm:
            gates, coef_init = self.gates_, self.convex_coef_
        else:
            gates = sample_gates(X, self.n_patterns, fit_intercept=self.fit_intercept,
                                 sample_weight=sample_weight,
                                 random_state=self.random_state)
            coef_init = None

        solution = solve_gated_relu(
            X_aug, Y, gates, self.alpha, loss=loss, sample_weight=sample_weight,
            coef_init=coef_init, tol=self.tol, max_iter=self.max_iter, solver=self.solver,
            backend=self.backend, n_jobs=self.n_jobs, verbose=self.verbose,
        )
        network = gated_network(solution.weights, self.fit_intercept)
        if output_offset is not None:
            network.intercepts[1][...] = output_offset

        self.gates_ = gates[:, solution.gate_indices]
        self.n_patterns_ = len(solution.gate_indices)
        self.convex_coef_ = solution.weights
        self.coefs_ = network.coefs
        self.intercepts_ = network.intercepts
        self.hidden_pattern_ = network.hidden_pattern
        self.n_neurons_ = len(network.hidden_pattern)
        self.n_layers_ = 3
        self.n_outputs_ = Y.shape[1]
        self.objective_ = solution.objective
        self.loss_ = solution.objective
        self.duality_gap_ = solution.duality_gap
        self.converged_ = solution.converged
        self.n_iter_ = solution.n_iter
        self.loss_curve_ = solution.objective_curve.tolist()
        self._warm_signature = signature
        if solution.stalled and X.dtype == np.float32:
            warnings.warn(
                f"{type(self).__name__}: float32 precision stopped the solver at relative "
                f"duality gap {solution.duality_gap:.2e} > tol={self.tol:g}. Pass float64 "
                "data for a tighter certificate, or loosen tol.",
                ConvergenceWarning,
            )
        elif solution.stalled:
            warnings.warn(
                f"{type(self).__name__}: the solver stopped making progress (its step size "
                f"under- or overflowed) at relative duality gap {solution.duality_gap:.2e} "
                f"> tol={self.tol:g}. Rescale the features and targets.",
                ConvergenceWarning,
            )
        elif not solution.converged:
            warnings.warn(
                f"{type(self).__name__} stopped after max_iter={self.max_iter} iterations "
                f"with relative duality gap {solution.duality_gap:.2e} > tol={self.tol:g}. "
                "Increase max_iter, loosen tol, or standardize the features.",
                ConvergenceWarning,
            )
        return self

    def _check_fit_inputs(self, X, y, sample_weight, **validate_kwargs):
        check_backend(self.backend)
        X, y = validate_data(self, X, y, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES,
                             ensure_min_samples=2, **validate_kwargs)
        check_magnitudes(X, y if validate_kwargs.get("y_numeric") else None)
        sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                             ensure_non_negative=True)
        return X, y, sample_weight

    def _forward(self, X):
        """Network output (n, n_outputs_) on validated ``X``."""
        X_aug = add_intercept_column(X) if self.fit_intercept else X
        network = TwoLayerNetwork(self.coefs_, self.intercepts_, self.hidden_pattern_)
        return gated_forward(X, X_aug, self.gates_, network)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
