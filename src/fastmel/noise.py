"""Additive noise at a chosen signal-to-noise ratio, offline and streaming."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from fastmel import _checks
from fastmel._noise import NoiseAdder
from fastmel._checks import all_finite
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

    _Float = TypeVar("_Float", np.float32, np.float64)
    #: What add_noise draws its offset from (numpy.random.default_rng's argument).
    _Seed = int | np.random.SeedSequence | np.random.BitGenerator | np.random.Generator | None

__all__ = ["add_noise", "NoiseMixer", "noise_gain", "MAX_SNR_DB"]

#: SNRs beyond +-200 dB (a noise amplitude 1e10 times below or above the signal's)
#: describe no recording, and 10 ** (snr_db / 10) leaves float64 not far beyond.
MAX_SNR_DB: float = 200.0

# Samples per block when add_noise works through a clip piece by piece (float64
# scratch of 128 KiB), so its memory stays near the output's size.
_BLOCK = 1 << 14


def _check_noise(noise: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
    noise = _checks.audio(noise, "noise")
    if noise.size == 0:
        raise ParameterError(f"noise is empty (shape {noise.shape}); it needs at least one "
                             f"sample and one channel")
    return noise


def _rows(a: npt.NDArray[np.floating[Any]]) -> list[npt.NDArray[np.floating[Any]]]:
    """``a`` (..., n) as a list of its 1-D rows, in C order (views, no copy)."""
    return [a[i] for i in np.ndindex(a.shape[:-1])]


def _mean_square(rows: Sequence[npt.NDArray[np.floating[Any]]], n: int,
                 looped_from: int | None = None) -> float:
    """Mean square, accumulated in float64, of the C-order array whose rows are
    ``rows`` (each of length n; with ``looped_from``, each row is that row
    repeated end to end from that offset and cropped to n).

    The squares are formed _BLOCK at a time (the array is never made), each
    block summed by numpy and the block sums added in order: deterministic for
    a given numpy, and within float64 summation error (~1e-16 x log2(size)
    relative) of ``np.mean(np.square(a, dtype=np.float64))``.
    """
    total = len(rows) * n
    if total == 0:
        return 0.0
    scratch = np.empty(min(total, _BLOCK))
    acc = 0.0
    with np.errstate(over="ignore"):  # an overflowing power is reported by the callers
        for lo in range(0, total, _BLOCK):
            count = min(_BLOCK, total - lo)
            acc += float(np.add.reduce(_squares(rows, n, looped_from, scratch[:count], lo)))
    return acc / total


def _squares(rows: Sequence[npt.NDArray[np.floating[Any]]], n: int, looped_from: int | None,
             out: npt.NDArray[np.float64], lo: int) -> npt.NDArray[np.float64]:
    """The squares of flat elements [lo, lo + len(out)) in ``out``, as float64."""
    done, hi = lo, lo + out.shape[0]
    while done < hi:
        r, t = divmod(done, n)
        take = min(hi - done, n - t)
        dst = out[done - lo:done - lo + take]
        if looped_from is None:
            dst[...] = rows[r][t:t + take]
        else:
            m = rows[r].shape[-1]
            filled, pos = 0, (looped_from + t) % m
            while filled < take:
                step = min(take - filled, m - pos)
                dst[filled:filled + step] = rows[r][pos:pos + step]
                filled += step
                pos = 0
        done += take
    return np.square(out, out=out)


def _power(x: npt.NDArray[np.floating[Any]], name: str) -> float:
    """P(x): the mean square over every sample of ``x``, in float64."""
    p = _mean_square(_rows(x), x.shape[-1])
    if not np.isfinite(p):
        raise ParameterError(
            f"the power (mean square) of {name} overflows float64: samples up to "
            f"{float(np.max(np.abs(x))):.3g}")
    return p


def noise_gain(signal_power: float, noise_power: float, snr_db: float) -> float:
    """The gain g with ``10 * log10(signal_power / (g**2 * noise_power)) == snr_db``.

    ``snr_db`` must be finite and within +-MAX_SNR_DB (200 dB).

    Parameters
    ----------
    signal_power : float >= 0
        The mean square of the signal the noise is added to.
    noise_power : float > 0
        The mean square of the noise.
    snr_db : float
        The signal-to-noise ratio to reach, in dB.

    Returns
    -------
    float
        The gain to multiply the noise by (0 for a silent signal).

    Raises
    ------
    ParameterError
        ``snr_db`` not finite or beyond +-200 dB, silent noise
        (``noise_power <= 0``), or a gain that overflows.
    """
    snr_db = _checks.finite_number(snr_db, "snr_db")
    if abs(snr_db) > MAX_SNR_DB:
        raise ParameterError(
            f"snr_db must be within [-{MAX_SNR_DB:g}, {MAX_SNR_DB:g}] dB, got {snr_db!r}")
    if noise_power <= 0:
        raise ParameterError("noise is silent (zero power): it cannot be scaled to an SNR")
    scaled_noise = noise_power * 10.0 ** (snr_db / 10.0)
    if 0 < scaled_noise < np.inf:
        gain = float(np.sqrt(signal_power / scaled_noise))
    else:
        # tiny noise at a negative SNR underflows to 0 (huge noise at a positive
        # one overflows): the same gain as a ratio of square roots
        gain = float(np.sqrt(signal_power) / np.sqrt(noise_power) * 10.0 ** (-snr_db / 20.0))
    if not np.isfinite(gain):
        raise ParameterError(
            f"the noise gain for snr_db={snr_db!r} overflows: signal power {signal_power:.3g}, "
            f"noise power {noise_power:.3g}")
    return gain


def _generator(rng: _Seed) -> np.random.Generator:
    """``rng`` (None, a seed, a SeedSequence or a Generator) as a Generator."""
    if isinstance(rng, (bool, np.bool_)):
        raise TypeError(f"rng must be None, a non-negative integer seed or a "
                        f"numpy.random.Generator, got {rng!r}")
    try:
        return np.random.default_rng(rng)
    except TypeError as err:
        raise TypeError(f"rng must be None, a non-negative integer seed or a "
                        f"numpy.random.Generator, got {rng!r} ({err})") from None
    except ValueError as err:
        raise ParameterError(f"rng must be None, a non-negative integer seed or a "
                             f"numpy.random.Generator, got {rng!r} ({err})") from None


def _add_looped_scaling(x: npt.NDArray[_Float], noise: npt.NDArray[np.floating[Any]],
                        gain: float, offset: int, out: npt.NDArray[_Float]) -> npt.NDArray[_Float]:
    """out = x + gain * noise, the noise repeated end to end from ``offset``; the
    scaled noise is formed in float64 and rounded once to x's dtype (what
    NoiseMixer adds), a block at a time, so only the stretches used are scaled."""
    n, m = x.shape[-1], noise.shape[-1]
    width = max(1, _BLOCK // max(1, int(np.prod(noise.shape[:-1], dtype=np.int64))))
    done, pos = 0, offset % m
    while done < n:
        take = min(n - done, m - pos, width)
        o = out[..., done:done + take]
        np.copyto(o, np.multiply(noise[..., pos:pos + take], gain, dtype=np.float64),
                  casting="same_kind")
        np.add(x[..., done:done + take], o, out=o)
        done += take
        pos = (pos + take) % m
    return out


@overload
def add_noise(x: npt.NDArray[_Float], noise: npt.ArrayLike, *, snr_db: float,
              rng: _Seed = None) -> npt.NDArray[_Float]: ...
@overload
def add_noise(x: npt.ArrayLike, noise: npt.ArrayLike, *, snr_db: float,
              rng: _Seed = None) -> npt.NDArray[np.floating[Any]]: ...


def add_noise(x: npt.ArrayLike, noise: npt.ArrayLike, *, snr_db: float,
              rng: _Seed = None) -> npt.NDArray[np.floating[Any]]:
    """Add noise to ``x`` at a given signal-to-noise ratio.

    The noise is looped (repeated end to end) and cropped to ``x``'s length,
    starting at a random offset drawn from ``rng``, then scaled so that

        10 * log10(P(x) / P(gain * segment)) == snr_db,

    where P is the mean square over every sample of the clip (all channels,
    whole duration, computed in float64).  The scaled noise is formed in
    float64, rounded to ``x``'s dtype and added (exactly what
    :class:`NoiseMixer` does with the same gain and offset).  A silent ``x``
    gets no noise (gain 0); an empty ``x`` gives an empty result.  Memory: the output plus a fixed scratch of a few
    hundred KiB, whatever the lengths.

    Parameters
    ----------
    x : np.ndarray [shape=(..., n)]
    noise : np.ndarray [shape=(m,) or x's leading shape + (m,)]
        One noise signal for every channel, or one per channel.
    snr_db : float, -200 <= snr_db <= 200
    rng : np.random.Generator, int seed or None
        Source of the offset; the same seed gives the same result.

    Returns
    -------
    np.ndarray [shape=(..., n)], dtype of ``x``

    Raises
    ------
    ParameterError
        Silent, empty or non-finite noise; non-finite audio; a non-finite
        ``snr_db`` or one beyond +-200 dB; noise channels that do not match
        ``x``; powers or a result that overflow (samples near the dtype's
        largest values).
    """
    x = _checks.audio(x, "x")
    noise = _check_noise(noise)
    if noise.ndim > 1 and noise.shape[:-1] != x.shape[:-1]:
        raise ParameterError(
            f"noise has leading shape {noise.shape[:-1]}, x has {x.shape[:-1]}; give one "
            f"noise signal or one per channel")
    rng = _generator(rng)
    offset = int(rng.integers(0, noise.shape[-1]))
    if x.shape[-1] == 0:  # nothing to add noise to (and no power to scale it by)
        return np.empty_like(x)
    n_rows = int(np.prod(x.shape[:-1], dtype=np.int64))
    noise_rows = _rows(noise) if noise.ndim > 1 else [noise] * n_rows
    segment_power = _mean_square(noise_rows, x.shape[-1], looped_from=offset)
    if not np.isfinite(segment_power):
        raise ParameterError(
            f"the power (mean square) of noise overflows float64: samples up to "
            f"{float(np.max(np.abs(noise))):.3g}")
    gain = noise_gain(_power(x, "x"), segment_power, snr_db)
    with np.errstate(over="ignore"):  # reported just below
        out = _add_looped_scaling(x, noise, gain, offset, np.empty_like(x))
    if not all_finite(out):
        raise ParameterError(
            f"x plus the noise at snr_db={snr_db!r} overflows {x.dtype} (gain {gain:.3g})")
    return out


class NoiseMixer(NoiseAdder):
    """Adds looped noise at a fixed gain to a stream.

    The SNR of a whole clip is not known until the clip ends, so a stream
    takes its level explicitly: a ``gain``, or ``snr_db`` together with the
    ``signal_power`` to expect (mean square; e.g. measured on a calibration
    clip); the gain is then ``noise_gain(signal_power, P(noise), snr_db)``.
    The leading shape and dtype of the stream are fixed by its first chunk
    (later chunks of another float dtype are converted to it, as the feature
    streams do).  The streaming protocol (``process``, ``flush``, ``reset``,
    pickling) is :class:`fastmel.Stream`'s.

    Parameters
    ----------
    noise : np.ndarray [shape=(m,) or (..., m)]
        One noise signal for every channel, or one per channel.  The mixer
        keeps its own copy.
    gain : float or None
        Finite, and small enough that ``gain * noise`` fits float64.
    snr_db, signal_power : float or None
        Used together when ``gain`` is None; -200 <= snr_db <= 200.
    offset : int
        Where in the noise the stream starts.

    Raises
    ------
    ParameterError
        From ``process``: non-finite samples, another leading shape, or a sum
        (or ``gain * noise`` in the stream's dtype) that overflows; the stream
        is unchanged.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> babble = (0.1 * rng.standard_normal(16000)).astype(np.float32)
    >>> mixer = fastmel.NoiseMixer(babble, snr_db=10, signal_power=0.01)
    >>> chunk = (0.1 * rng.standard_normal(160)).astype(np.float32)
    >>> noisy = mixer.process(chunk)
    >>> scaled = (mixer.gain * babble.astype(np.float64)).astype(np.float32)  # scaled once
    >>> np.array_equal(noisy, chunk + scaled[:160])   # offset 0: the noise from its start
    True
    """

    def __init__(self, noise: npt.ArrayLike, *, gain: float | None = None,
                 snr_db: float | None = None, signal_power: float | None = None,
                 offset: int = 0) -> None:
        noise = _check_noise(noise)
        if gain is None:
            if snr_db is None or signal_power is None:
                raise ParameterError("give gain, or snr_db together with signal_power")
            signal_power = _checks.finite_number(signal_power, "signal_power")
            if signal_power < 0:
                raise ParameterError(f"signal_power must be >= 0, got {signal_power!r}")
            gain = noise_gain(signal_power, _power(noise, "noise"), snr_db)
        elif snr_db is not None or signal_power is not None:
            raise ParameterError("give either gain or snr_db with signal_power, not both")
        gain = _checks.finite_number(gain, "gain")
        peak = float(np.max(np.abs(noise)))
        if not np.isfinite(abs(gain) * peak):  # gain * noise overflows at the loudest sample
            raise ParameterError(
                f"gain={gain!r} times the noise (up to {peak:.3g}) overflows float64")
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
            raise ParameterError(f"offset must be a non-negative integer, got {offset!r}")
        # a copy: the mixer keeps its noise, whatever the caller later does to it
        noise = np.array(noise)
        noise.flags.writeable = False
        super().__init__(noise, gain, int(offset))
        self._bind(functools.partial(type(self), noise, gain=gain, offset=int(offset)),
                   f"{type(self).__name__}(<noise {noise.shape} {noise.dtype}>, gain={gain!r}, "
                   f"offset={int(offset)!r})")

    @overload
    def __call__(self, x: npt.NDArray[_Float]) -> npt.NDArray[_Float]: ...
    @overload
    def __call__(self, x: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]: ...

    def __call__(self, x: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """Mix a whole signal ``x`` [shape=(..., n)] from the start offset; this
        object's own stream state is left alone."""
        return self.stream().process(x)




def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
