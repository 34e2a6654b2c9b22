"""ADMM (``solver="admm"``) against the working-set FISTA on the benchmark problems.

    python benchmarks/bench_admm.py [--model relu|gated] [--problems ...] [--gates 100]
                                    [--max-iter 5000]

On the problems of ``bench_scnn.py`` (unitized rows with bias, the squared loss of scnn,
``lambda = 1e-3``, the first ``--gates`` of its gates): wall time to a certified
relative gap of 1e-3 and of 1e-6 with each solver (``max_iter`` caps both: a capped
run prints its gap), and the test score of ADMM's weights after 1, 5, 20 and 100
iterations against the score at the optimum (the seed's "the first iterations are
already accurate"). One BLAS thread; the kernels are loaded before the clock starts.
"""

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from problems import LAM, PROBLEMS  # noqa: E402

from skconvexnn import solve_gated_relu, solve_relu  # noqa: E402


def _test_outputs(model, solution, X_test, gates):
    """Outputs on the test rows of the solution's network: the gated model through its
    gates, the ReLU model through its own units."""
    if model == "gated":
        mask = (X_test @ gates[:, solution.gate_indices] > 0).astype(float)
        return np.einsum("np,npc->nc", mask,
                         np.einsum("nd,dpc->npc", X_test, solution.weights))
    V, W = solution.weights
    return (np.maximum(np.einsum("nd,dpc->npc", X_test, V), 0).sum(axis=1)
            - np.maximum(np.einsum("nd,dpc->npc", X_test, W), 0).sum(axis=1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["relu", "gated"], default="relu")
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--gates", type=int, default=100)
    parser.add_argument("--max-iter", type=int, default=5000)
    args = parser.parse_args()
    solve = solve_relu if args.model == "relu" else solve_gated_relu
    rng = np.random.default_rng(0)
    solve(rng.standard_normal((20, 3)), rng.standard_normal(20),
          rng.standard_normal((3, 4)), 0.1)  # load the kernels
    print(f"model {args.model}, {args.gates} gates, lambda {LAM}, one BLAS thread\n")
    print("| problem | solver | tol | time (s) | iterations | objective | gap | test score |")
    print("|---|---|---|---|---|---|---|---|")
    early = {}
    for name in args.problems:
        problem = PROBLEMS[name]()
        X_u, X_test, gates = problem.unitized()
        gates = gates[:, :args.gates]
        for solver in ("working_set", "admm"):
            for tol in (1e-3, 1e-6):
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sol = solve(X_u, problem.Y_train, gates, LAM, solver=solver, tol=tol,
                                max_iter=args.max_iter, strict_patterns=True)
                seconds = time.perf_counter() - start
                score = problem.score(_test_outputs(args.model, sol, X_test, gates))
                print(f"| {name} | {solver} | {tol:g} | {seconds:.2f} | {sol.n_iter} | "
                      f"{sol.objective:.7f} | {sol.duality_gap:.1e} | {score:.4f} |",
                      flush=True)
        scores = []
        for k in (1, 5, 20, 100):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                sol = solve(X_u, problem.Y_train, gates, LAM, solver="admm", tol=1e-12,
                            max_iter=k, strict_patterns=True)
            scores.append(f"{problem.score(_test_outputs(args.model, sol, X_test, gates)):.4f}"
                          f" (gap {sol.duality_gap:.1e})")
        early[name] = (scores, score)
    print("\n| problem | ADMM test score after 1 / 5 / 20 / 100 iterations | at tol 1e-6 |")
    print("|---|---|---|")
    for name, (scores, final) in early.items():
        print(f"| {name} | {' / '.join(scores)} | {final:.4f} |")


if __name__ == "__main__":
    main()
