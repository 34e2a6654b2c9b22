"""One gated fit across a Dask cluster: time per ADMM iteration and the workers' memory.

The data are drawn on the workers, block by block (a dask array: nothing of their size
is ever on the driver): ``X`` standard normal float32, labels from a planted ReLU
network of 20 units. A ``LocalCluster`` of two single-threaded worker processes with a
memory limit each (1.9 GB: below the dense data size of 1e7 rows x 50 float32, 2 GB) fits
``GatedReLUClassifier`` on it; the same problem on ``--memory-rows`` rows is also fitted
in memory (FISTA's working set, the default solver) and on the cluster, side by side.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_distributed.py \\
        --rows 10000000 --memory-rows 1000000 --max-iter 20

Prints one line per fit: rows, blocks, iterations, seconds, seconds per iteration, the
certified relative gap, training accuracy on a sample, and each worker's peak RSS.
"""

import argparse
import os
import resource
import time

import numpy as np


def features(seed, rows, n_features):
    """One block of ``X``, drawn in float32 from its own seed."""
    return np.random.default_rng(seed).standard_normal((rows, n_features),
                                                       dtype=np.float32)


def planted_labels(seed, rows, n_features, W, b, v):
    """The block's labels: its features drawn again (no block is held twice)."""
    hidden = np.maximum(features(seed, rows, n_features) @ W + b, 0.0)
    return (hidden @ v > 0).astype(np.int64)


def make_data(n_rows, n_features, block_rows, seed=0):
    """``(X, y)`` as dask arrays in blocks of ``block_rows`` rows, each block of ``X``
    and of ``y`` computed on its own (so that loading ``X`` never waits on ``y``)."""
    import dask
    import dask.array as da

    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n_features, 20)).astype(np.float32) / np.sqrt(n_features)
    b = rng.standard_normal(20).astype(np.float32) * 0.5
    v = rng.standard_normal(20).astype(np.float32)
    v -= v.mean()
    sizes = [min(block_rows, n_rows - start) for start in range(0, n_rows, block_rows)]
    X = da.concatenate([da.from_delayed(dask.delayed(features)(seed + k, r, n_features),
                                        shape=(r, n_features), dtype=np.float32)
                        for k, r in enumerate(sizes)])
    y = da.concatenate([da.from_delayed(dask.delayed(planted_labels)(
        seed + k, r, n_features, W, b, v), shape=(r,), dtype=np.int64)
        for k, r in enumerate(sizes)])
    return X, y


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class RSSWatch:
    """The peak resident memory of processes, sampled every ``interval`` seconds by a
    thread (a spawned worker's own ``ru_maxrss`` starts at its parent's, so it cannot
    say what the worker used)."""

    def __init__(self, pids, interval=0.2):
        import threading

        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]
        self.peaks = [0] * len(pids)
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            for i, process in enumerate(self.processes):
                try:
                    self.peaks[i] = max(self.peaks[i], process.memory_info().rss)
                except Exception:  # a restarted worker: its successor is not watched
                    pass
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return [peak / 2 ** 20 for peak in self.peaks]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=1e7)
    parser.add_argument("--memory-rows", type=float, default=1e6,
                        help="rows of the side-by-side fit in memory and on the cluster "
                             "(0: skip)")
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--block-rows", type=float, default=2.5e5,
                        help="rows per block of the large fit")
    parser.add_argument("--memory-block-rows", type=float, default=2.5e5,
                        help="rows per block of the side-by-side fit on the cluster")
    parser.add_argument("--patterns", type=int, default=32)
    parser.add_argument("--alpha", type=float, default=1e-3)
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--max-iter", type=int, default=20,
                        help="ADMM iterations of the large fit")
    parser.add_argument("--memory-limit", default="1.9GB",
                        help="each worker's memory limit (its process is restarted at "
                             "95%% of it)")
    args = parser.parse_args()

    import dask
    from dask.distributed import Client, LocalCluster
    from sklearn.exceptions import ConvergenceWarning
    import warnings

    from skconvexnn import GatedReLUClassifier

    def model(**kwargs):
        return GatedReLUClassifier(n_patterns=args.patterns, alpha=args.alpha,
                                   tol=args.tol, random_state=0, **kwargs)

    def report(label, fitted, seconds, X, y, rows, blocks, workers_rss=None):
        n = min(rows, 200000)
        Xs, ys = (np.asarray(X[:n]), np.asarray(y[:n]))
        accuracy = fitted.score(Xs, ys)
        line = (f"{label}: rows {rows:.0e}, blocks {blocks}, iterations {fitted.n_iter_}, "
                f"{seconds:.1f} s, {seconds / max(fitted.n_iter_, 1):.2f} s/iteration, "
                f"gap {fitted.duality_gap_:.1e}, converged {fitted.converged_}, "
                f"accuracy {accuracy:.4f} (first {n} rows)")
        if workers_rss is not None:
            line += ", worker peak RSS " + ", ".join(f"{mb:.0f} MB" for mb in workers_rss)
        print(line, flush=True)

    # Blocks stay in memory (no spilling to disk, no pausing): the limit is the test.
    with dask.config.set({"distributed.worker.memory.target": False,
                          "distributed.worker.memory.spill": False,
                          "distributed.worker.memory.pause": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                         memory_limit=args.memory_limit, host="127.0.0.1",
                         dashboard_address=None) as cluster, Client(cluster) as client:
        print(f"LocalCluster: 2 workers x 1 thread, memory_limit {args.memory_limit} each; "
              f"data {args.rows:.0e} x {args.features} float32 = "
              f"{args.rows * args.features * 4 / 1e9:.2f} GB", flush=True)
        warnings.simplefilter("ignore", ConvergenceWarning)
        if args.memory_rows:
            rows = int(args.memory_rows)
            X, y = make_data(rows, args.features, int(args.memory_block_rows))
            X_np, y_np = dask.compute(X, y)
            start = time.perf_counter()
            in_memory = model(max_iter=10000).fit(X_np, y_np)
            report("in memory (working set)", in_memory, time.perf_counter() - start,
                   X_np, y_np, rows, 1)
            start = time.perf_counter()
            on_cluster = model(max_iter=2000).fit(X, y)
            report("on the cluster (ADMM)", on_cluster, time.perf_counter() - start,
                   X_np, y_np, rows, X.numblocks[0])
            print(f"objectives: in memory {in_memory.objective_:.6g}, cluster "
                  f"{on_cluster.objective_:.6g}", flush=True)
            del X_np, y_np
        client.restart()  # fresh worker processes, so that peak RSS is this fit's
        rows = int(args.rows)
        X, y = make_data(rows, args.features, int(args.block_rows))
        watch = RSSWatch(client.run(os.getpid).values())
        start = time.perf_counter()
        large = model(max_iter=args.max_iter, verbose=2).fit(X, y)
        seconds = time.perf_counter() - start
        rss = watch.stop()
        X_head, y_head = dask.compute(X[:200000], y[:200000])
        report("on the cluster (ADMM)", large, seconds, X_head, y_head, rows,
               X.numblocks[0], rss)
        print(f"driver peak RSS {peak_rss_mb():.0f} MB (the side-by-side fit in memory "
              "included)", flush=True)


if __name__ == "__main__":
    main()
