"""Timing helper shared by the benchmark scripts."""

import time
import warnings

from sklearn.exceptions import ConvergenceWarning


def timed_fit(estimator, X, y):
    """Fit ``estimator`` on ``(X, y)``; return ``(seconds, warned)``, ``warned`` whether
    the fit raised a ``ConvergenceWarning`` (recorded, not shown)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        seconds = time.perf_counter() - start
    return seconds, any(issubclass(w.category, ConvergenceWarning) for w in caught)
