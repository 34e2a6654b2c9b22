"""Losses (datafits) of the convex programs: value, gradient and Fenchel dual.

Every loss is an average over samples, ``L(F) = sum_i w_i l(F_i, Y_i)`` with weights
``w_i >= 0`` summing to one (``w_i = 1/n`` without sample weights), so objectives
compare number for number with scnn's. A loss object holds the targets and weights of
one problem, as a datafit does in skglm.

The duality gap certificate needs the dual objective at the dual point built from the
gradient: with ``Theta = -kappa * grad L(F)`` (``kappa <= 1`` rescales it into the
dual-feasible set), ``D(Theta) = -sum_i w_i l_i^*(-Theta_i / w_i)``;
:meth:`dual_value` returns it in closed form. All values are computed in float64.
"""

import numpy as np
from scipy.special import expit, log_expit, xlogy


class _Loss:
    def __init__(self, Y, sample_weight=None):
        Y = np.asarray(Y)
        if Y.ndim == 1:
            Y = Y[:, None]
        self.Y = Y
        self.n_samples, self.n_outputs = Y.shape
        if sample_weight is None:
            w = np.full(self.n_samples, 1.0 / self.n_samples)
        else:
            w = np.asarray(sample_weight, dtype=np.float64)
            w = w / w.sum()
        self.weights = w
        self._Y64 = np.asarray(Y, dtype=np.float64)

    def value(self, F):  # pragma: no cover - interface
        raise NotImplementedError

    def value_and_gradient(self, F):
        """``(value(F), gradient(F))``; losses override it to share their work."""
        return self.value(F), self.gradient(F)

    def gradient(self, F):  # pragma: no cover - interface
        raise NotImplementedError

    def dual_value(self, F, kappa):  # pragma: no cover - interface
        raise NotImplementedError


class SquaredError(_Loss):
    """``l(f, y) = ||f - y||^2 / (2 c)``: with uniform weights ``||F - Y||_F^2 / (2 n c)``.

    Dual at ``Theta = -kappa grad L(F)``, with residual ``r = Y - F``:
    ``D = kappa sum_i w_i <r_i, y_i> / c - kappa^2 sum_i w_i ||r_i||^2 / (2 c)``.
    """

    name = "squared_error"

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


class BinaryLogistic(_Loss):
    """``l(f, y) = log(1 + exp(-y f))`` for ``y`` in {-1, +1} (one output).

    With ``s_i = kappa * sigmoid(-y_i f_i)`` in [0, 1] the dual is
    ``D = -sum_i w_i (s_i log s_i + (1 - s_i) log(1 - s_i))``.
    """

    name = "log_loss"
    curvature = 0.25

    def __init__(self, Y, sample_weight=None):
        super().__init__(Y, sample_weight)
        if self.n_outputs != 1:
            raise ValueError("BinaryLogistic takes a single column of +-1 targets.")

    def _margin(self, F):
        return self._Y64[:, 0] * np.asarray(F, dtype=np.float64)[:, 0]

    def value(self, F):
        return float(-self.weights @ log_expit(self._margin(F)))

    def gradient(self, F):
        g = -self.weights * self._Y64[:, 0] * expit(-self._margin(F))
        return g[:, None].astype(F.dtype, copy=False)

    def value_and_gradient(self, F):
        margin = self._margin(F)
        value = float(-self.weights @ log_expit(margin))
        g = -self.weights * self._Y64[:, 0] * expit(-margin)
        return value, g[:, None].astype(F.dtype, copy=False)

    def dual_value(self, F, kappa):
        s = kappa * expit(-self._margin(F))
        return float(-self.weights @ (xlogy(s, s) + xlogy(1 - s, 1 - s)))


class MultinomialLogistic(_Loss):
    """Softmax cross-entropy ``l(f, y) = logsumexp(f) - <f, y>`` for one-hot ``y``.

    With ``q_i = (1 - kappa) y_i + kappa softmax(f_i)`` (a point of the simplex) the dual
    is ``D = -sum_i w_i sum_k q_ik log q_ik``.
    """

    name = "log_loss"
    curvature = 0.5

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

    def gradient(self, F):
        return self.value_and_gradient(F)[1]

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


LOSSES = ("squared_error", "log_loss")


def make_loss(name, Y, sample_weight=None):
    """The loss object for ``name`` and targets ``Y`` (n, c).

    ``"log_loss"`` is the binary logistic loss when ``Y`` has one column (targets
    +-1) and the multinomial (softmax) loss otherwise (one-hot targets).
    """
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    if name == "squared_error":
        return SquaredError(Y, sample_weight)
    if name == "log_loss":
        if Y.shape[1] == 1:
            if not np.all(np.isin(Y, (-1, 1))):
                raise ValueError("log_loss with one output needs targets in {-1, +1}.")
            return BinaryLogistic(Y, sample_weight)
        if not (np.all(np.isin(Y, (0, 1))) and np.all(Y.sum(axis=1) == 1)):
            raise ValueError("log_loss with several outputs needs one-hot targets.")
        return MultinomialLogistic(Y, sample_weight)
    raise ValueError(f"loss must be one of {LOSSES}; got {name!r}.")
