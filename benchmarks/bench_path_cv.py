"""Path cross-validation (``*CV`` estimators) against GridSearchCV of cold fits.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_path_cv.py [--models gated relu]
        [--dataset digits] [--alphas 20] [--out FILE]

The data (digits by default, or breast_cancer or wine) are standardized once (both
sides see the same X). ``XxxCV(alphas=20, cv=5)`` fits
every fold as a warm-started path from ``alpha_max`` down, then refits at ``alpha_``;
``GridSearchCV(Xxx(), {"alpha": search.alphas_}, cv=5)`` fits every (fold, alpha) cold,
then refits. Both use the same folds, the same gates (the CV estimator's gate seed) and
``tol=1e-3`` (the default), one process, one BLAS thread; so their per-alpha scores agree
up to the solver's tolerance, and the time ratio is what warm starts buy. For scale, one
``MLPClassifier(max_iter=2000, random_state=0)`` fit on a training fold (the first) is
timed too: the speed issue asks for no CV estimator above 10x it on tables up to 1,000
rows.
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
import sklearn  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skconvexnn  # noqa: E402
from skconvexnn import (ConvexReLUClassifier, ConvexReLUClassifierCV,  # noqa: E402
                        GatedReLUClassifier, GatedReLUClassifierCV)

MODELS = {"gated": (GatedReLUClassifier, GatedReLUClassifierCV),
          "relu": (ConvexReLUClassifier, ConvexReLUClassifierCV)}
DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}


def _timed(estimator, X, y):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)
    return time.perf_counter() - start


def compare(name, X, y, n_alphas):
    Estimator, EstimatorCV = MODELS[name]
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    search = EstimatorCV(alphas=n_alphas, cv=folds, random_state=0, n_jobs=1)
    path_time = _timed(search, X, y)
    grid = GridSearchCV(Estimator(random_state=search._gate_seed),
                        {"alpha": search.alphas_}, cv=folds, n_jobs=1)
    grid_time = _timed(grid, X, y)
    warm, cold = search.cv_results_, grid.cv_results_
    return {
        "model": name, "path_cv_s": path_time, "grid_search_s": grid_time,
        "speedup": grid_time / path_time,
        "alpha_path": search.alpha_, "alpha_grid": grid.best_params_["alpha"],
        "score_path": search.best_score_, "score_grid": grid.best_score_,
        "max_score_diff": float(np.max(np.abs(warm["mean_test_score"]
                                              - cold["mean_test_score"]))),
        "fit_time_path": warm["mean_fit_time"].round(3).tolist(),
        "fit_time_grid": cold["mean_fit_time"].round(3).tolist(),
        "n_neurons": warm["mean_n_neurons"].tolist(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS),
                        default=["gated", "relu"])
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="digits")
    parser.add_argument("--alphas", type=int, default=20)
    parser.add_argument("--out", help="also write the rows as JSON here")
    args = parser.parse_args()
    X, y = DATASETS[args.dataset](return_X_y=True)
    X = StandardScaler().fit_transform(X)
    machine = platform.processor() or platform.machine()
    print(f"# {datetime.datetime.now():%Y-%m-%d %H:%M}  {machine}  {os.cpu_count()} cores  load {os.getloadavg()[0]:.2f}  BLAS threads 1  "
          f"skconvexnn {skconvexnn.__version__}  scikit-learn {sklearn.__version__}")
    print(f"# {args.dataset} {X.shape}, {args.alphas} alphas, 5 stratified folds, tol 1e-3")
    train = next(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))[0]
    with threadpool_limits(1):
        mlp_time = _timed(MLPClassifier(max_iter=2000, random_state=0), X[train], y[train])
    print(f"# one MLPClassifier(max_iter=2000) fit on a training fold: {mlp_time:.2f} s")
    print(f"{'model':6} {'path CV s':>10} {'GridSearch s':>13} {'speed-up':>9} {'CV / MLP':>9} "
          f"{'alpha_ (path / grid)':>22} {'score (path / grid)':>20} {'max |diff|':>10}")
    rows = []
    with threadpool_limits(1):
        for name in args.models:
            row = compare(name, X, y, args.alphas)
            row.update(dataset=args.dataset, mlp_fit_s=mlp_time)
            rows.append(row)
            print(f"{name:6} {row['path_cv_s']:10.1f} {row['grid_search_s']:13.1f} "
                  f"{row['speedup']:8.2f}x {row['path_cv_s'] / mlp_time:8.1f}x "
                  f"{row['alpha_path']:10.3g} / "
                  f"{row['alpha_grid']:<9.3g} {row['score_path']:9.4f} / "
                  f"{row['score_grid']:<8.4f} {row['max_score_diff']:10.4f}", flush=True)
            print(f"#   per-alpha mean fit time, path: {row['fit_time_path']}")
            print(f"#   per-alpha mean fit time, cold: {row['fit_time_grid']}")
            print(f"#   mean hidden units: {row['n_neurons']}", flush=True)
    print(f"# load at the end {os.getloadavg()[0]:.2f}")
    if args.out:
        with open(args.out, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
