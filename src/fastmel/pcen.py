"""Per-channel energy normalisation (``librosa.pcen``), offline and as a stream."""
from __future__ import annotations

import functools
import numbers
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar, overload

import numpy as np

from fastmel import _checks
from fastmel._pcen import PCENStream, _band_max, magnitudes, pcen_rows, work_size
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

    _Float = TypeVar("_Float", np.float32, np.float64)

    class _Config(TypedDict):
        sr: float
        hop_length: int
        gain: float
        bias: float
        power: float
        time_constant: float
        eps: float
        b: float | None
        max_size: int

__all__ = ["pcen", "PCEN"]


def _params(sr: float, hop_length: int, gain: float, bias: float, power: float,
            time_constant: float, eps: float, b: float | None,
            max_size: int) -> tuple[float, float, float, float, float, int]:
    """The checked parameters, as librosa checks them; returns (b, gain, bias,
    power, eps, max_size) with b from the time constant when None."""
    def number(value: float, name: str, positive: bool = False) -> float:
        value = _checks.finite_number(value, name)
        if value < 0 or (positive and value == 0):
            what = "strictly positive" if positive else "non-negative"
            raise ParameterError(f"{name}={value!r} must be {what}")
        return value
    power = number(power, "power")
    gain = number(gain, "gain")
    bias = number(bias, "bias")
    eps = number(eps, "eps", positive=True)
    if isinstance(max_size, (bool, np.bool_)) or not isinstance(max_size, numbers.Integral) \
            or max_size < 1:
        raise ParameterError(f"max_size={max_size!r} must be a positive integer")
    if b is None:
        time_constant = number(time_constant, "time_constant", positive=True)
        sr = _checks.positive_number(sr, "sr")
        hop_length = _checks.positive_int(hop_length, "hop_length")
        t_frames = time_constant * sr / float(hop_length)
        # the b whose squared response has about t_frames' full width at half
        # maximum (librosa's: b**2 + (1 - b) / t_frames - 2 = 0)
        b = (np.sqrt(1 + 4 * t_frames ** 2) - 1) / (2 * t_frames ** 2)
    b = _checks.finite_number(b, "b")
    if not 0 <= b <= 1:
        raise ParameterError(f"b={b!r} must be between 0 and 1")
    # Any max_size of at least twice the bands means "all bands": sizes beyond
    # every possible band count saturate, so they fit the engine's C integer.
    return float(b), gain, bias, power, eps, int(min(max_size, 2 ** 62))


def _magnitudes(S: npt.ArrayLike, name: str = "S") -> npt.NDArray[np.floating[Any]]:
    if np.iscomplexobj(S):
        raise TypeError(f"{name} is complex: PCEN takes magnitudes; pass np.abs({name})")
    x = _checks.real_float(S, name)
    if x.ndim:
        x = _checks.element_strided(x)
        if magnitudes(x):
            return x
    # the checks one by one, for the message
    S = _checks.audio(S, name)
    if S.size and float(np.min(S)) < 0:
        raise ParameterError(f"{name} has negative values (down to {float(np.min(S)):.3g}): PCEN "
                             f"takes a magnitude or power spectrogram")
    return S


@overload
def pcen(S: npt.ArrayLike, *, sr: float = 22050, hop_length: int = 512, gain: float = 0.98,
         bias: float = 2.0, power: float = 0.5, time_constant: float = 0.4, eps: float = 1e-6,
         b: float | None = None, max_size: int = 1, ref: npt.ArrayLike | None = None,
         axis: int = -1, max_axis: int | None = None, zi: npt.ArrayLike | None = None,
         return_zf: Literal[False] = False) -> npt.NDArray[np.floating[Any]]: ...
@overload
def pcen(S: npt.ArrayLike, *, sr: float = 22050, hop_length: int = 512, gain: float = 0.98,
         bias: float = 2.0, power: float = 0.5, time_constant: float = 0.4, eps: float = 1e-6,
         b: float | None = None, max_size: int = 1, ref: npt.ArrayLike | None = None,
         axis: int = -1, max_axis: int | None = None, zi: npt.ArrayLike | None = None,
         return_zf: Literal[True]) -> tuple[npt.NDArray[np.floating[Any]],
                                            npt.NDArray[np.float64]]: ...
@overload
def pcen(S: npt.ArrayLike, *, sr: float = 22050, hop_length: int = 512, gain: float = 0.98,
         bias: float = 2.0, power: float = 0.5, time_constant: float = 0.4, eps: float = 1e-6,
         b: float | None = None, max_size: int = 1, ref: npt.ArrayLike | None = None,
         axis: int = -1, max_axis: int | None = None, zi: npt.ArrayLike | None = None,
         return_zf: bool) -> (npt.NDArray[np.floating[Any]]
                              | tuple[npt.NDArray[np.floating[Any]], npt.NDArray[np.float64]]): ...


def pcen(S: npt.ArrayLike, *, sr: float = 22050, hop_length: int = 512, gain: float = 0.98,
         bias: float = 2.0, power: float = 0.5, time_constant: float = 0.4, eps: float = 1e-6,
         b: float | None = None, max_size: int = 1, ref: npt.ArrayLike | None = None,
         axis: int = -1, max_axis: int | None = None, zi: npt.ArrayLike | None = None,
         return_zf: bool = False) -> (npt.NDArray[np.floating[Any]]
                                      | tuple[npt.NDArray[np.floating[Any]],
                                              npt.NDArray[np.float64]]):
    """Per-channel energy normalisation, equal to ``librosa.pcen``.

    Each channel (band) is divided by a smoothed copy of itself raised to
    ``gain``, then compressed:

        M = lfilter([b], [1, b - 1], ref)      (along ``axis``, from zi)
        P = bias**power * expm1(power * log1p(S / (eps + M)**gain / bias))

    (``log1p(S / (eps + M)**gain)`` when ``power == 0``, ``(S / (eps +
    M)**gain)**power`` when ``bias == 0``).

    Parameters
    ----------
    S : np.ndarray, non-negative real
        A magnitude or power spectrogram; float32 stays float32 (librosa
        returns float64), other real floats are converted.
    sr : number > 0
        The sample rate of the audio the frames come from.
    hop_length : int > 0
        Samples per frame: with ``sr``, the frame rate that turns
        ``time_constant`` into ``b``.
    gain, bias, power : float >= 0
    time_constant : float > 0, seconds
    eps : float > 0
    b : float in [0, 1] or None
        The smoother's coefficient; None: from ``time_constant`` as librosa.
    max_size : int >= 1
        > 1: smooth the maximum over ``max_size`` neighbouring bands (axis
        ``max_axis``; for 2-D input the other axis than ``axis``).
    ref : np.ndarray or None
        What to smooth instead of ``S`` (or its band maximum).
    axis : int
        The time axis.
    max_axis : int or None
        The band axis that ``max_size`` filters along (used only when
        ``max_size > 1`` and ``ref`` is None); None: the other axis than
        ``axis`` of 2-D input (N-D input must name it).
    zi : array or None
        The smoother's initial state, shaped as ``S`` with ``axis`` of length
        1 (or broadcastable to it); None: librosa's, ``1 - b`` everywhere.
    return_zf : bool
        Also return the final state (shaped as ``zi``), to continue with.

    Returns
    -------
    P : np.ndarray, the shape of S
    zf : np.ndarray, when return_zf

    Raises
    ------
    ParameterError
        A parameter out of range, non-finite or negative values, max-filtering
        1-D input or N-D input without ``max_axis``, a ``zi`` that pulls
        ``eps + M`` to zero or below (its logarithm is undefined), or a result
        that overflows.
    TypeError
        Complex ``S`` (pass ``np.abs(S)``), integer or boolean arrays.
    """
    b, gain, bias, power, eps, max_size = _params(sr, hop_length, gain, bias, power,
                                                 time_constant, eps, b, max_size)
    S = _magnitudes(S)
    if S.ndim == 0:
        raise ParameterError("S must have at least one dimension")
    axis = _axis(axis, S.ndim, "axis")
    if ref is None:
        ref = S
        if max_size > 1:
            if S.ndim == 1:
                raise ParameterError("max-filtering (max_size > 1) cannot be applied to 1-D "
                                     "input")
            if max_axis is None:
                if S.ndim != 2:
                    raise ParameterError(f"max-filtering a {S.ndim}-D spectrogram needs max_axis")
                max_axis = 1 - axis
            max_axis = _axis(max_axis, S.ndim, "max_axis")
            if max_axis == axis:
                raise ParameterError("max_axis must differ from axis (the time axis)")
            moved = np.moveaxis(S, (max_axis, axis), (-2, -1))
            ref = np.moveaxis(_band_max(moved, max_size), (-2, -1), (max_axis, axis))
    else:
        ref = _magnitudes(ref, "ref")
        if ref.shape != S.shape:
            raise ParameterError(f"ref has shape {ref.shape}, S has {S.shape}")
    ref = ref.astype(S.dtype, copy=False)
    x = np.moveaxis(S, axis, -1)
    r = np.moveaxis(ref, axis, -1)
    lead, k = x.shape[:-1], x.shape[-1]
    n_ch = int(np.prod(lead, dtype=np.int64))
    state_shape = S.shape[:axis] + (1,) + S.shape[axis + 1:]
    if zi is None:
        z = np.full(n_ch, 1.0 - b)
    else:
        zi = np.asarray(zi)
        if zi.dtype.kind not in "iuf":
            raise TypeError(f"zi must be real numbers, got dtype {zi.dtype}")
        try:
            zi = np.broadcast_to(zi, state_shape)
        except ValueError:
            raise ParameterError(f"zi has shape {zi.shape}; it must be {state_shape} "
                                 f"(S's shape with axis {axis} of length 1) or broadcast "
                                 f"to it") from None
        z = np.moveaxis(zi, axis, -1).reshape(n_ch).astype(np.float64)
        if not np.all(np.isfinite(z)):
            raise ParameterError("zi contains non-finite values")
    out = np.empty(lead + (k,), dtype=S.dtype)
    _checks.allocation(4 * n_ch * k * S.itemsize, f"PCEN of {S.shape}")
    pcen_rows(x.reshape(n_ch, k), r.reshape(n_ch, k), z, out.reshape(n_ch, k),
              np.empty(work_size(n_ch, k, S.dtype), dtype=S.dtype), b, gain, bias, power, eps)
    out = np.moveaxis(out, -1, axis)
    if return_zf:
        zf = np.moveaxis(z.reshape(lead + (1,)), -1, axis)
        return out, zf
    return out


def _axis(axis: int, ndim: int, name: str) -> int:
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral) \
            or not -ndim <= axis < ndim:
        raise ParameterError(f"{name}={axis!r} is not an axis of a {ndim}-D array")
    return int(axis) % ndim


class PCEN(PCENStream):
    """PCEN of a stream of frames: a stream, and callable offline.

    Equal to :func:`fastmel.pcen` (and so to ``librosa.pcen``) of the frames
    fed, along the last axis, bit for bit however they are cut.  Chunks are
    frames [shape=(..., n_bands, j)] of a magnitude or power spectrogram,
    e.g. a mel stream's output: a PCEN can follow one in a
    :class:`fastmel.Chain`.  The first chunk fixes the leading shape (the
    bands included) and the dtype.  Each output frame depends on frames up to
    its own (``latency`` 0) and ``flush()`` owes nothing.  The smoother starts
    from librosa's state (``1 - b``).  The streaming protocol (``process``,
    ``flush``, ``reset``, pickling) is :class:`fastmel.Stream`'s;
    ``samples_in`` counts frames.

    Parameters
    ----------
    sr, hop_length, gain, bias, power, time_constant, eps, b, max_size
        As for :func:`fastmel.pcen` (``max_size`` over the bands, axis -2).

    Examples
    --------
    >>> mel = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160)
    >>> chain = fastmel.Chain([mel.stream(), fastmel.PCEN(sr=16000, hop_length=160)])
    """

    def __init__(self, *, sr: float = 22050, hop_length: int = 512, gain: float = 0.98,
                 bias: float = 2.0, power: float = 0.5, time_constant: float = 0.4,
                 eps: float = 1e-6, b: float | None = None, max_size: int = 1) -> None:
        params = _params(sr, hop_length, gain, bias, power, time_constant, eps, b, max_size)
        super().__init__(*params)
        self._config: _Config = dict(
            sr=sr, hop_length=hop_length, gain=gain, bias=bias, power=power,
            time_constant=time_constant, eps=eps, b=b, max_size=max_size)
        # b as resolved: the repr shows what the attributes hold, and builds the
        # same stream again
        shown = dict(self._config, b=self.b)
        self._bind(functools.partial(type(self), **self._config),
                   f"{type(self).__name__}(" + ", ".join(
                       f"{k}={v!r}" for k, v in shown.items()) + ")")

    @property
    def sr(self) -> float:
        """The frame rate's sample rate."""
        return self._config["sr"]

    @property
    def hop_length(self) -> int:
        """Samples per frame."""
        return self._config["hop_length"]

    @property
    def time_constant(self) -> float:
        """The smoother's time constant (s), used when b is None."""
        return self._config["time_constant"]

    @overload
    def __call__(self, S: npt.NDArray[_Float]) -> npt.NDArray[_Float]: ...
    @overload
    def __call__(self, S: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]: ...

    def __call__(self, S: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]:
        """PCEN of whole frames ``S`` [shape=(..., n_bands, n_frames)] from rest; this
        object's own stream state is left alone."""
        return self.stream().process(S)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
