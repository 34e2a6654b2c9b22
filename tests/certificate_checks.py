"""Checks of a fitted estimator's certificate from its public attributes alone.

What a user can verify with the data and the fitted network (``coefs_``,
``intercepts_``, ``eps``), without trusting the solver: shared by the tests of every
program.
"""

import numpy as np
import pytest
from scipy.special import log_expit

from skconvexnn.attacks import certified_bounds, exact_worst_margins
from skconvexnn.losses import make_loss


def _program_targets(est, y):
    """The targets the estimator's program fits (+-1, one-hot, one-vs-rest +-1, real)."""
    if not hasattr(est, "classes_"):
        y = np.asarray(y, dtype=np.float64)
        return y[:, None] if y.ndim == 1 else y
    index = np.searchsorted(est.classes_, y)
    if len(est.classes_) == 2:
        return (2.0 * index - 1.0)[:, None]
    one_hot = np.eye(len(est.classes_))[index]
    return 2.0 * one_hot - 1.0 if hasattr(est, "eps") else one_hot


def network_objective(est, X, y):
    """The fitted network's loss on ``(X, y)`` plus its weight decay
    ``alpha / 2 (||W1||^2 + ||b1||^2 + ||W2||^2)`` (the output bias is not decayed)."""
    W1, W2 = est.coefs_
    b1, b2 = est.intercepts_
    output = np.maximum(X @ W1 + b1, 0) @ W2 + b2
    # A regressor's program fits y / target_scale_: in its units the outputs are divided
    # by the scale and the network's weight decay (alpha * scale in y's units) by its
    # square.
    scale = getattr(est, "target_scale_", 1.0)
    Y = _program_targets(est, y) / scale
    output = output / scale
    if hasattr(est, "eps"):  # one-vs-rest: a sum of binary losses, one per output
        loss = sum(make_loss(est.loss, Y[:, [k]]).value(output[:, [k]])
                   for k in range(Y.shape[1]))
    else:
        loss = make_loss(est.loss, Y).value(output)
    decay = 0.5 * est.alpha / scale * (np.sum(W1 ** 2) + np.sum(b1 ** 2) + np.sum(W2 ** 2))
    return loss + decay


def check_certificate(est, X, y):
    """Assert that a fitted ``ConvexReLU*`` / ``RobustConvexReLU*`` certificate holds.

    - ``converged_`` implies a finite ``duality_gap_ <= tol``; a void (NaN) gap never
      comes with ``converged_``;
    - a finite gap comes with weights in their constraints: for the ReLU program the
      network's own objective is ``objective_`` (it is the convex model), for a robust
      classifier the network's exact worst margin on every training point's ball
      (a mixed-integer program) is the one its certificate claims, so
      ``certified_accuracy_`` is the accuracy under the exact worst case and (two
      classes, logistic loss) ``robust_loss_`` is the exact worst-case loss.
    """
    gap = est.duality_gap_
    if est.converged_:
        assert np.isfinite(gap) and gap <= est.tol
    if np.isnan(gap):
        assert not est.converged_
        return
    # Rounding of the weights returned: float64, or float32 for float32 data.
    rounding = 1e-8 if est.coefs_[0].dtype == np.float64 else 1e-4
    assert est.constraint_violation_ <= rounding * max(1.0, np.abs(est.coefs_[0]).max())
    eps = getattr(est, "eps", 0.0)
    if eps == 0:
        if est.loss != "hinge":
            assert network_objective(est, np.asarray(X, dtype=np.float64), y) == \
                pytest.approx(est.objective_, rel=rounding * 10)
        return
    if not hasattr(est, "classes_"):
        return
    margins, X_worst = exact_worst_margins(est, X, y, eps)
    # X_worst is a real attack: the network's margin there is the exact worst one.
    assert np.mean(est.predict(X_worst) == y) <= np.mean(margins > 0) + 1e-12
    worst, certified = certified_bounds(est, X, y, eps, loss=est.loss)
    assert est.certified_accuracy_ <= np.mean(margins > 0) + 1e-12
    assert est.certified_accuracy_ == np.mean(certified)
    # Feasible weights: no unit switches on a training ball, so the certificate is the
    # exact worst case, not only a bound on it.
    assert np.array_equal(certified, margins > 1e-9) or np.all(
        np.abs(margins[certified != (margins > 1e-9)]) < 1e-7)
    if len(est.classes_) == 2 and est.loss == "log_loss":
        exact_loss = -log_expit(margins)
        assert np.all(worst >= exact_loss - 1e-9)
        np.testing.assert_allclose(worst, exact_loss, rtol=1e-6, atol=1e-9)
        assert est.robust_loss_ >= np.mean(exact_loss) - 1e-9
