"""One robust fit as a grid search runs it: iterations, time and certificate per alpha.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_robust_fit.py [--alpha 1e-2 1e-3]
                                                             [--max-iter 40000]

``RobustConvexReLUClassifier(n_patterns=20, random_state=0)`` (defaults otherwise:
``eps=0.05``, ``log_loss``, ``tol=1e-3``) on the first training split of
``KFold(5, shuffle=True, random_state=0)`` of breast_cancer (455 rows), standardized on
it; scored on the held-out 114 rows. The iteration counts are deterministic; compare two
commits by running this script from two worktrees (``PYTHONPATH=<worktree>``).
"""

import argparse
import os
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import KFold  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skconvexnn import RobustConvexReLUClassifier  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, nargs="+", default=[1e-2, 1e-3, 1e-4])
    parser.add_argument("--max-iter", type=int, default=40000)
    args = parser.parse_args()
    X, y = load_breast_cancer(return_X_y=True)
    train, test = next(KFold(5, shuffle=True, random_state=0).split(X))
    scaler = StandardScaler().fit(X[train])
    X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
    print("alpha   seconds  n_iter  converged  gap       certified  test")
    for alpha in args.alpha:
        model = RobustConvexReLUClassifier(n_patterns=20, alpha=alpha, random_state=0,
                                           max_iter=args.max_iter)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X_train, y[train])
        seconds = time.perf_counter() - start
        print(f"{alpha:<7.0e} {seconds:7.1f}  {model.n_iter_:6d}  {model.converged_!s:9}  "
              f"{model.duality_gap_:.2e}  {model.certified_accuracy_:9.3f}  "
              f"{model.score(X_test, y[test]):.3f}", flush=True)


if __name__ == "__main__":
    main()
