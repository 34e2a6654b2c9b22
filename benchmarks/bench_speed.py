"""Speed of the gated FISTA against the physical limit, and on two threads.

1. **Per iteration against two GEMMs.** On each benchmark problem (``problems.py``,
   scnn's programs), FISTA on every group (``solver="fista"``) runs a fixed number of
   iterations; the time per iteration (between the first and the last iteration's
   callback, so the setup is left out) is set against the time of the two dense
   products an iteration needs, ``X @ U`` (``n x (d+1)`` by ``(d+1) x cP``) and
   ``X^T @ B``, timed in the same process with the same threads.
2. **Threads.** The synthetic problem solved to a certified gap of 1e-6 with
   ``n_jobs=1`` and ``n_jobs=2``, on an idle machine and with a busy-loop process
   saturating one core, and with the default ``n_jobs`` (None) under load; beside it,
   the two GEMMs on BLAS's own 1 and 2 threads, idle and loaded.

Run it on an otherwise idle machine, with BLAS left at its default (the solver pins
BLAS to one thread inside a fit; the GEMM reference runs with ``n_jobs`` threads):

    python benchmarks/bench_speed.py
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import problems  # noqa: E402

from skconvexnn import solve_gated_relu  # noqa: E402
from skconvexnn.patterns import activation_patterns  # noqa: E402

LAM = problems.LAM


def _best_of(repeats, function):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def per_iteration(problem, n_jobs, n_iter):
    Xa, _, gates = problem.unitized()
    Y = problem.Y_train
    stamps = []
    solve_gated_relu(Xa, Y, gates, LAM, strict_patterns=True, tol=1e-300, max_iter=n_iter,
                     solver="fista", n_jobs=n_jobs,
                     callback=lambda objective: stamps.append(time.perf_counter()))
    fista_ms = 1e3 * (stamps[-1] - stamps[0]) / (len(stamps) - 1)
    mask, _ = activation_patterns(Xa, gates, strict=True)
    width = mask.shape[1] * Y.shape[1]
    rng = np.random.default_rng(0)
    U = rng.standard_normal((Xa.shape[1], width))
    B = rng.standard_normal((Xa.shape[0], width))
    with threadpool_limits(limits=n_jobs, user_api="blas"):
        gemm_ms = 1e3 * _best_of(20, lambda: (Xa @ U, Xa.T @ B))
    return fista_ms, gemm_ms, Xa.shape, width


def _fit_seconds(n_jobs, repeats=3):
    problem = problems.synthetic()
    Xa, _, gates = problem.unitized()

    def fit():
        solve_gated_relu(Xa, problem.Y_train, gates, LAM, strict_patterns=True, tol=1e-6,
                         max_iter=100000, n_jobs=n_jobs)

    fit()  # compile / warm the caches
    return _best_of(repeats, fit)


def _gemm_seconds(threads):
    """The synthetic problem's two GEMMs with BLAS's own threads."""
    problem = problems.synthetic()
    Xa, _, gates = problem.unitized()
    rng = np.random.default_rng(0)
    U = rng.standard_normal((Xa.shape[1], gates.shape[1]))
    B = rng.standard_normal((Xa.shape[0], gates.shape[1]))
    with threadpool_limits(limits=threads, user_api="blas"):
        return _best_of(5, lambda: (Xa @ U, Xa.T @ B))


def _busy_core():
    """A process that keeps one core busy until killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--skip-threads", action="store_true")
    args = parser.parse_args()
    names = ["breast_cancer", "digits", "synthetic"]
    print("## Per iteration against the two GEMMs\n")
    print("| problem | n x (d+1), cP | threads | FISTA ms / iteration | two GEMMs ms | ratio |")
    print("|---|---|---|---|---|---|")
    for n_jobs in (1, 2):
        for name in names:
            fista_ms, gemm_ms, shape, width = per_iteration(getattr(problems, name)(), n_jobs,
                                                            args.iterations)
            print(f"| {name} | {shape[0]} x {shape[1]}, {width} | {n_jobs} | "
                  f"{fista_ms:.3f} | {gemm_ms:.3f} | {fista_ms / gemm_ms:.2f} |", flush=True)
    if args.skip_threads:
        return
    print("\n## Synthetic problem to a certified gap of 1e-6: threads, idle and loaded\n")
    idle_1, idle_2 = _fit_seconds(1), _fit_seconds(2)
    busy = _busy_core()
    try:
        time.sleep(1.0)
        busy_1, busy_2, busy_default = _fit_seconds(1), _fit_seconds(2), _fit_seconds(None)
        gemm_busy = _gemm_seconds(1), _gemm_seconds(2)
    finally:
        busy.kill()
    gemm_idle = _gemm_seconds(1), _gemm_seconds(2)
    print("| machine | n_jobs=1 (s) | n_jobs=2 (s) | default n_jobs (s) | speed-up 2 vs 1 |")
    print("|---|---|---|---|---|")
    print(f"| idle | {idle_1:.3f} | {idle_2:.3f} | = n_jobs=2 | {idle_1 / idle_2:.2f}x |")
    print(f"| one core busy | {busy_1:.3f} | {busy_2:.3f} | {busy_default:.3f} | "
          f"{busy_1 / busy_2:.2f}x (default / n_jobs=1: {busy_default / busy_1:.2f}) |")
    print("\nFor comparison, OpenBLAS's own threads on the synthetic problem's two GEMMs "
          f"(ms, 1 / 2 BLAS threads): idle {1e3 * gemm_idle[0]:.2f} / "
          f"{1e3 * gemm_idle[1]:.2f}, one core busy {1e3 * gemm_busy[0]:.2f} / "
          f"{1e3 * gemm_busy[1]:.2f} ({gemm_busy[1] / gemm_busy[0]:.1f}x slower with 2).")


if __name__ == "__main__":
    main()
