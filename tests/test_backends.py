"""The compiled kernels against the NumPy reference, and backend selection."""

import importlib.util

import numpy as np
import pytest

from skconvexnn.backends import NUMPY, check_backend, get_backend


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_kernels_match_numpy_reference(dtype):
    numba = get_backend("numba")
    rng = np.random.default_rng(0)
    n, d, P, c = 37, 5, 9, 3
    mask = (rng.random((n, P)) > 0.4).astype(np.uint8)
    groups = np.sort(rng.choice(P * c, size=11, replace=False)).astype(np.int64)
    col_pattern, col_output = groups // c, groups % c
    Z = rng.standard_normal((n, len(groups))).astype(dtype)
    R = rng.standard_normal((n, c)).astype(dtype)
    F_ref, F = np.empty((n, c), dtype), np.empty((n, c), dtype)
    NUMPY.masked_forward(Z, mask, col_pattern, col_output, F_ref)
    numba.masked_forward(Z, mask, col_pattern, col_output, F)
    np.testing.assert_allclose(F, F_ref, rtol=1e-5 if dtype == np.float32 else 1e-12)
    B_ref, B = np.empty_like(Z), np.empty_like(Z)
    NUMPY.masked_adjoint_operand(R, mask, col_pattern, col_output, B_ref)
    numba.masked_adjoint_operand(R, mask, col_pattern, col_output, B)
    np.testing.assert_array_equal(B, B_ref)
    U = rng.standard_normal((d, 11)).astype(dtype)
    U[:, 4] *= 1e-3  # this column is shrunk to zero
    np.testing.assert_allclose(numba.group_norms(U), NUMPY.group_norms(U), rtol=1e-6)
    out_ref, out = np.empty_like(U), np.empty_like(U)
    n_ref = NUMPY.group_soft_threshold(U, 0.5, out_ref)
    n_nb = numba.group_soft_threshold(U, 0.5, out)
    np.testing.assert_allclose(out, out_ref, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(n_nb, n_ref, rtol=1e-5, atol=1e-7)
    assert not out[:, 4].any() and n_nb[4] == 0
    np.testing.assert_allclose(numba.group_norms(out), n_nb, rtol=1e-5, atol=1e-7)


def test_masked_forward_is_the_sum_of_masked_products():
    rng = np.random.default_rng(1)
    n, d, P, c = 20, 4, 5, 2
    X = rng.standard_normal((n, d))
    mask = (rng.random((n, P)) > 0.5).astype(np.uint8)
    U = rng.standard_normal((d, P * c))
    groups = np.arange(P * c)
    F = np.empty((n, c))
    get_backend("numba").masked_forward(X @ U, mask, groups // c, groups % c, F)
    expected = sum(np.outer(mask[:, j], [1] * c) * (X @ U[:, j * c:(j + 1) * c])
                   for j in range(P))
    np.testing.assert_allclose(F, expected, rtol=1e-12)


def test_unknown_backend_is_a_value_error():
    with pytest.raises(ValueError, match="backend must be one of"):
        check_backend("torch")


@pytest.mark.skipif(importlib.util.find_spec("cupy") is not None,
                    reason="CuPy is installed: the missing-CuPy error cannot happen")
def test_cupy_backend_without_cupy_says_how_to_install():
    with pytest.raises(ImportError, match=r"pip install 'skconvexnn\[gpu\]'"):
        check_backend("cupy")
