"""polish_mlp: a fitted MLP polished to the certified optimum over its own activation
patterns; never worse than the MLP with one output; the program against CVXPY."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor

from skconvexnn import polish_mlp
from skconvexnn.losses import OffsetLoss, as_loss


def _fit(mlp, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return mlp.fit(X, y)


def _classification(n=120, n_classes=2, seed=0):
    return make_classification(n_samples=n, n_features=5, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=seed)


def _regression(n=120, n_targets=1, seed=0):
    X, y = make_regression(n_samples=n, n_features=5, n_targets=n_targets, noise=5.0,
                           random_state=seed)
    return X, np.sin(y / y.std()) + 0.1 * y / y.std()


def _objective(mlp, X, y):
    """The MLP's mean loss plus ``alpha / (2 n)`` times its squared weights and hidden
    biases, from its public attributes alone (scikit-learn's own loss functions)."""
    W1, W2 = mlp.coefs_
    b1, _ = mlp.intercepts_
    decay = mlp.alpha / (2 * len(X)) * (np.sum(W1 ** 2) + np.sum(b1 ** 2) + np.sum(W2 ** 2))
    if isinstance(mlp, MLPClassifier):
        proba = np.clip(mlp.predict_proba(X), 1e-300, 1)
        index = np.searchsorted(mlp.classes_, y)
        return float(-np.mean(np.log(proba[np.arange(len(y)), index]))) + decay
    residual = mlp.predict(X).reshape(len(X), -1) - np.reshape(y, (len(X), -1))
    return float(np.mean(residual ** 2) / 2) + decay


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_a_binary_classifier_is_never_made_worse_and_the_objective_is_the_networks(solver):
    X, y = _classification()
    mlp = _fit(MLPClassifier((8,), alpha=1.0, solver=solver, max_iter=200, random_state=0),
               X, y)
    result = polish_mlp(mlp, X, y, tol=1e-8)
    assert result.converged and result.duality_gap <= 1e-8
    assert result.mlp_objective == pytest.approx(_objective(mlp, X, y), rel=1e-10)
    assert result.objective == pytest.approx(_objective(result.mlp, X, y), rel=1e-10)
    assert result.objective <= result.mlp_objective * (1 + 1e-8)
    # A fitted MLPClassifier of the same parameters, with the polished network.
    polished = result.mlp
    assert type(polished) is MLPClassifier and polished is not mlp
    assert polished.get_params()["alpha"] == mlp.alpha
    assert polished.hidden_layer_sizes == (polished.coefs_[0].shape[1],)
    np.testing.assert_array_equal(polished.classes_, mlp.classes_)
    np.testing.assert_array_equal(
        polished.predict(X), polished.classes_[polished.predict_proba(X).argmax(axis=1)])
    np.testing.assert_array_equal(mlp.coefs_[0], _fit(
        MLPClassifier((8,), alpha=1.0, solver=solver, max_iter=200, random_state=0),
        X, y).coefs_[0])  # the MLP given is left as it was


def test_a_regressor_is_never_made_worse():
    X, y = _regression()
    mlp = _fit(MLPRegressor(hidden_layer_sizes=(10,), alpha=1.0, solver="lbfgs",
                            max_iter=500, random_state=0), X, y)
    result = polish_mlp(mlp, X, y, tol=1e-8)
    assert result.converged
    assert result.objective == pytest.approx(_objective(result.mlp, X, y), rel=1e-10)
    assert result.objective <= result.mlp_objective * (1 + 1e-8)
    assert result.mlp.predict(X).shape == y.shape


def test_several_outputs_are_certified_over_their_own_units():
    X, y = _classification(n=150, n_classes=3)
    mlp = _fit(MLPClassifier((8,), alpha=1.0, max_iter=300, random_state=0), X, y)
    result = polish_mlp(mlp, X, y, tol=1e-6)
    assert result.converged
    assert result.objective == pytest.approx(_objective(result.mlp, X, y), rel=1e-10)
    assert result.mlp.predict_proba(X).shape == (150, 3)
    X, Y = _regression(n_targets=2)
    mlp = _fit(MLPRegressor(hidden_layer_sizes=(6,), alpha=1.0, solver="lbfgs",
                            max_iter=300, random_state=0), X, Y)
    result = polish_mlp(mlp, X, Y, tol=1e-6)
    assert result.converged and result.mlp.predict(X).shape == Y.shape


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_the_polish_is_the_optimum_of_the_program_on_the_mlps_patterns(task):
    pytest.importorskip("cvxpy", reason="CVXPY (test extra) checks the optimum")
    from test_relu_functional import cvxpy_relu_optimum

    if task == "binary":
        X, y = _classification(n=30)
        mlp = _fit(MLPClassifier((4,), alpha=0.5, max_iter=100, random_state=0), X, y)
        Y, loss = (2.0 * y - 1)[:, None], "log_loss"
    else:
        X, y = _regression(n=30)
        mlp = _fit(MLPRegressor(hidden_layer_sizes=(4,), alpha=0.5, max_iter=100,
                                random_state=0), X, y)
        Y, loss = y[:, None], "squared_error"
    result = polish_mlp(mlp, X, y, tol=1e-9, max_iter=200000)
    gates = np.vstack([mlp.coefs_[0], mlp.intercepts_[0]])
    X_aug = np.hstack([X, np.ones((len(X), 1))])
    reference = cvxpy_relu_optimum(X_aug, Y, gates, mlp.alpha / len(X), loss,
                                   offset=mlp.intercepts_[1])
    assert result.objective == pytest.approx(reference, rel=1e-6)


def test_the_offset_losss_dual_is_the_shifted_targets_dual():
    rng = np.random.default_rng(0)
    Y, F, b = rng.standard_normal((20, 2)), rng.standard_normal((20, 2)), np.array([0.5, -1.0])
    shifted = OffsetLoss("squared_error", b).bind(Y)
    moved = as_loss("squared_error").bind(Y - b)
    for kappa in (0.3, 1.0):
        assert shifted.dual_value(F, kappa) == pytest.approx(moved.dual_value(F, kappa))
    assert shifted.value(F) == pytest.approx(moved.value(F))
    with pytest.raises(ValueError, match="offset has 2 entries for 3 outputs"):
        OffsetLoss("squared_error", b).bind(rng.standard_normal((5, 3)))


def test_what_cannot_be_polished_is_refused_with_a_clear_error():
    X, y = _classification(n=60)
    with pytest.raises(NotFittedError):
        polish_mlp(MLPClassifier((4,)), X, y)
    with pytest.raises(ValueError, match="MLPClassifier or MLPRegressor"):
        polish_mlp(LogisticRegression().fit(X, y), X, y)
    tanh = _fit(MLPClassifier((4,), activation="tanh", max_iter=50, random_state=0), X, y)
    with pytest.raises(ValueError, match="one hidden layer of ReLU units"):
        polish_mlp(tanh, X, y)
    deep = _fit(MLPClassifier((4, 3), max_iter=50, random_state=0), X, y)
    with pytest.raises(ValueError, match="2 hidden layers"):
        polish_mlp(deep, X, y)
    mlp = _fit(MLPClassifier((4,), max_iter=50, random_state=0), X, y)
    with pytest.raises(ValueError, match="features"):
        polish_mlp(mlp, X[:, :3], y)
    with pytest.raises(ValueError, match="labels the MLP was not fitted on"):
        polish_mlp(mlp, X, y + 5)
    multilabel = _fit(MLPClassifier((4,), max_iter=50, random_state=0), X,
                      np.column_stack([y, 1 - y]))
    with pytest.raises(ValueError, match="multilabel"):
        polish_mlp(multilabel, X, np.column_stack([y, 1 - y]))
    Xr, yr = _regression(n=60)
    poisson = _fit(MLPRegressor(loss="poisson", hidden_layer_sizes=(4,), max_iter=50,
                                random_state=0), Xr, np.abs(yr))
    with pytest.raises(ValueError, match="squared_error"):
        polish_mlp(poisson, Xr, np.abs(yr))
