"""The kernel view of the gated program: the reweighting solver against FISTA and
CVXPY + Clarabel, the multiple-kernel objective, and the kernels in scikit-learn's
kernel machines."""

import tracemalloc

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import WhiteKernel
from sklearn.kernel_ridge import KernelRidge
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from skconvexnn import (ConvexReLURegressor, GatedReLUClassifier, GatedReLURegressor,
                        MemoryBudgetError, config_context, path, solve_gated_relu,
                        solve_relu)
from skconvexnn.kernels import (ArcCosineNTK, GatedReLUKernel, mkl_objective, ntk_weights,
                                reweight)
from skconvexnn.patterns import add_intercept_column

ALPHA = 1e-2


def _regression(n=60, d=3, n_gates=40, n_outputs=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Y = np.column_stack([np.sin(2 * X[:, k % d]) + X[:, (k + 1) % d] ** 2
                         for k in range(n_outputs)]) + 0.1 * rng.standard_normal((n, n_outputs))
    gates = rng.standard_normal((d + 1, n_gates))
    return X, Y, gates


def _optimal_weights(solution, n_gates):
    """``eta_jk = ||u_jk||`` in the layout of all the gates."""
    eta = np.zeros((n_gates, solution.weights.shape[2]))
    eta[solution.gate_indices] = np.linalg.norm(solution.weights, axis=0)
    return eta


# --- the solver ---------------------------------------------------------------------

@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
def test_reweighting_matches_cvxpy(n_outputs, fit_intercept):
    pytest.importorskip("cvxpy", reason="CVXPY (test extra) checks the optimum")
    from test_functional import _problem, cvxpy_optimum

    X, Y, gates = _problem("squared_error", n_outputs, fit_intercept)
    sol = solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting", tol=1e-10, max_iter=200)
    assert sol.converged and sol.n_active > 0
    assert sol.objective == pytest.approx(cvxpy_optimum(X, Y, gates, ALPHA, "squared_error"),
                                          rel=1e-6)
    assert sol.n_iter < 200


def test_weighted_reweighting_matches_cvxpy():
    pytest.importorskip("cvxpy", reason="CVXPY (test extra) checks the optimum")
    from test_functional import _problem, cvxpy_optimum

    X, Y, gates = _problem("squared_error", 2, True, seed=3)
    w = np.random.default_rng(3).integers(0, 4, size=len(X)).astype(float)
    sol = solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting", sample_weight=w,
                           tol=1e-10, max_iter=200)
    reference = cvxpy_optimum(X, Y, gates, ALPHA, "squared_error", sample_weight=w)
    assert sol.objective == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize("n, n_gates, alpha", [(60, 300, 1e-2), (100, 2000, 1e-3)])
def test_reweighting_matches_the_working_set_with_many_patterns(n, n_gates, alpha):
    # The second case stalled an undamped Newton iteration (its Hessian has rank <= n).
    X, Y, gates = _regression(n=n, n_gates=n_gates, n_outputs=2, seed=1)
    X = add_intercept_column(X)
    newton = solve_gated_relu(X, Y, gates, alpha, solver="reweighting", tol=1e-9,
                              max_iter=500)
    fista = solve_gated_relu(X, Y, gates, alpha, solver="working_set", tol=1e-7,
                             max_iter=200000)
    assert newton.converged and newton.n_iter < 100
    # Both certified: each objective is within its gap of the optimum.
    assert newton.objective == pytest.approx(fista.objective, rel=1e-6)
    assert newton.objective <= fista.objective * (1 + 1e-9)


def test_reweighting_certificate_bounds_an_early_stop():
    X, Y, gates = _regression(n_outputs=2, seed=2)
    X = add_intercept_column(X)
    optimum = solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting", tol=1e-12).objective
    for max_iter in (1, 2, 3, 5):
        sol = solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting", tol=1e-12,
                               max_iter=max_iter)
        assert np.isfinite(sol.duality_gap)
        assert sol.objective - optimum <= sol.duality_gap * sol.objective + 1e-12


def test_reweighting_keeps_float32_and_sparse_input():
    X, Y, gates = _regression(n=80, seed=3)
    X = add_intercept_column(X)
    reference = solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting", tol=1e-10)
    single = solve_gated_relu(X.astype(np.float32), Y, gates, ALPHA, solver="reweighting",
                              tol=1e-5)
    assert single.converged and single.weights.dtype == np.float32
    assert single.objective - reference.objective <= single.duality_gap * single.objective + 1e-7
    X_sparse = sparse.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    from_sparse = solve_gated_relu(X_sparse, Y, gates, ALPHA, solver="reweighting", tol=1e-10)
    dense = solve_gated_relu(X_sparse.toarray(), Y, gates, ALPHA, solver="reweighting",
                             tol=1e-10)
    assert from_sparse.objective == pytest.approx(dense.objective, rel=1e-8)


def test_reweighting_is_refused_where_it_does_not_apply():
    X, Y, gates = _regression()
    X = add_intercept_column(X)
    with pytest.raises(ValueError, match="squared-error"):
        solve_gated_relu(X, np.sign(Y), gates, ALPHA, loss="log_loss", solver="reweighting")
    with pytest.raises(ValueError, match="only the gated and three_layer_gated programs"):
        solve_relu(X, Y, gates, ALPHA, solver="reweighting")
    with pytest.raises(ValueError, match="only the gated and three_layer_gated programs"):
        ConvexReLURegressor(solver="reweighting").fit(X, Y[:, 0])


def test_auto_is_reweighting_for_small_squared_loss_programs_only():
    X, Y, gates = _regression(n=60, seed=4)
    X = add_intercept_column(X)
    auto = solve_gated_relu(X, Y, gates, ALPHA, tol=1e-8)
    newton = solve_gated_relu(X, Y, gates, ALPHA, tol=1e-8, solver="reweighting")
    assert auto.n_iter == newton.n_iter and auto.objective == newton.objective
    assert auto.n_iter < 100  # Newton steps, where FISTA takes thousands
    # Not where its patterns-squared arrays would be large: 5000 gates plan 400 MB.
    many = np.random.default_rng(4).standard_normal((X.shape[1], 5000))
    fista_steps = solve_gated_relu(X, Y, many, ALPHA, max_iter=3, solver="working_set")
    newton_steps = solve_gated_relu(X, Y, many, ALPHA, max_iter=3, solver="reweighting")
    assert fista_steps.objective != newton_steps.objective
    assert solve_gated_relu(X, Y, many, ALPHA, max_iter=3).objective == fista_steps.objective
    labels = np.where(Y > np.median(Y), 1.0, -1.0)
    logistic = solve_gated_relu(X, labels, gates, ALPHA, loss="log_loss", tol=1e-8)
    assert logistic.n_iter == solve_gated_relu(X, labels, gates, ALPHA, loss="log_loss",
                                               tol=1e-8, solver="working_set").n_iter


def test_a_warm_reweighting_path_reaches_the_cold_objectives():
    X, Y, gates = _regression(n=60, n_outputs=2, seed=5)
    X = add_intercept_column(X)
    tol = 1e-9
    result = path(X, Y, gates, alphas=5, eps=1e-2, tol=tol, solver="reweighting")
    assert np.all(result.converged) and result.n_active[-1] > 0
    for alpha, objective, coef in zip(result.alphas, result.objectives, result.coefs):
        cold = solve_gated_relu(X, Y, gates, alpha, tol=tol, solver="reweighting")
        assert objective == pytest.approx(cold.objective, rel=3 * tol)
        again = solve_gated_relu(X, Y, gates, alpha, tol=tol, coef_init=coef,
                                 solver="reweighting")
        assert again.n_iter <= 1


def test_reweighting_memory_is_planned():
    X, Y, gates = _regression(n=400, n_gates=50)
    X = add_intercept_column(X)
    solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting", max_iter=3)
    tracemalloc.start()
    try:
        solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting", max_iter=5)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n = len(X)
    # Its n x n matrices dominate; the plan counts three of them and the budget them.
    assert peak <= 4 * n * n * 8 + 4e6
    with config_context(memory_budget=2 * n * n * 8), \
            pytest.raises(MemoryBudgetError, match="MKL kernel matrices"):
        solve_gated_relu(X, Y, gates, ALPHA, solver="reweighting")


# --- the multiple-kernel objective ----------------------------------------------------

def _tables():
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes", X[:200], (y[:200] - y.mean()) / y.std()
    for name, load in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
        X, y = load(return_X_y=True)
        classes = np.unique(y)
        yield name, X[::3], (y[::3, None] == classes).astype(float)  # one-hot targets
    X, Y, _ = _regression(n=80, n_outputs=2, seed=4)
    yield "random", X, Y


TABLES = list(_tables())


@pytest.mark.parametrize("name, X, Y", TABLES, ids=[table[0] for table in TABLES])
def test_the_ntk_never_beats_the_optimal_kernel_and_reweighting_descends(name, X, Y):
    X = StandardScaler().fit_transform(X)
    Y = Y.reshape(len(Y), -1)
    gates = np.random.default_rng(0).standard_normal((X.shape[1] + 1, 60))
    Xa = add_intercept_column(X)
    sol = solve_gated_relu(Xa, Y, gates, ALPHA, solver="reweighting", tol=1e-10)
    optimum = mkl_objective(X, Y, gates, _optimal_weights(sol, gates.shape[1]), ALPHA)
    # At eta = ||u|| the kernel objective is the program's optimum ...
    assert optimum == pytest.approx(sol.objective, rel=1e-8)
    # ... below the NTK's, at its own scale and at any other.
    for scale in (1e-2, 1.0, 1e2):
        assert mkl_objective(X, Y, gates, scale * ntk_weights(gates), ALPHA) > optimum
    weights, objectives = reweight(X, Y, gates, ALPHA, n_steps=30)
    assert weights.shape == (31, gates.shape[1], Y.shape[1])
    assert np.all(np.diff(objectives) <= 1e-12 * objectives[0])
    assert objectives[-1] >= optimum * (1 - 1e-10)
    assert objectives[-1] - optimum < 0.5 * (objectives[0] - optimum)


def test_mkl_objective_is_kernel_ridge_regression():
    X, Y, gates = _regression(n=50, n_gates=20, seed=5)
    eta = np.random.default_rng(5).uniform(0, 1, 20)
    kernel = GatedReLUKernel(gates, eta)
    # (1/2n) ||K b - y||^2 + alpha/2 b^T K b at kernel ridge's b, plus alpha/2 sum(eta).
    n = len(X)
    K = kernel(X)
    b = np.linalg.solve(K + ALPHA * n * np.eye(n), Y[:, 0])
    value = (np.sum((K @ b - Y[:, 0]) ** 2) / (2 * n) + ALPHA / 2 * b @ K @ b
             + ALPHA / 2 * eta.sum())
    assert mkl_objective(X, Y, gates, eta, ALPHA) == pytest.approx(value, rel=1e-10)
    with pytest.raises(ValueError, match="non-negative"):
        mkl_objective(X, Y, gates, -eta, ALPHA)
    with pytest.raises(ValueError, match="alpha"):
        mkl_objective(X, Y, gates, eta, 0.0)


# --- the fitted model's kernel ---------------------------------------------------------

@pytest.mark.parametrize("fit_intercept", [True, False])
def test_the_fitted_network_is_kernel_ridge_with_its_kernel(fit_intercept):
    X, Y, _ = _regression(n=120, seed=6)
    y = Y[:, 0]
    X_new = np.random.default_rng(7).standard_normal((40, X.shape[1]))
    est = GatedReLURegressor(alpha=1e-3, solver="reweighting", tol=1e-10,
                             fit_intercept=fit_intercept, random_state=0).fit(X, y)
    assert est.converged_
    assert est.kernel_weights_.shape == (est.n_patterns_, 1)
    np.testing.assert_allclose(est.kernel_weights_[:, 0],
                               np.linalg.norm(est.convex_coef_[:, :, 0], axis=0))
    # The program fits (y - output bias) / target_scale_ with alpha per mean sample.
    scale, bias = est.target_scale_, est.intercepts_[1]
    machine = KernelRidge(alpha=len(X) * est.alpha, kernel=est.kernels_[0])
    machine.fit(X, (y - bias) / scale)
    np.testing.assert_allclose(machine.predict(X_new) * scale + bias, est.predict(X_new),
                               rtol=0, atol=1e-8 * np.abs(y).max())


def test_every_output_and_solver_gets_its_kernel():
    X, Y, _ = _regression(n=80, n_outputs=3, seed=8)
    est = GatedReLURegressor(random_state=0).fit(X, Y)
    assert len(est.kernels_) == 3 and est.kernel_weights_.shape == (est.n_patterns_, 3)
    clf = GatedReLUClassifier(loss="squared_error", solver="reweighting", random_state=0)
    clf.fit(X, (Y[:, 0] > np.median(Y[:, 0])).astype(int))
    assert clf.converged_ and len(clf.kernels_) == 1
    # The default solver's kernel is the optimal one up to its tolerance.
    assert clf.score(X, (Y[:, 0] > np.median(Y[:, 0])).astype(int)) > 0.8


# --- the kernels in scikit-learn ------------------------------------------------------

def _kernels(d):
    rng = np.random.default_rng(9)
    gates = rng.standard_normal((d + 1, 50))
    return [GatedReLUKernel(gates), GatedReLUKernel(gates, rng.uniform(0, 2, 50)),
            GatedReLUKernel(gates[:d], fit_intercept=False), ArcCosineNTK(),
            ArcCosineNTK(fit_intercept=False)]


@pytest.mark.parametrize("index", range(5))
def test_kernels_are_symmetric_psd_with_their_diagonal(index):
    X = np.random.default_rng(10).standard_normal((70, 4))
    kernel = _kernels(4)[index]
    K = kernel(X)
    np.testing.assert_allclose(K, K.T, rtol=0, atol=1e-12)
    assert np.linalg.eigvalsh(K).min() >= -1e-10 * np.abs(K).max()
    np.testing.assert_allclose(kernel.diag(X), np.diag(K), rtol=1e-12)
    # (The arc-cosine kernel of a point with itself through k(X, Y) passes arccos at
    # a rounded cosine of 1: half the digits, where k(X) sets the diagonal exactly.)
    np.testing.assert_allclose(kernel(X[:10], X), K[:10], rtol=1e-7, atol=1e-14)
    K_again, gradient = kernel(X, eval_gradient=True)
    assert gradient.shape == (70, 70, 0) and np.array_equal(K_again, K)
    assert not kernel.is_stationary()
    assert clone(kernel) == kernel


@pytest.mark.parametrize("index", range(5))
def test_kernels_fit_in_scikit_learn_kernel_machines(index):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((80, 4))
    y = np.sin(2 * X[:, 0]) + X[:, 1] ** 2
    X_new = rng.standard_normal((20, 4))
    kernel = _kernels(4)[index]
    gp = GaussianProcessRegressor(kernel=kernel + WhiteKernel(1e-2, noise_level_bounds=(1e-10, 1e2)), random_state=0)
    gp.fit(X, y)
    mean, std = gp.predict(X_new, return_std=True)
    assert np.all(np.isfinite(mean)) and np.all(std > 0)
    assert gp.score(X, y) > 0.5
    labels = (y > np.median(y)).astype(int)
    assert SVC(kernel=kernel).fit(X, labels).score(X, labels) > 0.7
    ridge = KernelRidge(alpha=1e-2, kernel=kernel).fit(X, y)
    assert ridge.score(X, y) > 0.5 and ridge.predict(X_new).shape == (20,)


def test_sampled_ntk_tends_to_the_arc_cosine_kernel():
    rng = np.random.default_rng(12)
    X = rng.standard_normal((30, 3))
    gates = rng.standard_normal((4, 40000))
    sampled = GatedReLUKernel(gates)(X)
    exact = ArcCosineNTK()(X)
    # A mean of 40000 indicators: standard error <= 0.5 / 200 per entry, relative.
    scale = np.outer(*2 * [np.linalg.norm(add_intercept_column(X), axis=1)])
    assert np.abs(sampled - exact).max() / scale.max() < 0.02
    assert np.abs(sampled - exact).max() < 0.1 * np.abs(exact).max()


def test_kernels_refuse_bad_input():
    gates = np.ones((3, 5))
    with pytest.raises(ValueError, match="one weight per gate"):
        GatedReLUKernel(gates, np.ones(4))(np.ones((2, 2)))
    with pytest.raises(ValueError, match="non-negative"):
        GatedReLUKernel(gates, -np.ones(5))(np.ones((2, 2)))
    with pytest.raises(ValueError, match="features"):
        GatedReLUKernel(gates)(np.ones((2, 3)))
    with pytest.raises(ValueError, match="same features"):
        ArcCosineNTK()(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN|infinity"):
        ArcCosineNTK()(np.array([[np.nan, 1.0]]))
