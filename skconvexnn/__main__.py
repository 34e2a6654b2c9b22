"""Command line: ``python -m skconvexnn demo`` (also installed as ``skconvexnn demo``)."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="skconvexnn",
        description="Two-layer ReLU networks trained to the global optimum.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit convex networks and MLPClassifier on bundled data, side by side")
    demo.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import run_demo

        run_demo(random_state=args.random_state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
