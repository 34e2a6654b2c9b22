"""The SDP relaxation: its reduced form, our splitting's certified bound, rounding, and
the estimators (mathematics in skconvexnn/sdp.py)."""

import warnings

import cvxpy as cp
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler

from skconvexnn import (ConvexReLUClassifier, ConvexReLURegressor, GatedReLURegressor,
                        SDPRelaxationClassifier, SDPRelaxationRegressor, relu_lower_bound,
                        solve_relu, solve_sdp_relaxation)
from skconvexnn.patterns import add_intercept_column, sample_gates
from skconvexnn.sdp import SDPRelaxation, round_to_network


def _data(n=10, d=2, c=1, seed=0, bias=True):
    """Standardized inputs (with the ones column of a hidden bias) and nonlinear targets."""
    rng = np.random.default_rng(seed)
    X = StandardScaler().fit_transform(rng.standard_normal((n, d)))
    if c == 1:
        Y = np.sign(np.sin(3 * X[:, :1]) * X[:, 1:2] + 0.1)
    else:
        teacher = rng.standard_normal((d, 5))
        Y = np.maximum(X @ teacher, 0) @ rng.standard_normal((5, c)) / 3
    return (add_intercept_column(X) if bias else X), Y


def _seed_formulation(X, Y, alpha):
    """The seed's own (unreduced) program in CVXPY: Lambda of size 2n + d + c with
    M Lambda M^T = 0; in the library's scaling (divided by n c, beta = n c alpha).

    That program has no strictly feasible point (``M Lambda M^T = 0`` pins a face of the
    PSD cone), so interior-point solvers end "inaccurate" on it (Clarabel misses the
    optimum by 0.4% at n = 6); SCS run to a tight tolerance gets within 1e-4.
    """
    n, d = X.shape
    c = Y.shape[1]
    p = 2 * n + d + c
    beta = n * c * alpha
    L = cp.Variable((p, p), PSD=True)
    M = np.hstack([-np.eye(n), np.eye(n), X, np.zeros((n, c))])
    a, b, u, v = (slice(0, n), slice(n, 2 * n), slice(2 * n, 2 * n + d),
                  slice(2 * n + d, p))
    constraints = [M @ L @ M.T == 0, cp.diag(L[a, b]) == 0, L[a, a] >= 0, L[a, b] >= 0,
                   L[b, b] >= 0]
    objective = (0.5 * cp.sum_squares(L[a, v] - Y)
                 + beta / 2 * (cp.trace(L[u, u]) + cp.trace(L[v, v])))
    problem = cp.Problem(cp.Minimize(objective), constraints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "optimal_inaccurate", explained above
        problem.solve(solver=cp.SCS, eps_abs=1e-9, eps_rel=1e-9, max_iters=200000)
    return problem.value / (n * c), M


def test_reduced_form_equals_the_seed_formulation():
    X, Y = _data(n=6)
    alpha = 0.02
    reduced = solve_sdp_relaxation(X, Y, alpha, fit_output_bias=False, solver="clarabel")
    seed_value, M = _seed_formulation(X, Y, alpha)
    assert reduced.lower_bound == pytest.approx(seed_value, rel=1e-4)
    # The reduced optimum is a point of the seed's program, of the same value: Lambda in
    # the seed's coordinates satisfies M Lambda = 0, the complementarity and the signs.
    program = SDPRelaxation(X, Y, alpha, fit_output_bias=False)
    F = reduced.factor.copy()
    F[:2 * len(X)] *= program.input_scale
    F[2 * len(X) + X.shape[1]:] *= program.output_scale
    Lam = F @ F.T
    n = len(X)
    assert np.abs(M @ Lam).max() < 1e-9 * np.abs(Lam).max()
    assert np.abs(np.diag(Lam[:n, n:2 * n])).max() < 1e-6 * np.abs(Lam).max()
    assert Lam[:2 * n, :2 * n].min() > -1e-6 * np.abs(Lam).max()
    seed_objective = (0.5 * np.sum((Lam[:n, -1:] - Y) ** 2)
                      + program.beta / 2 * np.trace(Lam[2 * n:, 2 * n:])) / n
    assert seed_objective == pytest.approx(reduced.lower_bound, rel=1e-5)


@pytest.mark.parametrize("c, fit_output_bias, weighted", [(1, False, False),
                                                          (1, True, True),
                                                          (2, True, False)])
def test_splitting_bound_matches_clarabel(c, fit_output_bias, weighted):
    X, Y = _data(n=10, c=c, seed=c)
    weights = np.random.default_rng(1).uniform(0.5, 2.0, len(X)) if weighted else None
    options = dict(sample_weight=weights, fit_output_bias=fit_output_bias)
    reference = solve_sdp_relaxation(X, Y, 0.01, solver="clarabel", **options)
    ours = solve_sdp_relaxation(X, Y, 0.01, tol=1e-7, max_iter=20000, **options)
    # A certificate: never above the optimum (up to Clarabel's own tolerance) ...
    assert ours.lower_bound <= reference.lower_bound * (1 + 1e-7)
    # ... and, run long enough, equal to it.
    assert ours.lower_bound == pytest.approx(reference.lower_bound, rel=1e-5)


def test_bound_holds_where_the_splitting_stops_early():
    X, Y = _data(n=10, c=2, seed=3)
    reference = solve_sdp_relaxation(X, Y, 0.01, solver="clarabel")
    for max_iter in (1, 30, 200):
        with pytest.warns(ConvergenceWarning, match="certified but may be loose"):
            early = solve_sdp_relaxation(X, Y, 0.01, max_iter=max_iter)
        assert 0 <= early.lower_bound <= reference.lower_bound * (1 + 1e-7)
        assert not early.converged


def test_bound_is_below_every_network_tried():
    X, Y = _data(n=12, c=1, seed=4)
    alpha = 0.01
    bound = solve_sdp_relaxation(X, Y, alpha, max_iter=3000).lower_bound
    program = SDPRelaxation(X, Y, alpha)
    # The exact ReLU program on many patterns (its network has a fixed output bias).
    offset = Y.mean(axis=0)
    gates = sample_gates(X[:, :-1], 2000, random_state=0)
    relu = solve_relu(X, Y - offset, gates, alpha)
    assert bound <= relu.objective
    # Networks trained by gradient descent from many starts, and rounded ones.
    rng = np.random.default_rng(0)
    for width in (1, 3, 10):
        for _ in range(3):
            U = rng.standard_normal((X.shape[1], width))
            V = rng.standard_normal((1, width))
            factor = np.vstack([np.maximum(X @ U, 0), np.maximum(-X @ U, 0), U, V])
            trained = round_to_network(program, factor, width, max_iter=300)
            assert bound <= trained.objective
    mlp = MLPRegressor(hidden_layer_sizes=(20,), alpha=0.0, max_iter=2000,
                       random_state=0).fit(X[:, :-1], Y.ravel())
    U = np.vstack([mlp.coefs_[0], mlp.intercepts_[0]])
    assert bound <= program.network_objective(U, mlp.coefs_[1].T)


def test_a_lifted_network_is_feasible_with_its_own_objective():
    X, Y = _data(n=8, c=2, seed=5)
    program = SDPRelaxation(X, Y, 0.03)
    rng = np.random.default_rng(0)
    U, V = rng.standard_normal((X.shape[1], 4)), rng.standard_normal((2, 4))
    Lam = program.lift(U, V)
    n = program.n
    assert np.linalg.eigvalsh(Lam).min() > -1e-9 * np.abs(Lam).max()
    assert np.all(Lam[:2 * n, :2 * n] >= 0)
    assert np.allclose(np.diag(Lam[:n, n:2 * n]), 0)
    projected, _ = program.project_psd(Lam)  # in the range of T: the projection keeps it
    assert np.allclose(projected, Lam, atol=1e-9 * np.abs(Lam).max())
    assert program.objective(Lam) == pytest.approx(program.network_objective(U, V),
                                                   rel=1e-10)


def test_library_scaling_against_the_seed_scaling():
    """The relaxation in the library's scaling is the seed's divided by n c at
    beta = n c alpha: the values agree for two alphas (to the seed form's accuracy)."""
    X, Y = _data(n=6, c=2, seed=6)
    n, c = Y.shape
    for alpha in (0.01, 0.1):
        ours = solve_sdp_relaxation(X, Y, alpha, fit_output_bias=False,
                                    solver="clarabel").lower_bound
        assert ours == pytest.approx(_seed_formulation(X, Y, alpha)[0], rel=1e-4)
        assert SDPRelaxation(X, Y, alpha).beta == pytest.approx(n * c * alpha)


def test_relu_lower_bound_certifies_a_fitted_estimator():
    X, Y = _data(n=14, c=1, seed=7, bias=False)
    y = Y.ravel()
    model = ConvexReLURegressor(alpha=0.01, n_patterns=300, random_state=0).fit(X, y)
    result = relu_lower_bound(model, X, y, max_iter=4000)
    assert 0 < result.lower_bound <= model.objective_
    classifier = ConvexReLUClassifier(alpha=0.01, loss="squared_error", n_patterns=300,
                                      random_state=0).fit(X, y > 0)
    bound = relu_lower_bound(classifier, X, y > 0, max_iter=4000).lower_bound
    assert 0 < bound <= classifier.objective_
    with pytest.raises(ValueError, match="squared loss"):
        relu_lower_bound(ConvexReLUClassifier(n_patterns=10).fit(X, y > 0), X, y > 0)
    with pytest.raises(ValueError, match="ConvexReLURegressor"):
        relu_lower_bound(GatedReLURegressor(n_patterns=10).fit(X, y), X, y)
    with pytest.raises(ValueError, match="features"):
        relu_lower_bound(model, X[:, :1], y)


@pytest.mark.parametrize("Estimator", [SDPRelaxationRegressor, SDPRelaxationClassifier])
def test_estimator_bounds_its_own_network(Estimator):
    X, Y = _data(n=16, c=1, seed=8, bias=False)
    y = Y.ravel() > 0 if Estimator is SDPRelaxationClassifier else Y.ravel()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = Estimator(alpha=0.01, max_iter=3000, random_state=0).fit(X, y)
    assert 0 < model.lower_bound_ <= model.objective_
    assert model.objective_ == min(model.rounded_objective_, model.relu_objective_)
    assert model.global_gap_ == pytest.approx(
        (model.objective_ - model.lower_bound_) / model.objective_)
    # objective_ is the exported network's own objective on the training data.
    targets = (2.0 * y - 1.0) if Estimator is SDPRelaxationClassifier else y
    outputs = np.maximum(X @ model.coefs_[0] + model.intercepts_[0], 0) @ model.coefs_[1]
    outputs += model.intercepts_[1]
    decay = sum(np.sum(W ** 2) for W in model.coefs_) + np.sum(model.intercepts_[0] ** 2)
    own = np.mean((outputs.ravel() - targets) ** 2) / 2 + 0.01 / 2 * decay
    assert own == pytest.approx(model.objective_, rel=1e-8)
    assert model.score(X, y) > 0.7


def test_estimator_errors():
    X, Y = _data(n=8, bias=False)
    with pytest.raises(ValueError, match="alpha"):
        SDPRelaxationRegressor(alpha=0).fit(X, Y.ravel())
    with pytest.raises(ValueError, match="solver"):
        SDPRelaxationRegressor(solver="mosek").fit(X, Y.ravel())
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SDPRelaxationRegressor().fit(bad, Y.ravel())
    with pytest.raises(ValueError, match="at least 2 classes"):
        SDPRelaxationClassifier().fit(X, np.ones(len(X)))
    with pytest.raises(ValueError, match="alpha must be positive"):
        solve_sdp_relaxation(X, Y, -1.0)
    with pytest.raises(ValueError, match="solver must be one of"):
        solve_sdp_relaxation(X, Y, 0.1, solver="mosek")
    with pytest.raises(ValueError, match="width"):
        round_to_network(SDPRelaxation(X, Y, 0.1), np.ones((2 * 8 + 2 + 1, 1)), 0)


def test_integer_weights_equal_repeated_rows():
    # Repeated rows have interchangeable lifted coordinates, so averaging them maps any
    # point of the repeated program to one of the weighted program of the same value.
    X, Y = _data(n=8, c=1, seed=9)
    weights = np.array([2, 1, 3, 1, 1, 2, 1, 1], dtype=float)
    weighted = solve_sdp_relaxation(X, Y, 0.01, sample_weight=weights, solver="clarabel")
    repeat = np.repeat(np.arange(len(X)), weights.astype(int))
    repeated = solve_sdp_relaxation(X[repeat], Y[repeat], 0.01, solver="clarabel")
    assert weighted.lower_bound == pytest.approx(repeated.lower_bound, rel=1e-5)
