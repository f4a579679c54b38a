"""Additive noise at a chosen signal-to-noise ratio, offline and streaming."""
import numpy as np

from fastmel import _checks
from fastmel._streambase import (
    InUse, check_state_dtype, check_state_int, check_state_lead, check_state_tuple,
)
from fastmel._checks import all_finite
from fastmel.exceptions import ParameterError

__all__ = ["add_noise", "NoiseMixer", "noise_gain", "MAX_SNR_DB"]

# SNRs beyond +-200 dB (a noise amplitude 1e10 times below or above the signal's)
# describe no recording, and 10 ** (snr_db / 10) leaves float64 not far beyond.
MAX_SNR_DB = 200.0

# Samples per block when add_noise works through a clip piece by piece (float64
# scratch of 128 KiB), so its memory stays near the output's size.
_BLOCK = 1 << 14


def _check_noise(noise):
    noise = _checks.audio(noise, "noise")
    if noise.size == 0:
        raise ParameterError(f"noise is empty (shape {noise.shape}); it needs at least one "
                             f"sample and one channel")
    return noise


def _rows(a):
    """``a`` (..., n) as a list of its 1-D rows, in C order (views, no copy)."""
    return [a[i] for i in np.ndindex(a.shape[:-1])]


def _mean_square(rows, n, looped_from=None):
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


def _squares(rows, n, looped_from, out, lo):
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


def _power(x, name):
    """P(x): the mean square over every sample of ``x``, in float64."""
    p = _mean_square(_rows(x), x.shape[-1])
    if not np.isfinite(p):
        raise ParameterError(
            f"the power (mean square) of {name} overflows float64: samples up to "
            f"{float(np.max(np.abs(x))):.3g}")
    return p


def noise_gain(signal_power, noise_power, snr_db):
    """The gain g with ``10 * log10(signal_power / (g**2 * noise_power)) == snr_db``.

    ``snr_db`` must be finite and within +-MAX_SNR_DB (200 dB).
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


def _generator(rng):
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


def _add_looped(x, scaled, offset, out):
    """out = x + scaled noise, the noise repeated end to end from ``offset``.

    ``scaled`` is the noise already multiplied by the gain, in x's dtype; the
    adds run in place on stretches of the output, so nothing else is allocated.
    """
    n, m = x.shape[-1], scaled.shape[-1]
    done, pos = 0, offset % m
    while done < n:
        take = min(n - done, m - pos)
        np.add(x[..., done:done + take], scaled[..., pos:pos + take],
               out=out[..., done:done + take])
        done += take
        pos = 0
    return out


def _add_looped_scaling(x, noise, gain, offset, out):
    """What ``_add_looped(x, _scaled(noise, gain, x.dtype), offset, out)`` gives,
    scaling only the stretches of noise it uses, a block at a time."""
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


def _scaled(noise, gain, dtype):
    """gain * noise, formed in float64 and rounded once to the audio's dtype."""
    with np.errstate(over="ignore"):  # reported by the callers' finiteness checks
        return (gain * noise.astype(np.float64)).astype(dtype)


def add_noise(x, noise, *, snr_db, rng=None):
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


class NoiseMixer:
    """Adds looped noise at a fixed gain to a stream.

    The SNR of a whole clip is not known until the clip ends, so a stream
    takes its level explicitly: a ``gain``, or ``snr_db`` together with the
    ``signal_power`` to expect (mean square; e.g. measured on a calibration
    clip); the gain is then ``noise_gain(signal_power, P(noise), snr_db)``.
    The leading shape and dtype of the stream are fixed by its first chunk
    (later chunks of another float dtype are converted to it, as the feature
    streams do).

    Parameters
    ----------
    noise : np.ndarray [shape=(m,) or (..., m)]
        One noise signal for every channel, or one per channel.
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
    >>> mixer = fastmel.NoiseMixer(babble, snr_db=10, signal_power=0.01)
    >>> noisy = mixer.process(chunk)
    """

    latency = 0

    def __init__(self, noise, *, gain=None, snr_db=None, signal_power=None, offset=0):
        self.noise = _check_noise(noise)
        if gain is None:
            if snr_db is None or signal_power is None:
                raise ParameterError("give gain, or snr_db together with signal_power")
            signal_power = _checks.finite_number(signal_power, "signal_power")
            if signal_power < 0:
                raise ParameterError(f"signal_power must be >= 0, got {signal_power!r}")
            gain = noise_gain(signal_power, _power(self.noise, "noise"), snr_db)
        elif snr_db is not None or signal_power is not None:
            raise ParameterError("give either gain or snr_db with signal_power, not both")
        self.gain = _checks.finite_number(gain, "gain")
        peak = float(np.max(np.abs(self.noise)))
        if not np.isfinite(abs(self.gain) * peak):  # gain * noise overflows at the loudest sample
            raise ParameterError(
                f"gain={gain!r} times the noise (up to {peak:.3g}) overflows float64")
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
            raise ParameterError(f"offset must be a non-negative integer, got {offset!r}")
        self.offset = int(offset)
        self._scaled_by_dtype = {}
        self._in_use = InUse(self)
        self._reset()

    def reset(self):
        """Back to the start of the noise, no fixed channel layout or dtype."""
        with self._in_use:
            self._reset()

    def _reset(self):
        self._layout = _checks.ChannelLayout()
        self._pos = self.offset
        self._dtype = None
        self._undo = (None, self._pos, None)

    def __call__(self, x):
        """Mix a whole signal ``x`` [shape=(..., n)] from the start offset."""
        clone = NoiseMixer(self.noise, gain=self.gain, offset=self.offset)
        return clone.process(x)

    def _scaled_for(self, dtype):
        """The scaled noise in ``dtype``, made once per dtype (steady state then
        allocates only the output)."""
        scaled = self._scaled_by_dtype.get(dtype)
        if scaled is None:
            scaled = _scaled(self.noise, self.gain, dtype)
            if not all_finite(scaled):
                raise ParameterError(
                    f"gain={self.gain!r} times the noise overflows {dtype}; use a smaller "
                    f"gain or float64 audio")
            self._scaled_by_dtype[dtype] = scaled
        return scaled

    def process(self, chunk):
        """Add the next stretch of noise to ``chunk`` [shape=(..., k)]; same shape,
        the stream's dtype (its first chunk's).

        Raises
        ------
        RuntimeError
            Another thread is inside this stream.
        """
        with self._in_use:
            return self._process(chunk)

    def _process(self, chunk):
        # the stream's dtype only when the chunk needs converting (converting
        # costs a floating-point state switch even when there is nothing to do)
        dtype = self._dtype
        if isinstance(chunk, np.ndarray) and chunk.dtype == dtype:
            dtype = None
        x, lead = _checks.stream_chunk(chunk, self._layout.lead, dtype)
        if self.noise.ndim > 1 and self.noise.shape[:-1] != lead:
            raise ParameterError(
                f"chunk has leading shape {lead}, the noise has {self.noise.shape[:-1]}")
        x = x.reshape(lead + (x.shape[-1],))
        scaled = self._scaled_for(x.dtype)
        # No np.errstate here: it would cost more than the add.  An overflow
        # (absurd levels only) warns, or raises where warnings are errors, and is
        # reported as a ParameterError either way.
        try:
            out = _add_looped(x, scaled, self._pos, np.empty_like(x))
        except RuntimeWarning:
            out = None
        if out is None or not all_finite(out):
            raise ParameterError(
                f"chunk plus the noise overflows {x.dtype} (samples up to "
                f"{float(np.max(np.abs(x))):.3g}, gain {self.gain:.3g}); the stream is unchanged")
        self._dtype = x.dtype
        self._layout.accept(lead)
        self._pos = (self._pos + x.shape[-1]) % self.noise.shape[-1]
        return out

    def flush(self):
        """End of stream: nothing is owed; returns an empty array (the stream's
        dtype) and resets."""
        with self._in_use:
            lead = self._layout.lead or ()
            dtype = np.dtype(np.float32) if self._dtype is None else self._dtype
            self._reset()
            return np.zeros(lead + (0,), dtype=dtype)

    def _checkpoint(self, k):
        """Prepare to take back the next process call (``_rollback``): what a
        Chain does when a later stage refuses the chunk."""
        with self._in_use:
            self._undo = (self._layout.lead, self._pos, self._dtype)

    def _rollback(self):
        """Take back the process call since the last ``_checkpoint``."""
        with self._in_use:
            self._layout.lead, self._pos, self._dtype = self._undo

    def __reduce__(self):
        with self._in_use:
            state = None
            if self._dtype is not None:
                state = (self._layout.lead, self._pos, self._dtype.str)
            return (_restore_mixer, (self.noise, self.gain, self.offset, state))

    def _set_state(self, state):
        """Install a state made by __reduce__.  It may come from a tampered pickle:
        every field is checked first; a bad one raises ValueError, leaving the
        mixer at its start."""
        with self._in_use:
            self._reset()
            if state is None:
                return
            lead, pos, dtype = check_state_tuple(state, "state", 3)
            lead = check_state_lead(lead)
            if self.noise.ndim > 1 and self.noise.shape[:-1] != lead:
                raise ValueError(f"fastmel: restored stream state: lead {lead} does not fit "
                                 f"the noise's leading shape {self.noise.shape[:-1]}")
            pos = check_state_int(pos, "pos", 0, self.noise.shape[-1] - 1)
            dtype = check_state_dtype(dtype, "dtype", [np.float32, np.float64])
            self._layout.accept(lead)
            self._pos = pos
            self._dtype = dtype


def _restore_mixer(noise, gain, offset, state):
    mixer = NoiseMixer(noise, gain=gain, offset=offset)
    mixer._set_state(state)
    return mixer
