"""The kernel view (Dwaraknath, Ergen & Pilanci 2023): the NTK against the optimal kernel.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_kernels.py [--datasets ...]
        [--n-gates 100] [--alpha 1e-3] [--out FILE]

On each table (70/30 split, stratified for the classifiers, features standardized on
the training part) the same ``--n-gates`` gates (``sample_gates``, seed 0) define the
gated program with the squared loss on the estimators' targets (+-1 for two classes,
one-hot for more, ``y`` centred and over its standard deviation for diabetes,
as the regressors fit it), and for it:

(a) kernel ridge regression with the gated network's NTK (``GatedReLUKernel(gates)``,
    weights ``1 / m``), and with its infinite-width limit (``ArcCosineNTK``);
(b) kernel ridge regression with the optimal multiple kernel (``solver="reweighting"``
    to a gap of 1e-8, weights ``||u_j||``);
(c) the gated networks the estimators fit: ``loss="squared_error"`` on the same gates
    (the default working-set solver, ``tol=1e-3``; its optimum is (b)'s), and the
    estimator's default loss (log-loss for the classifiers);
(d) ``MLPClassifier`` / ``MLPRegressor(max_iter=2000, random_state=0)``.

Kernel ridge uses ``alpha * n_train * n_outputs`` (the program's scaling), so its
objective is the program's ``J``. The training objective is ``J`` of the kernel weights
for (a) and (b), the program's objective for (c) with squared loss; the others fit
other objectives ("-"). Test scores: accuracy (classifiers, argmax or sign of the
outputs) or R^2. Then ``J`` along the seed's reweighting iteration from the NTK
weights (``reweight``), and the time of the two solvers to a gap of 1e-6 on each table.

``--estimator-rows N ...`` times instead ``GatedReLURegressor()`` with
``solver="reweighting"`` and ``"working_set"`` at its defaults (``tol=1e-3``, 100
patterns) on ``N`` synthetic rows of 10 features, and ``--estimator-tables`` the
estimators with the squared loss on diabetes, breast_cancer and wine (standardized, all
rows); ``--repeats`` fits each that many times (median).
"""

import argparse
import datetime
import json
import os
import platform
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.kernel_ridge import KernelRidge  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import skconvexnn  # noqa: E402
from skconvexnn import solve_gated_relu  # noqa: E402
from skconvexnn.kernels import (ArcCosineNTK, GatedReLUKernel, mkl_objective,  # noqa: E402
                                ntk_weights, reweight)
from skconvexnn.patterns import add_intercept_column, sample_gates  # noqa: E402

DATASETS = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits,
            "diabetes": load_diabetes}
REWEIGHTING_STEPS = (0, 1, 2, 5, 10, 20, 50, 100)


def _data(name):
    X, y = DATASETS[name](return_X_y=True)
    classify = name != "diabetes"
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y if classify else None)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if classify:
        classes = np.unique(y_train)
        encode = ((lambda v: (2.0 * (v == classes[1]) - 1.0)[:, None]) if len(classes) == 2
                  else (lambda v: (v[:, None] == classes).astype(float)))
        Y_train, Y_test = encode(y_train), encode(y_test)
    else:
        # Centred and scaled, as the regressors fit y (output bias, target_scale_).
        center, scale = y_train.mean(), y_train.std()
        Y_train, Y_test = ((v[:, None] - center) / scale for v in (y_train, y_test))
    return classify, X_train, X_test, y_train, y_test, Y_train, Y_test


def _score(classify, outputs, Y):
    if classify:
        if Y.shape[1] == 1:
            return float(np.mean(np.sign(outputs[:, 0]) == Y[:, 0]))
        return float(np.mean(outputs.argmax(1) == Y.argmax(1)))
    return float(1 - np.sum((outputs - Y) ** 2) / np.sum((Y - Y.mean(0)) ** 2))


def _kernel_ridge(kernel, X_train, Y_train, X_test, ridge):
    machine = KernelRidge(alpha=ridge, kernel=kernel)
    return machine.fit(X_train, Y_train).predict(X_test).reshape(len(X_test), -1)


def _timed(function):
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def run(name, n_gates, alpha):
    classify, X_train, X_test, y_train, y_test, Y_train, Y_test = _data(name)
    gates = sample_gates(X_train, n_gates, random_state=0)
    X_aug = add_intercept_column(X_train)
    # The program's loss is sum_ik (f_ik - y_ik)^2 / (2 n c): its kernel ridge penalty.
    ridge = alpha * len(X_train) * Y_train.shape[1]
    rows = []

    def row(model, objective, score, seconds):
        rows.append(dict(model=model, objective=objective, score=score, seconds=seconds))

    ntk = ntk_weights(gates)
    outputs, seconds = _timed(lambda: _kernel_ridge(GatedReLUKernel(gates), X_train, Y_train,
                                                    X_test, ridge))
    row("(a) NTK, these gates", mkl_objective(X_train, Y_train, gates, ntk, alpha),
        _score(classify, outputs, Y_test), seconds)
    outputs, seconds = _timed(lambda: _kernel_ridge(ArcCosineNTK(), X_train, Y_train, X_test,
                                                    ridge))
    row("(a) NTK, infinite width", None, _score(classify, outputs, Y_test), seconds)

    optimum, seconds = _timed(lambda: solve_gated_relu(
        X_aug, Y_train, gates, alpha, solver="reweighting", tol=1e-8, max_iter=1000))
    eta = np.zeros((n_gates, Y_train.shape[1]))
    eta[optimum.gate_indices] = np.linalg.norm(optimum.weights, axis=0)
    # One kernel machine per output: each output has its own kernel weights.
    outputs = np.column_stack([
        _kernel_ridge(GatedReLUKernel(gates, eta[:, k]), X_train, Y_train[:, [k]], X_test,
                      ridge) for k in range(Y_train.shape[1])])
    row("(b) optimal MKL kernel", mkl_objective(X_train, Y_train, gates, eta, alpha),
        _score(classify, outputs, Y_test), seconds)

    network = (skconvexnn.GatedReLUClassifier if classify else skconvexnn.GatedReLURegressor)
    squared = network(n_patterns=n_gates, alpha=alpha, loss="squared_error", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, seconds = _timed(lambda: squared.fit(X_train, y_train))
    row("(c) gated network, squared loss", squared.objective_,
        squared.score(X_test, y_test), seconds)
    default = network(n_patterns=n_gates, alpha=alpha, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, seconds = _timed(lambda: default.fit(X_train, y_train))
    if classify:
        row("(c) gated network, default loss", None, default.score(X_test, y_test), seconds)
    mlp = (MLPClassifier if classify else MLPRegressor)(max_iter=2000, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, seconds = _timed(lambda: mlp.fit(X_train, y_train))
    row("(d) MLP(max_iter=2000)", None, mlp.score(X_test, y_test), seconds)

    _, path = reweight(X_train, Y_train, gates, alpha, n_steps=max(REWEIGHTING_STEPS))
    trace = {step: float(path[step] / optimum.objective - 1) for step in REWEIGHTING_STEPS}

    solvers = {}
    for solver in ("reweighting", "working_set"):
        solution, seconds = _timed(lambda: solve_gated_relu(
            X_aug, Y_train, gates, alpha, solver=solver, tol=1e-6, max_iter=100000))
        solvers[solver] = dict(seconds=seconds, n_iter=solution.n_iter,
                               gap=solution.duality_gap, objective=solution.objective)
    return dict(dataset=name, shape=list(X_train.shape), n_outputs=Y_train.shape[1],
                optimum=optimum.objective, rows=rows, reweighting=trace, solvers=solvers)


def _both_solvers(make, X, y, label, repeats):
    """Fit ``make(solver=...)`` with each solver ``repeats`` times: median seconds."""
    for solver in ("reweighting", "working_set"):
        times = []
        for _ in range(repeats):
            model = make(solver=solver, random_state=0)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                times.append(_timed(lambda: model.fit(X, y))[1])
        print(f"{label} solver={solver!r}: median {np.median(times):7.2f} s of {repeats}  "
              f"{model.n_iter_:6d} iterations  gap {model.duality_gap_:.1e}  "
              f"objective {model.objective_:.9g}", flush=True)


def estimator_rows(n, repeats):
    """Both solvers through ``GatedReLURegressor()`` on ``n`` synthetic rows."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 10))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    _both_solvers(skconvexnn.GatedReLURegressor, X, y, f"GatedReLURegressor {n} x 10",
                  repeats)


def estimator_tables(repeats):
    """Both solvers through the estimators with the squared loss on the small tables."""
    for name in ("diabetes", "breast_cancer", "wine"):
        X, y = DATASETS[name](return_X_y=True)
        X = StandardScaler().fit_transform(X)
        if name == "diabetes":
            make = skconvexnn.GatedReLURegressor
        else:
            def make(**params):
                return skconvexnn.GatedReLUClassifier(loss="squared_error", **params)
        _both_solvers(make, X, y, f"{name} {X.shape}", repeats)


def _cell(value, fmt):
    return format(value, fmt) if value is not None else format("-", f">{fmt.split('.')[0]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=sorted(DATASETS),
                        default=["breast_cancer", "wine", "digits", "diabetes"])
    parser.add_argument("--estimator-rows", nargs="+", type=int, default=[])
    parser.add_argument("--estimator-tables", action="store_true")
    parser.add_argument("--repeats", type=int, default=1,
                        help="fits per solver with --estimator-rows/--estimator-tables")
    parser.add_argument("--n-gates", type=int, default=100)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--out", help="also write the results as JSON here")
    args = parser.parse_args()
    machine = platform.processor() or platform.machine()
    print(f"# {datetime.datetime.now():%Y-%m-%d %H:%M}  {machine}  {os.cpu_count()} cores  "
          f"load {os.getloadavg()[0]:.2f}  BLAS threads 1  skconvexnn "
          f"{skconvexnn.__version__}  scikit-learn {sklearn.__version__}")
    print(f"# {args.n_gates} gates, alpha {args.alpha:g}, squared loss, 70/30 split")
    results = []
    with threadpool_limits(1):
        for n in args.estimator_rows:
            estimator_rows(n, args.repeats)
        if args.estimator_tables:
            estimator_tables(args.repeats)
        timing_only = args.estimator_rows or args.estimator_tables
        for name in [] if timing_only else args.datasets:
            result = run(name, args.n_gates, args.alpha)
            results.append(result)
            print(f"\n## {name} {tuple(result['shape'])}, {result['n_outputs']} output(s), "
                  f"optimum {result['optimum']:.6g}")
            print(f"| {'model':34} | {'train objective J':>17} | {'test score':>10} | "
                  f"{'fit s':>6} |")
            print(f"|{'-' * 36}|{'-' * 19}:|{'-' * 11}:|{'-' * 7}:|")
            for r in result["rows"]:
                print(f"| {r['model']:34} | {_cell(r['objective'], '17.6g')} | "
                      f"{r['score']:10.4f} | {r['seconds']:6.2f} |")
            trace = "  ".join(f"{step}: {gap:.2e}" for step, gap in result["reweighting"].items())
            print(f"reweighting from the NTK, J / optimum - 1 after each step: {trace}")
            for solver, s in result["solvers"].items():
                print(f"solver={solver:12} to gap 1e-6: {s['seconds']:7.2f} s  "
                      f"{s['n_iter']:6d} iterations  gap {s['gap']:.1e}  "
                      f"objective {s['objective']:.9g}", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
