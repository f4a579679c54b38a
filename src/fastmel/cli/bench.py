"""``fastmel bench``: run fastmel's benchmark suite on this machine.

The suite (log-mel against librosa and an FFT floor measured here, streams against
kaldi-native-fbank, convolution and band-pass against scipy and pedalboard) lives in
the ``benchmarks`` folder of fastmel's source repository, not in the installed package.
In a checkout (fastmel imported from its ``src``, or run from the checkout's root
with fastmel installed) this command runs ``python -m benchmarks.report`` there and
prints its tables of measured times and of the ratios between them (how many
times faster one candidate ran than another on this machine); elsewhere it says
how to get the suite.
"""
from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
from typing import TYPE_CHECKING

from fastmel.cli.options import plain, positive_int

if TYPE_CHECKING:
    from fastmel.cli.options import Subparsers

GET_SUITE = ("the benchmark suite is in fastmel's source repository, not in the installed "
             "package: clone the repository, then in it run\n"
             "  python -m pip install -e '.[bench]'\n"
             "  python -m benchmarks.report     (or: fastmel bench)")


def benchmarks_dir() -> pathlib.Path | None:
    """The checkout's ``benchmarks`` folder, or None: beside ``src/fastmel`` when
    fastmel is imported from a checkout, else in the current directory (a
    checkout in which fastmel was installed)."""
    import fastmel

    for root in (pathlib.Path(fastmel.__file__).resolve().parents[2], pathlib.Path.cwd()):
        folder = root / "benchmarks"
        if all((folder / name).is_file() for name in ("report.py", "suite.py", "conftest.py")):
            return folder
    return None


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "bench", help="run fastmel's benchmark suite (in a source checkout)",
        description=plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="one round per candidate: checks that all runs, the times mean little")
    p.add_argument("--rounds", type=positive_int, default=None,
                   help="timed rounds per candidate, the least is used (default: 20)")
    p.add_argument("-k", dest="select", metavar="EXPRESSION",
                   help="run only the benchmarks matching this pytest -k expression "
                        "(default: all)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    folder = benchmarks_dir()
    if folder is None:
        print(f"fastmel bench: {GET_SUITE}", file=sys.stderr)
        return 2
    import fastmel

    cmd = [sys.executable, "-m", "benchmarks.report"]
    if args.quick:
        cmd.append("--quick")
    if args.rounds:
        cmd += ["--rounds", str(args.rounds)]
    if args.select:
        cmd += ["-k", args.select]
    # The suite must time this fastmel, wherever it was imported from.
    env = dict(os.environ)
    here = str(pathlib.Path(fastmel.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), here) if p)
    return subprocess.run(cmd, cwd=folder.parent, env=env).returncode
