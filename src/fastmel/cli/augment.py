"""``fastmel augment``: not written yet."""
import sys


def add_parser(sub):
    p = sub.add_parser("augment", help="(not written yet)")
    p.set_defaults(run=run)
    return p


def run(args):
    print("fastmel augment: not written yet", file=sys.stderr)
    return 2
