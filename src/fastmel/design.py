"""Filter design in scipy.signal's conventions.

A Butterworth band-pass as second-order sections (scipy.signal.butter) and
windowed-sinc band-pass taps (scipy.signal.firwin).  The window shapes
(scipy.signal.windows) are in fastmel._windows; librosa's side - the analysis
windows by name and the mel filter bank - is fastmel.filters, which also
offers the two band-pass designs under their public names.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from fastmel import _checks
from fastmel._windows import symmetric_window
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["butter_bandpass", "bandpass_fir"]


def _check_band(sr: float, low_hz: float, high_hz: float) -> tuple[float, float, float]:
    sr = _checks.positive_number(sr, "sr")
    low_hz = _checks.finite_number(low_hz, "low_hz")
    high_hz = _checks.finite_number(high_hz, "high_hz")
    nyquist = sr / 2.0
    if not 0 < low_hz < nyquist:
        raise ParameterError(f"low_hz must be in (0, sr/2) = (0, {nyquist:g}), got {low_hz!r}")
    if not 0 < high_hz < nyquist:
        raise ParameterError(f"high_hz must be in (0, sr/2) = (0, {nyquist:g}), got {high_hz!r}")
    if low_hz >= high_hz:
        raise ParameterError(f"low_hz must be below high_hz, got low_hz={low_hz!r} >= high_hz={high_hz!r}")
    return sr, low_hz, high_hz


# Designs grow as order**2 in time; Butterworth orders above a few dozen have no audio use.
_MAX_BUTTER_ORDER = 500
# The overall gain sits in the first section: below this, float64 state would carry
# the first section's output of quiet audio down to where the denormal guard of
# fastmel._iir rounds it (about 1e-216), or the gain itself would underflow.
_MIN_LOG10_GAIN = -100


def _bandpass_prototype(
    sr: float, low_hz: float, high_hz: float, order: int,
) -> tuple[float, np.float64, np.float64, npt.NDArray[np.complex128], npt.NDArray[np.complex128]]:
    """The analog band-pass behind :func:`butter_bandpass`: edges pre-warped for a
    bilinear transform at fs = 2 (scipy's convention), half the frequency-scaled
    prototype poles, and per prototype pole the factor of the digital gain its
    two band-pass poles contribute (each of magnitude below 1, so their product
    cannot overflow the way bw**order / prod(fs2 - poles) does)."""
    fs2 = 4.0
    w1, w2 = fs2 * np.tan(np.pi * np.array([low_hz, high_hz]) / sr)
    bw, w0 = w2 - w1, np.sqrt(w1 * w2)
    proto = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    half = proto * bw / 2
    # (fs2 - p)(fs2 - p') for the pair p + p' = 2 half, p p' = w0**2
    factors = fs2 * bw / (fs2 ** 2 - 2 * fs2 * half + w0 ** 2)
    return fs2, bw, w0, half, factors


def _bandpass_log10_gain(sr: float, low_hz: float, high_hz: float, order: int) -> float:
    """log10 of the overall gain of ``butter_bandpass(sr, low_hz, high_hz, order=order)``
    (the first section's b0), computed without underflow."""
    factors = _bandpass_prototype(sr, low_hz, high_hz, order)[-1]
    return float(np.sum(np.log10(np.abs(factors))))


def butter_bandpass(sr: float, low_hz: float, high_hz: float, *,
                    order: int = 4) -> npt.NDArray[np.float64]:
    """Butterworth band-pass as second-order sections.

    The same filter and sections as
    ``scipy.signal.butter(order, [low_hz, high_hz], btype="bandpass", fs=sr, output="sos")``
    (equal within rounding): the analog prototype's poles, moved to the band by
    the low-pass to band-pass transform and to the z-plane by the bilinear
    transform with pre-warped edges; poles closest to the unit circle go in the
    last sections, each with its two nearest zeros.  Poles equally close to the
    circle (band edges mirrored about sr/4) may be ordered differently from
    scipy, which changes rounding only.

    Parameters
    ----------
    sr : number > 0
    low_hz, high_hz : float, 0 < low_hz < high_hz < sr / 2
    order : int, 1 <= order <= 500
        Order of the prototype (the band-pass has 2 * order poles, ``order`` sections).

    Returns
    -------
    sos : np.ndarray [shape=(order, 6), dtype=float64]
        Rows ``[b0, b1, b2, 1, a1, a2]``.  The overall gain sits in the first
        section, as in scipy; it is computed as a product of per-pole factors,
        so it stays finite at orders where scipy's gain overflows to NaN.

    Raises
    ------
    ParameterError
        Band edges outside ``0 < low_hz < high_hz < sr / 2``, an order outside
        [1, 500], or an order whose overall gain would fall below 1e-100 (very
        high orders on narrow bands, e.g. order 28 on a 1 Hz wide band at
        16 kHz); the message names the highest order the band allows.
    """
    sr, low_hz, high_hz = _check_band(sr, low_hz, high_hz)
    order = _checks.positive_int(order, "order")
    if order > _MAX_BUTTER_ORDER:
        raise ParameterError(f"order must be at most {_MAX_BUTTER_ORDER}, got {order!r}")
    fs2, bw, w0, half, factors = _bandpass_prototype(sr, low_hz, high_hz, order)
    # Low-pass to band-pass: each prototype pole gives two poles; order zeros at s = 0.
    root = np.sqrt(half ** 2 - w0 ** 2 + 0j)
    poles_s = np.concatenate([half + root, half - root])
    # Bilinear transform: s = 0 -> z = 1, s = inf -> z = -1.
    poles = (fs2 + poles_s) / (fs2 - poles_s)
    log_gain = float(np.sum(np.log10(np.abs(factors))))
    if log_gain < _MIN_LOG10_GAIN:
        highest = next((k for k in range(order - 1, 0, -1)
                        if _bandpass_log10_gain(sr, low_hz, high_hz, k) >= _MIN_LOG10_GAIN), None)
        raise ParameterError(
            f"order={order} is too high for the band {low_hz:g}-{high_hz:g} Hz at sr={sr:g}: "
            f"the filter's gain would be about 1e{log_gain:.0f}, below 1e{_MIN_LOG10_GAIN}; "
            + (f"the highest order for this band is {highest}" if highest else
               "no order can filter a band this narrow or this close to 0 Hz"))
    gain = np.real(np.prod(factors))
    # One representative per conjugate pair, plus the real poles (a very wide
    # band makes some), in scipy's order for ties.
    tol = 100 * np.finfo(np.float64).eps * np.abs(poles)
    is_real = np.abs(poles.imag) <= tol
    upper = poles[~is_real & (poles.imag > 0)]
    upper = upper[np.lexsort((np.abs(upper.imag), upper.real))]
    remaining = list(upper) + sorted(poles[is_real].real)
    zeros = [1.0] * order + [-1.0] * order
    sos = np.zeros((order, 6))

    def nearest_zero(p: Any) -> float:
        return zeros.pop(int(np.argmin([abs(z - p) for z in zeros])))

    for si in range(order - 1, -1, -1):
        p1 = remaining.pop(int(np.argmin([abs(1 - abs(p)) for p in remaining])))
        if np.iscomplexobj(p1) and p1.imag != 0:
            a1, a2 = -2 * p1.real, abs(p1) ** 2
        else:
            reals = [i for i, p in enumerate(remaining) if not (np.iscomplexobj(p) and p.imag != 0)]
            p2 = remaining.pop(reals[int(np.argmin([abs(1 - abs(remaining[i])) for i in reals]))])
            a1, a2 = -(p1 + p2), p1 * p2
        z1 = nearest_zero(p1)
        z2 = nearest_zero(p1)
        sos[si] = [1.0, -(z1 + z2), z1 * z2, 1.0, np.real(a1), np.real(a2)]
    sos[0, :3] *= gain
    return sos


def bandpass_fir(sr: float, low_hz: float, high_hz: float, *,
                 num_taps: int) -> npt.NDArray[np.float64]:
    """Linear-phase band-pass FIR taps (windowed sinc, Hamming window).

    The same taps as ``scipy.signal.firwin(num_taps, [low_hz, high_hz],
    pass_zero=False, fs=sr)``: the ideal band-pass impulse response times a
    Hamming window, scaled to unit gain at the band's centre frequency.  Use
    them with :class:`fastmel.Convolver` to band-limit with a linear phase
    (delay ``(num_taps - 1) / 2`` samples).

    Parameters
    ----------
    sr : number > 0
    low_hz, high_hz : float, 0 < low_hz < high_hz < sr / 2
    num_taps : int > 0

    Returns
    -------
    h : np.ndarray [shape=(num_taps,), dtype=float64]

    Raises
    ------
    ParameterError
        Band edges outside ``0 < low_hz < high_hz < sr / 2``, or more taps
        than the machine's memory can hold.
    """
    sr, low_hz, high_hz = _check_band(sr, low_hz, high_hz)
    num_taps = _checks.positive_int(num_taps, "num_taps")
    # the taps, their positions, the window and one temporary, in float64
    _checks.allocation(4 * 8 * num_taps, f"bandpass_fir with num_taps={num_taps}")
    nyquist = sr / 2.0
    lo, hi = low_hz / nyquist, high_hz / nyquist
    m = np.arange(num_taps) - (num_taps - 1) / 2.0
    h: npt.NDArray[np.float64] = hi * np.sinc(hi * m) - lo * np.sinc(lo * m)
    h *= symmetric_window("hamming", num_taps) if num_taps > 1 else 1.0
    centre = 0.5 * (lo + hi)
    h /= np.sum(h * np.cos(np.pi * m * centre))
    return h


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
