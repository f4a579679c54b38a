"""Argument types and limits shared by the subcommands."""
from __future__ import annotations

import argparse
import math
import re
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    # What ArgumentParser.add_subparsers returns; generic only in typeshed, so
    # named for annotations alone.
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

# Sample rates the commands accept (Hz): below 1 kHz nothing is speech or
# music, and 384 kHz is the highest rate audio interfaces record at.
SR_RANGE = (1000, 384000)
# Frame sizes: 65536 samples is 1.4 s at 48 kHz, far beyond any feature frame;
# these bounds keep a mistyped value from allocating gigabytes per file.
N_FFT_RANGE = (1, 1 << 16)
HOP_RANGE = (1, 1 << 20)
N_MELS_RANGE = (1, 1024)


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``lo`` to ``hi``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer from {lo} to {hi}, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"expected an integer from {lo} to {hi}, got {text!r}")
        return value

    parse.__name__ = f"integer {lo}..{hi}"
    return parse


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def finite_float(text: str) -> float:
    """An argparse type: a finite number."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


sample_rate = int_in(*SR_RANGE)
n_fft = int_in(*N_FFT_RANGE)
hop_length = int_in(*HOP_RANGE)
n_mels = int_in(*N_MELS_RANGE)


# reST markup in the docstrings that become --help text: ``literal``, :role:`target`.
_LITERAL = re.compile(r"``(.+?)``", re.DOTALL)
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)?:`~?([^`]+)`")


def plain(text: str) -> str:
    """A docstring as plain text for ``--help``: reST literals and roles lose
    their markup (``x`` -> x, :func:`extract` -> extract)."""
    return _ROLE.sub(r"\1", _LITERAL.sub(r"\1", text))


# An option value that starts like a negative number or range ("-5", "-5:5",
# "-2.5:-1"): argparse takes anything starting with "-" that is not a plain
# negative number for an option name.
_NEGATIVE_VALUE = re.compile(r"^-(?:\d+\.?\d*|\.\d+)(?::-?(?:\d+\.?\d*|\.\d+)?)?$")
# Options whose value may start with "-" that way.
NEGATIVE_VALUE_OPTIONS = ("--snr", "--bandpass")


def join_negative_values(argv: Iterable[str]) -> list[str]:
    """``argv`` with ``--snr -5:5`` written as ``--snr=-5:5``, so argparse takes the
    range as the option's value rather than as an unknown option.  Arguments after
    ``--`` are left alone."""
    out: list[str] = []
    argv = list(argv)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.extend(argv[i:])
            break
        if (arg in NEGATIVE_VALUE_OPTIONS and i + 1 < len(argv)
                and _NEGATIVE_VALUE.match(argv[i + 1])):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def add_mel_bands(p: argparse.ArgumentParser) -> None:
    """The mel band options every subcommand that draws or writes mels takes."""
    p.add_argument("--n-mels", type=n_mels, default=80,
                   help="mel bands, 1..1024 (default: 80)")
    p.add_argument("--fmin", type=finite_float, default=0.0,
                   help="lowest mel band edge in Hz (default: 0)")
    p.add_argument("--fmax", type=finite_float, default=None,
                   help="highest mel band edge in Hz (default: SR / 2)")
