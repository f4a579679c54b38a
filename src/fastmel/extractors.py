"""Reusable extractors: configured and planned once, called many times.

``MelSpectrogram`` and ``MFCC`` hold an immutable spectral kernel (window,
sparse mel filters, FFTW plan); every call brings its own scratch buffers, so
one object serves many threads at once.  Pickling keeps the configuration
only; the kernel is rebuilt on load.
"""
import functools

import numpy as np

from fastmel import _checks
from fastmel._analysis import OUT_COMPLEX, OUT_MEL, OUT_MEL_DB, OUT_MFCC, Framing, analyze
from fastmel._stream import FrameStream
from fastmel.cepstral import cepstrum, check_mfcc_params, dct_matrix, lifted_dct_matrix
from fastmel.exceptions import ParameterError
from fastmel.filters import mel_rows
from fastmel.spectrum import _check_db_params, floor_top_db, power_to_db

__all__ = ["STFT", "MelSpectrogram", "MFCC"]


def _working_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "c":  # the complex type of an STFT names its precision
        dtype = np.dtype(dtype.char.lower())
    if dtype not in (np.float32, np.float64):
        raise ParameterError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _mel_kernel(framing, dtype, power, mel_args, mode, amin, db_offset, cep_args):
    # librosa builds the filters in float32 whatever the audio's precision;
    # the float64 path uses those same (widened) weights to stay equal to it.
    packed = mel_rows(n_fft=framing.n_fft, dtype=np.float32, **dict(mel_args))
    n_mels = packed[0].shape[0]
    dct = None
    if cep_args is not None:
        n_mfcc, dct_type, norm, lifter = cep_args
        dct = lifted_dct_matrix(min(n_mfcc, n_mels), n_mels, dct_type, norm, lifter)
    return framing.kernel(dtype, mode, power=power, mel_rows=packed, amin=amin,
                          db_offset=db_offset, dct=dct)


_cached_mel_kernel = functools.lru_cache(maxsize=64)(_mel_kernel)


def mel_kernel(framing, dtype, power, mel_args, mode, amin=1e-10, db_offset=0.0, cep_args=None):
    """The spectral kernel for a mel configuration, shared between equal configurations."""
    args = (framing, dtype, power, mel_args, mode, amin, db_offset, cep_args)
    try:
        return _cached_mel_kernel(*args)
    except TypeError:  # an unhashable window (array or function): build it for this caller
        return _mel_kernel(*args)


class _Extractor:
    """Configuration kept for pickling and repr; streams made from the same kernel."""

    def __getstate__(self):
        return dict(self._config)

    def __setstate__(self, state):
        self._config = dict(state)
        self._build()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"

    def stream(self):
        """A new streaming computation of these features.

        Returns
        -------
        stream
            ``process(chunk)`` returns the frames each chunk completes,
            ``flush()`` the rest; concatenated they equal ``self(y)`` bit for
            bit, however ``y`` is cut.  ``reset()`` starts over; ``latency``
            gives the samples after a frame's centre needed to emit it.

        Raises
        ------
        ParameterError
            The configuration needs the whole signal (see the class docs).
        """
        self._check_streamable()
        return self._new_stream()

    def _check_streamable(self):
        pass

    def _set_framing(self, c):
        self.dtype = _working_dtype(c["dtype"])
        self.framing = Framing.make(c["n_fft"], c["hop_length"], c["win_length"], c["window"],
                                    c["center"], c["pad_mode"])

    def _new_stream(self):
        return FrameStream(self, self.kernel, self.framing)


class STFT(_Extractor):
    """A short-time Fourier transform, planned once; ``s(y)`` equals ``fastmel.stft``.

    Parameters
    ----------
    n_fft, hop_length, win_length, window, center, pad_mode
        As in :func:`fastmel.stft`.
    dtype : {np.float32, np.float64}
        Working precision (complex64 or complex128 output); input is converted to it.
    """

    def __init__(self, *, n_fft=2048, hop_length=None, win_length=None, window="hann",
                 center=True, pad_mode="constant", dtype=np.float32):
        self._config = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                            window=window, center=center, pad_mode=pad_mode, dtype=dtype)
        self._build()

    def _build(self):
        c = self._config
        self._set_framing(c)
        self.kernel = self.framing.kernel(self.dtype, OUT_COMPLEX)

    def __call__(self, y):
        """STFT of ``y`` [shape=(..., n)]: [shape=(..., 1 + n_fft // 2, n_frames)], complex."""
        y = _checks.bounded_audio(y, self.kernel.max_amplitude, dtype=self.dtype)
        return analyze(self.kernel, self.framing, y)


class MelSpectrogram(_Extractor):
    """A mel spectrogram extractor (optionally in dB), planned once.

    ``m(y)`` equals ``librosa.feature.melspectrogram`` with the same
    parameters, followed by ``librosa.power_to_db(ref=ref, amin=amin,
    top_db=top_db)`` when ``to_db`` is True.

    Parameters
    ----------
    sr, n_fft, hop_length, win_length, window, center, pad_mode, power
        As in :func:`fastmel.feature.melspectrogram`.
    n_mels, fmin, fmax, htk, norm
        As in :func:`fastmel.filters.mel`.
    to_db : bool
        Return ``10 * log10(max(amin, S) / max(amin, ref))``.
    ref : float or callable
        dB reference (a callable gets the whole spectrogram, e.g. ``np.max``).
    amin : float > 0
    top_db : float >= 0 or None
        Floor at ``max - top_db`` (per channel).
    dtype : {np.float32, np.float64}
        Working precision; input audio is converted to it.

    Raises
    ------
    ParameterError
        A parameter outside its range (``n_fft <= 2**24``, ``hop_length <= 2**48``,
        ``n_mels <= 2**16``, a checked window, ``amin`` not zero in ``dtype``), and,
        when called, samples that are not finite or beyond ``kernel.max_amplitude``
        (where the power could overflow), input in soundfile's ``(frames, channels)``
        layout, or an output larger than this machine's memory.

    Examples
    --------
    >>> m = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160,
    ...                            n_mels=80, to_db=True, top_db=80.0)
    >>> m(np.zeros(16000, dtype=np.float32)).shape
    (80, 101)
    """

    def __init__(self, *, sr=22050, n_fft=2048, hop_length=512, win_length=None, window="hann",
                 center=True, pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=None,
                 htk=False, norm="slaney", to_db=False, ref=1.0, amin=1e-10, top_db=None,
                 dtype=np.float32):
        self._config = dict(
            sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
            center=center, pad_mode=pad_mode, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax,
            htk=htk, norm=norm, to_db=to_db, ref=ref, amin=amin, top_db=top_db, dtype=dtype)
        self._build()

    def _build(self):
        c = self._config
        self._set_framing(c)
        self.power = _checks.positive_number(c["power"], "power")
        self.mel_args = (("sr", c["sr"]), ("n_mels", c["n_mels"]), ("fmin", c["fmin"]),
                         ("fmax", c["fmax"]), ("htk", bool(c["htk"])), ("norm", c["norm"]))
        self.to_db = bool(c["to_db"])
        self.ref = c["ref"]
        self.amin, self.top_db = _check_db_params(c["amin"], c["top_db"], self.dtype)
        if self.to_db and not callable(self.ref):
            ref = _checks.finite_number(self.ref, "ref")
            self.db_offset = 10.0 * np.log10(max(self.amin, abs(ref)))
            self.kernel = mel_kernel(self.framing, self.dtype, self.power, self.mel_args,
                                     OUT_MEL_DB, self.amin, self.db_offset)
        else:
            self.kernel = mel_kernel(self.framing, self.dtype, self.power, self.mel_args, OUT_MEL)

    @property
    def n_mels(self):
        return self.kernel.n_out

    def __call__(self, y):
        """Features of ``y``.

        Parameters
        ----------
        y : np.ndarray [shape=(..., n)], real floating point

        Returns
        -------
        S : np.ndarray [shape=(..., n_mels, n_frames), dtype=self.dtype]
        """
        y = _checks.bounded_audio(y, self.kernel.max_amplitude, dtype=self.dtype)
        S = analyze(self.kernel, self.framing, y)
        if not self.to_db:
            return S
        if callable(self.ref):
            return power_to_db(S, ref=self.ref, amin=self.amin, top_db=self.top_db)
        return floor_top_db(S, self.top_db)

    def _check_streamable(self):
        if self.to_db and callable(self.ref):
            raise ParameterError(
                "a callable ref needs the whole signal, so it cannot stream; "
                "use a fixed ref (e.g. ref=1.0)")
        if self.to_db and self.top_db is not None:
            raise ParameterError(
                f"top_db={self.top_db} floors at the whole signal's maximum, so it cannot "
                f"stream; use top_db=None (or floor the streamed frames yourself)")


class MFCC(_Extractor):
    """An MFCC extractor, planned once: log-mel, ``top_db`` floor, DCT, liftering.

    ``m(y)`` equals ``librosa.feature.mfcc`` with the same parameters.  With
    ``top_db=None`` every frame is independent of the others: the whole chain
    runs in the compiled per-frame kernel, and :meth:`stream` is available.

    Parameters
    ----------
    n_mfcc : int > 0
    dct_type : {1, 2, 3}
    norm : {"ortho", None}
        DCT normalisation.
    lifter : float >= 0
        Cepstral liftering (0 for none).
    mel_norm : {"slaney", None} or number
        Mel filter normalisation (``norm`` of :class:`MelSpectrogram`).
    top_db : float >= 0 or None
        Floor of the dB mel spectrum below its (per channel) maximum; 80 like librosa.
    **kwargs
        Any other :class:`MelSpectrogram` parameter (framing, mel, ``ref``, ``amin``, ``dtype``).
    """

    def __init__(self, *, n_mfcc=20, dct_type=2, norm="ortho", lifter=0, mel_norm="slaney",
                 top_db=80.0, **kwargs):
        if "to_db" in kwargs:
            raise ParameterError("MFCC always works on dB mel spectra; to_db cannot be set")
        self._config = dict(n_mfcc=n_mfcc, dct_type=dct_type, norm=norm, lifter=lifter,
                            mel_norm=mel_norm, top_db=top_db, **kwargs)
        self._build()

    @classmethod
    def _checked(cls, *, n_mfcc, dct_type, norm, lifter, **kwargs):
        """An MFCC whose cepstral parameters the caller already passed through
        :func:`check_mfcc_params` (``n_mfcc`` and ``lifter`` as it returned them)
        and whose ``kwargs`` hold no ``to_db``: the unchecked entry behind
        ``fastmel.feature.mfcc``, which validates once at its boundary."""
        self = cls.__new__(cls)
        self._config = dict(n_mfcc=n_mfcc, dct_type=dct_type, norm=norm, lifter=lifter,
                            mel_norm=kwargs.pop("mel_norm", "slaney"),
                            top_db=kwargs.pop("top_db", 80.0), **kwargs)
        self._assemble(n_mfcc, lifter)
        return self

    def _build(self):
        c = self._config
        self._assemble(*check_mfcc_params(c["n_mfcc"], c["dct_type"], c["norm"], c["lifter"]))

    def _assemble(self, n_mfcc, lifter):
        """Build from the configuration, with n_mfcc and lifter checked."""
        c = dict(self._config)
        del c["n_mfcc"], c["lifter"]
        self.n_mfcc, self.lifter = n_mfcc, lifter
        self.dct_type = c.pop("dct_type")
        self.norm = c.pop("norm")
        self.melspec = MelSpectrogram(norm=c.pop("mel_norm"), to_db=True, **c)
        mel = self.melspec
        self.dtype = mel.dtype
        self.framing = mel.framing
        n_out = min(self.n_mfcc, mel.n_mels)
        self._dct = dct_matrix(n_out, mel.n_mels, self.dct_type, self.norm, self.dtype)
        self.kernel = None
        if mel.top_db is None and not callable(mel.ref):
            cep_args = (self.n_mfcc, self.dct_type, self.norm, self.lifter)
            self.kernel = mel_kernel(self.framing, self.dtype, mel.power, mel.mel_args, OUT_MFCC,
                                     mel.amin, mel.db_offset, cep_args)

    def __call__(self, y):
        """MFCCs of ``y`` [shape=(..., n)]: [shape=(..., n_mfcc, n_frames)]."""
        if self.kernel is not None:
            y = _checks.bounded_audio(y, self.kernel.max_amplitude, dtype=self.dtype)
            return analyze(self.kernel, self.framing, y)
        return cepstrum(self.melspec(y), self._dct, self.lifter)

    def _check_streamable(self):
        self.melspec._check_streamable()
