"""Reusable extractors: configured and planned once, called many times.

``MelSpectrogram`` and ``MFCC`` hold an immutable spectral kernel (window,
sparse mel filters, FFTW plan); every call brings its own scratch buffers, so
one object serves many threads at once.  Pickling keeps the configuration
only; the kernel is rebuilt on load.
"""
import functools
import numbers

import numpy as np

from fastmel import _checks
from fastmel._analysis import OUT_MEL, OUT_MEL_DB, Framing, analyze
from fastmel.exceptions import ParameterError
from fastmel.filters import mel as mel_filters
from fastmel.spectrum import _check_db_params, floor_top_db, power_to_db

__all__ = ["MelSpectrogram", "MFCC"]


def _working_dtype(dtype):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ParameterError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _mel_kernel(framing, dtype, power, mel_args, mode, amin, db_offset):
    # librosa builds the filters in float32 whatever the audio's precision;
    # the float64 path uses those same (widened) weights to stay equal to it.
    basis = mel_filters(n_fft=framing.n_fft, dtype=np.float32, **dict(mel_args))
    return framing.kernel(dtype, mode, power=power, mel_basis=basis, amin=amin,
                          db_offset=db_offset)


_cached_mel_kernel = functools.lru_cache(maxsize=64)(_mel_kernel)


def mel_kernel(framing, dtype, power, mel_args, mode, amin=1e-10, db_offset=0.0):
    """The spectral kernel for a mel configuration, shared between equal configurations."""
    try:
        return _cached_mel_kernel(framing, dtype, power, mel_args, mode, amin, db_offset)
    except TypeError:  # an unhashable window (array or function): build it for this caller
        return _mel_kernel(framing, dtype, power, mel_args, mode, amin, db_offset)


class MelSpectrogram:
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
        self.dtype = _working_dtype(c["dtype"])
        self.framing = Framing.make(c["n_fft"], c["hop_length"], c["win_length"], c["window"],
                                    c["center"], c["pad_mode"])
        power = _checks.positive_number(c["power"], "power")
        mel_args = (("sr", c["sr"]), ("n_mels", c["n_mels"]), ("fmin", c["fmin"]),
                    ("fmax", c["fmax"]), ("htk", bool(c["htk"])), ("norm", c["norm"]))
        self.to_db = bool(c["to_db"])
        self.ref = c["ref"]
        self.amin, self.top_db = _check_db_params(c["amin"], c["top_db"])
        if self.to_db and not callable(self.ref):
            ref = _checks.finite_number(self.ref, "ref")
            offset = 10.0 * np.log10(max(self.amin, abs(ref)))
            self.kernel = mel_kernel(self.framing, self.dtype, power, mel_args, OUT_MEL_DB,
                                     self.amin, offset)
        else:
            self.kernel = mel_kernel(self.framing, self.dtype, power, mel_args, OUT_MEL)

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
        y = _checks.audio(y).astype(self.dtype, copy=False)
        S = analyze(self.kernel, self.framing, y)
        if not self.to_db:
            return S
        if callable(self.ref):
            return power_to_db(S, ref=self.ref, amin=self.amin, top_db=self.top_db)
        return floor_top_db(S, self.top_db)

    def __getstate__(self):
        return dict(self._config)

    def __setstate__(self, state):
        self._config = dict(state)
        self._build()

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


def dct_matrix(n_out, n_in, dct_type, norm, dtype):
    """The (n_out, n_in) matrix of scipy.fft.dct(x, type=dct_type, norm=norm)[:n_out]."""
    if dct_type not in (1, 2, 3):
        raise ParameterError(f"dct_type must be 1, 2 or 3, got {dct_type!r}")
    if norm not in (None, "ortho"):
        raise ParameterError(f"norm must be None or 'ortho', got {norm!r}")
    k = np.arange(n_out, dtype=np.float64)[:, None]
    n = np.arange(n_in, dtype=np.float64)[None, :]
    N = n_in
    if dct_type == 2:
        C = 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * N))
        if norm == "ortho":
            C *= np.where(k == 0, np.sqrt(1.0 / (4 * N)), np.sqrt(1.0 / (2 * N)))
    elif dct_type == 3:
        C = 2.0 * np.cos(np.pi * (2 * k + 1) * n / (2 * N))
        C[:, 0] = 1.0
        if norm == "ortho":
            C[:, 0] /= np.sqrt(N)
            C[:, 1:] *= np.sqrt(1.0 / (2 * N))
    else:
        if N < 2:
            raise ParameterError("dct_type=1 needs at least 2 mel bands")
        C = 2.0 * np.cos(np.pi * k * n / (N - 1))
        C[:, 0] = 1.0
        C[:, -1] = (-1.0) ** k[:, 0]
        if norm == "ortho":
            C[:, 0] *= np.sqrt(2.0)
            C[:, -1] *= np.sqrt(2.0)
            C *= np.sqrt(1.0 / (2 * (N - 1)))
            C[k[:, 0] == 0] /= np.sqrt(2.0)
            C[k[:, 0] == N - 1] /= np.sqrt(2.0)
    return C.astype(dtype)


def check_mfcc_params(n_mfcc, dct_type, norm, lifter):
    n_mfcc = _checks.positive_int(n_mfcc, "n_mfcc")
    if isinstance(lifter, bool) or not isinstance(lifter, numbers.Real) or not lifter >= 0 \
            or not np.isfinite(lifter):
        raise ParameterError(f"lifter must be a non-negative number, got {lifter!r}")
    if dct_type not in (1, 2, 3):
        raise ParameterError(f"dct_type must be 1, 2 or 3, got {dct_type!r}")
    if norm not in (None, "ortho"):
        raise ParameterError(f"norm must be None or 'ortho', got {norm!r}")
    return n_mfcc, float(lifter)


def cepstrum(S_db, dct, lifter):
    """MFCCs of a dB mel spectrogram ``(..., n_mels, t)``: DCT over mels, then liftering."""
    M = np.matmul(dct.astype(S_db.dtype, copy=False), S_db)
    if lifter > 0:
        li = np.sin(np.pi * np.arange(1, 1 + M.shape[-2], dtype=M.dtype) / lifter)
        M *= (1 + (lifter / 2) * li)[:, None].astype(M.dtype)
    return M


class MFCC:
    """An MFCC extractor, planned once: log-mel (``top_db`` floor) then a DCT.

    ``m(y)`` equals ``librosa.feature.mfcc`` with the same parameters.

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
    **kwargs
        Any other :class:`MelSpectrogram` parameter; ``ref``, ``amin`` and
        ``top_db`` default to librosa's power_to_db defaults (1.0, 1e-10, 80).
    """

    def __init__(self, *, n_mfcc=20, dct_type=2, norm="ortho", lifter=0, mel_norm="slaney",
                 top_db=80.0, **kwargs):
        if "to_db" in kwargs:
            raise ParameterError("MFCC always works on dB mel spectra; to_db cannot be set")
        self._config = dict(n_mfcc=n_mfcc, dct_type=dct_type, norm=norm, lifter=lifter,
                            mel_norm=mel_norm, top_db=top_db, **kwargs)
        self._build()

    def _build(self):
        c = dict(self._config)
        self.n_mfcc, self.lifter = check_mfcc_params(
            c.pop("n_mfcc"), c["dct_type"], c["norm"], c.pop("lifter"))
        self.dct_type = c.pop("dct_type")
        self.norm = c.pop("norm")
        self.melspec = MelSpectrogram(norm=c.pop("mel_norm"), to_db=True, **c)
        n_out = min(self.n_mfcc, self.melspec.n_mels)
        self._dct = dct_matrix(n_out, self.melspec.n_mels, self.dct_type, self.norm,
                               self.melspec.dtype)

    @property
    def dtype(self):
        return self.melspec.dtype

    def __call__(self, y):
        """MFCCs of ``y`` [shape=(..., n)]: [shape=(..., n_mfcc, n_frames)]."""
        return cepstrum(self.melspec(y), self._dct, self.lifter)

    __getstate__ = MelSpectrogram.__getstate__
    __setstate__ = MelSpectrogram.__setstate__
    __repr__ = MelSpectrogram.__repr__
