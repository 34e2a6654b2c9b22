"""Where the array kernels come from: one switch for the whole package.

A backend is a small namespace of the kernels that touch ``n x m`` data (the masked
products) or every weight (the group prox). Dense products go through the array
library's own BLAS in every backend.

- ``"numba"``: compiled CPU kernels (:mod:`skconvexnn._core.masked_ops`); the default.
- ``"numpy"``: plain NumPy, a readable reference the compiled kernels are tested against.
- ``"cupy"``: the GPU backend (optional extra ``gpu``).
"""

from types import SimpleNamespace

import numpy as np

BACKENDS = ("auto", "numpy", "numba", "cupy")


def _numpy_masked_rowsum(Z, mask, runs, run_starts, F):
    F[...] = 0
    for k in range(F.shape[1]):
        for first, stop, pattern in runs[run_starts[k]:run_starts[k + 1]]:
            F[:, k] += np.einsum("ij,ij->i", Z[:, first:stop],
                                 mask[:, pattern:pattern + stop - first])


def _numpy_masked_broadcast(R, mask, runs, run_starts, B):
    for k in range(R.shape[1]):
        for first, stop, pattern in runs[run_starts[k]:run_starts[k + 1]]:
            np.multiply(mask[:, pattern:pattern + stop - first], R[:, k:k + 1],
                        out=B[:, first:stop])


def _numpy_group_norms(U):
    return np.sqrt(np.einsum("ij,ij->j", U, U, dtype=np.float64))


def _numpy_group_soft_threshold(V, threshold, out):
    norms = _numpy_group_norms(V)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > threshold, 1.0 - threshold / norms, 0.0)
    np.multiply(V, scale.astype(V.dtype, copy=False), out=out)
    return np.maximum(norms - threshold, 0.0)


NUMPY = SimpleNamespace(
    name="numpy",
    masked_rowsum=_numpy_masked_rowsum,
    masked_broadcast=_numpy_masked_broadcast,
    group_norms=_numpy_group_norms,
    group_soft_threshold=_numpy_group_soft_threshold,
)


def _numba_kernels():
    from ._core import masked_ops

    return SimpleNamespace(
        name="numba",
        masked_rowsum=masked_ops.masked_rowsum,
        masked_broadcast=masked_ops.masked_broadcast,
        group_norms=masked_ops.group_norms,
        group_soft_threshold=masked_ops.group_soft_threshold,
    )


def _is_cupy_array(X):
    return type(X).__module__.split(".")[0] == "cupy"


def check_backend(name):
    """Validate a backend name and its availability without building anything.

    Raises
    ------
    ValueError
        If ``name`` is not one of ``BACKENDS``.
    ImportError
        If ``name == "cupy"`` and CuPy cannot be imported.
    """
    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}; got {name!r}.")
    if name == "cupy":
        try:
            import cupy  # noqa: F401
        except ImportError as exc:
            raise ImportError(
                "backend='cupy' needs CuPy and a CUDA GPU. Install the GPU extra with "
                "`pip install 'skconvexnn[gpu]'` (or a cupy-cudaXXx wheel that matches "
                "your CUDA), or use backend='numba' on the CPU."
            ) from exc
        raise NotImplementedError(
            "The CuPy backend is not implemented yet; use backend='numba'."
        )


def get_backend(name="auto", X=None):
    """Return the kernel namespace for ``name``.

    ``"auto"`` picks ``"cupy"`` when ``X`` is a CuPy array and ``"numba"`` otherwise.
    """
    if name == "auto":
        name = "cupy" if X is not None and _is_cupy_array(X) else "numba"
    check_backend(name)
    if name == "numpy":
        return NUMPY
    return _numba_kernels()
