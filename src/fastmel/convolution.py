"""Room reverberation: FFT convolution offline and as a zero-latency stream."""
from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from fastmel import _checks
from fastmel._checks import all_finite
from fastmel._convolve import PartitionedConvolver
from fastmel._overlap_add import overlap_add
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

    _Float = TypeVar("_Float", np.float32, np.float64)
    #: How an impulse response is split: (partition_length, count) per level.
    _Levels = tuple[tuple[int, int], ...]

__all__ = ["convolve", "Convolver", "partition_plan"]

# Cost model, in nanoseconds on the machine fastmel was tuned on (only the
# ratios matter): a time-domain tap per output sample, a real FFT of M points
# (forward or inverse), one complex multiply-add, and the fixed cost of an event.
_TAP_NS = 0.03
_CMAC_NS = 0.25
_EVENT_NS = 150.0


def _fft_ns(m: int) -> float:
    return 0.06 * m * math.log2(m) + 50.0


def _level_ns(n: int, k: int) -> float:
    """Cost per output sample of a level of k partitions of n taps."""
    return (2 * _fft_ns(2 * n) + k * (n + 1) * _CMAC_NS + _EVENT_NS) / n


@functools.lru_cache(maxsize=256)
def _best_levels(start: int, n: int, length: int, n_max: int) -> tuple[float, _Levels]:
    """Cheapest (cost, levels) covering taps [start, length) with levels of n taps or more."""
    k_end = -(-(length - start) // n)
    best: tuple[float, _Levels] = (_level_ns(n, k_end), ((n, k_end),))
    bigger = 2 * n
    while bigger <= n_max:
        k = max(1, -(-(bigger - start) // n))
        if start + k * n < length:
            cost, rest = _best_levels(start + k * n, bigger, length, n_max)
            cost += _level_ns(n, k)
            if cost < best[0]:
                best = (cost, ((n, k),) + rest)
        bigger *= 2
    return best


def partition_plan(n_taps: int, *, block_size: int = 256) -> tuple[int, _Levels]:
    """How :class:`Convolver` splits an impulse response of ``n_taps`` taps.

    The first ``head`` taps are convolved in the time domain (so no output
    waits for a block of input); the rest go to levels of uniform partitions,
    each level's partitions at least as long as the previous level's and
    starting at a tap no earlier than their own length (what lets a level's
    block result arrive in time).  Among those layouts, the one with the least
    estimated work per sample is chosen: the head's length is tried at powers
    of two from 16 up to ``max(16, min(block_size, 256))`` (an impulse response
    no longer than that is convolved in the time domain whole), and partition
    sizes up to 16384.

    Parameters
    ----------
    n_taps : int > 0
        The impulse response's length.
    block_size : int > 0
        The call size to tune for, as :class:`Convolver` takes it.

    Returns
    -------
    head : int
        Taps convolved in the time domain: ``n_taps`` itself when it is at
        most ``max(16, min(block_size, 256))``.
    levels : tuple of (partition_length, count)
        The frequency-domain levels, in tap order (empty when ``head`` covers
        every tap).

    Raises
    ------
    ParameterError
        ``n_taps`` or ``block_size`` not a positive integer.
    """
    n_taps = _checks.positive_int(n_taps, "n_taps")
    block_size = _checks.positive_int(block_size, "block_size")
    longest_head = max(16, min(block_size, 256))
    if n_taps <= longest_head:
        return n_taps, ()
    best: tuple[float, int, _Levels] | None = None
    head = 16
    while head <= longest_head:
        cost, levels = _best_levels(head, head, n_taps, 16384)
        cost += head * _TAP_NS
        if best is None or cost < best[0]:
            best = (cost, head, levels)
        head *= 2
    assert best is not None  # the loop runs at least once (16 <= longest_head)
    return best[1], best[2]


def _check_ir(ir: npt.ArrayLike, dtype: npt.DTypeLike) -> npt.NDArray[np.floating[Any]]:
    """``ir`` checked: (n,) or (channels, n), not empty, finite, within ``dtype``;
    returned in ``dtype``, readable by the compiled core.  One scan, of the
    result (finite only if the taps as given are)."""
    ir = _checks.real_float(ir, "ir")
    if ir.ndim not in (1, 2):
        raise ParameterError(f"ir must have shape (n,) or (channels, n), got {ir.shape}")
    if ir.size == 0:
        raise ParameterError(f"ir is empty (shape {ir.shape}); it needs at least one tap "
                             f"and one channel")
    try:
        cast = _checks.finite_float(ir, "ir", dtype)
    except ParameterError:
        if ir.dtype == dtype or not all_finite(ir):
            raise
        raise ParameterError(
            f"ir has values beyond the {np.dtype(dtype)} range (largest magnitude "
            f"{float(np.max(np.abs(ir))):.3g})") from None
    return cast


def _fft_size(n: int, m: int) -> int:
    """Transform size for overlap-add of n samples with m taps: the power of two
    (at least 2m) with the least estimated work."""
    best: tuple[float, int] | None = None
    size = 1 << max(int(m - 1).bit_length() + 1, 4)
    while True:
        step = size - m + 1
        blocks = -(-n // step)
        cost = (2 * blocks + 1) * size * math.log2(size)
        if best is None or cost < best[0]:
            best = (cost, size)
        if step >= n or size >= 1 << 22:
            return best[1]
        size *= 2


@overload
def convolve(x: npt.NDArray[_Float], ir: npt.ArrayLike, *,
             mode: str = "full") -> npt.NDArray[_Float]: ...
@overload
def convolve(x: npt.ArrayLike, ir: npt.ArrayLike, *,
             mode: str = "full") -> npt.NDArray[np.floating[Any]]: ...


def convolve(x: npt.ArrayLike, ir: npt.ArrayLike, *,
             mode: str = "full") -> npt.NDArray[np.floating[Any]]:
    """Convolve audio with an impulse response, equal to ``scipy.signal.fftconvolve``.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n)]
        Audio, float32 or float64 (other real floats are converted).
    ir : np.ndarray [shape=(m,) or (channels, m)]
        One impulse response for every channel of ``x``, or one per channel
        (``channels`` equal to the product of ``x``'s leading dimensions).
    mode : {"full", "same", "valid"}
        As in scipy: ``n + m - 1`` samples, the centre ``n``, or the
        ``|n - m| + 1`` samples that need no zero padding.

    Returns
    -------
    np.ndarray [shape=(..., n_out)], the dtype of ``x``
        An empty ``x`` (n = 0) gives an empty result (..., 0) in every mode, as
        ``scipy.signal.fftconvolve`` returns an empty array.

    Raises
    ------
    ParameterError
        Non-finite input, an empty ``ir``, a bad mode, mismatched channels, an
        output larger than the machine's memory, or a result that overflows
        ``x``'s dtype (samples near its largest value).
    """
    x = _checks.audio(x, "x")
    ir = _check_ir(ir, x.dtype)
    if mode not in ("full", "same", "valid"):
        raise ParameterError(f"mode must be 'full', 'same' or 'valid', got {mode!r}")
    lead, n, m = x.shape[:-1], x.shape[-1], ir.shape[-1]
    x2 = x.reshape(int(np.prod(lead, dtype=np.int64)), n)
    ir2 = ir.reshape(-1, m)
    if ir2.shape[0] not in (1, x2.shape[0]):
        raise ParameterError(
            f"ir has {ir2.shape[0]} rows but x has {x2.shape[0]} channels; "
            f"give one impulse response, or one per channel")
    if n == 0:
        return np.zeros(lead + (0,), dtype=x.dtype)
    n_fft = _fft_size(n, m)
    _checks.allocation((x2.shape[0] * (n + m - 1) + ir2.shape[0] * (n_fft + 2)) * x.itemsize,
                       f"the convolution of {x2.shape[0]} x {n} samples with {m} taps")
    out: npt.NDArray[np.floating[Any]] = np.empty((x2.shape[0], n + m - 1), dtype=x.dtype)
    overlap_add(x2, ir2, n_fft, out)
    if not all_finite(out):
        raise ParameterError(
            f"the convolution overflows {x.dtype}: finite x (largest magnitude "
            f"{float(np.max(np.abs(x))):.3g}) and ir give non-finite output")
    if mode == "same":
        start = (m - 1) // 2
        out = out[:, start:start + n]
    elif mode == "valid":
        out = out[:, min(n, m) - 1:max(n, m)]
    return np.ascontiguousarray(out).reshape(lead + (out.shape[-1],))


class Convolver(PartitionedConvolver):
    """Streaming convolution with an impulse response, with no added latency.

    ``process(chunk)`` returns as many samples as it is given, output sample n
    depending on inputs up to n; ``flush()`` returns the ``len(ir) - 1`` tail.
    The concatenated output equals ``scipy.signal.fftconvolve(x, ir)`` (within
    1e-5 of its peak in float32, 1e-10 in float64) and is bit-identical
    however the input is cut into calls.  A stream that received no samples
    owes nothing at ``flush()`` (an empty signal convolves to an empty result,
    as in :func:`convolve`), and a chunk whose output would overflow the
    working dtype raises ``ParameterError`` and leaves the stream unchanged.

    The impulse response is split as :func:`partition_plan` describes: a short
    time-domain head, then levels of frequency-domain partitions growing
    (non-uniformly) toward the tail, each level run as a uniformly partitioned
    overlap-save with a frequency-domain delay line.  ``partitions`` shows the
    layout chosen.

    Parameters
    ----------
    ir : np.ndarray [shape=(m,) or (channels, m)]
        One impulse response for every channel, or one per channel.
    block_size : int > 0
        The call size to tune for: the time-domain head is at most
        ``max(16, min(block_size, 256))`` taps long (see :func:`partition_plan`).
    dtype : {np.float32, np.float64}
        Working precision.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rir = (rng.standard_normal(1000) * np.exp(-np.arange(1000) / 200)).astype(np.float32)
    >>> x = rng.standard_normal(16000).astype(np.float32)
    >>> room = fastmel.Convolver(rir, block_size=256)
    >>> chunks = np.array_split(x, 10)
    >>> wet = np.concatenate([room.process(c) for c in chunks] + [room.flush()], axis=-1)
    >>> wet.shape
    (16999,)
    >>> np.array_equal(wet, room(x))   # the same bits however the input is cut
    True
    """

    def __init__(self, ir: npt.ArrayLike, *, block_size: int = 256,
                 dtype: npt.DTypeLike = np.float32) -> None:
        try:
            dtype = np.dtype(dtype)
        except TypeError:
            raise ParameterError(f"dtype must be float32 or float64, got {dtype!r}") from None
        if dtype not in (np.float32, np.float64):
            raise ParameterError(f"dtype must be float32 or float64, got {dtype}")
        ir = _check_ir(ir, dtype)
        block_size = _checks.positive_int(block_size, "block_size")
        head, levels = partition_plan(ir.shape[-1], block_size=block_size)
        rows = 1 if ir.ndim == 1 else ir.shape[0]
        # the IR in the working dtype, its head, and its spectra (2N + 2 values,
        # rounded up to 16, per partition of N taps)
        _checks.allocation(rows * (3 * ir.shape[-1] + 18 * sum(k for _, k in levels))
                           * dtype.itemsize, f"a convolver for {rows} x {ir.shape[-1]} taps")
        # a copy: the convolver keeps its taps, whatever the caller later does to ir
        taps = np.array(ir.reshape(rows, -1), dtype=dtype)
        taps.flags.writeable = False
        super().__init__(taps, head, levels)
        self._block_size = block_size
        self._bind(functools.partial(type(self), taps, block_size=block_size, dtype=dtype),
                   f"{type(self).__name__}(<ir {taps.shape} {dtype}>, block_size={block_size}, "
                   f"dtype={dtype.name})")

    @property
    def block_size(self) -> int:
        """The call size the layout is tuned for."""
        return self._block_size

    @property
    def partitions(self) -> tuple[int, _Levels]:
        """``(head, ((partition_length, count), ...))``: the layout in use."""
        return self.head_length, self.levels

    def __call__(self, x: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """The full convolution of a whole signal ``x`` [shape=(..., n)] through a fresh
        stream of this convolver (bit-identical to streaming it).

        The call has its own state and shares only the prepared impulse response
        with this object: it leaves a stream in progress on it unchanged, and
        several threads may call it at once.
        """
        c = self.stream()
        y = c.process(x)
        return np.concatenate([y, c.flush()], axis=-1)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
