"""skconvexnn against scnn's R-FISTA on the same gated ReLU programs.

Run in a virtual environment that has both skconvexnn and scnn (see benchmarks/README.md):

    python benchmarks/bench_scnn.py [--problems breast_cancer digits synthetic]
                                    [--threads 1] [--tol 1e-8] [--out FILE]

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


def run_ours(problem, dtype, tol):
    from skconvexnn import solve_gated_relu

    # Load the compiled kernels (from numba's cache) outside the timed region, as the
    # scnn run has torch imported before its clock starts.
    rng = np.random.default_rng(0)
    solve_gated_relu(rng.standard_normal((20, 3)).astype(dtype), rng.standard_normal(20),
                     rng.standard_normal((3, 4)), 0.1)
    base_rss = _peak_rss_mb()
    trace = []
    start = time.perf_counter()

    def callback(objective):
        trace.append((time.perf_counter() - start, objective))

    X_u, X_test_u, gates = problem.unitized()
    solution = solve_gated_relu(X_u.astype(dtype), problem.Y_train, gates, LAM,
                                loss="squared_error", strict_patterns=True, tol=tol,
                                max_iter=200000, callback=callback)
    wall = time.perf_counter() - start
    weights = np.zeros((X_u.shape[1], gates.shape[1], problem.Y_train.shape[1]))
    weights[:, solution.gate_indices] = solution.weights
    F_test = _gated_output(X_test_u, gates, weights)
    return dict(wall=wall, objective=solution.objective, gap=solution.duality_gap,
                iterations=solution.n_iter, active=solution.n_active,
                converged=solution.converged, test_score=problem.score(F_test),
                trace=trace, peak_rss_mb=_peak_rss_mb(), base_rss_mb=base_rss)


def run_scnn(problem, dtype):
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import RFISTA

    c = problem.Y_train.shape[1]
    y_train = problem.Y_train[:, 0] if c == 1 else problem.Y_train
    base_rss = _peak_rss_mb()
    model = ConvexGatedReLU(problem.gates, c=c, bias=True)
    metrics = Metrics()
    start = time.perf_counter()
    model, metrics = optimize_model(model, RFISTA(model), metrics, problem.X_train,
                                    y_train, regularizer=NeuronGL1(LAM),
                                    return_convex=True, unitize_data=True, dtype=dtype)
    wall = time.perf_counter() - start
    # scnn's ``model(X)`` fails for several outputs, so apply its returned model by hand:
    # its gates act on the standardized (not unitized) rows, its weights on [X, 1].
    # parameters: weights (c, p, d) and biases (c, p); a group is a neuron's [w, b].
    weights = np.concatenate([np.asarray(model.parameters[0], dtype=np.float64),
                              np.asarray(model.parameters[1], dtype=np.float64)[..., None]],
                             axis=-1)
    X_test = np.hstack([problem.X_test, np.ones((len(problem.X_test), 1))])
    mask = problem.X_test @ problem.gates > 0
    F_test = np.einsum("np,npc->nc", mask, np.einsum("nd,cpd->npc", X_test, weights))
    norms = np.linalg.norm(weights, axis=-1)
    return dict(wall=wall, objective=float(metrics.objective[-1]),
                iterations=len(metrics.objective) - 2,
                active=int((norms > 0).sum()), test_score=problem.score(F_test),
                peak_rss_mb=_peak_rss_mb(), base_rss_mb=base_rss)


def _worker(args):
    problem = PROBLEMS[args.problem]()
    if args.worker == "ours":
        result = run_ours(problem, args.dtype, args.tol)
    else:
        result = run_scnn(problem, args.dtype)
    print("RESULT " + json.dumps(result))


def _spawn(worker, problem, dtype, threads, tol):
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        env[var] = str(threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", worker, "--problem",
           problem, "--dtype", dtype, "--tol", str(tol)]
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
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", choices=["ours", "scnn"], help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float64", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)

    rows = []
    for name in args.problems:
        scnn_runs = {dt: _spawn("scnn", name, dt, args.threads, args.tol)
                     for dt in ("float32", "float64")}
        ours = _spawn("ours", name, "float64", args.threads, args.tol)
        ours_stop = _spawn("ours", name, "float64", args.threads, args.stop_tol)
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
        print(f"\n## {name} ({args.threads} BLAS thread(s))")
        print("| solver | final objective | time (s) | iterations | active | test score "
              "| peak RSS (MB) |")
        print("|---|---|---|---|---|---|---|")
        for label, r in (("scnn R-FISTA float32", s32), ("scnn R-FISTA float64", s64)):
            print(f"| {label} | {r['objective']:.7f} | {r['wall']:.3f} | {r['iterations']} "
                  f"| {r['active']} | {r['test_score']:.4f} | {r['peak_rss_mb']:.0f} |")
        r = ours_stop
        print(f"| skconvexnn (tol={args.stop_tol:g}, gap {r['gap']:.1e}) | "
              f"{r['objective']:.7f} | {r['wall']:.3f} | {r['iterations']} | "
              f"{r['active']} | {r['test_score']:.4f} | {r['peak_rss_mb']:.0f} |")
        print(f"| skconvexnn (tol={args.tol:g}, gap {ours['gap']:.1e}) | "
              f"{ours['objective']:.7f} | {ours['wall']:.3f} | {ours['iterations']} | "
              f"{ours['active']} | {ours['test_score']:.4f} | {ours['peak_rss_mb']:.0f} |")
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
