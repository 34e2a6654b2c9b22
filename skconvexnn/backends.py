"""Where the array kernels come from: one switch for the whole package.

A backend is a namespace of the kernels the programs and solvers call: the masked
products and the group prox (which touch ``n x m`` data or every weight), FISTA's
fused vector updates, the ReLU program's cone projections and the robust program's
proximal maps. Solvers and penalties reach compiled code only through it (nothing
below :mod:`skconvexnn._core` is imported elsewhere but here and in the pattern
computation). Dense products go through the array library's own BLAS in every
backend.

- ``"numba"``: compiled CPU kernels (:mod:`skconvexnn._core`); the default.
- ``"numpy"``: plain NumPy for the products, the prox and FISTA's updates, a readable
  reference the compiled kernels are tested against; the cone projections and the
  robust program's maps have no NumPy version and are the compiled ones.
- ``"cupy"``: the GPU backend (optional extra ``gpu``).
"""

from functools import lru_cache
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


def _numpy_step_products(G, x_new, y):
    step = np.asarray(x_new, dtype=np.float64) - y
    return float(np.vdot(np.asarray(G, dtype=np.float64), step)), float(np.vdot(step, step))


def _numpy_restart_product(y, x_new, x):
    x_new = np.asarray(x_new, dtype=np.float64)
    return float(np.vdot(y - x_new, x_new - x))


def _numpy_extrapolate(x_new, x, beta, out):
    np.copyto(out, x_new + beta * (x_new - x))


@lru_cache(maxsize=None)
def _compiled_kernels():
    """Every compiled CPU kernel, by the name the solvers call it (imported once)."""
    from ._core import cones, fista_kernels, masked_ops, robust

    return dict(
        masked_rowsum=masked_ops.masked_rowsum,
        masked_broadcast=masked_ops.masked_broadcast,
        group_norms=masked_ops.group_norms,
        group_soft_threshold=masked_ops.group_soft_threshold,
        step_products=fista_kernels.step_products,
        restart_product=fista_kernels.restart_product,
        extrapolate=fista_kernels.extrapolate,
        cone_warm_candidates=cones.warm_candidates,
        cone_finish_projections=cones.finish_projections,
        cone_combine_warm=cones.combine_warm,
        project_pattern_sets=robust.project_pattern_sets,
        prox_loss_conjugate=robust.prox_loss_conjugate,
        robust_loss_codes=robust.LOSS_CODES,
    )


class Kernels(SimpleNamespace):
    """A backend's kernels; a kernel it has no version of is the compiled one."""

    def __getattr__(self, name):
        compiled = _compiled_kernels()
        if name in compiled:
            return compiled[name]
        raise AttributeError(f"backend {self.name!r} has no kernel {name!r}")


NUMPY = Kernels(
    name="numpy",
    masked_rowsum=_numpy_masked_rowsum,
    masked_broadcast=_numpy_masked_broadcast,
    group_norms=_numpy_group_norms,
    group_soft_threshold=_numpy_group_soft_threshold,
    step_products=_numpy_step_products,
    restart_product=_numpy_restart_product,
    extrapolate=_numpy_extrapolate,
)


def _numba_kernels():
    return Kernels(name="numba", **_compiled_kernels())


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
