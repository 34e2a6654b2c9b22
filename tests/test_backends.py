"""The compiled kernels against the NumPy reference, and backend selection."""

import importlib.util
import os

import numpy as np
import pytest
from scipy import sparse
from threadpoolctl import threadpool_limits

from skconvexnn.backends import NUMPY, check_backend, get_backend
from skconvexnn import _parallel
from skconvexnn.formulations import column_runs
from skconvexnn._parallel import RowWorkers
from skconvexnn.formulations import GatedReLUDesign, RestrictedGatedDesign


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_kernels_match_numpy_reference(dtype):
    numba = get_backend("numba")
    rng = np.random.default_rng(0)
    n, d, m, c, P = 37, 5, 11, 3, 7
    mask = (rng.random((n, P)) > 0.4).astype(np.uint8)
    # runs of consecutive patterns, single columns, patterns repeated across outputs
    cols = np.array([2, 3, 4, 0, 1, 2, 6, 6, 5, 0, 1], dtype=np.int64)
    starts = np.array([0, 4, 4, 11], dtype=np.int64)  # output 1 has no column
    runs, run_starts = column_runs(cols, starts)
    np.testing.assert_array_equal(runs, [[0, 3, 2], [3, 4, 0], [4, 6, 1], [6, 7, 6],
                                         [7, 8, 6], [8, 9, 5], [9, 11, 0]])
    np.testing.assert_array_equal(run_starts, [0, 2, 2, 7])
    Z = rng.standard_normal((n, m)).astype(dtype)
    R = rng.standard_normal((n, c)).astype(dtype)
    F_ref, F = np.empty((n, c), dtype), np.empty((n, c), dtype)
    NUMPY.masked_rowsum(Z, mask, runs, run_starts, F_ref)
    numba.masked_rowsum(Z, mask, runs, run_starts, F)
    expected = np.stack([(Z[:, 0:4] * mask[:, cols[0:4]]).sum(1), np.zeros(n),
                         (Z[:, 4:] * mask[:, cols[4:]]).sum(1)], axis=1)
    np.testing.assert_allclose(F_ref, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(F, F_ref, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 0)
    assert not F[:, 1].any()
    B_ref, B = np.empty_like(Z), np.empty_like(Z)
    NUMPY.masked_broadcast(R, mask, runs, run_starts, B_ref)
    numba.masked_broadcast(R, mask, runs, run_starts, B)
    np.testing.assert_array_equal(B[:, 5], mask[:, 2] * R[:, 2])
    np.testing.assert_array_equal(B, B_ref)
    U = rng.standard_normal((d, m)).astype(dtype)
    U[:, 4] *= 1e-3  # this column is shrunk to zero
    np.testing.assert_allclose(numba.group_norms(U), NUMPY.group_norms(U), rtol=1e-6)
    out_ref, out = np.empty_like(U), np.empty_like(U)
    n_ref = NUMPY.group_soft_threshold(U, 0.5, out_ref)
    n_nb = numba.group_soft_threshold(U, 0.5, out)
    np.testing.assert_allclose(out, out_ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(n_nb, n_ref, rtol=1e-5, atol=1e-7)
    assert not out[:, 4].any() and n_nb[4] == 0
    np.testing.assert_allclose(numba.group_norms(out), n_nb, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("float_mask", [True, False])
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_design_products_are_the_masked_sums_and_adjoint(backend, n_threads, float_mask,
                                                        monkeypatch):
    # Tiny blocks, so that several threads share the rows of this small problem.
    monkeypatch.setattr(_parallel, "PARALLEL_MIN_ENTRIES", 1)
    monkeypatch.setattr(_parallel, "MIN_BLOCK_ROWS", 3)
    rng = np.random.default_rng(1)
    n, d, P, c = 20, 4, 5, 2
    X = rng.standard_normal((n, d))
    mask = (rng.random((n, P)) > 0.5).astype(np.uint8)
    design = GatedReLUDesign(X, mask, c, get_backend(backend), RowWorkers(n_threads))
    groups = np.array([0, 3, 4, 6, 9], dtype=np.int64)  # (k, j) = g // P, g % P
    op = RestrictedGatedDesign(design, groups, float_mask=float_mask)
    assert (op.float_mask is not None) == float_mask
    U = rng.standard_normal((d, len(groups)))
    expected = np.zeros((n, c))
    for w, g in enumerate(groups):
        k, j = divmod(g, P)
        expected[:, k] += mask[:, j] * (X @ U[:, w])
    np.testing.assert_allclose(op.forward(U), expected, rtol=1e-12)
    R = rng.standard_normal((n, c))
    # <A U, R> = <U, A^T R>, for the restricted and the full adjoint
    assert np.vdot(op.forward(U), R) == pytest.approx(np.vdot(U, op.adjoint(R)), rel=1e-12)
    np.testing.assert_allclose(design.full_adjoint(R)[:, groups], op.adjoint(R), rtol=1e-12)
    G_expected = np.column_stack([X.T @ (mask[:, g % P] * R[:, g // P]) for g in groups])
    np.testing.assert_allclose(op.adjoint(R), G_expected, rtol=1e-12)
    assert (len(op._byte_blocks) > 1) == (n_threads > 1)
    # CSR rows go through the same blocks
    sparse_design = GatedReLUDesign(sparse.csr_matrix(X), mask, c, get_backend(backend),
                                    RowWorkers(n_threads))
    sparse_op = sparse_design.restrict(groups)
    np.testing.assert_allclose(sparse_op.forward(U), expected, rtol=1e-12)
    np.testing.assert_allclose(sparse_op.adjoint(R), G_expected, rtol=1e-12)
    np.testing.assert_allclose(sparse_design.full_adjoint(R)[:, groups], G_expected,
                               rtol=1e-12)
    # Patterns used twice per output (the ReLU design's +v and -w columns)
    doubled = GatedReLUDesign(X, mask, c, get_backend(backend), RowWorkers(n_threads),
                              column_patterns=np.tile(np.arange(P), 2))
    every = np.arange(doubled.n_groups)
    np.testing.assert_allclose(
        doubled.full_adjoint(R),
        RestrictedGatedDesign(doubled, every, float_mask=False).adjoint(R), rtol=1e-12)


def test_effective_n_threads_follows_blas_and_n_jobs():
    cpus = _parallel.available_cpus()
    assert _parallel.effective_n_threads(-1) == cpus
    assert _parallel.effective_n_threads(3) == 3
    with threadpool_limits(limits=1, user_api="blas"):
        assert _parallel.effective_n_threads(None) == 1
    with pytest.raises(ValueError, match="n_jobs == 0"):
        _parallel.effective_n_threads(0)


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="backend must be one of"):
        check_backend("torch")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None,
                    reason="CuPy is installed: the missing-CuPy error cannot happen")
def test_cupy_backend_without_cupy_says_how_to_install():
    with pytest.raises(ImportError, match=r"pip install 'skconvexnn\[gpu\]'"):
        check_backend("cupy")


def test_float32_design_computes_in_float32_and_certifies_in_float64():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((30, 4)).astype(np.float32)
    mask = (rng.random((30, 6)) > 0.5).astype(np.uint8)
    design = GatedReLUDesign(X, mask, 1, get_backend("numba"))
    op = design.restrict(np.array([1, 2, 5]))
    assert op.float_mask.dtype == np.float32
    U = rng.standard_normal((4, 3)).astype(np.float32)
    R = rng.standard_normal((30, 1))
    assert op.forward(U).dtype == np.float32 and op.adjoint(R).dtype == np.float32
    # The certificate's products in float64 read the same patterns
    F64 = op.forward(U, dtype=np.float64)
    assert F64.dtype == np.float64
    np.testing.assert_allclose(F64, op.forward(U), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(design.full_adjoint(R, dtype=np.float64)[:, [1, 2, 5]],
                               op.adjoint(R), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fista_vector_kernels_match_numpy(dtype):
    from skconvexnn._core.fista_kernels import extrapolate, restart_product, step_products

    rng = np.random.default_rng(3)
    G, x_new, y, x = (rng.standard_normal((4, 9)).astype(dtype) for _ in range(4))
    lin, quad = step_products(G, x_new, y)
    assert lin == pytest.approx(np.vdot(G, x_new - y), rel=1e-5)
    assert quad == pytest.approx(np.vdot(x_new - y, x_new - y), rel=1e-5)
    assert restart_product(y, x_new, x) == pytest.approx(np.vdot(y - x_new, x_new - x),
                                                         rel=1e-5)
    out = np.empty_like(y)
    extrapolate(x_new, x, 0.3, out)
    np.testing.assert_allclose(out, x_new + 0.3 * (x_new - x), rtol=1e-6)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_gets_threads_of_its_own():
    import multiprocessing

    rng = np.random.default_rng(4)
    X = rng.standard_normal((600, 5))
    mask = (rng.random((600, 300)) > 0.5).astype(np.uint8)
    design = GatedReLUDesign(X, mask, 1, get_backend("numba"), RowWorkers(2))
    R = rng.standard_normal((600, 1))
    expected = design.full_adjoint(R)  # the parent's pool now has a thread
    assert _parallel._POOLS

    def child(queue):
        queue.put(np.allclose(design.full_adjoint(R), expected))

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    process.join(timeout=60)
    alive = process.is_alive()
    if alive:
        process.kill()
    assert not alive, "the forked child hung on the parent's thread pool"
    assert queue.get(timeout=5)


def test_fista_updates_match_the_compiled_ones():
    rng = np.random.default_rng(0)
    G, x_new, y, x = (rng.standard_normal((5, 7)) for _ in range(4))
    numba = get_backend("numba")
    np.testing.assert_allclose(NUMPY.step_products(G, x_new, y),
                               numba.step_products(G, x_new, y), rtol=1e-12)
    assert NUMPY.restart_product(y, x_new, x) == pytest.approx(
        numba.restart_product(y, x_new, x), rel=1e-12)
    out_ref, out = np.empty_like(x), np.empty_like(x)
    NUMPY.extrapolate(x_new, x, 0.3, out_ref)
    numba.extrapolate(x_new, x, 0.3, out)
    np.testing.assert_allclose(out, out_ref, rtol=1e-14)
    # The numpy backend has no cone projection of its own: it borrows the compiled one.
    assert NUMPY.cone_finish_projections is numba.cone_finish_projections
