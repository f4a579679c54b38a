"""Window shapes as scipy.signal.windows defines them, computed with numpy.

Every shape is a function of the symmetric length ``m >= 2`` and its checked
parameters; :func:`fastmel.filters.get_window` reads a window specification,
checks it here (:func:`parse`) and makes the periodic window from the
symmetric one of one more sample, as scipy does.  The Kaiser window's Bessel
function, the DPSS eigenvector and the Chebyshev window's transform are
fastmel's own numpy code: scipy is not needed at run time.
"""
from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    from types import FrameType

    import numpy.typing as npt

    from typing import TypeAlias

    _F64: TypeAlias = npt.NDArray[np.float64]
    #: The checked parameters of a window, in the order its shape takes them.
    _Params: TypeAlias = tuple[Any, ...]

_EPS = float(np.finfo(np.float64).eps)

#: Largest Kaiser beta: beyond it I0(beta) overflows float64 (scipy's window is NaN there).
MAX_KAISER_BETA = math.log(sys.float_info.max)

#: Largest level in dB (a whole number) whose amplitude 10 ** (dB / 20) is
#: finite in float64: chebwin's attenuation, taylor's sidelobe level.
MAX_DB = math.floor(20 * math.log10(sys.float_info.max))

#: Largest Taylor ``nbar``: scipy's coefficients overflow to NaN from 405 on.
MAX_TAYLOR_NBAR = 400


# --- shapes (symmetric, m >= 2) -------------------------------------------------------------------

def cosine_sum(m: int, coefficients: Iterable[float]) -> _F64:
    """w(x) = sum_k a_k cos(k x), x running over [-pi, pi] (scipy's general_cosine)."""
    x = np.linspace(-np.pi, np.pi, m)
    w = np.zeros(m)
    for k, a in enumerate(coefficients):
        w += a * np.cos(k * x)
    return w


def _general_hamming(m: int, alpha: float) -> _F64:
    return cosine_sum(m, (alpha, 1.0 - alpha))


def _boxcar(m: int) -> _F64:
    return np.ones(m)


def _triang(m: int) -> _F64:
    half = np.arange(1, (m + 1) // 2 + 1, dtype=np.float64)
    if m % 2 == 0:
        w = (2 * half - 1.0) / m
        return np.concatenate([w, w[::-1]])
    w = 2 * half / (m + 1.0)
    return np.concatenate([w, w[-2::-1]])


def _bartlett(m: int) -> _F64:
    n = np.arange(m, dtype=np.float64)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


def _parzen(m: int) -> _F64:
    a = np.abs(np.arange(m) - (m - 1) / 2.0)
    r = a / (m / 2.0)
    w: _F64 = np.where(a <= (m - 1) / 4.0, 1 - 6 * r ** 2.0 + 6 * r ** 3.0, 2 * (1 - r) ** 3.0)
    return w


def _bohman(m: int) -> _F64:
    fac = np.abs(np.linspace(-1, 1, m)[1:-1])
    inner = (1 - fac) * np.cos(np.pi * fac) + 1.0 / np.pi * np.sin(np.pi * fac)
    return np.concatenate([[0.0], inner, [0.0]])


def _barthann(m: int) -> _F64:
    fac = np.abs(np.arange(m) / (m - 1.0) - 0.5)
    w: _F64 = 0.62 - 0.48 * fac + 0.38 * np.cos(2 * np.pi * fac)
    return w


def _cosine(m: int) -> _F64:
    w: _F64 = np.sin(np.pi / m * (np.arange(m) + 0.5))
    return w


def _lanczos(m: int) -> _F64:
    start = m / 2 if m % 2 == 0 else (m + 1) / 2
    right = np.sinc(2.0 * np.arange(start, m) / (m - 1) - 1.0)
    middle = [] if m % 2 == 0 else [1.0]
    return np.concatenate([right[::-1], middle, right])


def _tukey(m: int, alpha: float) -> _F64:
    if alpha <= 0:
        return np.ones(m)
    if alpha >= 1.0:
        return _general_hamming(m, 0.5)
    n = np.arange(m, dtype=np.float64)
    width = int(math.floor(alpha * (m - 1) / 2.0))
    n1, n3 = n[:width + 1], n[m - width - 1:]
    w1 = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * n1 / alpha / (m - 1))))
    w3 = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * n3 / alpha / (m - 1))))
    return np.concatenate([w1, np.ones(m - 2 * (width + 1)), w3])


def _gaussian(m: int, std: float) -> _F64:
    n = np.arange(m) - (m - 1.0) / 2.0
    w: _F64 = np.exp(-n ** 2 / (2 * std * std))
    return w


def _general_gaussian(m: int, p: float, sig: float) -> _F64:
    n = np.arange(m) - (m - 1.0) / 2.0
    w: _F64 = np.exp(-0.5 * np.abs(n / sig) ** (2 * p))
    return w


def _exponential(m: int, center: float | None, tau: float) -> _F64:
    if center is None:
        center = (m - 1) / 2
    w: _F64 = np.exp(-np.abs(np.arange(m) - center) / tau)
    return w


def bessel_i0(x: npt.ArrayLike) -> _F64:
    """The modified Bessel function I0 of an array of ``x >= 0``, to a few ulp.

    Below 30, its power series sum_k ((x/2)^k / k!)^2 (positive terms, so no
    cancellation; 60 terms reach below 1e-30 of the sum at x = 30); from 30
    on, the asymptotic series e^x / sqrt(2 pi x) * sum_k ((2k-1)!!)^2 / (k! (8x)^k),
    whose terms keep shrinking up to k = 2x and are below 1e-20 of the sum
    by k = 25.  It overflows, as e^x does, beyond x = 709.78.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    small = x < 30.0
    q = 0.25 * x[small] ** 2
    term = np.ones_like(q)
    total = np.ones_like(q)
    for k in range(1, 61):
        term *= q / (k * k)
        total += term
    out[small] = total
    big = x[~small]
    inverse = 1.0 / (8.0 * big)
    term = np.ones_like(big)
    total = np.ones_like(big)
    for k in range(1, 26):
        term *= (2 * k - 1) ** 2 * inverse / k
        total += term
    with np.errstate(over="ignore"):  # beyond MAX_KAISER_BETA, as documented
        out[~small] = np.exp(big) / np.sqrt(2 * np.pi * big) * total
    return out


def _kaiser(m: int, beta: float) -> _F64:
    n = np.arange(m, dtype=np.float64)
    alpha = (m - 1) / 2.0
    return bessel_i0(beta * np.sqrt(1 - ((n - alpha) / alpha) ** 2.0)) / bessel_i0(beta)


def _kaiser_bessel_derived(m: int, beta: float) -> _F64:
    sums = np.cumsum(_kaiser(m // 2 + 1, beta))
    half = np.sqrt(sums[:-1] / sums[-1])
    return np.concatenate([half, half[::-1]])


def _chebwin(m: int, at: float) -> _F64:
    """The Dolph-Chebyshev window: the inverse DFT of the Chebyshev polynomial
    of degree m - 1 sampled around the unit circle (by numpy's FFT)."""
    order = m - 1.0
    ripple = 10 ** (abs(at) / 20.0)
    beta = np.cosh(1.0 / order * np.arccosh(ripple))
    x = beta * np.cos(np.pi * np.arange(m) / m)
    p = np.zeros(m)
    above, below = x > 1, x < -1
    inside = ~(above | below)
    p[above] = np.cosh(order * np.arccosh(x[above]))
    p[below] = (2 * (m % 2) - 1) * np.cosh(order * np.arccosh(-x[below]))
    p[inside] = np.cos(order * np.arccos(x[inside]))
    # |p| <= ripple; scaled to 1, m of them cannot overflow the transform's sums
    # (scipy's window is NaN there), and the window is normalised below anyway.
    p /= ripple
    if m % 2:
        half = np.fft.rfft(p).real
        w = np.concatenate([half[:0:-1], half])
    else:
        # A half-sample shift puts the samples of an even window between the bins.
        half = np.fft.fft(p * np.exp(1j * np.pi / m * np.arange(m))).real[1:m // 2 + 1]
        w = np.concatenate([half[::-1], half])
    normalised: _F64 = w / np.max(w)
    return normalised


def _taylor(m: int, nbar: int, sll: float, norm: bool) -> _F64:
    a = np.arccosh(10 ** (sll / 20)) / np.pi
    s2 = nbar ** 2 / (a ** 2 + (nbar - 0.5) ** 2)
    ma = np.arange(1, nbar, dtype=np.float64)
    m2 = ma * ma
    signs = np.where(ma % 2 == 1, 1.0, -1.0)
    numer = signs * np.prod(1 - m2[:, None] / s2 / (a ** 2 + (ma[None, :] - 0.5) ** 2), axis=1)
    ratios = 1 - m2[:, None] / m2[None, :]
    np.fill_diagonal(ratios, 1.0)
    coefficients = numer / (2 * np.prod(ratios, axis=1))

    def at(n: _F64) -> _F64:
        w = np.zeros(np.shape(n))
        for c, k in zip(coefficients, ma):
            w += c * np.cos(2 * np.pi * k * (n - m / 2.0 + 0.5) / m)
        return 1 + 2 * w

    w = at(np.arange(m, dtype=np.float64))
    if norm:
        w *= 1.0 / at(np.array([(m - 1) / 2]))
    return w


def _tridiagonal_spd_solve(a: _F64, b: _F64, f: _F64) -> _F64 | None:
    """x with A x = f, A the symmetric tridiagonal matrix of diagonal ``a`` and
    off-diagonal ``b``; None when A is not positive definite.

    Odd-even reduction: eliminating the odd unknowns (not coupled to each
    other) leaves a tridiagonal system in the even ones, half the size.  It is
    Gaussian elimination in a symmetric reordering, so its pivots (the odd
    diagonals at every level) have the signs of A's eigenvalues (Sylvester),
    all positive exactly when A is positive definite, and without pivoting it
    is backward stable for such matrices.  numpy does each level at once.
    """
    levels = []
    while a.size > 1:
        odd = a[1::2]
        if not np.all(odd > 0):
            return None
        n_even, n_odd = (a.size + 1) // 2, a.size // 2
        left, right = b[0::2], b[1::2]  # couplings of odd unknown j to even j and j + 1
        f_odd = f[1::2]
        g, h = left / odd, right / odd[:n_even - 1]
        a_next, f_next = a[0::2].copy(), f[0::2].copy()
        a_next[:n_odd] -= left * g
        a_next[1:] -= right * h
        f_next[:n_odd] -= g * f_odd
        f_next[1:] -= h * f_odd[:n_even - 1]
        levels.append((odd, left, right, f_odd))
        a, b, f = a_next, -g[:n_even - 1] * right, f_next
    if not a[0] > 0:
        return None
    x = f / a
    for odd, left, right, f_odd in reversed(levels):
        x_odd = f_odd - left * x[:odd.size]
        x_odd[:x.size - 1] -= right * x[1:]
        x_odd /= odd
        both = np.empty(x.size + odd.size)
        both[0::2], both[1::2] = x, x_odd
        x = both
    return x


#: Solves allowed for a DPSS: those seen up to 2**20 samples take 3 to 15; far
#: longer windows, whose eigenvector float64 cannot resolve anyway
#: (eps * length**2 / 2 > 1e-4), may stop here.
_DPSS_MAX_SOLVES = 60


def _top_eigenvector(d: _F64, e: _F64) -> _F64:
    """The unit eigenvector of the largest eigenvalue of the symmetric
    tridiagonal matrix T (diagonal ``d``, off-diagonal ``e``), with a positive
    sum.

    Inverse iteration with shifts s above the largest eigenvalue, where
    s I - T is positive definite (every solve checks it): each solve
    multiplies the wanted component most, and a solve that finds s too low
    raises the bracket's lower end instead.  The shift follows the Rayleigh
    quotient plus the residual norm (an eigenvalue lies within that of the
    quotient), which converges in a few solves; once the residual is down to
    rounding, the shift stays put until the vector stops changing.  Starting
    from a vector of ones, every iterate keeps a positive sum, the sign
    scipy gives the window ((s I - T)^-1 is positive definite).
    """
    radius = np.zeros(d.size)
    radius[:-1] += np.abs(e)
    radius[1:] += np.abs(e)
    high, low = float(np.max(d + radius)), float(np.min(d - radius))
    scale = max(abs(high), abs(low))
    lower, upper = low, high + 8 * _EPS * scale  # Gershgorin's bounds, the upper one strict
    shift, settled, last_change = upper, False, np.inf
    v: npt.NDArray[np.float64] = np.full(d.size, 1.0 / math.sqrt(d.size))
    for _ in range(_DPSS_MAX_SOLVES):
        x = _tridiagonal_spd_solve(shift - d, -e, v)
        if x is None:
            lower, shift = shift, 0.5 * (shift + upper)
            continue
        upper = shift
        x /= np.linalg.norm(x)
        change = np.max(np.abs(x - v))
        v = x
        if settled:
            # At a fixed shift the change shrinks geometrically down to rounding.
            if change <= 8 * _EPS * np.max(np.abs(v)) or change >= last_change:
                break
            last_change = change
            continue
        tv = d * v
        tv[:-1] += e * v[1:]
        tv[1:] += e * v[:-1]
        rayleigh = float(v @ tv)
        residual = float(np.linalg.norm(tv - rayleigh * v))
        lower = max(lower, rayleigh)
        settled = residual <= 64 * _EPS * scale or upper - lower <= 4 * _EPS * scale
        if not settled:
            shift = min(upper, rayleigh + residual)
            if shift <= lower:
                shift = 0.5 * (lower + upper)
    return v


def _dpss(m: int, nw: float) -> _F64:
    """The first discrete prolate spheroidal sequence: the top eigenvector of
    the tridiagonal matrix that commutes with the time-bandwidth concentration
    problem (Slepian), normalised as scipy's ``norm='approximate'``."""
    n = np.arange(m, dtype=np.float64)
    d = ((m - 1 - 2 * n) / 2.0) ** 2 * np.cos(2 * np.pi * (float(nw) / m))
    e = n[1:] * (m - n[1:]) / 2.0
    w = _top_eigenvector(d, e)
    w /= np.max(w)
    if m % 2 == 0:
        w *= m ** 2 / float(m ** 2 + nw)
    return w


# --- parameters -----------------------------------------------------------------------------------
# Each check takes the parameter values (defaults filled in), the length asked
# for, whether the window is symmetric and the window's description for
# messages, and returns the values the shape takes.

def _number(value: object, what: str, label: str, allowed: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
            or not np.isfinite(cast(float, value)):
        raise ParameterError(f"{what}: {label} must be {allowed}, got {value!r}")
    return float(value)


def _positive(value: object, what: str, label: str) -> float:
    value = _number(value, what, label, "a finite number > 0")
    if value <= 0:
        raise ParameterError(f"{what}: {label} must be > 0, got {value!r}")
    return value


def _check_beta(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    beta = _number(values[0], what, "beta", f"a finite number in [0, {MAX_KAISER_BETA:.2f}]")
    if not 0 <= beta <= MAX_KAISER_BETA:
        raise ParameterError(
            f"{what}: beta must be in [0, {MAX_KAISER_BETA:.2f}] (beyond, the Bessel function "
            f"I0(beta) overflows), got {beta!r}")
    return (beta,)


def _check_kbd(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    if not (symmetric and m % 2 == 0):
        raise ParameterError(
            f"{what}: the Kaiser-Bessel derived window is only defined symmetric (fftbins=False, "
            f"or the name with '_symmetric') and of even length, got "
            f"{'a symmetric' if symmetric else 'a periodic'} window of length {m}")
    return _check_beta(values, m, symmetric, what)


def _check_std(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    std = _positive(values[0], what, "std")
    if 2 * std * std == 0:
        raise ParameterError(
            f"{what}: std is so small that 2 * std**2 underflows to 0 (the window would be "
            f"0 / 0 at its centre); use std >= 1e-154, got {std!r}")
    return (std,)


def _check_general_gaussian(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    return _positive(values[0], what, "p"), _positive(values[1], what, "sig")


def _check_alpha(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    return (_number(values[0], what, "alpha", "a finite number"),)


def _check_tukey(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    return (_number(values[0], what, "alpha", "a finite number (<= 0: boxcar, >= 1: hann)"),)


def _check_coefficients(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    try:
        a = np.asarray(values[0])
    except (TypeError, ValueError):  # ragged sequences
        a = np.asarray(None)
    if a.ndim != 1 or a.size == 0 or a.dtype.kind not in "iuf" or not np.all(np.isfinite(a)):
        raise ParameterError(
            f"{what}: the coefficients a must be a non-empty 1-D sequence of finite real "
            f"numbers, got {values[0]!r}")
    return (a.astype(np.float64),)


def _check_exponential(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    center, tau = values
    if center is not None:
        if symmetric:
            raise ParameterError(
                f"{what}: a symmetric exponential window is centred; center must be None with "
                f"fftbins=False, got {center!r}")
        center = _number(center, what, "center", "None or a finite number")
    return center, _positive(tau, what, "tau")


def _check_taylor(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    nbar, sll, norm = values
    if isinstance(nbar, (bool, np.bool_)) or not isinstance(nbar, numbers.Integral) \
            or not 1 <= int(nbar) <= MAX_TAYLOR_NBAR:
        raise ParameterError(
            f"{what}: nbar must be an integer in [1, {MAX_TAYLOR_NBAR}], got {nbar!r}")
    sll = _number(sll, what, "sll", f"a number of dB in [0, {MAX_DB}]")
    if not 0 <= sll <= MAX_DB:
        raise ParameterError(f"{what}: sll must be in [0, {MAX_DB}] dB, got {sll!r}")
    if not isinstance(norm, (bool, np.bool_)):
        raise ParameterError(f"{what}: norm must be True or False, got {norm!r}")
    return int(nbar), sll, bool(norm)


def _check_chebwin(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    at = _number(values[0], what, "at", f"a number of dB in [-{MAX_DB}, {MAX_DB}]")
    if abs(at) > MAX_DB:
        raise ParameterError(
            f"{what}: the attenuation at must be at most {MAX_DB} dB in magnitude "
            f"(10 ** (at / 20) must be finite), got {at!r}")
    if abs(at) < 45:
        # scipy's warning, word for word: librosa users see it for these windows.
        warnings.warn(
            "This window is not suitable for spectral analysis for attenuation values lower "
            "than about 45dB because the equivalent noise bandwidth of a Chebyshev window does "
            "not grow monotonically with increasing sidelobe attenuation when the attenuation "
            "is smaller than about 45 dB.", UserWarning, stacklevel=_user_stacklevel())
    return (at,)


def _check_nw(values: Sequence[Any], m: int, symmetric: bool, what: str) -> _Params:
    nw = _positive(values[0], what, "NW")
    if m > 1 and nw >= m / 2:
        raise ParameterError(
            f"{what}: NW must be below half the window length ({m / 2:g}), got {nw!r}")
    return (nw,)


def _user_stacklevel() -> int:
    """The stacklevel of the first frame outside fastmel (the user's call)."""
    frame: FrameType | None
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("fastmel"):
        frame, level = frame.f_back, level + 1
    return level


# --- specifications -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Shape:
    """A window family: scipy's name, its aliases, its parameters (names and
    defaults, ``REQUIRED`` for none), their check and the symmetric window."""

    name: str
    aliases: tuple[str, ...]
    symmetric: Callable[..., _F64]
    params: tuple[tuple[str, object], ...] = ()
    check: Callable[[Sequence[Any], int, bool, str], _Params] | None = None


REQUIRED = object()


def _cosines(*coefficients: float) -> Callable[[int], _F64]:
    return lambda m: cosine_sum(m, coefficients)


SHAPES = (
    Shape("barthann", ("brthan", "bth"), _barthann),
    Shape("bartlett", ("bart", "brt"), _bartlett),
    Shape("blackman", ("black", "blk"), _cosines(0.42, 0.50, 0.08)),
    Shape("blackmanharris", ("blackharr", "bkh"), _cosines(0.35875, 0.48829, 0.14128, 0.01168)),
    Shape("bohman", ("bman", "bmn"), _bohman),
    Shape("boxcar", ("box", "ones", "rect", "rectangular"), _boxcar),
    Shape("chebwin", ("cheb",), _chebwin, (("at", REQUIRED),), _check_chebwin),
    Shape("cosine", ("halfcosine",), _cosine),
    Shape("dpss", (), _dpss, (("NW", REQUIRED),), _check_nw),
    Shape("exponential", ("poisson",), _exponential, (("center", None), ("tau", 1.0)),
          _check_exponential),
    Shape("flattop", ("flat", "flt"),
          _cosines(0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368)),
    Shape("gaussian", ("gauss", "gss"), _gaussian, (("std", REQUIRED),), _check_std),
    Shape("general_cosine", ("general cosine",), cosine_sum, (("a", REQUIRED),),
          _check_coefficients),
    Shape("general_gaussian", ("general gaussian", "general gauss", "general_gauss", "ggs"),
          _general_gaussian, (("p", REQUIRED), ("sig", REQUIRED)), _check_general_gaussian),
    Shape("general_hamming", ("general hamming",), _general_hamming, (("alpha", REQUIRED),),
          _check_alpha),
    Shape("hamming", ("hamm", "ham"), lambda m: _general_hamming(m, 0.54)),
    Shape("hann", ("han",), lambda m: _general_hamming(m, 0.5)),
    Shape("kaiser", ("ksr",), _kaiser, (("beta", REQUIRED),), _check_beta),
    Shape("kaiser_bessel_derived", ("kaiser bessel derived", "kbd"), _kaiser_bessel_derived,
          (("beta", REQUIRED),), _check_kbd),
    Shape("lanczos", ("sinc",), _lanczos),
    Shape("nuttall", ("nutl", "nut"), _cosines(0.3635819, 0.4891775, 0.1365995, 0.0106411)),
    Shape("parzen", ("parz", "par"), _parzen),
    Shape("taylor", ("taylorwin",), _taylor, (("nbar", 4), ("sll", 30), ("norm", True)),
          _check_taylor),
    Shape("triang", ("triangle", "tri"), _triang),
    Shape("tukey", ("tuk",), _tukey, (("alpha", 0.5),), _check_tukey),
)

#: Every accepted name (lower case) -> its Shape.
BY_NAME = {name: shape for shape in SHAPES for name in (shape.name,) + shape.aliases}


def parse(shape: Shape, args: Sequence[object], m: int, symmetric: bool,
          what: str) -> tuple[Any, ...]:
    """The parameters of ``shape`` given as ``args`` (a tuple), defaults filled
    in, checked for a window of length ``m``, symmetric or not."""
    names = [label for label, _ in shape.params]
    required = sum(default is REQUIRED for _, default in shape.params)
    if not required <= len(args) <= len(names):
        counted = f"{len(names)} parameter{'s' * (len(names) > 1)} ({', '.join(names)})"
        if not names:
            allowed = f"takes no parameters; use '{shape.name}' alone"
        elif required == len(names):
            allowed = f"takes {counted}, e.g. ('{shape.name}', {', '.join(names)})"
        else:
            allowed = (f"takes up to {counted}, e.g. ('{shape.name}', {', '.join(names)}); "
                       f"defaults: {', '.join(f'{k}={v!r}' for k, v in shape.params)}")
        raise ParameterError(f"{what}: the {shape.name} window {allowed}; got {len(args)}")
    if shape.check is None:  # a shape without parameters
        return ()
    values = tuple(args) + tuple(default for _, default in shape.params[len(args):])
    return shape.check(values, m, symmetric, what)


def symmetric_window(name: str, m: int, *params: Any) -> _F64:
    """The symmetric window ``name`` (a name of :data:`SHAPES`) of ``m >= 2``
    samples, ``params`` checked (:func:`parse`)."""
    return BY_NAME[name].symmetric(m, *params)
