"""Front-end presets: the features a known model or toolkit expects, computed by fastmel.

Each preset is an extractor configured for one model family: ``fe(y)``
computes its features offline, equal to that model's own front-end.

* :class:`WhisperLogMel`: OpenAI Whisper's log-mel spectrogram (80 or 128
  mels), as ``transformers.WhisperFeatureExtractor`` and ``whisper.log_mel_spectrogram``
  compute it.
"""
import numpy as np

from fastmel import _checks
from fastmel.exceptions import ParameterError
from fastmel.extractors import MelSpectrogram, _Configured, _Setting
from fastmel.spectrum import floor_top_db

__all__ = ["WhisperLogMel"]


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
