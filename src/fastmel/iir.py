"""Microphone band limits: a streaming Butterworth band-pass (IIR)."""
from fastmel._iir import SosStream
from fastmel.design import butter_bandpass

__all__ = ["Bandpass"]


class Bandpass(SosStream):
    """Butterworth band-pass: a stream, and callable offline.

    Equal to ``scipy.signal.sosfilt(scipy.signal.butter(order, [low_hz,
    high_hz], btype="bandpass", fs=sr, output="sos"), x)``: the same sections
    (see :func:`fastmel.filters.butter_bandpass`) and the same recursion, with
    float64 state for float32 audio too and the state kept out of denormal
    numbers, so digital silence costs nothing extra.  Output sample n depends
    on inputs up to n (``latency`` is 0) and ``flush()`` owes nothing.

    Parameters
    ----------
    sr : number > 0
    low_hz, high_hz : float, 0 < low_hz < high_hz < sr / 2
    order : int, 1 <= order <= 500
        Butterworth order, as ``scipy.signal.butter`` means it.  Orders whose
        overall gain would fall below 1e-100 (high orders on narrow bands) are
        refused; the message names the highest order the band allows.

    The leading shape and dtype of a stream are fixed by its first chunk;
    later chunks of another float dtype are converted to it.  A chunk whose
    output would overflow (float32 samples near 3e38, say) raises
    ``ParameterError`` and leaves the stream unchanged.

    Examples
    --------
    >>> bp = fastmel.Bandpass(16000, 300, 3400)
    >>> y = bp(x)                  # a whole signal, from rest
    >>> for chunk in chunks:       # or as a stream
    ...     out = bp.process(chunk)
    """

    def __init__(self, sr, low_hz, high_hz, *, order=4):
        self._config = dict(sr=sr, low_hz=low_hz, high_hz=high_hz, order=order)
        super().__init__(butter_bandpass(sr, low_hz, high_hz, order=order))

    def __call__(self, x):
        """Filter a whole signal ``x`` [shape=(..., n)] from rest; this object's own
        stream state is left alone."""
        return self.stream().process(x)

    def stream(self):
        """A new stream of this filter, at rest."""
        return type(self)(**self._config)

    def __reduce__(self):
        return (_restore, (self._config, self._get_state()))

    def __repr__(self):
        return "Bandpass({sr!r}, {low_hz!r}, {high_hz!r}, order={order!r})".format(**self._config)


def _restore(config, state):
    bp = Bandpass(**config)
    bp._set_state(state)
    return bp
