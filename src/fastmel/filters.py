"""librosa's filters: analysis windows and the mel filter bank.

The band-pass designs (scipy's conventions) live in fastmel.design; their
public names are here too.
"""
from __future__ import annotations

import difflib
import numbers
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from fastmel import _checks, _windows
from fastmel._spectral import pack_mel_rows
from fastmel.convert import fft_frequencies, mel_frequencies
from fastmel.design import bandpass_fir, butter_bandpass
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    from typing import TypeAlias

    import numpy.typing as npt

    from fastmel._windows import Shape

    #: What :func:`get_window` takes: a name, a (name, parameters...) tuple, a
    #: Kaiser beta, a function of the length, or the values themselves.
    WindowSpec: TypeAlias = (str | tuple[Any, ...] | float | Callable[[int], npt.ArrayLike]
                             | npt.ArrayLike)
    _F64: TypeAlias = npt.NDArray[np.float64]
    #: A filter bank packed for the spectral kernel (:func:`mel_rows`).
    MelRows: TypeAlias = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp],
                               npt.NDArray[np.floating[Any]]]

__all__ = ["mel", "get_window", "WINDOWS", "MAX_N_FFT", "MAX_N_MELS", "butter_bandpass",
           "bandpass_fir"]

#: Window names accepted by :func:`get_window`: scipy.signal.get_window's names
#: and aliases (in any case, and ending in ``"_symmetric"`` or ``"_periodic"``
#: to choose the shape whatever ``fftbins`` says).
WINDOWS: tuple[str, ...] = tuple(sorted(_windows.BY_NAME))


def get_window(window: WindowSpec, Nx: int, *, fftbins: bool = True) -> _F64:
    """A window of ``Nx`` samples, as ``librosa.filters.get_window`` makes it.

    Names and parameters are those of ``scipy.signal.get_window`` (which
    librosa calls), computed by fastmel with numpy: scipy is not needed.

    Parameters
    ----------
    window : str, tuple, number, callable or np.ndarray [shape=(Nx,)]
        - a name from :data:`WINDOWS`: ``"hann"``, ``"hamming"``,
          ``"blackman"``, ``"blackmanharris"``, ``"nuttall"``, ``"flattop"``,
          ``"boxcar"`` (``"ones"``), ``"triang"``, ``"bartlett"``,
          ``"barthann"``, ``"bohman"``, ``"parzen"``, ``"cosine"``,
          ``"lanczos"``, and, with their default parameters, ``"tukey"``,
          ``"exponential"``, ``"taylor"`` (in any case: scipy wants lower
          case);
        - a tuple of a name and its parameters (scipy's order and meaning):
          ``("kaiser", beta)`` and ``("kaiser_bessel_derived", beta)``,
          ``0 <= beta <= 709.78``; ``("gaussian", std)``, ``std > 0``;
          ``("general_gaussian", p, sig)``, both ``> 0``;
          ``("general_cosine", a)``, a sequence of coefficients;
          ``("general_hamming", alpha)``; ``("tukey", alpha)`` (default
          0.5; ``<= 0`` is a boxcar, ``>= 1`` a Hann window);
          ``("exponential", center, tau)`` (defaults None and 1; ``tau > 0``,
          ``center`` only for periodic windows); ``("taylor", nbar, sll,
          norm)`` (defaults 4, 30 and True; ``1 <= nbar <= 400``,
          ``0 <= sll <= 6165``); ``("dpss", NW)``, ``0 < NW < Nx / 2``;
          ``("chebwin", at)``, the attenuation in dB, ``|at| <= 6165``
          (below 45 dB it warns, as scipy does);
        - a number: a Kaiser window of that beta;
        - a function of the length, called as ``window(Nx)``;
        - the window values themselves (real numbers).

        Numeric parameters are finite real numbers (not bools).
    Nx : int, 0 < Nx <= 2**24
        Window length.
    fftbins : bool
        True for a periodic window (the one for spectral analysis, librosa's
        default): the symmetric window of ``Nx + 1`` samples without its last.
        False for a symmetric one (filter design).  A name ending in
        ``"_symmetric"`` or ``"_periodic"`` overrides it, as in scipy.

    Returns
    -------
    np.ndarray [shape=(Nx,), dtype=float64]
        Finite values, not all zero.  Names and tuples give scipy's window
        within rounding (1e-12 absolute, and for ``"dpss"``, whose
        tridiagonal eigenproblem scipy solves to about 1e-16 * Nx**2,
        within that).  Length 1 gives ``[1.0]``.

    Raises
    ------
    ParameterError
        An unknown name, a tuple with parameters the window does not take
        or outside the ranges above, a symmetric ``exponential`` with a
        ``center``, a ``kaiser_bessel_derived`` window that is periodic or of
        odd length (scipy defines it only symmetric and even), an array (or a
        function's result) of the wrong shape, or a window with non-finite
        values or only zeros (e.g. a symmetric Hann window of 2 samples).
    TypeError
        ``fftbins`` not a bool, or window values that are complex or not numbers.

    Examples
    --------
    >>> fastmel.filters.get_window("hann", 4)
    array([0. , 0.5, 1. , 0.5])
    >>> fastmel.filters.get_window(("tukey", 0.5), 5, fftbins=False)
    array([0., 1., 1., 1., 0.])
    >>> fastmel.filters.get_window(4.0, 3).round(4)  # a Kaiser window, beta 4
    array([0.0885, 0.8216, 0.8216])
    """
    Nx = _checks.positive_int(Nx, "Nx", maximum=MAX_N_FFT)
    # The window and the temporaries of the largest computations (dpss, chebwin).
    _checks.allocation(16 * 8 * Nx, f"a window of Nx={Nx} samples")
    if not isinstance(fftbins, (bool, np.bool_)):
        raise TypeError(f"fftbins must be True or False, got {fftbins!r}")
    if callable(window):
        values = _window_values(window(Nx), f"window function {window!r}")
        if values.shape != (Nx,):
            raise ParameterError(
                f"window function {window!r} returned shape {values.shape}, expected ({Nx},)")
        return _usable_window(values, f"window function {window!r}")
    if isinstance(window, (np.ndarray, list)):
        values = _window_values(window, "window array")
        if values.shape != (Nx,):
            raise ParameterError(
                f"window has length {values.shape[-1] if values.ndim else 0}, "
                f"expected win_length={Nx}")
        return _usable_window(values, "window array")
    what = describe_window(window)
    args: tuple[object, ...]
    if isinstance(window, str):
        name, args = window, ()
    elif isinstance(window, tuple) and window and isinstance(window[0], str):
        name, args = window[0], window[1:]
    elif isinstance(window, numbers.Real) and not isinstance(window, (bool, np.bool_)):
        name, args = "kaiser", (window,)
    else:
        raise ParameterError(
            f"{what} is not a window: use a name, a tuple (name, parameters...), a number "
            f"(a Kaiser beta), a callable or an array")
    shape, symmetric = _window_shape(name, not fftbins, what)
    params = _windows.parse(shape, args, Nx, symmetric, what)
    if Nx == 1:
        return np.ones(1)
    # Extreme parameters may still overflow; the values are checked below.
    with np.errstate(all="ignore"):
        if symmetric:
            values = shape.symmetric(Nx, *params)
        else:
            values = shape.symmetric(Nx + 1, *params)[:-1]
    return _usable_window(values, what)


def _window_shape(name: str, symmetric: bool, what: str) -> tuple[Shape, bool]:
    """The window family named ``name`` and whether it is symmetric (a name's
    suffix decides over ``symmetric``)."""
    key = name.lower()
    for suffix, forced in (("_symmetric", True), ("_periodic", False)):
        if key.endswith(suffix):
            key, symmetric = key[:-len(suffix)], forced
    shape = _windows.BY_NAME.get(key)
    if shape is None:
        close = difflib.get_close_matches(key, WINDOWS, n=3)
        raise ParameterError(
            f"{what} is not a known window"
            + (f" (did you mean {' or '.join(map(repr, close))}?)" if close else "")
            + f"; the names are scipy's: {', '.join(s.name for s in _windows.SHAPES)} and "
              f"their aliases (fastmel.filters.WINDOWS)")
    return shape, symmetric


def describe_window(window: object) -> str:
    """A short name of ``window`` for messages and reprs (arrays are not printed)."""
    if isinstance(window, (np.ndarray, list)):
        return f"window array of shape {np.shape(window)}"
    if callable(window):
        return f"window function {window!r}"
    if isinstance(window, tuple):
        shown = [f"<array of shape {v.shape}>" if isinstance(v, np.ndarray) else repr(v)
                 for v in window]
        return f"window=({', '.join(shown)}{',' if len(window) == 1 else ''})"
    return f"window={window!r}"


def _window_values(values: npt.ArrayLike, what: str) -> _F64:
    values = np.asarray(values)
    if values.dtype.kind == "c":
        raise TypeError(f"{what} has complex values ({values.dtype}); a window must be real")
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} has values of dtype {values.dtype}; a window must be real numbers") \
            from None


def _usable_window(values: _F64, what: str) -> _F64:
    """``values`` when every one is finite and not all are zero (an all-zero window
    turns every frame into silence)."""
    if not np.all(np.isfinite(values)):
        raise ParameterError(f"{what} has non-finite values (NaN or inf); a window must be finite")
    if not np.any(values):
        raise ParameterError(f"{what} is all zeros, which would make every frame silent")
    return values


def _normalize_rows(weights: npt.NDArray[np.floating[Any]],
                    norm: float) -> npt.NDArray[np.floating[Any]]:
    """Scale each row of ``weights`` to unit ``norm`` (a positive number or inf)."""
    if weights.shape[-1] == 0:
        return weights
    mag = np.abs(weights).astype(np.float64)
    if norm == np.inf:
        length = mag.max(axis=-1, keepdims=True)
    else:
        length = np.sum(mag ** norm, axis=-1, keepdims=True) ** (1.0 / norm)
    length[length < np.finfo(np.float64).tiny] = 1.0
    scaled: npt.NDArray[np.floating[Any]] = weights / length
    return scaled


#: Largest ``n_mels`` accepted (far beyond any useful mel resolution).
MAX_N_MELS: int = 2 ** 16

#: Largest ``n_fft`` accepted by the filter banks and the analysis (2**24
#: samples: 5.8 minutes at 48 kHz in one frame).
MAX_N_FFT: int = 2 ** 24

# Filter rows are built this many values at a time, so the float64 temporaries
# stay small whatever n_mels * n_fft is.
_BLOCK_VALUES = 2 ** 20


def mel(*, sr: float, n_fft: int, n_mels: int = 128, fmin: float = 0.0,
        fmax: float | None = None, htk: bool = False, norm: str | float | None = "slaney",
        dtype: npt.DTypeLike = np.float32) -> npt.NDArray[np.floating[Any]]:
    """A mel filter bank: triangular filters over the real-FFT bins.

    Equal to ``librosa.filters.mel`` with the same arguments.

    Parameters
    ----------
    sr : finite number > 0
        Sampling rate.
    n_fft : int, 0 < n_fft <= 2**24
        FFT size.
    n_mels : int, 0 < n_mels <= 2**16
        Number of mel bands (more bands than FFT bins leaves some empty, with
        a warning, as in librosa).
    fmin : float >= 0
        Lowest frequency (Hz).
    fmax : finite float > fmin or None
        Highest frequency (Hz); ``sr / 2`` when None.
    htk : bool
        HTK's mel formula instead of Slaney's.
    norm : {"slaney", None} or number > 0
        ``"slaney"`` divides each triangle by its width in Hz (constant energy
        per band); a number p scales each filter to unit p-norm; None leaves
        the peaks at 1.
    dtype : np.dtype
        Output type.

    Returns
    -------
    M : np.ndarray [shape=(n_mels, 1 + n_fft // 2)]

    Raises
    ------
    ParameterError
        Any parameter outside the ranges above, parameters so extreme that
        the weights are not finite in ``dtype``, or a matrix larger than this
        machine's memory (refused before it is allocated).

    Examples
    --------
    >>> fastmel.filters.mel(sr=16000, n_fft=512, n_mels=80).shape
    (80, 257)
    """
    params = mel_params(sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)
    bank = _MelBank(_checks.positive_int(n_fft, "n_fft", maximum=MAX_N_FFT), **params)
    dtype = np.dtype(dtype)
    _checks.allocation(
        bank.n_mels * bank.n_bins * dtype.itemsize, f"a ({bank.n_mels}, {bank.n_bins}) mel matrix",
        "use fewer mels or a smaller n_fft")
    weights = np.zeros((bank.n_mels, bank.n_bins), dtype=dtype)
    for m0, c0, block in bank.blocks(dtype):
        weights[m0:m0 + block.shape[0], c0:c0 + block.shape[1]] = block
    bank.warn_if_empty(stacklevel=2)
    return weights


def mel_params(*, sr: float, n_mels: int = 128, fmin: float = 0.0, fmax: float | None = None,
               htk: bool = False, norm: str | float | None = "slaney") -> dict[str, Any]:
    """The parameters of :func:`mel` but ``n_fft``, checked, as a dict: numbers
    as Python ints and floats, ``fmax`` resolved (``sr / 2`` for None).

    Raises
    ------
    ParameterError
        A parameter outside the ranges :func:`mel` allows.
    """
    sr = _checks.positive_number(sr, "sr")
    n_mels = _checks.positive_int(n_mels, "n_mels", maximum=MAX_N_MELS)
    fmin = _checks.finite_number(fmin, "fmin")
    if fmin < 0:
        raise ParameterError(f"fmin must be >= 0, got {fmin!r}")
    fmax = sr / 2.0 if fmax is None else _checks.finite_number(fmax, "fmax")
    if fmax <= fmin:
        raise ParameterError(f"fmax must be greater than fmin={fmin!r}, got {fmax!r}")
    if not (norm is None or _is_slaney(norm) or (isinstance(norm, numbers.Real)
                                                 and not isinstance(norm, bool) and norm > 0)):
        raise ParameterError(f"norm must be 'slaney', None or a positive number, got {norm!r}")
    return dict(sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=bool(htk), norm=norm)


def _is_slaney(norm: object) -> bool:
    return isinstance(norm, str) and norm == "slaney"


def mel_rows(n_fft: int, params: dict[str, Any],
             dtype: npt.DTypeLike = np.float32) -> MelRows:
    """The filter bank of :func:`mel` (same values), packed for the spectral
    kernel without building the dense matrix: memory O(n_fft + n_mels).
    ``n_fft`` and ``params`` come checked (``params`` as :func:`mel_params`
    returns them)."""
    bank = _MelBank(n_fft, **params)
    packed = pack_mel_rows(bank.blocks(np.dtype(dtype)))
    bank.warn_if_empty(stacklevel=2)
    return packed


class _MelBank:
    """The filters of checked mel parameters (an ``n_fft`` checked, and
    :func:`mel_params`), built a block of rows at a time."""

    def __init__(self, n_fft: int, sr: float, n_mels: int, fmin: float, fmax: float,
                 htk: bool, norm: str | float | None) -> None:
        self.slaney = _is_slaney(norm)
        self.params = f"sr={sr!r}, n_fft={n_fft}, n_mels={n_mels}, fmin={fmin!r}, fmax={fmax!r}"
        self.norm = norm
        self.n_mels = n_mels
        self.n_bins = n_fft // 2 + 1
        with np.errstate(all="ignore"):  # checked just below
            self.fftfreqs = fft_frequencies(sr=sr, n_fft=n_fft)
            self.mel_f = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)
            self.fdiff = np.diff(self.mel_f)
        if not (np.all(np.isfinite(self.fftfreqs)) and np.all(np.isfinite(self.mel_f))
                and np.all(self.fdiff > 0)):
            raise ParameterError(
                f"the mel band edges for {self.params} are not finite and strictly "
                f"increasing; use a sample rate and frequency range of ordinary magnitude")
        self.empty = False

    def blocks(self, dtype: np.dtype[Any]
               ) -> Iterator[tuple[int, int, npt.NDArray[np.floating[Any]]]]:
        """``(first row, first column, weights [shape=(rows, columns)])`` in row
        order, as :func:`mel` computes them (every operation is per element or
        per row); the weights outside each block's columns are zero.

        Filter m is positive exactly on the bins strictly between band edges
        m and m + 2 (a difference of floats has the sign of the exact one), and
        -0.0 on a bin equal to edge m; elsewhere it is +0.0.  So a block is
        computed on those columns only, except with a p-norm, whose row sums
        must run over whole rows to round as librosa's do.
        """
        rows = max(1, _BLOCK_VALUES // self.n_bins)
        mel_f, fdiff = self.mel_f, self.fdiff
        whole_rows = not (self.norm is None or self.slaney or self.norm == np.inf)
        for m0 in range(0, self.n_mels, rows):
            m1 = min(m0 + rows, self.n_mels)
            c0, c1 = 0, self.n_bins
            if not whole_rows:
                c0 = int(np.searchsorted(self.fftfreqs, mel_f[m0], side="left"))
                c1 = max(c0, int(np.searchsorted(self.fftfreqs, mel_f[m1 + 1], side="left")))
            with np.errstate(all="ignore"):  # checked just below
                ramps = mel_f[m0:m1 + 2, None] - self.fftfreqs[None, c0:c1]
                rising = -ramps[:-2] / fdiff[m0:m1, None]
                falling = ramps[2:] / fdiff[m0 + 1:m1 + 1, None]
                weights = np.maximum(0.0, np.minimum(rising, falling)).astype(dtype)
                if self.slaney:
                    weights *= (2.0 / (mel_f[m0 + 2:m1 + 2] - mel_f[m0:m1]))[:, None]
                elif self.norm is not None:
                    # not "slaney" (the branch above): a number, as mel_params checked
                    weights = _normalize_rows(weights, cast(float, self.norm)).astype(
                        dtype, copy=False)
            if not np.all(np.isfinite(weights)):
                raise ParameterError(
                    f"the mel filters for {self.params} are not finite in {dtype}; "
                    f"use a sample rate and frequency range of ordinary magnitude")
            peaks = weights.max(axis=1) if weights.shape[1] else np.zeros(m1 - m0)
            self.empty |= not np.all((mel_f[m0:m1] == 0) | (peaks > 0))
            yield m0, c0, weights

    def warn_if_empty(self, stacklevel: int) -> None:
        if self.empty:
            warnings.warn(
                "Empty filters detected in mel frequency basis. Some channels will produce "
                "empty responses. Try increasing your sampling rate (and fmax) or reducing n_mels.",
                UserWarning, stacklevel=stacklevel + 1)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
