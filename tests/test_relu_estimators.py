"""ConvexReLUClassifier / ConvexReLURegressor: exactness, to_mlp, MLP drop-in parity."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skconvexnn import (ConvexReLUClassifier, ConvexReLURegressor, GatedReLURegressor,
                        RobustConvexReLUClassifier, solve_relu)
from skconvexnn.losses import BinaryLogistic, Huber, make_loss
from skconvexnn.patterns import add_intercept_column

from certificate_checks import check_certificate


def _classification(n_classes=2, n=90, seed=0):
    return make_classification(n_samples=n, n_features=5, n_informative=4, n_redundant=0,
                               n_classes=n_classes, random_state=seed)


def _regression(n_outputs=1, n=90, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    Y = (np.maximum(X @ rng.standard_normal((4, n_outputs)), 0)
         - np.maximum(X @ rng.standard_normal((4, n_outputs)), 0)
         + 0.05 * rng.standard_normal((n, n_outputs)))
    return X, (Y[:, 0] if n_outputs == 1 else Y)


def _targets(est, y):
    if isinstance(est, ConvexReLUClassifier):
        if len(est.classes_) == 2:
            return (2.0 * (y == est.classes_[1]) - 1)[:, None]
        return np.eye(len(est.classes_))[np.searchsorted(est.classes_, y)]
    return y[:, None] if y.ndim == 1 else y


def _convex_output(est, X):
    """``sum_j D_j X (V_j - W_j)`` plus the output bias, from ``gates_`` and
    ``convex_coef_`` only (written independently of the package's products)."""
    X_aug = add_intercept_column(X) if est.fit_intercept else X
    mask = X_aug @ est.gates_ >= 0
    V, W = est.convex_coef_
    F = np.einsum("np,npc->nc", mask, np.einsum("nd,dpc->npc", X_aug, V - W))
    return getattr(est, "target_scale_", 1.0) * F + est.intercepts_[1]


ESTIMATORS_AND_DATA = [
    (ConvexReLUClassifier, _classification(2)), (ConvexReLUClassifier, _classification(3)),
    (ConvexReLURegressor, _regression(1)), (ConvexReLURegressor, _regression(3)),
]
IDS = ["binary", "multiclass", "regression", "regression-3out"]


@pytest.mark.parametrize("Estimator,data", ESTIMATORS_AND_DATA, ids=IDS)
def test_network_is_exactly_the_convex_model_and_its_objective(Estimator, data):
    X, y = data
    est = Estimator(alpha=1e-2, random_state=0, tol=1e-8, max_iter=100000).fit(X, y)
    assert est.converged_ and est.n_neurons_ > 0
    assert est.constraint_violation_ <= 1e-10
    network_out = est._forward(X)
    # relu(X w1 + b1) w2 + b2 on the training rows is the convex model's output...
    np.testing.assert_allclose(network_out, _convex_output(est, X), rtol=1e-8, atol=1e-10)
    # ...and the network's weight-decay objective is the convex objective (a regressor's
    # program fits y / s: in the units of y, alpha * s and s^2 times the objective).
    scale = getattr(est, "target_scale_", 1.0)
    W1, W2 = est.coefs_
    b1, _ = est.intercepts_
    decay = 0.5 * est.alpha * scale * (np.sum(W1 ** 2) + np.sum(b1 ** 2) + np.sum(W2 ** 2))
    objective = make_loss(est.loss, _targets(est, y)).value(network_out) + decay
    assert objective == pytest.approx(scale ** 2 * est.objective_, rel=1e-8)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("Estimator, loss", [
    (ConvexReLUClassifier, "log_loss"), (ConvexReLUClassifier, "squared_error"),
    (RobustConvexReLUClassifier, "log_loss"), (RobustConvexReLUClassifier, "hinge")])
def test_to_mlp_has_the_estimators_probabilities_for_every_loss(Estimator, loss,
                                                                 n_classes):
    X, y = _classification(n_classes, n=60)
    params = {"eps": 0.05, "max_iter": 400} if Estimator is RobustConvexReLUClassifier else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = Estimator(n_patterns=10, loss=loss, random_state=0, **params).fit(X, y)
    far = 3 * np.random.default_rng(1).standard_normal((20, X.shape[1]))
    X_new = np.vstack([X, far])
    mlp = est.to_mlp()
    np.testing.assert_array_equal(mlp.predict(X_new), est.predict(X_new))
    np.testing.assert_allclose(mlp.predict_proba(X_new), est.predict_proba(X_new),
                               rtol=0, atol=1e-9)
    np.testing.assert_allclose(est.predict_proba(X_new).sum(axis=1), 1.0)


@pytest.mark.parametrize("Estimator,data", ESTIMATORS_AND_DATA, ids=IDS)
def test_to_mlp_predicts_like_the_estimator_on_new_data(Estimator, data):
    X, y = data
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.3, random_state=0)
    est = Estimator(random_state=0).fit(X_train, y_train)
    mlp = est.to_mlp()
    assert isinstance(mlp, MLPClassifier if Estimator is ConvexReLUClassifier
                      else MLPRegressor)
    assert mlp.hidden_layer_sizes == (est.n_neurons_,) and mlp.activation == "relu"
    far = 3 * np.random.default_rng(1).standard_normal((20, X.shape[1]))  # off the data
    X_new = np.vstack([X_test, far])
    if Estimator is ConvexReLUClassifier:
        np.testing.assert_array_equal(mlp.predict(X_new), est.predict(X_new))
        np.testing.assert_allclose(mlp.predict_proba(X_new), est.predict_proba(X_new),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(mlp.classes_, est.classes_)
    else:
        np.testing.assert_allclose(mlp.predict(X_new), est.predict(X_new), rtol=1e-10,
                                   atol=1e-12)
    assert mlp.n_outputs_ == est.n_outputs_ and mlp.n_layers_ == 3
    assert mlp.alpha == pytest.approx(est.alpha * getattr(est, "target_scale_", 1.0)
                                      * len(X_train))


def test_to_mlp_of_a_squared_error_classifier_predicts_the_same_labels():
    X, y = _classification(3)
    est = ConvexReLUClassifier(loss="squared_error", random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.to_mlp().predict(X), est.predict(X))


def test_swapping_mlp_for_convex_relu_in_pipeline_and_grid_search_runs_unchanged():
    X, y = load_breast_cancer(return_X_y=True)
    results = {}
    for model in (MLPClassifier(max_iter=300, random_state=0),
                  ConvexReLUClassifier(random_state=0)):
        search = GridSearchCV(Pipeline([("scale", StandardScaler()), ("net", model)]),
                              {"net__alpha": [1e-3, 1e-2]}, cv=3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            search.fit(X, y)
        results[type(model).__name__] = search
    convex = results["ConvexReLUClassifier"]
    assert convex.best_score_ > 0.9
    assert convex.best_estimator_.predict(X).shape == (len(y),)
    assert convex.best_estimator_[-1].duality_gap_ <= convex.best_estimator_[-1].tol


@pytest.mark.parametrize("Estimator,data", [(ConvexReLUClassifier, _classification(3, n=40)),
                                            (ConvexReLURegressor, _regression(2, n=40))])
def test_sample_weight_equals_repetition_to_solver_tolerance(Estimator, data):
    X, y = data
    w = np.random.default_rng(0).integers(0, 4, size=len(y))
    params = dict(n_patterns=30, random_state=0, tol=1e-8, max_iter=200000)
    weighted = Estimator(**params).fit(X, y, sample_weight=w)
    repeated = Estimator(**params).fit(np.repeat(X, w, axis=0), np.repeat(y, w, axis=0))
    assert weighted.converged_ and repeated.converged_
    assert weighted.objective_ == pytest.approx(repeated.objective_, rel=2e-8)


@pytest.mark.parametrize("Estimator", [ConvexReLUClassifier, ConvexReLURegressor])
@pytest.mark.parametrize("bad,params,match", [
    ("nan", {}, "NaN"), ("1 sample", {}, "1 sample"), ("ok", {"alpha": -1.0}, "alpha"),
    ("ok", {"n_patterns": 0}, "n_patterns"), ("ok", {"backend": "torch"}, "backend"),
])
def test_bad_input_raises_value_error_before_the_solver(Estimator, bad, params, match,
                                                        monkeypatch):
    def solver_must_not_run(*args, **kwargs):
        raise AssertionError("bad input reached the solver")
    monkeypatch.setattr(Estimator, "_path", solver_must_not_run)
    X, y = _classification(2)
    if bad == "nan":
        X = X.copy()
        X[3, 1] = np.nan
    elif bad == "1 sample":
        X, y = X[:1], y[:1]
    with pytest.raises(ValueError, match=match):
        Estimator(**params).fit(X, y)


def test_regressor_shifts_with_the_targets_and_warm_starts_along_alpha():
    X, y = _regression()
    base = ConvexReLURegressor(random_state=0, tol=1e-6).fit(X, y)
    shifted = ConvexReLURegressor(random_state=0, tol=1e-6).fit(X, y + 100.0)
    np.testing.assert_allclose(shifted.predict(X) - 100.0, base.predict(X), atol=1e-6)
    # Same patterns on both paths: with patterns="gated" they would depend on alpha.
    est = ConvexReLURegressor(alpha=3e-2, patterns="random", random_state=0,
                              warm_start=True, tol=1e-6)
    est.fit(X, y).set_params(alpha=1e-3).fit(X, y)
    cold = ConvexReLURegressor(alpha=1e-3, patterns="random", random_state=0,
                               tol=1e-6).fit(X, y)
    assert est.objective_ == pytest.approx(cold.objective_, rel=1e-5)


def test_two_output_regression_on_raw_targets_converges_as_standardized_ones_do():
    # Targets in the hundreds: the program fits them over their scale, so the fit is the
    # standardized one's, certified at the default max_iter (before: R^2 0.64, gap 1.0).
    X, Y = _regression(2, n=120)
    raw = 300.0 * Y + np.array([200.0, -50.0])
    scale = np.sqrt(np.mean((raw - raw.mean(axis=0)) ** 2))
    standardized = ConvexReLURegressor(random_state=0).fit(
        X, (raw - raw.mean(axis=0)) / scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        est = ConvexReLURegressor(random_state=0).fit(X, raw)
    assert est.converged_ and est.n_iter_ <= 3 * standardized.n_iter_
    assert est.target_scale_ == pytest.approx(scale, rel=1e-12)
    assert est.score(X, raw) > 0.95
    # The exported MLP holds the network at weight decay alpha * scale (sklearn's
    # alpha_mlp / n); in the units of y its objective (hidden biases decayed too, as in
    # the convex formulation) is scale^2 times the program's.
    mlp = est.to_mlp()
    np.testing.assert_allclose(mlp.predict(X), est.predict(X), rtol=1e-10, atol=1e-8)
    weights = sum(np.sum(W ** 2) for W in mlp.coefs_) + np.sum(mlp.intercepts_[0] ** 2)
    objective = (np.mean((mlp.predict(X) - raw) ** 2) / 2
                     + mlp.alpha / (2 * len(X)) * weights)
    assert objective == pytest.approx(scale ** 2 * est.objective_, rel=1e-8)


def test_float32_and_sparse_input():
    X, y = _classification(3)
    X[np.abs(X) < 0.4] = 0
    X32 = sparse.csr_matrix(X.astype(np.float32))
    est = ConvexReLUClassifier(random_state=0).fit(X32, y)
    assert est.convex_coef_.dtype == np.float32 and est.converged_
    assert est.constraint_violation_ <= 1e-5
    # The certificate bounds the distance to the optimum of the program the fit solved
    # (its own gates: a fit at another tol proposes other patterns, another program),
    # solved here densely in float64 to a tight gap.
    optimum = solve_relu(add_intercept_column(X), np.eye(3)[y],
                         est.gates_.astype(np.float64), est.alpha, loss="log_loss",
                         tol=1e-9, max_iter=100000)
    assert optimum.duality_gap <= 1e-8
    assert (-1e-7 <= est.objective_ - optimum.objective
            <= est.duality_gap_ * est.objective_ + 1e-7)
    np.testing.assert_array_equal(est.to_mlp().predict(X32), est.predict(X32))


def test_mlp_parity_attributes_exist():
    X, y = _classification(3)
    est = ConvexReLUClassifier(random_state=0).fit(X, y)
    for name in ("coefs_", "intercepts_", "n_iter_", "loss_", "loss_curve_", "classes_",
                 "n_layers_", "n_outputs_", "out_activation_", "best_loss_"):
        assert hasattr(est, name), name
    assert est.out_activation_ == "softmax" and len(est.loss_curve_) == est.n_iter_
    assert est.loss_ == est.best_loss_ == est.objective_


@pytest.mark.parametrize("Estimator", [ConvexReLUClassifier, ConvexReLURegressor])
def test_gated_patterns_add_to_the_random_ones_and_never_lose(Estimator):
    X, y = _classification(3) if Estimator is ConvexReLUClassifier else _regression()
    random = Estimator(patterns="random", random_state=0, tol=1e-6).fit(X, y)
    gated = Estimator(patterns="gated", random_state=0, tol=1e-6).fit(X, y)
    X_aug = add_intercept_column(X)
    random_patterns = {tuple(col) for col in (X_aug @ random.gates_ >= 0).T}
    gated_patterns = {tuple(col) for col in (X_aug @ gated.gates_ >= 0).T}
    assert random_patterns < gated_patterns  # a strict superset: the units added some
    # Both certified to 1e-6: the optimum over more patterns is no larger.
    assert gated.objective_ * (1 - gated.tol) <= random.objective_
    assert gated.constraint_violation_ <= 1e-9


@pytest.mark.parametrize("Estimator, data, loss", [
    (ConvexReLUClassifier, _classification(2), "log_loss"),
    (ConvexReLUClassifier, _classification(3), "squared_error"),
    (ConvexReLURegressor, _regression(2), "squared_error")])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_certificate_holds_at_the_returned_network(Estimator, data, loss, dtype):
    X, y = data
    est = Estimator(n_patterns=20, loss=loss, random_state=0).fit(X.astype(dtype), y)
    check_certificate(est, X.astype(np.float64) if dtype == np.float64 else X, y)


def _regression_with_outliers(seed=0, n=120):
    X, y = _regression(n=n, seed=seed)
    y_observed = y.copy()
    rng = np.random.default_rng(seed + 1)
    outliers = rng.choice(n, size=n // 10, replace=False)
    y_observed[outliers] += rng.choice([-1.0, 1.0], size=len(outliers)) * 8.0
    return X, y, y_observed


@pytest.mark.parametrize("Estimator", [ConvexReLURegressor, GatedReLURegressor])
def test_huber_loss_resists_outliers_that_pull_the_squared_error(Estimator):
    X, y_clean, y = _regression_with_outliers()
    params = dict(n_patterns=30, alpha=1e-3, random_state=0, tol=1e-5, max_iter=50000)
    squared = Estimator(**params).fit(X, y)
    huber = Estimator(loss=Huber(delta=0.5), **params).fit(X, y)
    assert huber.converged_ and squared.converged_
    error = {name: np.median(np.abs(est.predict(X) - y_clean))
             for name, est in (("squared", squared), ("huber", huber))}
    assert error["huber"] < 0.7 * error["squared"]
    # The output bias is Huber's location of y (delta relative to the scale), not the
    # mean the outliers pull.
    scale = huber.target_scale_
    assert huber.intercepts_[1][0] == pytest.approx(scale * Huber(delta=0.5).baseline(
        y[:, None] / scale, np.ones(len(y)))[0])
    if Estimator is ConvexReLURegressor:
        check_certificate(huber, X, y)


def test_a_loss_with_parameters_is_a_parameter_like_any_other():
    X, _, y = _regression_with_outliers(n=60)
    est = ConvexReLURegressor(loss=Huber(delta=0.3), n_patterns=10, alpha=1e-2,
                              random_state=0)
    assert clone(est).get_params()["loss"] == Huber(delta=0.3)
    search = GridSearchCV(est, {"loss": [Huber(delta=0.3), Huber(delta=3.0), "huber"]},
                          cv=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 3
    assert repr(Huber(delta=0.3)) == "Huber(delta=0.3)"
    with pytest.raises(ValueError, match="regression loss"):
        ConvexReLURegressor(loss=BinaryLogistic()).fit(X, y)


def _counts(seed=0, n=200):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    rate = np.exp(1.0 + np.maximum(X[:, 0], 0) - 0.5 * np.abs(X[:, 1]))
    return X, rng.poisson(rate).astype(float)


@pytest.mark.parametrize("Estimator", [ConvexReLURegressor, GatedReLURegressor])
def test_poisson_regressor_predicts_positive_rates_with_a_log_link(Estimator):
    X, y = _counts()
    est = Estimator(loss="poisson", n_patterns=20, alpha=1e-3, random_state=0,
                    tol=1e-5, max_iter=50000).fit(X, y)
    assert est.converged_ and est.out_activation_ == "exp"
    prediction = est.predict(X)
    assert np.all(prediction > 0)
    # Better than the best constant rate (mean_poisson_deviance's D^2 > 0.3).
    from sklearn.metrics import d2_tweedie_score
    assert d2_tweedie_score(y, prediction, power=1) > 0.3
    assert est.intercepts_[1][0] == pytest.approx(np.log(y.mean()))
    if Estimator is ConvexReLURegressor:
        check_certificate(est, X, y)
        mlp = est.to_mlp()
        assert mlp.loss == "poisson"
        np.testing.assert_allclose(mlp.predict(X[:20] + 0.3), est.predict(X[:20] + 0.3),
                                   rtol=1e-10)


def test_poisson_regressor_refuses_negative_targets():
    X, y = _counts(n=30)
    with pytest.raises(ValueError, match="non-negative"):
        ConvexReLURegressor(loss="poisson").fit(X, y - 1.0)


def test_wide_table_fits_in_memory_of_its_rows_not_its_columns():
    # 100 x 3000: one d x d Cholesky factor alone is 72 MB, and the cone projections
    # once asked for 256 of them. They are n x n now (the row space of X).
    import tracemalloc

    X, y = make_classification(n_samples=100, n_features=3000, n_informative=10,
                               random_state=0)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    tracemalloc.start()
    try:
        model = ConvexReLUClassifier(n_patterns=5, random_state=0).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.converged_ and model.constraint_violation_ <= 1e-10
    assert peak < 60 * 2**20, f"peak {peak / 2**20:.0f} MB"


@pytest.mark.parametrize("Estimator", [ConvexReLUClassifier, GatedReLURegressor])
def test_a_fitted_model_does_not_keep_its_training_rows(Estimator):
    # What a warm fit starts from (gates, weights, solver state) is kept; the rows, the
    # patterns and outputs on them are not: the pickle is as large at 3000 rows as at
    # 300 (the 3000 x 21 design alone would be 504 kB).
    import pickle

    sizes = []
    for n in (300, 3000):
        X, y = make_classification(n_samples=n, n_features=20, random_state=0)
        model = Estimator(n_patterns=10, random_state=0, max_iter=300)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sizes.append(len(pickle.dumps(model.fit(X, y))))
    assert sizes[1] < 1.2 * sizes[0], sizes
