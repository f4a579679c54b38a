"""Feature extraction functions, equal to librosa.feature's."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from fastmel import _checks
from fastmel._analysis import check_workers
from fastmel.exceptions import ParameterError
from fastmel.cepstral import cepstrum, check_mfcc_params, dct_matrix
from fastmel.deltas import delta
from fastmel.extractors import MFCC, MelSpectrogram
from fastmel.filters import mel as mel_filters

if TYPE_CHECKING:
    import numpy.typing as npt
    from typing_extensions import TypedDict, Unpack

    from fastmel.filters import WindowSpec

    class _MelBands(TypedDict, total=False):
        """The mel bands of :func:`fastmel.filters.mel`."""

        n_mels: int
        fmin: float
        fmax: float | None
        htk: bool

    class _MelKwargs(_MelBands, total=False):
        """The mel filter parameters of :func:`fastmel.filters.mel`."""

        norm: str | float | None

    class _MfccKwargs(_MelBands, total=False):
        """The parameters :func:`mfcc` passes to :func:`melspectrogram`."""

        n_fft: int
        hop_length: int | None
        win_length: int | None
        window: WindowSpec
        center: bool
        pad_mode: str
        power: float

__all__ = ["melspectrogram", "mfcc", "delta"]

_MEL_ARGS = ("n_mels", "fmin", "fmax", "htk", "norm")


def _check_mel_kwargs(kwargs: Mapping[str, object], func: str) -> None:
    unknown = set(kwargs) - set(_MEL_ARGS)
    if unknown:
        raise TypeError(f"{func}() got unexpected keyword argument(s): {', '.join(sorted(unknown))}")


def melspectrogram(*, y: npt.ArrayLike | None = None, sr: float = 22050,
                   S: npt.ArrayLike | None = None, n_fft: int = 2048, hop_length: int | None = 512,
                   win_length: int | None = None, window: WindowSpec = "hann",
                   center: bool = True, pad_mode: str = "constant", power: float = 2.0,
                   workers: int | None = None,
                   **kwargs: Unpack[_MelKwargs]) -> npt.NDArray[np.floating[Any]]:
    """Mel-scaled spectrogram, equal to ``librosa.feature.melspectrogram``.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)] or None
        Audio (float32 or float64; other real floats are converted).
    sr : number > 0
        Sampling rate of ``y``.
    S : np.ndarray [shape=(..., d, t)] or None
        A precomputed (power) spectrogram used instead of ``y``.
    n_fft, hop_length, win_length, window, center, pad_mode
        Framing, as in :func:`fastmel.stft`.
    power : float > 0
        Exponent of the magnitude (1 energy, 2 power).
    workers : int or None
        fastmel's extension (librosa has no such parameter): threads for the
        analysis of ``y``, as ``scipy.fft``'s ``workers`` (None or 1 one, -1
        ``os.cpu_count()``); the output has the same bits for every count.
    **kwargs
        ``n_mels``, ``fmin``, ``fmax``, ``htk``, ``norm`` for :func:`fastmel.filters.mel`.

    Returns
    -------
    S : np.ndarray [shape=(..., n_mels, t)]

    Raises
    ------
    ParameterError
        Neither ``y`` nor ``S`` given, a bad parameter or sample, or an ``S``
        whose projection is not finite (NaN or inf in ``S``, or an overflow).
    TypeError
        Integer, boolean or complex audio; unknown keyword arguments.

    Notes
    -----
    As in librosa, the mel filters are computed in float32 for both
    precisions; float64 audio is projected on those weights widened to float64.

    Examples
    --------
    >>> y = np.zeros(22050, dtype=np.float32)
    >>> fastmel.feature.melspectrogram(y=y, sr=22050).shape
    (128, 44)
    """
    _check_mel_kwargs(kwargs, "melspectrogram")
    workers = check_workers(workers)
    if S is not None:
        S = _checks.real_float(S, "S")
        if S.ndim < 2:
            raise ParameterError(f"S must have shape (..., n_bins, n_frames), got {S.shape}")
        n_fft = 2 * (S.shape[-2] - 1)
        # float32 filters for every precision, as librosa builds them.
        basis = mel_filters(sr=sr, n_fft=n_fft, dtype=np.float32, **kwargs)
        # A contiguous S: numpy's matmul takes other routes (and rounds
        # differently) for other layouts, and any layout must give the same bits.
        S = np.ascontiguousarray(S)
        with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
            M = np.matmul(basis.astype(S.dtype), S)
        return _finite(M, "mel projection")
    if y is None:
        raise ParameterError("melspectrogram needs audio y or a spectrogram S")
    y = _checks.real_float(y, "y")  # float32/float64; the extractor checks the rest
    m = MelSpectrogram(sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                       window=window, center=center, pad_mode=pad_mode, power=power,
                       dtype=y.dtype, **kwargs)
    return m._run(y, workers)


def mfcc(*, y: npt.ArrayLike | None = None, sr: float = 22050, S: npt.ArrayLike | None = None,
         n_mfcc: int = 20, dct_type: int = 2, norm: str | None = "ortho", lifter: float = 0,
         mel_norm: str | float | None = "slaney", workers: int | None = None,
         **kwargs: Unpack[_MfccKwargs]) -> npt.NDArray[np.floating[Any]]:
    """Mel-frequency cepstral coefficients, equal to ``librosa.feature.mfcc``.

    Parameters
    ----------
    y : np.ndarray [shape=(..., n)] or None
        Audio.
    sr : number > 0
    S : np.ndarray [shape=(..., n_mels, t)] or None
        A log-power (dB) mel spectrogram used instead of ``y``.
    n_mfcc : int > 0
    dct_type : {1, 2, 3}
    norm : {"ortho", None}
        DCT normalisation.
    lifter : float >= 0
        Cepstral liftering; 0 disables it.
    mel_norm : {"slaney", None} or number
        Mel filter normalisation.
    workers : int or None
        fastmel's extension, as in :func:`melspectrogram`.
    **kwargs
        Passed to :func:`melspectrogram` (framing and mel parameters).

    Returns
    -------
    M : np.ndarray [shape=(..., n_mfcc, t)]

    Notes
    -----
    From ``y``, the dB conversion uses ``power_to_db``'s defaults, including
    ``top_db=80`` taken per channel (librosa 1.0 behaviour).
    """
    n_mfcc, lifter = check_mfcc_params(n_mfcc, dct_type, norm, lifter)
    workers = check_workers(workers)
    if S is None:
        if y is None:
            raise ParameterError("mfcc needs audio y or a log-power mel spectrogram S")
        y = _checks.real_float(y, "y")  # float32/float64; the extractor checks the rest
        _check_mel_kwargs({k: v for k, v in kwargs.items() if k not in _FRAMING}, "mfcc")
        # the cepstral parameters are checked above: not again in MFCC
        return MFCC._checked(n_mfcc=n_mfcc, dct_type=dct_type, norm=norm, lifter=lifter,
                             mel_norm=mel_norm, sr=sr, dtype=y.dtype, **kwargs)._run(y, workers)
    S = _checks.real_float(S, "S")
    if S.ndim < 2:
        raise ParameterError(f"S must have shape (..., n_mels, n_frames), got {S.shape}")
    dct = dct_matrix(min(n_mfcc, S.shape[-2]), S.shape[-2], dct_type, norm, S.dtype)
    with np.errstate(over="ignore", invalid="ignore"):  # reported by _finite
        M = cepstrum(S, dct, lifter)
    return _finite(M, "cepstrum")


def _finite(out: npt.NDArray[np.floating[Any]], what: str) -> npt.NDArray[np.floating[Any]]:
    """``out``, computed from a caller's S, unless it has NaN or inf values
    (S had some, or the sum overflowed): one pass over the (smaller) output."""
    if not np.all(np.isfinite(out)):
        raise ParameterError(
            f"the {what} of S has non-finite values: S has NaN or inf values, or values "
            f"so large that the {what} overflowed {out.dtype}")
    return out


_FRAMING = ("n_fft", "hop_length", "win_length", "window", "center", "pad_mode", "power")


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
