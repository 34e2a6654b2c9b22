"""Why the certificate lags the objective: anatomy of the duality gap along a solve.

    python benchmarks/gap_anatomy.py [--problem breast_cancer]

Runs the working-set FISTA on a benchmark problem for increasing iteration budgets and,
at each stopping point, splits the gap: the certified relative gap (dual point
``-kappa grad L`` rescaled into the feasible set), the same without the rescaling
(``kappa = 1``: not a valid bound, the dual point is infeasible), the scaling ``kappa``
itself, and whether the group that limits ``kappa`` is an active one.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from problems import LAM, PROBLEMS  # noqa: E402

from skconvexnn.backends import get_backend  # noqa: E402
from skconvexnn.formulations import GatedReLUDesign  # noqa: E402
from skconvexnn.losses import make_loss  # noqa: E402
from skconvexnn.patterns import activation_patterns  # noqa: E402
from skconvexnn.penalties import GroupL2  # noqa: E402
from skconvexnn.solvers import solve_group_lasso  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", default="breast_cancer", choices=list(PROBLEMS))
    parser.add_argument("--budgets", type=int, nargs="+", default=[200, 500, 1000, 1500, 3000])
    args = parser.parse_args()
    problem = PROBLEMS[args.problem]()
    X, _, gates = problem.unitized()
    mask, _ = activation_patterns(X, gates, strict=True)
    kernels = get_backend("numba")
    design = GatedReLUDesign(X, mask, problem.Y_train.shape[1], kernels)
    loss = make_loss("squared_error", problem.Y_train)
    penalty = GroupL2(LAM, kernels)
    U0 = np.zeros((X.shape[1], design.n_groups))
    print("| iterations | objective | certified gap | gap with kappa=1 (invalid) | 1 - kappa "
          "| limiting group active | violating groups | active groups |")
    print("|---|---|---|---|---|---|---|---|")
    for budget in args.budgets:
        res = solve_group_lasso(design, loss, penalty, U0, tol=1e-14, max_iter=budget)
        norms = kernels.group_norms(design.full_adjoint(loss.gradient(res.F)))
        active = kernels.group_norms(res.U) > 0
        kappa = penalty.dual_scaling(norms)
        P = res.primal
        certified = (P - loss.dual_value(res.F, kappa)) / P
        unscaled = (P - loss.dual_value(res.F, 1.0)) / P
        print(f"| {res.n_iter} | {P:.10f} | {certified:.2e} | {unscaled:.2e} | "
              f"{1 - kappa:.2e} | {bool(active[np.argmax(norms)])} | "
              f"{int((norms > LAM).sum())} | {int(active.sum())} |")


if __name__ == "__main__":
    main()
