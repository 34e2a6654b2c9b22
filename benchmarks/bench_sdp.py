"""The SDP relaxation's certified lower bound: our splitting against CVXPY's conic solvers.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sdp.py [--cases ...] [--time-limit 300]
        [--conic-max-rows 100] [--out FILE]

Cases (features standardized on the training rows; a hidden bias and a free output bias;
``beta`` is the seed's weight decay, ``alpha = beta / (n c)`` in the library's scaling):

- ``planted``: the seed's planted two-layer teacher, n = 25, d = 2, c = 5 (test: 25
  fresh rows of the same teacher), beta in {0.1, 0.01};
- ``spiral``: a 3-arm spiral, 60 training points (and 60 test points), one-hot targets;
- ``iris``: 75/75 split with ``random_state=42``, beta in {0.1, 0.01};
- ``breast_cancer``: stratified training subsets of 50, 100 and 200 rows;
- ``digits``: PCA to 20 dimensions, 10, 30 and 100 rows per class (n = 100, 300, 1000,
  the seed's MNIST setting at n = 1000).

For each: the bound and time of CVXPY + Clarabel and CVXPY + SCS on the reduced form
(up to ``--conic-max-rows`` rows), our Douglas-Rachford splitting's certified bound and
the time at which it first came within 1e-4 of Clarabel's (from its certificate
history), the rounded network's and the sampled exact-ReLU network's objectives (upper
bounds) and test scores, and ``MLPClassifier(max_iter=2000)`` / ``MLPRegressor`` on the
same split. One JSON line per case to ``--out``.
"""

import argparse
import datetime
import json
import platform
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.preprocessing import StandardScaler

from skconvexnn import solve_relu, solve_sdp_relaxation
from skconvexnn.network import relu_network
from skconvexnn.patterns import add_intercept_column, sample_gates
from skconvexnn.sdp import SDPRelaxation, round_to_network


def _spiral(n, arms=3, noise=0.05, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % arms
    radius = rng.uniform(0.1, 1.0, n)
    angle = 2 * np.pi * labels / arms + 3 * radius + noise * rng.standard_normal(n)
    return np.c_[radius * np.cos(angle), radius * np.sin(angle)], labels


def _planted(n, seed=0, d=2, c=5, width=4):
    rng = np.random.default_rng(seed)
    U, V = rng.standard_normal((d, width)), rng.standard_normal((width, c))
    X = rng.standard_normal((2 * n, d))
    Y = np.maximum(X @ U, 0) @ V + 0.1 * rng.standard_normal((2 * n, c))
    return X[:n], Y[:n], X[n:], Y[n:]


def _cases(names):
    if "planted" in names:
        Xtr, Ytr, Xte, Yte = _planted(25)
        for beta in (0.1, 0.01):
            yield "planted n=25", beta, Xtr, Ytr, Xte, Yte, False
    if "spiral" in names:
        X, y = _spiral(120)
        yield "spiral n=60", 0.01, X[::2], y[::2], X[1::2], y[1::2], True
    if "iris" in names:
        X, y = load_iris(return_X_y=True)
        Xtr, Xte, ytr, yte = train_test_split(X, y, train_size=75, random_state=42)
        for beta in (0.1, 0.01):
            yield "iris 75/75", beta, Xtr, ytr, Xte, yte, True
    if "breast_cancer" in names:
        X, y = load_breast_cancer(return_X_y=True)
        for n in (50, 100, 200):
            Xtr, Xte, ytr, yte = train_test_split(X, y, train_size=n, stratify=y,
                                                  random_state=0)
            yield f"breast_cancer n={n}", 0.1, Xtr, ytr, Xte, yte, True
    if "digits" in names:
        X, y = load_digits(return_X_y=True)
        X = PCA(20, random_state=0).fit_transform(X)
        rng = np.random.default_rng(0)
        for per_class in (10, 30, 100):
            train = np.concatenate([rng.permutation(np.flatnonzero(y == k))[:per_class]
                                    for k in range(10)])
            test = np.setdiff1d(np.arange(len(y)), train)
            yield (f"digits-pca20 n={10 * per_class}", 0.1, X[train], y[train], X[test],
                   y[test], True)


def _targets(y, classes):
    index = np.searchsorted(classes, y)
    if len(classes) == 2:
        return (2.0 * index - 1.0)[:, None]
    return np.eye(len(classes))[index]


def _score(outputs, Y, classification, classes):
    if classification:
        if outputs.shape[1] == 1:
            predicted = classes[(outputs[:, 0] > 0).astype(int)]
        else:
            predicted = classes[np.argmax(outputs, axis=1)]
        return float(np.mean(predicted == Y))
    residual = ((outputs - Y) ** 2).sum()
    return float(1 - residual / ((Y - Y.mean(axis=0)) ** 2).sum())  # R^2


def run_case(name, beta, Xtr, ytr, Xte, yte, classification, args):
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
    classes = np.unique(ytr) if classification else None
    Y = _targets(ytr, classes) if classification else np.asarray(ytr, dtype=float)
    n, c = Y.shape
    alpha = beta / (n * c)
    X_aug, Xte_aug = add_intercept_column(Xtr), add_intercept_column(Xte)
    row = dict(case=name, n=n, d=Xtr.shape[1], c=c, beta=beta, alpha=alpha)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = None
        if n <= args.conic_max_rows:
            for solver in ("clarabel", "scs"):
                result = solve_sdp_relaxation(X_aug, Y, alpha, solver=solver)
                row[f"{solver}_bound"], row[f"{solver}_s"] = result.lower_bound, result.time
                if solver == "clarabel":
                    reference = result.lower_bound
        ours = solve_sdp_relaxation(X_aug, Y, alpha, tol=args.tol, max_iter=10 ** 6,
                                    time_limit=args.time_limit)
    row.update(ours_bound=ours.lower_bound, ours_primal=ours.objective,
               ours_gap=ours.relative_gap, ours_s=ours.time, ours_iter=ours.n_iter,
               ours_converged=ours.converged)
    if reference is not None:
        reached = [h for h in ours.history
                   if h["lower_bound"] >= reference * (1 - 1e-4)]
        row["ours_to_1e-4_s"] = reached[0]["time"] if reached else None
        row["ours_to_1e-4_iter"] = reached[0]["iteration"] if reached else None

    program = SDPRelaxation(X_aug, Y, alpha)
    rounded = round_to_network(program, ours.factor, max_iter=1000, random_state=0)
    outputs = np.maximum(Xte_aug @ rounded.U, 0) @ rounded.V.T + rounded.bias
    row.update(rounded_objective=rounded.objective, rounded_width=rounded.U.shape[1],
               rounded_test=_score(outputs, yte,
                                   classification, classes))

    start = time.perf_counter()
    offset = Y.mean(axis=0)
    gates = sample_gates(Xtr, args.n_patterns, fit_intercept=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        solution = solve_relu(X_aug, Y - offset, gates, alpha)
    network = relu_network(solution.weights, fit_intercept=False)
    U, V = network.coefs[0], network.coefs[1].T
    bias = program.output_bias(np.maximum(X_aug @ U, 0) @ V.T)
    outputs = np.maximum(Xte_aug @ U, 0) @ V.T + bias
    row.update(relu_objective=program.network_objective(U, V, bias),
               relu_s=time.perf_counter() - start,
               relu_test=_score(outputs, yte,
                                classification, classes))
    best = min(row["relu_objective"], row["rounded_objective"])
    row["global_gap"] = (best - ours.lower_bound) / best

    mlp = (MLPClassifier if classification else MLPRegressor)(max_iter=2000,
                                                             random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp.fit(Xtr, ytr)
    row["mlp_test"] = float(mlp.score(Xte, yte))
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+",
                        default=["planted", "spiral", "iris", "breast_cancer", "digits"])
    parser.add_argument("--time-limit", type=float, default=300.0)
    parser.add_argument("--tol", type=float, default=1e-5)
    parser.add_argument("--conic-max-rows", type=int, default=100)
    parser.add_argument("--n-patterns", type=int, default=300)
    parser.add_argument("--out", default="benchmarks/out/sdp.jsonl")
    args = parser.parse_args()
    header = dict(date=datetime.datetime.now().isoformat(timespec="seconds"),
                  machine=platform.platform(), processor=platform.processor(),
                  time_limit=args.time_limit, tol=args.tol)
    print(json.dumps(header), flush=True)
    with open(args.out, "a") as out:
        out.write(json.dumps(header) + "\n")
        for case in _cases(args.cases):
            row = run_case(*case, args)
            print(json.dumps(row), flush=True)
            out.write(json.dumps(row) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
