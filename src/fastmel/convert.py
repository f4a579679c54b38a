"""Unit conversions, as librosa's top-level functions: Hz <-> mel (Slaney or
HTK), FFT bin and mel band frequencies, dB -> power or amplitude, and frame
indices <-> sample indices <-> seconds.

Each takes and returns what its librosa namesake does: a scalar (numpy
scalar) for a scalar, an array of the same shape for an array.  Unlike
librosa they check their input: NaN and inf are refused (librosa passes them
through, or turns them into arbitrary integers), and so is a finite value
whose result would not be finite in the output's precision.
"""
from __future__ import annotations

import numbers
from typing import Any, TypeVar, Union, cast

import numpy as np
import numpy.typing as npt

from fastmel import _checks
from fastmel.exceptions import ParameterError

__all__ = ["hz_to_mel", "mel_to_hz", "mel_frequencies", "fft_frequencies", "db_to_power",
           "db_to_amplitude", "frames_to_time", "time_to_frames", "frames_to_samples",
           "samples_to_frames", "times_like"]

# Return types: a numpy scalar for a scalar argument, else an array.
_Floats = Union[np.floating[Any], npt.NDArray[np.floating[Any]]]
_Ints = Union[np.int64, npt.NDArray[np.int64]]
_Scalar = TypeVar("_Scalar", bound=np.generic)

# Slaney's Auditory Toolbox scale: linear below 1 kHz (200/3 Hz per mel),
# logarithmic above, with 27 mels per factor 6.4 in frequency.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0

# Integer results are int64 (librosa's ``int``); float values beyond this
# cannot be converted to it.
_INT64_LIMIT = 2.0 ** 63


def _values(x: npt.ArrayLike, name: str) -> npt.NDArray[np.floating[Any]]:
    """``x`` as a finite float32/float64 array: integers become float64, float16
    float32 (as fastmel's dB functions compute it), other floats float64."""
    a = np.asarray(x)
    kind = a.dtype.kind
    if kind == "c":
        raise TypeError(f"{name} must be real numbers, got complex dtype {a.dtype}")
    if kind == "b" or kind not in "iuf":
        raise TypeError(f"{name} must be real numbers (int or float), got dtype {a.dtype}")
    if kind in "iu":
        a = a.astype(np.float64)
    elif a.dtype == np.float16:
        a = a.astype(np.float32)
    elif a.dtype != np.float32:
        a = a.astype(np.float64)
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} contains non-finite values (NaN or inf); they must be finite")
    return a


def _indices(x: npt.ArrayLike, name: str) -> npt.NDArray[Any]:
    """``x`` as a finite array: integers as int64 (exact), floats as :func:`_values`."""
    a = np.asarray(x)
    if a.dtype.kind in "iu":
        if a.size and (a.min() < -2 ** 63 or a.max() >= 2 ** 63):
            raise ParameterError(
                f"{name} has values up to {a.max()!r}, beyond the int64 range of the results")
        return a.astype(np.int64)
    return _values(a, name)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _shaped_like(out: npt.NDArray[_Scalar],
                 a: npt.NDArray[Any]) -> _Scalar | npt.NDArray[_Scalar]:
    """A numpy scalar for a 0-d input (librosa's scalar in, scalar out), else the array."""
    return out[()] if a.ndim == 0 else out


def _first_bad(values: npt.NDArray[Any], ok: npt.NDArray[np.bool_]) -> Any:
    """The first of ``values`` where ``ok`` (an array of the same shape) is False."""
    return values.reshape(-1)[np.flatnonzero(~ok.reshape(-1))[0]].item()


def _finite_result(out: npt.NDArray[np.floating[Any]], a: npt.NDArray[Any], name: str,
                   limit: str) -> npt.NDArray[np.floating[Any]]:
    """``out``, unless a finite input value gave a non-finite result: then
    ParameterError names the first such value and ``limit`` (what is allowed)."""
    ok = np.isfinite(out)
    if not np.all(ok):
        raise ParameterError(
            f"{name}={_first_bad(a, ok)!r} gives a result that is not finite in {out.dtype}; "
            f"{limit}")
    return out


def _offset(n_fft: int | None) -> int:
    """Samples from a frame's start to its centre (librosa's ``n_fft // 2``), 0 for None."""
    n_fft = _checks.positive_int(n_fft, "n_fft", allow_none=True)
    return 0 if n_fft is None else n_fft // 2


def _to_int64(values: npt.NDArray[Any], inputs: npt.NDArray[Any], name: str,
              what: str) -> npt.NDArray[np.int64]:
    """Float ``values`` (computed from ``inputs``, of the same shape) truncated
    towards zero to int64 (numpy's ``astype(int)``, which librosa uses),
    refused where they do not fit."""
    fits = np.abs(values) < _INT64_LIMIT
    if not np.all(fits):
        raise ParameterError(
            f"{name}={_first_bad(inputs, fits)!r} gives {what} beyond the int64 range")
    return values.astype(np.int64)


def hz_to_mel(frequencies: npt.ArrayLike, *, htk: bool = False) -> _Floats:
    """Convert Hz to mels, as ``librosa.hz_to_mel``.

    Parameters
    ----------
    frequencies : number or np.ndarray [shape=(...)]
        Finite frequencies in Hz; with ``htk``, greater than -700 Hz (where
        the HTK formula's logarithm ends).  Negative frequencies are mapped
        like librosa maps them (linearly, on Slaney's scale).
    htk : bool
        Use the HTK formula ``2595 * log10(1 + f / 700)`` instead of Slaney's
        (linear below 1 kHz, logarithmic above).

    Returns
    -------
    mels : np.floating or np.ndarray [shape=(...)]
        float32 for float32 (and float16) input, else float64.  float32 values
        are computed in float64 and rounded once: librosa rounds some
        intermediate results to float32 and may differ by an ulp.

    Raises
    ------
    ParameterError
        NaN or inf (librosa returns NaN or inf), or, with ``htk``, frequencies
        at or below -700 Hz (librosa returns NaN or -inf).
    TypeError
        Complex or non-numeric values, or ``htk`` not a bool.

    Examples
    --------
    >>> fastmel.hz_to_mel(440.0)
    np.float64(6.6)
    >>> fastmel.hz_to_mel([110.0, 440.0], htk=True)  # doctest: +ELLIPSIS
    array([164.489..., 549.638...])
    """
    htk = _flag(htk, "htk")
    f = _values(frequencies, "frequencies")
    f64 = f.astype(np.float64, copy=False)
    if htk:
        if f64.size and f64.min() <= -700.0:
            raise ParameterError(
                f"frequencies={_first_bad(f64, f64 > -700.0)!r} is not on the HTK mel scale, "
                f"which is defined above -700 Hz")
        out = 2595.0 * np.log10(1.0 + f64 / 700.0)
    else:
        log_part = _MIN_LOG_MEL + np.log(np.maximum(f64, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
        out = np.where(f64 >= _MIN_LOG_HZ, log_part, f64 / _F_SP)
    return _shaped_like(out.astype(f.dtype, copy=False), f)


def _max_mel(htk: bool, dtype: np.dtype[Any]) -> float:
    """The largest mel value whose frequency is finite in ``dtype``."""
    top = float(np.finfo(dtype).max)
    mel: float
    if htk:
        mel = 2595.0 * np.log10(top / 700.0)
    else:
        mel = _MIN_LOG_MEL + np.log(top / _MIN_LOG_HZ) / _LOGSTEP
    return mel


def mel_to_hz(mels: npt.ArrayLike, *, htk: bool = False) -> _Floats:
    """Convert mels to Hz, as ``librosa.mel_to_hz`` (the inverse of :func:`hz_to_mel`).

    Parameters
    ----------
    mels : number or np.ndarray [shape=(...)]
        Finite mel values, small enough that the frequency is finite in the
        output's precision (float64: up to about 10238 mels on Slaney's scale,
        792537 with ``htk``; float32: about 1205 and 92607).
    htk : bool
        Use the HTK formula ``700 * (10 ** (m / 2595) - 1)`` instead of Slaney's.

    Returns
    -------
    frequencies : np.floating or np.ndarray [shape=(...)]
        float32 for float32 (and float16) input, else float64, computed as
        :func:`hz_to_mel` describes (librosa returns float64 for a float32
        *scalar* above 15 mels on Slaney's scale; fastmel float32).

    Raises
    ------
    ParameterError
        NaN or inf, or mels whose frequency overflows (librosa returns inf).
    TypeError
        Complex or non-numeric values, or ``htk`` not a bool.

    Examples
    --------
    >>> fastmel.mel_to_hz(6.6)
    np.float64(440.0)
    """
    htk = _flag(htk, "htk")
    m = _values(mels, "mels")
    m64 = m.astype(np.float64, copy=False)
    with np.errstate(over="ignore"):  # an overflow is reported below
        if htk:
            out = 700.0 * (10.0 ** (m64 / 2595.0) - 1.0)
        else:
            log_part = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m64, _MIN_LOG_MEL)
                                                        - _MIN_LOG_MEL))
            out = np.where(m64 >= _MIN_LOG_MEL, log_part, _F_SP * m64)
        out = out.astype(m.dtype, copy=False)
    _finite_result(out, m, "mels",
                   f"mels must be at most {_max_mel(htk, m.dtype):.6g} (htk={htk}, {m.dtype})")
    return _shaped_like(out, m)


def mel_frequencies(n_mels: int = 128, *, fmin: float = 0.0, fmax: float = 11025.0,
                    htk: bool = False) -> npt.NDArray[np.float64]:
    """``n_mels`` frequencies (Hz) evenly spaced on the mel scale from ``fmin``
    to ``fmax``, as ``librosa.mel_frequencies``.

    Parameters
    ----------
    n_mels : int >= 0
        Number of frequencies (0 gives an empty array).
    fmin, fmax : finite float
        The first and last frequency (Hz).  As in librosa, ``fmin > fmax``
        gives decreasing frequencies and negative ones are allowed (with
        ``htk``, above -700 Hz).
    htk : bool
        Use the HTK mel formula instead of Slaney's.

    Returns
    -------
    frequencies : np.ndarray [shape=(n_mels,), dtype=float64]

    Raises
    ------
    ParameterError
        ``n_mels`` negative or not an int, ``fmin``/``fmax`` not finite
        numbers, frequencies off the HTK scale, or an array larger than
        this machine's memory.
    TypeError
        ``htk`` not a bool.

    Examples
    --------
    >>> fastmel.mel_frequencies(3, fmax=8000.0)  # doctest: +ELLIPSIS
    array([   0.        , 1688.908..., 8000.        ])
    """
    if (isinstance(n_mels, (bool, np.bool_)) or not isinstance(n_mels, numbers.Integral)
            or n_mels < 0):
        raise ParameterError(f"n_mels must be an integer >= 0, got {n_mels!r}")
    _checks.allocation(8 * int(n_mels), f"n_mels={n_mels} frequencies")
    fmin = _checks.finite_number(fmin, "fmin")
    fmax = _checks.finite_number(fmax, "fmax")
    low = hz_to_mel(fmin, htk=htk)
    high = hz_to_mel(fmax, htk=htk)
    return mel_to_hz(np.linspace(low, high, int(n_mels)), htk=htk)


def fft_frequencies(*, sr: float = 22050, n_fft: int = 2048) -> npt.NDArray[np.float64]:
    """Centre frequency (Hz) of each of the ``1 + n_fft // 2`` real-FFT bins, as
    ``librosa.fft_frequencies``: ``k * sr / n_fft``.

    Parameters
    ----------
    sr : finite number > 0
        Sampling rate.
    n_fft : int > 0
        FFT size (odd sizes too).

    Returns
    -------
    frequencies : np.ndarray [shape=(1 + n_fft // 2,), dtype=float64]

    Raises
    ------
    ParameterError
        ``sr`` not a finite positive number (librosa returns negative or
        infinite frequencies), ``n_fft`` not a positive int (librosa divides
        by zero for 0), or an array larger than this machine's memory.

    Examples
    --------
    >>> fastmel.fft_frequencies(sr=16000, n_fft=8)
    array([   0., 2000., 4000., 6000., 8000.])
    """
    sr = _checks.positive_number(sr, "sr")
    n_fft = _checks.positive_int(n_fft, "n_fft")
    _checks.allocation(8 * (n_fft // 2 + 1), f"the {n_fft // 2 + 1} bins of n_fft={n_fft}")
    # float64 for a float d (numpy's stubs say only "floating")
    return cast("npt.NDArray[np.float64]", np.fft.rfftfreq(n=n_fft, d=1.0 / sr))


def _power(S_db: npt.ArrayLike, ref: float
           ) -> tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.float64]]:
    """``S_db`` checked, and ``ref * 10 ** (S_db / 10)`` in float64 (librosa's
    float64 result, bit for bit; inf where it overflows)."""
    x = _values(S_db, "S_db")
    # Always through numpy's array loop: numpy < 2 takes a 0-d array's power
    # through the C library instead, up to 1 ulp away.
    x64 = x.astype(np.float64, copy=False).reshape(-1)
    with np.errstate(over="ignore"):  # the callers report an overflow
        return x, (ref * 10.0 ** (0.1 * x64)).reshape(x.shape)


def _rounded(values: npt.NDArray[np.float64],
             dtype: np.dtype[Any]) -> npt.NDArray[np.floating[Any]]:
    """float64 ``values`` in ``dtype``, inf where they are beyond its range."""
    with np.errstate(over="ignore"):  # the callers report an overflow
        return values.astype(dtype, copy=False)


def db_to_power(S_db: npt.ArrayLike, *, ref: float = 1.0) -> _Floats:
    """Convert decibels to power, as ``librosa.db_to_power``: ``ref * 10 ** (S_db / 10)``.

    The inverse of :func:`fastmel.power_to_db` (up to its ``amin`` and
    ``top_db`` floors).

    Parameters
    ----------
    S_db : number or np.ndarray [shape=(...)]
        Finite values in dB.
    ref : finite number > 0
        The power that 0 dB stands for.

    Returns
    -------
    S : np.floating or np.ndarray [shape=(...)]
        float32 for float32 (and float16) input, else float64.  float32
        values are computed in float64 and rounded once (librosa computes in
        float32, within a few ulps of that).

    Raises
    ------
    ParameterError
        NaN or inf in ``S_db``, ``ref`` not a finite positive number
        (librosa multiplies by a negative ``ref``), or values whose power
        overflows (float32: above about 385 dB re ``ref``; librosa returns inf).
    TypeError
        Complex or non-numeric ``S_db`` (librosa computes a complex result).

    Examples
    --------
    >>> fastmel.db_to_power(np.array([-10.0, 0.0, 10.0]))
    array([ 0.1,  1. , 10. ])
    """
    ref = _checks.positive_number(ref, "ref")
    x, power = _power(S_db, ref)
    out = _rounded(power, x.dtype)
    top = float(np.finfo(x.dtype).max)
    _finite_result(out, x, "S_db",
                   f"S_db must be at most {10 * np.log10(top / ref):.6g} dB with ref={ref!r}")
    return _shaped_like(out, x)


def db_to_amplitude(S_db: npt.ArrayLike, *, ref: float = 1.0) -> _Floats:
    """Convert decibels to amplitude, as ``librosa.db_to_amplitude``:
    ``sqrt(db_to_power(S_db, ref=ref ** 2))``, i.e. ``ref * 10 ** (S_db / 20)``.

    The inverse of :func:`fastmel.amplitude_to_db` (up to its floors).

    Parameters
    ----------
    S_db : number or np.ndarray [shape=(...)]
        Finite values in dB.
    ref : finite number > 0
        The amplitude that 0 dB stands for; ``ref ** 2`` must be finite and
        nonzero in float64.

    Returns
    -------
    S : np.floating or np.ndarray [shape=(...)]
        float32 for float32 (and float16) input, else float64, computed as
        :func:`db_to_power` describes.

    Raises
    ------
    ParameterError
        As :func:`db_to_power`, for amplitudes beyond the output's range
        (float32: above about 770 dB re ``ref``) or powers beyond float64's
        (about 3083 dB), and for a ``ref`` whose square is 0 or inf.
    TypeError
        Complex or non-numeric ``S_db``.

    Examples
    --------
    >>> fastmel.db_to_amplitude(np.array([-20.0, 0.0, 20.0]))
    array([ 0.1,  1. , 10. ])
    """
    ref = _checks.positive_number(ref, "ref")
    if not 0.0 < ref * ref < np.inf:
        raise ParameterError(
            f"ref={ref!r} is out of range: its square (the power reference) must be finite "
            f"and > 0 in float64")
    x, power = _power(S_db, ref * ref)
    out = _rounded(np.sqrt(power), x.dtype)
    limit = min(10 * np.log10(float(np.finfo(np.float64).max) / (ref * ref)),
                20 * np.log10(float(np.finfo(x.dtype).max) / ref))
    _finite_result(out, x, "S_db", f"S_db must be at most {limit:.6g} dB with ref={ref!r}")
    return _shaped_like(out, x)


def _frames_to_samples(frames: npt.ArrayLike, hop_length: int, n_fft: int | None
                       ) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Checked ``frames`` and their first samples (int64), as :func:`frames_to_samples`."""
    hop_length = _checks.positive_int(hop_length, "hop_length")
    offset = _offset(n_fft)
    f = _indices(frames, "frames")
    if f.dtype == np.int64:
        top = max(abs(int(f.min())), abs(int(f.max()))) if f.size else 0
        if top * hop_length + offset >= 2 ** 63:
            raise ParameterError(
                f"frames has values up to {top} in magnitude; with hop_length={hop_length} "
                f"their sample indices are beyond the int64 range")
        return f, f * hop_length + offset
    with np.errstate(over="ignore"):  # reported by _to_int64
        samples = f * hop_length + offset
    return f, _to_int64(samples, f, "frames", "a sample index")


def frames_to_samples(frames: npt.ArrayLike, *, hop_length: int = 512,
                      n_fft: int | None = None) -> _Ints:
    """The first sample of each frame, as ``librosa.frames_to_samples``:
    ``frames * hop_length + n_fft // 2`` (``n_fft`` None: no offset).

    Parameters
    ----------
    frames : number or np.ndarray [shape=(...)]
        Frame indices (negative ones too, as in librosa).  Fractional
        indices are allowed: the result is truncated towards zero.
    hop_length : int > 0
        Samples between frames.
    n_fft : int > 0 or None
        With a window length, each frame's index is moved to its centre,
        ``n_fft // 2`` samples on (to undo ``center=False``'s offset).

    Returns
    -------
    samples : np.int64 or np.ndarray [shape=(...), dtype=int64]
        Computed exactly for integer input of any integer dtype (librosa
        computes in the input's dtype, which overflows small ones).

    Raises
    ------
    ParameterError
        NaN or inf (librosa returns arbitrary integers), results beyond
        int64, or ``hop_length``/``n_fft`` not positive ints (librosa takes
        fractional and negative ones).
    TypeError
        Complex, boolean or non-numeric ``frames``.

    Examples
    --------
    >>> fastmel.frames_to_samples(np.arange(3), hop_length=160)
    array([  0, 160, 320])
    """
    f, samples = _frames_to_samples(frames, hop_length, n_fft)
    return _shaped_like(samples, f)


def samples_to_frames(samples: npt.ArrayLike, *, hop_length: int = 512,
                      n_fft: int | None = None) -> _Ints:
    """The frame that each sample index falls in, as ``librosa.samples_to_frames``:
    ``floor((samples - n_fft // 2) / hop_length)`` (``n_fft`` None: no offset).

    Parameters
    ----------
    samples : number or np.ndarray [shape=(...)]
        Sample indices (negative and fractional ones too, as in librosa).
    hop_length : int > 0
    n_fft : int > 0 or None

    Returns
    -------
    frames : np.int64 or np.ndarray [shape=(...), dtype=int64]
        A scalar for a scalar, as in librosa 1.0 (0.11 returns a 0-d array).

    Raises
    ------
    ParameterError
        NaN or inf (librosa returns arbitrary integers), or
        ``hop_length``/``n_fft`` not positive ints.
    TypeError
        Complex, boolean or non-numeric ``samples``.

    Examples
    --------
    >>> fastmel.samples_to_frames([0, 511, 512, 1024])
    array([0, 0, 1, 2])
    """
    hop_length = _checks.positive_int(hop_length, "hop_length")
    offset = _offset(n_fft)
    s = _indices(samples, "samples")
    if s.dtype == np.int64:
        # Python ints where s - offset could leave int64 (s near its minimum).
        if s.size and int(s.min()) - offset < -2 ** 63:
            frames = np.array([(int(v) - offset) // hop_length for v in s.reshape(-1)],
                              dtype=np.int64).reshape(s.shape)
        else:
            frames = (s - offset) // hop_length
    else:
        frames = _to_int64(np.floor((s - offset) // hop_length), s, "samples", "a frame index")
    return _shaped_like(frames, s)


def frames_to_time(frames: npt.ArrayLike, *, sr: float = 22050, hop_length: int = 512,
                   n_fft: int | None = None) -> Union[np.float64, npt.NDArray[np.float64]]:
    """The time (seconds) of each frame, as ``librosa.frames_to_time``:
    ``frames_to_samples(frames, hop_length=hop_length, n_fft=n_fft) / sr``.

    Parameters
    ----------
    frames : number or np.ndarray [shape=(...)]
        Frame indices, as :func:`frames_to_samples` takes them.
    sr : finite number > 0
        Sampling rate.
    hop_length : int > 0
    n_fft : int > 0 or None
        With a window length, the time of each frame's centre.

    Returns
    -------
    times : np.float64 or np.ndarray [shape=(...), dtype=float64]

    Raises
    ------
    ParameterError
        As :func:`frames_to_samples`, and ``sr`` not a finite positive
        number (librosa returns inf for 0).
    TypeError
        Complex, boolean or non-numeric ``frames``.

    Examples
    --------
    >>> fastmel.frames_to_time([0, 1, 2], sr=16000, hop_length=160)
    array([0.  , 0.01, 0.02])
    """
    sr = _checks.positive_number(sr, "sr")
    f, samples = _frames_to_samples(frames, hop_length, n_fft)
    return _shaped_like(samples / sr, f)


def time_to_frames(times: npt.ArrayLike, *, sr: float = 22050, hop_length: int = 512,
                   n_fft: int | None = None) -> _Ints:
    """The frame that each time (seconds) falls in, as ``librosa.time_to_frames``:
    ``samples_to_frames(int(times * sr), ...)``, the sample index truncated
    towards zero first.

    Parameters
    ----------
    times : number or np.ndarray [shape=(...)]
        Finite times in seconds (negative ones too, as in librosa); float32
        times are multiplied by ``sr`` in float32, as librosa does.
    sr : finite number > 0
    hop_length : int > 0
    n_fft : int > 0 or None
        With a window length, the frame whose centre is at or before the time.

    Returns
    -------
    frames : np.int64 or np.ndarray [shape=(...), dtype=int64]
        A scalar for a scalar, as in librosa 1.0 (0.11 returns a 0-d array).

    Raises
    ------
    ParameterError
        NaN or inf (librosa returns arbitrary integers), times whose sample
        index is beyond int64, ``sr`` not a finite positive number, or
        ``hop_length``/``n_fft`` not positive ints.
    TypeError
        Complex, boolean or non-numeric ``times``.

    Examples
    --------
    >>> fastmel.time_to_frames([0.0, 0.5, 1.0], sr=16000, hop_length=160)
    array([  0,  50, 100])
    """
    sr = _checks.positive_number(sr, "sr")
    t = _values(times, "times")
    with np.errstate(over="ignore"):  # reported by _to_int64
        scaled = t * sr
    samples = _to_int64(scaled, t, "times", "a sample index")
    frames = samples_to_frames(samples, hop_length=hop_length, n_fft=n_fft)
    return _shaped_like(np.asarray(frames), t)


def times_like(X: int | npt.ArrayLike, *, sr: float = 22050, hop_length: int = 512,
               n_fft: int | None = None, axis: int = -1) -> npt.NDArray[np.float64]:
    """The time (seconds) of each frame of a feature matrix, as ``librosa.times_like``:
    ``frames_to_time(np.arange(n), ...)`` for ``n`` frames.

    Parameters
    ----------
    X : int >= 0 or np.ndarray [shape=(..., n, ...)]
        The number of frames, or an array whose ``axis`` counts them (a
        spectrogram, a feature matrix).
    sr : finite number > 0
    hop_length : int > 0
    n_fft : int > 0 or None
        With a window length, the times of the frames' centres.
    axis : int
        The frame axis of an array ``X`` (ignored for a count).

    Returns
    -------
    times : np.ndarray [shape=(n,), dtype=float64]

    Raises
    ------
    ParameterError
        A negative count (librosa returns an empty array), ``axis`` outside
        ``X``'s dimensions (a 0-d array has none), or the parameters
        :func:`frames_to_time` refuses.
    TypeError
        ``X`` neither an int nor an array-like (librosa also takes a float
        count, which fastmel refuses as a type error), or ``axis`` not an int.

    Examples
    --------
    >>> fastmel.times_like(np.zeros((80, 4)), sr=16000, hop_length=160)
    array([0.  , 0.01, 0.02, 0.03])
    >>> fastmel.times_like(3, sr=16000, hop_length=160, n_fft=400)
    array([0.0125, 0.0225, 0.0325])
    """
    if isinstance(X, numbers.Integral) and not isinstance(X, (bool, np.bool_)):
        n = int(X)
        if n < 0:
            raise ParameterError(f"X must be a number of frames >= 0 or an array, got {X!r}")
    elif isinstance(X, (bool, np.bool_, numbers.Number, str, bytes)) or X is None:
        raise TypeError(
            f"X must be a number of frames (an int) or an array of frames, got {X!r}")
    else:
        try:
            shape = np.shape(X)
        except ValueError as error:  # a ragged sequence
            raise TypeError(f"X must be an int or an array, got a ragged sequence: {error}")
        if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
            raise TypeError(f"axis must be an int, got {axis!r}")
        if not -len(shape) <= axis < len(shape):
            raise ParameterError(
                f"axis={axis} is out of range for X of shape {shape}; allowed: "
                f"{-len(shape)} <= axis < {len(shape)}")
        n = shape[axis]
    _checks.allocation(16 * n, f"the times of {n} frames")
    return frames_to_time(np.arange(n, dtype=np.int64), sr=sr, hop_length=hop_length,
                          n_fft=n_fft)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
