"""Input checks: the one place where data entering fastmel is validated.

Public functions and the streams validate and coerce here, then hand the
compiled core arrays it can trust: float32 or float64, finite, of the agreed
shape.  This module is compiled and sits at the bottom: it imports only numpy
(and its C headers), so every compiled module can use it.
"""
import functools
import numbers
import os
import sys

import numpy as np

cimport numpy as cnp

cnp.import_array()

cdef extern from "fastmel_db.h" nogil:
    int fastmel_all_finite_f32(const float* x, long n, long stride)
    int fastmel_all_finite_f64(const double* x, long n, long stride)
    int fastmel_all_within_f32(const float* x, long n, long stride, float limit)
    int fastmel_all_within_f64(const double* x, long n, long stride, double limit)


class ParameterError(ValueError):
    """A parameter or a piece of data that fastmel cannot work with.

    The message names the parameter, the value received and what is allowed.
    """


# Defined here so the compiled modules can raise it; its public home is
# fastmel.exceptions (and fastmel.ParameterError), which is what pickles name.
ParameterError.__module__ = "fastmel.exceptions"


def audio(y, name="y", dtype=None):
    """``y`` as a float32/float64 array (``dtype`` when given) of at least one
    dimension, finite after any conversion."""
    return finite_float(real_float(y, name), name, dtype)


def finite_float(y, name="y", dtype=None):
    """:func:`audio` of an array :func:`real_float` returned (for a caller that
    needed its dtype first): converted and scanned once."""
    y = _shaped(y, name, dtype)
    if not all_finite(y):
        raise ParameterError(f"{name} contains non-finite values (NaN or inf); audio must be finite")
    return y


#: Allocations up to this many bytes need no check against the machine's
#: memory (nothing fastmel runs in has less to give); hot paths skip the call.
SMALL_ALLOCATION = 1 << 24


def allocation(nbytes, what, hint=None):
    """Refuse, before anything is allocated, ``nbytes`` that this machine cannot
    hold: more than its physical memory or the process's address-space limit.
    Such a request could not complete, and under Linux's overcommit it may be
    granted and then get the process killed while it is filled."""
    limit = memory_limit()
    if nbytes > limit:
        raise ParameterError(
            f"{what} would take {nbytes / 2**30:.4g} GiB, more than this machine can "
            f"allocate ({limit / 2**30:.4g} GiB)" + (f"; {hint}" if hint else ""))


def memory_limit():
    """Bytes one allocation can have at most: physical memory, or the process's
    address-space limit (RLIMIT_AS) when that is lower."""
    limit = physical_memory() or sys.maxsize
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY:
            limit = min(limit, soft)
    except (ImportError, ValueError, OSError):  # no resource module (Windows)
        pass
    return limit


@functools.lru_cache(maxsize=None)
def physical_memory():
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return None


def bounded_audio(y, limit, name="y", dtype=None):
    """:func:`audio` whose single scan also bounds the samples' magnitude by
    ``limit`` (the spectral kernels' ``max_amplitude``: beyond it a power
    spectrum could overflow and come out as inf)."""
    return bounded_float(real_float(y, name), limit, name, dtype)


def bounded_float(y, limit, name="y", dtype=None):
    """:func:`bounded_audio` of an array :func:`real_float` returned."""
    y = _shaped(y, name, dtype)
    if not all_within(y, limit):
        if not all_finite(y):
            raise ParameterError(
                f"{name} contains non-finite values (NaN or inf); audio must be finite")
        raise ParameterError(
            f"{name} has samples up to {float(np.max(np.abs(y))):.3g} in magnitude, but "
            f"{y.dtype} analysis with these settings (window, power, mel filters) takes at most "
            f"{limit:.3g} without overflowing; scale the signal down"
            + (" or use float64" if y.dtype == np.float32 else ""))
    return y


def _shaped(y, name, dtype):
    """``y``, a float32/float64 array, in ``dtype`` (when given), of at least one
    dimension, and readable by the compiled core."""
    if dtype is not None:
        with np.errstate(over="ignore"):  # an overflow is reported by the caller's scan
            y = y.astype(dtype, copy=False)
    if y.ndim == 0:
        raise ParameterError(f"{name} must have at least one dimension (time last), got a scalar")
    return element_strided(y)


def element_strided(x):
    """``x`` itself when the compiled core can step through it in whole elements
    from an aligned start, else its contiguous copy (a float field of a
    structured array can sit 6 bytes apart, at an odd address)."""
    cdef cnp.ndarray a = x
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(a), i
    if not cnp.PyArray_ISALIGNED(a):
        return np.ascontiguousarray(x)
    for i in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_STRIDE(a, i) % item:
            return np.ascontiguousarray(x)
    return x


def real_float(x, name):
    """``x`` as a float32/float64 array; other real floats are converted."""
    x = np.asarray(x)
    kind = x.dtype.kind
    if kind in "iub":
        raise TypeError(
            f"{name} must be floating-point audio, got dtype {x.dtype}; convert integer PCM "
            f"to float first, e.g. y.astype(np.float32) / 32768 for int16")
    if kind == "c":
        raise TypeError(
            f"{name} must be real-valued, got complex dtype {x.dtype}; pass np.real(y) or np.abs(y)")
    if kind != "f":
        raise TypeError(f"{name} must be a real floating-point array, got dtype {x.dtype}")
    if x.dtype == np.float32 or x.dtype == np.float64:
        return x
    if x.dtype.itemsize in (4, 8):  # float32/float64 in the other byte order: same values
        return x.astype(x.dtype.newbyteorder("="))
    return x.astype(np.float32 if x.dtype.itemsize < 4 else np.float64)


def complex_float(x, name):
    """``x`` as a complex64/complex128 array; other complex types are converted
    (long double to complex128, the other byte order to the native one)."""
    x = np.asarray(x)
    kind = x.dtype.kind
    if kind != "c":
        what = "real" if kind == "f" else f"of dtype {x.dtype}"
        raise TypeError(
            f"{name} must be a complex spectrum (as fastmel.stft returns), got a {what} array "
            f"(dtype {x.dtype}); pass the complex STFT, not its magnitude")
    if x.dtype == np.complex64 or x.dtype == np.complex128:
        return x
    if x.dtype.itemsize in (8, 16):  # the other byte order: same values
        return x.astype(x.dtype.newbyteorder("="))
    return x.astype(np.complex128)


def spectrum(S, name, dtype=None, bound=None, scan=True):
    """``S`` (as :func:`complex_float` returned it) in ``dtype`` (when given), of at
    least one dimension, readable by the compiled core, finite after any
    conversion and, with ``bound``, no real or imaginary part beyond it (not
    scanned without ``scan``: for a caller whose kernel checks as it reads)."""
    if dtype is not None:
        with np.errstate(over="ignore"):  # an overflow is reported by the scan below
            S = S.astype(dtype, copy=False)
    if S.ndim == 0:
        raise ParameterError(f"{name} must have at least one dimension, got a scalar")
    S = element_strided(S)
    if not scan or bound is not None and all_within(S.real, bound) and all_within(S.imag,
                                                                                  bound):
        return S
    if not (all_finite(S.real) and all_finite(S.imag)):
        raise ParameterError(
            f"{name} contains non-finite values (NaN or inf); a spectrum must be finite")
    if bound is not None:
        peak = max(float(np.max(np.abs(S.real))), float(np.max(np.abs(S.imag))))
        raise ParameterError(
            f"{name} has real or imaginary parts up to {peak:.3g} in magnitude, but {S.dtype} "
            f"synthesis with these settings (window, n_fft, hop_length) takes at most "
            f"{bound:.3g} without overflowing; scale it down"
            + (" or use complex128" if S.dtype == np.complex64 else ""))
    return S


def positive_int(value, name, *, allow_none=False, maximum=None):
    """``value`` as an int >= 1 (and <= ``maximum``, a power of two, when given)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral) or value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        raise ParameterError(f"{name} must be <= 2**{maximum.bit_length() - 1} = {maximum}, "
                             f"got {value}")
    return int(value)


def finite_number(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ParameterError(f"{name} must be a finite number, got {value!r}")
    return float(value)


def positive_number(value, name):
    value = finite_number(value, name)
    if value <= 0:
        raise ParameterError(f"{name} must be > 0, got {value!r}")
    return value


def stream_chunk(chunk, lead, dtype=None, bound=None, is_complex=False):
    """A stream's chunk, checked, as ``((channels, k) array, leading shape)``.

    The checks and conversion of an offline call (real floats, other float
    types converted, finite after conversion, within ``bound`` when given;
    with ``is_complex``, complex values as :func:`spectrum` checks them),
    plus the stream's channel layout: ``lead`` is the leading shape fixed by
    its first chunk (None until then).  Every stream's slow path goes through
    here, before any state changes; fast paths only skip it for arrays
    already in the right form.
    """
    if is_complex:
        x = spectrum(complex_float(chunk, "chunk"), "chunk", dtype, bound)
    elif bound is None:
        x = audio(chunk, "chunk", dtype=dtype)
    else:
        x = bounded_audio(chunk, bound, "chunk", dtype=dtype)
    this = x.shape[:-1]
    if lead is not None and this != lead:
        raise ParameterError(
            f"chunk has leading shape {this}, but this stream carries {lead}; "
            f"the leading shape is fixed per stream (reset() to change it)")
    return x.reshape(int(np.prod(this, dtype=np.int64)), x.shape[-1]), this


class ChannelLayout:
    """The leading shape a signal stream is fixed to by its first chunk."""

    def __init__(self):
        self.lead = None

    def check(self, chunk):
        """``chunk`` as a checked (channels, k) float array and its leading shape."""
        return stream_chunk(chunk, self.lead)

    def accept(self, lead):
        self.lead = lead


# ---------------------------------------------------------------------------
# Scans: finiteness and magnitude bounds, in one pass


def all_within(cnp.ndarray x, double limit):
    """True when every sample of the float32/float64 array ``x`` (aligned, strides
    whole elements) is finite and at most ``limit`` (finite, >= 0) in magnitude."""
    if x.ndim == 0 or x.size == 0:
        return bool(np.all(np.abs(x) <= limit))
    cdef cnp.ndarray x2 = x.reshape(-1, x.shape[x.ndim - 1])
    cdef Py_ssize_t item = x2.itemsize
    cdef bint ok
    with nogil:
        ok = within_rows(cnp.PyArray_DATA(x2), item == 8, x2.shape[0], x2.strides[0] // item,
                         x2.shape[1], x2.strides[1] // item, limit)
    return ok


cdef bint within_rows(const void* x, bint is_double, Py_ssize_t rows, Py_ssize_t row_stride,
                      Py_ssize_t n, Py_ssize_t stride, double limit) noexcept nogil:
    """True when all ``rows x n`` values (strides in elements) are within +-limit."""
    cdef Py_ssize_t r
    for r in range(rows):
        if is_double:
            if not fastmel_all_within_f64(<const double*>x + r * row_stride, n, stride, limit):
                return False
        else:
            if not fastmel_all_within_f32(<const float*>x + r * row_stride, n, stride,
                                          <float>limit):
                return False
    return True


def all_finite(cnp.ndarray x):
    """True when every sample of the float32/float64 array ``x`` (aligned, strides
    whole elements: see ``_checks.audio``) is finite."""
    if x.ndim == 0 or x.size == 0:
        return bool(np.isfinite(x).all())
    cdef cnp.ndarray x2 = x.reshape(-1, x.shape[x.ndim - 1])
    cdef Py_ssize_t item = x2.itemsize
    cdef bint ok
    with nogil:
        ok = finite_rows(cnp.PyArray_DATA(x2), item == 8, x2.shape[0], x2.strides[0] // item,
                         x2.shape[1], x2.strides[1] // item)
    return ok


cdef bint finite_rows(const void* x, bint is_double, Py_ssize_t rows, Py_ssize_t row_stride,
                      Py_ssize_t n, Py_ssize_t stride) noexcept nogil:
    """True when all ``rows x n`` values (strides in elements) are finite."""
    cdef Py_ssize_t r
    for r in range(rows):
        if is_double:
            if not fastmel_all_finite_f64(<const double*>x + r * row_stride, n, stride):
                return False
        else:
            if not fastmel_all_finite_f32(<const float*>x + r * row_stride, n, stride):
                return False
    return True


cdef bint readable_as_is(object chunk, int typenum, int lead_nd,
                         const cnp.npy_intp* dims) noexcept:
    """True when a stream can read ``chunk`` without the checks of stream_chunk's
    slow path: an ndarray of ``typenum`` (-1: float32 or float64) in native byte
    order, at most 2-D, whose leading dimensions are ``dims[:lead_nd]``.
    Finiteness is still the caller's to check."""
    cdef cnp.ndarray x
    cdef int i, t
    if not cnp.PyArray_Check(chunk):
        return False
    x = <cnp.ndarray>chunk
    t = cnp.PyArray_TYPE(x)
    if typenum >= 0 and t != typenum:
        return False
    if typenum < 0 and t != cnp.NPY_FLOAT32 and t != cnp.NPY_FLOAT64:
        return False
    if not cnp.PyArray_ISNOTSWAPPED(x) or x.ndim != lead_nd + 1 or x.ndim > 2:
        return False
    if not cnp.PyArray_ISALIGNED(x):
        return False
    for i in range(x.ndim):
        # The kernels step in whole elements (a field of a structured array
        # can be 6 bytes apart).
        if cnp.PyArray_STRIDE(x, i) % cnp.PyArray_ITEMSIZE(x) != 0:
            return False
    for i in range(lead_nd):
        if cnp.PyArray_DIM(x, i) != dims[i]:
            return False
    return True


# ---------------------------------------------------------------------------
# Layout: time is the last axis


#: Offline input of at least two dimensions whose last axis is this short (and
#: shorter than n_fft) while the axis before it holds at least n_fft samples
#: looks like soundfile's (frames, channels) layout, and is refused.
TRANSPOSED_MAX_LAST = 64

#: A stream's first chunk whose last axis has at most TRANSPOSED_STREAM_LAST
#: samples while the axis before it is longer than TRANSPOSED_STREAM_LEAD looks
#: transposed too (chunks are legitimately short, so the rule is stricter).
TRANSPOSED_STREAM_LAST = 8
TRANSPOSED_STREAM_LEAD = 64


def check_layout(shape, n_fft, name="y"):
    """Refuse offline input that looks like soundfile's ``(frames, channels)``."""
    if len(shape) >= 2 and 1 <= shape[-1] <= TRANSPOSED_MAX_LAST and shape[-1] < n_fft \
            and shape[-2] >= n_fft:
        raise ParameterError(_transposed_message(shape, name))


def check_stream_layout(shape):
    """Refuse a stream's first chunk that looks like soundfile's ``(frames, channels)``."""
    if len(shape) >= 2 and 1 <= shape[-1] <= TRANSPOSED_STREAM_LAST \
            and shape[-2] > TRANSPOSED_STREAM_LEAD:
        raise ParameterError(
            _transposed_message(shape, "chunk")
            + f"; a stream of more than {TRANSPOSED_STREAM_LEAD} channels fed at most "
              f"{TRANSPOSED_STREAM_LAST} samples at a time can fix its layout with an "
              f"empty first chunk of shape (..., channels, 0)")


def _transposed_message(shape, name):
    return (f"{name} has shape {tuple(shape)}: time is the last axis, and {shape[-2]} rows of "
            f"{shape[-1]} samples look like soundfile's (frames, channels) layout; "
            f"pass {name}.T (soundfile.read(...)[0].T)")
