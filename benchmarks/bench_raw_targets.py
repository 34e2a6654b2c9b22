"""Raw targets and raw features: iterations to the certificate against standardized ones.

The speed issue's item 4: a regressor on ``1000 * y + 500`` and a classifier on unscaled
features should certify (relative gap below ``tol``) at the default ``max_iter``, in at
most 3x the iterations of the standardized problem. For each estimator at its defaults
(``random_state=0``), one fit on standardized data and one on raw data, one BLAS thread:
iterations, whether it converged, the relative gap, seconds, and the training score.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_raw_targets.py
"""

import os
import sys

from sklearn.datasets import load_breast_cancer, make_regression
from sklearn.preprocessing import StandardScaler

from skconvexnn import (ConvexReLUClassifier, ConvexReLURegressor, GatedReLUClassifier,
                        GatedReLURegressor)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timed_fit  # noqa: E402


def _fit(estimator, X, y):
    seconds, warned = timed_fit(estimator, X, y)
    return (f"{estimator.n_iter_:6d} it  converged={estimator.converged_!s:5s} "
            f"gap={estimator.duality_gap_:.1e}  {seconds:6.2f} s  "
            f"score={estimator.score(X, y):.4f}  warning={warned}")


def main():
    X, y = make_regression(n_samples=300, n_features=8, noise=5.0, random_state=0)
    X = StandardScaler().fit_transform(X)
    y_standardized = (y - y.mean()) / y.std()
    for Estimator in (GatedReLURegressor, ConvexReLURegressor):
        for name, target in (("standardized y", y_standardized),
                             ("1000 y + 500", 1000 * y_standardized + 500)):
            print(f"{Estimator.__name__:22s} {name:16s}",
                  _fit(Estimator(random_state=0), X, target))
    X, y = load_breast_cancer(return_X_y=True)
    for Estimator in (GatedReLUClassifier, ConvexReLUClassifier):
        for name, features in (("standardized X", StandardScaler().fit_transform(X)),
                               ("raw X", X)):
            print(f"{Estimator.__name__:22s} {name:16s}",
                  _fit(Estimator(random_state=0), features, y))


if __name__ == "__main__":
    main()
