"""Delta features (``librosa.feature.delta``): Savitzky-Golay derivative
filters over frames, offline (:func:`fastmel.feature.delta`) and as a stream
(:class:`Delta`).

librosa computes deltas with ``scipy.signal.savgol_filter(data, width,
deriv=order, polyorder=order, mode=mode)``: the derivative of order ``order``
of the least-squares polynomial of degree ``polyorder`` through the
``width`` frames around each frame.  fastmel designs the same filters itself:
exactly, in rational arithmetic, then rounded once to float64.
"""
from __future__ import annotations

import functools
import math
import numbers
from fractions import Fraction
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, overload

import numpy as np

from fastmel import _checks
from fastmel._delta import MODES, DeltaStream, delta_rows
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

    from typing_extensions import Unpack

    _Float = TypeVar("_Float", np.float32, np.float64)

    class _SavgolOptions(TypedDict, total=False):
        # savgol_filter's keywords delta() takes, as librosa passes them on
        polyorder: int
        delta: float
        cval: float
        deriv: int

__all__ = ["delta", "Delta", "savgol_design", "MAX_WIDTH", "MAX_POLYORDER"]

#: Widths up to this many frames (11 minutes of 10 ms frames): a design over
#: more would take seconds for nothing a derivative estimate needs.
MAX_WIDTH: int = 2 ** 16 - 1
#: Polynomial degrees up to this: the exact design grows as its cube, and
#: fits of higher degree say nothing about a local slope.
MAX_POLYORDER: int = 16

_SAVGOL_KWARGS = ("polyorder", "delta", "cval", "deriv")


def _integer(value: int, name: str, lo: int, hi: int, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) \
            or not lo <= value <= hi:
        raise ParameterError(f"{name} must be {what}, got {value!r}")
    return int(value)


def check_params(width: int, order: int, mode: str, polyorder: int | None, delta: float,
                 cval: float) -> tuple[int, int, str, int, float, float]:
    """The checked parameters ``(width, order, mode, polyorder, delta, cval)``,
    polyorder defaulting to order."""
    width = _integer(width, "width", 3, MAX_WIDTH, f"an odd integer >= 3 (at most {MAX_WIDTH})")
    if width % 2 == 0:
        raise ParameterError(f"width must be an odd integer >= 3 (at most {MAX_WIDTH}), "
                             f"got {width!r}")
    order = _integer(order, "order", 1, MAX_POLYORDER,
                     f"a positive integer (at most {MAX_POLYORDER})")
    if polyorder is None:
        polyorder = order
        if order >= width:
            raise ParameterError(
                f"order={order} fits a polynomial of degree {order}, which width={width} frames "
                f"cannot determine: order must be less than width")
    else:
        polyorder = _integer(polyorder, "polyorder", 0, MAX_POLYORDER,
                             f"a non-negative integer (at most {MAX_POLYORDER})")
        if polyorder >= width:
            raise ParameterError(f"polyorder must be less than width={width}, got {polyorder}")
    if not isinstance(mode, str) or mode not in MODES:
        raise ParameterError(f"mode must be one of {', '.join(map(repr, MODES))}, got {mode!r}")
    delta = _checks.positive_number(delta, "delta")
    cval = _checks.finite_number(cval, "cval")
    return width, order, mode, polyorder, delta, cval


@functools.lru_cache(maxsize=64)
def savgol_design(width: int, order: int, polyorder: int, delta: float,
                  edges: bool) -> npt.NDArray[np.float64]:
    """The filters of a delta, as (n_poly, width) float64 (read-only).

    Row 0 holds the correlation coefficients of the derivative of order
    ``order`` at a window's centre (``scipy.signal.savgol_coeffs(width,
    polyorder, deriv=order, delta=delta, use="dot")``).  With ``edges``, row
    m holds the coefficients of u**m in that derivative at offset u from the
    centre (what mode "interp" evaluates near the ends), up to m = polyorder
    - order; a derivative of the polynomial's own degree is a constant, so
    then there is only row 0.  Each value is exact, rounded once.

    Parameters are checked ones (see check_params); a derivative above the
    polynomial's degree is 0.

    Parameters
    ----------
    width : int
        Frames per fit: odd, 3 <= width <= :data:`MAX_WIDTH`.
    order : int
        The derivative's order, 1 <= order <= :data:`MAX_POLYORDER`.
    polyorder : int
        The fitted polynomial's degree, 0 <= polyorder < width.
    delta : float > 0
        The frame spacing: derivatives are per ``delta``.
    edges : bool
        Also the rows that evaluate the derivative away from the centre
        (mode "interp").

    Returns
    -------
    np.ndarray [shape=(n_poly, width), dtype=float64]
        The filters, read-only; ``n_poly`` is ``polyorder - order + 1`` with
        ``edges`` and ``polyorder >= order``, else 1.

    Raises
    ------
    ParameterError
        ``delta`` so small that a coefficient overflows float64.
    """
    if polyorder < order:
        out = np.zeros((1, width))
        out.flags.writeable = False
        return out
    h = width // 2
    # the normal equations of the fit on offsets s = -h..h: M[i][j] = sum s**(i + j)
    sums, powers = [width], [1] * h
    for _ in range(2 * polyorder):
        powers = [p * s for p, s in zip(powers, range(1, h + 1))]
        sums.append(0 if len(sums) % 2 else 2 * sum(powers))
    inverse = _inverse([[Fraction(sums[i + j]) for j in range(polyorder + 1)]
                        for i in range(polyorder + 1)])
    # the derivative at offset u is sum_m u**m * (m + order)!/m! * a[m + order], the
    # fitted coefficients a = inverse @ A.T @ window: row m applies to the window
    num, den = Fraction(delta).as_integer_ratio()
    rows = []
    for m in range(polyorder - order + 1 if edges else 1):
        coef = inverse[m + order]
        common = math.lcm(*(c.denominator for c in coef))
        ints = [int(c * common) for c in coef]
        scale = math.factorial(m + order) // math.factorial(m) * den ** order
        divisor = common * num ** order
        row = []
        for s in range(-h, h + 1):
            value = 0
            for c in reversed(ints):
                value = value * s + c
            try:
                row.append(value * scale / divisor)
            except OverflowError:
                raise ParameterError(
                    f"delta={delta!r} makes the order-{order} filter's coefficients overflow "
                    f"float64") from None
        rows.append(row)
    out = np.array(rows)
    out.flags.writeable = False
    return out


def _inverse(matrix: list[list[Fraction]]) -> list[list[Fraction]]:
    """The inverse of a non-singular square matrix of Fractions (Gauss-Jordan)."""
    n = len(matrix)
    rows = [list(row) + [Fraction(int(i == j)) for j in range(n)] for i, row in enumerate(matrix)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        lead = rows[col][col]
        rows[col] = [v / lead for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                f = rows[r][col]
                rows[r] = [a - f * b for a, b in zip(rows[r], rows[col])]
    return [row[n:] for row in rows]


@overload
def delta(data: npt.NDArray[_Float], *, width: int = 9, order: int = 1, axis: int = -1,
          mode: str = "interp", **kwargs: Unpack[_SavgolOptions]) -> npt.NDArray[_Float]: ...
@overload
def delta(data: npt.ArrayLike, *, width: int = 9, order: int = 1, axis: int = -1,
          mode: str = "interp", **kwargs: Unpack[_SavgolOptions]) -> npt.NDArray[np.floating[Any]]: ...


def delta(data: npt.ArrayLike, *, width: int = 9, order: int = 1, axis: int = -1,
          mode: str = "interp", **kwargs: Unpack[_SavgolOptions]) -> npt.NDArray[np.floating[Any]]:
    """Delta features: a local estimate of the derivative of ``data`` along an
    axis, equal to ``librosa.feature.delta``.

    The Savitzky-Golay filter of librosa (``scipy.signal.savgol_filter(data,
    width, deriv=order, polyorder=order, mode=mode, axis=axis)``): each output
    is the derivative of order ``order`` of the polynomial of degree
    ``polyorder`` (``order`` unless given) fitted by least squares to the
    ``width`` frames around it.

    Parameters
    ----------
    data : np.ndarray [shape=(..., t)]
        Features (float32 or float64; other real floats are converted, float16
        to float32 where librosa gives float64), finite.
    width : odd int, 3 <= width <= 65535
        Frames per fit.  In mode "interp", at most ``data.shape[axis]``.
    order : int, 1 <= order <= 16
        The derivative's order (1: delta, 2: delta-delta).  Unless
        ``polyorder`` is given, less than ``width``.
    axis : int
        The axis along which to differentiate (time).
    mode : {"interp", "mirror", "nearest", "constant", "wrap"}
        The edges: "interp" evaluates, for the first and last ``width // 2``
        frames, the polynomial fitted to the first / last ``width`` frames;
        the others extend the data as ``scipy.ndimage`` does ("mirror":
        ``d c b | a b c d``, "nearest": ``a a a | a b``, "constant": ``cval``,
        "wrap": periodic).
    **kwargs
        ``savgol_filter``'s, as librosa passes them on: ``polyorder`` (int, 0
        <= polyorder < width, at most 16), ``delta`` (the frame spacing, a
        number > 0), ``cval`` (a finite number); ``deriv`` is ignored, as
        librosa ignores it.

    Returns
    -------
    np.ndarray [shape=data.shape], data's dtype (C order)
        The deltas.  Outputs are summed in float64 and rounded once to the
        dtype, as scipy's filter does; in mode "interp" the edge values are
        the fitted polynomial's derivative evaluated exactly where librosa
        goes through ``polyfit`` (float32 data: librosa fits in float32).

    Raises
    ------
    ParameterError
        A bad ``width``, ``order``, ``polyorder``, ``mode``, ``delta``,
        ``cval`` or ``axis``; data with NaN or inf values, or too short for
        mode "interp"; deltas that overflow the dtype.
    TypeError
        Integer, boolean or complex data; an unknown keyword argument.

    Examples
    --------
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> M = fastmel.feature.mfcc(y=y, sr=16000)
    >>> d1 = fastmel.feature.delta(M)
    >>> d2 = fastmel.feature.delta(M, order=2)
    >>> d1.shape == d2.shape == M.shape
    True
    """
    unknown = set(kwargs) - set(_SAVGOL_KWARGS)
    if unknown:
        raise TypeError(f"delta() got unexpected keyword argument(s): "
                        f"{', '.join(sorted(unknown))}")
    width, order, mode, polyorder, spacing, cval = check_params(
        width, order, mode, kwargs.get("polyorder"), kwargs.get("delta", 1.0),
        kwargs.get("cval", 0.0))
    data = _checks.real_float(data, "data")
    if data.ndim == 0:
        raise ParameterError("data must have at least one dimension (time along axis), got "
                             "a scalar")
    # finiteness is checked on the outputs (see delta_rows): one pass fewer
    data = _checks.element_strided(data)
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral) \
            or not -data.ndim <= axis < data.ndim:
        raise ParameterError(f"axis must be an integer in [{-data.ndim}, {data.ndim - 1}] "
                             f"for data of shape {data.shape}, got {axis!r}")
    axis = int(axis) % data.ndim
    n = data.shape[axis]
    if mode == "interp" and width > n:
        raise ParameterError(
            f"when mode='interp', width={width} cannot exceed data.shape[axis]={n} (the "
            f"edges fit a polynomial to the first and last width frames); use a smaller "
            f"odd width or another mode")
    poly = savgol_design(width, order, polyorder, spacing, mode == "interp")
    moved = np.moveaxis(data, axis, -1)
    rows = moved.reshape(math.prod(moved.shape[:-1]), n)
    out = delta_rows(rows, poly, MODES.index(mode), cval).reshape(moved.shape)
    if axis == data.ndim - 1:
        return out
    return np.ascontiguousarray(np.moveaxis(out, -1, axis))


class Delta(DeltaStream):
    """Delta features of a stream of frames: a stream, and callable offline.

    Equal to :func:`fastmel.feature.delta` (and so to
    ``librosa.feature.delta``) of the frames fed, along the last axis, bit
    for bit however they are cut into chunks.  Chunks are frames
    [shape=(..., n_features, j)], e.g. a feature stream's output: a Delta can
    follow an MFCC or mel stream in a :class:`fastmel.Chain`.  The first
    chunk fixes the leading shape (the features included) and the dtype
    (float32 or float64; later chunks of another float dtype are converted to
    it).  ``flush()`` returns the last frames' deltas.  The streaming protocol
    (``process``, ``flush``, ``reset``, pickling) is :class:`fastmel.Stream`'s;
    ``samples_in`` counts frames.

    ``latency`` is in frames: the most frames after an output's own frame
    that must arrive before it is returned.  It is ``width // 2`` for the
    extending modes ("mirror", "nearest", "constant"), and ``width - 1`` in
    mode "interp": its first ``width // 2`` outputs come from the polynomial
    fitted to the first ``width`` frames, so they wait for frame ``width -
    1``; every later output waits ``width // 2`` frames, and the last ``width
    // 2`` (the other edge) come with ``flush()``.  Mode "wrap" cannot stream
    (its first outputs depend on the last frames) and is refused.

    Parameters
    ----------
    width, order, mode
        As for :func:`fastmel.feature.delta`; mode "wrap" is refused.
    polyorder : int or None
        The fitted polynomial's degree; None: ``order``.
    delta : number > 0
        The frame spacing (derivatives are per ``delta``).
    cval : number
        The value beyond the ends in mode "constant".

    Raises
    ------
    ParameterError
        A bad parameter; from ``process``, frames with NaN or inf values,
        another leading shape, or deltas that overflow the dtype; from
        ``flush()`` in mode "interp", a stream of fewer than ``width`` frames
        (the offline call raises for them too).  The stream is unchanged.

    Examples
    --------
    >>> mfcc = fastmel.MFCC(sr=16000, n_fft=512, hop_length=160, top_db=None)
    >>> chain = fastmel.Chain([mfcc.stream(), fastmel.Delta(width=9)])
    >>> y = np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    >>> deltas = [chain.process(c) for c in np.array_split(y, 10)] + [chain.flush()]
    >>> np.array_equal(np.concatenate(deltas, axis=-1), fastmel.feature.delta(mfcc(y), width=9))
    True
    """

    def __init__(self, *, width: int = 9, order: int = 1, mode: str = "interp",
                 polyorder: int | None = None, delta: float = 1.0, cval: float = 0.0) -> None:
        width, order, mode, polyorder, spacing, cval = check_params(
            width, order, mode, polyorder, delta, cval)
        super().__init__(savgol_design(width, order, polyorder, spacing, mode == "interp"),
                         mode, cval)
        self._config = (width, order, mode, polyorder, spacing, cval)
        self._bind(functools.partial(type(self), width=width, order=order, mode=mode,
                                     polyorder=polyorder, delta=spacing, cval=cval),
                   f"{type(self).__name__}(width={width!r}, order={order!r}, mode={mode!r}, "
                   f"polyorder={polyorder!r}, delta={spacing!r}, cval={cval!r})")

    @property
    def width(self) -> int:
        """Frames per fit."""
        return self._config[0]

    @property
    def order(self) -> int:
        """The derivative's order."""
        return self._config[1]

    @property
    def mode(self) -> str:
        """The edge mode."""
        return self._config[2]

    @property
    def polyorder(self) -> int:
        """The fitted polynomial's degree."""
        return self._config[3]

    @property
    def delta(self) -> float:
        """The frame spacing."""
        return self._config[4]

    @property
    def cval(self) -> float:
        """The value beyond the ends ('constant')."""
        return self._config[5]

    @overload
    def __call__(self, data: npt.NDArray[_Float], *, axis: int = -1) -> npt.NDArray[_Float]: ...
    @overload
    def __call__(self, data: npt.ArrayLike, *, axis: int = -1) -> npt.NDArray[np.floating[Any]]: ...

    def __call__(self, data: npt.ArrayLike, *, axis: int = -1) -> npt.NDArray[np.floating[Any]]:
        """The deltas of a whole array ``data`` [shape=(..., t)] along ``axis``
        (:func:`fastmel.feature.delta` with this configuration); this object's
        own stream state is left alone."""
        return delta(data, width=self.width, order=self.order, axis=axis, mode=self.mode,
                     polyorder=self.polyorder, delta=self.delta, cval=self.cval)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
