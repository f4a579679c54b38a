"""Framing configuration and the offline driver around the spectral kernel.

Centre padding is never applied to the whole signal: frames that reach into
the padding are read from two small padded copies of the signal's ends, all
other frames straight from the caller's array.  Extra memory is the output
plus O(n_fft).
"""
from __future__ import annotations

import numbers
import os
import sys
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from fastmel import _checks
from fastmel._checks import ParameterError, check_layout
from fastmel._istft import InverseKernel
from fastmel._spectral import SpectralKernel, run
from fastmel.filters import MAX_N_FFT, describe_window, get_window

if TYPE_CHECKING:
    from types import FrameType

    import numpy.typing as npt

    from fastmel.filters import MelRows, WindowSpec

#: Pad modes usable with ``center=True`` (numpy.pad's names).
PAD_MODES = ("constant", "edge", "reflect", "symmetric", "linear_ramp")

#: Largest ``hop_length``: more than any signal in memory (64-bit machines
#: address 2**48 bytes), and small enough that frame positions a block of
#: frames ahead cannot overflow a 64-bit index.
MAX_HOP = 2 ** 48

OUT_COMPLEX, OUT_MEL, OUT_MEL_DB, OUT_MFCC = 0, 1, 2, 3


@dataclass(frozen=True)
class Framing:
    """Validated framing parameters (librosa's meaning and defaults)."""

    n_fft: int
    hop_length: int
    win_length: int
    window: WindowSpec
    center: bool
    pad_mode: str

    @classmethod
    def make(cls, n_fft: int, hop_length: int | None, win_length: int | None,
             window: WindowSpec, center: bool, pad_mode: str) -> Framing:
        n_fft = _checks.positive_int(n_fft, "n_fft", maximum=MAX_N_FFT)
        win_length = _checks.positive_int(win_length, "win_length", allow_none=True) or n_fft
        if win_length > n_fft:
            raise ParameterError(f"win_length={win_length} must be <= n_fft={n_fft}")
        if hop_length is None:
            hop_length = win_length // 4
            if hop_length < 1:
                raise ParameterError(
                    f"hop_length=None defaults to win_length // 4, which is 0 for "
                    f"win_length={win_length}; pass hop_length explicitly")
        hop_length = _checks.positive_int(hop_length, "hop_length", maximum=MAX_HOP)
        if center and pad_mode not in PAD_MODES:
            raise ParameterError(
                f"pad_mode={pad_mode!r} is not supported; use one of {', '.join(PAD_MODES)}")
        return cls(n_fft, hop_length, win_length, window, bool(center), pad_mode)

    @property
    def win_off(self) -> int:
        """Where the window starts in the frame (it is centred, as librosa pads it)."""
        return (self.n_fft - self.win_length) // 2

    def window_values(self, dtype: npt.DTypeLike) -> npt.NDArray[np.floating[Any]]:
        """The window in the working precision (computed in float64, then cast)."""
        with np.errstate(over="ignore"):  # reported just below
            values = get_window(self.window, self.win_length, fftbins=True).astype(dtype)
        if not np.all(np.isfinite(values)) or not np.any(values):
            raise ParameterError(
                f"{describe_window(self.window)} has values beyond the range of {np.dtype(dtype)} "
                f"(they overflow, or all round to zero)")
        return values

    def n_frames(self, n: int) -> int:
        pad = self.n_fft // 2 if self.center else 0
        return 1 + (n + 2 * pad - self.n_fft) // self.hop_length

    def kernel(self, dtype: npt.DTypeLike, mode: int, *, power: float = 2.0,
               mel_rows: MelRows | None = None, amin: float = 1e-10, db_offset: float = 0.0,
               dct: npt.NDArray[np.floating[Any]] | None = None) -> SpectralKernel:
        return SpectralKernel(mode, self.n_fft, self.window_values(dtype), self.win_off,
                              power, mel_rows, amin, db_offset, dct)

    def inverse_kernel(self, dtype: npt.DTypeLike) -> InverseKernel:
        """The inverse STFT's kernel for the precision of ``dtype`` (float32 or
        float64); the window is used in float64, as librosa uses it."""
        window = get_window(self.window, self.win_length, fftbins=True)
        return InverseKernel(self.n_fft, self.hop_length, window, self.center,
                             np.dtype(dtype) == np.float64)


def check_workers(workers: int | None) -> int:
    """The thread count ``workers`` asks for, as scipy.fft reads it: None or 1
    one thread, a positive int that many, -1 ``os.cpu_count()``."""
    if workers is None:
        return 1
    if isinstance(workers, (bool, np.bool_)) or not isinstance(workers, numbers.Integral):
        raise TypeError(f"workers must be an int or None, got {type(workers).__name__}")
    if workers == -1:
        return os.cpu_count() or 1
    if workers < 1:
        raise ParameterError(f"workers must be a positive int, -1 (all CPUs) or None (one), "
                             f"got {workers}")
    return int(workers)


def analyze(kernel: SpectralKernel, framing: Framing, y: npt.NDArray[np.floating[Any]],
            workers: int = 1, top_db: float | None = None) -> npt.NDArray[np.inexact[Any]]:
    """The offline analysis of a checked signal: :func:`check_layout`, librosa's
    warning for a signal shorter than n_fft, then :func:`run` on ``workers``
    threads (a count :func:`check_workers` returned), with a dB kernel's
    ``top_db`` floor (a checked value) if given."""
    check_layout(y.shape, framing.n_fft)
    if framing.center and y.shape[-1] < framing.n_fft:
        warnings.warn(f"n_fft={framing.n_fft} is too large for input signal of "
                      f"length={y.shape[-1]}", UserWarning, stacklevel=_caller_level())
    return run(kernel, framing, y, workers, top_db)


def _caller_level() -> int:
    """The stacklevel of the first frame outside fastmel (the user's call)."""
    frame: FrameType | None
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fastmel"):
        frame, level = frame.f_back, level + 1
    return level
