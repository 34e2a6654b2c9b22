"""Wide tables (d > n) are solved in the row space of X: the same program, its weights
in d coordinates, certified at the weights returned."""

import gc

import numpy as np
import pytest
from scipy import sparse

from skconvexnn import _row_space, path
from skconvexnn.programs import GatedReLUProgram, ReLUProgram, solve
from skconvexnn.solutions import certificate_holds, robust_constraint_violation

PROGRAMS = [GatedReLUProgram, ReLUProgram]


def _wide(seed=0, n=15, d=40, n_gates=6, classification=False):
    rng = np.random.default_rng(seed)
    X = np.hstack([rng.standard_normal((n, d)), np.ones((n, 1))])
    gates = rng.standard_normal((d + 1, n_gates))
    signal = np.maximum(X @ rng.standard_normal(d + 1), 0) - np.maximum(
        X @ rng.standard_normal(d + 1), 0)
    Y = (np.where(signal > np.median(signal), 1.0, -1.0) if classification
         else signal + 0.1 * rng.standard_normal(n))[:, None]
    return X, Y, gates


def _null_part(X, weights):
    # The component of each block outside the row space of X.
    basis = np.linalg.svd(X, full_matrices=False)[2]
    blocks = np.moveaxis(weights, -3, 0).reshape(X.shape[1], -1)
    return np.linalg.norm(blocks - basis.T @ (basis @ blocks))


@pytest.mark.parametrize("loss", ["squared_error", "log_loss"])
@pytest.mark.parametrize("Program", PROGRAMS, ids=["gated", "relu"])
def test_the_row_space_program_is_the_full_program(Program, loss, monkeypatch):
    X, Y, gates = _wide(classification=loss == "log_loss")
    program = Program()
    assert program.in_row_space(*X.shape)
    reduced = solve(program, X, Y, gates, 0.1, loss=loss, tol=1e-7, max_iter=100000)
    monkeypatch.setattr(Program, "in_row_space", lambda self, n, d, is_sparse=False: False)
    full = solve(program, X, Y, gates, 0.1, loss=loss, tol=1e-7, max_iter=100000)
    assert reduced.converged and full.converged
    # Weights in d coordinates, as the full program's; the same optimum.
    assert reduced.weights.shape == full.weights.shape
    assert reduced.objective == pytest.approx(full.objective, rel=2e-7)
    np.testing.assert_allclose(reduced.output, full.output, atol=1e-3)
    # No part outside the row space (it would only add to the penalty).
    assert _null_part(X, reduced.weights) < 1e-10 * np.linalg.norm(reduced.weights)


def test_relu_weights_returned_meet_their_cones_on_the_rows_given():
    # The certificate holds at the d-coordinate weights returned, evaluated on X itself.
    X, Y, gates = _wide(seed=3, classification=True)
    sol = solve(ReLUProgram(), X, Y, gates, 1e-2, loss="log_loss", tol=1e-6,
                max_iter=100000)
    assert sol.converged and np.isfinite(sol.duality_gap)
    violation = robust_constraint_violation(X, sol.patterns, sol.weights, 0.0, 0)
    assert certificate_holds(violation, X, sol.weights, X.dtype)
    V, W = sol.weights
    output = np.einsum("np,nd,dpk->nk", sol.patterns.astype(float), X, V - W)
    np.testing.assert_allclose(output, sol.output, atol=1e-8)


def test_a_path_factors_X_once_and_a_changed_X_again(monkeypatch):
    X, Y, gates = _wide(seed=1)
    built = []
    original = _row_space.RowSpace.__init__

    def counting(self, data):
        built.append(data.shape)
        original(self, data)

    monkeypatch.setattr(_row_space.RowSpace, "__init__", counting)
    first = path(X, Y, gates, program="relu", alphas=4, eps=0.05, tol=1e-7,
                 max_iter=50000)
    assert len(built) == 1  # alpha_max and four solves share one factorization
    assert first.converged.all()
    cold = solve(ReLUProgram(), X, Y, gates, first.alphas[-1], tol=1e-7, max_iter=50000)
    assert first.objectives[-1] == pytest.approx(cold.objective, rel=3e-7)
    X[0, 0] += 1.0  # changed in place: factored anew, not the stale factors
    solve(ReLUProgram(), X, Y, gates, 0.1, max_iter=50)
    assert len(built) == 2
    del X
    gc.collect()
    assert not _row_space._CACHE  # nothing kept once the array is gone


def test_a_warm_start_outside_the_row_space_starts_from_its_part_inside():
    X, Y, gates = _wide(seed=2)
    cold = solve(GatedReLUProgram(), X, Y, gates, 0.1, tol=1e-7, max_iter=50000)
    rng = np.random.default_rng(0)
    junk = cold.weights + rng.standard_normal(cold.weights.shape)  # mostly null space
    warm = solve(GatedReLUProgram(), X, Y, gates, 0.1, coef_init=junk, tol=1e-7,
                 max_iter=50000)
    assert warm.converged and cold.converged
    assert warm.objective == pytest.approx(cold.objective, rel=2e-7)
    assert _null_part(X, warm.weights) < 1e-10 * np.linalg.norm(warm.weights)


@pytest.mark.parametrize("Program, reduced", [(GatedReLUProgram, False),
                                              (ReLUProgram, True)], ids=["gated", "relu"])
def test_sparse_wide_tables(Program, reduced):
    # The gated program keeps sparse data sparse; the ReLU program, which reads X
    # densely in its cone projections, solves it in the row space. Same optimum.
    X, Y, gates = _wide(seed=4)
    X[np.abs(X) < 1.0] = 0.0
    assert Program().in_row_space(*X.shape, True) is reduced
    dense = solve(Program(), X, Y, gates, 0.1, tol=1e-7, max_iter=100000)
    sparse_sol = solve(Program(), sparse.csr_matrix(X), Y, gates, 0.1, tol=1e-7,
                       max_iter=100000)
    assert dense.converged and sparse_sol.converged
    assert sparse_sol.objective == pytest.approx(dense.objective, rel=2e-7)


def test_tall_tables_are_not_reduced():
    assert not ReLUProgram().in_row_space(100, 20)
    assert not GatedReLUProgram().in_row_space(20, 20)


def test_rank_deficient_rows_keep_only_their_rank():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((10, 3)) @ rng.standard_normal((3, 30))
    space = _row_space.RowSpace(X)
    assert space.basis.shape == (3, 30) and space.rows.shape == (10, 3)
    np.testing.assert_allclose(space.rows @ space.basis, X, atol=1e-12)
    np.testing.assert_allclose(space.basis @ space.basis.T, np.eye(3), atol=1e-12)
