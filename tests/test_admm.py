"""ADMM (``solver="admm"``) on the gated and ReLU programs: the optimum against CVXPY +
Clarabel, feasible weights and a certificate wherever it stops, and its place among the
solvers (what it refuses, its memory plan, the estimators)."""

import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skconvexnn import (ConvexReLUClassifier, GatedReLURegressor, MemoryBudgetError,
                        config_context, solve_gated_relu, solve_relu,
                        solve_three_layer_gated_relu)
from skconvexnn.programs import ReLUProgram, solve

cp = pytest.importorskip("cvxpy", reason="CVXPY (test extra) checks the optimum")
from certificate_checks import check_certificate  # noqa: E402
from test_functional import _problem as gated_problem, cvxpy_optimum  # noqa: E402
from test_relu_functional import _problem as relu_problem, cvxpy_relu_optimum  # noqa: E402

ALPHA = 1e-2
CASES = [("squared_error", 1), ("squared_error", 3), ("log_loss", 1), ("log_loss", 3),
         ("huber", 1)]


@pytest.mark.parametrize("loss,n_outputs", CASES, ids=[f"{l}-{c}out" for l, c in CASES])
def test_relu_optimum_matches_cvxpy_with_feasible_weights(loss, n_outputs):
    X, Y, gates = relu_problem(loss, n_outputs, True)
    tol = 1e-9
    sol = solve_relu(X, Y, gates, ALPHA, loss=loss, solver="admm", tol=tol, max_iter=50000)
    assert sol.converged and sol.n_active > 0
    assert sol.objective == pytest.approx(cvxpy_relu_optimum(X, Y, gates, ALPHA, loss),
                                          rel=1e-6)
    assert -1e-12 <= sol.duality_gap <= tol
    assert sol.constraint_violation <= 1e-8


@pytest.mark.parametrize("loss,n_outputs", [("squared_error", 1), ("squared_error", 3),
                                            ("log_loss", 1)])
def test_gated_optimum_matches_cvxpy(loss, n_outputs):
    X, Y, gates = gated_problem(loss, n_outputs, True)
    sol = solve_gated_relu(X, Y, gates, ALPHA, loss=loss, solver="admm", tol=1e-9,
                           max_iter=50000)
    assert sol.converged
    assert sol.objective == pytest.approx(cvxpy_optimum(X, Y, gates, ALPHA, loss), rel=1e-6)


def test_weighted_and_wide_programs_match_cvxpy():
    # Sample weights enter the factorised system; a wide table (d > n) is solved in
    # its row space, the rotation then spanning it only.
    X, Y, gates = relu_problem("squared_error", 2, True, seed=3)
    w = np.random.default_rng(3).integers(1, 4, size=len(X)).astype(float)
    sol = solve_relu(X, Y, gates, ALPHA, sample_weight=w, solver="admm", tol=1e-9,
                     max_iter=50000)
    reference = cvxpy_relu_optimum(X, Y, gates, ALPHA, "squared_error", sample_weight=w)
    assert sol.objective == pytest.approx(reference, rel=1e-6)

    X, Y, gates = relu_problem("squared_error", 2, True, seed=5, n=12, d=30, n_gates=5)
    sol = solve_relu(X, Y, gates, ALPHA, solver="admm", tol=1e-8, max_iter=50000)
    assert sol.converged and sol.constraint_violation <= 1e-8
    assert sol.objective == pytest.approx(
        cvxpy_relu_optimum(X, Y, gates, ALPHA, "squared_error"), rel=1e-6)


@pytest.mark.parametrize("max_iter", [10, 40, 200])
def test_an_early_stop_is_feasible_and_its_gap_bounds_the_distance(max_iter):
    X, Y, gates = relu_problem("squared_error", 2, True, seed=1)
    optimum = solve_relu(X, Y, gates, ALPHA, tol=1e-10, max_iter=200000).objective
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sol = solve_relu(X, Y, gates, ALPHA, solver="admm", tol=1e-12, max_iter=max_iter)
    assert not sol.converged and sol.n_iter == max_iter
    assert sol.constraint_violation <= 1e-8  # the certificate is of feasible weights
    assert np.isfinite(sol.duality_gap)
    assert optimum - 1e-12 <= sol.objective
    assert sol.objective - optimum <= sol.duality_gap * sol.objective + 1e-12


def test_a_warm_start_at_the_optimum_stops_at_the_first_certificate():
    X, Y, gates = relu_problem("squared_error", 1, True)
    sol = solve_relu(X, Y, gates, ALPHA, tol=1e-10, max_iter=200000)
    coef = np.zeros((2, X.shape[1], gates.shape[1], 1))
    coef[:, :, sol.gate_indices, :] = sol.weights
    warm = solve_relu(X, Y, gates, ALPHA, solver="admm", coef_init=coef, tol=1e-6)
    assert warm.converged and warm.n_iter <= 10


def test_float32_input_keeps_float32_weights_with_their_certificate():
    X, Y, gates = relu_problem("squared_error", 1, True)
    sol = solve_relu(X.astype(np.float32), Y, gates, ALPHA, solver="admm", tol=1e-5,
                     max_iter=20000)
    reference = solve_relu(X, Y, gates, ALPHA, tol=1e-9, max_iter=200000).objective
    assert sol.weights.dtype == np.float32 and sol.converged
    assert sol.objective == pytest.approx(reference, rel=2e-5)


def test_what_admm_does_not_solve_is_refused_before_any_work():
    X, Y, gates = relu_problem("squared_error", 1, True)
    with pytest.raises(ValueError, match="bounded curvature"):
        solve_relu(X, np.abs(Y), gates, ALPHA, loss="poisson", solver="admm")
    with pytest.raises(ValueError, match="solves only the gated and relu programs"):
        solve_three_layer_gated_relu(X, Y, gates, gates[:, :3], ALPHA, solver="admm")


def test_the_memory_plan_names_its_n_by_n_matrices():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((3000, 5)), rng.standard_normal((3000, 1))
    gates = rng.standard_normal((5, 20))
    with config_context(memory_budget=200 * 2 ** 20):
        # 3 x 3000^2 floats: 206 MiB; the working-set solver needs far less.
        with pytest.raises(MemoryBudgetError, match="ADMM n x n matrices"):
            solve(ReLUProgram(), X, Y, gates, ALPHA, solver="admm")
        solve(ReLUProgram(), X, Y, gates, ALPHA, max_iter=5)


def test_the_memory_plan_bounds_the_traced_peak():
    from skconvexnn.solvers.admm import admm_memory

    rng = np.random.default_rng(0)
    X = np.hstack([rng.standard_normal((300, 6)), np.ones((300, 1))])
    Y, gates = rng.standard_normal((300, 2)), rng.standard_normal((7, 40))
    solve(ReLUProgram(), X, Y, gates, ALPHA, solver="admm", max_iter=20)  # warm up
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        solve(ReLUProgram(), X, Y, gates, ALPHA, solver="admm", max_iter=40)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    plan = ReLUProgram().memory_plan(300, 7, 40, 2, 8).total + sum(
        admm_memory(300, 7, 40, 2).values())
    assert peak <= plan <= 12 * peak + 4 * 2 ** 20, (peak, plan)


def test_estimators_fit_and_certify_with_admm():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    clf = ConvexReLUClassifier(20, loss="squared_error", solver="admm", tol=1e-4,
                               max_iter=20000, random_state=0).fit(X, y)
    assert clf.converged_ and clf.score(X, y) > 0.9
    check_certificate(clf, X, y)
    target = np.sin(X[:, 0]) + X[:, 1] ** 2
    reg = GatedReLURegressor(20, solver="admm", tol=1e-4, max_iter=20000,
                             random_state=0).fit(X, target)
    same = GatedReLURegressor(20, solver="working_set", tol=1e-6, max_iter=50000,
                              random_state=0).fit(X, target)
    assert reg.converged_
    assert reg.objective_ == pytest.approx(same.objective_, rel=2e-4)
