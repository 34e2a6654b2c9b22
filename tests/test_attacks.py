"""FGSM, PGD and certified bounds on our networks and on scikit-learn's MLPs."""

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skconvexnn import ConvexReLUClassifier, GatedReLUClassifier
from skconvexnn.attacks import (_forward, _input_gradient, _loss_and_gradient, _network,
                                certified_bounds, fgsm, pgd, robust_accuracy)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, [1, 7, 9])
    return X[keep][:240] / 16.0, y[keep][:240]


@pytest.fixture(scope="module")
def mlp(digits):
    X, y = digits
    return MLPClassifier(hidden_layer_sizes=(32,), max_iter=500, random_state=0).fit(X, y)


@pytest.mark.parametrize("loss", ["cross_entropy", "margin", "log_loss"])
def test_input_gradient_matches_finite_differences(loss, digits):
    X, y = digits
    deep = MLPClassifier(hidden_layer_sizes=(8, 6), activation="tanh", max_iter=50,
                         random_state=0)
    deep.fit(X[:60], y[:60])
    network = _network(deep)
    from skconvexnn.attacks import _encode
    Y, index = _encode(deep, y[:3], network[0][-1].shape[1])
    x = X[:3].copy()
    F, cache = _forward(*network, x)
    _, dF = _loss_and_gradient(loss, F, Y, index)
    gradient = _input_gradient(network[0], network[2], cache, dF)
    h = 1e-6
    for feature in (10, 20, 35):
        shift = np.zeros_like(x)
        shift[:, feature] = h
        up = _loss_and_gradient(loss, _forward(*network, x + shift)[0], Y, index)[0]
        down = _loss_and_gradient(loss, _forward(*network, x - shift)[0], Y, index)[0]
        np.testing.assert_allclose(gradient[:, feature], (up - down) / (2 * h), atol=1e-6)


def test_attacks_stay_in_the_ball_and_the_clip_range(mlp, digits):
    X, y = digits
    for X_adv in (fgsm(mlp, X, y, 0.1, clip=(0, 1)),
                  pgd(mlp, X, y, 0.1, clip=(0, 1), n_steps=10, n_restarts=2,
                      random_state=0)):
        assert np.abs(X_adv - X).max() <= 0.1 + 1e-12
        assert X_adv.min() >= 0 and X_adv.max() <= 1


def test_pgd_lowers_accuracy_more_than_fgsm_and_restarts_help(mlp, digits):
    X, y = digits
    clean = mlp.score(X, y)
    after_fgsm = robust_accuracy(mlp, X, y, 0.15, attack="fgsm", clip=(0, 1))
    after_pgd = robust_accuracy(mlp, X, y, 0.15, clip=(0, 1), random_state=0)
    assert after_pgd <= after_fgsm < clean
    _, one = pgd(mlp, X, y, 0.15, n_restarts=1, random_state=0, return_losses=True)
    _, five = pgd(mlp, X, y, 0.15, n_restarts=5, random_state=0, return_losses=True)
    assert np.all(five >= one)


def test_certified_bounds_are_sound_for_a_relu_mlp(digits):
    X, y = digits
    net = MLPClassifier(hidden_layer_sizes=(16,), max_iter=500, random_state=0).fit(X, y)
    worst, certified = certified_bounds(net, X, y, 0.02, loss="log_loss")
    _, attacked = pgd(net, X, y, 0.02, loss="log_loss", random_state=0,
                      return_losses=True)
    assert np.all(attacked <= worst + 1e-10)
    X_adv = pgd(net, X, y, 0.02, random_state=0)
    assert np.all(net.predict(X_adv)[certified] == y[certified])


def test_regressor_attack_increases_the_error():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (100, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    reg = MLPRegressor(hidden_layer_sizes=(16,), max_iter=2000, random_state=0).fit(X, y)
    X_adv, losses = pgd(reg, X, y, 0.1, random_state=0, return_losses=True)
    assert np.mean((reg.predict(X_adv) - y) ** 2) > np.mean((reg.predict(X) - y) ** 2)
    worst, _ = certified_bounds(reg, X, y, 0.1)
    assert np.all(losses <= worst + 1e-10)


def test_our_networks_can_be_attacked(digits):
    X, y = digits
    clf = ConvexReLUClassifier(n_patterns=20, random_state=0).fit(X, y)
    assert robust_accuracy(clf, X, y, 0.2, clip=(0, 1), random_state=0) < clf.score(X, y)


def test_bad_input_is_refused(mlp, digits):
    X, y = digits
    gated = GatedReLUClassifier(n_patterns=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match="gated"):
        pgd(gated, X, y, 0.1)
    with pytest.raises(ValueError, match="Pipeline"):
        pgd(make_pipeline(StandardScaler(), MLPClassifier()).fit(X, y), X, y, 0.1)
    with pytest.raises(ValueError, match="features"):
        fgsm(mlp, X[:, :10], y, 0.1)
    with pytest.raises(ValueError, match="eps"):
        fgsm(mlp, X, y, -1.0)
    with pytest.raises(ValueError, match="loss"):
        fgsm(mlp, X, y, 0.1, loss="squared_error")
    with pytest.raises(ValueError, match="labels"):
        fgsm(mlp, X, np.full(len(y), 4), 0.1)
    deep = MLPClassifier(hidden_layer_sizes=(4, 4), max_iter=20).fit(X, y)
    with pytest.raises(ValueError, match="one hidden layer"):
        certified_bounds(deep, X, y, 0.1)
    with pytest.raises(ValueError, match="clip"):
        pgd(mlp, X, y, 0.1, clip=(1, 0))
