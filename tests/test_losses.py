"""Losses: gradients by finite differences, conjugates by the Fenchel-Young equality."""

import numpy as np
import pytest

from skconvexnn import solve_gated_relu
from skconvexnn.losses import (BinaryLogistic, Hinge, Huber, MultinomialLogistic, Poisson,
                                SquaredError, make_loss)

IDS = ["squared", "logistic", "softmax", "huber", "poisson", "poisson-offset"]


def _problems():
    rng = np.random.default_rng(0)
    n = 12
    w = rng.random(n)
    yield SquaredError().bind(rng.standard_normal((n, 3)), w), rng.standard_normal((n, 3))
    yield BinaryLogistic().bind(np.where(rng.random((n, 1)) > 0.5, 1.0, -1.0), w), \
        3 * rng.standard_normal((n, 1))
    yield MultinomialLogistic().bind(np.eye(4)[rng.integers(0, 4, n)], w), \
        3 * rng.standard_normal((n, 4))
    # Residuals on both sides of delta: the quadratic and the linear pieces.
    yield Huber(delta=0.7).bind(rng.standard_normal((n, 2)), w), 2 * rng.standard_normal((n, 2))
    # Counts with zeros, with and without an output bias in the log link.
    counts = rng.poisson(2.0, size=(n, 2)).astype(float)
    yield Poisson().bind(counts, w), rng.standard_normal((n, 2))
    _, shifted = Poisson().shifted(counts, np.log(counts.mean(axis=0)))
    yield shifted.bind(counts, w), rng.standard_normal((n, 2))


@pytest.mark.parametrize("loss,F", list(_problems()), ids=IDS)
def test_gradient_matches_finite_differences(loss, F):
    G = loss.gradient(F)
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(F.shape)
    h = 1e-6
    numeric = (loss.value(F + h * direction) - loss.value(F - h * direction)) / (2 * h)
    assert numeric == pytest.approx(np.vdot(G, direction), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("loss,F", list(_problems()), ids=IDS)
def test_value_and_gradient_agree_with_the_separate_methods(loss, F):
    value, gradient = loss.value_and_gradient(F)
    assert value == pytest.approx(loss.value(F), rel=1e-14)
    np.testing.assert_allclose(gradient, loss.gradient(F), rtol=1e-14)


@pytest.mark.parametrize("loss,F", list(_problems()), ids=IDS)
def test_dual_value_satisfies_fenchel_young_equality(loss, F):
    # With Theta = -grad L(F): D(Theta) = -L*(grad L(F)) = L(F) - <grad L(F), F>.
    expected = loss.value(F) - np.vdot(loss.gradient(F), F)
    assert loss.dual_value(F, 1.0) == pytest.approx(expected, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("loss,F", list(_problems()), ids=IDS)
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
    with pytest.raises(ValueError, match="needs a loss with a gradient"):
        solve_gated_relu(X, np.where(X[:, 0] > 0, 1.0, -1.0), X[:3].T, 0.1, loss="hinge")


@pytest.mark.parametrize("loss", [SquaredError(), Huber(delta=0.5), BinaryLogistic(), Hinge()],
                         ids=["squared", "huber", "logistic", "hinge"])
def test_robust_conjugate_satisfies_fenchel_young(loss):
    # phi(f, a) + phi*(p, q) >= p f + <q, a> for the weighted worst case phi = c *
    # worst_case, at dual points from the compiled prox (in the conjugate's domain).
    from skconvexnn._core.robust import LOSS_CODES, prox_loss_conjugate
    rng = np.random.default_rng(4)
    n, m, eps = 30, 3, 0.2
    y = np.where(rng.random(n) > 0.5, 1.0, -1.0) if loss.kind == "margin" else \
        rng.standard_normal(n)
    c = rng.random(n) + 0.5
    p, Q = np.empty(n), np.empty((n, m))
    prox_loss_conjugate(LOSS_CODES[loss.name], 3 * rng.standard_normal(n),
                        3 * rng.standard_normal((n, m)), y, c, eps, 0.7,
                        float(loss.robust_parameter), p, Q)
    conjugate = loss.conjugate_sum(p, Q, y, c, eps)
    for _ in range(20):
        f, A = 3 * rng.standard_normal(n), rng.standard_normal((n, m))
        primal = float(c @ loss.worst_case(f, eps * np.abs(A).sum(axis=1), y))
        assert primal + conjugate >= p @ f + np.sum(Q * A) - 1e-9


def test_huber_prox_caps_the_dual_level_at_c_delta():
    from skconvexnn._core.robust import LOSS_CODES, prox_loss_conjugate
    n, m = 5, 2
    P0, Q0 = np.full(n, 50.0), np.full((n, m), 50.0)
    y, c = np.zeros(n), np.full(n, 2.0)
    for name, cap in (("huber", 2.0 * 0.3), ("squared_error", np.inf)):
        p, Q = np.empty(n), np.empty((n, m))
        prox_loss_conjugate(LOSS_CODES[name], P0, Q0, y, c, 0.1, 1.0, 0.3, p, Q)
        level = np.maximum(np.abs(p), np.abs(Q).max(axis=1) / 0.1)
        assert np.all(level <= cap * (1 + 1e-12))
        assert np.all(level > 1.0) or name == "huber"


def test_huber_baseline_is_the_location_of_least_huber_loss():
    rng = np.random.default_rng(5)
    y = np.concatenate([rng.standard_normal(50), [40.0, 60.0]])[:, None]
    w = np.ones(len(y))
    loss = Huber(delta=1.0)
    b = loss.baseline(y, w)[0]
    values = [w @ loss.pointwise(t - y[:, 0]) for t in (b - 1e-4, b, b + 1e-4)]
    assert values[1] <= min(values[0], values[2])
    assert abs(b) < 0.5 < abs(y.mean())  # the outliers do not drag it


def test_huber_refuses_a_bad_delta():
    for delta in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(ValueError, match="delta"):
            Huber(delta=delta)


def test_poisson_offset_is_added_to_the_output_in_the_log_link():
    rng = np.random.default_rng(6)
    counts = rng.poisson(3.0, size=(20, 1)).astype(float)
    F = rng.standard_normal((20, 1))
    b = np.array([0.4])
    targets, shifted = Poisson().shifted(counts, b)
    assert targets is counts  # the targets stay, the bias moves into the link
    assert shifted.bind(counts).value(F) == pytest.approx(
        Poisson().bind(counts).value(F + b), rel=1e-14)
    assert Poisson().baseline(counts, np.ones(20)) == pytest.approx(np.log(counts.mean()))


def test_poisson_refuses_negative_or_all_zero_targets():
    with pytest.raises(ValueError, match="non-negative"):
        make_loss("poisson", np.array([1.0, -1.0, 2.0]))
    with pytest.raises(ValueError, match="positive"):
        Poisson().baseline(np.zeros((4, 1)), np.ones(4))
