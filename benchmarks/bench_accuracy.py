"""Cross-validated accuracy of the convex networks against MLPClassifier.

    python benchmarks/bench_accuracy.py [--datasets breast_cancer wine digits] [--out FILE]
    python benchmarks/bench_accuracy.py --relu-grid [--patterns gated|random] [--seeds 3]
                                        [--n-patterns 100 300] [--datasets ...] [--out FILE]

Every model sits in ``Pipeline([StandardScaler(), model])`` and is scored by 5-fold
stratified cross-validation (scikit-learn's default split) on the full data set.
``MLPClassifier(max_iter=2000)`` and the convex estimators' defaults run with seeds
0-2; ``ConvexReLUClassifier(patterns="random")`` shows what the gated patterns add; and,
*nested*, the convex estimators (seed 0) take ``alpha`` from a small grid by an inner
3-fold ``GridSearchCV`` in every outer training fold, so the grid never sees the test
fold. Two outer folds run at a time, one BLAS thread each.

``--relu-grid`` scores ``ConvexReLUClassifier`` at every point of
``alpha in RELU_ALPHAS x n_patterns in RELU_PATTERNS`` by the same 5-fold CV, averaged
over the random states ``0 .. --seeds - 1``: for one seed, what
``GridSearchCV(..., cv=5).cv_results_`` holds for that grid, whose best row is the grid
search's ``best_score_`` (optimistic by the selection, unlike the nested figures).
"""

import argparse
import json
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_validate  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skconvexnn import ConvexReLUClassifier, GatedReLUClassifier  # noqa: E402

DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits}
ALPHAS = [1e-4, 1e-3, 1e-2]
RELU_ALPHAS = [1e-5, 1e-4, 1e-3, 1e-2]
RELU_PATTERNS = [100, 300]


def _pipeline(model):
    return Pipeline([("scale", StandardScaler()), ("net", model)])


def score(model, X, y, grid=False):
    estimator = _pipeline(model)
    if grid:
        estimator = GridSearchCV(estimator, {"net__alpha": ALPHAS}, cv=3)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = cross_validate(estimator, X, y, cv=5, n_jobs=2, return_estimator=grid)
    out = dict(accuracy=float(res["test_score"].mean()),
               folds=[round(float(s), 4) for s in res["test_score"]],
               fit_time=float(res["fit_time"].mean()), wall=time.perf_counter() - start)
    if grid:
        out["chosen_alpha"] = [e.best_params_["net__alpha"] for e in res["estimator"]]
    return out


def relu_grid(name, X, y, n_seeds=1, patterns="gated", pattern_counts=RELU_PATTERNS):
    print("| n_patterns | " + " | ".join(f"alpha={a:g}" for a in RELU_ALPHAS) + " |")
    print("|---|" + "---|" * len(RELU_ALPHAS))
    rows = []
    for n_patterns in pattern_counts:
        cells = []
        for alpha in RELU_ALPHAS:
            runs = [score(ConvexReLUClassifier(n_patterns, alpha=alpha, patterns=patterns,
                                               random_state=seed), X, y)
                    for seed in range(n_seeds)]
            r = dict(accuracy=float(np.mean([run["accuracy"] for run in runs])),
                     per_seed=[round(run["accuracy"], 4) for run in runs],
                     folds=runs[0]["folds"],
                     fit_time=float(np.mean([run["fit_time"] for run in runs])),
                     dataset=name, model="ConvexReLUClassifier", n_patterns=n_patterns,
                     alpha=alpha, patterns=patterns)
            rows.append(r)
            cells.append(f"{r['accuracy']:.4f} ({r['fit_time']:.1f} s)")
        print(f"| {n_patterns} | " + " | ".join(cells) + " |", flush=True)
    best = max(rows, key=lambda r: r["accuracy"])
    print(f"\nbest: n_patterns={best['n_patterns']}, alpha={best['alpha']:g}: "
          f"{best['accuracy']:.4f} (per seed {best['per_seed']}; seed 0 folds "
          f"{best['folds']})")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--out", default=None)
    parser.add_argument("--relu-grid", action="store_true",
                        help="score ConvexReLUClassifier over alpha x n_patterns")
    parser.add_argument("--patterns", choices=["gated", "random"], default="gated",
                        help="ConvexReLUClassifier's patterns in --relu-grid")
    parser.add_argument("--n-patterns", type=int, nargs="+", default=RELU_PATTERNS,
                        help="n_patterns values in --relu-grid")
    parser.add_argument("--seeds", type=int, default=1,
                        help="random states averaged in --relu-grid")
    args = parser.parse_args()
    rows = []
    for name in args.datasets:
        X, y = DATASETS[name](return_X_y=True)
        print(f"\n## {name} (n={len(y)}, d={X.shape[1]}, {len(np.unique(y))} classes)")
        if args.relu_grid:
            rows += relu_grid(name, X, y, args.seeds, args.patterns, args.n_patterns)
            continue
        print("| model | 5-fold CV accuracy | per fold | fit (s per fold) | alpha chosen |")
        print("|---|---|---|---|---|")
        models = [(f"MLPClassifier(max_iter=2000, random_state={s})",
                   MLPClassifier(max_iter=2000, random_state=s), False) for s in range(3)]
        models += [(f"ConvexReLUClassifier(random_state={s})",
                    ConvexReLUClassifier(random_state=s), False) for s in range(3)]
        models += [("ConvexReLUClassifier(patterns='random', random_state=0)",
                    ConvexReLUClassifier(patterns="random", random_state=0), False),
                   ("ConvexReLUClassifier(random_state=0), alpha by inner 3-fold CV",
                    ConvexReLUClassifier(random_state=0), True)]
        models += [(f"GatedReLUClassifier(random_state={s})",
                    GatedReLUClassifier(random_state=s), False) for s in range(3)]
        models += [("GatedReLUClassifier(random_state=0), alpha by inner 3-fold CV",
                    GatedReLUClassifier(random_state=0), True)]
        for label, model, grid in models:
            r = score(model, X, y, grid)
            r.update(dataset=name, model=label)
            rows.append(r)
            chosen = ", ".join(f"{a:g}" for a in r.get("chosen_alpha", [])) or "-"
            print(f"| {label} | {r['accuracy']:.4f} | {r['folds']} | {r['fit_time']:.2f} "
                  f"| {chosen} |", flush=True)
        for prefix in ("MLPClassifier(", "ConvexReLUClassifier(random_state=",
                       "GatedReLUClassifier(random_state="):
            seeds = [r["accuracy"] for r in rows if r["dataset"] == name
                     and r["model"].startswith(prefix) and "inner" not in r["model"]]
            print(f"{prefix.split('(')[0]} defaults, mean over seeds 0-2: "
                  f"{np.mean(seeds):.4f}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
