"""Command line: ``python -m skconvexnn demo|fit|predict`` (also installed as ``skconvexnn``)."""

import argparse
import os
import sys

from . import cli


def _run_demo(args):
    from .demo import run_demo

    run_demo(random_state=args.random_state)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="skconvexnn",
        description="Two-layer ReLU networks trained to the global optimum.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit convex networks and MLPClassifier on bundled data, side by side")
    demo.add_argument("--random-state", type=int, default=0)
    demo.set_defaults(handler=_run_demo)
    cli.add_fit_parser(commands)
    cli.add_predict_parser(commands)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ValueError, FileNotFoundError, ImportError) as exc:
        message = " ".join(str(exc).split())
        print(f"{parser.prog}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader closed the pipe (`skconvexnn predict ... | head`): nothing more
        # to say. Point stdout at devnull so that Python's final flush stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
