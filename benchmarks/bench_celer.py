"""skconvexnn against celer's GroupLasso on the same gated ReLU programs.

Run in the benchmark environment of benchmarks/README.md (it has celer, from
``pip install ".[bench]"``):

    python benchmarks/bench_celer.py [--threads 1] [--tol 1e-6] [--celer-tol T]
                                     [--problems breast_cancer digits synthetic] [--out FILE]

The programs are bench_scnn.py's (problems.py, MATH.md section 12): unitized rows
``[X, 1]``, 500 gates, strict patterns ``1[X_u g > 0]`` (all-zero and duplicate patterns
dropped), ``alpha = 1e-3`` and scnn's scaling

    P(U) = ||F - Y||^2 / (2 n c) + alpha * sum_{pattern j, output k} ||U_jk||_2,
    F = sum_j D_j X_u U_j.

skconvexnn: ``solve_gated_relu(..., strict_patterns=True, tol=--tol)``.

celer: ``GroupLasso`` on the dense expanded design ``A = [D_1 X_u, ..., D_P X_u]``
(pattern by pattern, contiguous groups of size d). Its objective is
``1/(2n) ||y - A w||^2 + alpha_c sum_g ||w_g||``; with c outputs P separates into
``(1/c) sum_k [1/(2n) ||y_k - A w_k||^2 + c alpha sum_g ||w_kg||]``, so celer is fitted
once per output column with ``alpha_c = c * alpha`` and the fits are combined.

celer's ``tol`` is absolute in its own scaling: it stops when its duality gap (against
the best of its residual and extrapolated dual points) is ``<= tol * ||y||^2 / n``. The
target here is a *certified relative* gap <= ``--tol`` of the combined solution,
computed by this script from the returned weights alone: primal ``P(U)`` and the dual
point of the rescaled residual

    theta = (Y - F) / (n c) * min(1, alpha / max_{j,k} ||(D_j X_u)^T theta_k||),
    D(theta) = <Y, theta> - (n c / 2) ||theta||^2 <= P*,

(Fenchel dual of P: ``max <Y, theta> - (n c/2)||theta||^2 s.t. ||A_g^T theta_k|| <= alpha``),
and gap = ``(P - D) / P``. Unless ``--celer-tol`` fixes it, celer's tol is calibrated: a
cold fit at tol = 1e-6, 3e-7, 1e-7, ... until the certified gap is <= ``--tol``; the
time reported is that of the passing fit alone (the design is built outside the clock).
skconvexnn's gap is recomputed the same way as a check. The residual is a poor dual
point for celer's iterates (its own stop uses the best of it and an extrapolated
point), so a second table also certifies celer's weights with its own final dual point
(``celer_path(..., return_thetas=True)``, an untimed re-run of the same fit), rescaled
and evaluated here the same way.

Each solver runs in a fresh worker process (peak RSS is its own) with the BLAS/OpenMP/
Numba thread counts pinned by environment variables set before numpy is imported; each
is warmed on a tiny problem first (Numba kernels from cache; celer's extension modules).
"""

import os
import sys


def _pin_threads():
    """Set the thread variables from ``--threads N`` before numpy is imported."""
    threads = "1"
    for i, arg in enumerate(sys.argv):
        if arg == "--threads" and i + 1 < len(sys.argv):
            threads = sys.argv[i + 1]
        elif arg.startswith("--threads="):
            threads = arg.split("=", 1)[1]
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "NUMBA_NUM_THREADS"):
        os.environ[var] = threads


_pin_threads()

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from problems import LAM, PROBLEMS  # noqa: E402

CELER_TOLS = [1e-6, 3e-7, 1e-7, 3e-8, 1e-8, 3e-9, 1e-9, 3e-10, 1e-10, 3e-11, 1e-11,
              3e-12, 1e-12]


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def patterns(X_u, gates):
    """Strict patterns ``1[X_u g > 0]``, all-zero and duplicate columns dropped (first
    occurrence kept, in gate order), as float64 (n, P)."""
    mask = X_u @ gates > 0
    nonzero = np.flatnonzero(mask.any(axis=0))
    _, first = np.unique(mask[:, nonzero].T, axis=0, return_index=True)
    keep = nonzero[np.sort(first)]
    return mask[:, keep].astype(np.float64), keep


def certificate(X_u, Y, mask, U, alpha, theta=None):
    """Primal ``P(U)``, a dual value ``D(theta) <= P*`` and the relative gap.

    U : (d, P, c) weights in the pattern order of ``mask`` (n, P). theta (n, c): a dual
    point in this scaling; None takes the residual ``(Y - F) / (n c)``. Either way it is
    rescaled by ``min(1, alpha / max_{j,k} ||(D_j X_u)^T theta_k||)`` to be feasible."""
    n, c = Y.shape
    F = np.einsum("np,npc->nc", mask, np.einsum("nd,dpc->npc", X_u, U))
    R = Y - F
    primal = (R ** 2).sum() / (2 * n * c) + alpha * np.linalg.norm(U, axis=0).sum()
    theta = R / (n * c) if theta is None else np.array(theta, dtype=np.float64)
    # ||A_{jk}^T theta_k|| = ||X_u^T (D_j theta_k)||, for every pattern j and output k.
    dnorm = max(np.linalg.norm(X_u.T @ (mask * theta[:, [k]]), axis=0).max()
                for k in range(c))
    theta *= min(1.0, alpha / dnorm)
    dual = float((Y * theta).sum() - n * c / 2 * (theta ** 2).sum())
    return float(primal), dual, float((primal - dual) / primal)


def run_ours(problem, tol):
    from skconvexnn import solve_gated_relu

    rng = np.random.default_rng(0)
    solve_gated_relu(rng.standard_normal((20, 3)), rng.standard_normal(20),
                     rng.standard_normal((3, 4)), 0.1)  # load the Numba kernels
    X_u, _, gates = problem.unitized()
    Y = problem.Y_train
    base_rss = _peak_rss_mb()
    start = time.perf_counter()
    solution = solve_gated_relu(X_u, Y, gates, LAM, loss="squared_error",
                                strict_patterns=True, tol=tol, max_iter=200000)
    wall = time.perf_counter() - start
    peak = _peak_rss_mb()
    # Its weights with its own patterns (any order): the same certificate as celer's.
    primal, dual, gap = certificate(X_u, Y, np.asarray(solution.patterns, np.float64),
                                    solution.weights, LAM)
    return dict(wall=wall, objective=float(solution.objective),
                gap=float(solution.duality_gap), n_iter=int(solution.n_iter),
                converged=bool(solution.converged),
                n_patterns=int(len(solution.gate_indices)),
                active=int((np.linalg.norm(solution.weights, axis=0) > 0).sum()),
                check_primal=primal, check_dual=dual, check_gap=gap,
                peak_rss_mb=peak, base_rss_mb=base_rss)


def _fit_celer(A, Y, d, alpha, tol):
    """One cold GroupLasso fit per output (alpha_c = c alpha); only the fits are timed."""
    from celer import GroupLasso
    from sklearn.exceptions import ConvergenceWarning

    n, c = Y.shape
    W = np.empty((A.shape[1], c))
    wall, n_iter, own_gap, converged = 0.0, 0, 0.0, True
    for k in range(c):
        model = GroupLasso(groups=d, alpha=c * alpha, fit_intercept=False, tol=tol,
                           max_iter=100000, max_epochs=1000000)
        y = np.ascontiguousarray(Y[:, k])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            model.fit(A, y)
            wall += time.perf_counter() - start
        converged &= not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        W[:, k] = model.coef_
        n_iter += int(np.max(model.n_iter_))
        # celer's own (absolute) gap in its scaling; in ours it is divided by c.
        own_gap += float(np.max(model.dual_gap_)) / c
    return W, wall, n_iter, own_gap, converged


def _celer_thetas(A, Y, d, alpha, tol, W):
    """celer's own final dual points (untimed re-run of the same solve through
    ``celer_path``, which GroupLasso.fit wraps), in this script's scaling."""
    from celer import celer_path

    n, c = Y.shape
    theta = np.empty((n, c))
    for k in range(c):
        _, coefs, _, thetas = celer_path(
            A, np.ascontiguousarray(Y[:, k]), "grouplasso", alphas=[c * alpha], groups=d,
            tol=tol, max_iter=100000, max_epochs=1000000, p0=10, prune=True,
            return_thetas=True)
        assert np.allclose(coefs[:, 0], W[:, k], rtol=0, atol=1e-12), "not the same fit"
        theta[:, k] = thetas[0] / c  # celer's theta is feasible for alpha_c = c alpha
    return theta


def run_celer(problem, tol, celer_tol):
    from celer import GroupLasso

    rng = np.random.default_rng(0)
    GroupLasso(groups=3, alpha=0.1, fit_intercept=False).fit(
        rng.standard_normal((20, 6)), rng.standard_normal(20))  # load celer's modules
    X_u, _, gates = problem.unitized()
    Y = problem.Y_train
    n, d = X_u.shape
    mask, _ = patterns(X_u, gates)
    P = mask.shape[1]
    # celer 0.7.4's working set (prune=True, GroupLasso's default) counts group g as
    # active iff the *first* coefficient of g is non-zero ("a hack" in its source): with
    # a zero feature first (digits' pixel 0), no group ever counts, the working set is
    # empty from the second outer iteration on and celer loops without progress until
    # max_iter. So each group lists the bias column (non-zero on every non-zero pattern)
    # first: a permutation within groups, which leaves the group lasso unchanged.
    perm = np.r_[d - 1, np.arange(d - 1)]
    X_c = X_u[:, perm]
    # Expanded design, pattern by pattern: columns j*d .. (j+1)*d - 1 hold D_j X_c.
    A = np.asfortranarray((mask[:, :, None] * X_c[:, None, :]).reshape(n, P * d))
    base_rss = _peak_rss_mb()
    tols = [celer_tol] if celer_tol else CELER_TOLS
    tried, own_pass = [], None
    for t in tols:
        W, wall, n_iter, own_gap, converged = _fit_celer(A, Y, d, LAM, t)
        U = np.empty((d, P, Y.shape[1]))
        U[perm] = W.reshape(P, d, -1).transpose(1, 0, 2)  # (d, P, c), X_u's order
        primal, dual, gap = certificate(X_u, Y, mask, U, LAM)
        entry = dict(tol=t, wall=wall, gap=gap, own_gap=own_gap / primal)
        if own_pass is None:
            # The same weights certified by celer's own (extrapolated) dual point.
            theta = _celer_thetas(A, Y, d, LAM, t, W)
            _, own_dual, own_cert = certificate(X_u, Y, mask, U, LAM, theta)
            entry.update(own_dual=own_dual, own_cert=own_cert)
            if own_cert <= tol:
                own_pass = dict(entry, n_iter=n_iter, objective=primal)
        tried.append(entry)
        if gap <= tol:
            break
    return dict(wall=wall, objective=primal, dual=dual, gap=gap, celer_tol=t,
                own_gap=own_gap / primal, own_pass=own_pass, n_iter=n_iter,
                converged=converged, n_patterns=P,
                active=int((np.linalg.norm(U, axis=0) > 0).sum()),
                tried=tried, peak_rss_mb=_peak_rss_mb(), base_rss_mb=base_rss)


def _worker(args):
    problem = PROBLEMS[args.problem]()
    if args.worker == "ours":
        result = run_ours(problem, args.tol)
    else:
        result = run_celer(problem, args.tol, args.celer_tol)
    from threadpoolctl import threadpool_info
    result["threadpools"] = [(p.get("internal_api"), p.get("num_threads"))
                             for p in threadpool_info()]
    print("RESULT " + json.dumps(result))


def _spawn(worker, problem, args):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", worker, "--problem",
           problem, "--threads", str(args.threads), "--tol", str(args.tol)]
    if args.celer_tol:
        cmd += ["--celer-tol", str(args.celer_tol)]
    out = subprocess.run(cmd, env=dict(os.environ), capture_output=True, text=True,
                         check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"worker {worker}/{problem} failed:\n{out.stderr[-3000:]}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=list(PROBLEMS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--tol", type=float, default=1e-6,
                        help="certified relative gap both solvers must reach")
    parser.add_argument("--celer-tol", type=float, default=None,
                        help="celer's tol (default: calibrated to reach --tol)")
    parser.add_argument("--out", default=None)
    parser.add_argument("--worker", choices=["ours", "celer"], help=argparse.SUPPRESS)
    parser.add_argument("--problem", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)

    rows = []
    for name in args.problems:
        celer_run = _spawn("celer", name, args)
        ours = _spawn("ours", name, args)
        rows.append(dict(problem=name, celer=celer_run, ours=ours))

    print(f"\n## celer GroupLasso vs skconvexnn, gated ReLU, alpha={LAM:g}, "
          f"{args.threads} thread(s), target certified relative gap {args.tol:g}\n")
    print("| problem | celer time (s) | celer objective | celer certified rel gap "
          "| skconvexnn time (s) | skconvexnn objective | skconvexnn certified gap "
          "| ratio celer/skconvexnn |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        cr, us = row["celer"], row["ours"]
        print(f"| {row['problem']} | {cr['wall']:.3f} | {cr['objective']:.9f} "
              f"| {cr['gap']:.2e} | {us['wall']:.3f} | {us['objective']:.9f} "
              f"| {us['gap']:.2e} | {cr['wall'] / us['wall']:.2f} |")

    print("\nceler certified instead by its own final dual point (celer_path's theta, "
          "extrapolated; same weights, gap recomputed here): the largest tol in the "
          "calibration whose fit certifies the target that way.\n")
    print("| problem | celer tol | celer time (s) | certified rel gap (own dual) "
          "| ratio celer/skconvexnn |")
    print("|---|---|---|---|---|")
    for row in rows:
        own, us = row["celer"]["own_pass"], row["ours"]
        if own:
            print(f"| {row['problem']} | {own['tol']:.0e} | {own['wall']:.3f} "
                  f"| {own['own_cert']:.2e} | {own['wall'] / us['wall']:.2f} |")
        else:
            print(f"| {row['problem']} | - | - | not reached | - |")

    print("\nDetails: celer fits tried (tol / time / certified gap from the residual / "
          "from its own dual point where computed), iterations, active groups, patterns, "
          "peak RSS (MB; before the timed fits in brackets), relative objective "
          "difference, skconvexnn's gap recomputed here, weak duality across solvers "
          "(max of each one's dual minus the other's primal, relative; must be <= 0).\n")
    print("| problem | celer fits tried | celer outer iters | celer active "
          "| skconvexnn iters | skconvexnn active | patterns (celer/skc) "
          "| celer peak RSS | skc peak RSS | rel. objective diff (celer-skc) "
          "| skc gap recomputed | cross weak duality | converged (celer/skc) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        cr, us = row["celer"], row["ours"]
        tried = "; ".join(f"{t['tol']:.0e}/{t['wall']:.2f}s/{t['gap']:.1e}"
                          + (f"/{t['own_cert']:.1e}" if "own_cert" in t else "")
                          for t in cr["tried"])
        diff = (cr["objective"] - us["objective"]) / us["objective"]
        cross = max(cr["dual"] - us["objective"], us["check_dual"] - cr["objective"])
        print(f"| {row['problem']} | {tried} | {cr['n_iter']} | {cr['active']} "
              f"| {us['n_iter']} | {us['active']} | {cr['n_patterns']}/{us['n_patterns']} "
              f"| {cr['peak_rss_mb']:.0f} ({cr['base_rss_mb']:.0f}) "
              f"| {us['peak_rss_mb']:.0f} ({us['base_rss_mb']:.0f}) | {diff:+.1e} "
              f"| {us['check_gap']:.2e} | {cross / us['objective']:+.1e} "
              f"| {cr['converged']}/{us['converged']} |")
    pools = {tuple(map(tuple, row[s]["threadpools"])) for row in rows for s in ("celer", "ours")}
    print(f"\nthreadpools seen in the workers: {sorted(pools)}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
