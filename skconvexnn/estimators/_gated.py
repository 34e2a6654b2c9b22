"""Gated ReLU networks trained to the global optimum of their convex group-lasso program."""

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin

from ..kernels import GatedReLUKernel
from ..programs import GatedReLUProgram
from ._base import BaseConvexNetwork, ConvexClassifierMixin, ConvexRegressorMixin
from ._docs import (ATTRIBUTES, GATED_ATTRIBUTES, GATED_OBJECTIVE, PARAMETERS,
                    REGRESSOR_ATTRIBUTES, regression_loss_parameter)


class _GatedProgram(BaseConvexNetwork):
    """Estimators of the gated ReLU program (a group lasso; a gated network)."""

    #: The network this estimator holds, for :mod:`skconvexnn.attacks`.
    _network_kind = "gated"

    def _program(self):
        return GatedReLUProgram()

    def _set_solution(self, point, X, Y, sample_weight, loss, output_offset):
        super()._set_solution(point, X, Y, sample_weight, loss, output_offset)
        # The kernel view (skconvexnn.kernels): eta_jk = ||U_jk||, with which kernel
        # ridge regression on the program's targets is the network.
        self.kernel_weights_ = np.linalg.norm(self.convex_coef_, axis=0)
        self.kernels_ = [GatedReLUKernel(self.gates_, self.kernel_weights_[:, k],
                                         fit_intercept=self.fit_intercept)
                         for k in range(self.kernel_weights_.shape[1])]
        return self


class GatedReLUClassifier(ClassifierMixin, ConvexClassifierMixin, _GatedProgram):
    __doc__ = f"""Gated ReLU network classifier trained to the global optimum.

    Solves the convex program
    {GATED_OBJECTIVE}
    with ``L`` the logistic loss (binary), the softmax cross-entropy (multiclass), or
    the squared error on +-1 / one-hot targets, averaged over samples (scnn's scaling).
    Every fit reports its certificate, ``duality_gap_``. A dask array ``X`` is fitted on
    the connected ``dask.distributed`` cluster by consensus ADMM over its blocks of rows
    (:mod:`skconvexnn.distributed`; ``max_iter`` then counts ADMM iterations).

    Parameters
    ----------
    {PARAMETERS.strip()}
    loss : {{"log_loss", "squared_error"}}, default="log_loss"
        ``"log_loss"``: logistic (two classes) or softmax cross-entropy (more).
        ``"squared_error"``: squared error on +-1 (binary) or one-hot targets, as scnn;
        ``predict_proba`` is then the sigmoid / softmax of the outputs, as
        ``MLPClassifier`` computes it, but uncalibrated.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {ATTRIBUTES.strip()}
    {GATED_ATTRIBUTES.strip()}

    See Also
    --------
    ConvexReLUClassifier : the exact ReLU network, exportable to ``MLPClassifier``.
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

    _offers_partial_fit = True
    _parameter_constraints: dict = {**BaseConvexNetwork._parameter_constraints,
                                    **ConvexClassifierMixin._loss_constraints}

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


class GatedReLURegressor(RegressorMixin, ConvexRegressorMixin, _GatedProgram):
    __doc__ = f"""Gated ReLU network regressor trained to the global optimum.

    Solves the convex program
    {GATED_OBJECTIVE}
    with ``L`` the regression loss (below), averaged with ``sample_weight``. ``y`` may
    have several columns (``c`` outputs). With ``fit_intercept=True`` the program fits
    ``y`` around a fixed output bias, so predictions shift with the targets. Every fit
    reports its certificate, ``duality_gap_``. A dask array ``X`` is fitted on the
    connected ``dask.distributed`` cluster by consensus ADMM over its blocks of rows
    (squared error; :mod:`skconvexnn.distributed`; ``max_iter`` then counts ADMM
    iterations).

    Parameters
    ----------
    {PARAMETERS.strip()}
    {regression_loss_parameter().strip()}

    Attributes
    ----------
    {ATTRIBUTES.strip()}
    {GATED_ATTRIBUTES.strip()}
    {REGRESSOR_ATTRIBUTES.strip()}

    See Also
    --------
    ConvexReLURegressor : the exact ReLU network, exportable to ``MLPRegressor``.
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

    _offers_partial_fit = True
    _parameter_constraints: dict = {**BaseConvexNetwork._parameter_constraints,
                                    **ConvexRegressorMixin._loss_constraints}

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
