"""skconvexnn against scnn on the same convex ReLU programs.

Run in a virtual environment that has both skconvexnn and scnn (see benchmarks/README.md):

    python benchmarks/bench_scnn.py [--model gated|relu] [--threads 1] [--tol 1e-8]
                                    [--problems breast_cancer digits synthetic] [--out FILE]

``--model gated`` (default): scnn's ``ConvexGatedReLU`` solved by its R-FISTA against
``solve_gated_relu``. ``--model relu``: scnn's ``ConvexReLU`` solved by its augmented
Lagrangian (``AL``) against ``solve_relu``; the objective and constraint violation of
scnn's weights are recomputed here from the weights it returns.

Every solver runs in a fresh worker process (so peak RSS is its own) with the BLAS
thread count pinned by environment variables. For each problem the table gives scnn's
final objective and time (float32, its default, and float64); skconvexnn's run that
stops by itself at ``--stop-tol`` (the estimators' default 1e-3); and its run to a
certified relative duality gap of ``--tol``, whose objective trace gives the time it
needs to reach scnn's final objective.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from problems import LAM, PROBLEMS  # noqa: E402


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _gated_output(X_u, gates, weights, strict=True):
    """``sum_j D_j X U_j`` with patterns ``1[X g > 0]``; weights (d, P, c)."""
    scores = X_u @ gates
    mask = scores > 0 if strict else scores >= 0
    Z = np.einsum("nd,dpc->npc", X_u, weights)
    return np.einsum("np,npc->nc", mask, Z)


def _relu_network_output(X_u, weights):
    """Output of the ReLU network of convex weights (2, d, P, c) on rows ``X_u``."""
    return (np.maximum(np.einsum("nd,dpc->npc", X_u, weights[0]), 0)
            - np.maximum(np.einsum("nd,dpc->npc", X_u, weights[1]), 0)).sum(axis=1)


def relu_objective_and_violation(X_u, Y, gates, weights):
    """The C-ReLU objective (scnn's scaling) and the largest constraint violation of
    weights (2, d, P, c) with strict patterns ``1[X_u g > 0]``."""
    mask = X_u @ gates > 0
    pre = np.einsum("nd,sdpc->snpc", X_u, weights)
    F = np.einsum("np,snpc->nc", mask, pre * np.array([1.0, -1.0])[:, None, None, None])
    n, c = Y.shape
    norms = np.linalg.norm(weights, axis=1)
    objective = ((F - Y) ** 2).sum() / (2 * n * c) + LAM * norms.sum()
    signs = (2.0 * mask - 1.0)[None, :, :, None]
    violation = float(max(0.0, -(signs * pre).min()))
    return float(objective), violation


def run_ours(problem, dtype, tol, model):
    from skconvexnn import solve_gated_relu, solve_relu

    solve = solve_relu if model == "relu" else solve_gated_relu
    # Load the compiled kernels (from numba's cache) outside the timed region, as the
    # scnn run has torch imported before its clock starts.
    rng = np.random.default_rng(0)
    solve(rng.standard_normal((20, 3)).astype(dtype), rng.standard_normal(20),
          rng.standard_normal((3, 4)), 0.1)
    base_rss = _peak_rss_mb()
    trace = []
    start = time.perf_counter()

    def callback(objective):
        trace.append((time.perf_counter() - start, objective))

    X_u, X_test_u, gates = problem.unitized()
    solution = solve(X_u.astype(dtype), problem.Y_train, gates, LAM, loss="squared_error",
                     strict_patterns=True, tol=tol, max_iter=200000, callback=callback)
    wall = time.perf_counter() - start
    c = problem.Y_train.shape[1]
    result = dict(wall=wall, objective=solution.objective, gap=solution.duality_gap,
                  iterations=solution.n_iter, active=solution.n_active,
                  converged=solution.converged, trace=trace, peak_rss_mb=_peak_rss_mb(),
                  base_rss_mb=base_rss)
    if model == "relu":
        weights = np.zeros((2, X_u.shape[1], gates.shape[1], c))
        weights[:, :, solution.gate_indices] = solution.weights
        F_test = _relu_network_output(X_test_u, weights)
        result["violation"] = solution.constraint_violation
    else:
        weights = np.zeros((X_u.shape[1], gates.shape[1], c))
        weights[:, solution.gate_indices] = solution.weights
        F_test = _gated_output(X_test_u, gates, weights)
    result["test_score"] = problem.score(F_test)
    return result


def run_scnn(problem, dtype, model):
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU, ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL, RFISTA

    c = problem.Y_train.shape[1]
    y_train = problem.Y_train[:, 0] if c == 1 else problem.Y_train
    base_rss = _peak_rss_mb()
    if model == "relu":
        # pyscnn 0.0.10's ConvexReLU.set_parameters checks the wrong indices when
        # bias=True (it expects parameters[2] of shape (c, p) and reads a parameters[4])
        # and fails after the solve, as it hands the weights back. Assign them plainly.
        ConvexReLU.set_parameters = lambda self, parameters: setattr(
            self, "parameters", parameters)
        net = ConvexReLU(problem.gates, c=c, bias=True)
        solver = AL(net)
    else:
        net = ConvexGatedReLU(problem.gates, c=c, bias=True)
        solver = RFISTA(net)
    metrics = Metrics()
    start = time.perf_counter()
    net, metrics = optimize_model(net, solver, metrics, problem.X_train, y_train,
                                  regularizer=NeuronGL1(LAM), return_convex=True,
                                  unitize_data=True, dtype=dtype)
    wall = time.perf_counter() - start
    params = [np.asarray(p, dtype=np.float64) for p in net.parameters]
    # scnn de-duplicates its patterns with np.unique, which sorts them: the weights come
    # back in the order of the returned gates net.G, not of the gates it was given.
    scnn_gates = np.asarray(net.G, dtype=np.float64)
    X_test = np.hstack([problem.X_test, np.ones((len(problem.X_test), 1))])
    result = dict(wall=wall, iterations=len(metrics.objective) - 2,
                  peak_rss_mb=_peak_rss_mb(), base_rss_mb=base_rss)
    if model == "relu":
        # parameters: V (c, p, d), its biases (c, p), W, its biases, in the original
        # feature scale; the program lives in the unitized one (columns times norms).
        V = np.concatenate([params[0], params[1][..., None]], axis=-1)
        W = np.concatenate([params[2], params[3][..., None]], axis=-1)
        weights = np.stack([V, W]).transpose(0, 3, 2, 1)  # (2, d+1, p, c)
        X_u, _, _ = problem.unitized()
        gates = np.vstack([scnn_gates, np.zeros((1, scnn_gates.shape[1]))])
        Xa = np.hstack([problem.X_train, np.ones((len(problem.X_train), 1))])
        col_norms = np.linalg.norm(Xa, axis=0)
        col_norms[col_norms == 0] = 1.0
        objective, violation = relu_objective_and_violation(
            X_u, problem.Y_train, gates, weights * col_norms[None, :, None, None])
        result.update(objective=objective, violation=violation,
                      reported_objective=float(metrics.objective[-1]),
                      active=int((np.linalg.norm(weights, axis=1) > 0).sum()),
                      test_score=problem.score(_relu_network_output(X_test, weights)))
    else:
        # scnn's ``model(X)`` fails for several outputs, so apply its returned model by
        # hand: its gates act on the standardized (not unitized) rows, its weights on
        # [X, 1]; parameters are weights (c, p, d) and biases (c, p).
        weights = np.concatenate([params[0], params[1][..., None]], axis=-1)
        mask = problem.X_test @ scnn_gates > 0
        F_test = np.einsum("np,npc->nc", mask, np.einsum("nd,cpd->npc", X_test, weights))
        result.update(objective=float(metrics.objective[-1]),
                      active=int((np.linalg.norm(weights, axis=-1) > 0).sum()),
                      test_score=problem.score(F_test))
    return result


def _worker(args):
    problem = PROBLEMS[args.problem]()
    if args.worker == "ours":
        result = run_ours(problem, args.dtype, args.tol, args.model)
    else:
        result = run_scnn(problem, args.dtype, args.model)
    print("RESULT " + json.dumps(result))


def _spawn(worker, problem, dtype, threads, tol, model):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", worker, "--problem",
           problem, "--dtype", dtype, "--tol", str(tol), "--model", model]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"worker {worker}/{problem} failed:\n{out.stderr[-3000:]}")


def time_to_objective(trace, target):
    """First time at which the objective trace is at or below ``target``."""
    for t, objective in trace:
        if objective <= target:
            return t
    return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tol", type=float, default=1e-8,
                        help="skconvexnn's tolerance for the certified, traced run")
    parser.add_argument("--stop-tol", type=float, default=1e-3,
                        help="skconvexnn's tolerance for the run that stops by itself")
    parser.add_argument("--model", choices=["gated", "relu"], default="gated",
                        help="gated: ConvexGatedReLU + R-FISTA; relu: ConvexReLU + AL")
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", choices=["ours", "scnn"], help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float64", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)

    rows = []
    for name in args.problems:
        scnn_runs = {dt: _spawn("scnn", name, dt, args.threads, args.tol, args.model)
                     for dt in ("float32", "float64")}
        ours = _spawn("ours", name, "float64", args.threads, args.tol, args.model)
        ours_stop = _spawn("ours", name, "float64", args.threads, args.stop_tol, args.model)
        best = min(scnn_runs.values(), key=lambda r: r["wall"])
        target = best["objective"]
        reach = time_to_objective(ours["trace"], target)
        ours_summary = {k: v for k, v in ours.items() if k != "trace"}
        stop_summary = {k: v for k, v in ours_stop.items() if k != "trace"}
        rows.append(dict(problem=name, scnn=scnn_runs, ours=ours_summary,
                         ours_self_stop=stop_summary,
                         scnn_target=target, ours_time_to_target=reach,
                         speedup=best["wall"] / reach))
        s32, s64 = scnn_runs["float32"], scnn_runs["float64"]
        relu = args.model == "relu"
        method = "AL" if relu else "R-FISTA"
        print(f"\n## {name}, {args.model} ({args.threads} BLAS thread(s))")
        print("| solver | final objective | time (s) | iterations | active | test score "
              "| peak RSS (MB) |" + (" constraint violation |" if relu else ""))
        print("|---|---|---|---|---|---|---|" + ("---|" if relu else ""))
        rows_out = [(f"scnn {method} float32", s32), (f"scnn {method} float64", s64),
                    (f"skconvexnn (tol={args.stop_tol:g}, gap {ours_stop['gap']:.1e})",
                     ours_stop),
                    (f"skconvexnn (tol={args.tol:g}, gap {ours['gap']:.1e})", ours)]
        for label, r in rows_out:
            print(f"| {label} | {r['objective']:.7f} | {r['wall']:.3f} | {r['iterations']} "
                  f"| {r['active']} | {r['test_score']:.4f} | {r['peak_rss_mb']:.0f} |"
                  + (f" {r['violation']:.1e} |" if relu else ""))
        print(f"\nskconvexnn reaches scnn's final objective {target:.7f} in {reach:.3f} s: "
              f"{best['wall'] / reach:.1f}x faster than scnn's faster run ({best['wall']:.3f} s).")
        print(f"Stopping by itself at tol={args.stop_tol:g}, skconvexnn takes "
              f"{ours_stop['wall']:.3f} s ({best['wall'] / ours_stop['wall']:.1f}x faster than "
              f"scnn) and ends {100 * (target - ours_stop['objective']) / target:.2f}% below "
              f"scnn's objective.")
        # How far the certificate lags the objective: when was the objective itself within
        # 1e-6 of the final (certified) one?
        near = [i for i, (_, obj) in enumerate(ours["trace"])
                if obj - ours["objective"] <= 1e-6 * ours["objective"]]
        if near:
            print(f"Its objective is within 1e-6 (relative) of its final, certified one from "
                  f"iteration {near[0] + 1} ({ours['trace'][near[0]][0]:.3f} s); the gap "
                  f"certifies {args.tol:g} at iteration {ours['iterations']}.")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
