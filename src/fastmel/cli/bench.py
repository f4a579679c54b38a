"""``fastmel bench``: not written yet."""
import sys


def add_parser(sub):
    p = sub.add_parser("bench", help="(not written yet)")
    p.set_defaults(run=run)
    return p


def run(args):
    print("fastmel bench: not written yet", file=sys.stderr)
    return 2
