"""Does robust convex training pay? PGD robust test accuracy at eps in {0.01, 0.05, 0.1}.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robust.py [--eps 0.01 0.05 0.1]
                                                         [--out FILE]

Two problems, 70/30 stratified splits (seed 0):

- breast_cancer, standardized on the training split (eps in standardized units);
- digits, classes 3 against 8, pixels scaled to [0, 1] (``X / 16``), attacks clipped to
  [0, 1].

For every eps: ``RobustConvexReLUClassifier(eps=eps)``, the plain
``ConvexReLUClassifier`` and ``MLPClassifier(hidden_layer_sizes=(100,))`` are fitted
(the plain models once), then attacked on the test split with PGD (50 steps, 5
restarts, margin loss, ``skconvexnn.attacks.pgd``). Reported: clean and robust test
accuracy, the robust model's certified training accuracy, its duality gap and fit time.
"""

import argparse
import datetime
import json
import os
import platform
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skconvexnn import ConvexReLUClassifier, RobustConvexReLUClassifier  # noqa: E402
from skconvexnn.attacks import robust_accuracy  # noqa: E402


def problems():
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=0)
    scaler = StandardScaler().fit(X_tr)
    yield "breast_cancer", scaler.transform(X_tr), scaler.transform(X_te), y_tr, y_te, None
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, [3, 8])
    X, y = X[keep] / 16.0, y[keep]
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=0)
    yield "digits 3 vs 8", X_tr, X_te, y_tr, y_te, (0.0, 1.0)


def timed_fit(model, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--eps", type=float, nargs="+", default=[0.01, 0.05, 0.1])
    parser.add_argument("--n-patterns", type=int, default=20)
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    print(f"# {datetime.date.today()} {platform.processor() or platform.machine()} "
          f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")
    print("| problem | eps | model | clean acc | PGD acc | certified train acc | gap | "
          "fit s |")
    print("|---|---|---|---|---|---|---|---|")
    for name, X_tr, X_te, y_tr, y_te, clip in problems():
        plain = {
            "ConvexReLU": timed_fit(ConvexReLUClassifier(random_state=0), X_tr, y_tr),
            "MLP": timed_fit(MLPClassifier(hidden_layer_sizes=(100,), max_iter=2000,
                                           random_state=0), X_tr, y_tr),
        }
        for eps in args.eps:
            robust = timed_fit(RobustConvexReLUClassifier(
                eps=eps, n_patterns=args.n_patterns, random_state=0), X_tr, y_tr)
            for label, (model, seconds) in [(f"Robust (eps={eps:g})", robust),
                                            *plain.items()]:
                row = {
                    "problem": name, "eps": eps, "model": label,
                    "clean": float(model.score(X_te, y_te)),
                    "pgd": robust_accuracy(model, X_te, y_te, eps, clip=clip,
                                           n_steps=50, n_restarts=5, random_state=0),
                    "certified_train": getattr(model, "certified_accuracy_", None),
                    "gap": getattr(model, "duality_gap_", None),
                    "fit_seconds": seconds,
                }
                rows.append(row)
                cert = ("" if row["certified_train"] is None
                        else f"{row['certified_train']:.3f}")
                gap = "" if row["gap"] is None else f"{row['gap']:.1e}"
                print(f"| {name} | {eps:g} | {label} | {row['clean']:.3f} | "
                      f"{row['pgd']:.3f} | {cert} | {gap} | {seconds:.1f} |", flush=True)
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
