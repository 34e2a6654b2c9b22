"""The wide-table grid of the issue "Wide tables": each fit of ``bench_wide.py`` in its
own process (its own peak memory), one BLAS thread, a time limit per fit.

    python benchmarks/bench_wide_grid.py [--n 200] [--d 100 1000 5000 10000]
        [--models mlp gated relu] [--limit 1800]

Prints one markdown row per ``(n, d)``: each model's fit time, test accuracy and peak
RSS, and the convex models' time as a ratio to MLP's.
"""

import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LINE = re.compile(r"fit ([\d.]+) s, test accuracy ([\d.]+), gap (\S+), peak RSS (\d+) MB")


def run(n, d, model, limit):
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    try:
        out = subprocess.run([sys.executable, os.path.join(HERE, "bench_wide.py"), str(n),
                              str(d), model], capture_output=True, text=True, env=env,
                             timeout=limit)
    except subprocess.TimeoutExpired:
        return None, f"over {limit} s"
    match = LINE.search(out.stdout)
    if match is None:
        return None, (out.stderr.strip().splitlines() or ["failed"])[-1][:80]
    seconds, accuracy, gap, rss = match.groups()
    return float(seconds), f"{float(seconds):.1f} s, {accuracy}, {rss} MB" + (
        f", gap {gap}" if gap != "nan" else "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[200])
    parser.add_argument("--d", type=int, nargs="+", default=[100, 1000, 5000, 10000])
    parser.add_argument("--models", nargs="+", default=["mlp", "gated", "relu"])
    parser.add_argument("--limit", type=float, default=1800)
    args = parser.parse_args()
    print("| n x d | " + " | ".join(args.models) + " |")
    print("|---" * (len(args.models) + 1) + "|")
    for n in args.n:
        for d in args.d:
            cells, base = [], None
            for model in args.models:
                seconds, text = run(n, d, model, args.limit)
                if model == "mlp":
                    base = seconds
                elif seconds is not None and base:
                    text += f" ({seconds / base:.1f}x)"
                cells.append(text)
            print(f"| {n} x {d} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
