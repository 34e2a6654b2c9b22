"""Three-layer networks: the gated and exact programs against CVXPY + Clarabel, their
networks, certificates and estimators."""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skconvexnn import (ThreeLayerConvexReLUClassifier, ThreeLayerConvexReLURegressor,
                        ThreeLayerGatedReLUClassifier, ThreeLayerGatedReLURegressor,
                        solve_gated_relu, solve_three_layer_gated_relu,
                        solve_three_layer_relu)
from skconvexnn.network import three_layer_forward, three_layer_relu_network
from skconvexnn.patterns import composite_patterns, second_layer_scores

cp = pytest.importorskip("cvxpy", reason="CVXPY (test extra) checks the optimum")
from cvxpy_datafits import data_term  # noqa: E402 (needs cvxpy)

ALPHA = 0.02


def _problem(loss, n_outputs=1, seed=0, n=18, n_first=4, n_second=3):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, 2)), np.ones((n, 1))])
    signal = np.column_stack([np.sin(2 * X[:, 0] + k) * X[:, 1] for k in range(n_outputs)])
    if loss == "squared_error":
        Y = signal + 0.05 * rng.standard_normal(signal.shape)
    elif n_outputs == 1:
        Y = np.where(signal > 0, 1.0, -1.0)
    else:
        Y = np.eye(n_outputs)[signal.argmax(axis=1)]
    gates = rng.standard_normal((X.shape[1], n_first))
    second_gates = rng.standard_normal((n_first, n_second))
    return X, Y, gates, second_gates


def _masks(X, gates, second_gates):
    first = (X @ gates >= 0).astype(float)
    second = (second_layer_scores(X, gates, second_gates) >= 0).astype(float)
    return first, second


def cvxpy_three_layer_optimum(X, Y, gates, second_gates, alpha, loss, gated):
    """The three-layer programs with every gate's patterns, written in CVXPY."""
    n, d = X.shape
    c = Y.shape[1]
    first, second = _masks(X, gates, second_gates)
    w = np.full(n, 1.0 / n)
    constraints, penalty, outputs = [], 0, []
    for _ in range(c):
        out = 0
        for l in range(second.shape[1]):
            if gated:
                for i in range(first.shape[1]):
                    u = cp.Variable(d)
                    penalty += cp.norm(u)
                    out = out + cp.multiply(second[:, l] * first[:, i], X @ u)
                continue
            for s in (1.0, -1.0):
                H = 0
                for i in range(first.shape[1]):
                    for sigma in (1.0, -1.0):
                        z = cp.Variable(d)
                        penalty += cp.norm(z)
                        constraints.append(cp.multiply(2 * first[:, i] - 1, X @ z) >= 0)
                        H = H + sigma * cp.multiply(first[:, i], X @ z)
                constraints.append(s * cp.multiply(2 * second[:, l] - 1, H) >= 0)
                out = out + cp.multiply(second[:, l], H)
        outputs.append(out)
    F = cp.vstack(outputs).T if c > 1 else outputs[0]
    problem = cp.Problem(cp.Minimize(data_term(F, Y, w, loss) + alpha * penalty),
                         constraints)
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
    assert problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
    return problem.value


CASES = [("squared_error", 1), ("squared_error", 2), ("log_loss", 1), ("log_loss", 3)]


@pytest.mark.parametrize("loss, n_outputs", CASES)
def test_three_layer_gated_optimum_matches_cvxpy(loss, n_outputs):
    X, Y, gates, second_gates = _problem(loss, n_outputs)
    expected = cvxpy_three_layer_optimum(X, Y, gates, second_gates, ALPHA, loss, gated=True)
    solution = solve_three_layer_gated_relu(X, Y, gates, second_gates, ALPHA, loss=loss,
                                            tol=1e-9, max_iter=50000)
    assert solution.converged
    assert solution.objective == pytest.approx(expected, rel=1e-6)
    # The certificate bounds the distance to the optimum.
    assert solution.objective - expected <= solution.duality_gap * solution.objective + 1e-9


@pytest.mark.parametrize("loss, n_outputs", CASES)
def test_three_layer_relu_optimum_matches_cvxpy(loss, n_outputs):
    X, Y, gates, second_gates = _problem(loss, n_outputs)
    expected = cvxpy_three_layer_optimum(X, Y, gates, second_gates, ALPHA, loss,
                                         gated=False)
    solution = solve_three_layer_relu(X, Y, gates, second_gates, ALPHA, loss=loss,
                                      tol=1e-6, max_iter=100000)
    assert solution.converged
    assert solution.objective == pytest.approx(expected, rel=1e-6)
    assert solution.objective - expected <= solution.duality_gap * solution.objective + 1e-9
    # The lower bound is a lower bound.
    assert solution.dual_objective <= expected * (1 + 1e-8)


def test_three_layer_relu_certificate_at_an_early_stop_bounds_the_optimum():
    X, Y, gates, second_gates = _problem("log_loss")
    expected = cvxpy_three_layer_optimum(X, Y, gates, second_gates, ALPHA, "log_loss",
                                         gated=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for max_iter in (100, 400, 1500):
            solution = solve_three_layer_relu(X, Y, gates, second_gates, ALPHA,
                                              loss="log_loss", tol=1e-12,
                                              max_iter=max_iter)
            assert solution.dual_objective <= expected * (1 + 1e-8)
            # The objective is the network's own: never below what the gap allows.
            assert solution.objective - expected <= (
                solution.duality_gap * solution.objective + 1e-12)


def _convex_model_output(X, weights, first, second):
    """``sum_{s, l} D_{2,l} sum_{sigma, i} sigma D_{1,i} X z`` from the weights and masks."""
    out = 0
    for s in range(2):
        for l in range(weights.shape[2]):
            H = sum((1 - 2 * sigma) * first[:, i:i + 1] * (X @ weights[s, sigma, l, :, i, :])
                    for sigma in range(2) for i in range(weights.shape[4]))
            out = out + second[:, l:l + 1] * H
    return out


@pytest.mark.parametrize("loss, n_outputs", [("squared_error", 2), ("log_loss", 1)])
def test_three_layer_network_is_the_convex_model_with_its_objective(loss, n_outputs):
    X, Y, gates, second_gates = _problem(loss, n_outputs, n=24)
    solution = solve_three_layer_relu(X, Y, gates, second_gates, ALPHA, loss=loss,
                                      tol=1e-9, max_iter=100000)
    first, second = _masks(X, gates, second_gates)
    network = three_layer_relu_network(solution.weights, fit_intercept=False)
    output = three_layer_forward(X, network)
    np.testing.assert_allclose(output, _convex_model_output(X, solution.weights, first,
                                                            second), atol=1e-8)
    W1, W2, W3 = network.coefs
    assert W1.shape[1] == W2.shape[0] and W2.shape[1] == W3.shape[0]
    # Every sub-network's first layer is on the unit sphere...
    for q in range(W2.shape[1]):
        units = W2[:, q] != 0
        assert np.linalg.norm(W1[:, units]) == pytest.approx(1.0, rel=1e-12)
    # ... and the network's loss plus its decay of the last two layers, which equals
    # alpha times its path norm, is the convex objective.
    from skconvexnn.losses import make_loss
    data = make_loss(loss, Y).value(output)
    decay = ALPHA / 2 * (np.sum(W2 ** 2) + np.sum(W3 ** 2))
    path = ALPHA * np.sum(np.linalg.norm(W1, axis=0)[:, None, None] * np.abs(W2)[:, :, None]
                          * np.abs(W3)[None, :, :])
    assert data + decay == pytest.approx(solution.objective, rel=1e-8)
    assert data + path == pytest.approx(solution.objective, rel=1e-8)


def _train_parallel_network(X, y, alpha, n_sub, n_units, seed):
    """A parallel three-layer network ``sum_q w3_q ((X W1_q)_+ w2_q)_+`` trained by
    L-BFGS from a random start on its loss plus ``alpha`` times its path norm."""
    rng = np.random.default_rng(seed)
    n, d = X.shape
    shapes = [(n_sub, d, n_units), (n_sub, n_units), (n_sub,)]
    sizes = [int(np.prod(s)) for s in shapes]

    def unpack(theta):
        parts = np.split(theta, np.cumsum(sizes)[:-1])
        return [p.reshape(s) for p, s in zip(parts, shapes)]

    def objective(theta):
        W1, w2, w3 = unpack(theta)
        hidden = np.maximum(np.einsum("nd,qdj->nqj", X, W1), 0)
        pre = np.einsum("nqj,qj->nq", hidden, w2)
        out = np.maximum(pre, 0) @ w3
        path = np.sum(np.linalg.norm(W1, axis=1) * np.abs(w2) * np.abs(w3)[:, None])
        return 0.5 * np.mean((out - y) ** 2) + alpha * path

    theta = minimize(objective, rng.standard_normal(sum(sizes)), method="L-BFGS-B",
                     options={"maxiter": 3000}).x
    return objective(theta), unpack(theta)


def test_convex_optimum_is_no_worse_than_a_trained_network_on_its_own_patterns():
    """A trained network is a feasible point of the program over its own patterns (its
    first two layers as the gate network): the optimum there is at most its objective."""
    rng = np.random.default_rng(1)
    X = np.hstack([rng.standard_normal((40, 2)), np.ones((40, 1))])
    y = np.maximum(np.maximum(X @ [1.0, -1.0, 0.2], 0) - np.maximum(X @ [0.5, 1.0, -0.3], 0),
                   0) + 0.05 * rng.standard_normal(40)
    alpha = 1e-3
    trained, (W1, w2, w3) = _train_parallel_network(X, y, alpha, n_sub=3, n_units=4, seed=0)
    # Sub-network q's units feed only its own second-layer unit.
    gates = np.hstack(list(W1))
    second_gates = np.zeros((gates.shape[1], len(w3)))
    for q in range(len(w3)):
        second_gates[q * W1.shape[2]:(q + 1) * W1.shape[2], q] = w2[q]
    solution = solve_three_layer_relu(X, y, gates, second_gates, alpha, tol=1e-6,
                                      max_iter=100000)
    assert solution.converged
    assert solution.objective <= trained * (1 + 1e-6)


def test_three_layer_gated_with_an_all_ones_second_layer_is_the_two_layer_program():
    X, Y, gates, _ = _problem("squared_error", 2, n=40)
    # Positive second-layer gates on non-negative features: every row on.
    second_gates = np.abs(np.random.default_rng(3).standard_normal((gates.shape[1], 1)))
    three = solve_three_layer_gated_relu(X, Y, gates, second_gates, ALPHA, tol=1e-10)
    two = solve_gated_relu(X, Y, gates, ALPHA, tol=1e-10)
    assert three.objective == pytest.approx(two.objective, rel=1e-8)
    np.testing.assert_allclose(three.weights[0], two.weights, atol=1e-6)


def test_composite_patterns_are_the_distinct_products_of_both_layers():
    X, _, gates, second_gates = _problem("squared_error", n=50)
    mask, keep = composite_patterns(X, gates, second_gates)
    first, second = _masks(X, gates, second_gates)
    products = (second[:, :, None] * first[:, None, :]).reshape(len(X), -1)
    np.testing.assert_array_equal(mask, products[:, keep])
    distinct = {col.tobytes() for col in products.T.astype(np.uint8) if col.any()}
    assert len(keep) == len(distinct)


# --- estimators ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X)[::3], y[::3]


def test_three_layer_relu_classifier_exports_an_mlp_with_two_hidden_layers(breast_cancer):
    X, y = breast_cancer
    clf = ThreeLayerConvexReLUClassifier(n_patterns=(6, 3), random_state=0).fit(X, y)
    assert clf.converged_ and clf.duality_gap_ <= clf.tol
    assert clf.n_layers_ == 4 and len(clf.coefs_) == 3
    assert clf.n_neurons_ == (clf.coefs_[0].shape[1], clf.coefs_[1].shape[1])
    assert clf.score(X, y) > 0.9
    mlp = clf.to_mlp()
    assert mlp.hidden_layer_sizes == clf.n_neurons_
    np.testing.assert_array_equal(mlp.predict(X), clf.predict(X))
    np.testing.assert_allclose(mlp.predict_proba(X), clf.predict_proba(X), atol=1e-12)


def test_three_layer_relu_regressor_predicts_in_the_units_of_y():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = np.maximum(np.maximum(X[:, 0], 0) - X[:, 1], 0)
    small = ThreeLayerConvexReLURegressor(n_patterns=(4, 2), random_state=0,
                                          tol=1e-4).fit(X, y)
    large = ThreeLayerConvexReLURegressor(n_patterns=(4, 2), random_state=0,
                                          tol=1e-4).fit(X, 1000 * y + 500)
    # The same program on y / target_scale_, each solved to 1e-4.
    assert small.converged_ and large.converged_
    np.testing.assert_allclose(large.predict(X), 1000 * small.predict(X) + 500, rtol=2e-3)
    np.testing.assert_allclose(small.to_mlp().predict(X), small.predict(X), atol=1e-10)
    assert large.objective_ == pytest.approx(small.objective_, rel=2e-4)


@pytest.mark.parametrize("Estimator", [ThreeLayerGatedReLUClassifier,
                                       ThreeLayerConvexReLUClassifier])
def test_three_layer_classifiers_on_wine_in_a_grid_search(Estimator):
    X, y = load_wine(return_X_y=True)
    search = GridSearchCV(make_pipeline(StandardScaler(),
                                        Estimator(n_patterns=(6, 3), random_state=0)),
                          {f"{Estimator.__name__.lower()}__alpha": [1e-2, 1e-3]}, cv=2)
    search.fit(X, y)
    assert search.best_score_ > 0.9


def test_three_layer_gated_regressor_certifies_and_reports_its_patterns():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 3))
    y = np.maximum(np.maximum(X[:, 0], 0) - X[:, 1], 0)
    reg = ThreeLayerGatedReLURegressor(n_patterns=(10, 4), random_state=0).fit(X, y)
    assert reg.converged_ and reg.duality_gap_ <= reg.tol
    assert reg.convex_coef_.shape == (4, 4, 10, 1)
    assert reg.second_gates_.shape == (10, 4)
    assert 0 < reg.n_patterns_ <= 40
    assert len(reg.hidden_pattern_) == reg.n_neurons_


@pytest.mark.parametrize("Estimator", [ThreeLayerGatedReLUClassifier,
                                       ThreeLayerConvexReLUClassifier])
@pytest.mark.parametrize("n_patterns", [(3,), (3, 0), (3, 2, 1), 5, (2.5, 2), "ab"])
def test_bad_pattern_counts_are_refused_before_any_work(Estimator, n_patterns):
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match="n_patterns"):
        Estimator(n_patterns=n_patterns).fit(X, y)


def test_three_layer_relu_refuses_the_reweighting_solver():
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ValueError, match="reweighting"):
        ThreeLayerConvexReLUClassifier(n_patterns=(3, 2), solver="reweighting",
                                       loss="squared_error").fit(X, y)


def test_same_seed_same_gate_network_and_fit(breast_cancer):
    X, y = breast_cancer
    first = ThreeLayerGatedReLUClassifier(n_patterns=(5, 3), random_state=4).fit(X, y)
    second = ThreeLayerGatedReLUClassifier(n_patterns=(5, 3), random_state=4).fit(X, y)
    np.testing.assert_array_equal(first.gates_, second.gates_)
    np.testing.assert_array_equal(first.second_gates_, second.second_gates_)
    np.testing.assert_array_equal(first.convex_coef_, second.convex_coef_)


@pytest.mark.parametrize("solve", [solve_three_layer_gated_relu, solve_three_layer_relu])
def test_a_gate_network_that_does_not_fit_is_refused(solve):
    X, Y, gates, second_gates = _problem("squared_error")
    with pytest.raises(ValueError, match="one row per gate"):
        solve(X, Y, gates, second_gates[:-1], ALPHA)
    bad = second_gates.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite 2-D"):
        solve(X, Y, gates, bad, ALPHA)
    with pytest.raises(ValueError, match="finite 2-D"):
        solve(X, Y, gates, second_gates[:, 0], ALPHA)
