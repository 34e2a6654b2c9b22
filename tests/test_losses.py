"""Losses: gradients by finite differences, conjugates by the Fenchel-Young equality."""

import numpy as np
import pytest

from skconvexnn import solve_gated_relu
from skconvexnn.losses import BinaryLogistic, MultinomialLogistic, SquaredError, make_loss


def _problems():
    rng = np.random.default_rng(0)
    n = 12
    w = rng.random(n)
    yield SquaredError().bind(rng.standard_normal((n, 3)), w), rng.standard_normal((n, 3))
    yield BinaryLogistic().bind(np.where(rng.random((n, 1)) > 0.5, 1.0, -1.0), w), \
        3 * rng.standard_normal((n, 1))
    yield MultinomialLogistic().bind(np.eye(4)[rng.integers(0, 4, n)], w), \
        3 * rng.standard_normal((n, 4))


@pytest.mark.parametrize("loss,F", list(_problems()), ids=["squared", "logistic", "softmax"])
def test_gradient_matches_finite_differences(loss, F):
    G = loss.gradient(F)
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(F.shape)
    h = 1e-6
    numeric = (loss.value(F + h * direction) - loss.value(F - h * direction)) / (2 * h)
    assert numeric == pytest.approx(np.vdot(G, direction), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("loss,F", list(_problems()), ids=["squared", "logistic", "softmax"])
def test_value_and_gradient_agree_with_the_separate_methods(loss, F):
    value, gradient = loss.value_and_gradient(F)
    assert value == pytest.approx(loss.value(F), rel=1e-14)
    np.testing.assert_allclose(gradient, loss.gradient(F), rtol=1e-14)


@pytest.mark.parametrize("loss,F", list(_problems()), ids=["squared", "logistic", "softmax"])
def test_dual_value_satisfies_fenchel_young_equality(loss, F):
    # With Theta = -grad L(F): D(Theta) = -L*(grad L(F)) = L(F) - <grad L(F), F>.
    expected = loss.value(F) - np.vdot(loss.gradient(F), F)
    assert loss.dual_value(F, 1.0) == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("loss,F", list(_problems()), ids=["squared", "logistic", "softmax"])
def test_scaled_dual_value_obeys_fenchel_young_inequality(loss, F):
    # D(Theta) = -L*(-Theta) <= L(F') + <Theta, F'> for every F', Theta = -kappa grad L(F).
    rng = np.random.default_rng(2)
    for kappa in (0.0, 0.3, 0.9, 1.0):
        theta = -kappa * loss.gradient(F)
        for _ in range(5):
            F_other = F + rng.standard_normal(F.shape)
            bound = loss.value(F_other) + np.vdot(theta, F_other)
            assert loss.dual_value(F, kappa) <= bound + 1e-12


def test_make_loss_checks_target_encoding():
    with pytest.raises(ValueError, match="-1, \\+1"):
        make_loss("log_loss", np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="one-hot"):
        make_loss("log_loss", np.array([[0.5, 0.5], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="loss must be one of"):
        make_loss("absolute_error", np.ones(3))


def test_programs_without_a_gradient_refuse_the_hinge_loss():
    # hinge is a loss of the robust program only: FISTA needs a gradient.
    X = np.random.default_rng(0).standard_normal((10, 3))
    with pytest.raises(ValueError, match="no gradient"):
        solve_gated_relu(X, np.where(X[:, 0] > 0, 1.0, -1.0), X[:3].T, 0.1, loss="hinge")
