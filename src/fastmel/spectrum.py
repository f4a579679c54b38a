"""Short-time Fourier transform, its inverse, and decibel scaling."""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from fastmel import _checks
from fastmel._analysis import OUT_COMPLEX, Framing, analyze, check_workers
from fastmel._istft import synthesize
from fastmel._spectral import floor_below_max
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy.typing as npt

    from fastmel._istft import InverseKernel
    from fastmel.filters import WindowSpec

    _Real: TypeAlias = npt.NDArray[np.floating[Any]]
    _Complex: TypeAlias = npt.NDArray[np.complexfloating[Any, Any]]
    #: A dB reference: a number, or a function of the magnitudes (e.g. ``np.max``).
    RefSpec: TypeAlias = float | Callable[[_Real], Any]

__all__ = ["stft", "istft", "power_to_db", "amplitude_to_db"]


def stft(y: npt.ArrayLike, *, n_fft: int = 2048, hop_length: int | None = None,
         win_length: int | None = None, window: WindowSpec = "hann", center: bool = True,
         pad_mode: str = "constant", dtype: npt.DTypeLike | None = None,
         workers: int | None = None) -> _Complex:
    """Short-time Fourier transform, equal to ``librosa.stft``.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)], real floating point
        Audio; float32 runs the single-precision FFT, float64 the double one.
    n_fft : int, 0 < n_fft <= 2**24
        FFT size (frame length after zero padding the window).
    hop_length : int, 0 < hop_length <= 2**48, or None
        Samples between frames; ``win_length // 4`` when None.
    win_length : int, 0 < win_length <= n_fft, or None
        Window length (``n_fft`` when None); shorter windows are centred in the frame.
    window : str, tuple, number, callable or np.ndarray [shape=(win_length,)]
        See :func:`fastmel.filters.get_window`.
    center : bool
        Pad ``n_fft // 2`` samples on both sides so frame t is centred at ``t * hop_length``.
    pad_mode : {"constant", "edge", "reflect", "symmetric", "linear_ramp"}
        How to pad when ``center`` is True.
    dtype : np.dtype or None
        Complex output type; complex64 for float32 input, complex128 for float64, when None.
    workers : int or None
        fastmel's extension (librosa has no such parameter): threads for this
        call, as ``scipy.fft``'s ``workers`` (None or 1 one, -1
        ``os.cpu_count()``); the output has the same bits for every count.

    Returns
    -------
    D : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames), dtype=complex]
        An output larger than this machine's memory is refused (ParameterError)
        before it is allocated.

    Raises
    ------
    ParameterError
        Bad parameters, non-finite samples, samples so large that the spectrum
        could overflow (float32: beyond about ``3.4e38 / (16 * sum(|window|))``),
        or ``center=False`` with fewer than ``n_fft`` samples.
        A ``dtype`` narrower than the computation that the spectrum overflows.
    TypeError
        Integer, boolean or complex audio; a ``dtype`` that is not complex.

    Examples
    --------
    >>> y = np.zeros(16000, dtype=np.float32)
    >>> fastmel.stft(y, n_fft=512, hop_length=160).shape
    (257, 101)
    """
    y = _checks.real_float(y, "y")
    out_type = _output_type(dtype, "c", "stft")
    workers = check_workers(workers)
    framing = Framing.make(n_fft, hop_length, win_length, window, center, pad_mode)
    kernel = framing.kernel(y.dtype, OUT_COMPLEX)
    # an OUT_COMPLEX kernel's frames are complex
    D = cast("_Complex", analyze(kernel, framing, _checks.bounded_float(y, kernel.max_amplitude),
                                 workers))
    if out_type is None or out_type == D.dtype:
        return D
    narrower = out_type.itemsize < D.dtype.itemsize
    with np.errstate(over="ignore"):  # reported below, with the fix
        D = D.astype(out_type)
    if narrower and not _checks.all_finite(D.view(D.real.dtype)):
        raise ParameterError(
            f"the spectrum overflows dtype={out_type}: its values exceed "
            f"{np.finfo(out_type).max:.3g}; use dtype=None or a wider complex type")
    return D


def _output_type(dtype: npt.DTypeLike | None, kind: str, func: str) -> np.dtype[Any] | None:
    """``dtype`` (``func``'s output type) checked: None, or of numpy kind ``kind``
    ("c": complex, for stft; "f": real floating, for istft)."""
    if dtype is None:
        return None
    wanted = ("complex (np.complex64 or np.complex128)" if kind == "c"
              else "a real floating type (np.float32 or np.float64)")
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype={dtype!r} is not a numpy dtype; {func}'s output type must be "
                        f"{wanted} or None") from None
    if dt.kind != kind:
        what = "complex" if kind == "c" else "a real floating type"
        raise TypeError(f"dtype={dtype!r} is not {what}; {func}'s output type must be "
                        f"{wanted} or None")
    return dt


def istft(stft_matrix: npt.ArrayLike, *, hop_length: int | None = None,
          win_length: int | None = None, n_fft: int | None = None, window: WindowSpec = "hann",
          center: bool = True, dtype: npt.DTypeLike | None = None, length: int | None = None,
          out: _Real | None = None) -> _Real:
    """Inverse short-time Fourier transform, equal to ``librosa.istft``.

    Each frame is transformed back (``n_fft`` points; the imaginary parts of
    the DC and Nyquist bins are ignored), windowed and overlap-added; every
    sample is then divided by the sum of the squared windows that cover it,
    where that sum exceeds the smallest normal number of the precision (else
    left as is), and with ``center`` the ``n_fft // 2`` samples of padding are
    trimmed from both ends.  The result has ``n_fft + hop_length * (n_frames
    - 1)`` samples, less ``2 * (n_fft // 2)`` with ``center``, unless
    ``length`` is given: then, as in librosa, only the left padding is
    trimmed, and the samples that follow (up to the last frame's end, zeros
    beyond) are cut or zero-padded to ``length`` (so ``istft(stft(y),
    length=len(y))`` gives back every sample of ``y``).

    Parameters
    ----------
    stft_matrix : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames)], complex
        complex64 runs the single-precision FFT, complex128 the double one;
        other complex types are converted.
    hop_length : int, 0 < hop_length <= 2**48, or None
        ``win_length // 4`` when None.
    win_length : int, 0 < win_length <= n_fft, or None
        ``n_fft`` when None.
    n_fft : int, 0 < n_fft <= 2**24, or None
        ``2 * (n_bins - 1)`` when None; an odd ``n_fft`` must be given.  The
        bins must be ``1 + n_fft // 2`` (librosa would silently crop or pad them).
    window : str, tuple, callable or np.ndarray [shape=(win_length,)]
        See :func:`fastmel.filters.get_window`.
    center : bool
        The frames are centred (``stft(..., center=True)``): trim the padding.
    dtype : real floating dtype or None
        Output type; float32 for complex64 input, float64 for complex128, when None.
    length : int > 0 or None
        Exactly ``length`` samples (see above; frames beyond them are not
        computed).  librosa takes 0 as None; fastmel refuses it.
    out : np.ndarray [shape=(..., n)] or None
        A real floating array of the output's shape to write into (and return).

    Returns
    -------
    y : np.ndarray [shape=(..., n)]
        Without frames (``n_frames == 0``) and without ``length``, an empty
        signal (librosa raises numpy's error for negative dimensions).

    Raises
    ------
    ParameterError
        Bad parameters, bins that do not match ``n_fft``, non-finite values or
        values so large that the synthesis could overflow (complex64: real or
        imaginary parts beyond about ``3.4e38 * w_min / (6 * sqrt(n_fft /
        hop_length))``, ``w_min`` the window's smallest non-zero magnitude; the
        error gives the bound),
        an ``out`` of another shape, a ``dtype`` other than ``out``'s, or an
        output that overflows a narrower ``dtype``.
    TypeError
        Real (or integer, boolean) input; a ``dtype`` or ``out`` that is not a
        real floating type.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> D = fastmel.stft(y, n_fft=512, hop_length=128)
    >>> fastmel.istft(D, hop_length=128, length=len(y)).shape
    (16000,)
    """
    S = spectrogram(stft_matrix)
    if n_fft is None:
        n_fft = 2 * (S.shape[-2] - 1)
        if n_fft < 1:
            raise ParameterError(
                f"stft_matrix has {S.shape[-2]} frequency bins, so n_fft defaults to "
                f"2 * ({S.shape[-2]} - 1) = {n_fft}; pass n_fft (1 for a single bin)")
    framing = Framing.make(n_fft, hop_length, win_length, window, center, "constant")
    kernel = inverse_kernel(framing, np.float64 if S.dtype == np.complex128 else np.float32)
    return synthesize_signal(kernel, S, length, dtype, out)


def spectrogram(stft_matrix: npt.ArrayLike) -> _Complex:
    """``stft_matrix`` as a complex array of at least two dimensions (bins, frames)."""
    S = _checks.complex_float(stft_matrix, "stft_matrix")
    if S.ndim < 2:
        raise ParameterError(f"stft_matrix must have shape (..., 1 + n_fft // 2, n_frames), "
                             f"got shape {S.shape}")
    return S


def _inverse_kernel(framing: Framing, dtype: npt.DTypeLike) -> InverseKernel:
    return framing.inverse_kernel(dtype)


_cached_inverse_kernel = functools.lru_cache(maxsize=32)(_inverse_kernel)


def inverse_kernel(framing: Framing, dtype: npt.DTypeLike) -> InverseKernel:
    """The inverse STFT kernel for a framing and precision, shared between equal ones."""
    try:
        return _cached_inverse_kernel(framing, np.dtype(dtype))
    except TypeError:  # an unhashable window (array or function): build it for this caller
        return _inverse_kernel(framing, dtype)


def synthesize_signal(kernel: InverseKernel, S: _Complex, length: int | None,
                      dtype: npt.DTypeLike | None, out: _Real | None) -> _Real:
    """:func:`istft` of ``S`` (as :func:`spectrogram` returned it) by ``kernel``;
    its input converted to the kernel's precision."""
    work: np.dtype[np.floating[Any]] = np.dtype(np.float64 if kernel.is_double else np.float32)
    if S.shape[-2] != kernel.n_bins:
        raise ParameterError(
            f"stft_matrix has {S.shape[-2]} frequency bins (shape {S.shape}), but n_fft="
            f"{kernel.n_fft} has {kernel.n_bins} (1 + n_fft // 2); pass the n_fft of the STFT")
    out_type = _output_type(dtype, "f", "istft")
    if length is not None:
        length = _checks.positive_int(length, "length")
    # the kernel checks the values as it reads them (finite, within its bound)
    S = _checks.spectrum(S, "stft_matrix", np.result_type(work, np.complex64), scan=False)
    lead, n_frames = S.shape[:-2], S.shape[-1]
    if length is None:
        n = kernel.total(n_frames)
    else:
        # frames starting at or after the last kept sample do not reach it
        n, n_frames = length, min(n_frames, -(-(length + 2 * kernel.pad) // kernel.hop))
    if out is not None:
        out = _check_out(out, lead + (n,), out_type)
        out_type = out.dtype
    n_ch = int(np.prod(lead, dtype=np.int64))
    _checks.allocation(n_ch * n * work.itemsize, f"an inverse STFT of {n} samples per channel")
    direct = out is not None and out.dtype == work and out.flags.c_contiguous
    y = out if direct and out is not None else np.empty(lead + (n,), dtype=work)
    rows = y.reshape(n_ch, n)
    done = min(n, kernel.total(n_frames, length is None))
    if not synthesize(kernel, S.reshape(n_ch, kernel.n_bins, S.shape[-1]), n_frames,
                      rows[:, :done], length is None):
        _checks.spectrum(S[..., :n_frames], "stft_matrix", bound=kernel.max_value)  # raises
        raise ParameterError("stft_matrix has values the synthesis cannot take")
    if done < n:
        rows[:, done:] = 0
    if direct or (out is None and (out_type is None or out_type == work)):
        return y
    return _narrowed(y, out_type, out)


def _check_out(out: object, shape: tuple[int, ...], dtype: np.dtype[Any] | None) -> _Real:
    """``out`` checked: a writeable real floating ndarray of ``shape`` (and of
    ``dtype``, when one is asked for)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.dtype.kind != "f":
        raise TypeError(f"out must be a real floating array, got dtype {out.dtype}")
    if out.shape != shape:
        raise ParameterError(f"out has shape {out.shape}, but the output has shape {shape}")
    if dtype is not None and dtype != out.dtype:
        raise ParameterError(f"dtype={dtype} differs from out's dtype {out.dtype}; give one "
                             f"of them")
    if not out.flags.writeable:
        raise ParameterError("out is read-only")
    return out


def _narrowed(y: _Real, dtype: np.dtype[Any] | None, out: _Real | None) -> _Real:
    """``y`` converted to ``dtype`` (into ``out`` when given); an overflow raises."""
    with np.errstate(over="ignore"):  # reported below, with the fix
        if out is None:
            out = y.astype(dtype)
        else:
            np.copyto(out, y, casting="unsafe")
    if out.dtype.itemsize < y.dtype.itemsize and not np.all(np.isfinite(out)):
        raise ParameterError(
            f"the signal overflows dtype={out.dtype}: its values exceed "
            f"{np.finfo(out.dtype).max:.3g}; use dtype=None or a wider type")
    return out


def _ref_value(ref: RefSpec, magnitude: _Real) -> Any:
    """The dB reference, finite; a callable one is evaluated per channel for ndim > 2."""
    if not callable(ref):
        value = np.abs(ref)
    elif magnitude.size == 0:
        raise ParameterError(
            f"S is empty (shape {magnitude.shape}), so the callable ref={ref!r} has no "
            f"values to evaluate; pass a number as ref")
    elif magnitude.ndim <= 2:
        value = ref(magnitude)
    else:
        channels = magnitude.reshape((-1,) + magnitude.shape[-2:])
        value = np.array([ref(channel) for channel in channels])
        value = value.reshape(magnitude.shape[:-2] + (1, 1))
    if not np.all(np.isfinite(value)):
        raise ParameterError(
            f"ref={ref!r} gives the reference {value!r}, which is not finite; "
            f"a reference must be finite (a callable ref such as np.max is NaN or inf "
            f"when S has NaN or inf values)")
    return value


def _float_type(dtype: npt.DTypeLike) -> np.dtype[Any]:
    """The precision numpy's dB arithmetic runs in for values of ``dtype``."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def _check_db_params(amin: float, top_db: float | None,
                     dtype: npt.DTypeLike = np.float64) -> tuple[float, float | None]:
    """``amin`` (finite, > 0, and not 0 in ``dtype``) and ``top_db`` (None or finite >= 0)."""
    amin = _checks.finite_number(amin, "amin")
    if amin <= 0:
        raise ParameterError(f"amin must be strictly positive, got {amin!r}")
    dtype = _float_type(dtype)
    if dtype.type(amin) == 0:
        raise ParameterError(
            f"amin={amin!r} rounds to 0 in {dtype}; it must be at least "
            f"{np.finfo(dtype).smallest_subnormal!r} (the smallest positive {dtype})")
    if top_db is not None:
        top_db = _checks.finite_number(top_db, "top_db")
        if top_db < 0:
            raise ParameterError(f"top_db must be non-negative, got {top_db!r}")
    return amin, top_db


def floor_top_db(log_spec: _Real, top_db: float | None) -> _Real:
    """Clip to ``max - top_db``, per channel (last two axes) for ndim > 2, as librosa 1.0.

    Only for the C-contiguous float arrays fastmel's kernel writes (finite by
    construction): a compiled pass clips them with one max and one clip per channel.
    """
    if top_db is None or log_spec.size == 0:
        return log_spec
    group = log_spec.size if log_spec.ndim <= 2 else log_spec.shape[-2] * log_spec.shape[-1]
    floor_below_max(log_spec, float(top_db), group)
    return log_spec


def _log_power(power: _Real, ref_value: npt.ArrayLike, amin: float, top_db: float | None,
               what: str) -> _Real:
    """``10 * log10(max(amin, power) / max(amin, ref_value))``, floored at ``top_db``
    below the (per channel) maximum.  A non-finite result (NaN or inf in
    ``power``, or an overflow that made one) raises instead of being returned."""
    # NaN and +inf survive the amin clamp and are caught below; -inf would not.
    if power.size and power.min() == -np.inf:
        raise ParameterError(f"S has non-finite values{what}; dB scaling needs finite input")
    log_spec: _Real = 10.0 * np.log10(np.maximum(amin, power))
    log_spec -= 10.0 * np.log10(np.maximum(amin, ref_value))
    if log_spec.size == 0:
        return log_spec
    # One reduction gives both the floor's reference and the check: the
    # maximum is NaN or inf exactly when some value is (-inf cannot occur, amin > 0).
    peak: _Real | np.floating[Any]
    if log_spec.ndim > 2:
        peak = log_spec.max(axis=(-2, -1), keepdims=True)
    else:
        peak = log_spec.max()
    if not np.all(np.isfinite(peak)):
        raise ParameterError(
            f"S has non-finite values{what}; dB scaling needs finite input")
    if top_db is None or log_spec.ndim == 0:
        return log_spec
    # The floor in float64, held inside the output's range (a huge top_db
    # would overflow float32 to -inf).
    floor = np.maximum(np.asarray(peak, np.float64) - top_db, np.finfo(log_spec.dtype).min)
    floored: _Real = np.maximum(log_spec, floor.astype(log_spec.dtype), out=log_spec)
    return floored


def _magnitude(S: npt.NDArray[Any]) -> _Real:
    """S as non-complex values in at least single precision (numpy would floor
    a float16 array at an amin that rounds to zero in float16)."""
    magnitude = np.abs(S) if np.iscomplexobj(S) else S
    if magnitude.dtype == np.float16:
        magnitude = magnitude.astype(np.float32)
    elif magnitude.dtype.kind == "f" and magnitude.dtype.itemsize > 8:
        # fastmel computes in float32 or float64 (long double is converted,
        # like any other float type)
        magnitude = magnitude.astype(np.float64)
    return magnitude


def power_to_db(S: npt.ArrayLike, *, ref: RefSpec = 1.0, amin: float = 1e-10,
                top_db: float | None = 80.0) -> _Real:
    """Convert a power spectrogram to decibels: ``10 * log10(S / ref)``, floored.

    Equal to ``librosa.power_to_db``; for input with more than two dimensions
    each channel ``S[..., :, :]`` is scaled on its own (a callable ``ref`` and
    the ``top_db`` floor are evaluated per channel), as in librosa 1.0.

    Parameters
    ----------
    S : np.ndarray [shape=(..., d, t)]
        Finite power values (complex input is reduced to its magnitude, with a
        warning; float16 is computed in float32).
    ref : number or callable
        Reference power, finite; a callable gets the magnitudes and returns it
        (e.g. ``np.max``).
    amin : float > 0
        Floor on ``S`` and ``ref`` before the logarithm; it must not round to
        zero in ``S``'s precision (float32: at least about 1.4e-45).
    top_db : float >= 0 or None
        Floor the result at ``max - top_db``.

    Returns
    -------
    S_db : np.ndarray [shape=(..., d, t)]

    Raises
    ------
    ParameterError
        ``amin <= 0`` (or zero in ``S``'s precision), ``top_db < 0``, a
        non-finite ``ref``, or ``S`` with NaN or inf values.
    """
    S = np.asarray(S)
    if np.iscomplexobj(S):
        warnings.warn(
            "power_to_db was called on complex input so phase information will be discarded. "
            "To suppress this warning, call power_to_db(np.abs(D)**2) instead.", stacklevel=2)
    magnitude = _magnitude(S)
    amin, top_db = _check_db_params(amin, top_db, magnitude.dtype)
    return _log_power(magnitude, _ref_value(ref, magnitude), amin, top_db, "")


def amplitude_to_db(S: npt.ArrayLike, *, ref: RefSpec = 1.0, amin: float = 1e-5,
                    top_db: float | None = 80.0) -> _Real:
    """Convert an amplitude spectrogram to decibels: ``20 * log10(S / ref)``, floored.

    Equal to ``librosa.amplitude_to_db`` (``top_db`` per channel for ndim > 2,
    as in librosa 1.0), which squares the amplitudes and calls ``power_to_db``.

    Parameters
    ----------
    S : np.ndarray [shape=(..., d, t)]
        Finite amplitudes (complex input is reduced to its magnitude); their
        squares must be finite in ``S``'s precision (float32: below about 1.8e19).
    ref : number or callable
    amin : float > 0
        ``amin ** 2`` must not round to zero in ``S``'s precision.
    top_db : float >= 0 or None

    Returns
    -------
    S_db : np.ndarray [shape=(..., d, t)]

    Raises
    ------
    ParameterError
        As :func:`power_to_db`, for ``amin ** 2``, ``ref ** 2`` and ``S ** 2``.
    """
    magnitude = _magnitude(np.abs(np.asarray(S)))
    amin, top_db = _check_db_params(amin, top_db)
    dtype = _float_type(magnitude.dtype)
    if dtype.type(amin ** 2) == 0:
        raise ParameterError(
            f"amin={amin!r} is too small for {dtype}: amin**2 (the power floor) rounds to 0; "
            f"use amin >= {float(np.sqrt(np.finfo(dtype).smallest_subnormal)):.3g}")
    ref_value = _ref_value(ref, magnitude)
    with np.errstate(over="ignore"):  # reported just below
        ref_power = ref_value ** 2
    if not np.all(np.isfinite(ref_power)):
        raise ParameterError(f"ref={ref!r} is too large: its square is not finite")
    with np.errstate(over="ignore"):  # an overflow is reported by _log_power
        power = np.square(magnitude)
    return _log_power(power, ref_power, amin ** 2, top_db,
                      " (or values whose squares overflow: float32 amplitudes must stay "
                      "below about 1.8e19)")


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
