"""Program objects, the one solve() entry point and the solver registry."""

import numpy as np
import pytest

from skconvexnn import alpha_max, solve_gated_relu, solve_relu
from skconvexnn.programs import (PROGRAMS, GatedReLUProgram, ReLUProgram, RobustReLUProgram,
                                 solve)
from skconvexnn.solvers import SOLVERS, Solver, fista
from skconvexnn.solvers.working_set import momentum_on


def _data(seed=0, n=50, d=3):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d)), np.ones((n, 1))])
    y = np.maximum(X[:, 0], 0) - X[:, 1] + 0.1 * rng.standard_normal(n)
    return X, y, rng.standard_normal((d + 1, 12))


@pytest.mark.parametrize("Program", [GatedReLUProgram, ReLUProgram])
def test_pack_and_unpack_are_inverse_on_the_patterns_in_play(Program):
    program = Program()
    rng = np.random.default_rng(1)
    d, n_gates, c = 4, 7, 3
    keep = np.array([0, 2, 3, 6])
    coef = rng.standard_normal(program.coef_shape(d, n_gates, c))
    if Program is ReLUProgram:  # pack projects onto the cones: use a no-op penalty

        class Identity:
            def project(self, V):
                return V
        penalty = Identity()
    else:
        penalty = None
    U = program.pack(coef, keep, penalty, np.float64)
    back = program.unpack(U, d, len(keep), c)
    np.testing.assert_array_equal(back, coef[..., keep, :])


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_the_network_of_a_solution_reproduces_its_output(name):
    X, y, gates = _data()
    program = PROGRAMS[name]()
    solution = solve(program, X, y, gates, 1e-2, tol=1e-8, max_iter=20000)
    network = program.network(solution.weights, fit_intercept=True)
    out = program.forward(X[:, :-1], network, gates[:, solution.gate_indices], True)
    np.testing.assert_allclose(out, solution.output, atol=1e-10)
    assert program.alpha_max(X, y, gates) == alpha_max(X, y, gates, program=name)


def test_the_functions_are_the_entry_point_with_their_program():
    X, y, gates = _data()
    for function, program in ((solve_gated_relu, GatedReLUProgram()),
                              (solve_relu, ReLUProgram())):
        expected = function(X, y, gates, 1e-2, tol=1e-8)
        got = solve(program, X, y, gates, 1e-2, tol=1e-8)
        assert got.objective == expected.objective
        np.testing.assert_array_equal(got.weights, expected.weights)


def test_robust_program_at_eps_zero_is_the_relu_program():
    X, y, gates = _data()
    relu = solve(ReLUProgram(), X, y, gates, 1e-2, tol=1e-8)
    robust = solve(RobustReLUProgram(0.0), X, y, gates, 1e-2, tol=1e-8, max_iter=50000)
    assert robust.objective == pytest.approx(relu.objective, rel=1e-6)


def test_the_working_set_loop_takes_any_inner_method():
    # A new inner method is a function and a Solver: here FISTA that counts its calls.
    calls = []

    def counting_fista(*args, **kwargs):
        calls.append(1)
        return fista(*args, **kwargs)

    counting = Solver("counting", "group_lasso", "FISTA, counted", loss_needs={"smooth": True},
                      inner=counting_fista, working_set=True)
    X, y, gates = _data()
    expected = solve_gated_relu(X, y, gates, 1e-2, tol=1e-8, solver="working_set")
    got = solve_gated_relu(X, y, gates, 1e-2, tol=1e-8, solver=counting)
    assert len(calls) > 1  # one per outer iteration of the working set
    assert got.objective == expected.objective


def test_momentum_moves_to_the_next_working_set():
    class Design:
        calls = 0

        def forward(self, Y):
            Design.calls += 1
            return Y.sum(axis=1, keepdims=True)

    def norms(Y):
        return np.sqrt((Y * Y).sum(axis=0))

    old = np.array([1, 3, 5])
    Y = np.array([[1.0, 2.0, 3.0]])
    FY = np.array([[6.0]])
    # Column 3 is dropped with a nonzero weight: the output is computed again.
    Y_new, FY_new, t = momentum_on(np.array([0, 1, 5, 7]), old, (Y, FY, 2.5), Design(), norms)
    np.testing.assert_array_equal(Y_new, [[0.0, 1.0, 3.0, 0.0]])
    np.testing.assert_array_equal(FY_new, [[4.0]])
    assert t == 2.5 and Design.calls == 1
    # Only zero columns dropped: the output is unchanged and not recomputed.
    Y[0, 1] = 0.0
    _, FY_kept, _ = momentum_on(np.array([1, 5, 8]), old, (Y, FY, 2.5), Design(), norms)
    assert FY_kept is FY and Design.calls == 1


@pytest.mark.parametrize("Program", [GatedReLUProgram, ReLUProgram])
def test_each_inner_run_continues_the_last_ones_momentum(Program):
    # The momentum handed to an inner run is consistent (its output is A Y on the new
    # working set), and continuing it takes fewer iterations than restarting it.
    handed = []

    def checking_fista(op, *args, **kwargs):
        if "momentum" in kwargs:
            Y, FY, t = kwargs["momentum"]
            np.testing.assert_allclose(FY, op.forward(Y), rtol=1e-10, atol=1e-12)
            handed.append(t)
        return fista(op, *args, **kwargs)

    def restarting_fista(*args, momentum=None, **kwargs):
        return fista(*args, **kwargs)

    X, y, gates = _data(n=200, d=6)
    gates = np.random.default_rng(1).standard_normal((X.shape[1], 60))
    alpha = 1e-3 * alpha_max(X, y, gates)
    runs = {}
    for name, inner in [("continued", checking_fista), ("restarted", restarting_fista)]:
        solver = Solver(name, "group_lasso", name, loss_needs={"smooth": True},
                        inner=inner, working_set=True)
        runs[name] = solve(Program(), X, y, gates, alpha, tol=1e-6, max_iter=20000,
                           solver=solver)
    assert handed and max(handed) > 1  # a momentum carried over, not a fresh start
    assert runs["continued"].converged and runs["restarted"].converged
    assert runs["continued"].objective == pytest.approx(runs["restarted"].objective,
                                                        rel=1e-5)
    assert runs["continued"].n_iter < runs["restarted"].n_iter


@pytest.mark.parametrize("solver, match", [
    ("pdhg", "solves robust programs"), ("newton", "one of"),
])
def test_a_solver_that_does_not_fit_the_program_is_refused(solver, match):
    X, y, gates = _data()
    with pytest.raises(ValueError, match=match):
        solve_gated_relu(X, y, gates, 1e-2, solver=solver)
    with pytest.raises(ValueError, match="solves group_lasso programs"):
        solve(RobustReLUProgram(0.1), X, y, gates, 1e-2, solver="fista")


def test_a_solver_says_what_it_needs_of_the_loss():
    assert SOLVERS["fista"].loss_needs == {"smooth": True}
    X, y, gates = _data()
    with pytest.raises(ValueError, match="needs a loss with a gradient"):
        solve(ReLUProgram(), X, np.sign(y), gates, 1e-2, loss="hinge")
