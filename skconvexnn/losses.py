"""Losses (datafits) of the convex programs, one class each, in one place.

A loss is first a *specification*: its name and parameters (``Huber(delta=0.5)``), what
the estimators' ``loss`` parameter accepts besides a name. :meth:`Loss.bind` ties it to
the targets and sample weights of one problem, as a datafit holds its data in skglm.
A bound loss is an average over samples, ``L(F) = sum_i w_i l(F_i, Y_i)`` with weights
``w_i >= 0`` summing to one (``w_i = 1/n`` without sample weights), so objectives
compare number for number with scnn's.

Each class carries everything a solver, an estimator or an attack asks of its loss:

* the smooth programs (FISTA): :meth:`value`, :meth:`gradient`, :meth:`dual_value`
  and :attr:`curvature`. The duality gap needs the dual objective at the dual point
  built from the gradient: with ``Theta = -kappa * grad L(F)`` (``kappa <= 1``
  rescales it into the dual-feasible set), ``D(Theta) = -sum_i w_i l_i^*(-Theta_i /
  w_i)``; :meth:`dual_value` returns it in closed form. All values in float64.
* the robust program (PDHG, one output at a time): the pointwise loss of the margin
  ``y f`` (``kind="margin"``) or of the residual ``f - y`` (``kind="residual"``), its
  worst case over the l_inf ball (:meth:`worst_case`), the sum of the worst case's
  conjugates (:meth:`conjugate_sum`) and the parameter its proximal map in the
  backend's kernel takes (:attr:`robust_parameter`);
* the estimators: the output activation that turns the network's output into a
  prediction (:attr:`out_activation`, as ``MLPRegressor.out_activation_``) and the
  fixed output bias fitted before the program (:meth:`baseline`).

:data:`LOSSES` is the one list of names; :func:`make_loss` turns a name or a
specification and targets into a bound loss.
"""

import copy

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import expit, log1p, log_expit, xlogy


class Loss:
    """A loss: a specification until :meth:`bind` gives it targets and weights.

    Class attributes say where it applies: ``task`` ("regression" or
    "classification"), ``smooth`` (the FISTA programs need a gradient), ``robust`` (it
    has an exact worst case over an l_inf ball, for the robust program), ``kind``
    ("margin", "residual" or "multinomial") and ``scales_with_targets``.
    """

    name = None
    task = "regression"
    kind = "residual"
    smooth = True
    robust = False
    #: Whether it is the squared error (the reweighting solver's kernel ridge steps).
    quadratic = False
    #: Whether :attr:`curvature` bounds the per-sample curvature everywhere, so that
    #: ``curvature`` times the weights gives a quadratic majorizer (ADMM's steps).
    bounded_curvature = True
    out_activation = "identity"
    #: Whether the regressors divide the targets by their scale before solving
    #: (``target_scale_``): for a loss of residuals homogeneous of degree 2 in them
    #: and its parameters (``l(s r; s delta) = s^2 l(r; delta)``), so that the program
    #: on ``y / s`` is the program on ``y`` with ``alpha`` scaled by ``s``.
    scales_with_targets = False
    #: Names of the constructor's parameters (for ``repr`` and equality).
    _parameters = ()

    # --- specification ------------------------------------------------------------

    def __repr__(self):
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._parameters)
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, name) == getattr(other, name) for name in self._parameters)

    def __hash__(self):
        return hash((type(self), *(getattr(self, name) for name in self._parameters)))

    def bind(self, Y, sample_weight=None):
        """A copy of this loss holding the targets ``Y`` (n, c) and weights."""
        Y = np.asarray(Y)
        if Y.ndim == 1:
            Y = Y[:, None]
        self.check_targets(Y)
        bound = copy.copy(self)
        bound.Y = Y
        bound.n_samples, bound.n_outputs = Y.shape
        if sample_weight is None:
            w = np.full(bound.n_samples, 1.0 / bound.n_samples)
        else:
            w = np.asarray(sample_weight, dtype=np.float64)
            w = w / w.sum()
        bound.weights = w
        bound._Y64 = np.asarray(Y, dtype=np.float64)
        return bound

    def check_targets(self, Y):
        """Raise ValueError if ``Y`` (n, c) is not a valid target of this loss."""

    def baseline(self, Y, sample_weight):
        """The fixed output bias of a regressor with ``fit_intercept`` (c,): the
        constant output that is optimal with no hidden unit (the weighted mean)."""
        return np.average(Y, axis=0, weights=sample_weight)

    def scale(self, Y, sample_weight, centered=True):
        """The spread of targets ``Y`` (n, c) that a regressor divides them by when the
        loss ``scales_with_targets``: the weighted root mean square, over samples and
        outputs, of ``Y`` minus its weighted mean (of ``Y`` itself when not
        ``centered``); 1 when that is zero or not finite (constant targets)."""
        Y = np.asarray(Y, dtype=np.float64)
        residual = Y - np.average(Y, axis=0, weights=sample_weight) if centered else Y
        return _positive_or_one(np.sqrt(np.average(np.mean(residual ** 2, axis=1),
                                                   weights=sample_weight)))

    def shifted(self, Y, offset):
        """``(targets, loss)`` of the program that fits ``Y`` with the fixed output bias
        ``offset`` added to the network's output. Residual losses shift the targets."""
        return Y - offset, self

    # --- smooth programs (bound) -----------------------------------------------------

    def value(self, F):  # pragma: no cover - interface
        raise NotImplementedError

    def gradient(self, F):
        return self.value_and_gradient(F)[1]

    def value_and_gradient(self, F):  # pragma: no cover - interface
        """``(value(F), gradient(F))``, sharing their work: what a smooth loss defines
        (:meth:`gradient` comes from it)."""
        raise NotImplementedError(f"{type(self).__name__} has no gradient.")

    def dual_value(self, F, kappa):  # pragma: no cover - interface
        raise NotImplementedError

    # --- pointwise (margin or residual) --------------------------------------------

    def pointwise(self, z):  # pragma: no cover - interface
        """The loss of a margin ``y f`` or residual ``f - y``, elementwise."""
        raise NotImplementedError

    def pointwise_derivative(self, z):  # pragma: no cover - interface
        """Derivative of :meth:`pointwise` (a subgradient at kinks)."""
        raise NotImplementedError

    def sample_values_and_gradients(self, F, Y):
        """Unweighted per-sample loss of outputs ``F`` (n, c) and its gradient in ``F``:
        summed over +-1 columns (margin losses, one-vs-rest) or averaged over outputs
        (residual losses)."""
        if self.kind == "margin":
            margin = Y * F
            return self.pointwise(margin).sum(axis=1), Y * self.pointwise_derivative(margin)
        c = F.shape[1]
        R = F - Y
        return self.pointwise(R).sum(axis=1) / c, self.pointwise_derivative(R) / c

    def worst_of_bounds(self, low, high, y):
        """The largest loss of an output known to lie in ``[low, high]``, target ``y``
        (a margin loss: ``y = +-1``, and ``low`` bounds the margin ``y f`` from below,
        ``high`` unused)."""
        if self.kind == "margin":
            return self.pointwise(low)
        return self.pointwise(np.maximum(y - low, high - y))

    # --- robust program (one output, unbound) ---------------------------------------

    #: The parameter the backend's ``prox_loss_conjugate`` kernel receives with the
    #: loss's name (Huber's ``delta``).
    robust_parameter = 0.0

    def worst_case(self, f, spread, y):
        """Per-sample worst-case loss of outputs ``f`` whose worst perturbation moves
        them by ``spread`` (``eps ||a||_1``), without the weights."""
        if self.kind == "margin":
            return self.pointwise(y * f - spread)
        return self.pointwise(np.abs(y - f) + spread)

    def conjugate_sum(self, p, Q, y, c, eps):  # pragma: no cover - interface
        """``sum_k phi_k^*(p_k, q_k)`` of the weighted worst cases ``phi_k = c_k
        worst_case`` at a point of the conjugate's domain."""
        raise NotImplementedError


def _positive_or_one(scale):
    scale = float(scale)
    return scale if np.isfinite(scale) and scale > 0 else 1.0


def _weighted_median(values, weights):
    """The smallest value with at least half the total weight at or below it."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return values[order][np.searchsorted(cumulative, 0.5 * cumulative[-1])]


#: The median absolute deviation of a normal variable, in standard deviations.
_MAD_TO_STD = 1.4826


def _residual_level(p, Q, eps):
    """``max(|p|, ||q||_inf / eps)``: the dual level of a residual worst case."""
    level = np.abs(p)
    if Q.shape[1] and eps > 0:
        level = np.maximum(level, np.abs(Q).max(axis=1) / eps)
    return level


class SquaredError(Loss):
    """``l(f, y) = ||f - y||^2 / (2 c)``: with uniform weights ``||F - Y||_F^2 / (2 n c)``.

    Dual at ``Theta = -kappa grad L(F)``, with residual ``r = Y - F``:
    ``D = kappa sum_i w_i <r_i, y_i> / c - kappa^2 sum_i w_i ||r_i||^2 / (2 c)``.
    Robust worst case ``(|y - f| + eps ||a||_1)^2 / 2``.
    """

    name = "squared_error"
    robust = True
    quadratic = True
    scales_with_targets = True

    @property
    def curvature(self):
        """Largest eigenvalue of the per-sample Hessian in ``f``."""
        return 1.0 / self.n_outputs

    def value(self, F):
        r = np.asarray(F, dtype=np.float64) - self._Y64
        return float(np.einsum("i,ij,ij->", self.weights, r, r) / (2 * self.n_outputs))

    def gradient(self, F):
        r = np.asarray(F, dtype=np.float64) - self._Y64
        return (r * (self.weights[:, None] / self.n_outputs)).astype(F.dtype, copy=False)

    def value_and_gradient(self, F):
        r = np.asarray(F, dtype=np.float64) - self._Y64
        weighted = r * (self.weights[:, None] / self.n_outputs)
        return float(np.vdot(weighted, r) / 2), weighted.astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        r = self._Y64 - np.asarray(F, dtype=np.float64)
        c = self.n_outputs
        lin = np.einsum("i,ij,ij->", self.weights, r, self._Y64) / c
        quad = np.einsum("i,ij,ij->", self.weights, r, r) / (2 * c)
        return float(kappa * lin - kappa ** 2 * quad)

    def pointwise(self, z):
        return 0.5 * z ** 2

    def pointwise_derivative(self, z):
        return z

    def conjugate_sum(self, p, Q, y, c, eps):
        level = _residual_level(p, Q, eps)
        return float(np.sum(p * y + level ** 2 / (2 * c)))


class BinaryLogistic(Loss):
    """``l(f, y) = log(1 + exp(-y f))`` for ``y`` in {-1, +1} (one output).

    With ``s_i = kappa * sigmoid(-y_i f_i)`` in [0, 1] the dual is
    ``D = -sum_i w_i (s_i log s_i + (1 - s_i) log(1 - s_i))``. The name ``"log_loss"``
    binds it for one +-1 column and :class:`MultinomialLogistic` for one-hot targets;
    the robust program and the attacks apply it one-vs-rest to +-1 columns.
    """

    name = "log_loss"
    task = "classification"
    kind = "margin"
    robust = True
    out_activation = "logistic"
    curvature = 0.25

    def bind(self, Y, sample_weight=None):
        Y = np.asarray(Y)
        if Y.ndim == 2 and Y.shape[1] > 1:
            return MultinomialLogistic().bind(Y, sample_weight)
        return super().bind(Y, sample_weight)

    def check_targets(self, Y):
        if not np.all(np.isin(Y, (-1, 1))):
            raise ValueError("log_loss with one output needs targets in {-1, +1}.")

    def shifted(self, Y, offset):
        """The targets stay; the bias moves inside the loss (:class:`OffsetLoss`)."""
        return Y, OffsetLoss(self, offset)

    def _margin(self, F):
        return self._Y64[:, 0] * np.asarray(F, dtype=np.float64)[:, 0]

    def value(self, F):
        return float(-self.weights @ log_expit(self._margin(F)))

    def value_and_gradient(self, F):
        margin = self._margin(F)
        value = float(-self.weights @ log_expit(margin))
        g = -self.weights * self._Y64[:, 0] * expit(-margin)
        return value, g[:, None].astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        s = kappa * expit(-self._margin(F))
        return float(-self.weights @ (xlogy(s, s) + xlogy(1 - s, 1 - s)))

    def pointwise(self, z):
        return -log_expit(z)

    def pointwise_derivative(self, z):
        return -expit(-z)

    def conjugate_sum(self, p, Q, y, c, eps):
        s = np.clip(np.clip(-y * p, 0.0, c) / c, 0.0, 1.0)
        entropy = xlogy(s, s) + np.where(s < 1, (1 - s) * log1p(-np.where(s < 1, s, 0.0)), 0.0)
        return float(np.sum(c * entropy))


class MultilabelLogistic(BinaryLogistic):
    """``l(f, y) = sum_k log(1 + exp(-y_k f_k))`` for ``y`` in {-1, +1}^c: one independent
    logistic loss per output (multilabel targets, one sigmoid per label, as
    ``MLPClassifier`` fits a 0/1 indicator matrix).

    The conjugate separates over outputs, so with ``s_ik = kappa * sigmoid(-y_ik f_ik)``
    the dual is ``D = -sum_i w_i sum_k (s_ik log s_ik + (1 - s_ik) log(1 - s_ik))``.
    Not in :data:`LOSSES` (the name ``"log_loss"`` binds the binary or softmax loss):
    the classifiers pass it for indicator targets.
    """

    def bind(self, Y, sample_weight=None):
        return Loss.bind(self, Y, sample_weight)

    def check_targets(self, Y):
        if not np.all(np.isin(Y, (-1, 1))):
            raise ValueError("the multilabel log_loss needs targets in {-1, +1}.")

    def _margin(self, F):
        return self._Y64 * np.asarray(F, dtype=np.float64)

    def value(self, F):
        return float(-self.weights @ log_expit(self._margin(F)).sum(axis=1))

    def value_and_gradient(self, F):
        margin = self._margin(F)
        value = float(-self.weights @ log_expit(margin).sum(axis=1))
        G = -self.weights[:, None] * self._Y64 * expit(-margin)
        return value, G.astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        s = kappa * expit(-self._margin(F))
        return float(-self.weights @ (xlogy(s, s) + xlogy(1 - s, 1 - s)).sum(axis=1))


class MultinomialLogistic(Loss):
    """Softmax cross-entropy ``l(f, y) = logsumexp(f) - <f, y>`` for one-hot ``y``.

    With ``q_i = (1 - kappa) y_i + kappa softmax(f_i)`` (a point of the simplex) the dual
    is ``D = -sum_i w_i sum_k q_ik log q_ik``.
    """

    name = "log_loss"
    task = "classification"
    kind = "multinomial"
    out_activation = "softmax"
    curvature = 0.5

    def check_targets(self, Y):
        if not (np.all(np.isin(Y, (0, 1))) and np.all(Y.sum(axis=1) == 1)):
            raise ValueError("log_loss with several outputs needs one-hot targets.")

    def shifted(self, Y, offset):
        """The targets stay; the bias moves inside the loss (:class:`OffsetLoss`)."""
        return Y, OffsetLoss(self, offset)

    @staticmethod
    def _softmax_parts(F):
        """``(softmax(F), logsumexp(F))`` row by row, in float64, from one exponential."""
        F64 = np.asarray(F, dtype=np.float64)
        top = F64.max(axis=1, keepdims=True)
        E = np.exp(F64 - top)
        total = E.sum(axis=1, keepdims=True)
        E /= total
        return E, (top + np.log(total))[:, 0]

    def value(self, F):
        _, lse = self._softmax_parts(F)
        target = np.einsum("ij,ij->i", np.asarray(F, dtype=np.float64), self._Y64)
        return float(self.weights @ (lse - target))

    def value_and_gradient(self, F):
        P, lse = self._softmax_parts(F)
        target = np.einsum("ij,ij->i", np.asarray(F, dtype=np.float64), self._Y64)
        P -= self._Y64
        P *= self.weights[:, None]
        return float(self.weights @ (lse - target)), P.astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        P, _ = self._softmax_parts(F)
        Q = (1 - kappa) * self._Y64 + kappa * P
        return float(-self.weights @ xlogy(Q, Q).sum(axis=1))


class Hinge(Loss):
    """``l(f, y) = max(0, 1 - y f)`` for ``y`` in {-1, +1}: not smooth, so only the
    robust program (PDHG) takes it. Its worst-case conjugate is ``-lambda`` on
    ``lambda = -y p`` in ``[0, c]``."""

    name = "hinge"
    task = "classification"
    kind = "margin"
    smooth = False
    robust = True
    out_activation = "logistic"

    def check_targets(self, Y):
        if not np.all(np.isin(Y, (-1, 1))):
            raise ValueError("hinge needs targets in {-1, +1}.")

    def pointwise(self, z):
        return np.maximum(1.0 - z, 0.0)

    def pointwise_derivative(self, z):
        return -(z < 1.0).astype(np.float64)

    def conjugate_sum(self, p, Q, y, c, eps):
        return float(-np.clip(-y * p, 0.0, c).sum())


class Huber(Loss):
    """``l(f, y) = sum_k H(f_k - y_k) / c`` with Huber's function ``H(r) = r^2 / 2``
    for ``|r| <= delta`` and ``delta (|r| - delta / 2)`` beyond: the squared error
    near the targets, the absolute error (slope ``delta``) far from them.

    Dual at ``Theta = -kappa grad L(F)``, with ``psi = clip(F - Y, -delta, delta)``:
    ``D = -kappa sum_i w_i <psi_i, y_i> / c - kappa^2 sum_i w_i ||psi_i||^2 / (2 c)``.
    Robust worst case ``H(|y - f| + eps ||a||_1)``, whose conjugate is the squared
    error's restricted to dual levels ``lambda <= c delta``.

    Parameters
    ----------
    delta : float, default=1.0
        Where the loss turns from quadratic to linear, in the units of the program's
        targets: for the regressors, ``y`` divided by its scale (``target_scale_``),
        as :class:`~sklearn.linear_model.HuberRegressor`'s ``epsilon`` is relative to
        a scale.
    """

    name = "huber"
    robust = True
    scales_with_targets = True
    _parameters = ("delta",)

    def __init__(self, delta=1.0):
        if not (np.isfinite(delta) and delta > 0):
            raise ValueError(f"Huber's delta must be a positive finite number; got "
                             f"{delta!r}.")
        self.delta = float(delta)

    @property
    def robust_parameter(self):
        return self.delta

    @property
    def curvature(self):
        return 1.0 / self.n_outputs

    def baseline(self, Y, sample_weight):
        """The constant output of least Huber loss, per output (a location M-estimate)."""
        w = np.asarray(sample_weight, dtype=np.float64)

        def location(column):
            if column.min() == column.max():
                return column[0]
            return minimize_scalar(
                lambda b: w @ self.pointwise(b - column), bounds=(column.min(), column.max()),
                method="bounded", options={"xatol": 1e-10 * (1 + np.abs(column).max())}).x

        return np.array([location(column) for column in np.asarray(Y, dtype=np.float64).T])

    def scale(self, Y, sample_weight, centered=True):
        """A spread the outliers Huber's loss resists do not inflate: the weighted
        median absolute deviation of ``Y`` from its per-output weighted median (from
        zero when not ``centered``), over samples and outputs, times 1.4826 (the
        standard deviation, for normal targets); the root mean square when that is
        zero."""
        Y = np.asarray(Y, dtype=np.float64)
        w = (np.ones(len(Y)) if sample_weight is None
             else np.asarray(sample_weight, dtype=np.float64))
        if centered:
            Y = Y - np.array([_weighted_median(column, w) for column in Y.T])
        mad = _weighted_median(np.abs(Y).T.ravel(), np.tile(w, Y.shape[1]))
        if mad > 0 and np.isfinite(mad):
            return _MAD_TO_STD * float(mad)
        return super().scale(Y, sample_weight, centered=False)

    def _clipped_residual(self, F):
        return np.clip(np.asarray(F, dtype=np.float64) - self._Y64, -self.delta, self.delta)

    def value(self, F):
        r = np.asarray(F, dtype=np.float64) - self._Y64
        return float(self.weights @ self.pointwise(r).sum(axis=1) / self.n_outputs)

    def value_and_gradient(self, F):
        psi = self._clipped_residual(F)
        gradient = psi * (self.weights[:, None] / self.n_outputs)
        return self.value(F), gradient.astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        psi = self._clipped_residual(F)
        c = self.n_outputs
        lin = np.einsum("i,ij,ij->", self.weights, psi, self._Y64) / c
        quad = np.einsum("i,ij,ij->", self.weights, psi, psi) / (2 * c)
        return float(-kappa * lin - kappa ** 2 * quad)

    def pointwise(self, z):
        magnitude = np.abs(z)
        return np.where(magnitude <= self.delta, 0.5 * z * z,
                        self.delta * (magnitude - 0.5 * self.delta))

    def pointwise_derivative(self, z):
        return np.clip(z, -self.delta, self.delta)

    def conjugate_sum(self, p, Q, y, c, eps):
        level = np.minimum(_residual_level(p, Q, eps), c * self.delta)
        return float(np.sum(p * y + level ** 2 / (2 * c)))


class Poisson(Loss):
    """Half the Poisson deviance with a log link, as ``MLPRegressor(loss="poisson")``:
    ``l(f, y) = sum_k (exp(g_k) - y_k g_k + y_k log y_k - y_k) / c`` at ``g = f + b``,
    for counts or rates ``y >= 0``. Predictions are ``exp(g)`` (``out_activation =
    "exp"``); ``b`` is the fixed output bias (``log`` of the weighted mean of ``y``
    with ``fit_intercept``).

    Dual at ``Theta = -kappa grad L(F)``, with ``mu = exp(g)`` and ``m = kappa mu +
    (1 - kappa) y >= 0``: ``D = -sum_i w_i sum_k (m log m - m - y log y + y - (m - y)
    b) / c``. Its curvature ``mu / c`` is unbounded: FISTA's step starts from its value
    at the start and backtracks from there.
    """

    name = "poisson"
    bounded_curvature = False
    kind = "log_link"
    out_activation = "exp"
    #: The fixed output bias ``b`` (c,) added to the network's output; None is zero.
    offset = None

    def check_targets(self, Y):
        if np.any(np.asarray(Y) < 0):
            raise ValueError("loss='poisson' needs non-negative targets y (counts or rates).")

    def baseline(self, Y, sample_weight):
        """``log`` of the weighted mean of ``y``: the constant output of least loss."""
        mean = np.average(Y, axis=0, weights=sample_weight)
        if np.any(mean <= 0):
            raise ValueError("loss='poisson' needs targets y with a positive (weighted) "
                             "mean in every output; got a column of zeros.")
        return np.log(mean)

    def shifted(self, Y, offset):
        """The targets stay; the bias moves into the log link (``g = f + offset``)."""
        loss = copy.copy(self)
        loss.offset = np.asarray(offset, dtype=np.float64)
        return Y, loss

    def _link(self, F):
        g = np.asarray(F, dtype=np.float64)
        return g if self.offset is None else g + self.offset

    @property
    def curvature(self):
        """The largest per-sample curvature at the zero network, ``max exp(b) / c``."""
        bias = 0.0 if self.offset is None else float(np.max(self.offset))
        return np.exp(bias) / self.n_outputs

    def _value_from(self, g, mu):
        constant = xlogy(self._Y64, self._Y64) - self._Y64
        return float(self.weights @ (mu - self._Y64 * g + constant).sum(axis=1)
                     / self.n_outputs)

    def value(self, F):
        g = self._link(F)
        with np.errstate(over="ignore"):
            return self._value_from(g, np.exp(g))

    def value_and_gradient(self, F):
        g = self._link(F)
        with np.errstate(over="ignore"):
            mu = np.exp(g)
        gradient = (mu - self._Y64) * (self.weights[:, None] / self.n_outputs)
        return self._value_from(g, mu), gradient.astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        with np.errstate(over="ignore"):
            mu = np.exp(self._link(F))
        Y = self._Y64
        m = kappa * mu + (1 - kappa) * Y
        conjugate = xlogy(m, m) - m - xlogy(Y, Y) + Y
        if self.offset is not None:
            conjugate = conjugate - (m - Y) * self.offset
        return float(-self.weights @ conjugate.sum(axis=1) / self.n_outputs)


#: Every loss, by the name the estimators' ``loss`` parameter takes.
LOSSES = {loss.name: loss for loss in (SquaredError, Huber, Poisson,
                                            BinaryLogistic, Hinge)}


def loss_names(task, *, smooth=None, robust=None):
    """Names of the losses for ``task`` (and, when given, with the ``smooth`` or
    ``robust`` ability): what an estimator's ``loss`` parameter accepts."""
    return {name for name, loss in LOSSES.items() if loss.task == task
            and (smooth is None or loss.smooth == smooth)
            and (robust is None or loss.robust == robust)}


class OffsetLoss(Loss):
    """``L(F + offset)``: a loss with a fixed output bias inside it (for a margin or
    softmax loss, whose targets cannot absorb it).

    Dual at ``Theta = -kappa grad L(F + b)``: the conjugate of ``F -> L(F + b)`` is
    ``L*(z) - <z, b>``, so ``D_b(Theta) = D(Theta) - <Theta, b>``, i.e. the dual value
    of the loss at ``F + b`` plus ``kappa <grad L(F + b), b>``.

    Parameters
    ----------
    loss : str or Loss
        The loss whose input is shifted.
    offset : array-like of shape (n_outputs,)
        The bias ``b``, added to every row of ``F``.
    """

    quadratic = False  # in F it is, but not in the targets the quadratic solvers read
    robust = False

    def __init__(self, loss, offset):
        self.loss = as_loss(loss)
        self.offset = np.asarray(offset, dtype=np.float64).ravel()
        for name in ("name", "task", "kind", "smooth", "out_activation",
                     "bounded_curvature"):
            setattr(self, name, getattr(self.loss, name))

    def __repr__(self):
        return f"OffsetLoss({self.loss!r}, offset={self.offset.tolist()!r})"

    def __eq__(self, other):
        return (type(other) is OffsetLoss and self.loss == other.loss
                and np.array_equal(self.offset, other.offset))

    def __hash__(self):
        return hash((OffsetLoss, self.loss, tuple(self.offset)))

    def check_targets(self, Y):
        self.loss.check_targets(Y)

    def bind(self, Y, sample_weight=None):
        bound = copy.copy(self)
        bound.loss = self.loss.bind(Y, sample_weight)
        for name in ("Y", "n_samples", "n_outputs", "weights", "_Y64"):
            setattr(bound, name, getattr(bound.loss, name))
        if bound.offset.shape != (bound.n_outputs,):
            raise ValueError(f"the offset has {bound.offset.size} entries for "
                             f"{bound.n_outputs} outputs.")
        return bound

    @property
    def curvature(self):
        return self.loss.curvature

    def _shift(self, F):
        return np.asarray(F, dtype=np.float64) + self.offset

    def value(self, F):
        return self.loss.value(self._shift(F))

    def gradient(self, F):
        return self.loss.gradient(self._shift(F)).astype(F.dtype, copy=False)

    def value_and_gradient(self, F):
        value, gradient = self.loss.value_and_gradient(self._shift(F))
        return value, gradient.astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        shifted = self._shift(F)
        return (self.loss.dual_value(shifted, kappa)
                + kappa * float(np.sum(self.loss.gradient(shifted) * self.offset)))


def as_loss(loss):
    """The loss specification of ``loss`` (a name of :data:`LOSSES` or a :class:`Loss`)."""
    if isinstance(loss, Loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)} or a Loss; got {loss!r}.")
    return LOSSES[loss]()


def make_loss(loss, Y, sample_weight=None):
    """The loss ``loss`` (a name or a :class:`Loss`) bound to targets ``Y`` (n, c).

    ``"log_loss"`` is the binary logistic loss when ``Y`` has one column (targets
    +-1) and the multinomial (softmax) loss otherwise (one-hot targets).
    """
    return as_loss(loss).bind(Y, sample_weight)
