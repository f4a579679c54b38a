"""Framing configuration and the offline driver around the spectral kernel.

Centre padding is never applied to the whole signal: frames that reach into
the padding are read from two small padded copies of the signal's ends, all
other frames straight from the caller's array.  Extra memory is the output
plus O(n_fft).
"""
import sys
import warnings
from dataclasses import dataclass

import numpy as np

from fastmel import _checks
from fastmel._spectral import SpectralKernel, run_offline
from fastmel.exceptions import ParameterError
from fastmel.filters import MAX_N_FFT, describe_window, get_window

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
    window: object
    center: bool
    pad_mode: str

    @classmethod
    def make(cls, n_fft, hop_length, win_length, window, center, pad_mode):
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
    def win_off(self):
        """Where the window starts in the frame (it is centred, as librosa pads it)."""
        return (self.n_fft - self.win_length) // 2

    def window_values(self, dtype):
        """The window in the working precision (computed in float64, then cast)."""
        with np.errstate(over="ignore"):  # reported just below
            values = get_window(self.window, self.win_length, fftbins=True).astype(dtype)
        if not np.all(np.isfinite(values)) or not np.any(values):
            raise ParameterError(
                f"{describe_window(self.window)} has values beyond the range of {np.dtype(dtype)} "
                f"(they overflow, or all round to zero)")
        return values

    def n_frames(self, n):
        pad = self.n_fft // 2 if self.center else 0
        return 1 + (n + 2 * pad - self.n_fft) // self.hop_length

    def kernel(self, dtype, mode, *, power=2.0, mel_rows=None, amin=1e-10, db_offset=0.0,
               dct=None):
        return SpectralKernel(mode, self.n_fft, self.window_values(dtype), self.win_off,
                              power, mel_rows, amin, db_offset, dct)


#: Offline input of at least two dimensions whose last axis is this short (and
#: shorter than n_fft) while the axis before it holds at least n_fft samples
#: looks like soundfile's (frames, channels) layout, and is refused.
TRANSPOSED_MAX_LAST = 64

#: A stream's first chunk whose last axis has at most TRANSPOSED_STREAM_LAST
#: samples while the axis before it is longer than TRANSPOSED_STREAM_LEAD looks
#: transposed too (chunks are legitimately short, so the rule is stricter).
TRANSPOSED_STREAM_LAST = 8
TRANSPOSED_STREAM_LEAD = 64


def check_layout(shape, n_fft, name="y"):
    """Refuse offline input that looks like soundfile's ``(frames, channels)``."""
    if len(shape) >= 2 and 1 <= shape[-1] <= TRANSPOSED_MAX_LAST and shape[-1] < n_fft \
            and shape[-2] >= n_fft:
        raise ParameterError(_transposed_message(shape, name))


def check_stream_layout(shape):
    """Refuse a stream's first chunk that looks like soundfile's ``(frames, channels)``."""
    if len(shape) >= 2 and 1 <= shape[-1] <= TRANSPOSED_STREAM_LAST \
            and shape[-2] > TRANSPOSED_STREAM_LEAD:
        raise ParameterError(
            _transposed_message(shape, "chunk")
            + f"; a stream of more than {TRANSPOSED_STREAM_LEAD} channels fed at most "
              f"{TRANSPOSED_STREAM_LAST} samples at a time can fix its layout with an "
              f"empty first chunk of shape (..., channels, 0)")


def _transposed_message(shape, name):
    return (f"{name} has shape {tuple(shape)}: time is the last axis, and {shape[-2]} rows of "
            f"{shape[-1]} samples look like soundfile's (frames, channels) layout; "
            f"pass {name}.T (soundfile.read(...)[0].T)")


def analyze(kernel, framing, y):
    """The offline analysis of a checked signal: :func:`check_layout`, librosa's
    warning for a signal shorter than n_fft, then :func:`run`."""
    check_layout(y.shape, framing.n_fft)
    if framing.center and y.shape[-1] < framing.n_fft:
        warnings.warn(f"n_fft={framing.n_fft} is too large for input signal of "
                      f"length={y.shape[-1]}", UserWarning, stacklevel=_caller_level())
    return run(kernel, framing, y)


def _caller_level():
    """The stacklevel of the first frame outside fastmel (the user's call)."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fastmel"):
        frame, level = frame.f_back, level + 1
    return level


def run(kernel, framing, y):
    """Run ``kernel`` over every frame of ``y`` (..., n); returns (..., n_out, n_frames).

    ``y`` must already be a checked float32/float64 array in the kernel's precision.
    """
    n = y.shape[-1]
    n_fft = framing.n_fft
    if not framing.center and n < n_fft:
        raise ParameterError(
            f"n_fft={n_fft} is too large for uncentered analysis of a signal of length {n}; "
            f"use center=True or a smaller n_fft")
    lead = y.shape[:-1]
    x = y.reshape(int(np.prod(lead, dtype=np.int64)), n)
    n_frames = framing.n_frames(n)
    pad = n_fft // 2 if framing.center else 0
    empty = np.empty((x.shape[0], 0), dtype=x.dtype)
    head = tail = empty
    if pad and n >= 2 * n_fft:
        # Only the first and last n_fft samples meet the padding.
        head = np.ascontiguousarray(np.pad(x[:, :n_fft], ((0, 0), (pad, 0)), mode=framing.pad_mode))
        tail = np.ascontiguousarray(np.pad(x[:, n - n_fft:], ((0, 0), (0, pad)), mode=framing.pad_mode))
    elif pad:
        # A short signal is padded whole (numpy's reflection of pads longer
        # than the signal needs both ends at once).
        try:
            x = np.ascontiguousarray(np.pad(x, ((0, 0), (pad, pad)), mode=framing.pad_mode))
        except ValueError as err:  # numpy cannot extend an empty signal but with constants
            raise ParameterError(
                f"pad_mode={framing.pad_mode!r} cannot pad an empty signal: {err}") from None
        pad = 0
    dtype = x.dtype if kernel.mode != OUT_COMPLEX else np.result_type(x.dtype, np.complex64)
    _checks.allocation(
        x.shape[0] * kernel.n_out * n_frames * np.dtype(dtype).itemsize,
        f"the output {lead + (kernel.n_out, n_frames)}",
        "use a larger hop_length, fewer bins or mels, or a stream over pieces of the signal")
    out = np.empty((x.shape[0], kernel.n_out, n_frames), dtype=dtype)
    if run_offline(kernel, x, head, tail, pad, framing.hop_length, n_frames, out):
        raise ParameterError(
            f"the mel power overflowed {x.dtype} (non-finite values) for samples up to "
            f"{float(np.max(np.abs(x))):.3g}; scale the signal down or use float64")
    return out.reshape(lead + out.shape[1:])
