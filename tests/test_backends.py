"""The compiled kernels against the NumPy reference, and backend selection."""

import importlib.util

import numpy as np
import pytest

from skconvexnn.backends import NUMPY, check_backend, get_backend
from skconvexnn.formulations import GatedReLUDesign


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_kernels_match_numpy_reference(dtype):
    numba = get_backend("numba")
    rng = np.random.default_rng(0)
    n, d, m, c = 37, 5, 11, 3
    M = (rng.random((n, m)) > 0.4).astype(np.uint8)
    starts = np.array([0, 4, 4, 11], dtype=np.int64)  # output 1 has no column
    Z = rng.standard_normal((n, m)).astype(dtype)
    R = rng.standard_normal((n, c)).astype(dtype)
    F_ref, F = np.empty((n, c), dtype), np.empty((n, c), dtype)
    NUMPY.masked_rowsum(Z, M, starts, F_ref)
    numba.masked_rowsum(Z, M, starts, F)
    np.testing.assert_allclose(F, F_ref, rtol=1e-5 if dtype == np.float32 else 1e-12,
                               atol=1e-6 if dtype == np.float32 else 0)
    assert not F[:, 1].any()
    B_ref, B = np.empty_like(Z), np.empty_like(Z)
    NUMPY.masked_broadcast(R, M, starts, B_ref)
    numba.masked_broadcast(R, M, starts, B)
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


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_design_products_are_the_masked_sums_and_adjoint(backend):
    rng = np.random.default_rng(1)
    n, d, P, c = 20, 4, 5, 2
    X = rng.standard_normal((n, d))
    mask = (rng.random((n, P)) > 0.5).astype(np.uint8)
    design = GatedReLUDesign(X, mask, c, get_backend(backend))
    groups = np.array([0, 3, 4, 6, 9], dtype=np.int64)  # (k, j) = g // P, g % P
    op = design.restrict(groups)
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


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="backend must be one of"):
        check_backend("torch")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None,
                    reason="CuPy is installed: the missing-CuPy error cannot happen")
def test_cupy_backend_without_cupy_says_how_to_install():
    with pytest.raises(ImportError, match=r"pip install 'skconvexnn\[gpu\]'"):
        check_backend("cupy")
