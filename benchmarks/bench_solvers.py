"""Which solver ``solver="auto"`` should mean: working set against plain FISTA.

    python benchmarks/bench_solvers.py [--model relu|gated] [--tol 1e-6]

On the three benchmark problems of ``bench_scnn.py`` (same rows, gates and lambda),
solves the program with ``solver="working_set"`` and ``solver="fista"`` to a certified
relative gap of ``--tol`` and prints wall time, iterations and objective. One BLAS
thread; the compiled kernels are loaded before the clock starts.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from problems import LAM, PROBLEMS  # noqa: E402

from skconvexnn import solve_gated_relu, solve_relu  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["relu", "gated"], default="relu")
    parser.add_argument("--tol", type=float, default=1e-6)
    args = parser.parse_args()
    solve = solve_relu if args.model == "relu" else solve_gated_relu
    rng = np.random.default_rng(0)
    solve(rng.standard_normal((20, 3)), rng.standard_normal(20),
          rng.standard_normal((3, 4)), 0.1)  # load the kernels
    print("| problem | solver | time (s) | iterations | objective | gap | converged |")
    print("|---|---|---|---|---|---|---|")
    for name, make in PROBLEMS.items():
        problem = make()
        X_u, _, gates = problem.unitized()
        for solver in ("working_set", "fista"):
            start = time.perf_counter()
            sol = solve(X_u, problem.Y_train, gates, LAM, loss="squared_error",
                        strict_patterns=True, tol=args.tol, max_iter=100000,
                        solver=solver)
            wall = time.perf_counter() - start
            print(f"| {name} | {solver} | {wall:.3f} | {sol.n_iter} | {sol.objective:.7f} "
                  f"| {sol.duality_gap:.1e} | {sol.converged} |", flush=True)


if __name__ == "__main__":
    main()
