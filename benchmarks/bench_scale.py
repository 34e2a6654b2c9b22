"""Scaling in the number of rows: time per iteration and peak memory, n = 1e4 .. 1e6.

``GatedReLURegressor(n_patterns=256)`` on float32 data with d = 50 features (a planted
ReLU network plus noise), each size in a fresh process so that its peak resident set
is its own. The products run over blocks of rows (``skconvexnn._parallel``), so the
temporaries are ``block x P``, never ``n x P``; the masks are stored once, ``n x P``
bytes.

    python benchmarks/bench_scale.py                    # n = 1e4, 1e5, 1e6, n_jobs=1
    python benchmarks/bench_scale.py --n-jobs 2 --sizes 1000000
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def make_data(n_samples, n_features, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    W = rng.standard_normal((n_features, 10)).astype(np.float32) / np.sqrt(n_features)
    v = rng.standard_normal(10).astype(np.float32)
    y = np.maximum(X @ W, 0) @ v
    y += np.float32(0.1) * rng.standard_normal(n_samples, dtype=np.float32)
    return X, y


def worker(args):
    import numpy as np

    from skconvexnn import GatedReLURegressor

    X, y = make_data(args.n, args.features)
    # Compile (or load from cache) the kernels outside the clock.
    GatedReLURegressor(n_patterns=8, max_iter=5, random_state=0).fit(X[:200], y[:200])
    rss_data = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model = GatedReLURegressor(n_patterns=args.patterns, alpha=args.alpha, tol=args.tol,
                               max_iter=args.max_iter, random_state=0, n_jobs=args.n_jobs)
    start = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X, y)
    seconds = time.perf_counter() - start
    history = model.convergence_history_
    solve_seconds = float(history["time"][-1])
    print(json.dumps({
        "n": args.n, "dtype": str(model.coefs_[0].dtype), "fit_s": seconds,
        "solve_s": solve_seconds, "n_iter": int(model.n_iter_),
        "ms_per_iter": 1e3 * solve_seconds / max(1, model.n_iter_),
        "gap": float(model.duality_gap_), "converged": bool(model.converged_),
        "neurons": int(model.n_neurons_), "patterns": int(model.n_patterns_),
        "rss_data_mb": rss_data,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "r2_train_sample": float(model.score(X[:10000], y[:10000])),
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--patterns", type=int, default=256)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    rows = []
    for n in [int(float(s)) for s in args.sizes.split(",")]:
        command = [sys.executable, __file__, "--worker", "--n", str(n),
                   "--features", str(args.features), "--patterns", str(args.patterns),
                   "--alpha", str(args.alpha), "--tol", str(args.tol),
                   "--max-iter", str(args.max_iter), "--n-jobs", str(args.n_jobs)]
        out = subprocess.run(command, check=True, capture_output=True, text=True,
                             env=os.environ).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
        print(rows[-1], flush=True)
    print(f"\nn_jobs={args.n_jobs}, d={args.features}, n_patterns={args.patterns}, "
          f"alpha={args.alpha}, tol={args.tol}, max_iter={args.max_iter}\n")
    print("| n | dtype | fit (s) | iterations | ms / iteration | ms / iteration / 1e4 rows "
          "| relative gap | converged | peak RSS (MB) | RSS after data (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['dtype']} | {r['fit_s']:.2f} | {r['n_iter']} | "
              f"{r['ms_per_iter']:.2f} | {r['ms_per_iter'] * 1e4 / r['n']:.3f} | "
              f"{r['gap']:.1e} | {r['converged']} | {r['peak_rss_mb']:.0f} | "
              f"{r['rss_data_mb']:.0f} |")


if __name__ == "__main__":
    main()
