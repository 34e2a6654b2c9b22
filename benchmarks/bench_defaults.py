"""How the defaults were chosen: 5-fold CV accuracy against MLPClassifier.

    python benchmarks/bench_defaults.py [--quick] [--out FILE]

For breast_cancer and digits (scikit-learn's bundled data), every model sits in
``make_pipeline(StandardScaler(), model)`` and is scored by ``cross_validate`` with
scikit-learn's default 5-fold stratified split. ``MLPClassifier(max_iter=2000)`` and
``GatedReLUClassifier()`` with its defaults run with three seeds (gates / initial
weights), the defaults also with ``tol=1e-4``; unless ``--quick``, a grid over
``alpha``, ``n_patterns`` and ``loss`` follows (seed 0). Fit times are per fold, one
BLAS thread per worker (two folds run at a time).
"""

import argparse
import itertools
import json
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import cross_validate  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skconvexnn import GatedReLUClassifier  # noqa: E402

DATASETS = {"breast_cancer": load_breast_cancer, "digits": load_digits}


def cv_score(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = cross_validate(make_pipeline(StandardScaler(), model), X, y, cv=5, n_jobs=2,
                             return_estimator=True)
    last = [est[-1] for est in res["estimator"]]
    converged = [getattr(e, "converged_", True) for e in last]
    return dict(accuracy=float(res["test_score"].mean()),
                accuracy_std=float(res["test_score"].std()),
                fit_time=float(res["fit_time"].mean()),
                converged=float(np.mean(converged)),
                neurons=float(np.mean([getattr(e, "n_neurons_", np.nan) for e in last])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="only MLP and the defaults (three seeds), no grid")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    alphas = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]
    n_patterns = [50, 100, 200]
    losses = ["log_loss", "squared_error"]
    rows = []
    for data_name, load in DATASETS.items():
        X, y = load(return_X_y=True)
        mlp = [cv_score(MLPClassifier(max_iter=2000, random_state=s), X, y) for s in range(3)]
        mlp_acc = float(np.mean([m["accuracy"] for m in mlp]))
        mlp_time = float(np.mean([m["fit_time"] for m in mlp]))
        seeds = ", ".join(f"{m['accuracy']:.4f}" for m in mlp)
        print(f"\n## {data_name}: MLPClassifier(max_iter=2000) CV accuracy {mlp_acc:.4f} "
              f"(seeds 0-2: {seeds}), fit {mlp_time:.2f} s", flush=True)
        print("| model | CV accuracy | vs MLP | fit (s) | converged | neurons |")
        print("|---|---|---|---|---|---|")
        configs = [(f"defaults, random_state={rs}", dict(random_state=rs))
                   for rs in range(3)]
        configs += [(f"tol=1e-4, random_state={rs}", dict(tol=1e-4, random_state=rs))
                    for rs in range(3)]
        if not args.quick:
            configs += [(f"alpha={a:g}, n_patterns={p}, loss={loss}",
                         dict(alpha=a, n_patterns=p, loss=loss, random_state=0))
                        for loss, p, a in itertools.product(losses, n_patterns, alphas)]
        for label, params in configs:
            start = time.perf_counter()
            r = cv_score(GatedReLUClassifier(**params), X, y)
            r.update(dataset=data_name, model=label, mlp_accuracy=mlp_acc,
                     mlp_fit_time=mlp_time, wall=time.perf_counter() - start)
            rows.append(r)
            print(f"| GatedReLUClassifier({label}) | {r['accuracy']:.4f} | "
                  f"{r['accuracy'] - mlp_acc:+.4f} | {r['fit_time']:.2f} | "
                  f"{r['converged']:.0%} | {r['neurons']:.0f} |", flush=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
