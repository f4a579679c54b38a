"""librosa's filters: analysis windows and the mel filter bank.

The band-pass designs (scipy's conventions) live in fastmel.design; their
public names are here too.
"""
import numbers
import warnings

import numpy as np

from fastmel import _checks
from fastmel._spectral import pack_mel_rows
from fastmel.convert import fft_frequencies, mel_frequencies
from fastmel.design import bandpass_fir, butter_bandpass, symmetric_window
from fastmel.exceptions import ParameterError

__all__ = ["mel", "get_window", "WINDOWS", "MAX_N_FFT", "MAX_N_MELS", "butter_bandpass",
           "bandpass_fir"]

_ALIASES = {
    "hann": "hann", "han": "hann",
    "hamming": "hamming", "hamm": "hamming", "ham": "hamming",
    "blackman": "blackman", "black": "blackman", "blk": "blackman",
    "blackmanharris": "blackmanharris", "blackharr": "blackmanharris", "bkh": "blackmanharris",
    "nuttall": "nuttall", "nutl": "nuttall", "nut": "nuttall",
    "boxcar": "boxcar", "box": "boxcar", "ones": "boxcar", "rect": "boxcar",
    "rectangular": "boxcar",
    "bartlett": "bartlett", "bart": "bartlett", "brt": "bartlett",
    "triang": "triang", "triangle": "triang", "tri": "triang",
    "cosine": "cosine", "halfcosine": "cosine",
}

#: Window names accepted by :func:`get_window` (scipy's names and aliases),
#: plus the tuples ``("kaiser", beta)`` and ``("gaussian", std)``.
WINDOWS = tuple(sorted(_ALIASES))


def get_window(window, win_length, *, fftbins=True):
    """An analysis window of ``win_length`` samples.

    Parameters
    ----------
    window : str, tuple, callable or np.ndarray [shape=(win_length,)]
        A name from :data:`WINDOWS` (``"hann"``, ``"hamming"``, ``"blackman"``,
        ``"boxcar"``/``"ones"``, ...), ``("kaiser", beta)`` with a finite
        ``beta >= 0``, ``("gaussian", std)`` with a finite ``std > 0``, a
        function of the length, or the window values themselves (real numbers).
    win_length : int > 0
    fftbins : bool
        True for a periodic window (the one to use for spectral analysis, as
        librosa does); False for a symmetric one.

    Returns
    -------
    np.ndarray [shape=(win_length,), dtype=float64]
        Finite values, not all zero.

    Raises
    ------
    ParameterError
        Unknown window name, malformed tuple or parameter, an array (or a
        function's result) of the wrong length, or a window with non-finite
        values (e.g. a Kaiser ``beta`` so large that its Bessel function
        overflows, about 700) or only zeros.
    TypeError
        Complex window values.
    """
    win_length = _checks.positive_int(win_length, "win_length")
    if callable(window):
        values = _window_values(window(win_length), f"window function {window!r}")
        if values.shape != (win_length,):
            raise ParameterError(
                f"window function {window!r} returned shape {values.shape}, "
                f"expected ({win_length},)")
        return _usable_window(values, f"window function {window!r}")
    if isinstance(window, (np.ndarray, list)):
        values = _window_values(window, "window array")
        if values.shape != (win_length,):
            raise ParameterError(
                f"window has length {values.shape[-1] if values.ndim else 0}, "
                f"expected win_length={win_length}")
        return _usable_window(values, "window array")
    param = None
    if isinstance(window, tuple):
        if len(window) != 2 or window[0] not in ("kaiser", "gaussian") \
                or isinstance(window[1], (bool, np.bool_)) \
                or not isinstance(window[1], numbers.Real):
            raise ParameterError(
                f"window={window!r} is not supported; tuples are ('kaiser', beta) "
                f"or ('gaussian', std)")
        name, param = window
        param = float(param)
        if name == "kaiser" and not (np.isfinite(param) and param >= 0):
            raise ParameterError(f"window={window!r}: Kaiser beta must be a finite number >= 0")
        if name == "gaussian" and not (np.isfinite(param) and param > 0):
            raise ParameterError(f"window={window!r}: Gaussian std must be a finite number > 0")
    elif isinstance(window, str):
        name = _ALIASES.get(window.lower())
        if name is None:
            raise ParameterError(
                f"window={window!r} is not a known window; use one of {', '.join(WINDOWS)}, "
                f"('kaiser', beta), ('gaussian', std), a callable or an array")
    else:
        raise ParameterError(f"window={window!r} is not a window name, tuple, callable or array")
    if win_length == 1:
        return np.ones(1)
    # Extreme parameters overflow or divide by zero here; the values are checked below.
    with np.errstate(all="ignore"):
        if fftbins:
            # A periodic window is the symmetric one of one more sample, truncated.
            values = symmetric_window(name, win_length + 1, param)[:-1]
        else:
            values = symmetric_window(name, win_length, param)
    return _usable_window(values, f"window={window!r}")


def describe_window(window):
    """A short name of ``window`` for messages (arrays are not printed)."""
    if isinstance(window, (np.ndarray, list)):
        return f"window array of shape {np.shape(window)}"
    if callable(window):
        return f"window function {window!r}"
    return f"window={window!r}"


def _window_values(values, what):
    values = np.asarray(values)
    if values.dtype.kind == "c":
        raise TypeError(f"{what} has complex values ({values.dtype}); a window must be real")
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{what} has values of dtype {values.dtype}; a window must be real numbers") \
            from None


def _usable_window(values, what):
    """``values`` when every one is finite and not all are zero (an all-zero window
    turns every frame into silence)."""
    if not np.all(np.isfinite(values)):
        raise ParameterError(f"{what} has non-finite values (NaN or inf); a window must be finite")
    if not np.any(values):
        raise ParameterError(f"{what} is all zeros, which would make every frame silent")
    return values


def _normalize_rows(weights, norm):
    """Scale each row of ``weights`` to unit ``norm`` (a positive number or inf)."""
    if weights.shape[-1] == 0:
        return weights
    mag = np.abs(weights).astype(np.float64)
    if norm == np.inf:
        length = mag.max(axis=-1, keepdims=True)
    else:
        length = np.sum(mag ** norm, axis=-1, keepdims=True) ** (1.0 / norm)
    length[length < np.finfo(np.float64).tiny] = 1.0
    return weights / length


#: Largest ``n_mels`` accepted (far beyond any useful mel resolution).
MAX_N_MELS = 2 ** 16

#: Largest ``n_fft`` accepted by the filter banks and the analysis (2**24
#: samples: 5.8 minutes at 48 kHz in one frame).
MAX_N_FFT = 2 ** 24

# Filter rows are built this many values at a time, so the float64 temporaries
# stay small whatever n_mels * n_fft is.
_BLOCK_VALUES = 2 ** 20


def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney",
        dtype=np.float32):
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


def mel_params(*, sr, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney"):
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


def _is_slaney(norm):
    return isinstance(norm, str) and norm == "slaney"


def mel_rows(n_fft, params, dtype=np.float32):
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

    def __init__(self, n_fft, sr, n_mels, fmin, fmax, htk, norm):
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

    def blocks(self, dtype):
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
                    weights = _normalize_rows(weights, self.norm).astype(dtype, copy=False)
            if not np.all(np.isfinite(weights)):
                raise ParameterError(
                    f"the mel filters for {self.params} are not finite in {dtype}; "
                    f"use a sample rate and frequency range of ordinary magnitude")
            peaks = weights.max(axis=1) if weights.shape[1] else np.zeros(m1 - m0)
            self.empty |= not np.all((mel_f[m0:m1] == 0) | (peaks > 0))
            yield m0, c0, weights

    def warn_if_empty(self, stacklevel):
        if self.empty:
            warnings.warn(
                "Empty filters detected in mel frequency basis. Some channels will produce "
                "empty responses. Try increasing your sampling rate (and fmax) or reducing n_mels.",
                UserWarning, stacklevel=stacklevel + 1)
