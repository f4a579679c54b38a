"""The ``fastmel`` command: ``fastmel features | augment | demo | show | bench``.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and
``run(args) -> int`` (the exit status).
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence

from fastmel._version import __version__

SUBCOMMANDS = ("features", "augment", "demo", "show", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastmel",
        description="Audio features (log-mel, MFCC) and recording simulation, fast.")
    parser.add_argument("--version", action="version", version=f"fastmel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import importlib
    for name in SUBCOMMANDS:
        importlib.import_module(f"fastmel.cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    from fastmel.cli.options import join_negative_values

    parser = build_parser()
    args = parser.parse_args(join_negative_values(sys.argv[1:] if argv is None else argv))
    try:
        status: int = args.run(args)
        return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``fastmel ... | head``): stop quietly, and keep
        # Python from complaining again while flushing stdout at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
