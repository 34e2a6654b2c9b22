"""The functional core against an independent conic solver (CVXPY + Clarabel)."""

import numpy as np
import pytest

from skconvexnn import solve_gated_relu

cp = pytest.importorskip("cvxpy", reason="CVXPY (test extra) checks the optimum")
from cvxpy_datafits import data_term, program_targets  # noqa: E402 (needs cvxpy)

ALPHA = 1e-2


def _problem(loss, n_outputs, fit_intercept, seed=0, n=25, d=3, n_gates=10):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if fit_intercept:
        X = np.hstack([X, np.ones((n, 1))])
    gates = rng.standard_normal((X.shape[1], n_gates))
    signal = np.maximum(X @ rng.standard_normal((X.shape[1], n_outputs)), 0)
    Y = program_targets(loss, signal, rng)
    if Y is None and n_outputs == 1:
        Y = np.where(signal - signal.mean() + 0.3 * rng.standard_normal((n, 1)) > 0, 1.0, -1.0)
    elif Y is None:
        Y = np.eye(n_outputs)[np.argmax(signal + rng.standard_normal((n, n_outputs)), axis=1)]
    return X, Y, gates


def cvxpy_optimum(X, Y, gates, alpha, loss, sample_weight=None):
    """The gated program with *every* gate's pattern (duplicates included), in CVXPY."""
    n, d = X.shape
    c = Y.shape[1]
    mask = (X @ gates >= 0).astype(float)
    P = mask.shape[1]
    w = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    w = w / w.sum()
    U = cp.Variable((d, P * c))
    columns = []
    for k in range(c):
        columns.append(sum(cp.multiply(mask[:, j], X @ U[:, j * c + k]) for j in range(P)))
    F = cp.vstack(columns).T if c > 1 else columns[0]
    data = data_term(F, Y, w, loss)
    penalty = alpha * sum(cp.norm(U[:, g]) for g in range(P * c))
    problem = cp.Problem(cp.Minimize(data + penalty))
    problem.solve(solver=cp.CLARABEL, tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9)
    assert problem.status == cp.OPTIMAL
    return problem.value


CASES = [
    ("squared_error", 1), ("squared_error", 3), ("log_loss", 1), ("log_loss", 3),
    ("huber", 1), ("huber", 3), ("poisson", 1), ("poisson", 3),
]


@pytest.mark.parametrize("fit_intercept", [True, False], ids=["intercept", "no-intercept"])
@pytest.mark.parametrize("loss,n_outputs", CASES, ids=[f"{l}-{c}out" for l, c in CASES])
def test_objective_matches_cvxpy_and_gap_is_within_tol(loss, n_outputs, fit_intercept):
    X, Y, gates = _problem(loss, n_outputs, fit_intercept)
    tol = 1e-9
    sol = solve_gated_relu(X, Y, gates, ALPHA, loss=loss, tol=tol, max_iter=200000)
    reference = cvxpy_optimum(X, Y, gates, ALPHA, loss)
    assert sol.converged
    assert sol.n_active > 0  # a non-trivial solution, not the zero network
    assert sol.objective == pytest.approx(reference, rel=1e-6)
    assert -1e-12 <= sol.duality_gap <= tol


def test_weighted_objective_matches_cvxpy():
    X, Y, gates = _problem("log_loss", 3, True, seed=3)
    w = np.random.default_rng(3).integers(0, 4, size=len(X)).astype(float)
    sol = solve_gated_relu(X, Y, gates, ALPHA, loss="log_loss", sample_weight=w, tol=1e-9,
                           max_iter=200000)
    reference = cvxpy_optimum(X, Y, gates, ALPHA, "log_loss", sample_weight=w)
    assert sol.objective == pytest.approx(reference, rel=1e-6)


@pytest.mark.parametrize("loss,n_outputs", [("squared_error", 2), ("log_loss", 1)])
def test_gap_certifies_suboptimality_of_an_early_stop(loss, n_outputs):
    X, Y, gates = _problem(loss, n_outputs, True, seed=5)
    reference = cvxpy_optimum(X, Y, gates, ALPHA, loss)
    for tol in (1e-1, 1e-2, 1e-3):
        sol = solve_gated_relu(X, Y, gates, ALPHA, loss=loss, tol=tol, max_iter=100000)
        # The certificate must bound the true distance to the optimum.
        assert sol.objective - reference <= sol.duality_gap * sol.objective + 1e-9
        assert sol.duality_gap <= tol


@pytest.mark.parametrize("solver,backend", [("fista", "numba"), ("working_set", "numpy")])
def test_solvers_and_backends_reach_the_same_optimum(solver, backend):
    X, Y, gates = _problem("squared_error", 2, True, seed=7)
    ref = solve_gated_relu(X, Y, gates, ALPHA, tol=1e-10, max_iter=200000)
    other = solve_gated_relu(X, Y, gates, ALPHA, tol=1e-10, max_iter=200000, solver=solver,
                             backend=backend)
    assert other.objective == pytest.approx(ref.objective, rel=1e-8)


def test_output_is_the_masked_sum_of_the_weights():
    X, Y, gates = _problem("squared_error", 3, True, seed=11)
    sol = solve_gated_relu(X, Y, gates, ALPHA, tol=1e-6)
    kept = gates[:, sol.gate_indices]
    mask = X @ kept >= 0
    expected = np.einsum("np,npc->nc", mask, np.einsum("nd,dpc->npc", X, sol.weights))
    np.testing.assert_allclose(sol.output, expected, rtol=1e-10, atol=1e-12)


def test_float32_input_is_solved_in_float32():
    X, Y, gates = _problem("squared_error", 1, True, seed=13)
    sol64 = solve_gated_relu(X, Y, gates, ALPHA, tol=1e-10, max_iter=100000)
    sol32 = solve_gated_relu(X.astype(np.float32), Y, gates, ALPHA, tol=1e-5)
    assert sol32.weights.dtype == np.float32 and sol32.output.dtype == np.float32
    assert sol32.converged
    # The float32 certificate is computed in float64 and still bounds the distance to
    # the float64 optimum (up to the rounding of X to float32).
    assert sol32.objective - sol64.objective <= sol32.duality_gap * sol32.objective + 1e-7


def test_float32_polishes_in_float64_and_certifies_the_float32_weights():
    X, Y, gates = _problem("squared_error", 1, True, seed=13)
    X32 = X.astype(np.float32)
    reached = solve_gated_relu(X32, Y, gates, ALPHA, tol=1e-5, max_iter=100000)
    assert reached.converged and reached.duality_gap <= 1e-5
    # 1e-10 is reachable in float64 but not representable in float32 weights: the fit
    # says it stalled on precision, and its gap is that of the float32 weights it returns.
    limited = solve_gated_relu(X32, Y, gates, ALPHA, tol=1e-10, max_iter=100000)
    assert not limited.converged and limited.stalled
    assert limited.weights.dtype == np.float32
    assert 1e-10 < limited.duality_gap < 1e-5


def test_overflowing_data_is_refused():
    X, Y, gates = _problem("squared_error", 1, True)
    with pytest.raises(ValueError, match="overflow"):
        solve_gated_relu(X * 1e200, Y, gates, ALPHA)
    with pytest.raises(ValueError, match="overflow"):
        solve_gated_relu(X, Y * 1e200, gates, ALPHA)


def test_warm_start_from_the_solution_needs_no_iteration():
    X, Y, gates = _problem("log_loss", 1, True, seed=17)
    sol = solve_gated_relu(X, Y, gates, ALPHA, loss="log_loss", tol=1e-8, max_iter=100000)
    coef = np.zeros((X.shape[1], gates.shape[1], 1))
    coef[:, sol.gate_indices] = sol.weights
    again = solve_gated_relu(X, Y, gates, ALPHA, loss="log_loss", tol=1e-6, coef_init=coef)
    assert again.n_iter == 0 and again.converged


@pytest.mark.parametrize("bad,match", [
    (dict(alpha=-1.0), "alpha"),
    (dict(alpha=np.nan), "alpha"),
    (dict(gates=np.ones((2, 3))), "gates"),
    (dict(Y=np.ones(7)), "Y must have shape"),
    (dict(sample_weight=-np.ones(25)), "sample_weight"),
    (dict(backend="gpu"), "backend"),
])
def test_bad_arguments_raise_value_error(bad, match):
    X, Y, gates = _problem("squared_error", 1, True)
    kwargs = dict(X=X, Y=Y, gates=gates, alpha=ALPHA)
    kwargs.update(bad)
    with pytest.raises(ValueError, match=match):
        solve_gated_relu(**kwargs)


@pytest.mark.parametrize("loss, n_outputs", [("squared_error", 1), ("log_loss", 3)])
def test_threads_change_the_summation_order_only(loss, n_outputs, monkeypatch):
    from threadpoolctl import threadpool_info

    from skconvexnn import _parallel

    # Small blocks, so that two threads share the rows of this small problem.
    monkeypatch.setattr(_parallel, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(_parallel, "MIN_BLOCK_ROWS", 8)
    X, Y, gates = _problem(loss, n_outputs, True, n=120, d=4, n_gates=30)
    blas_threads = []

    def callback(objective):
        blas_threads.append(max(info["num_threads"] for info in threadpool_info()
                                if info["user_api"] == "blas"))

    one = solve_gated_relu(X, Y, gates, ALPHA, loss=loss, tol=1e-9, n_jobs=1)
    two = solve_gated_relu(X, Y, gates, ALPHA, loss=loss, tol=1e-9, n_jobs=2,
                           callback=callback)
    assert one.converged and two.converged
    assert two.objective == pytest.approx(one.objective, rel=1e-8)
    np.testing.assert_allclose(two.output, one.output, rtol=1e-5, atol=1e-7)
    # Inside the fit BLAS runs on one thread: the row blocks are the parallelism.
    assert blas_threads and set(blas_threads) == {1}
