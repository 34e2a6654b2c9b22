"""Cross-validated ``alpha``: each fold walks a warm-started path, then one refit.

As :class:`~sklearn.linear_model.LassoCV` does for the Lasso: the grid starts at
``alpha_max`` from the dual, every fold fits the whole grid from the largest ``alpha``
down with ``warm_start`` (far cheaper than cold fits at every ``alpha``), folds run in
parallel with joblib, and the estimator is refit on all the data at the best ``alpha``.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import _fit_context, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._path import alpha_grid, alpha_max
from ..losses import as_loss
from ..patterns import add_intercept_column
from ._docs import (ATTRIBUTES, CV_ATTRIBUTES, CV_N_JOBS, CV_PARAMETERS,
                    GATED_ATTRIBUTES, PARAMETERS, REGRESSOR_ATTRIBUTES, RELU_ATTRIBUTES,
                    RELU_PARAMETERS, without_parameters)
from ._gated import GatedReLUClassifier, GatedReLURegressor
from ._relu import ConvexReLUClassifier, ConvexReLURegressor


def _cv_constraints(estimator_class):
    constraints = {name: rule for name, rule in
                   estimator_class._parameter_constraints.items()
                   if name not in ("alpha", "warm_start")}
    constraints.update({
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "eps": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
    })
    return constraints


def _min_ranks(values):
    """Ranks of ``values`` from 1 (smallest), ties sharing the smallest rank (as
    ``scipy.stats.rankdata(method="min")``, without importing scipy.stats: a second
    of start-up)."""
    return np.searchsorted(np.sort(values), values, side="left").astype(np.int64) + 1


def _fold_path(estimator, X, y, sample_weight, train, test, alphas, scorer):
    """The path of ``estimator``'s program on ``train`` down ``alphas``
    (:func:`~skconvexnn._path.iter_path`, warm-started, as :func:`~skconvexnn.path`);
    the network at each ``alpha`` scored on ``test``."""
    record = {"score": [], "n_neurons": [], "duality_gap": [], "fit_time": [],
              "converged": []}
    X_train, y_train, w_train = estimator._check_fit_inputs(
        X[train], y[train], sample_weight[train], **estimator._target_checks)
    Y, offset = estimator._encode_targets(y_train, w_train)
    X_train, X_aug, Y_program, w_train, loss_program, Y = estimator._program_data(
        X_train, Y, w_train, estimator.loss, offset)
    estimator.set_params(alpha=alphas[0])
    gates = estimator._gates(X_train, X_aug, Y_program, w_train, loss_program)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for point in estimator._path(X_aug, Y_program, gates, w_train, loss_program,
                                     alphas):
            estimator.set_params(alpha=point.alpha)
            estimator._set_solution(point, X_train, Y, w_train, estimator.loss, offset)
            record["fit_time"].append(point.fit_time)
            record["score"].append(scorer(estimator, X[test], y[test]))
            record["n_neurons"].append(estimator.n_neurons_)
            record["duality_gap"].append(estimator.duality_gap_)
            record["converged"].append(estimator.converged_)
    return {key: np.asarray(values) for key, values in record.items()}


class _ConvexCV:
    """Cross-validation of ``alpha`` over a plain estimator (``_estimator_class``)."""

    _estimator_class = None
    #: The refit is cold; a class attribute so that ``get_params`` does not list it.
    warm_start = False
    _offers_partial_fit = False

    def _fit_alpha(self):
        return self.alpha_

    def _gates_random_state(self):
        # Folds and the refit draw gates from one seed.
        return self._gate_seed

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Choose ``alpha`` by cross-validation, then fit on all the data with it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the training loss (every fold's and the refit's);
            the scores on held-out folds are unweighted.

        Returns
        -------
        self
        """
        X, y, sample_weight = self._check_fit_inputs(X, y, sample_weight,
                                                     **self._target_checks)
        Y, offset = self._encode_targets(y, sample_weight)
        self._gate_seed = check_random_state(self.random_state).randint(
            np.iinfo(np.int32).max)
        self.alphas_ = self._alpha_grid(X, Y, offset, sample_weight)

        splits = list(check_cv(self.cv, y, classifier=is_classifier(self)).split(X, y))
        estimator = self._fold_estimator()
        scorer = check_scoring(estimator, scoring=self.scoring)
        paths = Parallel(n_jobs=self.n_jobs, return_as="generator")(
            delayed(_fold_path)(estimator.__sklearn_clone__(), X, y, sample_weight, train,
                                test, self.alphas_, scorer)
            for train, test in splits)
        start = time.perf_counter()
        folds = []
        for fold in paths:
            folds.append(fold)
            if self.verbose:
                best = int(np.argmax(fold["score"]))
                print(f"{type(self).__name__}: fold {len(folds)}/{len(splits)} done "
                      f"({time.perf_counter() - start:.1f} s): best score "
                      f"{fold['score'][best]:.4f} at alpha={self.alphas_[best]:.3g} of "
                      f"{len(self.alphas_)}", flush=True)
        self._record(folds)
        if self.verbose:
            print(f"{type(self).__name__}: refit on all {X.shape[0]} rows at "
                  f"alpha={self.alpha_:.3g}", flush=True)
        return self._fit_convex(X, Y, sample_weight, self.loss, output_offset=offset)

    def _alpha_grid(self, X, Y, offset, sample_weight):
        """The decreasing grid: given, or from ``alpha_max`` of the gated program.

        The gated program's ``alpha_max`` on the sampled gates bounds the ReLU
        program's (cone projections are shorter), and at it the gated program has no
        unit to add as a pattern: every estimator's network is zero there.
        """
        if not isinstance(self.alphas, Integral):
            alphas = np.sort(np.asarray(self.alphas, dtype=np.float64).ravel())[::-1]
            if alphas.size == 0 or not np.all(np.isfinite(alphas)) or alphas[-1] <= 0:
                raise ValueError(f"alphas must be positive finite numbers; got "
                                 f"{self.alphas!r}.")
            return alphas
        counted = sample_weight > 0
        X, Y, sample_weight = X[counted], Y[counted], sample_weight[counted]
        X_aug = add_intercept_column(X) if self.fit_intercept else X
        loss = self.loss
        if offset is not None:
            Y, loss = as_loss(loss).shifted(Y, offset)
        top = alpha_max(X_aug, Y, self._sample_gates(X, sample_weight), program="gated",
                        loss=loss, sample_weight=sample_weight, backend=self.backend)
        return alpha_grid(top, self.alphas, self.eps)

    def _fold_estimator(self):
        names = self._estimator_class._get_param_names()
        params = {name: getattr(self, name) for name in names if hasattr(self, name)}
        params.update(random_state=self._gate_seed, verbose=max(0, self.verbose - 1),
                      n_jobs=self.n_jobs if self.n_jobs in (None, 1) else None)
        return self._estimator_class(**params)

    def _record(self, folds):
        stacked = {key: np.vstack([fold[key] for fold in folds]) for key in folds[0]}
        scores = stacked["score"]
        mean = scores.mean(axis=0)
        results = {"param_alpha": self.alphas_.copy()}
        results.update({f"split{k}_test_score": row for k, row in enumerate(scores)})
        results.update(
            mean_test_score=mean, std_test_score=scores.std(axis=0),
            rank_test_score=_min_ranks(-mean),
            mean_fit_time=stacked["fit_time"].mean(axis=0),
            mean_n_neurons=stacked["n_neurons"].mean(axis=0),
            mean_duality_gap=stacked["duality_gap"].mean(axis=0))
        self.cv_results_ = results
        self.best_index_ = int(np.argmax(mean))
        self.alpha_ = float(self.alphas_[self.best_index_])
        self.best_score_ = float(mean[self.best_index_])
        failed = int((~stacked["converged"]).sum())
        if failed:
            warnings.warn(
                f"{type(self).__name__}: {failed} of {stacked['converged'].size} fold fits "
                f"stopped at max_iter={self.max_iter} above tol={self.tol:g} (largest "
                f"relative gap {stacked['duality_gap'].max():.2e}); their scores may be "
                "slightly off. Increase max_iter or loosen tol.", ConvergenceWarning)


def _cv_doc(estimator_class, summary, extra_parameters="", attributes=""):
    base = without_parameters(PARAMETERS, {"alpha", "warm_start", "n_jobs"})
    return f"""{summary}

    Cross-validates ``alpha`` over a grid from ``alpha_max`` down, each fold fitting
    the grid as a warm-started path of :class:`{estimator_class.__name__}` (folds in
    parallel with ``n_jobs``), then refits on all the data with the best ``alpha``.
    The fitted estimator is a :class:`{estimator_class.__name__}` with that ``alpha``:
    it has all its attributes and methods.

    Parameters
    ----------
    {base.strip()}
    {CV_PARAMETERS.strip()}
    {CV_N_JOBS.strip()}
    loss : str, default={estimator_class().loss!r}
        As in :class:`{estimator_class.__name__}`.
    {extra_parameters.strip()}

    Attributes
    ----------
    {CV_ATTRIBUTES.strip()}
    {ATTRIBUTES.strip()}
    {attributes.strip()}

    See Also
    --------
    {estimator_class.__name__} : the estimator at a fixed ``alpha``.
    skconvexnn.path : the regularization path of one convex program.
    """


class GatedReLUClassifierCV(_ConvexCV, GatedReLUClassifier):
    __doc__ = _cv_doc(
        GatedReLUClassifier, "Gated ReLU classifier with ``alpha`` chosen by cross-validation.",
        attributes=GATED_ATTRIBUTES) + """
    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skconvexnn import GatedReLUClassifierCV
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(),
    ...                       GatedReLUClassifierCV(alphas=8, random_state=0)).fit(X, y)
    >>> search = model[-1]
    >>> bool(search.alphas_[-1] <= search.alpha_ < search.alphas_[0])
    True
    >>> bool(search.best_score_ > 0.95)
    True
    """
    _estimator_class = GatedReLUClassifier
    _parameter_constraints = _cv_constraints(GatedReLUClassifier)

    def __init__(self, n_patterns=100, *, alphas=20, eps=1e-3, cv=None, scoring=None,
                 loss="log_loss", fit_intercept=True, solver="auto", max_iter=10000,
                 tol=1e-3, random_state=None, backend="auto", n_jobs=None, verbose=0):
        self.n_patterns = n_patterns
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose


class GatedReLURegressorCV(_ConvexCV, GatedReLURegressor):
    __doc__ = _cv_doc(
        GatedReLURegressor, "Gated ReLU regressor with ``alpha`` chosen by cross-validation.",
        attributes=GATED_ATTRIBUTES.rstrip() + REGRESSOR_ATTRIBUTES)
    _estimator_class = GatedReLURegressor
    _parameter_constraints = _cv_constraints(GatedReLURegressor)

    def __init__(self, n_patterns=100, *, alphas=20, eps=1e-3, cv=None, scoring=None,
                 loss="squared_error", fit_intercept=True, solver="auto", max_iter=10000,
                 tol=1e-3, random_state=None, backend="auto", n_jobs=None, verbose=0):
        self.n_patterns = n_patterns
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose


class ConvexReLUClassifierCV(_ConvexCV, ConvexReLUClassifier):
    __doc__ = _cv_doc(
        ConvexReLUClassifier, "ReLU network classifier with ``alpha`` chosen by cross-validation.",
        RELU_PARAMETERS, RELU_ATTRIBUTES)
    _estimator_class = ConvexReLUClassifier
    _parameter_constraints = _cv_constraints(ConvexReLUClassifier)

    def __init__(self, n_patterns=100, *, alphas=20, eps=1e-3, cv=None, scoring=None,
                 loss="log_loss", fit_intercept=True, patterns="gated", solver="auto",
                 max_iter=10000, tol=1e-3, random_state=None, backend="auto", n_jobs=None,
                 verbose=0):
        self.n_patterns = n_patterns
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.patterns = patterns
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose


class ConvexReLURegressorCV(_ConvexCV, ConvexReLURegressor):
    __doc__ = _cv_doc(
        ConvexReLURegressor, "ReLU network regressor with ``alpha`` chosen by cross-validation.",
        RELU_PARAMETERS, RELU_ATTRIBUTES.rstrip() + REGRESSOR_ATTRIBUTES)
    _estimator_class = ConvexReLURegressor
    _parameter_constraints = _cv_constraints(ConvexReLURegressor)

    def __init__(self, n_patterns=100, *, alphas=20, eps=1e-3, cv=None, scoring=None,
                 loss="squared_error", fit_intercept=True, patterns="gated", solver="auto",
                 max_iter=10000, tol=1e-3, random_state=None, backend="auto", n_jobs=None,
                 verbose=0):
        self.n_patterns = n_patterns
        self.alphas = alphas
        self.eps = eps
        self.cv = cv
        self.scoring = scoring
        self.loss = loss
        self.fit_intercept = fit_intercept
        self.patterns = patterns
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.backend = backend
        self.n_jobs = n_jobs
        self.verbose = verbose
