"""Reusable extractors: configured and planned once, called many times.

``MelSpectrogram`` and ``MFCC`` hold an immutable spectral kernel (window,
sparse mel filters, FFTW plan); every call brings its own scratch buffers, so
one object serves many threads at once.  Pickling keeps the configuration
only; the kernel is rebuilt on load.  ``ISTFT``, the inverse, is made the
same way.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar, cast, overload

import numpy as np

from fastmel import _checks
from fastmel._analysis import (
    OUT_COMPLEX, OUT_MEL, OUT_MEL_DB, OUT_MFCC, Framing, analyze, check_workers,
)
from fastmel._istft import InverseStream
from fastmel._stream import FrameStream
from fastmel.cepstral import cepstrum, check_mfcc_params, dct_matrix, lifted_dct_matrix
from fastmel.exceptions import ParameterError
from fastmel.filters import mel_params, mel_rows
from fastmel.spectrum import (
    _check_db_params, inverse_kernel, power_to_db, spectrogram, synthesize_signal,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from fastmel._spectral import SpectralKernel
    from fastmel._istft import InverseKernel
    from fastmel._streambase import Stream
    from fastmel.filters import WindowSpec
    from fastmel.spectrum import RefSpec

__all__ = ["STFT", "ISTFT", "MelSpectrogram", "MFCC"]

_T = TypeVar("_T")


def _working_dtype(dtype: npt.DTypeLike) -> np.dtype[Any]:
    dtype = np.dtype(dtype)
    if dtype.kind == "c":  # the complex type of an STFT names its precision
        dtype = np.dtype(dtype.char.lower())
    if dtype not in (np.float32, np.float64):
        raise ParameterError(f"dtype must be float32 or float64, got {dtype}")
    return dtype


def _mel_kernel(framing: Framing, dtype: np.dtype[Any], power: float,
                mel_args: tuple[tuple[str, Any], ...], mode: int, amin: float, db_offset: float,
                cep_args: tuple[int, int, str | None, float] | None) -> SpectralKernel:
    # librosa builds the filters in float32 whatever the audio's precision;
    # the float64 path uses those same (widened) weights to stay equal to it.
    packed = mel_rows(framing.n_fft, dict(mel_args), dtype=np.float32)
    n_mels = packed[0].shape[0]
    dct = None
    if cep_args is not None:
        n_mfcc, dct_type, norm, lifter = cep_args
        dct = lifted_dct_matrix(min(n_mfcc, n_mels), n_mels, dct_type, norm, lifter)
    return framing.kernel(dtype, mode, power=power, mel_rows=packed, amin=amin,
                          db_offset=db_offset, dct=dct)


@functools.lru_cache(maxsize=64)
def _cached_mel_kernel(window_key: object, *args: Any) -> SpectralKernel:
    return _mel_kernel(*args)


def _typed(window: object) -> object:
    """``window`` with the type of each of its values: windows that compare equal
    are not always the same (``1 == True``, but True is no Kaiser beta)."""
    if isinstance(window, tuple):
        return tuple(_typed(v) for v in window)
    return type(window), window


def mel_kernel(framing: Framing, dtype: np.dtype[Any], power: float,
               mel_args: tuple[tuple[str, Any], ...], mode: int, amin: float = 1e-10,
               db_offset: float = 0.0,
               cep_args: tuple[int, int, str | None, float] | None = None) -> SpectralKernel:
    """The spectral kernel for a mel configuration, shared between equal configurations."""
    args = (framing, dtype, power, mel_args, mode, amin, db_offset, cep_args)
    try:
        return _cached_mel_kernel(_typed(framing.window), *args)
    except TypeError:  # an unhashable window (array or function): build it for this caller
        return _mel_kernel(*args)


class _Setting(Generic[_T]):
    """A read-only attribute: one resolved setting of an extractor, as its repr shows it.

    For a type checker, a setting is an attribute of type ``_T`` that cannot be
    assigned (its ``__set__`` takes no value).
    """

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, objtype: type | None = None) -> _Setting[_T]: ...

    @overload
    def __get__(self, obj: _Configured, objtype: type | None = None) -> _T: ...

    def __get__(self, obj: _Configured | None, objtype: type | None = None) -> _Setting[_T] | _T:
        return self if obj is None else cast("_T", obj._settings[self.name])

    def __set__(self, obj: _Configured, value: NoReturn) -> NoReturn:
        self._read_only(obj)

    def __delete__(self, obj: _Configured) -> NoReturn:
        self._read_only(obj)

    def _read_only(self, obj: _Configured) -> NoReturn:
        cls = type(obj).__name__
        raise AttributeError(f"{cls}.{self.name} is read-only: the configuration is fixed when "
                             f"the extractor is made; make a new {cls}(..., {self.name}=...)")


def _shown(value: object) -> str:
    """``value`` as the repr writes it: a dtype by its name (which every dtype
    parameter accepts), an array window by its shape (too many values to print)."""
    if isinstance(value, np.dtype):
        return repr(value.name)
    if isinstance(value, np.ndarray):
        return f"<array of shape {value.shape}>"
    if isinstance(value, float) and not np.isfinite(value):
        return f"float({str(value)!r})"
    return repr(value)


class _Configured:
    """The arguments as given, kept for pickling; the settings as resolved, for
    the read-only attributes and the repr.

    The configuration is fixed when the object is made: setting a setting
    (``m.n_fft = 1024``) raises AttributeError rather than leave the kernel
    computing something other than what ``m`` says.
    """

    _config: dict[str, Any]
    _settings: dict[str, Any]

    def __getstate__(self) -> dict[str, Any]:
        return dict(self._config)

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._config = dict(state)
        self._build()

    if TYPE_CHECKING:
        def _build(self) -> None:
            """Check the configuration and make the kernel and the settings."""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={_shown(v)}" for k, v in self._settings.items())
        return f"{type(self).__name__}({args})"


class _Extractor(_Configured):
    """An analysis: its framing, its kernel, and streams made from the same kernel."""

    _kernel: SpectralKernel | None
    _framing: Framing

    @property
    def kernel(self) -> SpectralKernel | None:
        """The compiled per-frame computation (None for an MFCC that floors at the
        whole signal's maximum)."""
        return self._kernel

    @property
    def framing(self) -> Framing:
        """The checked framing parameters."""
        return self._framing
    n_fft: _Setting[int] = _Setting("FFT size.")
    hop_length: _Setting[int] = _Setting("Samples between frames (its default resolved).")
    win_length: _Setting[int] = _Setting("Window length (``n_fft`` when it was None).")
    window: _Setting[WindowSpec] = _Setting("The window, as given.")
    center: _Setting[bool] = _Setting("Whether frames are centred (the signal padded).")
    pad_mode: _Setting[str] = _Setting("How the signal is padded when ``center``.")
    dtype: _Setting[np.dtype[Any]] = _Setting(
        "Working precision, a np.dtype (float32 or float64).")

    def stream(self) -> Stream:
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

    def _check_streamable(self) -> None:
        pass

    def _set_framing(self, c: dict[str, Any]) -> tuple[dict[str, Any], np.dtype[Any]]:
        """Check the framing and dtype arguments; returns their settings."""
        dtype = _working_dtype(c["dtype"])
        f = Framing.make(c["n_fft"], c["hop_length"], c["win_length"], c["window"],
                         c["center"], c["pad_mode"])
        self._framing = f
        return dict(n_fft=f.n_fft, hop_length=f.hop_length, win_length=f.win_length,
                    window=f.window, center=f.center, pad_mode=f.pad_mode), dtype

    def _new_stream(self) -> Stream:
        return FrameStream(self, self._frame_kernel, self.framing)

    @property
    def _frame_kernel(self) -> SpectralKernel:
        # None only for an MFCC that floors at the maximum, which computes its
        # frames through its melspec and cannot stream.
        return cast("SpectralKernel", self._kernel)

    # ``m(y, workers=w)`` is ``m._run(real_float(y), check_workers(w))``:
    # fastmel.feature, which needs the input's dtype before it makes the
    # extractor, calls _run itself, so the signal is converted and scanned
    # once either way.

    def _analyze(self, y: npt.NDArray[np.floating[Any]], workers: int = 1,
                 top_db: float | None = None) -> npt.NDArray[Any]:
        """The kernel over ``y`` (as real_float returned it), in ``dtype``, scanned
        once, on ``workers`` threads (as check_workers returned it); ``top_db``:
        a dB kernel's floor, applied by the workers' pass.  Complex for an STFT
        kernel, real for the others."""
        # No conversion asked for a signal already in dtype: the conversion's
        # errstate context alone costs 3 % of a 1 s clip's call.
        kernel = self._frame_kernel
        y = _checks.bounded_float(y, kernel.max_amplitude,
                                  dtype=None if y.dtype == self.dtype else self.dtype)
        return analyze(kernel, self.framing, y, workers, top_db)


class _MelSettings:
    """The attributes a mel spectrogram and an MFCC share."""

    sr: _Setting[float] = _Setting("Sampling rate (Hz).")
    power: _Setting[float] = _Setting("Exponent of the magnitude.")
    n_mels: _Setting[int] = _Setting("Number of mel bands.")
    fmin: _Setting[float] = _Setting("Lowest mel frequency (Hz).")
    fmax: _Setting[float] = _Setting("Highest mel frequency (Hz; ``sr / 2`` when it was None).")
    htk: _Setting[bool] = _Setting("Whether HTK's mel formula is used instead of Slaney's.")
    ref: _Setting[RefSpec] = _Setting(
        "dB reference: a number, or a callable of the whole spectrogram.")
    amin: _Setting[float] = _Setting("Floor of the power before the logarithm.")
    top_db: _Setting[float | None] = _Setting(
        "Floor below the (per channel) maximum in dB, or None.")


class STFT(_Extractor):
    """A short-time Fourier transform, planned once; ``s(y)`` equals ``fastmel.stft``.

    Parameters
    ----------
    n_fft, hop_length, win_length, window, center, pad_mode
        As in :func:`fastmel.stft`.
    dtype : {np.float32, np.float64}
        Working precision (complex64 or complex128 output); input is converted to it.

    Attributes
    ----------
    n_fft, hop_length, win_length, window, center, pad_mode, dtype
        The parameters, read-only, as resolved (``hop_length`` and
        ``win_length`` with their defaults applied, ``dtype`` the working
        precision as a ``np.dtype``); the repr shows them and builds the same
        extractor again.
    """

    def __init__(self, *, n_fft: int = 2048, hop_length: int | None = None,
                 win_length: int | None = None, window: WindowSpec = "hann", center: bool = True,
                 pad_mode: str = "constant", dtype: npt.DTypeLike = np.float32) -> None:
        self._config = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                            window=window, center=center, pad_mode=pad_mode, dtype=dtype)
        self._build()

    def _build(self) -> None:
        settings, dtype = self._set_framing(self._config)
        self._kernel = self.framing.kernel(dtype, OUT_COMPLEX)
        self._settings = dict(settings, dtype=dtype)

    def __call__(self, y: npt.ArrayLike, *,
                 workers: int | None = None) -> npt.NDArray[np.complexfloating[Any, Any]]:
        """STFT of ``y`` [shape=(..., n)]: [shape=(..., 1 + n_fft // 2, n_frames)], complex.

        ``workers`` as in :meth:`MelSpectrogram.__call__`.
        """
        workers = check_workers(workers)
        return self._run(_checks.real_float(y, "y"), workers)

    def _run(self, y: npt.NDArray[np.floating[Any]],
             workers: int = 1) -> npt.NDArray[np.complexfloating[Any, Any]]:
        return self._analyze(y, workers)


class ISTFT(_Configured):
    """An inverse STFT, planned once; ``i(S)`` equals ``fastmel.istft`` with these settings.

    ``i.stream()`` makes the streaming inverse: chunks of frames ``(...,
    1 + n_fft // 2, j)`` (complex) in, the samples they complete out; concatenated
    with ``flush()`` they equal ``i(S)`` (without ``length``) bit for bit,
    however the frames are cut.  The stream returns a sample once the frames
    that reach it are in, so a chunk of one frame returns ``hop_length``
    samples in the steady state; with ``center`` the stream drops the first
    ``n_fft // 2`` samples and ``flush()`` returns the rest but the last
    ``n_fft // 2``, as the offline call trims them.  A stream has no
    ``length``: trim or pad its output yourself.

    Parameters
    ----------
    n_fft, hop_length, win_length, window, center
        As in :func:`fastmel.istft` (``n_fft`` is not inferred: 2048 when not given).
    dtype : {np.float32, np.float64}
        Working precision (complex64 or complex128 input, converted to it;
        output of this type).

    Attributes
    ----------
    n_fft, hop_length, win_length, window, center, dtype
        The parameters, read-only, as resolved; the repr shows them and builds
        the same object again.

    Examples
    --------
    >>> s = fastmel.STFT(n_fft=512, hop_length=128)
    >>> i = fastmel.ISTFT(n_fft=512, hop_length=128)
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> stream = i.stream()
    >>> D = s(y)
    >>> parts = [stream.process(D[:, t:t + 10]) for t in range(0, D.shape[-1], 10)]
    >>> np.array_equal(np.concatenate(parts + [stream.flush()]), i(D))
    True
    """

    n_fft: _Setting[int] = _Setting("FFT size.")
    hop_length: _Setting[int] = _Setting("Samples between frames (its default resolved).")
    win_length: _Setting[int] = _Setting("Window length (``n_fft`` when it was None).")
    window: _Setting[WindowSpec] = _Setting("The window, as given.")
    center: _Setting[bool] = _Setting("Whether frames are centred (the padding is trimmed).")
    dtype: _Setting[np.dtype[Any]] = _Setting(
        "Working precision, a np.dtype (float32 or float64).")
    _kernel: InverseKernel

    @property
    def kernel(self) -> InverseKernel:
        """The compiled per-frame synthesis."""
        return self._kernel

    def __init__(self, *, n_fft: int = 2048, hop_length: int | None = None,
                 win_length: int | None = None, window: WindowSpec = "hann", center: bool = True,
                 dtype: npt.DTypeLike = np.float32) -> None:
        self._config = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length,
                            window=window, center=center, dtype=dtype)
        self._build()

    def _build(self) -> None:
        c = self._config
        dtype = _working_dtype(c["dtype"])
        f = Framing.make(c["n_fft"], c["hop_length"], c["win_length"], c["window"],
                         c["center"], "constant")
        self._kernel = inverse_kernel(f, dtype)
        self._settings = dict(n_fft=f.n_fft, hop_length=f.hop_length, win_length=f.win_length,
                              window=f.window, center=f.center, dtype=dtype)

    def __call__(self, S: npt.ArrayLike, *, length: int | None = None,
                 out: npt.NDArray[np.floating[Any]] | None = None
                 ) -> npt.NDArray[np.floating[Any]]:
        """The signal of ``S`` [shape=(..., 1 + n_fft // 2, n_frames)], complex:
        [shape=(..., n)], of ``dtype``; ``length`` and ``out`` as in
        :func:`fastmel.istft`."""
        return synthesize_signal(self._kernel, spectrogram(S), length, None, out)

    def stream(self) -> Stream:
        """A new streaming inverse STFT (see the class docs), at rest.

        Returns
        -------
        stream
            A :class:`fastmel.Stream` that takes chunks of frames ``(..., 1 +
            n_fft // 2, j)`` and returns the samples they complete; with
            ``flush()`` they equal ``self(S)`` bit for bit.
        """
        return InverseStream(self, self._kernel)


class MelSpectrogram(_MelSettings, _Extractor):
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

    Attributes
    ----------
    sr, n_fft, hop_length, ..., dtype
        Every parameter, read-only, as resolved: ``hop_length``, ``win_length``
        and ``fmax`` with their defaults applied, numbers as Python ints and
        floats, ``dtype`` as a ``np.dtype``.  The repr shows them all and builds
        the same extractor again (but for an array or callable window or ref).

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

    def __init__(self, *, sr: float = 22050, n_fft: int = 2048, hop_length: int | None = 512,
                 win_length: int | None = None, window: WindowSpec = "hann", center: bool = True,
                 pad_mode: str = "constant", power: float = 2.0, n_mels: int = 128,
                 fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                 norm: str | float | None = "slaney", to_db: bool = False, ref: RefSpec = 1.0,
                 amin: float = 1e-10, top_db: float | None = None,
                 dtype: npt.DTypeLike = np.float32) -> None:
        self._config = dict(
            sr=sr, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
            center=center, pad_mode=pad_mode, power=power, n_mels=n_mels, fmin=fmin, fmax=fmax,
            htk=htk, norm=norm, to_db=to_db, ref=ref, amin=amin, top_db=top_db, dtype=dtype)
        self._build()

    norm: _Setting[str | float | None] = _Setting("Mel filter normalisation.")
    to_db: _Setting[bool] = _Setting("Whether the output is in dB.")

    def _build(self) -> None:
        c = self._config
        settings, dtype = self._set_framing(c)
        power = _checks.positive_number(c["power"], "power")
        to_db = bool(c["to_db"])
        ref = c["ref"]
        amin, top_db = _check_db_params(c["amin"], c["top_db"], dtype)
        self._db_offset = 0.0
        if to_db and not callable(ref):
            ref = _checks.finite_number(ref, "ref")
            self._db_offset = 10.0 * np.log10(max(amin, abs(ref)))
        mel = mel_params(sr=c["sr"], n_mels=c["n_mels"], fmin=c["fmin"], fmax=c["fmax"],
                         htk=c["htk"], norm=c["norm"])
        self._mel_args = tuple(mel.items())
        if to_db and not callable(ref):
            self._kernel = mel_kernel(self.framing, dtype, power, self._mel_args, OUT_MEL_DB,
                                      amin, self._db_offset)
        else:
            self._kernel = mel_kernel(self.framing, dtype, power, self._mel_args, OUT_MEL)
        self._settings = dict(
            sr=mel["sr"], **settings, power=power, n_mels=mel["n_mels"], fmin=mel["fmin"],
            fmax=mel["fmax"], htk=mel["htk"], norm=mel["norm"], to_db=to_db, ref=ref, amin=amin,
            top_db=top_db, dtype=dtype)

    def __call__(self, y: npt.ArrayLike, *,
                 workers: int | None = None) -> npt.NDArray[np.floating[Any]]:
        """Features of ``y``.

        Parameters
        ----------
        y : np.ndarray [shape=(..., n)], real floating point
        workers : int or None
            Threads for this call, as ``scipy.fft``'s ``workers``: None or 1
            for one, a positive int, -1 for ``os.cpu_count()``.  Workers take
            blocks of frames (of any channel) as they free up; the output has
            the same bits for every count.  Short signals use one thread
            (starting a second costs more than it saves).

        Returns
        -------
        S : np.ndarray [shape=(..., n_mels, n_frames), dtype=self.dtype]

        Raises
        ------
        ParameterError
            As the class docs say, and for ``workers`` 0 or below -1.
        TypeError
            ``workers`` that is not an int or None.
        """
        workers = check_workers(workers)
        return self._run(_checks.real_float(y, "y"), workers)

    def _run(self, y: npt.NDArray[np.floating[Any]],
             workers: int = 1) -> npt.NDArray[np.floating[Any]]:
        if self.to_db and not callable(self.ref):
            # The kernel's dB, floored per channel as floor_top_db does.
            return self._analyze(y, workers, self.top_db)
        S = self._analyze(y, workers)
        if not self.to_db:
            return S
        return power_to_db(S, ref=self.ref, amin=self.amin, top_db=self.top_db)

    def _check_streamable(self) -> None:
        if self.to_db and callable(self.ref):
            raise ParameterError(
                "a callable ref needs the whole signal, so it cannot stream; "
                "use a fixed ref (e.g. ref=1.0)")
        if self.to_db and self.top_db is not None:
            raise ParameterError(
                f"top_db={self.top_db} floors at the whole signal's maximum, so it cannot "
                f"stream; use top_db=None (or floor the streamed frames yourself)")


class MFCC(_MelSettings, _Extractor):
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

    Attributes
    ----------
    n_mfcc, dct_type, norm, lifter, mel_norm, top_db, sr, n_fft, ..., dtype
        Every parameter, read-only, resolved as :class:`MelSpectrogram`'s are;
        the repr shows them all and builds the same extractor again.
    melspec : MelSpectrogram
        The dB mel spectrogram the coefficients are computed from.
    """

    n_mfcc: _Setting[int] = _Setting("Number of coefficients asked for.")
    dct_type: _Setting[int] = _Setting("DCT type (1, 2 or 3).")
    norm: _Setting[str | None] = _Setting("DCT normalisation.")
    lifter: _Setting[float] = _Setting("Cepstral liftering (0 for none).")
    mel_norm: _Setting[str | float | None] = _Setting("Mel filter normalisation.")
    _melspec: MelSpectrogram
    _dct: npt.NDArray[np.floating[Any]]

    @property
    def melspec(self) -> MelSpectrogram:
        """The dB mel spectrogram the coefficients are computed from."""
        return self._melspec

    def __init__(self, *, n_mfcc: int = 20, dct_type: int = 2, norm: str | None = "ortho",
                 lifter: float = 0, mel_norm: str | float | None = "slaney",
                 top_db: float | None = 80.0, **kwargs: Any) -> None:
        if "to_db" in kwargs:
            raise ParameterError("MFCC always works on dB mel spectra; to_db cannot be set")
        self._config = dict(n_mfcc=n_mfcc, dct_type=dct_type, norm=norm, lifter=lifter,
                            mel_norm=mel_norm, top_db=top_db, **kwargs)
        self._build()

    @classmethod
    def _checked(cls, *, n_mfcc: int, dct_type: int, norm: str | None, lifter: float,
                 **kwargs: Any) -> MFCC:
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

    def _build(self) -> None:
        c = self._config
        self._assemble(*check_mfcc_params(c["n_mfcc"], c["dct_type"], c["norm"], c["lifter"]))

    def _assemble(self, n_mfcc: int, lifter: float) -> None:
        """Build from the configuration, with n_mfcc and lifter checked."""
        c = dict(self._config)
        del c["n_mfcc"], c["lifter"]
        dct_type = int(c.pop("dct_type"))  # checked: one of 1, 2, 3
        norm = c.pop("norm")
        mel = self._melspec = MelSpectrogram(norm=c.pop("mel_norm"), to_db=True, **c)
        self._framing = mel.framing
        n_out = min(n_mfcc, mel.n_mels)
        self._dct = dct_matrix(n_out, mel.n_mels, dct_type, norm, mel.dtype)
        self._kernel = None
        if mel.top_db is None and not callable(mel.ref):
            self._kernel = mel_kernel(self.framing, mel.dtype, mel.power, mel._mel_args, OUT_MFCC,
                                      mel.amin, mel._db_offset, (n_mfcc, dct_type, norm, lifter))
        shared = {k: v for k, v in mel._settings.items() if k not in ("norm", "to_db", "top_db")}
        self._settings = dict(n_mfcc=n_mfcc, dct_type=dct_type, norm=norm, lifter=lifter,
                              mel_norm=mel.norm, top_db=mel.top_db, **shared)

    def __call__(self, y: npt.ArrayLike, *,
                 workers: int | None = None) -> npt.NDArray[np.floating[Any]]:
        """MFCCs of ``y`` [shape=(..., n)]: [shape=(..., n_mfcc, n_frames)].

        ``workers`` as in :meth:`MelSpectrogram.__call__` (the ``top_db``
        floor and the DCT after it run once all frames are in).
        """
        workers = check_workers(workers)
        return self._run(_checks.real_float(y, "y"), workers)

    def _run(self, y: npt.NDArray[np.floating[Any]],
             workers: int = 1) -> npt.NDArray[np.floating[Any]]:
        if self.kernel is not None:
            return self._analyze(y, workers)
        return cepstrum(self.melspec._run(y, workers), self._dct, self.lifter)

    def _check_streamable(self) -> None:
        self.melspec._check_streamable()


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
