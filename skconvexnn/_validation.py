"""Validation of a convex program's inputs, before any compiled kernel runs."""

import numpy as np
from scipy import sparse
from sklearn.utils import check_array

from .backends import check_backend
from .losses import as_loss


def _max_abs(A):
    data = A.data if sparse.issparse(A) else A
    return float(np.max(np.abs(data))) if data.size else 0.0


def check_magnitudes(X, Y=None):
    """Refuse data whose squares overflow float64: no least-squares solve survives it.

    ``Y`` (regression targets) is checked too when given. Compares without squaring,
    so the check itself cannot overflow.
    """
    n_samples, n_features = X.shape
    limit = np.sqrt(np.finfo(np.float64).max / max(1, n_samples * n_features))
    if _max_abs(X) > limit:
        raise ValueError(
            f"X has entries as large as {_max_abs(X):.3g}: their squares overflow float64. "
            "Rescale the features (e.g. with StandardScaler).")
    if Y is not None and _max_abs(np.asarray(Y)) > np.sqrt(
            np.finfo(np.float64).max / max(1, n_samples)):
        raise ValueError(
            f"y has values as large as {_max_abs(np.asarray(Y)):.3g}: their squares overflow "
            "float64. Rescale the targets.")


def validate_program_inputs(X, Y, gates, alpha, loss, sample_weight, coef_init, coef_shape,
                            backend):
    """Check a program's inputs; drop rows with zero weight. Raises ValueError."""
    check_backend(backend)
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha must be a positive finite number; got {alpha!r}.")
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32],
                    input_name="X")
    Y = check_array(Y, ensure_2d=False, dtype=np.float64, input_name="Y")
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[0] != X.shape[0]:
        raise ValueError(f"Y must have shape ({X.shape[0]},) or ({X.shape[0]}, n_outputs); "
                         f"got {Y.shape}.")
    gates = check_array(gates, dtype=np.float64, input_name="gates")
    if gates.shape[0] != X.shape[1]:
        raise ValueError(f"gates must have shape ({X.shape[1]}, n_gates) to match X; "
                         f"got {gates.shape}.")
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0])
    sample_weight = check_array(sample_weight, ensure_2d=False, dtype=np.float64,
                                input_name="sample_weight")
    if sample_weight.shape != (X.shape[0],) or np.any(sample_weight < 0) or not (
            sample_weight.sum() > 0):
        raise ValueError("sample_weight must be non-negative, of shape (n_samples,), "
                         "and not all zero.")
    check_magnitudes(X, Y if as_loss(loss).kind == "residual" else None)
    if coef_init is not None:
        coef_init = np.asarray(coef_init)
        shape = coef_shape(X.shape[1], gates.shape[1], Y.shape[1])
        if coef_init.shape != shape:
            raise ValueError(f"coef_init must have shape {shape}; got {coef_init.shape}.")
    # Rows with zero weight do not enter the program, not even through the patterns.
    counted = sample_weight > 0
    if not counted.all():
        X, Y, sample_weight = X[counted], Y[counted], sample_weight[counted]
    return X, Y, gates, sample_weight, coef_init
