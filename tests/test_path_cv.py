"""Regularization paths (alpha_max, warm-started grids) and the cross-validated estimators."""

import functools
import warnings

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold

from skconvexnn import (ConvexReLUClassifier, ConvexReLUClassifierCV, ConvexReLURegressor,
                        ConvexReLURegressorCV, GatedReLUClassifier, GatedReLUClassifierCV,
                        GatedReLURegressor, GatedReLURegressorCV, alpha_max, path,
                        solve_gated_relu, solve_relu)
from skconvexnn.patterns import add_intercept_column
from skconvexnn.programs import GroupLassoProgram

SOLVE = {"gated": solve_gated_relu, "relu": solve_relu}


def _program(loss, n=60, d=3, n_gates=15, seed=0):
    rng = np.random.default_rng(seed)
    X = add_intercept_column(rng.standard_normal((n, d)))
    gates = rng.standard_normal((d + 1, n_gates))
    signal = np.maximum(X[:, 0], 0) - 0.5 * X[:, 1] + 0.1 * rng.standard_normal(n)
    Y = signal - signal.mean() if loss == "squared_error" else np.sign(signal - 0.2)
    return X, Y, gates


@pytest.mark.parametrize("program", ["gated", "relu"])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
def test_alpha_max_is_where_the_zero_network_stops_being_optimal(program, loss):
    X, Y, gates = _program(loss)
    top = alpha_max(X, Y, gates, program=program, loss=loss)
    at_top = SOLVE[program](X, Y, gates, top * (1 + 1e-9), loss=loss, tol=1e-8)
    below = SOLVE[program](X, Y, gates, top * (1 - 1e-3), loss=loss, tol=1e-8)
    assert at_top.n_active == 0 and at_top.converged
    assert below.n_active >= 1
    assert below.objective < at_top.objective


def test_relu_alpha_max_is_below_the_gated_one_on_the_same_gates():
    X, Y, gates = _program("squared_error")
    assert (alpha_max(X, Y, gates, program="relu")
            <= alpha_max(X, Y, gates, program="gated") * (1 + 1e-12))


@pytest.mark.parametrize("program", ["gated", "relu"])
def test_warm_path_reaches_the_cold_objectives_at_every_alpha(program):
    X, Y, gates = _program("squared_error")
    tol = 1e-7
    # FISTA's working set (what "auto" is beyond small squared-loss gated programs):
    # the iteration counts below are its iterations.
    solve = functools.partial(SOLVE[program], solver="working_set")
    result = path(X, Y, gates, program=program, alphas=6, eps=1e-2, tol=tol,
                  solver="working_set")
    assert result.n_active[0] == 0 and result.n_active[1] >= 1
    assert result.alpha_max == pytest.approx(alpha_max(X, Y, gates, program=program))
    assert np.all(np.diff(result.alphas) < 0)
    assert np.all(result.converged) and np.all(result.duality_gaps <= tol)
    assert np.all(result.constraint_violations <= 1e-10)
    for alpha, objective, coef in zip(result.alphas, result.objectives, result.coefs):
        cold = solve(X, Y, gates, alpha, tol=tol)
        assert objective == pytest.approx(cold.objective, rel=3 * tol)
        # The stored weights reproduce the reported objective (layout of the gates).
        again = solve(X, Y, gates, alpha, tol=tol, coef_init=coef)
        assert again.n_iter <= 1 and again.objective == pytest.approx(objective, rel=tol)
    # Warm starts save work: the whole path costs less than cold solves at its end.
    assert result.n_iter.sum() < 4 * solve(X, Y, gates, result.alphas[-1], tol=tol).n_iter


def test_path_with_given_alphas_solves_them_in_decreasing_order():
    X, Y, gates = _program("log_loss")
    result = path(X, Y, gates, alphas=[1e-3, 1e-1, 1e-2], loss="log_loss")
    np.testing.assert_array_equal(result.alphas, [1e-1, 1e-2, 1e-3])
    assert result.alpha_max is None
    assert result.coefs.shape == (3,) + gates.shape + (1,)


def test_path_rejects_bad_grids():
    X, Y, gates = _program("squared_error")
    with pytest.raises(ValueError, match="alphas must be positive"):
        path(X, Y, gates, alphas=[0.1, -1.0])
    with pytest.raises(ValueError, match="eps"):
        path(X, Y, gates, eps=2.0)
    with pytest.raises(ValueError, match="zero network is optimal for every alpha"):
        path(X, np.zeros(len(X)), gates)


def test_path_warns_when_a_solve_does_not_converge():
    X, Y, gates = _program("squared_error")
    with pytest.warns(ConvergenceWarning, match="solves stopped at max_iter"):
        result = path(X, Y, gates, alphas=3, max_iter=2, tol=1e-12)
    assert not result.converged.all()


def _classification(n_classes=2):
    return make_classification(n_samples=120, n_features=5, n_informative=4,
                               n_redundant=0, n_classes=n_classes, random_state=0)


def _regression():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = np.maximum(X[:, 0], 0) - np.maximum(X[:, 1] - X[:, 2], 0) + 0.1 * rng.standard_normal(120)
    return X, y


# ReLU with patterns="random": its warm path solves the very programs of cold fits (so
# does "gated": see the warm-start tests below).
CASES = [(GatedReLUClassifierCV, GatedReLUClassifier, _classification(3), {}),
         (GatedReLURegressorCV, GatedReLURegressor, _regression(), {}),
         (ConvexReLUClassifierCV, ConvexReLUClassifier, _classification(2),
          {"patterns": "random"}),
         (ConvexReLURegressorCV, ConvexReLURegressor, _regression(), {"patterns": "random"})]


@pytest.mark.parametrize("EstimatorCV,Estimator,data,extra", CASES,
                         ids=lambda x: getattr(x, "__name__", ""))
def test_cv_matches_a_grid_search_of_cold_fits_and_refits_at_the_best_alpha(
        EstimatorCV, Estimator, data, extra):
    X, y = data
    splitter = (StratifiedKFold if is_classifier(EstimatorCV()) else KFold)(
        3, shuffle=True, random_state=0)
    search = EstimatorCV(n_patterns=20, alphas=5, eps=1e-2, cv=splitter, random_state=0,
                         tol=1e-6, **extra).fit(X, y)
    results = search.cv_results_
    assert results["param_alpha"][0] == search.alphas_[0] and np.all(
        np.diff(search.alphas_) < 0)
    assert search.alpha_ == search.alphas_[search.best_index_]
    assert search.best_score_ == results["mean_test_score"].max()
    assert results["rank_test_score"][search.best_index_] == 1
    assert results["mean_n_neurons"][-1] > results["mean_n_neurons"][0]
    assert search.n_iter_ >= 1 and search.duality_gap_ <= search.tol

    def plain(alpha):
        return Estimator(n_patterns=20, alpha=alpha, random_state=search._gate_seed,
                         tol=1e-6, **extra)

    # The grid starts where the network on all the data is zero (folds differ a bit).
    assert plain(search.alphas_[0] * (1 + 1e-9)).fit(X, y).n_neurons_ == 0
    # Cold fits with the same gates, alpha by alpha: the same programs, the same scores.
    cold = GridSearchCV(plain(1.0), {"alpha": search.alphas_}, cv=splitter).fit(X, y)
    np.testing.assert_allclose(results["mean_test_score"],
                               cold.cv_results_["mean_test_score"], atol=0.02)

    # The refit is the plain estimator at alpha_ on all the data.
    plain = plain(search.alpha_).fit(X, y)
    assert search.objective_ == pytest.approx(plain.objective_, rel=1e-5)
    np.testing.assert_allclose(search.predict(X[:10]), plain.predict(X[:10]), atol=1e-6)


def test_cv_folds_in_parallel_give_the_same_result():
    X, y = _classification(2)
    kwargs = dict(n_patterns=15, alphas=4, cv=3, random_state=0)
    serial = GatedReLUClassifierCV(**kwargs).fit(X, y)
    parallel = GatedReLUClassifierCV(**kwargs, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(serial.cv_results_["mean_test_score"],
                               parallel.cv_results_["mean_test_score"])
    assert serial.alpha_ == parallel.alpha_


def test_cv_grid_top_is_alpha_max_and_given_alphas_are_sorted():
    X, y = _regression()
    search = GatedReLURegressorCV(n_patterns=20, alphas=3, cv=3, random_state=0).fit(X, y)
    gates = search._sample_gates(X, np.ones(len(X)))
    # the program fits y over its scale (target_scale_)
    top = alpha_max(add_intercept_column(X), (y - y.mean()) / search.target_scale_, gates)
    assert search.alphas_[0] == pytest.approx(top)
    given = GatedReLURegressorCV(n_patterns=20, alphas=[0.01, 0.1], cv=3,
                                 random_state=0).fit(X, y)
    np.testing.assert_array_equal(given.alphas_, [0.1, 0.01])
    with pytest.raises(ValueError, match="alphas must be positive"):
        GatedReLURegressorCV(alphas=[0.1, -1.0]).fit(X, y)


def test_cv_with_a_scoring_string_and_warns_for_unconverged_folds():
    X, y = _classification(2)
    search = GatedReLUClassifierCV(n_patterns=15, alphas=3, cv=3, scoring="neg_log_loss",
                                   random_state=0).fit(X, y)
    assert np.all(search.cv_results_["mean_test_score"] < 0)
    with pytest.warns(ConvergenceWarning, match="fold fits stopped at max_iter"):
        GatedReLUClassifierCV(n_patterns=15, alphas=3, cv=3, max_iter=1, tol=1e-12,
                              random_state=0).fit(X, y)


def test_relu_warm_start_with_gated_patterns_reaches_the_cold_optimum():
    X, y = _regression()
    warm = ConvexReLURegressor(n_patterns=20, alpha=1e-1, random_state=0, tol=1e-6,
                               warm_start=True).fit(X, y)
    for alpha in [3e-2, 1e-2, 3e-3]:
        warm.set_params(alpha=alpha).fit(X, y)
        cold = ConvexReLURegressor(n_patterns=20, alpha=alpha, random_state=0,
                                   tol=1e-6).fit(X, y)
        # The warm fit solves the cold fit's program (up to the gated units, solved to
        # tol from another start), from the previous weights.
        assert warm.objective_ == pytest.approx(cold.objective_, rel=1e-5)
        assert warm.duality_gap_ <= 1e-6 and warm.constraint_violation_ <= 1e-10


def test_relu_warm_path_takes_no_more_iterations_than_cold_fits(monkeypatch):
    # Every FISTA iteration counts: the gated solve that proposes patterns and the
    # ReLU solve, on a decreasing 10-alpha path of 60 x 4 data.
    rng = np.random.RandomState(0)
    X = rng.randn(60, 4)
    y = np.maximum(X[:, 0], 0) - X[:, 1] + 0.1 * rng.randn(60)
    counted = []
    # Every gated and ReLU solve of the estimator goes through this one method.
    solve = GroupLassoProgram.solve_validated

    def counting(*args, **kwargs):
        solution = solve(*args, **kwargs)
        counted.append(solution.n_iter)
        return solution

    monkeypatch.setattr(GroupLassoProgram, "solve_validated", counting)
    alphas = np.geomspace(1e-1, 1e-4, 10)
    warm = ConvexReLURegressor(n_patterns=40, random_state=0, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for alpha in alphas:
            warm.set_params(alpha=alpha).fit(X, y)
        warm_iterations = sum(counted)
        counted.clear()
        for alpha in alphas:
            ConvexReLURegressor(n_patterns=40, random_state=0, alpha=alpha).fit(X, y)
        cold_iterations = sum(counted)
    assert 0 < warm_iterations <= cold_iterations


def test_secant_prediction_is_exact_on_a_path_linear_in_log_alpha():
    from skconvexnn._path import secant_prediction

    alphas = np.array([1.0, 0.5, 0.125])
    slope, offset = np.array([[2.0, -1.0]]), np.array([[0.5, 3.0]])

    def solution(alpha):
        return offset + slope * np.log(alpha)

    predicted = secant_prediction(alphas[:2], [solution(a) for a in alphas[:2]], alphas[2])
    np.testing.assert_allclose(predicted, solution(alphas[2]))
