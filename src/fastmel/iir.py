"""Microphone band limits: a streaming Butterworth band-pass (IIR)."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, TypeVar, overload

from fastmel._iir import SosStream
from fastmel.design import butter_bandpass

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from typing_extensions import Self

    _Float = TypeVar("_Float", np.float32, np.float64)

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

    Notes
    -----
    The leading shape and dtype of a stream are fixed by its first chunk;
    later chunks of another float dtype are converted to it.  A chunk whose
    output would overflow (float32 samples near 3e38, say) raises
    ``ParameterError`` and leaves the stream unchanged.  The streaming
    protocol (``process``, ``flush``, ``reset``, pickling) is
    :class:`fastmel.Stream`'s.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> bp = fastmel.Bandpass(16000, 300, 3400)
    >>> y = bp(x)                  # a whole signal, from rest
    >>> parts = [bp.process(chunk) for chunk in np.array_split(x, 10)]   # or as a stream
    >>> np.array_equal(np.concatenate(parts), y)
    True
    """

    def __init__(self, sr: float, low_hz: float, high_hz: float, *, order: int = 4) -> None:
        self._setup(butter_bandpass(sr, low_hz, high_hz, order=order), (sr, low_hz, high_hz, order))

    def _setup(self, sos: npt.NDArray[np.float64],
               config: tuple[float, float, float, int]) -> None:
        super().__init__(sos)
        self._config = config
        sr, low_hz, high_hz, order = config
        # Pickles name the parameters, never the sections: a restored stream
        # designs (and checks) its filter again.
        self._bind(functools.partial(type(self), sr, low_hz, high_hz, order=order),
                   f"{type(self).__name__}({sr!r}, {low_hz!r}, {high_hz!r}, order={order!r})")

    def stream(self) -> Self:
        """A new stream of this configuration, at rest.

        It reuses this object's sections: designing them again costs about as
        much as filtering a second of audio.

        Returns
        -------
        Bandpass
            A stream with this object's parameters and sections and its own
            state, at rest.
        """
        if type(self) is not Bandpass:
            # A subclass's constructor may do more than design the filter.
            return super().stream()
        fresh = type(self).__new__(type(self))
        fresh._setup(self.sos, self._config)
        return fresh

    @property
    def sr(self) -> float:
        """Sample rate (Hz)."""
        return self._config[0]

    @property
    def low_hz(self) -> float:
        """Lower band edge (Hz)."""
        return self._config[1]

    @property
    def high_hz(self) -> float:
        """Upper band edge (Hz)."""
        return self._config[2]

    @property
    def order(self) -> int:
        """Butterworth order."""
        return self._config[3]

    @overload
    def __call__(self, x: npt.NDArray[_Float]) -> npt.NDArray[_Float]: ...
    @overload
    def __call__(self, x: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]: ...

    def __call__(self, x: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """Filter a whole signal ``x`` [shape=(..., n)] from rest; this object's own
        stream state is left alone."""
        return self.stream().process(x)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
