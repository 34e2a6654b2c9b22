# cython: language_level=3
"""Activation patterns: sign masks, bit-packing and de-duplication.

A gate ``g_j`` turns the data into the activation pattern ``D_j = diag(1[X g_j >= 0])``.
Many gates give the same pattern; the convex program needs each distinct pattern once.
Patterns are compared through their bit-packed columns: each column of the ``n x P``
mask becomes ``ceil(n / 64)`` 64-bit words, hashed, and columns with equal hashes are
compared word by word, so de-duplication costs ``O(n P / 64)`` plus a sort of ``P`` hashes.
"""

import numpy as np

from libc.stdint cimport uint8_t, uint64_t, int64_t

ctypedef fused floating:
    float
    double


def n_words(Py_ssize_t n_samples):
    """Number of 64-bit words that hold one pattern column of ``n_samples`` bits."""
    return (n_samples + 63) // 64


def pack_sign_block(const floating[:, ::1] scores, Py_ssize_t row_start, bint strict,
                    uint8_t[:, ::1] mask, uint64_t[:, ::1] packed):
    """Write the patterns of one block of rows into ``mask`` and ``packed``.

    Parameters
    ----------
    scores : ndarray of shape (n_block, n_gates)
        ``X[rows] @ gates`` for a block of consecutive rows.
    row_start : int
        Index of the block's first row in the full data.
    strict : bool
        ``True`` for ``1[score > 0]`` (scnn's convention), ``False`` for ``1[score >= 0]``.
    mask : ndarray of shape (n_samples, n_gates), uint8
        Receives the 0/1 patterns of the block's rows.
    packed : ndarray of shape (n_gates, n_words), uint64
        Receives the same bits packed column by column; must start zeroed.
    """
    cdef Py_ssize_t n_block = scores.shape[0], n_gates = scores.shape[1]
    cdef Py_ssize_t i, j, row, word
    cdef uint64_t bit
    cdef bint on
    if row_start < 0 or row_start + n_block > mask.shape[0]:
        raise ValueError("pack_sign_block: block rows fall outside the mask")
    if mask.shape[1] != n_gates or packed.shape[0] != n_gates:
        raise ValueError("pack_sign_block: mask/packed do not match the number of gates")
    if packed.shape[1] * 64 < mask.shape[0]:
        raise ValueError("pack_sign_block: packed has too few words per column")
    with nogil:
        for i in range(n_block):
            row = row_start + i
            word = row >> 6
            bit = (<uint64_t> 1) << (row & 63)
            for j in range(n_gates):
                if strict:
                    on = scores[i, j] > 0
                else:
                    on = scores[i, j] >= 0
                mask[row, j] = on
                if on:
                    packed[j, word] |= bit


cdef inline uint64_t _mix64(uint64_t z) nogil:
    # splitmix64 finaliser: a bijective avalanche on 64 bits.
    z = (z ^ (z >> 30)) * <uint64_t> 0xbf58476d1ce4e5b9ULL
    z = (z ^ (z >> 27)) * <uint64_t> 0x94d049bb133111ebULL
    return z ^ (z >> 31)


def hash_columns(const uint64_t[:, ::1] packed):
    """64-bit hash of every packed pattern column (equal columns, equal hashes)."""
    cdef Py_ssize_t n_cols = packed.shape[0], n_w = packed.shape[1], j, w
    cdef uint64_t h
    hashes_arr = np.empty(n_cols, dtype=np.uint64)
    cdef uint64_t[::1] hashes = hashes_arr
    with nogil:
        for j in range(n_cols):
            h = <uint64_t> 0x9e3779b97f4a7c15ULL
            for w in range(n_w):
                h = _mix64(h ^ packed[j, w]) + <uint64_t> w
            hashes[j] = h
    return hashes_arr


cdef inline bint _same_column(const uint64_t[:, ::1] packed, Py_ssize_t a,
                              Py_ssize_t b) nogil:
    cdef Py_ssize_t w
    for w in range(packed.shape[1]):
        if packed[a, w] != packed[b, w]:
            return False
    return True


cdef inline bint _is_zero_column(const uint64_t[:, ::1] packed, Py_ssize_t a) nogil:
    cdef Py_ssize_t w
    for w in range(packed.shape[1]):
        if packed[a, w] != 0:
            return False
    return True


def unique_columns(const uint64_t[:, ::1] packed):
    """Indices of the distinct, non-zero packed columns, first occurrence kept.

    Parameters
    ----------
    packed : ndarray of shape (n_cols, n_words), uint64
        Bit-packed pattern columns (see :func:`pack_sign_block`).

    Returns
    -------
    keep : ndarray of int64, increasing
        Column ``j`` is kept when it is not all zero and no column ``i < j`` equals it.
    """
    cdef Py_ssize_t n_cols = packed.shape[0]
    hashes = hash_columns(packed)
    # A stable sort puts equal hashes next to each other in increasing column order,
    # so the first member of a run of equal columns is its first occurrence.
    order_arr = np.argsort(hashes, kind="stable").astype(np.int64)
    cdef const int64_t[::1] order = order_arr
    cdef const uint64_t[::1] h = hashes
    keep_arr = np.zeros(n_cols, dtype=np.uint8)
    cdef uint8_t[::1] keep = keep_arr
    cdef Py_ssize_t start = 0, stop, a, b, col, rep
    cdef bint duplicate
    with nogil:
        while start < n_cols:
            stop = start + 1
            while stop < n_cols and h[order[stop]] == h[order[start]]:
                stop += 1
            # Within a run of equal hashes, compare against the kept representatives.
            for a in range(start, stop):
                col = order[a]
                if _is_zero_column(packed, col):
                    continue
                duplicate = False
                for b in range(start, a):
                    rep = order[b]
                    if keep[rep] and _same_column(packed, col, rep):
                        duplicate = True
                        break
                if not duplicate:
                    keep[col] = 1
            start = stop
    return np.flatnonzero(keep_arr).astype(np.int64)
