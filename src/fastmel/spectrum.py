"""Short-time Fourier transform and decibel scaling."""
import warnings

import numpy as np

from fastmel import _checks
from fastmel._analysis import OUT_COMPLEX, Framing, analyze
from fastmel._spectral import floor_below_max
from fastmel.exceptions import ParameterError

__all__ = ["stft", "power_to_db", "amplitude_to_db"]


def stft(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True,
         pad_mode="constant", dtype=None):
    """Short-time Fourier transform, equal to ``librosa.stft``.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)], real floating point
        Audio; float32 runs the single-precision FFT, float64 the double one.
    n_fft : int > 0
        FFT size (frame length after zero padding the window).
    hop_length : int > 0 or None
        Samples between frames; ``win_length // 4`` when None.
    win_length : int, 0 < win_length <= n_fft, or None
        Window length (``n_fft`` when None); shorter windows are centred in the frame.
    window : str, tuple, callable or np.ndarray [shape=(win_length,)]
        See :func:`fastmel.filters.get_window`.
    center : bool
        Pad ``n_fft // 2`` samples on both sides so frame t is centred at ``t * hop_length``.
    pad_mode : {"constant", "edge", "reflect", "symmetric", "linear_ramp"}
        How to pad when ``center`` is True.
    dtype : np.dtype or None
        Complex output type; complex64 for float32 input, complex128 for float64, when None.

    Returns
    -------
    D : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames), dtype=complex]

    Raises
    ------
    ParameterError
        Bad parameters, non-finite samples, or ``center=False`` with fewer than ``n_fft`` samples.
    TypeError
        Integer, boolean or complex audio.

    Examples
    --------
    >>> y = np.zeros(16000, dtype=np.float32)
    >>> fastmel.stft(y, n_fft=512, hop_length=160).shape
    (257, 101)
    """
    y = _checks.audio(y)
    framing = Framing.make(n_fft, hop_length, win_length, window, center, pad_mode)
    D = analyze(framing.kernel(y.dtype, OUT_COMPLEX), framing, y)
    return D if dtype is None else D.astype(dtype, copy=False)


def _ref_value(ref, magnitude):
    """The dB reference; a callable one is evaluated per channel for ndim > 2."""
    if not callable(ref):
        return np.abs(ref)
    if magnitude.ndim <= 2:
        return ref(magnitude)
    channels = magnitude.reshape((-1,) + magnitude.shape[-2:])
    values = np.array([ref(channel) for channel in channels])
    return values.reshape(magnitude.shape[:-2] + (1, 1))


def _check_db_params(amin, top_db):
    amin = _checks.finite_number(amin, "amin")
    if amin <= 0:
        raise ParameterError(f"amin must be strictly positive, got {amin!r}")
    if top_db is not None:
        top_db = _checks.finite_number(top_db, "top_db")
        if top_db < 0:
            raise ParameterError(f"top_db must be non-negative, got {top_db!r}")
    return amin, top_db


def floor_top_db(log_spec, top_db, *, ours=False):
    """Clip to ``max - top_db``; per channel (last two axes) for ndim > 2, as librosa 1.0.

    ``ours`` marks a C-contiguous float array fastmel's kernel just wrote (no NaN),
    which a compiled pass clips with one max and one clip per channel.
    """
    if top_db is None or log_spec.size == 0 or log_spec.ndim == 0:
        return log_spec
    if ours:
        group = log_spec.size if log_spec.ndim <= 2 else log_spec.shape[-2] * log_spec.shape[-1]
        floor_below_max(log_spec, float(top_db), group)
        return log_spec
    if log_spec.ndim > 2:
        peak = log_spec.max(axis=(-2, -1), keepdims=True)
    else:
        peak = log_spec.max()
    return np.maximum(log_spec, peak - top_db, out=log_spec)


def power_to_db(S, *, ref=1.0, amin=1e-10, top_db=80.0):
    """Convert a power spectrogram to decibels: ``10 * log10(S / ref)``, floored.

    Equal to ``librosa.power_to_db``; for input with more than two dimensions
    each channel ``S[..., :, :]`` is scaled on its own (a callable ``ref`` and
    the ``top_db`` floor are evaluated per channel), as in librosa 1.0.

    Parameters
    ----------
    S : np.ndarray [shape=(..., d, t)]
        Power values (complex input is reduced to its magnitude, with a warning).
    ref : number or callable
        Reference power; a callable gets the magnitudes and returns it (e.g. ``np.max``).
    amin : float > 0
        Floor on ``S`` and ``ref`` before the logarithm.
    top_db : float >= 0 or None
        Floor the result at ``max - top_db``.

    Returns
    -------
    S_db : np.ndarray [shape=(..., d, t)]

    Raises
    ------
    ParameterError
        ``amin <= 0`` or ``top_db < 0``.
    """
    S = np.asarray(S)
    amin, top_db = _check_db_params(amin, top_db)
    if np.iscomplexobj(S):
        warnings.warn(
            "power_to_db was called on complex input so phase information will be discarded. "
            "To suppress this warning, call power_to_db(np.abs(D)**2) instead.", stacklevel=2)
        magnitude = np.abs(S)
    else:
        magnitude = S
    ref_value = _ref_value(ref, magnitude)
    log_spec = 10.0 * np.log10(np.maximum(amin, magnitude))
    log_spec -= 10.0 * np.log10(np.maximum(amin, ref_value))
    return floor_top_db(log_spec, top_db)


def amplitude_to_db(S, *, ref=1.0, amin=1e-5, top_db=80.0):
    """Convert an amplitude spectrogram to decibels: ``20 * log10(S / ref)``, floored.

    Equal to ``librosa.amplitude_to_db`` (``top_db`` per channel for ndim > 2,
    as in librosa 1.0).

    Parameters
    ----------
    S : np.ndarray [shape=(..., d, t)]
        Amplitudes (complex input is reduced to its magnitude).
    ref : number or callable
    amin : float > 0
    top_db : float >= 0 or None

    Returns
    -------
    S_db : np.ndarray [shape=(..., d, t)]
    """
    S = np.asarray(S)
    amin, top_db = _check_db_params(amin, top_db)
    magnitude = np.abs(S)
    ref_value = _ref_value(ref, magnitude)
    return power_to_db(np.square(magnitude), ref=ref_value ** 2, amin=amin ** 2, top_db=top_db)
