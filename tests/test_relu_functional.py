"""The cone-constrained ReLU program against CVXPY + Clarabel, and its certificate."""

import numpy as np
import pytest

from skconvexnn import solve_relu

cp = pytest.importorskip("cvxpy", reason="CVXPY (test extra) checks the optimum")
from cvxpy_datafits import data_term, program_targets  # noqa: E402 (needs cvxpy)

ALPHA = 1e-2


def _problem(loss, n_outputs, fit_intercept, seed=0, n=25, d=3, n_gates=8):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if fit_intercept:
        X = np.hstack([X, np.ones((n, 1))])
    gates = rng.standard_normal((X.shape[1], n_gates))
    signal = np.maximum(X @ rng.standard_normal((X.shape[1], n_outputs)), 0)
    signal -= np.maximum(X @ rng.standard_normal((X.shape[1], n_outputs)), 0)
    Y = program_targets(loss, signal, rng)
    if Y is None and n_outputs == 1:
        Y = np.where(signal + 0.3 * rng.standard_normal((n, 1)) > 0, 1.0, -1.0)
    elif Y is None:
        Y = np.eye(n_outputs)[np.argmax(signal + rng.standard_normal((n, n_outputs)), axis=1)]
    return X, Y, gates


def cvxpy_relu_optimum(X, Y, gates, alpha, loss, sample_weight=None, offset=None):
    """The cone-constrained program with every gate's pattern, written in CVXPY
    (``offset``: a fixed output bias (c,) added to the network's outputs)."""
    n, d = X.shape
    c = Y.shape[1]
    mask = (X @ gates >= 0).astype(float)
    P = mask.shape[1]
    signs = 2 * mask - 1
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    w = w / w.sum()
    V = cp.Variable((d, P * c))
    W = cp.Variable((d, P * c))
    columns, constraints = [], []
    for k in range(c):
        out = 0
        for j in range(P):
            g = j * c + k
            out = out + cp.multiply(mask[:, j], X @ (V[:, g] - W[:, g]))
            constraints += [cp.multiply(signs[:, j], X @ V[:, g]) >= 0,
                            cp.multiply(signs[:, j], X @ W[:, g]) >= 0]
        columns.append(out)
    F = cp.vstack(columns).T if c > 1 else columns[0]
    if offset is not None:
        offset = np.asarray(offset, dtype=float)
        F = F + (offset[0] if c == 1 else np.ones((n, 1)) @ offset[None, :])
    data = data_term(F, Y, w, loss)
    penalty = alpha * (sum(cp.norm(V[:, g]) for g in range(P * c))
                       + sum(cp.norm(W[:, g]) for g in range(P * c)))
    problem = cp.Problem(cp.Minimize(data + penalty), constraints)
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
    assert problem.status == cp.OPTIMAL
    return problem.value


CASES = [("squared_error", 1), ("squared_error", 3), ("log_loss", 1), ("log_loss", 3),
         ("huber", 1), ("huber", 3), ("poisson", 1), ("poisson", 3)]


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("loss,n_outputs", CASES, ids=[f"{l}-{c}out" for l, c in CASES])
def test_relu_objective_matches_cvxpy_with_feasible_weights(loss, n_outputs, fit_intercept):
    X, Y, gates = _problem(loss, n_outputs, fit_intercept)
    tol = 1e-9
    sol = solve_relu(X, Y, gates, ALPHA, loss=loss, tol=tol, max_iter=200000)
    reference = cvxpy_relu_optimum(X, Y, gates, ALPHA, loss)
    assert sol.converged and sol.n_active > 0
    assert sol.objective == pytest.approx(reference, rel=1e-6)
    assert -1e-12 <= sol.duality_gap <= tol
    assert sol.constraint_violation <= 1e-10


@pytest.mark.parametrize("loss,n_outputs", [("squared_error", 2), ("log_loss", 1)])
def test_relu_on_a_wide_table_matches_cvxpy(loss, n_outputs):
    # d > n: the cone projections work in the row space of X (n coordinates). The fit
    # is close here, so the loss's rounding is far above eps * loss: with a slack of
    # eps * loss only, backtracking shrank FISTA's step to 1e-20 before a gap of 1e-7.
    X, Y, gates = _problem(loss, n_outputs, True, seed=5, n=12, d=30, n_gates=5)
    tol = 1e-7
    sol = solve_relu(X, Y, gates, ALPHA, loss=loss, tol=tol, max_iter=100000)
    reference = cvxpy_relu_optimum(X, Y, gates, ALPHA, loss)
    assert sol.converged and sol.n_active > 0
    assert sol.objective == pytest.approx(reference, rel=2 * tol)
    assert sol.constraint_violation <= 1e-10


def test_relu_weighted_objective_matches_cvxpy_on_the_weighted_rows():
    # A zero weight removes the sample, constraints included (scikit-learn's meaning):
    # the reference is the program on the rows with positive weight.
    X, Y, gates = _problem("squared_error", 2, True, seed=3)
    w = np.random.default_rng(3).integers(0, 4, size=len(X)).astype(float)
    sol = solve_relu(X, Y, gates, ALPHA, sample_weight=w, tol=1e-9, max_iter=200000)
    kept = w > 0
    reference = cvxpy_relu_optimum(X[kept], Y[kept], gates, ALPHA, "squared_error",
                                   sample_weight=w[kept])
    assert sol.objective == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize("loss,n_outputs", [("squared_error", 2), ("log_loss", 1)])
def test_relu_gap_certifies_suboptimality_of_an_early_stop(loss, n_outputs):
    X, Y, gates = _problem(loss, n_outputs, True, seed=5)
    reference = cvxpy_relu_optimum(X, Y, gates, ALPHA, loss)
    for tol in (1e-1, 1e-2, 1e-3):
        sol = solve_relu(X, Y, gates, ALPHA, loss=loss, tol=tol, max_iter=100000)
        assert sol.objective - reference <= sol.duality_gap * sol.objective + 1e-9
        assert sol.duality_gap <= tol and sol.constraint_violation <= 1e-10


def test_relu_weights_are_in_their_cones_and_give_the_output():
    X, Y, gates = _problem("squared_error", 2, True, seed=11)
    sol = solve_relu(X, Y, gates, ALPHA, tol=1e-6)
    kept = gates[:, sol.gate_indices]
    mask = X @ kept >= 0
    V, W = sol.weights
    signs = 2.0 * mask - 1.0
    for blocks in (V, W):
        pre = np.einsum("nd,dpc->npc", X, blocks)
        assert (signs[:, :, None] * pre).min() >= -1e-12
    # On the training rows D_j X v = relu(X v): the convex output is a ReLU network's.
    relu_out = (np.maximum(np.einsum("nd,dpc->npc", X, V), 0)
                - np.maximum(np.einsum("nd,dpc->npc", X, W), 0)).sum(axis=1)
    np.testing.assert_allclose(sol.output, relu_out, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("solver", ["fista", "working_set"])
def test_relu_solvers_reach_the_same_optimum_and_float32_is_kept(solver):
    X, Y, gates = _problem("log_loss", 3, True, seed=7)
    # Each solver against the other ("auto" runs the working-set loop).
    other_solver = "working_set" if solver == "fista" else "fista"
    ref = solve_relu(X, Y, gates, ALPHA, loss="log_loss", tol=1e-10, max_iter=200000,
                     solver=other_solver)
    other = solve_relu(X, Y, gates, ALPHA, loss="log_loss", tol=1e-10, max_iter=200000,
                       solver=solver)
    assert other.objective == pytest.approx(ref.objective, rel=1e-8)
    low = solve_relu(X.astype(np.float32), Y, gates, ALPHA, loss="log_loss", tol=1e-4,
                     solver=solver)
    assert low.weights.dtype == np.float32 and low.converged
    assert low.objective - ref.objective <= low.duality_gap * low.objective + 1e-6


def test_relu_warm_start_from_an_infeasible_point_ends_feasible_at_the_optimum():
    X, Y, gates = _problem("squared_error", 1, True, seed=13)
    rng = np.random.default_rng(0)
    coef = rng.standard_normal((2, X.shape[1], gates.shape[1], 1))  # not in the cones
    sol = solve_relu(X, Y, gates, ALPHA, coef_init=coef, tol=1e-8, max_iter=100000)
    ref = solve_relu(X, Y, gates, ALPHA, tol=1e-8, max_iter=100000)
    assert sol.constraint_violation <= 1e-10
    assert sol.objective == pytest.approx(ref.objective, rel=1e-6)


def test_relu_multilabel_logistic_matches_cvxpy():
    # Indicator targets (several labels per row): one sigmoid per label, the loss
    # MLPClassifier fits them with; the certificate holds at the returned point.
    from skconvexnn.losses import MultilabelLogistic

    X, _, gates = _problem("log_loss", 3, True, seed=3)
    rng = np.random.default_rng(3)
    Y = np.where(rng.standard_normal((X.shape[0], 3)) + X[:, :3] > 0, 1.0, -1.0)
    tol = 1e-9
    sol = solve_relu(X, Y, gates, ALPHA, loss=MultilabelLogistic(), tol=tol,
                     max_iter=200000)
    reference = cvxpy_relu_optimum(X, Y, gates, ALPHA, "multilabel_log_loss")
    assert sol.converged and sol.n_active > 0
    assert sol.objective == pytest.approx(reference, rel=1e-6)
    assert -1e-12 <= sol.duality_gap <= tol
    assert sol.constraint_violation <= 1e-10
