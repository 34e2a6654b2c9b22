"""Fit time and test accuracy against MLPClassifier, side by side: the speed issue's table.

Every model is ``make_pipeline(StandardScaler(), model)`` on the same 70/30 split
(``random_state=0``), fitted ``--repeats`` times in this one process with one BLAS
thread; the table gives the median fit seconds, the ratio of medians to
``MLPClassifier(max_iter=2000, random_state=0)``'s, and the test accuracy (the fits are
deterministic). The convex models run at their defaults with ``random_state=0``; a
first untimed fit of each compiles the Numba kernels.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_against_mlp.py
    ... --datasets breast_cancer wine digits classification_20k --robust

``classification_20k`` is ``make_classification(n_samples=20000, n_features=30,
n_informative=12, n_classes=3, n_clusters_per_class=3, random_state=0)`` (minutes per
convex fit); ``--robust`` adds ``RobustConvexReLUClassifier(eps=0.05)`` (about two
minutes a fit on breast_cancer).
"""

import argparse
import os
import statistics
import sys

from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_classification
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skconvexnn import ConvexReLUClassifier, GatedReLUClassifier, RobustConvexReLUClassifier

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import timed_fit  # noqa: E402

DATASETS = {
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "classification_20k": lambda: make_classification(
        n_samples=20000, n_features=30, n_informative=12, n_classes=3,
        n_clusters_per_class=3, random_state=0),
}


def _models(robust):
    models = {"MLPClassifier(max_iter=2000)": lambda: MLPClassifier(max_iter=2000,
                                                                     random_state=0),
              "GatedReLUClassifier()": lambda: GatedReLUClassifier(random_state=0),
              "ConvexReLUClassifier()": lambda: ConvexReLUClassifier(random_state=0)}
    if robust:
        models["RobustConvexReLUClassifier(eps=0.05)"] = (
            lambda: RobustConvexReLUClassifier(eps=0.05, random_state=0))
    return models


def _fit(make, X_train, y_train):
    pipeline = make_pipeline(StandardScaler(), make())
    seconds, warned = timed_fit(pipeline, X_train, y_train)
    return pipeline, seconds, warned


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=["breast_cancer", "wine", "digits"],
                        choices=sorted(DATASETS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--robust", action="store_true")
    args = parser.parse_args()
    models = _models(args.robust)
    print("| data (train rows) | model | fit s, median | ratio to MLP | test accuracy "
          "| ConvergenceWarning |")
    print("|---|---|---|---|---|---|")
    for name in args.datasets:
        X, y = DATASETS[name]()
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3,
                                                            random_state=0)
        mlp_seconds = None
        for label, make in models.items():
            if label != "MLPClassifier(max_iter=2000)":
                _fit(make, X_train[:50], y_train[:50])  # compile the kernels, untimed
            times = []
            for _ in range(args.repeats):
                pipeline, seconds, warned = _fit(make, X_train, y_train)
                times.append(seconds)
            median = statistics.median(times)
            mlp_seconds = median if mlp_seconds is None else mlp_seconds
            print(f"| {name} ({len(X_train)}) | `{label}` | {median:.2f} | "
                  f"{median / mlp_seconds:.2f}x | {pipeline.score(X_test, y_test):.4f} | "
                  f"{'yes' if warned else 'no'} |", flush=True)


if __name__ == "__main__":
    main()
