"""Front-end presets: the features a known model or toolkit expects, computed by fastmel.

Each preset is an extractor configured for one model family: ``fe(y)``
computes its features offline, equal to that model's own front-end.

* :class:`WhisperLogMel`: OpenAI Whisper's log-mel spectrogram (80 or 128
  mels), as ``transformers.WhisperFeatureExtractor`` and ``whisper.log_mel_spectrogram``
  compute it.
* :class:`TorchaudioMelSpectrogram`, :class:`TorchaudioMFCC`: torchaudio's
  ``transforms.MelSpectrogram`` and ``transforms.MFCC`` (its defaults and
  parameter names).
* :class:`KaldiFbank`, :class:`KaldiMFCC`: Kaldi's filterbank and MFCC
  features, as kaldi-native-fbank computes them (k2/icefall, sherpa, WeNet),
  offline and as streams with its online frame timing.
"""
from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Any, NoReturn, cast, overload

import numpy as np

from fastmel import _checks
from fastmel._analysis import OUT_MEL, OUT_MEL_DB, OUT_MFCC, analyze
from fastmel._kaldi import KaldiKernel, KaldiStream
from fastmel._kaldi import offline as _kaldi_offline
from fastmel._plan import get_plan
from fastmel._spectral import floor_below_max
from fastmel.cepstral import cepstrum, dct_matrix
from fastmel.exceptions import ParameterError
from fastmel.extractors import MelSpectrogram, _Configured, _Extractor, _Setting
from fastmel.filters import MAX_N_FFT, MAX_N_MELS, mel_params, mel_rows
from fastmel.spectrum import _check_db_params, floor_top_db

if TYPE_CHECKING:
    import numpy.typing as npt

    from fastmel._spectral import SpectralKernel
    from fastmel._streambase import Stream

    _Floats = npt.NDArray[np.floating[Any]]
    _F32s = npt.NDArray[np.float32]
    #: What the Kaldi presets' dither draws from.
    _Seed = int | np.random.Generator | None
    # A setting holding a dict (generic only for the type checker: at run time
    # the base is the plain class, as subscripting it would not change it).
    _DictSetting = _Setting[dict[str, Any]]
else:
    _DictSetting = _Setting

__all__ = ["WhisperLogMel", "KaldiFbank", "KaldiMFCC", "TorchaudioMelSpectrogram", "TorchaudioMFCC"]


class WhisperLogMel(_Configured):
    """Whisper's log-mel spectrogram, planned once; ``fe(y)`` equals Whisper's features.

    The audio must be sampled at 16 kHz (Whisper's rate; there is no ``sr``
    parameter: resample first, e.g. with ``soxr.resample(y, sr, 16000)``).
    The computation is Whisper's: with ``pad_or_trim`` the clip is cut or
    zero-padded to 30 s (480000 samples); then an STFT with ``n_fft=400``,
    ``hop_length=160``, a periodic Hann window and reflect centre padding; the
    power spectrum through Slaney-normalised Slaney-scale mel filters (0 to
    8000 Hz, librosa's); the last frame dropped; ``log10(max(1e-10, mel))``;
    a floor at the clip's maximum minus 8 (per channel); finally ``(x + 4) / 4``.
    It equals ``transformers.WhisperFeatureExtractor(feature_size=n_mels)`` (its
    numpy path) within float32 rounding.

    Parameters
    ----------
    n_mels : {80, 128}
        Mel bands: 80 for Whisper up to large-v2, 128 for large-v3.
    pad_or_trim : bool
        Cut or zero-pad the clip to 30 s before the analysis, as Whisper's
        model input needs (always 3000 frames); False analyses the clip as
        given (``n // 160`` frames for ``n`` samples).
    dtype : {np.float32, np.float64}
        Working precision and output type; input audio is converted to it.

    Attributes
    ----------
    n_mels, pad_or_trim, dtype
        The parameters, read-only, as resolved; the repr shows them and builds
        the same extractor again.
    melspec : MelSpectrogram
        The mel spectrogram in dB (``10 * log10(max(1e-10, mel))``, every
        frame, unfloored) the features are computed from.  Its ``stream()``
        is the streaming form of the part of Whisper's front-end that streams.

    Raises
    ------
    ParameterError
        ``n_mels`` other than 80 or 128, a ``dtype`` other than float32 or
        float64; when called, what :class:`~fastmel.MelSpectrogram` refuses (non-finite
        samples, soundfile's ``(frames, channels)`` layout, an empty clip with
        ``pad_or_trim=False``).
    TypeError
        ``pad_or_trim`` that is not a bool; integer or complex audio.

    Examples
    --------
    >>> fe = fastmel.frontends.WhisperLogMel(n_mels=80)
    >>> fe(np.zeros(16000, dtype=np.float32)).shape
    (80, 3000)
    """

    #: Whisper's sampling rate (Hz): the input must already be at this rate.
    SAMPLE_RATE: int = 16000
    #: Samples in Whisper's 30 s window (``pad_or_trim``).
    N_SAMPLES: int = 30 * SAMPLE_RATE
    N_FFT: int = 400
    HOP_LENGTH: int = 160

    n_mels: _Setting[int] = _Setting("Number of mel bands (80 or 128).")
    pad_or_trim: _Setting[bool] = _Setting("Whether the clip is cut or zero-padded to 30 s first.")
    dtype: _Setting[np.dtype[Any]] = _Setting(
        "Working precision, a np.dtype (float32 or float64).")

    @property
    def melspec(self) -> MelSpectrogram:
        """The unfloored dB mel spectrogram the features come from."""
        return self._melspec

    def __init__(self, *, n_mels: int = 80, pad_or_trim: bool = True,
                 dtype: npt.DTypeLike = np.float32) -> None:
        self._config = dict(n_mels=n_mels, pad_or_trim=pad_or_trim, dtype=dtype)
        self._build()

    def _build(self) -> None:
        c = self._config
        n_mels, pad_or_trim = c["n_mels"], c["pad_or_trim"]
        if isinstance(n_mels, (bool, np.bool_)) or n_mels not in (80, 128):
            raise ParameterError(
                f"n_mels must be 80 or 128 (Whisper's models use these), got {n_mels!r}")
        if not isinstance(pad_or_trim, (bool, np.bool_)):
            raise TypeError(f"pad_or_trim must be True or False, got {pad_or_trim!r}")
        # to_db with ref=1 and amin=1e-10 is 10 * log10(max(1e-10, mel)) in the
        # compiled kernel: Whisper's log10 clamp, in tenths of its unit.
        self._melspec = MelSpectrogram(
            sr=self.SAMPLE_RATE, n_fft=self.N_FFT, hop_length=self.HOP_LENGTH, window="hann",
            center=True, pad_mode="reflect", power=2.0, n_mels=int(n_mels), fmin=0.0,
            fmax=8000.0, htk=False, norm="slaney", to_db=True, ref=1.0, amin=1e-10,
            top_db=None, dtype=c["dtype"])
        self._settings = dict(n_mels=int(n_mels), pad_or_trim=bool(pad_or_trim),
                              dtype=self._melspec.dtype)

    def __call__(self, y: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """Whisper's log-mel features of ``y``.

        Parameters
        ----------
        y : np.ndarray [shape=(..., n)], real floating point
            Audio at 16 kHz; leading axes (channels, batch) are carried
            through, each channel floored at its own maximum.

        Returns
        -------
        features : np.ndarray [shape=(..., n_mels, n_frames), dtype=self.dtype]
            ``n_frames`` is 3000 with ``pad_or_trim``, ``n // 160`` without.
        """
        y = _checks.real_float(y, "y")
        if y.ndim == 0:
            raise ParameterError("y must have at least one dimension (time last), got a scalar")
        if self.pad_or_trim:
            # Checked before the time axis is cut or padded to 480000 samples,
            # which would hide a (frames, channels) layout.
            _checks.check_layout(y.shape, self.N_FFT, "y")
            y = self._pad_or_trim(y)
        S = self._melspec._run(y)
        S = np.ascontiguousarray(S[..., :-1])  # Whisper drops the last frame
        # In dB, Whisper's floor at max - 8 (log10) is max - 80.
        floor_top_db(S, 80.0)
        # (x_db / 10 + 4) / 4, in one multiply-add
        S *= S.dtype.type(1.0 / 40.0)
        S += S.dtype.type(1.0)
        return S

    def _pad_or_trim(self, y: _Floats) -> _Floats:
        n = y.shape[-1]
        if n >= self.N_SAMPLES:
            # the part cut off is audio too: NaN or inf there is bad input all the same
            if n > self.N_SAMPLES:
                _checks.audio(y[..., self.N_SAMPLES:], "y")
            return y[..., :self.N_SAMPLES]
        padded = np.zeros(y.shape[:-1] + (self.N_SAMPLES,), dtype=y.dtype)
        padded[..., :n] = y
        return padded

    def stream(self) -> NoReturn:
        """Not available: Whisper's features cannot stream.

        Each value is floored at the whole clip's maximum minus 8, which is
        known only at the end of the clip (and ``pad_or_trim`` needs the
        clip's length).  ``self.melspec.stream()`` streams the unfloored
        ``10 * log10(max(1e-10, mel))`` of every frame (the last included),
        bit for bit equal to ``self.melspec(y)``; dividing by 40 and adding 1
        gives Whisper's values before the floor.

        Raises
        ------
        ParameterError
            Always, with the reason.
        """
        raise ParameterError(
            "WhisperLogMel cannot stream: Whisper floors every value at the whole clip's "
            "maximum - 8, which is known only when the clip ends; use .melspec.stream() "
            "for the unfloored log-mel in dB (x / 40 + 1 is Whisper's scale before the floor)")


# --- torchaudio ---------------------------------------------------------------

#: torch.stft's pad modes (what torchaudio's ``pad_mode`` takes) by the name
#: numpy.pad, which fastmel's framing follows, gives the same padding.
_TORCH_PAD_MODES: dict[str, str] = {"constant": "constant", "reflect": "reflect",
                                    "replicate": "edge"}

#: torchaudio options the presets accept at torchaudio's default only (so that
#: a full torchaudio configuration can be passed as it is), with that default.
_TORCHAUDIO_DEFAULT_ONLY: dict[str, tuple[object, ...]] = {
    "pad": (0,), "normalized": (False,), "wkwargs": (None,), "onesided": (None, True)}
#: torchaudio options the presets do not take at all, and why.
_TORCHAUDIO_REFUSED: dict[str, str] = {
    "window_fn": "the presets use torchaudio's default window, torch.hann_window "
                 "(periodic); leave window_fn out",
}


def _refuse_torchaudio_options(options: dict[str, object], what: str) -> None:
    """ParameterError for torchaudio options ``what`` cannot honour; TypeError
    for names torchaudio does not have either."""
    for name, value in options.items():
        if name in _TORCHAUDIO_DEFAULT_ONLY:
            allowed = _TORCHAUDIO_DEFAULT_ONLY[name]
            if not any(value is a or (type(value) is type(a) and value == a) for a in allowed):
                raise ParameterError(
                    f"{what} supports torchaudio's {name} only at its default "
                    f"({' or '.join(map(repr, allowed))}), got {name}={value!r}")
        elif name in _TORCHAUDIO_REFUSED:
            raise ParameterError(f"{what} does not take {name}: {_TORCHAUDIO_REFUSED[name]}")
        else:
            raise TypeError(f"{what} got an unexpected keyword argument {name!r}")


class TorchaudioMelSpectrogram(_Extractor):
    """torchaudio's ``transforms.MelSpectrogram``, planned once; ``fe(y)`` equals it.

    The defaults and the parameter names are torchaudio's: 16 kHz, ``n_fft``
    400, ``win_length = n_fft``, ``hop_length = win_length // 2``, a periodic
    Hann window (centred in the frame when shorter), centre padding by
    reflection, the power spectrum (``power=2``) through 128 triangular
    filters on the HTK mel scale from 0 Hz to ``sample_rate // 2``, without
    normalisation.  As in torchaudio, the FFT bins are placed on
    ``linspace(0, sample_rate // 2)`` (half an odd rate is rounded down).
    Equal to torchaudio within 1e-5 of the output's maximum in float32 and
    1e-10 in float64 (torchaudio run with ``torch.float64`` as its default
    dtype, so that its window and filters are computed in float64 as
    fastmel's are).

    Parameters
    ----------
    sample_rate : number >= 2
    n_fft : int > 0
    win_length : int, 0 < win_length <= n_fft, or None
        ``n_fft`` when None.
    hop_length : int > 0 or None
        ``win_length // 2`` when None.
    f_min : float >= 0
    f_max : float > f_min or None
        ``sample_rate // 2`` when None.
    n_mels : int > 0
    power : float > 0
        Exponent of the magnitude.
    center : bool
        Pad ``n_fft // 2`` samples at both ends, so that frame ``t`` is
        centred on sample ``t * hop_length``.
    pad_mode : {"reflect", "constant", "replicate"}
        torch's names for the padding when ``center``.
    norm : {None, "slaney"}
        ``"slaney"`` divides each triangle by its width in Hz.
    mel_scale : {"htk", "slaney"}
    dtype : {np.float32, np.float64}
        Working precision and output type; input audio is converted to it.
    **torchaudio_options
        torchaudio's ``pad=0``, ``normalized=False``, ``wkwargs=None`` and
        ``onesided`` (None or True) are accepted at those values, so that a
        torchaudio configuration can be passed whole; other values, and
        ``window_fn``, raise ParameterError.

    Attributes
    ----------
    sample_rate, n_fft, win_length, hop_length, f_min, f_max, n_mels, power,
    center, pad_mode, norm, mel_scale, dtype
        The parameters, read-only, with their defaults resolved; the repr
        shows them and builds the same extractor again.

    Raises
    ------
    ParameterError
        A parameter outside the ranges above or an option fastmel does not
        honour; when called, what :class:`fastmel.MelSpectrogram` refuses
        (non-finite samples, soundfile's ``(frames, channels)`` layout).
    TypeError
        A keyword torchaudio's MelSpectrogram does not have either;
        integer or complex audio.

    Examples
    --------
    >>> fe = fastmel.frontends.TorchaudioMelSpectrogram(n_mels=64)
    >>> fe(np.zeros(16000, dtype=np.float32)).shape
    (64, 81)
    """

    sample_rate: _Setting[float] = _Setting("Sampling rate (Hz).")
    f_min: _Setting[float] = _Setting("Lowest mel frequency (Hz).")
    f_max: _Setting[float] = _Setting(
        "Highest mel frequency (Hz; ``sample_rate // 2`` when it was None).")
    n_mels: _Setting[int] = _Setting("Number of mel bands.")
    power: _Setting[float] = _Setting("Exponent of the magnitude.")
    norm: _Setting[str | None] = _Setting("Mel filter normalisation (None or 'slaney').")
    mel_scale: _Setting[str] = _Setting("Mel scale ('htk' or 'slaney').")

    @property
    def window(self) -> str:  # type: ignore[override]  # see TorchaudioMFCC.n_fft
        """The window: torchaudio's periodic Hann."""
        return "hann"

    def __init__(self, *, sample_rate: float = 16000, n_fft: int = 400,
                 win_length: int | None = None, hop_length: int | None = None,
                 f_min: float = 0.0, f_max: float | None = None, n_mels: int = 128,
                 power: float = 2.0, center: bool = True, pad_mode: str = "reflect",
                 norm: str | None = None, mel_scale: str = "htk",
                 dtype: npt.DTypeLike = np.float32, **torchaudio_options: object) -> None:
        _refuse_torchaudio_options(torchaudio_options, type(self).__name__)
        self._config = dict(
            sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
            f_min=f_min, f_max=f_max, n_mels=n_mels, power=power, center=center,
            pad_mode=pad_mode, norm=norm, mel_scale=mel_scale, dtype=dtype)
        self._build()

    def _build(self) -> None:
        c = self._config
        sample_rate = c["sample_rate"]
        _checks.positive_number(sample_rate, "sample_rate")
        nyquist = sample_rate // 2
        if nyquist < 1:
            raise ParameterError(
                f"sample_rate must be at least 2 (torchaudio places the filters up to "
                f"sample_rate // 2), got {sample_rate!r}")
        n_fft = _checks.positive_int(c["n_fft"], "n_fft", maximum=MAX_N_FFT)
        win_length = _checks.positive_int(c["win_length"], "win_length", allow_none=True) or n_fft
        hop_length = c["hop_length"]
        if hop_length is None:
            hop_length = win_length // 2
            if hop_length < 1:
                raise ParameterError(
                    f"hop_length=None defaults to win_length // 2, which is 0 for "
                    f"win_length={win_length}; pass hop_length explicitly")
        center, pad_mode = c["center"], c["pad_mode"]
        if not isinstance(center, (bool, np.bool_)):
            raise TypeError(f"center must be True or False, got {center!r}")
        if center and (not isinstance(pad_mode, str) or pad_mode not in _TORCH_PAD_MODES):
            raise ParameterError(
                f"pad_mode must be one of {', '.join(map(repr, _TORCH_PAD_MODES))} (torch.stft's "
                f"names; 'circular' is not supported), got {pad_mode!r}")
        settings, dtype = self._set_framing(dict(
            n_fft=n_fft, hop_length=hop_length, win_length=win_length, window="hann",
            center=center, pad_mode=_TORCH_PAD_MODES[pad_mode] if center else "constant",
            dtype=c["dtype"]))
        f_min = _checks.finite_number(c["f_min"], "f_min")
        if f_min < 0:
            raise ParameterError(f"f_min must be >= 0, got {c['f_min']!r}")
        f_max = float(nyquist) if c["f_max"] is None else _checks.finite_number(c["f_max"], "f_max")
        if f_max <= f_min:
            raise ParameterError(f"f_max must be greater than f_min={f_min!r}, got {f_max!r}")
        norm, mel_scale = c["norm"], c["mel_scale"]
        if not (norm is None or (isinstance(norm, str) and norm == "slaney")):
            raise ParameterError(f"norm must be None or 'slaney', got {norm!r}")
        if not (isinstance(mel_scale, str) and mel_scale in ("htk", "slaney")):
            raise ParameterError(f"mel_scale must be 'htk' or 'slaney', got {mel_scale!r}")
        power = _checks.positive_number(c["power"], "power")
        n_mels = _checks.positive_int(c["n_mels"], "n_mels", maximum=MAX_N_MELS)
        # The bins on linspace(0, sample_rate // 2) are librosa's bins for the
        # even rate 2 * (sample_rate // 2); torchaudio's triangles are
        # librosa's.  The filters are computed in the working precision:
        # torchaudio in float64 builds them in float64.
        mel = mel_params(sr=2.0 * nyquist, n_mels=n_mels, fmin=f_min, fmax=f_max,
                         htk=mel_scale == "htk", norm=norm)
        self._mel_rows = mel_rows(n_fft, mel, dtype=dtype)
        self._kernel = self.framing.kernel(dtype, OUT_MEL, power=power, mel_rows=self._mel_rows)
        self._settings = dict(
            sample_rate=_plain_number(sample_rate), n_fft=n_fft, win_length=win_length,
            hop_length=settings["hop_length"], f_min=f_min, f_max=f_max, n_mels=n_mels,
            power=power, center=bool(center), pad_mode=pad_mode, norm=norm, mel_scale=mel_scale,
            dtype=dtype)

    def __call__(self, y: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """torchaudio's mel spectrogram of ``y``.

        Parameters
        ----------
        y : np.ndarray [shape=(..., n)], real floating point
            Leading axes (channels, batch) are carried through.

        Returns
        -------
        S : np.ndarray [shape=(..., n_mels, n_frames), dtype=self.dtype]
        """
        return self._run(_checks.real_float(y, "y"))

    def _run(self, y: _Floats) -> _Floats:
        return self._analyze(y)


def _plain_number(value: float) -> float:
    """``value`` (a checked real number) as a Python int when it is integral, else float."""
    return int(value) if isinstance(value, numbers.Integral) else float(value)


class _CopiedSetting(_DictSetting):
    """A read-only setting holding a dict: each read gets a copy, which the
    caller may change without changing the setting."""

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _CopiedSetting: ...
    @overload
    def __get__(self, obj: _Configured, objtype: type | None = None) -> dict[str, Any]: ...

    def __get__(self, obj: _Configured | None,
                objtype: type | None = None) -> _CopiedSetting | dict[str, Any]:
        return self if obj is None else dict(obj._settings[self.name])


class TorchaudioMFCC(_Extractor):
    """torchaudio's ``transforms.MFCC``, planned once; ``fe(y)`` equals it.

    torchaudio's computation: :class:`TorchaudioMelSpectrogram` with
    ``melkwargs``; then either (``log_mels=False``, the default) dB with
    torchaudio's ``AmplitudeToDB("power", top_db=80)``, i.e.
    ``10 * log10(max(1e-10, mel))`` floored at the maximum minus 80 dB, or
    (``log_mels=True``) ``log(mel + 1e-6)``; then the first ``n_mfcc``
    coefficients of a type-II DCT over the mel bands.  The maximum of the dB
    floor is torchaudio's: over the whole output for input ``(n,)`` and
    ``(channels, n)`` (all channels together), and per item of the leading
    axes for more dimensions, e.g. per ``(channels, n)`` item of a
    ``(batch, channels, n)`` input.  Equal to torchaudio within 1e-5 of the
    output's maximum in float32 and 1e-10 in float64 (torchaudio run with
    ``torch.float64`` as its default dtype).

    Which settings stream: ``log_mels=True``, and ``log_mels=False`` with
    ``top_db=None`` (every frame computed on its own).  torchaudio's default
    ``top_db=80`` needs the whole signal's maximum: :meth:`stream` refuses it
    with the reason.

    Parameters
    ----------
    sample_rate : number >= 2
    n_mfcc : int, 0 < n_mfcc <= n_mels
    dct_type : {2}
        The only DCT torchaudio's MFCC has.
    norm : {"ortho", None}
        DCT normalisation.
    log_mels : bool
        ``log(mel + 1e-6)`` instead of dB.
    melkwargs : dict or None
        :class:`TorchaudioMelSpectrogram` parameters (torchaudio's names),
        but ``sample_rate`` and ``dtype``, which are this class's own.
    top_db : float >= 0 or None
        The dB floor below the maximum (``log_mels=False`` only; ignored with
        ``log_mels=True``, as torchaudio ignores it).  torchaudio fixes it at
        80; None (fastmel's extension) leaves the dB values unfloored, as
        torchaudio's ``amplitude_to_DB`` without ``top_db``.
    dtype : {np.float32, np.float64}
        Working precision and output type; input audio is converted to it.

    Attributes
    ----------
    sample_rate, n_mfcc, dct_type, norm, log_mels, melkwargs, top_db, dtype
        The parameters, read-only, as resolved (``melkwargs`` with the values
        the mel spectrogram resolved); the repr shows them and builds the same
        extractor again.
    melspec : TorchaudioMelSpectrogram
        The mel spectrogram the coefficients are computed from.
    n_fft, hop_length, win_length, window, center, pad_mode
        The mel spectrogram's framing.

    Raises
    ------
    ParameterError
        A parameter outside the ranges above (``n_mfcc`` above ``n_mels``
        included), a ``melkwargs`` entry :class:`TorchaudioMelSpectrogram`
        refuses; when called, what :class:`fastmel.MFCC` refuses.
    TypeError
        ``melkwargs`` that is not a dict, ``log_mels`` that is not a bool, a
        ``melkwargs`` key torchaudio does not have; integer or complex audio.

    Examples
    --------
    >>> fe = fastmel.frontends.TorchaudioMFCC(n_mfcc=13, melkwargs={"n_mels": 40})
    >>> fe(np.zeros(16000, dtype=np.float32)).shape
    (13, 81)
    """

    #: torchaudio's ``log(mel + 1e-6)`` offset (``log_mels=True``).
    LOG_OFFSET: float = 1e-6
    #: torchaudio's dB floor of the power (``AmplitudeToDB``'s ``amin``).
    AMIN: float = 1e-10

    sample_rate: _Setting[float] = _Setting("Sampling rate (Hz).")
    n_mfcc: _Setting[int] = _Setting("Number of coefficients.")
    dct_type: _Setting[int] = _Setting("DCT type (2).")
    norm: _Setting[str | None] = _Setting("DCT normalisation.")
    log_mels: _Setting[bool] = _Setting("Whether log(mel + 1e-6) is used instead of dB.")
    melkwargs = _CopiedSetting("The mel spectrogram's parameters given, as resolved (a copy).")
    top_db: _Setting[float | None] = _Setting("dB floor below the maximum, or None.")

    @property
    def melspec(self) -> TorchaudioMelSpectrogram:
        """The mel spectrogram the coefficients are computed from."""
        return self._melspec

    # The mel spectrogram's framing: read-only properties where _Extractor has
    # settings, which mypy takes for writeable attributes (hence the ignores).
    @property
    def n_fft(self) -> int:  # type: ignore[override]
        """``melspec.n_fft``: the mel spectrogram's setting."""
        return self._melspec.n_fft

    @property
    def hop_length(self) -> int:  # type: ignore[override]
        """``melspec.hop_length``: the mel spectrogram's setting."""
        return self._melspec.hop_length

    @property
    def win_length(self) -> int:  # type: ignore[override]
        """``melspec.win_length``: the mel spectrogram's setting."""
        return self._melspec.win_length

    @property
    def window(self) -> str:  # type: ignore[override]
        """``melspec.window``: the mel spectrogram's setting."""
        return self._melspec.window

    @property
    def center(self) -> bool:  # type: ignore[override]
        """``melspec.center``: the mel spectrogram's setting."""
        return self._melspec.center

    @property
    def pad_mode(self) -> str:  # type: ignore[override]
        """``melspec.pad_mode``: the mel spectrogram's setting."""
        return self._melspec.pad_mode

    def __init__(self, *, sample_rate: float = 16000, n_mfcc: int = 40, dct_type: int = 2,
                 norm: str | None = "ortho", log_mels: bool = False,
                 melkwargs: dict[str, Any] | None = None, top_db: float | None = 80.0,
                 dtype: npt.DTypeLike = np.float32) -> None:
        if isinstance(melkwargs, dict):
            melkwargs = dict(melkwargs)  # the caller's dict may change later; this must not
        self._config = dict(sample_rate=sample_rate, n_mfcc=n_mfcc, dct_type=dct_type, norm=norm,
                            log_mels=log_mels, melkwargs=melkwargs, top_db=top_db, dtype=dtype)
        self._build()

    def _build(self) -> None:
        c = self._config
        melkwargs = {} if c["melkwargs"] is None else c["melkwargs"]
        if not isinstance(melkwargs, dict):
            raise TypeError(f"melkwargs must be a dict or None, got {type(melkwargs).__name__}")
        for own in ("sample_rate", "dtype"):
            if own in melkwargs:
                raise ParameterError(
                    f"melkwargs must not hold {own}: it is TorchaudioMFCC's own parameter "
                    f"(got melkwargs[{own!r}]={melkwargs[own]!r})")
        mel = self._melspec = TorchaudioMelSpectrogram(
            sample_rate=c["sample_rate"], dtype=c["dtype"], **melkwargs)
        self._framing = mel.framing
        n_mfcc = _checks.positive_int(c["n_mfcc"], "n_mfcc")
        if n_mfcc > mel.n_mels:
            raise ParameterError(
                f"n_mfcc={n_mfcc} must be <= n_mels={mel.n_mels}: torchaudio cannot select more "
                f"coefficients than mel bands")
        dct_type = c["dct_type"]
        if isinstance(dct_type, (bool, np.bool_)) or dct_type != 2:
            raise ParameterError(
                f"dct_type must be 2, the only DCT torchaudio's MFCC has, got {dct_type!r}")
        norm = c["norm"]
        if not (norm is None or (isinstance(norm, str) and norm == "ortho")):
            raise ParameterError(f"norm must be 'ortho' or None, got {norm!r}")
        log_mels = c["log_mels"]
        if not isinstance(log_mels, (bool, np.bool_)):
            raise TypeError(f"log_mels must be True or False, got {log_mels!r}")
        dtype = mel.dtype
        _, top_db = _check_db_params(self.AMIN, c["top_db"], dtype)
        dct = dct_matrix(n_mfcc, mel.n_mels, 2, norm, np.float64)
        self._dct = dct.astype(dtype)
        # log_mels uses mel.kernel, then log(mel + 1e-6) and the DCT in numpy
        self._kernel = self._db_kernel = None
        if not log_mels and top_db is None:
            self._kernel = self.framing.kernel(dtype, OUT_MFCC, power=mel.power,
                                               mel_rows=mel._mel_rows, amin=self.AMIN, dct=dct)
        elif not log_mels:
            self._db_kernel = self.framing.kernel(dtype, OUT_MEL_DB, power=mel.power,
                                                  mel_rows=mel._mel_rows, amin=self.AMIN)
        self._settings = dict(
            sample_rate=mel.sample_rate, n_mfcc=n_mfcc, dct_type=2, norm=norm,
            log_mels=bool(log_mels),
            # torchaudio's options accepted at their defaults only mean nothing: left out
            melkwargs={k: mel._settings[k] for k in melkwargs if k in mel._settings},
            top_db=top_db, dtype=dtype)

    def __call__(self, y: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """torchaudio's MFCCs of ``y``.

        Parameters
        ----------
        y : np.ndarray [shape=(..., n)], real floating point
            Leading axes (channels, batch) are carried through.

        Returns
        -------
        M : np.ndarray [shape=(..., n_mfcc, n_frames), dtype=self.dtype]
        """
        return self._run(_checks.real_float(y, "y"))

    def _run(self, y: _Floats) -> _Floats:
        if self.kernel is not None:
            return self._analyze(y)
        if self.log_mels:
            return self._log_mel_cepstrum(self._melspec._run(y))
        # the dB kernel: made whenever neither kernel nor log_mels is
        kernel = cast("SpectralKernel", self._db_kernel)
        y = _checks.bounded_float(y, kernel.max_amplitude, dtype=self.dtype)
        S = cast("_Floats", analyze(kernel, self.framing, y))
        if S.size:
            # torchaudio's AmplitudeToDB floors each item of the leading axes
            # but the last (the channels) at the maximum over its channels,
            # mels and frames.
            group = S.size if S.ndim <= 3 else S.shape[-3] * S.shape[-2] * S.shape[-1]
            floor_below_max(S, cast(float, self.top_db), group)
        return cepstrum(S, self._dct, 0)

    def _log_mel_cepstrum(self, S: _Floats) -> _Floats:
        """The coefficients of mel frames ``S`` (overwritten) with ``log_mels``.

        The DCT is a sum over the mel bands in a fixed order, element by
        element, so a frame's coefficients have the same bits however many
        frames are computed together, offline or in a stream's chunks (a
        matrix product's rounding depends on its shape: BLAS picks its kernels
        by it).
        """
        S += S.dtype.type(self.LOG_OFFSET)
        np.log(S, out=S)
        out = np.zeros(S.shape[:-2] + (self._dct.shape[0], S.shape[-1]), S.dtype)
        term = np.empty_like(out)
        for k in range(self._dct.shape[1]):
            np.multiply(self._dct[:, k, None], S[..., k, None, :], out=term)
            out += term
        return out

    if TYPE_CHECKING:
        # Not a Stream with log_mels (no lead, dtype, samples_in or stream(), and a
        # Chain cannot put frame stages after it): the type says so.
        def stream(self) -> Stream | _LogMelMFCCStream:  # type: ignore[override]
            ...

    def _new_stream(self) -> Stream | _LogMelMFCCStream:  # type: ignore[override]  # see stream
        if self.log_mels:
            return _LogMelMFCCStream(self)
        return super()._new_stream()

    def _check_streamable(self) -> None:
        if self.top_db is not None and not self.log_mels:
            raise ParameterError(
                f"top_db={self.top_db} floors at the whole signal's maximum (torchaudio's "
                f"AmplitudeToDB), so it cannot stream; use top_db=None (or floor the streamed "
                f"frames yourself)")


class _LogMelMFCCStream:
    """The stream of a :class:`TorchaudioMFCC` with ``log_mels``: its mel
    spectrogram's stream, each chunk's frames taken to coefficients as the
    offline call takes them (frame by frame, so bit for bit).  Checks, state,
    atomicity, thread safety and pickling are the mel stream's."""

    def __init__(self, extractor: TorchaudioMFCC) -> None:
        self.extractor = extractor
        self._mel = extractor.melspec.stream()

    @property
    def latency(self) -> int:
        """Samples after a frame's centre needed to emit it."""
        return self._mel.latency

    def process(self, chunk: npt.ArrayLike) -> _Floats:
        """The coefficients of the frames ``chunk`` [shape=(..., k)] completes:
        [shape=(..., n_mfcc, j)]."""
        return self.extractor._log_mel_cepstrum(cast("_Floats", self._mel.process(chunk)))

    def flush(self) -> _Floats:
        """The coefficients of the frames still owed at the end of the signal."""
        return self.extractor._log_mel_cepstrum(cast("_Floats", self._mel.flush()))

    def reset(self) -> None:
        """Back to the state of a new stream."""
        self._mel.reset()

    def __repr__(self) -> str:
        return f"<{self.extractor!r}.stream() over {self._mel!r}>"


# -- Kaldi ---------------------------------------------------------------------

_KALDI_WINDOWS: tuple[str, ...] = ("povey", "hamming", "hanning", "hann", "sine", "rectangular",
                                  "blackman")
_F32 = np.float32
# Longest frame (samples) a Kaldi extractor takes: far beyond any use, and
# refused before the FFT plan or buffers are made.
_KALDI_MAX_FRAME = 1 << 20


def _kaldi_samples(sr: float, ms: float) -> int:
    # Kaldi's WindowSize/WindowShift: float32 arithmetic, truncated
    return int(_F32(sr) * _F32(0.001) * _F32(ms))


def _kaldi_window(kind: str, n: int, blackman_coeff: float) -> _F32s:
    """Kaldi's window of n points, computed in float64 and rounded to float32 as it does."""
    i = np.arange(n, dtype=np.float64)
    a = 2 * math.pi / (n if kind == "hann" else n - 1)
    if kind in ("hanning", "hann"):
        w = 0.5 - 0.5 * np.cos(a * i)
    elif kind == "sine":
        w = np.sin(0.5 * a * i)
    elif kind == "hamming":
        w = 0.54 - 0.46 * np.cos(a * i)
    elif kind == "povey":
        w = (0.5 - 0.5 * np.cos(a * i)) ** 0.85
    elif kind == "rectangular":
        w = np.ones(n)
    else:
        b = float(_F32(blackman_coeff))
        w = b - 0.5 * np.cos(a * i) + (0.5 - b) * np.cos(2 * a * i)
    return w.astype(_F32)


def _kaldi_mel(f: np.float32 | _F32s) -> Any:
    return _F32(1127.0) * np.log(_F32(1.0) + f / _F32(700.0))


def _kaldi_mel_banks(num_bins: int, sr: float | np.float32, n_fft: int, low_freq: float,
                     high_freq: float) -> tuple[npt.NDArray[np.int_], npt.NDArray[np.int_], _F32s]:
    """Kaldi's triangular mel filters in float32 arithmetic, as (first bin,
    length, weights) per filter, over the n_fft // 2 bins below Nyquist."""
    sr = _F32(sr)
    nyquist = _F32(0.5) * sr
    low = _F32(low_freq)
    high = _F32(high_freq) if high_freq > 0 else nyquist + _F32(high_freq)
    if not (0 <= low < nyquist and 0 < high <= nyquist and high > low):
        raise ParameterError(
            f"low_freq={low_freq!r} and high_freq={high_freq!r} give the band [{float(low):g}, "
            f"{float(high):g}] Hz, which must satisfy 0 <= low_freq < high_freq <= Nyquist "
            f"({float(nyquist):g} Hz); high_freq <= 0 means Nyquist + high_freq")
    n_bins = n_fft // 2
    with np.errstate(all="ignore"):
        mel_lo, mel_hi = _kaldi_mel(low), _kaldi_mel(high)
        delta = (mel_hi - mel_lo) / _F32(num_bins + 1)
        mel = _kaldi_mel((sr / _F32(n_fft)) * np.arange(n_bins, dtype=_F32))
        first, length, weights = [], [], []
        for b in range(num_bins):
            left = mel_lo + _F32(b) * delta
            centre = mel_lo + _F32(b + 1) * delta
            right = mel_lo + _F32(b + 2) * delta
            inside = np.flatnonzero((mel > left) & (mel < right))
            if inside.size == 0:
                raise ParameterError(
                    f"num_mel_bins={num_bins} is too many for this frame: mel filter {b} "
                    f"covers no FFT bin (use fewer bins, a longer frame_length or a wider band)")
            lo, hi = int(inside[0]), int(inside[-1]) + 1
            m = mel[lo:hi]
            w = np.where(m <= centre, (m - left) / (centre - left),
                         (right - m) / (right - centre)).astype(_F32)
            first.append(lo)
            length.append(hi - lo)
            weights.append(w)
    return np.array(first), np.array(length), np.concatenate(weights)


def _kaldi_dct(num_ceps: int, num_bins: int) -> _F32s:
    """Kaldi's DCT matrix (num_ceps, num_bins), float32."""
    n = np.arange(num_bins, dtype=np.float64)
    k = np.arange(num_ceps, dtype=np.float64)[:, None]
    d = float(_F32(math.sqrt(2.0 / num_bins))) * np.cos(math.pi / num_bins * (n + 0.5) * k)
    d[0] = float(_F32(math.sqrt(1.0 / num_bins)))
    return d.astype(_F32)


def _kaldi_lifter(num_ceps: int, q: float) -> _F32s:
    q = float(_F32(q))
    i = np.arange(num_ceps, dtype=np.float64)
    return (1.0 + 0.5 * q * np.sin(math.pi * i / q)).astype(_F32)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _count(value: int, name: str, lo: int, hi: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or not lo <= value <= hi:
        raise ParameterError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")
    return int(value)


def _number(value: float, name: str, lo: float = -math.inf, hi: float = math.inf,
            what: str | None = None) -> float:
    value = _checks.finite_number(value, name)
    if not lo <= value <= hi:
        raise ParameterError(f"{name} must be {what or f'in [{lo}, {hi}]'}, got {value!r}")
    return value


class _Kaldi(_Configured):
    """What Kaldi's fbank and MFCC share: framing, per-frame processing, mel
    filters, the kernel, offline calls and streams."""

    sr: _Setting[float] = _Setting("Sampling rate of the input (Hz).")
    frame_length: _Setting[float] = _Setting("Frame length in milliseconds.")
    frame_shift: _Setting[float] = _Setting("Frame shift in milliseconds.")
    window_type: _Setting[str] = _Setting("Kaldi's window name.")
    blackman_coeff: _Setting[float] = _Setting("The Blackman window's coefficient.")
    snip_edges: _Setting[bool] = _Setting(
        "Whether frames lie wholly inside the signal (else they are "
        "centred on multiples of the shift, reflected at the ends).")
    dither: _Setting[float] = _Setting(
        "Standard deviation of the Gaussian noise added to each frame.")
    rng: _Setting[_Seed] = _Setting("Seed or numpy Generator the dither draws from.")
    preemph_coeff: _Setting[float] = _Setting("Pre-emphasis coefficient.")
    remove_dc_offset: _Setting[bool] = _Setting("Whether each frame's mean is removed.")
    round_to_power_of_two: _Setting[bool] = _Setting(
        "Whether the FFT size is the frame length rounded up to a power of two.")
    num_mel_bins: _Setting[int] = _Setting("Number of triangular mel filters.")
    low_freq: _Setting[float] = _Setting("Lower edge of the mel filters (Hz).")
    high_freq: _Setting[float] = _Setting("Upper edge (Hz); <= 0 means Nyquist + high_freq.")
    use_energy: _Setting[bool] = _Setting("Whether row 0 is the log energy.")
    raw_energy: _Setting[bool] = _Setting(
        "Whether the energy is taken before pre-emphasis and window.")
    energy_floor: _Setting[float] = _Setting("Floor of the energy (0: none).")
    dtype: _Setting[np.dtype[Any]] = _Setting(
        "Working precision, a np.dtype (float32 or float64).")

    _kernel: KaldiKernel

    @property
    def kernel(self) -> KaldiKernel:
        """The compiled per-frame computation."""
        return self._kernel

    @property
    def n_out(self) -> int:
        """Values per frame."""
        return self._kernel.n_out

    @property
    def n_fft(self) -> int:
        """FFT size (samples)."""
        return self._kernel.n_fft

    @property
    def samples_per_frame(self) -> int:
        """Frame length in samples (Kaldi's WindowSize)."""
        return self._kernel.frame_length

    @property
    def samples_per_shift(self) -> int:
        """Frame shift in samples (Kaldi's WindowShift)."""
        return self._kernel.frame_shift

    def _common(self, c: dict[str, Any], *, use_power: bool, use_log: bool, num_ceps: int,
                lifter: float) -> dict[str, Any]:
        sr = _number(c["sr"], "sr", 1.0, 1e7, "a sampling rate in [1, 1e7] Hz")
        frame_length = _number(c["frame_length"], "frame_length", 0.0, math.inf,
                               "a positive length in ms")
        frame_shift = _number(c["frame_shift"], "frame_shift", 0.0, math.inf,
                              "a positive shift in ms")
        L = _kaldi_samples(sr, frame_length) if frame_length * sr <= 1e12 else math.inf
        shift = _kaldi_samples(sr, frame_shift) if frame_shift * sr <= 1e12 else math.inf
        if not 2 <= L <= _KALDI_MAX_FRAME:
            raise ParameterError(
                f"frame_length={c['frame_length']!r} ms at sr={c['sr']!r} is {L} samples; "
                f"a frame must have 2 to {_KALDI_MAX_FRAME} samples")
        if not 1 <= shift <= _KALDI_MAX_FRAME:
            raise ParameterError(
                f"frame_shift={c['frame_shift']!r} ms at sr={c['sr']!r} is {shift} samples; "
                f"the shift must be 1 to {_KALDI_MAX_FRAME} samples")
        L, shift = int(L), int(shift)  # in range, so not inf: whole numbers already
        snip_edges = _flag(c["snip_edges"], "snip_edges")
        if not snip_edges and shift > L:
            raise ParameterError(
                f"frame_shift ({shift} samples) longer than frame_length ({L} samples) with "
                f"snip_edges=False leaves gaps Kaldi cannot frame at the end of a signal; use "
                f"snip_edges=True or a shift no longer than the frame")
        window_type = c["window_type"]
        if not isinstance(window_type, str) or window_type not in _KALDI_WINDOWS:
            raise ParameterError(f"window_type must be one of {_KALDI_WINDOWS}, "
                                 f"got {window_type!r}")
        blackman_coeff = _number(c["blackman_coeff"], "blackman_coeff", -1e3, 1e3)
        round_pow2 = _flag(c["round_to_power_of_two"], "round_to_power_of_two")
        n_fft = 1 << (L - 1).bit_length() if round_pow2 else L
        if n_fft % 2:
            raise ParameterError(
                f"round_to_power_of_two=False needs an even frame length for Kaldi's mel "
                f"filters, got {L} samples (frame_length={c['frame_length']!r} ms at "
                f"sr={c['sr']!r})")
        dither = _number(c["dither"], "dither", 0.0, math.inf, "a non-negative number")
        rng = c["rng"]
        if not (rng is None or isinstance(rng, np.random.Generator) or (
                isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_))
                and int(rng) >= 0)):
            raise TypeError(f"rng must be None, a non-negative int seed or a "
                            f"numpy.random.Generator, got {rng!r}")
        preemph = _number(c["preemph_coeff"], "preemph_coeff", 0.0, 1.0)
        remove_dc = _flag(c["remove_dc_offset"], "remove_dc_offset")
        num_bins = _count(c["num_mel_bins"], "num_mel_bins", 3, 4096)
        # (Kaldi keeps these in float32: beyond its range they are not numbers it can use)
        low_freq = _number(c["low_freq"], "low_freq", -1e9, 1e9)
        high_freq = _number(c["high_freq"], "high_freq", -1e9, 1e9)
        use_energy = _flag(c["use_energy"], "use_energy")
        raw_energy = _flag(c["raw_energy"], "raw_energy")
        energy_floor = _number(c["energy_floor"], "energy_floor", 0.0, 1e30,
                               "a number in [0, 1e30] (0: no floor)")
        try:
            dtype = np.dtype(c["dtype"]) if c["dtype"] is not None else None
        except TypeError:
            dtype = None
        if dtype not in (np.float32, np.float64):
            raise ParameterError(f"dtype must be float32 or float64, got {c['dtype']!r}")
        first, length, weights = _kaldi_mel_banks(num_bins, sr, n_fft, low_freq, high_freq)
        dct = lift = None
        if num_ceps:
            if num_ceps > num_bins:
                raise ParameterError(f"num_ceps={num_ceps} must be at most num_mel_bins="
                                     f"{num_bins}")
            dct = _kaldi_dct(num_ceps, num_bins)
            lift = _kaldi_lifter(num_ceps, lifter) if lifter != 0 else np.ones(num_ceps, _F32)
        window = _kaldi_window(window_type, L, blackman_coeff)
        is_double = dtype == np.float64
        # |sample| bound for which no sum can overflow: after dither and DC
        # removal |x| <= 2A, pre-emphasis adds a factor 1 + c, the window at
        # most max|w|, and the FFT at most L; a filter sums at most `row` of that
        big = np.finfo(dtype).max / 4
        row = max(1.0, float(np.max(np.add.reduceat(weights.astype(np.float64),
                                                    np.r_[0, np.cumsum(length)[:-1]]))))
        gain = 2 * (1 + preemph) * max(1.0, float(np.max(np.abs(window)))) * n_fft
        limit = math.sqrt(big / row) / gain
        if dither * 32 >= limit:
            raise ParameterError(f"dither={dither!r} is too large to be added without "
                                 f"overflowing {dtype}; at most {limit / 32:.3g}")
        log_floor = -math.inf
        if use_energy and energy_floor > 0:
            log_floor = float(np.log(_F32(energy_floor))) if not is_double \
                else math.log(energy_floor)
        self._kernel = KaldiKernel(
            is_double=is_double, frame_length=L, frame_shift=shift, n_fft=n_fft,
            snip_edges=snip_edges, window=window, mel_lo=first, mel_len=length, mel_w=weights,
            preemph=float(_F32(preemph)), remove_dc=remove_dc, dither=dither,
            energy=(0 if not use_energy else 1 if raw_energy else 2), log_floor=log_floor,
            use_power=use_power, use_log=use_log, dct=dct, lifter=lift,
            plan=get_plan(n_fft, is_double), max_amplitude=limit - 16 * dither)
        return dict(sr=c["sr"], frame_length=c["frame_length"], frame_shift=c["frame_shift"],
                    window_type=window_type, blackman_coeff=c["blackman_coeff"],
                    snip_edges=snip_edges, dither=c["dither"], rng=rng,
                    preemph_coeff=c["preemph_coeff"], remove_dc_offset=remove_dc,
                    round_to_power_of_two=round_pow2, num_mel_bins=num_bins,
                    low_freq=c["low_freq"], high_freq=c["high_freq"], use_energy=use_energy,
                    raw_energy=raw_energy, energy_floor=c["energy_floor"])

    def _generator(self) -> np.random.Generator:
        """The Generator one call (or one stream) dithers with."""
        rng = self._settings["rng"]
        return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)

    def __call__(self, y: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """Kaldi's features of every frame of ``y``.

        Parameters
        ----------
        y : np.ndarray [shape=(..., n)], real floating point
            Audio at ``sr``, in whatever scale the model expects (Kaldi
            recipes use int16's scale, -32768..32767, as floats; many
            k2/sherpa models take [-1, 1]).  Leading axes (channels, batch)
            are carried through.

        Returns
        -------
        features : np.ndarray [shape=(..., n_out, n_frames), dtype=self.dtype]
            ``.T`` (for one channel) is Kaldi's (frames, features) layout.
            ``n_frames`` is Kaldi's: ``1 + (n - L) // shift`` (0 if n < L)
            with ``snip_edges``, else ``(n + shift // 2) // shift``.

        Raises
        ------
        ParameterError
            Non-finite samples, samples too large to analyse without
            overflow, soundfile's ``(frames, channels)`` layout.
        TypeError
            Integer or complex audio.
        """
        y = _checks.real_float(y, "y")
        if y.ndim == 0:
            raise ParameterError("y must have at least one dimension (time last), got a scalar")
        _checks.check_layout(y.shape, self._kernel.frame_length, "y")
        y = _checks.bounded_float(y, self._kernel.max_amplitude, "y", self.dtype)
        lead = y.shape[:-1]
        x = np.ascontiguousarray(y.reshape(math.prod(lead), y.shape[-1]))
        rng = self._generator() if self._kernel.dither != 0 else None
        out = _kaldi_offline(self._kernel, x, rng)
        return out.reshape(lead + out.shape[1:])

    def stream(self) -> KaldiStream:
        """A stream of these features: ``process(chunk)`` returns the frames
        kaldi-native-fbank's online extractor has ready after the same samples
        (``num_frames_ready`` after ``accept_waveform``), ``flush()`` those it
        adds at ``input_finished`` (with ``snip_edges=False``, the frames that
        reach past the end); all of them together are ``self(y)`` bit for
        bit, however the signal is cut.  With dither, a stream draws from a
        new Generator seeded as ``rng`` (or from ``rng`` itself if it is a
        Generator), as one offline call does.

        ``latency`` is ``L - 1 - L // 2`` samples: a frame is returned once
        its last sample is in, that many samples after its centre (``t *
        shift + L // 2`` with ``snip_edges``, ``t * shift + shift // 2``
        without).

        Returns
        -------
        fastmel.Stream
            Chunks (..., k) in, frames (..., n_out, j) out.
        """
        return KaldiStream(self, self._kernel, self._generator)


_KALDI_PARAMETERS: str = """    sr : number > 0
        Sampling rate (Hz) of the audio (Kaldi's ``samp_freq``).
    frame_length, frame_shift : number > 0
        Frame length and shift in milliseconds; in samples Kaldi's
        ``int(sr * 0.001 * ms)`` in float32 (400 and 160 at 16 kHz).
    window_type : {"povey", "hamming", "hanning", "hann", "sine", "rectangular", "blackman"}
        Kaldi's windows ("hann" is the periodic Hann, "hanning" the symmetric).
    blackman_coeff : number
        The Blackman window's coefficient.
    snip_edges : bool
        True: frames lie wholly inside the signal.  False: frame t is centred
        at ``t * shift + shift // 2``, the signal reflected at its ends.
    dither : number >= 0
        Gaussian noise of this standard deviation is added to every sample of
        every frame.  0 (the default here; kaldi-native-fbank's default is
        3e-5, its equivalent of Kaldi's 1.0 on int16-scaled audio) makes the
        features deterministic.
    rng : None, int or numpy.random.Generator
        Where dither's noise comes from: a seed (each call and each stream
        starts a new ``np.random.default_rng(rng)``, so they agree), a
        Generator (shared, advancing), or None (fresh entropy each call).
    preemph_coeff : number in [0, 1]
        Pre-emphasis coefficient.
    remove_dc_offset : bool
        Subtract each frame's mean first.
    round_to_power_of_two : bool
        FFT size: the frame length rounded up to a power of two (else the
        frame length itself, which must then be even).
    num_mel_bins : int >= 3
        Triangular filters, equally spaced on Kaldi's mel scale
        (``1127 * ln(1 + f / 700)``) between ``low_freq`` and ``high_freq``.
    low_freq, high_freq : number
        The filters' band in Hz; ``high_freq <= 0`` means Nyquist + high_freq."""

_KALDI_COMMON_TAIL: str = """    raw_energy : bool
        Take the energy before pre-emphasis and window (else after).
    energy_floor : number >= 0
        Floor of the energy before its log (0: none beyond FLT_EPSILON).
    dtype : {np.float32, np.float64}
        Working precision and output type.  float32 is Kaldi's precision."""


class KaldiFbank(_Kaldi):
    __doc__ = f"""Kaldi's log mel filterbank features: ``fe(y)`` offline, ``fe.stream()``.

    Equal to kaldi-native-fbank 1.23's ``OnlineFbank`` (and Kaldi's
    ``compute-fbank``) for the same options: the frames it computes, each
    frame's arithmetic in the same steps and precision; only rounding
    differs (kaldi-native-fbank has its own FFT, fastmel uses FFTW, and sums
    a frame's samples in another order), so filter energies agree within
    2e-5 of the frame's largest and the log energy within ``2 * L * eps32``
    (see the README's front-ends section).  The
    defaults are kaldi-native-fbank's ``FbankOptions()`` except ``dither``
    (0 here).  The output layout is fastmel's, (..., features, frames):
    ``fe(y).T`` is Kaldi's (frames, features) for one channel.

    Parameters
    ----------
{_KALDI_PARAMETERS}
    use_energy : bool
        Add the log energy as row 0 (``num_mel_bins + 1`` rows).
{_KALDI_COMMON_TAIL}
    use_log_fbank : bool
        Natural log of the filter energies, floored at FLT_EPSILON (else the
        energies themselves).
    use_power : bool
        Filter the power spectrum (else the magnitude).

    Attributes
    ----------
    n_out, n_fft, samples_per_frame, samples_per_shift : int
        Rows per frame, FFT size, and the frame's length and shift in samples
        (Kaldi's WindowSize and WindowShift).  The parameters are attributes
        too, read-only; the repr shows them and builds the same extractor.

    Raises
    ------
    ParameterError
        A parameter out of range (the message says which and what is
        allowed), including a band outside [0, Nyquist] and more filters
        than the FFT has bins for.
    TypeError
        A flag that is not a bool, an ``rng`` that is not a seed or Generator.

    Examples
    --------
    >>> fe = fastmel.frontends.KaldiFbank(num_mel_bins=80)
    >>> fe(np.zeros(16000, dtype=np.float32)).shape
    (80, 98)
    """

    num_mel_bins = _Kaldi.num_mel_bins
    use_log_fbank: _Setting[bool] = _Setting("Whether the filter energies are logged.")
    use_power: _Setting[bool] = _Setting(
        "Whether the power (else magnitude) spectrum is filtered.")

    def __init__(self, *, sr: float = 16000, frame_length: float = 25.0,
                 frame_shift: float = 10.0, window_type: str = "povey",
                 blackman_coeff: float = 0.42, snip_edges: bool = True, dither: float = 0.0,
                 rng: _Seed = None, preemph_coeff: float = 0.97, remove_dc_offset: bool = True,
                 round_to_power_of_two: bool = True, num_mel_bins: int = 23,
                 low_freq: float = 20.0, high_freq: float = 0.0, use_energy: bool = False,
                 raw_energy: bool = True, energy_floor: float = 0.0, use_log_fbank: bool = True,
                 use_power: bool = True, dtype: npt.DTypeLike = np.float32) -> None:
        self._config = dict(
            sr=sr, frame_length=frame_length, frame_shift=frame_shift, window_type=window_type,
            blackman_coeff=blackman_coeff, snip_edges=snip_edges, dither=dither, rng=rng,
            preemph_coeff=preemph_coeff, remove_dc_offset=remove_dc_offset,
            round_to_power_of_two=round_to_power_of_two, num_mel_bins=num_mel_bins,
            low_freq=low_freq, high_freq=high_freq, use_energy=use_energy,
            raw_energy=raw_energy, energy_floor=energy_floor, use_log_fbank=use_log_fbank,
            use_power=use_power, dtype=dtype)
        self._build()

    def _build(self) -> None:
        c = self._config
        use_log = _flag(c["use_log_fbank"], "use_log_fbank")
        use_power = _flag(c["use_power"], "use_power")
        settings = self._common(c, use_power=use_power, use_log=use_log, num_ceps=0, lifter=0)
        settings.update(use_log_fbank=use_log, use_power=use_power,
                        dtype=np.dtype(c["dtype"]))
        self._settings = settings


class KaldiMFCC(_Kaldi):
    __doc__ = f"""Kaldi's MFCC features: ``fe(y)`` offline, ``fe.stream()``.

    Equal to kaldi-native-fbank 1.23's ``OnlineMfcc`` (and Kaldi's
    ``compute-mfcc-feats``) for the same options, as :class:`KaldiFbank`
    is to its fbank: Kaldi's filterbank (power spectrum, natural log), its
    orthonormal DCT-II rows ``0 .. num_ceps - 1``, the sine lifter, and with
    ``use_energy`` the log energy in place of C0.  Defaults are
    kaldi-native-fbank's ``MfccOptions()`` except ``dither`` (0 here).
    ``fe(y).T`` is Kaldi's (frames, coefficients) layout for one channel.

    Parameters
    ----------
    num_ceps : int
        Coefficients per frame, at most ``num_mel_bins``.
    cepstral_lifter : number
        Kaldi's lifter ``1 + Q / 2 * sin(pi * i / Q)``; 0 for none.
{_KALDI_PARAMETERS}
    use_energy : bool
        Row 0 is the log energy instead of C0.
{_KALDI_COMMON_TAIL}

    Raises
    ------
    ParameterError, TypeError
        As :class:`KaldiFbank`; also ``num_ceps`` above ``num_mel_bins``.

    Examples
    --------
    >>> fe = fastmel.frontends.KaldiMFCC()
    >>> fe(np.zeros(16000, dtype=np.float32)).shape
    (13, 98)
    """

    num_ceps: _Setting[int] = _Setting("Cepstral coefficients per frame.")
    cepstral_lifter: _Setting[float] = _Setting("Kaldi's lifter coefficient Q (0: none).")

    def __init__(self, *, num_ceps: int = 13, cepstral_lifter: float = 22.0, sr: float = 16000,
                 frame_length: float = 25.0, frame_shift: float = 10.0,
                 window_type: str = "povey", blackman_coeff: float = 0.42,
                 snip_edges: bool = True, dither: float = 0.0, rng: _Seed = None,
                 preemph_coeff: float = 0.97, remove_dc_offset: bool = True,
                 round_to_power_of_two: bool = True, num_mel_bins: int = 23,
                 low_freq: float = 20.0, high_freq: float = 0.0, use_energy: bool = True,
                 raw_energy: bool = True, energy_floor: float = 0.0,
                 dtype: npt.DTypeLike = np.float32) -> None:
        self._config = dict(
            num_ceps=num_ceps, cepstral_lifter=cepstral_lifter, sr=sr,
            frame_length=frame_length, frame_shift=frame_shift, window_type=window_type,
            blackman_coeff=blackman_coeff, snip_edges=snip_edges, dither=dither, rng=rng,
            preemph_coeff=preemph_coeff, remove_dc_offset=remove_dc_offset,
            round_to_power_of_two=round_to_power_of_two, num_mel_bins=num_mel_bins,
            low_freq=low_freq, high_freq=high_freq, use_energy=use_energy,
            raw_energy=raw_energy, energy_floor=energy_floor, dtype=dtype)
        self._build()

    def _build(self) -> None:
        c = self._config
        num_ceps = _count(c["num_ceps"], "num_ceps", 1, 4096)
        # the lifter scales coefficient i by up to 1 + |Q| / 2
        lifter = _number(c["cepstral_lifter"], "cepstral_lifter", -1e4, 1e4)
        settings = dict(num_ceps=num_ceps, cepstral_lifter=c["cepstral_lifter"])
        settings.update(self._common(c, use_power=True, use_log=True, num_ceps=num_ceps,
                                     lifter=lifter))
        settings["dtype"] = np.dtype(c["dtype"])
        self._settings = settings


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
