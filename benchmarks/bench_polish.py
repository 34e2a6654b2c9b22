"""polish_mlp: an MLP's objective and test score before and after the polish.

    python benchmarks/bench_polish.py [--datasets breast_cancer digits table20k]
                                      [--solver adam lbfgs] [--tol 1e-4]

Each data set split 70/30 (stratified, seed 0), standardized on the training part.
``MLPClassifier(max_iter=2000, random_state=0)`` with its defaults (100 ReLU units,
``alpha=1e-4``) and the ``--solver``s given is fitted on the training rows, then
:func:`skconvexnn.polish_mlp` solves the ReLU program over its 100 patterns at the
same weight decay (``alpha / n``) to a certified gap of ``--tol``. Printed: the training
objective (mean log-loss plus ``alpha / (2 n)`` times the squared weights and hidden
biases) of both networks, the gap, fit and polish times, test accuracies. One BLAS
thread. ``table20k`` is the 20,000-row ``make_classification`` problem of the
patterns issue (30 features, 12 informative, 3 classes, 3 clusters per class).
"""

import argparse
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from sklearn.datasets import load_breast_cancer, load_digits, make_classification  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skconvexnn import polish_mlp  # noqa: E402

DATASETS = {
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "table20k": lambda: make_classification(
        n_samples=20000, n_features=30, n_informative=12, n_classes=3,
        n_clusters_per_class=3, random_state=0),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--solver", nargs="+", default=["adam", "lbfgs"])
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--max-iter", type=int, default=20000)
    args = parser.parse_args()
    print("| data | MLP solver | MLP objective | polished objective | gap | MLP fit (s) | "
          "polish (s) | units | test accuracy MLP -> polished |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets:
        X, y = DATASETS[name]()
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=0)
        scaler = StandardScaler().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
        for solver in args.solver:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mlp = MLPClassifier(solver=solver, max_iter=2000, random_state=0).fit(
                    X_train, y_train)
            fit_seconds = time.perf_counter() - start
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = polish_mlp(mlp, X_train, y_train, tol=args.tol,
                                    max_iter=args.max_iter)
            polish_seconds = time.perf_counter() - start
            print(f"| {name} ({len(X_train)}) | {solver} | {result.mlp_objective:.5f} | "
                  f"{result.objective:.5f} | {result.duality_gap:.1e} | {fit_seconds:.1f} | "
                  f"{polish_seconds:.1f} | {result.mlp.coefs_[0].shape[1]} | "
                  f"{mlp.score(X_test, y_test):.4f} -> "
                  f"{result.mlp.score(X_test, y_test):.4f} |", flush=True)


if __name__ == "__main__":
    main()
