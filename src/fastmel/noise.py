"""Additive noise at a chosen signal-to-noise ratio, offline and streaming."""
import numpy as np

from fastmel import _checks
from fastmel.exceptions import ParameterError

__all__ = ["add_noise", "NoiseMixer", "noise_gain"]


def _check_noise(noise):
    noise = _checks.audio(noise, "noise")
    if noise.shape[-1] == 0:
        raise ParameterError("noise is empty")
    return noise


def _power(x):
    """Mean square over every sample of x, accumulated in float64."""
    return float(np.mean(np.square(x, dtype=np.float64))) if x.size else 0.0


def noise_gain(signal_power, noise_power, snr_db):
    """The gain g with ``10 * log10(signal_power / (g**2 * noise_power)) == snr_db``."""
    snr_db = _checks.finite_number(snr_db, "snr_db")
    if noise_power <= 0:
        raise ParameterError("noise is silent (zero power): it cannot be scaled to an SNR")
    return float(np.sqrt(signal_power / (noise_power * 10.0 ** (snr_db / 10.0))))


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


def _scaled(noise, gain, dtype):
    """gain * noise, formed in float64 and rounded once to the audio's dtype."""
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
    gets no noise (gain 0).

    Parameters
    ----------
    x : np.ndarray [shape=(..., n)]
    noise : np.ndarray [shape=(m,) or x's leading shape + (m,)]
        One noise signal for every channel, or one per channel.
    snr_db : float
    rng : np.random.Generator, int seed or None
        Source of the offset; the same seed gives the same result.

    Returns
    -------
    np.ndarray [shape=(..., n)], dtype of ``x``

    Raises
    ------
    ParameterError
        Silent, empty or non-finite noise; non-finite audio; a non-finite
        ``snr_db``; noise channels that do not match ``x``.
    """
    x = _checks.audio(x, "x")
    noise = _check_noise(noise)
    if noise.ndim > 1 and noise.shape[:-1] != x.shape[:-1]:
        raise ParameterError(
            f"noise has leading shape {noise.shape[:-1]}, x has {x.shape[:-1]}; give one "
            f"noise signal or one per channel")
    rng = np.random.default_rng(rng)
    offset = int(rng.integers(0, noise.shape[-1]))
    idx = (offset + np.arange(x.shape[-1])) % noise.shape[-1]
    segment = np.broadcast_to(noise[..., idx], x.shape)
    gain = noise_gain(_power(x), _power(segment), snr_db)
    return _add_looped(x, _scaled(noise, gain, x.dtype), offset, np.empty_like(x))


class NoiseMixer:
    """Adds looped noise at a fixed gain to a stream.

    The SNR of a whole clip is not known until the clip ends, so a stream
    takes its level explicitly: a ``gain``, or ``snr_db`` together with the
    ``signal_power`` to expect (mean square; e.g. measured on a calibration
    clip); the gain is then ``noise_gain(signal_power, P(noise), snr_db)``.

    Parameters
    ----------
    noise : np.ndarray [shape=(m,) or (..., m)]
        One noise signal for every channel, or one per channel.
    gain : float or None
    snr_db, signal_power : float or None
        Used together when ``gain`` is None.
    offset : int
        Where in the noise the stream starts.

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
            gain = noise_gain(signal_power, _power(self.noise), snr_db)
        elif snr_db is not None or signal_power is not None:
            raise ParameterError("give either gain or snr_db with signal_power, not both")
        self.gain = _checks.finite_number(gain, "gain")
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
            raise ParameterError(f"offset must be a non-negative integer, got {offset!r}")
        self.offset = int(offset)
        self.reset()

    def reset(self):
        """Back to the start of the noise, no fixed channel layout."""
        self._layout = _checks.ChannelLayout()
        self._pos = self.offset
        self._dtype = np.dtype(np.float32)
        self._scaled_by_dtype = {}

    def __call__(self, x):
        """Mix a whole signal ``x`` [shape=(..., n)] from the start offset."""
        clone = NoiseMixer(self.noise, gain=self.gain, offset=self.offset)
        return clone.process(x)

    def process(self, chunk):
        """Add the next stretch of noise to ``chunk`` [shape=(..., k)]; same shape and dtype."""
        x, lead = self._layout.check(chunk)
        if self.noise.ndim > 1 and self.noise.shape[:-1] != lead:
            raise ParameterError(
                f"chunk has leading shape {lead}, the noise has {self.noise.shape[:-1]}")
        x = x.reshape(lead + (x.shape[-1],))
        scaled = self._scaled_by_dtype.get(x.dtype)
        if scaled is None:  # once per dtype: steady state allocates only the output
            scaled = self._scaled_by_dtype[x.dtype] = _scaled(self.noise, self.gain, x.dtype)
        out = _add_looped(x, scaled, self._pos, np.empty_like(x))
        if self._layout.lead is None:
            self._dtype = out.dtype
        self._layout.accept(lead)
        self._pos = (self._pos + x.shape[-1]) % self.noise.shape[-1]
        return out

    def flush(self):
        """End of stream: nothing is owed; returns an empty array (the dtype of the
        stream's first chunk) and resets."""
        lead = self._layout.lead or ()
        dtype = self._dtype
        self.reset()
        return np.zeros(lead + (0,), dtype=dtype)
