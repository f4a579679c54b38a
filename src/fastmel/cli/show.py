"""``fastmel show``: not written yet."""
import sys


def add_parser(sub):
    p = sub.add_parser("show", help="(not written yet)")
    p.set_defaults(run=run)
    return p


def run(args):
    print("fastmel show: not written yet", file=sys.stderr)
    return 2
