"""Three-layer convex networks against the two-layer ones and MLP(h, h).

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_three_layer.py [--datasets ...]
        [--folds 5] [--patterns 20 10] [--digits-patterns 10 4] [--out FILE]

For each table (features standardized inside the pipeline): 5-fold (stratified for the
classifiers) cross-validated score and median fit time of

- ``ThreeLayerConvexReLU*(n_patterns=P)`` (exact), ``ThreeLayerGatedReLU*(n_patterns=P)``,
- the two-layer ``ConvexReLU*()``,
- ``MLP*(hidden_layer_sizes=(20, 10), max_iter=2000, random_state=0)``,

all at their defaults otherwise (``alpha=1e-3``). Then, on the whole table, the
training objective of the exact three-layer fit (its loss plus ``alpha`` times its path
norm) against the same objective of the MLP's network: its loss with its own output
bias, plus ``alpha`` times its path norm ``sum ||w_1j|| |W2_jq| |w_3q|`` (the
second-layer biases counted as a constant first-layer unit). The MLP has freedom the
convex network lacks (its output bias, unregularized), so a lower MLP objective does not
by itself mean a better optimum; a higher one does mean SGD/L-BFGS stopped at a network
the convex program beats. Then the "polish": the exact program solved over the MLP's
own patterns (its first two layers as the gate network), whose optimum is at most the
MLP's objective without its output bias.

``planted``: a regression teacher with two hidden ReLU layers (6 and 3 units, 5
features, 600 rows, noise 0.1). ``digits`` uses ``--digits-patterns`` (10 outputs make
the exact program ten times larger).
"""

import argparse
import datetime
import json
import os
import platform
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits, load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import KFold, StratifiedKFold  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skconvexnn  # noqa: E402
from skconvexnn import (ConvexReLUClassifier, ConvexReLURegressor,  # noqa: E402
                        ThreeLayerConvexReLUClassifier, ThreeLayerConvexReLURegressor,
                        ThreeLayerGatedReLUClassifier, ThreeLayerGatedReLURegressor,
                        solve_three_layer_relu)
from skconvexnn.losses import make_loss  # noqa: E402

from timing import timed_fit  # noqa: E402

HIDDEN = (20, 10)


def planted(n=600, d=5, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W1, W2 = rng.standard_normal((d, 6)), rng.standard_normal((6, 3))
    b1, w3 = rng.standard_normal(6), rng.standard_normal(3)
    y = np.maximum(np.maximum(X @ W1 + b1, 0) @ W2, 0) @ w3
    return X, y + 0.1 * rng.standard_normal(n)


DATASETS = {
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine": lambda: load_wine(return_X_y=True),
    "digits": lambda: load_digits(return_X_y=True),
    "planted": planted,
}


def models(classification, patterns):
    if classification:
        return {"three-layer ReLU": ThreeLayerConvexReLUClassifier(n_patterns=patterns,
                                                                   random_state=0),
                "three-layer gated": ThreeLayerGatedReLUClassifier(n_patterns=patterns,
                                                                   random_state=0),
                "two-layer ReLU": ConvexReLUClassifier(random_state=0),
                f"MLP{HIDDEN}": MLPClassifier(hidden_layer_sizes=HIDDEN, max_iter=2000,
                                              random_state=0)}
    return {"three-layer ReLU": ThreeLayerConvexReLURegressor(n_patterns=patterns,
                                                              random_state=0),
            "three-layer gated": ThreeLayerGatedReLURegressor(n_patterns=patterns,
                                                              random_state=0),
            "two-layer ReLU": ConvexReLURegressor(random_state=0),
            f"MLP{HIDDEN}": MLPRegressor(hidden_layer_sizes=HIDDEN, max_iter=2000,
                                         random_state=0)}


def cross_validate(model, X, y, folds, classification):
    splitter = (StratifiedKFold if classification else KFold)(folds, shuffle=True,
                                                              random_state=0)
    scores, times, warned = [], [], False
    for train, test in splitter.split(X, y):
        pipe = make_pipeline(StandardScaler(), clone(model))
        seconds, w = timed_fit(pipe, X[train], y[train])
        scores.append(pipe.score(X[test], y[test]))
        times.append(seconds)
        warned |= w
    return float(np.mean(scores)), float(np.std(scores)), float(np.median(times)), warned


def program_targets(estimator, y):
    """The targets the fitted estimator's program fits (+-1, one-hot, or scaled y)."""
    if hasattr(estimator, "classes_"):
        index = np.searchsorted(estimator.classes_, y)
        if len(estimator.classes_) == 2:
            return (2.0 * index - 1.0)[:, None], 0.0
        return np.eye(len(estimator.classes_))[index], 0.0
    offset = np.mean(y)
    return ((y - offset) / estimator.target_scale_)[:, None], offset


def mlp_objective(mlp, X, Y, alpha, loss, scale=1.0, offset=0.0, with_bias=True):
    """The MLP's loss (in the program's units) plus alpha times its path norm, the
    second-layer biases as a constant first-layer unit."""
    W1, W2, W3 = mlp.coefs_
    b1, b2, b3 = mlp.intercepts_
    out = np.maximum(np.maximum(X @ W1 + b1, 0) @ W2 + b2, 0) @ W3 + (b3 if with_bias else 0)
    out = (out - offset) / scale
    first = np.sqrt(np.linalg.norm(W1, axis=0) ** 2 + b1 ** 2)
    path = np.sum(first[:, None, None] * np.abs(W2)[:, :, None] * np.abs(W3)[None])
    path += np.sum(np.abs(b2)[:, None] * np.abs(W3))
    return make_loss(loss, Y).value(out) + alpha * path / scale


def objectives(X, y, classification, patterns):
    X = StandardScaler().fit_transform(X)
    convex = models(classification, patterns)["three-layer ReLU"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        convex.fit(X, y)
        mlp = models(classification, patterns)[f"MLP{HIDDEN}"].fit(X, y)
    Y, offset = program_targets(convex, y)
    loss = convex.loss if classification else "squared_error"
    scale = getattr(convex, "target_scale_", 1.0)
    alpha = convex.alpha
    if not classification:
        # The MLP on the program's own targets and scale (its alpha in MLP's scaling).
        mlp = clone(mlp).set_params(alpha=alpha * len(y)).fit(X, (y - offset) / scale)
        offset, scale = 0.0, 1.0
    result = {"convex objective": convex.objective_, "convex gap": convex.duality_gap_,
              "MLP objective": mlp_objective(mlp, X, Y, alpha, loss, scale, offset)}
    # The polish: the program over the MLP's own patterns (first-layer units and a
    # constant one for the second-layer biases; its second layer as second-layer gates).
    W1, W2, _ = mlp.coefs_
    b1, b2, _ = mlp.intercepts_
    gates = np.hstack([np.vstack([W1, b1]), np.eye(X.shape[1] + 1)[:, -1:]])
    second_gates = np.vstack([W2, b2])
    X_aug = np.hstack([X, np.ones((len(X), 1))])
    polished = solve_three_layer_relu(X_aug, Y, gates, second_gates, alpha, loss=loss,
                                      tol=1e-4, max_iter=100000)
    result.update({"MLP objective without output bias": mlp_objective(
        mlp, X, Y, alpha, loss, scale, offset, with_bias=False),
        "polished objective": polished.objective, "polished gap": polished.duality_gap})
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--patterns", type=int, nargs=2, default=[20, 10])
    parser.add_argument("--digits-patterns", type=int, nargs=2, default=[10, 4])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    record = {"date": datetime.date.today().isoformat(), "machine": platform.platform(),
              "cpus": os.cpu_count(), "skconvexnn": skconvexnn.__version__,
              "sklearn": sklearn.__version__, "results": {}}
    for name in args.datasets:
        X, y = DATASETS[name]()
        classification = name != "planted"
        patterns = tuple(args.digits_patterns if name == "digits" else args.patterns)
        rows = {}
        print(f"\n{name} ({X.shape[0]} x {X.shape[1]}), patterns {patterns}", flush=True)
        for label, model in models(classification, patterns).items():
            mean, std, seconds, warned = cross_validate(model, X, y, args.folds,
                                                        classification)
            rows[label] = {"score": mean, "std": std, "fit seconds": seconds,
                           "warned": warned}
            print(f"  {label:20s} score {mean:.4f} +- {std:.4f}  fit {seconds:7.2f} s"
                  f"{'  (ConvergenceWarning)' if warned else ''}", flush=True)
        rows["objectives"] = objectives(X, y, classification, patterns)
        print("  " + ", ".join(f"{k} {v:.6g}" for k, v in rows["objectives"].items()),
              flush=True)
        record["results"][name] = rows
    if args.out:
        with open(args.out, "w") as f:
            json.dump(record, f, indent=2)


if __name__ == "__main__":
    main()
