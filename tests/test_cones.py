"""Projections onto the activation cones against scipy's non-negative least squares.

``project_K(v)`` for ``K = {u : A u >= 0}``, ``A = (2 D - I) X``, is ``v + A^T mu`` with
``mu = argmin_{mu >= 0} ||v + A^T mu||`` (Moreau), which ``scipy.optimize.nnls`` solves
independently of our Lawson-Hanson kernel and its cached Cholesky factors.
"""

import copy

import numpy as np
import pytest
from scipy.optimize import nnls

from skconvexnn.backends import get_backend
from skconvexnn.penalties import ConeConstrainedGroupL2

N, D, P = 40, 6, 5


@pytest.fixture(params=[False, True], ids=["rows", "gram"])
def cone_penalty(request, monkeypatch):
    # Factors from the rows' products, or from a kept X X^T (for long rows; forced on
    # these short ones): the same projections.
    if request.param:
        monkeypatch.setattr(ConeConstrainedGroupL2, "_GRAM_MIN_COLUMNS", 0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, D))
    mask = (X @ rng.standard_normal((D, P)) >= 0).astype(np.uint8)
    group_pattern = np.tile(np.arange(P), 2)  # the v and w columns of every pattern
    penalty = ConeConstrainedGroupL2(1e-2, get_backend("numba", X), X, mask, group_pattern)
    assert (penalty._gram.shape == (N, N)) is request.param
    return penalty, X, mask, group_pattern


def _nnls_projection(X, mask, j, v):
    A = (2.0 * mask[:, j] - 1.0)[:, None] * X
    mu, _ = nnls(A.T, -v, maxiter=10000)
    return v + A.T @ mu


def _max_error(Z, V, X, mask, patterns):
    refs = np.column_stack([_nnls_projection(X, mask, j, V[:, w])
                            for w, j in enumerate(patterns)])
    return np.abs(Z - refs).max() / (1 + np.abs(refs).max())


def test_full_penalty_projects_exactly(cone_penalty):
    penalty, X, mask, group_pattern = cone_penalty
    rng = np.random.default_rng(1)
    for _ in range(20):
        V = 3 * rng.standard_normal((D, len(group_pattern)))
        Z = penalty.project(V)
        assert _max_error(Z, V, X, mask, group_pattern) <= 1e-9
        assert ((2.0 * mask[:, group_pattern] - 1.0) * (X @ Z)).min() >= -1e-10


def test_cached_factors_stay_exact_across_warm_starts(cone_penalty):
    penalty, X, mask, group_pattern = cone_penalty
    groups = np.array([0, 3, 5, 9])
    view = penalty.restrict(groups)
    assert view._factors is not None  # the cached path is the one under test
    rng = np.random.default_rng(2)
    V = rng.standard_normal((D, len(groups)))
    for step in range(150):  # small moves reuse the factors, big ones rebuild them
        V = V + (3.0 if step % 50 == 0 else 0.3) * rng.standard_normal(V.shape)
        Z = view.project(V)
        assert _max_error(Z, V, X, mask, group_pattern[groups]) <= 1e-9


def test_cached_factors_are_dropped_when_another_projection_moves_the_state(cone_penalty):
    # Views share the warm-start state with the full penalty; a projection through
    # another view must invalidate this view's factors of the groups it touched.
    penalty, X, mask, group_pattern = cone_penalty
    groups = np.array([0, 3, 5, 9])
    view = penalty.restrict(groups)
    other = penalty.restrict(np.array([3, 9, 1]))
    rng = np.random.default_rng(3)
    V = rng.standard_normal((D, len(groups)))
    for step in range(90):
        V = V + 0.5 * rng.standard_normal(V.shape)
        if step % 3 == 0:
            full = np.zeros((D, len(group_pattern)))
            full[:, groups] = -V
            penalty.project(full)
        if step % 3 == 1:
            other.project(rng.standard_normal((D, 3)))
        Z = view.project(V)
        assert _max_error(Z, V, X, mask, group_pattern[groups]) <= 1e-9


def test_capped_projection_is_a_valid_dual_bound(cone_penalty):
    # dual_bounds stops projections after a few active-set steps: the result is
    # v + A^T mu with mu >= 0, so its norm bounds the exact distance from above.
    penalty, X, mask, group_pattern = cone_penalty
    rng = np.random.default_rng(4)
    for _ in range(20):
        U = np.zeros((D, len(group_pattern)))
        G = rng.standard_normal((D, len(group_pattern)))
        bounds = penalty.dual_bounds(U, G, step=1.0)
        exact = np.array([np.linalg.norm(_nnls_projection(X, mask, j, -G[:, w]))
                          for w, j in enumerate(group_pattern)])
        assert np.all(bounds >= exact - 1e-10)


@pytest.mark.parametrize("n_largest", [0, 1, 3, 6])
def test_dual_bounds_of_the_largest_columns_only_are_those_of_all(monkeypatch, n_largest):
    # With n_largest, columns are projected in decreasing order of a cheap valid bound
    # (||G_w||, or the last certificate's multipliers applied as they are), in batches
    # (from _FIRST_BATCH, here 2), until the rest cannot matter: the largest bound (the
    # certificate's scaling) and the n_largest largest bounds of the zero columns (what
    # a working set adds to its support) are those of projecting every column from the
    # same warm state, and every bound stays a valid one.
    monkeypatch.setattr(ConeConstrainedGroupL2, "_FIRST_BATCH", 2)
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, D))
    n_patterns = 12
    mask = (X @ rng.standard_normal((D, n_patterns)) >= 0).astype(np.uint8)
    group_pattern = np.tile(np.arange(n_patterns), 2)
    backend = get_backend("numba", X)
    left_unprojected = 0
    lazy_penalty = ConeConstrainedGroupL2(1e-2, backend, X, mask, group_pattern)
    for round_ in range(12):
        G = rng.standard_normal((D, 2 * n_patterns)) * rng.uniform(0.1, 3, 2 * n_patterns)
        U = np.zeros_like(G)
        if round_ % 2:  # a support: nonzero columns are never among the n_largest
            support = rng.choice(2 * n_patterns, 5, replace=False)
            U[:, support] = rng.standard_normal((D, 5))
        zero = np.linalg.norm(U, axis=0) == 0
        twin = ConeConstrainedGroupL2(1e-2, backend, X, mask, group_pattern)
        twin._bound_state = copy.deepcopy(lazy_penalty._bound_state)
        everything = twin.dual_bounds(U, G, step=1.0)
        lazy = lazy_penalty.dual_bounds(U, G, step=1.0, n_largest=n_largest)
        # The exact bound, ||project_K(-G_w)||, whatever U: (Z - U) / step is a point of
        # -G + cone(A^T) (capped projections: upper bounds, exact or not).
        exact = np.array([np.linalg.norm(_nnls_projection(X, mask, j, -G[:, w]))
                          for w, j in enumerate(group_pattern)])
        assert np.all(everything >= exact - 1e-10) and np.all(lazy >= exact - 1e-10)
        assert lazy.max() == pytest.approx(everything.max(), rel=1e-12)
        zeros = np.flatnonzero(zero)
        top = np.sort(zeros[np.argsort(-everything[zeros], kind="stable")[:n_largest]])
        largest = np.sort(zeros[np.argsort(-lazy[zeros], kind="stable")[:n_largest]])
        np.testing.assert_array_equal(largest, top)
        np.testing.assert_allclose(lazy[top], everything[top], rtol=1e-12)
        left_unprojected += int(np.sum(lazy > everything * (1 + 1e-9)))
    assert left_unprojected > 0  # the point: some columns were never projected


def test_warm_bounds_are_valid_for_a_new_gradient(cone_penalty):
    # The last certificate's multipliers applied to a new gradient, as they are: no
    # projection, yet a valid bound, and below ||G_w|| for a gradient that moved little.
    penalty, X, mask, group_pattern = cone_penalty
    rng = np.random.default_rng(5)
    U = np.zeros((D, len(group_pattern)))
    G = rng.standard_normal((D, len(group_pattern)))
    penalty.dual_bounds(U, G, step=1.0)
    assert penalty._bound_state.n_active.sum() > 0
    G_new = G + 0.05 * rng.standard_normal(G.shape)
    warm = penalty._warm_bounds(U, U - G_new, step=1.0)
    exact = np.array([np.linalg.norm(_nnls_projection(X, mask, j, -G_new[:, w]))
                      for w, j in enumerate(group_pattern)])
    assert np.all(warm >= exact - 1e-10)
    assert np.mean(warm < 0.9 * np.linalg.norm(G_new, axis=0)) > 0.5


def test_large_working_sets_project_without_a_factor_cache(cone_penalty, monkeypatch):
    penalty, X, mask, group_pattern = cone_penalty
    monkeypatch.setattr(ConeConstrainedGroupL2, "_MAX_CACHE_BYTES", 0)
    view = penalty.restrict(np.arange(len(group_pattern)))
    assert view._factors is None
    V = np.random.default_rng(5).standard_normal((D, len(group_pattern)))
    assert _max_error(view.project(V), V, X, mask, group_pattern) <= 1e-9


def test_prox_is_the_prox_and_its_dual_bounds_are_valid(cone_penalty):
    # prox alone and prox_and_dual_bounds give the same step; the bounds that come
    # with it are never below the exact distance of -G to dual feasibility at zero.
    penalty, X, mask, group_pattern = cone_penalty
    rng = np.random.default_rng(5)
    G = rng.standard_normal((D, len(group_pattern)))
    Y = np.zeros_like(G)
    out, out_pair = np.empty_like(G), np.empty_like(G)
    norms = penalty.prox(Y, G, 0.5, out)
    norms_pair, bounds = penalty.prox_and_dual_bounds(Y, G, 0.5, out_pair)
    np.testing.assert_allclose(out, out_pair, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(norms, norms_pair, rtol=1e-12)
    np.testing.assert_allclose(norms, np.linalg.norm(out, axis=0), rtol=1e-12)
    exact = np.array([np.linalg.norm(_nnls_projection(X, mask, j, -G[:, w]))
                      for w, j in enumerate(group_pattern)])
    assert np.all(bounds >= exact - 1e-10)
    # The shrunk projection: feasible, and the exact projection's norm minus step*alpha.
    assert penalty.constraint_violation(out) <= 1e-10
    shrunk = np.maximum(np.linalg.norm(
        np.column_stack([_nnls_projection(X, mask, j, -0.5 * G[:, w])
                         for w, j in enumerate(group_pattern)]), axis=0) - 0.5 * 1e-2, 0)
    np.testing.assert_allclose(norms, shrunk, rtol=1e-8, atol=1e-10)


def test_wide_tables_project_exactly_with_factors_of_the_row_count():
    # d >> n: an active set holds at most n rows, so the state and the factors are
    # n x n (a 200 x 5000 table once asked for 256 x 5001 x 5001 doubles).
    rng = np.random.default_rng(6)
    n, d, n_patterns = 12, 300, 4
    X = rng.standard_normal((n, d))
    mask = (X @ rng.standard_normal((d, n_patterns)) >= 0).astype(np.uint8)
    group_pattern = np.tile(np.arange(n_patterns), 2)
    penalty = ConeConstrainedGroupL2(1e-2, get_backend("numba", X), X, mask, group_pattern)
    assert penalty._prox_state.active.shape == (2 * n_patterns, n)
    assert penalty._gram.shape == (n, n)  # long rows: the factors read X X^T
    V = rng.standard_normal((d, 2 * n_patterns))
    for view in (penalty, penalty.restrict(np.arange(2 * n_patterns))):
        Z = view.project(V)
        assert _max_error(Z, V, X, mask, group_pattern) < 1e-9
    assert penalty.restrict(np.arange(2 * n_patterns))._factors.shape == (2 * n_patterns, n, n)


def test_the_prox_hands_its_products_to_the_forward_pass(cone_penalty):
    # FISTA's forward pass reuses X @ prox(...) from the projections (the columns that
    # moved after the candidates' product are multiplied again): it must be X @ out,
    # and the forward pass built on it the one built on the weights.
    from skconvexnn.formulations import ReLUDesign

    penalty, X, mask, group_pattern = cone_penalty
    kernels = get_backend("numba", X)
    design = ReLUDesign(X, mask, 1, kernels)
    groups = np.arange(len(group_pattern))
    view, op = penalty.restrict(groups), design.restrict(groups)
    rng = np.random.default_rng(3)
    out = np.empty((D, len(groups)))
    for _ in range(10):
        Y = rng.standard_normal((D, len(groups)))
        G = rng.standard_normal((D, len(groups)))
        view.prox_and_dual_bounds(Y, G, 0.5, out)
        XU = view.products(out)
        assert XU is not None
        np.testing.assert_allclose(XU, X @ out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(op.forward_from_products(XU), op.forward(out),
                                   rtol=1e-12, atol=1e-12)
        assert view.products(out.copy()) is None  # only the prox's own output
