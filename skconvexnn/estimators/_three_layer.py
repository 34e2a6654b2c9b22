r"""Three-layer networks trained by convex programs (Ergen & Pilanci 2021): gated and exact.

**The network and its regularizer.** A three-layer ReLU network of parallel
sub-networks, ``f(x) = sum_q w_{3q} (sum_j w_{2jq} (x . w_{1jq})_+)_+``. With weight decay
on all three layers, the rescalings that leave ``f`` unchanged
(``w_1 -> a w_1, w_2 -> w_2 / a`` per first-layer unit, and ``w_2 -> b w_2,
w_3 -> w_3 / b`` per sub-network) bring the decay of a sub-network down to
``(3 alpha / 2) (sum_j ||z_j||)^(2/3)`` in the products ``z_j = w_{1j} w_{2j} w_3``: a
power below one, not a convex function of ``z``. Two regularizers that do give a convex
program, and the same one:

- the first layer of every sub-network on the unit ball, ``||W_1||_F <= 1``, and weight
  decay ``(alpha/2)(||w_2||^2 + w_3^2)`` on the last two layers (the normalized first
  layer of Ergen & Pilanci's three-layer programs): by Cauchy-Schwarz and AM-GM its
  least value over those rescalings is ``alpha sum_j ||z_j||``;
- the l2 path norm ``alpha sum_{j,q} ||w_{1jq}|| |w_{2jq}| |w_{3q}|``, which is
  ``alpha sum ||z||`` outright, for parallel sub-networks and for ordinary networks
  with two hidden layers alike.

With it, training over the patterns of a gate network is the convex program of
:class:`~skconvexnn.programs.ThreeLayerReLUProgram` (first-layer cones, and a sign
constraint per second-layer unit), whose solution is such a network
(:func:`~skconvexnn.network.three_layer_relu_network`) reproducing the convex model on
the training rows, with ``objective_`` its loss plus ``alpha`` times its path norm
(equal to its unit-ball weight decay). Dropping the constraints and fixing the
patterns of both layers gives the gated program
(:class:`~skconvexnn.programs.ThreeLayerGatedReLUProgram`), a group lasso.
"""

from numbers import Integral

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state

from ..network import ThreeLayerNetwork
from ..patterns import sample_gates, sample_second_layer_gates
from ..programs import ThreeLayerGatedReLUProgram, ThreeLayerReLUProgram
from ._base import BaseConvexNetwork, ConvexClassifierMixin, ConvexRegressorMixin
from ._docs import (PARAMETERS, REGRESSOR_ATTRIBUTES, regression_loss_parameter,
                    without_parameters)
from ._relu import classifier_mlp, regressor_mlp

_N_PATTERNS = """
    n_patterns : tuple of two ints, default=(20, 10)
        Gates of the two layers of the gate network that gives the patterns (the
        analogue of ``hidden_layer_sizes=(h1, h2)``): ``n_patterns[0]`` first-layer
        gates, sampled as for two layers, and ``n_patterns[1]`` second-layer gates on
        their ReLU features (:mod:`skconvexnn.patterns`).
"""

#: ADMM solves the two-layer programs only.
_ADMM = """``"admm"`` (gated and ReLU programs; not the Poisson loss): ADMM on every group
        with one ``n x n`` factorisation and no cone projections (Bai, Gautam &
        Sojoudi 2022; :mod:`skconvexnn.solvers.admm`), certified the same way; for the
        squared loss on wide tables (faster there than FISTA), up to a few thousand
        rows. """
assert _ADMM in PARAMETERS
_PARAMETERS = _N_PATTERNS + without_parameters(PARAMETERS, ["n_patterns"]).replace(
    _ADMM, "").replace('"reweighting", "admm"}', '"reweighting"}').replace(
    """ (of Newton steps for ``"reweighting"``, of ADMM
        iterations for ``"admm"``).""", """ (of Newton steps for ``"reweighting"``).""")

_MAX_ITER = """
    max_iter : int, default=10000
        Budget of FISTA iterations (of Newton steps for ``"reweighting"``).
"""
assert _MAX_ITER.strip() in _PARAMETERS
#: The exact program's solver runs FISTA on a sequence of augmented problems.
_RELU_PARAMETERS = _PARAMETERS.replace(_MAX_ITER.strip(), """max_iter : int, default=50000
        Budget of FISTA iterations over all the augmented problems the method of
        multipliers solves (a few times a two-layer fit's). When it runs out before
        ``tol``, the network of the last iterate is returned with its certificate
        (``duality_gap_``, and ``constraint_violation_`` for the second layer) and a
        ``ConvergenceWarning``.""").replace(
    "then ``objective_ - optimum <= tol * objective_``.",
    "then ``objective_ - optimum <= tol * objective_``\n"
    "        (the optimum over the gate network's patterns), and the violation of\n"
    "        the second-layer constraints, relative to ``max ||x_i|| max ||z||``, is\n"
    "        below ``tol`` too.")

_ATTRIBUTES = """
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Feature names, when ``X`` was a DataFrame with string column names.
    gates_ : ndarray of shape (n_features_in_ + fit_intercept, n_patterns[0])
        First-layer gates of the gate network, in the coordinates of ``X``.
    second_gates_ : ndarray of shape (n_patterns[0], n_patterns[1])
        Second-layer gates of the gate network.
    n_outputs_ : int
        Number of network outputs.
    out_activation_ : str
        As in ``MLPClassifier``: ``"logistic"``, ``"softmax"`` or ``"identity"``.
    objective_ : float
        Final value of the convex objective.
    loss_, best_loss_ : float
        Same as ``objective_``.
    duality_gap_ : float
        Relative duality gap at the weights returned:
        ``objective_ - optimum <= duality_gap_ * objective_`` (NaN, void, if the
        weights of the ReLU program violate their constraints by more than rounding).
    converged_ : bool
        Whether ``duality_gap_ <= tol`` was reached.
    n_iter_ : int
        FISTA iterations run.
    loss_curve_ : list of float
        Objective after every iteration.
"""

THREE_LAYER_GATED_OBJECTIVE = r"""
    .. math::

        \min_{U} \; L\Big(\sum_{l, i} D_{2,l} D_{1,i} X U_{li},\; Y\Big)
        + \alpha \sum_{l, i, k} \|U_{lik}\|_2,

    with ``D_{1,i} = diag(1[X g_i >= 0])`` and ``D_{2,l} = diag(1[(X G)_+ a_l >= 0])``
    the patterns of a fixed random gate network of two layers (``gates_``,
    ``second_gates_``): a group lasso over the products of its patterns, whose solution
    is a three-layer gated network, each hidden unit switched by one first-layer and one
    second-layer gate. It is to the three-layer ReLU network what the gated program is
    to the two-layer one (scnn's deep gated networks, Mishkin et al. 2022), and is
    solved and certified by the same solvers.
"""

THREE_LAYER_RELU_OBJECTIVE = r"""
    .. math::

        \min_{z} \; L\Big(\sum_{s, l} D_{2,l} H_{sl},\; Y\Big)
        + \alpha \sum \|z_{s \sigma l i}\|_2, \qquad
        H_{sl} = \sum_{i, \sigma} \sigma D_{1,i} X z_{s \sigma l i},

    subject to ``(2 D_{1,i} - I) X z_{s sigma l i} >= 0`` and
    ``s (2 D_{2,l} - I) H_{sl} >= 0`` for the signs ``s, sigma`` in ``{+1, -1}`` (one
    such program per output). Its solution is an ordinary network with two hidden
    ReLU layers, one sub-network per non-zero block ``(s, l)``, trained to the global
    optimum, over the gate network's patterns, of its loss plus ``alpha`` times its l2
    path norm ``sum ||w_1|| |w_2| |w_3|`` (equivalently: weight decay on the last two
    layers with every sub-network's first layer on the unit Frobenius ball; weight
    decay on all three layers has no convex reformulation: see
    :mod:`skconvexnn.estimators._three_layer`). ``coefs_`` and ``intercepts_`` hold it,
    predictions run it, and :meth:`to_mlp` exports it. Solved by the method of
    multipliers on the second-layer constraints around the two-layer ReLU program's
    working-set FISTA, and certified at a feasible point.
"""

_GATED_ATTRIBUTES = """
    convex_coef_ : ndarray of shape (n_patterns[1], n_features_in_ + fit_intercept, n_patterns[0], n_outputs_)
        Solution ``U``: ``U[l, :, i, k]`` weighs the pair of second-layer gate ``l`` and
        first-layer gate ``i`` for output ``k`` (zero where the pair's pattern is empty
        or repeats an earlier pair's).
    n_patterns_ : int
        Distinct non-zero product patterns on the training data.
    coefs_, intercepts_ : lists of two ndarrays
        The gated network's hidden units, in ``MLPClassifier``'s layout.
    hidden_pattern_ : ndarray of shape (n_neurons_,)
        The pair ``l * n_patterns[0] + i`` that switches each hidden unit.
    n_neurons_ : int
        Active hidden units.
    n_layers_ : int
        3: the gated network's units form one layer; the gate network has two.
"""

_RELU_ATTRIBUTES = """
    convex_coef_ : ndarray of shape (2, 2, n_patterns[1], n_features_in_ + fit_intercept, n_patterns[0], n_outputs_)
        Solution ``z``: ``z[s, sigma, l, :, i, k]`` (second-layer sign ``s``, first-layer
        sign ``sigma``, each ``+`` then ``-``).
    n_patterns_ : tuple of two ints
        Distinct non-zero first- and second-layer patterns on the training data.
    coefs_ : list of three ndarrays
        The network's weights, ``(n_features_in_, h1)``, ``(h1, h2)`` and
        ``(h2, n_outputs_)``, as ``MLPClassifier(hidden_layer_sizes=(h1, h2)).coefs_``.
    intercepts_ : list of three ndarrays
        First-layer biases, second-layer biases (zero) and output biases (zero, but for
        the regressor's target mean).
    n_neurons_ : tuple of two ints
        ``(h1, h2)``: active units of the two hidden layers.
    n_layers_ : int
        4, as in ``MLPClassifier`` with two hidden layers.
    first_pattern_ : ndarray of shape (h1,)
        First-layer gate of each first-layer unit's pattern on the training data.
    second_pattern_ : ndarray of shape (h2,)
        Second-layer gate of each second-layer unit's pattern.
    constraint_violation_ : float
        Largest violation of either layer's pattern constraints: zero up to rounding.
"""


class _ThreeLayer(BaseConvexNetwork):
    """What the three-layer estimators share: the gate network and its sizes."""

    _parameter_constraints: dict = {**BaseConvexNetwork._parameter_constraints,
                                    "n_patterns": ["array-like"]}

    def _pattern_counts(self):
        """``n_patterns`` as two positive ints; ValueError otherwise."""
        counts = np.asarray(self.n_patterns, dtype=object).ravel()
        if len(counts) != 2 or not all(isinstance(c, Integral) and not isinstance(c, bool)
                                       and c >= 1 for c in counts):
            raise ValueError(f"n_patterns must be two positive integers (first- and "
                             f"second-layer gates); got {self.n_patterns!r}.")
        return int(counts[0]), int(counts[1])

    def _sample_gates(self, X, sample_weight):
        """First-layer gates; the second layer's join ``second_gates_`` (the same seed
        draws both)."""
        n_first, n_second = self._pattern_counts()
        rng = check_random_state(self.random_state)
        gates = sample_gates(X, n_first, fit_intercept=self.fit_intercept,
                             sample_weight=sample_weight, random_state=rng)
        self.second_gates_ = sample_second_layer_gates(n_first, n_second, rng)
        return gates

    def _fit_convex(self, X, Y, sample_weight, loss, output_offset=None, **budget):
        self._pattern_counts()
        return super()._fit_convex(X, Y, sample_weight, loss, output_offset, **budget)


class _ThreeLayerGated(_ThreeLayer):
    """Estimators of the three-layer gated program."""

    def _program(self):
        return ThreeLayerGatedReLUProgram(self.second_gates_)

    def _set_solution(self, point, X, Y, sample_weight, loss, output_offset):
        super()._set_solution(point, X, Y, sample_weight, loss, output_offset)
        self.n_patterns_ = len(point.solution.pair_indices)
        return self


class _ThreeLayerReLU(_ThreeLayer):
    """Estimators of the three-layer ReLU program (an ordinary network)."""

    def _program(self):
        return ThreeLayerReLUProgram(self.second_gates_)

    def _set_solution(self, point, X, Y, sample_weight, loss, output_offset):
        super()._set_solution(point, X, Y, sample_weight, loss, output_offset)
        solution = point.solution
        self.n_patterns_ = (len(solution.first_gate_indices),
                            len(solution.second_gate_indices))
        return self

    def _set_network(self, network):
        self.coefs_ = network.coefs
        self.intercepts_ = network.intercepts
        self.first_pattern_ = network.first_pattern
        self.second_pattern_ = network.second_pattern
        self.n_neurons_ = (len(network.first_pattern), len(network.second_pattern))
        self.n_layers_ = 4

    def _current_network(self):
        return ThreeLayerNetwork(self.coefs_, self.intercepts_, self.first_pattern_,
                                 self.second_pattern_)


class ThreeLayerGatedReLUClassifier(ClassifierMixin, ConvexClassifierMixin,
                                    _ThreeLayerGated):
    __doc__ = f"""Three-layer gated ReLU network classifier trained to the global optimum.

    Solves the convex program
    {THREE_LAYER_GATED_OBJECTIVE}
    with ``L`` the logistic loss (binary), the softmax cross-entropy (multiclass), or
    the squared error on +-1 / one-hot targets. Every fit reports its certificate,
    ``duality_gap_``.

    Parameters
    ----------
    {_PARAMETERS.strip()}
    loss : {{"log_loss", "squared_error"}}, default="log_loss"
        As for :class:`GatedReLUClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {_ATTRIBUTES.strip()}
    {_GATED_ATTRIBUTES.strip()}

    See Also
    --------
    ThreeLayerConvexReLUClassifier : the exact three-layer ReLU network.
    GatedReLUClassifier : the two-layer gated network.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skconvexnn import ThreeLayerGatedReLUClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(),
    ...                     ThreeLayerGatedReLUClassifier(random_state=0)).fit(X, y)
    >>> bool(clf[-1].duality_gap_ <= clf[-1].tol)
    True
    """

    _parameter_constraints: dict = {**_ThreeLayer._parameter_constraints,
                                    **ConvexClassifierMixin._loss_constraints}

    def __init__(self, n_patterns=(20, 10), *, alpha=1e-3, loss="log_loss",
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


class ThreeLayerGatedReLURegressor(RegressorMixin, ConvexRegressorMixin, _ThreeLayerGated):
    __doc__ = f"""Three-layer gated ReLU network regressor trained to the global optimum.

    Solves the convex program
    {THREE_LAYER_GATED_OBJECTIVE}
    with ``L`` the regression loss (below). Targets, output bias and scaling are
    handled as by :class:`GatedReLURegressor`.

    Parameters
    ----------
    {_PARAMETERS.strip()}
    {regression_loss_parameter().strip()}

    Attributes
    ----------
    {_ATTRIBUTES.strip()}
    {_GATED_ATTRIBUTES.strip()}
    {REGRESSOR_ATTRIBUTES.strip()}

    See Also
    --------
    ThreeLayerConvexReLURegressor : the exact three-layer ReLU network.
    GatedReLURegressor : the two-layer gated network.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import ThreeLayerGatedReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = np.maximum(np.maximum(X[:, 0], 0) - X[:, 1], 0)
    >>> reg = ThreeLayerGatedReLURegressor(alpha=1e-4, random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.99
    True
    """

    _parameter_constraints: dict = {**_ThreeLayer._parameter_constraints,
                                    **ConvexRegressorMixin._loss_constraints}

    def __init__(self, n_patterns=(20, 10), *, alpha=1e-3, loss="squared_error",
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


class ThreeLayerConvexReLUClassifier(ClassifierMixin, ConvexClassifierMixin,
                                     _ThreeLayerReLU):
    __doc__ = f"""Network with two hidden ReLU layers, classifier, trained to the global optimum.

    Solves the convex program (Ergen & Pilanci 2021)
    {THREE_LAYER_RELU_OBJECTIVE}
    ``L`` is the logistic loss (binary), the softmax cross-entropy (multiclass), or the
    squared error on +-1 / one-hot targets; every sub-network feeds one output
    (one-vs-all, as for two layers). :meth:`to_mlp` returns the same network as a
    fitted ``MLPClassifier(hidden_layer_sizes=(h1, h2))``.

    Parameters
    ----------
    {_RELU_PARAMETERS.strip()}
    loss : {{"log_loss", "squared_error"}}, default="log_loss"
        As for :class:`ConvexReLUClassifier`.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    {_ATTRIBUTES.strip()}
    {_RELU_ATTRIBUTES.strip()}

    See Also
    --------
    ThreeLayerGatedReLUClassifier : the gated relaxation (a group lasso).
    ConvexReLUClassifier : the two-layer ReLU network.
    sklearn.neural_network.MLPClassifier : what :meth:`to_mlp` returns.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skconvexnn import ThreeLayerConvexReLUClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), ThreeLayerConvexReLUClassifier(
    ...     n_patterns=(8, 4), random_state=0)).fit(X, y)
    >>> relu = clf[-1]
    >>> bool(relu.duality_gap_ <= relu.tol), relu.n_layers_
    (True, 4)
    >>> mlp = relu.to_mlp()  # a fitted MLPClassifier with two hidden layers
    >>> bool((mlp.predict(clf[0].transform(X)) == clf.predict(X)).all())
    True
    """

    _parameter_constraints: dict = {**_ThreeLayer._parameter_constraints,
                                    **ConvexClassifierMixin._loss_constraints}

    def __init__(self, n_patterns=(20, 10), *, alpha=1e-3, loss="log_loss",
                 fit_intercept=True, solver="auto", max_iter=50000, tol=1e-3,
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

    def to_mlp(self):
        """A fitted :class:`~sklearn.neural_network.MLPClassifier` with this network.

        ``hidden_layer_sizes=n_neurons_``, this estimator's ``coefs_`` and
        ``intercepts_``; its ``predict`` and ``predict_proba`` agree with this
        estimator's on any input. Its ``alpha`` is this estimator's times the number of
        training samples, but ``MLPClassifier`` decays the weights of all three layers,
        so its own objective is not ``objective_`` (see the class docstring).

        Returns
        -------
        MLPClassifier
        """
        return classifier_mlp(self)


class ThreeLayerConvexReLURegressor(RegressorMixin, ConvexRegressorMixin, _ThreeLayerReLU):
    __doc__ = f"""Network with two hidden ReLU layers, regressor, trained to the global optimum.

    Solves the convex program (Ergen & Pilanci 2021)
    {THREE_LAYER_RELU_OBJECTIVE}
    with ``L`` the regression loss (below). Targets, output bias and scaling are
    handled as by :class:`ConvexReLURegressor`. :meth:`to_mlp` returns the same network
    as a fitted ``MLPRegressor(hidden_layer_sizes=(h1, h2))``.

    Parameters
    ----------
    {_RELU_PARAMETERS.strip()}
    {regression_loss_parameter().strip()}

    Attributes
    ----------
    {_ATTRIBUTES.strip()}
    {_RELU_ATTRIBUTES.strip()}
    {REGRESSOR_ATTRIBUTES.strip()}

    See Also
    --------
    ThreeLayerGatedReLURegressor : the gated relaxation (a group lasso).
    ConvexReLURegressor : the two-layer ReLU network.
    sklearn.neural_network.MLPRegressor : what :meth:`to_mlp` returns.

    Examples
    --------
    >>> import numpy as np
    >>> from skconvexnn import ThreeLayerConvexReLURegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 3))
    >>> y = np.maximum(np.maximum(X[:, 0], 0) - X[:, 1], 0)
    >>> reg = ThreeLayerConvexReLURegressor(n_patterns=(8, 4), alpha=1e-3,
    ...                                     random_state=0).fit(X, y)
    >>> bool(reg.converged_), bool(np.allclose(reg.to_mlp().predict(X), reg.predict(X)))
    (True, True)
    """

    _parameter_constraints: dict = {**_ThreeLayer._parameter_constraints,
                                    **ConvexRegressorMixin._loss_constraints}

    def __init__(self, n_patterns=(20, 10), *, alpha=1e-3, loss="squared_error",
                 fit_intercept=True, solver="auto", max_iter=50000, tol=1e-3,
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

    def to_mlp(self):
        """A fitted :class:`~sklearn.neural_network.MLPRegressor` with this network.

        ``hidden_layer_sizes=n_neurons_``, this estimator's ``coefs_`` and
        ``intercepts_`` (the output bias included); its ``predict`` agrees with this
        estimator's on any input (a ``"poisson"`` loss exports as
        ``MLPRegressor(loss="poisson")``). ``MLPRegressor`` decays all three layers'
        weights, so its own objective is not ``objective_``.

        Returns
        -------
        MLPRegressor
        """
        return regressor_mlp(self)
