"""Front-end presets: the features a known model or toolkit expects, computed by fastmel.

Each preset is an extractor configured for one model family: ``fe(y)``
computes its features offline, equal to that model's own front-end.

* :class:`WhisperLogMel`: OpenAI Whisper's log-mel spectrogram (80 or 128
  mels), as ``transformers.WhisperFeatureExtractor`` and ``whisper.log_mel_spectrogram``
  compute it.
* :class:`TorchaudioMelSpectrogram`, :class:`TorchaudioMFCC`: torchaudio's
  ``transforms.MelSpectrogram`` and ``transforms.MFCC`` (its defaults and
  parameter names).
"""
import numbers

import numpy as np

from fastmel import _checks
from fastmel._analysis import OUT_MEL, OUT_MEL_DB, OUT_MFCC, analyze
from fastmel._spectral import floor_below_max
from fastmel.cepstral import cepstrum, dct_matrix
from fastmel.exceptions import ParameterError
from fastmel.extractors import MelSpectrogram, _Configured, _Extractor, _Setting
from fastmel.filters import MAX_N_FFT, MAX_N_MELS, mel_params, mel_rows
from fastmel.spectrum import _check_db_params, floor_top_db

__all__ = ["WhisperLogMel", "TorchaudioMelSpectrogram", "TorchaudioMFCC"]


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
        float64; when called, what :class:`MelSpectrogram` refuses (non-finite
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
    SAMPLE_RATE = 16000
    #: Samples in Whisper's 30 s window (``pad_or_trim``).
    N_SAMPLES = 30 * SAMPLE_RATE
    N_FFT = 400
    HOP_LENGTH = 160

    n_mels = _Setting("Number of mel bands (80 or 128).")
    pad_or_trim = _Setting("Whether the clip is cut or zero-padded to 30 s first.")
    dtype = _Setting("Working precision, a np.dtype (float32 or float64).")
    melspec = property(lambda self: self._melspec,
                       doc="The unfloored dB mel spectrogram the features come from.")

    def __init__(self, *, n_mels=80, pad_or_trim=True, dtype=np.float32):
        self._config = dict(n_mels=n_mels, pad_or_trim=pad_or_trim, dtype=dtype)
        self._build()

    def _build(self):
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

    def __call__(self, y):
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

    def _pad_or_trim(self, y):
        n = y.shape[-1]
        if n >= self.N_SAMPLES:
            # the part cut off is audio too: NaN or inf there is bad input all the same
            if n > self.N_SAMPLES:
                _checks.audio(y[..., self.N_SAMPLES:], "y")
            return y[..., :self.N_SAMPLES]
        padded = np.zeros(y.shape[:-1] + (self.N_SAMPLES,), dtype=y.dtype)
        padded[..., :n] = y
        return padded

    def stream(self):
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
_TORCH_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}

#: torchaudio options the presets accept at torchaudio's default only (so that
#: a full torchaudio configuration can be passed as it is), with that default.
_TORCHAUDIO_DEFAULT_ONLY = {"pad": (0,), "normalized": (False,), "wkwargs": (None,),
                            "onesided": (None, True)}
#: torchaudio options the presets do not take at all, and why.
_TORCHAUDIO_REFUSED = {
    "window_fn": "the presets use torchaudio's default window, torch.hann_window "
                 "(periodic); leave window_fn out",
}


def _refuse_torchaudio_options(options, what):
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

    sample_rate = _Setting("Sampling rate (Hz).")
    f_min = _Setting("Lowest mel frequency (Hz).")
    f_max = _Setting("Highest mel frequency (Hz; ``sample_rate // 2`` when it was None).")
    n_mels = _Setting("Number of mel bands.")
    power = _Setting("Exponent of the magnitude.")
    norm = _Setting("Mel filter normalisation (None or 'slaney').")
    mel_scale = _Setting("Mel scale ('htk' or 'slaney').")
    window = property(lambda self: "hann", doc="The window: torchaudio's periodic Hann.")

    def __init__(self, *, sample_rate=16000, n_fft=400, win_length=None, hop_length=None,
                 f_min=0.0, f_max=None, n_mels=128, power=2.0, center=True, pad_mode="reflect",
                 norm=None, mel_scale="htk", dtype=np.float32, **torchaudio_options):
        _refuse_torchaudio_options(torchaudio_options, type(self).__name__)
        self._config = dict(
            sample_rate=sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length,
            f_min=f_min, f_max=f_max, n_mels=n_mels, power=power, center=center,
            pad_mode=pad_mode, norm=norm, mel_scale=mel_scale, dtype=dtype)
        self._build()

    def _build(self):
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

    def __call__(self, y):
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

    def _run(self, y):
        return self._analyze(y)


def _plain_number(value):
    """``value`` (a checked real number) as a Python int when it is integral, else float."""
    return int(value) if isinstance(value, numbers.Integral) else float(value)


class _CopiedSetting(_Setting):
    """A read-only setting holding a dict: each read gets a copy, which the
    caller may change without changing the setting."""

    def __get__(self, obj, objtype=None):
        return self if obj is None else dict(obj._settings[self.name])


def _from_melspec(name):
    return property(lambda self: getattr(self._melspec, name),
                    doc=f"``melspec.{name}``: the mel spectrogram's setting.")


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
    LOG_OFFSET = 1e-6
    #: torchaudio's dB floor of the power (``AmplitudeToDB``'s ``amin``).
    AMIN = 1e-10

    sample_rate = _Setting("Sampling rate (Hz).")
    n_mfcc = _Setting("Number of coefficients.")
    dct_type = _Setting("DCT type (2).")
    norm = _Setting("DCT normalisation.")
    log_mels = _Setting("Whether log(mel + 1e-6) is used instead of dB.")
    melkwargs = _CopiedSetting("The mel spectrogram's parameters given, as resolved (a copy).")
    top_db = _Setting("dB floor below the maximum, or None.")
    melspec = property(lambda self: self._melspec,
                       doc="The mel spectrogram the coefficients are computed from.")
    n_fft = _from_melspec("n_fft")
    hop_length = _from_melspec("hop_length")
    win_length = _from_melspec("win_length")
    window = _from_melspec("window")
    center = _from_melspec("center")
    pad_mode = _from_melspec("pad_mode")

    def __init__(self, *, sample_rate=16000, n_mfcc=40, dct_type=2, norm="ortho",
                 log_mels=False, melkwargs=None, top_db=80.0, dtype=np.float32):
        if isinstance(melkwargs, dict):
            melkwargs = dict(melkwargs)  # the caller's dict may change later; this must not
        self._config = dict(sample_rate=sample_rate, n_mfcc=n_mfcc, dct_type=dct_type, norm=norm,
                            log_mels=log_mels, melkwargs=melkwargs, top_db=top_db, dtype=dtype)
        self._build()

    def _build(self):
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

    def __call__(self, y):
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

    def _run(self, y):
        if self.kernel is not None:
            return self._analyze(y)
        if self.log_mels:
            return self._log_mel_cepstrum(self._melspec._run(y))
        y = _checks.bounded_float(y, self._db_kernel.max_amplitude, dtype=self.dtype)
        S = analyze(self._db_kernel, self.framing, y)
        if S.size:
            # torchaudio's AmplitudeToDB floors each item of the leading axes
            # but the last (the channels) at the maximum over its channels,
            # mels and frames.
            group = S.size if S.ndim <= 3 else S.shape[-3] * S.shape[-2] * S.shape[-1]
            floor_below_max(S, self.top_db, group)
        return cepstrum(S, self._dct, 0)

    def _log_mel_cepstrum(self, S):
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

    def _new_stream(self):
        if self.log_mels:
            return _LogMelMFCCStream(self)
        return super()._new_stream()

    def _check_streamable(self):
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

    def __init__(self, extractor):
        self.extractor = extractor
        self._mel = extractor.melspec.stream()

    latency = property(lambda self: self._mel.latency,
                       doc="Samples after a frame's centre needed to emit it.")

    def process(self, chunk):
        """The coefficients of the frames ``chunk`` [shape=(..., k)] completes:
        [shape=(..., n_mfcc, j)]."""
        return self.extractor._log_mel_cepstrum(self._mel.process(chunk))

    def flush(self):
        """The coefficients of the frames still owed at the end of the signal."""
        return self.extractor._log_mel_cepstrum(self._mel.flush())

    def reset(self):
        """Back to the state of a new stream."""
        self._mel.reset()

    def __repr__(self):
        return f"<{self.extractor!r}.stream() over {self._mel!r}>"
