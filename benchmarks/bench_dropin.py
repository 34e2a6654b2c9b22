"""The drop-in, tried as a user would: one MLP script, run with scikit-learn's import and
with skconvexnn's, side by side (RESULTS.md, section 23).

The script is a Pipeline (StandardScaler, MLPClassifier(random_state=0)) in a
GridSearchCV over ``hidden_layer_sizes``, ``alpha`` and ``early_stopping`` (5-fold
stratified CV, shuffled with seed 0); the two runs differ only in the class imported.
Printed per dataset and import: the best CV accuracy, its parameters, the mean CV
accuracy of the defaults and the median fit time of one fit.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dropin.py \\
        --datasets breast_cancer wine [--no-grid]
"""

import argparse
import time
import warnings

import numpy as np
import sklearn.neural_network
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

import skconvexnn.neural_network

DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits}
GRID = {"mlp__hidden_layer_sizes": [(50,), (100,)], "mlp__alpha": [1e-4, 1e-2, 1.0],
        "mlp__early_stopping": [False, True]}


def user_script(MLPClassifier, X, y, grid):
    """What a user writes; only ``MLPClassifier`` changes between the two runs."""
    pipe = Pipeline([("scale", StandardScaler()), ("mlp", MLPClassifier(random_state=0))])
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    search = GridSearchCV(pipe, grid, cv=cv, n_jobs=1).fit(X, y)
    return search


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--no-grid", action="store_true",
                        help="the defaults only (a grid of one point)")
    args = parser.parse_args()
    grid = {key: values[:1] for key, values in GRID.items()} if args.no_grid else GRID
    grid = {**grid, "mlp__hidden_layer_sizes": [(100,)] if args.no_grid
            else GRID["mlp__hidden_layer_sizes"]}
    warnings.simplefilter("ignore", ConvergenceWarning)
    warnings.simplefilter("ignore", skconvexnn.neural_network.IgnoredParameterWarning)
    for name in args.datasets:
        X, y = DATASETS[name](return_X_y=True)
        for label, module in (("sklearn", sklearn.neural_network),
                              ("skconvexnn", skconvexnn.neural_network)):
            start = time.perf_counter()
            search = user_script(module.MLPClassifier, X, y, grid)
            seconds = time.perf_counter() - start
            results = search.cv_results_
            params = [dict(p) for p in results["params"]]
            default = next(i for i, p in enumerate(params)
                           if p["mlp__alpha"] == 1e-4 and not p["mlp__early_stopping"]
                           and p["mlp__hidden_layer_sizes"] == (100,))
            print(f"{name:14s} {label:10s} best {search.best_score_:.4f} "
                  f"{ {k[5:]: v for k, v in search.best_params_.items()} }  defaults "
                  f"{results['mean_test_score'][default]:.4f}  median fit "
                  f"{np.median(results['mean_fit_time']):.2f} s  search {seconds:.0f} s",
                  flush=True)


if __name__ == "__main__":
    main()
