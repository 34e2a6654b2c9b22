"""Activation patterns: sign masks, de-duplication, gate sampling."""

import numpy as np
import pytest
from scipy import sparse

from skconvexnn import patterns
from skconvexnn._core import _patterns
from skconvexnn.patterns import activation_patterns, add_intercept_column, sample_gates


def _reference_unique(mask):
    """First occurrence of every distinct non-zero column, by plain NumPy."""
    _, first = np.unique(mask, axis=1, return_index=True)
    first = np.sort(first)
    return first[mask[:, first].any(axis=0)]


@pytest.mark.parametrize("n_samples", [1, 63, 64, 65, 200])
def test_unique_columns_keeps_first_of_each_distinct_nonzero_column(n_samples):
    rng = np.random.default_rng(n_samples)
    base = (rng.random((n_samples, 12)) > 0.5).astype(np.uint8)
    base[:, 3] = 0  # an all-zero pattern must be dropped
    mask = base[:, rng.integers(0, 12, size=40)]  # many duplicates, shuffled
    packed = np.zeros((mask.shape[1], _patterns.n_words(n_samples)), dtype=np.uint64)
    scores = mask.astype(np.float64) - 0.5
    full = np.zeros(mask.shape, dtype=np.uint8)
    _patterns.pack_sign_block(np.ascontiguousarray(scores), 0, False, full, packed)
    np.testing.assert_array_equal(full, mask)
    np.testing.assert_array_equal(_patterns.unique_columns(packed), _reference_unique(mask))


def test_activation_patterns_threshold_conventions():
    X = np.array([[1.0, 0.0], [0.0, 0.0], [-1.0, 0.0]])
    gates = np.array([[1.0, -1.0], [0.0, 0.0]])
    mask, keep = activation_patterns(X, gates)  # 1[X g >= 0]: the zero row is active
    np.testing.assert_array_equal(mask, [[1, 0], [1, 1], [0, 1]])
    np.testing.assert_array_equal(keep, [0, 1])
    mask, keep = activation_patterns(X, gates, strict=True)  # 1[X g > 0], scnn's
    np.testing.assert_array_equal(mask, [[1, 0], [0, 0], [0, 1]])


def test_activation_patterns_blocks_and_sparse_agree(monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5))
    X[rng.random(X.shape) < 0.5] = 0
    gates = rng.standard_normal((5, 50))
    gates[:, 10] = gates[:, 3] * 2.0  # same pattern as gate 3
    mask, keep = activation_patterns(X, gates)
    assert 10 not in keep and 3 in keep
    np.testing.assert_array_equal(mask, (X @ gates[:, keep] >= 0).astype(np.uint8))
    monkeypatch.setattr(patterns, "PATTERN_BLOCK_ROWS", 7)
    mask_blocks, keep_blocks = activation_patterns(sparse.csr_matrix(X), gates)
    np.testing.assert_array_equal(mask_blocks, mask)
    np.testing.assert_array_equal(keep_blocks, keep)


def test_sampled_gates_give_patterns_independent_of_feature_scaling():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    X_affine = X * np.array([1e3, 1e-2, 5.0, 1.0]) + np.array([100.0, -3.0, 0.0, 1e4])
    for fit_intercept in (True, False):
        shift = X_affine if fit_intercept else X * np.array([1e3, 1e-2, 5.0, 1.0])
        masks = []
        for data in (X, shift):
            gates = sample_gates(data, 30, fit_intercept=fit_intercept, random_state=0)
            rows = add_intercept_column(data) if fit_intercept else data
            masks.append(activation_patterns(rows, gates)[0])
        np.testing.assert_array_equal(masks[0], masks[1])


def test_sample_gates_is_reproducible_and_shaped():
    X = np.random.default_rng(1).standard_normal((20, 3))
    a = sample_gates(X, 7, fit_intercept=True, random_state=42)
    b = sample_gates(X, 7, fit_intercept=True, random_state=42)
    assert a.shape == (4, 7)
    np.testing.assert_array_equal(a, b)
    assert sample_gates(X, 7, fit_intercept=False, random_state=42).shape == (3, 7)
