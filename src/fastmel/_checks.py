"""Input checks shared by the public modules.

Public functions validate and coerce here, then hand the compiled core arrays
it can trust: float32 or float64, finite, of the agreed shape.
"""
import functools
import numbers
import os
import sys

import numpy as np

from fastmel._spectral import all_finite, all_within
from fastmel.exceptions import ParameterError


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
    item = x.dtype.itemsize
    if x.flags.aligned and all(s % item == 0 for s in x.strides):
        return x
    return np.ascontiguousarray(x)


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


def stream_chunk(chunk, lead, dtype=None):
    """A stream's chunk, checked, as ``((channels, k) array, leading shape)``.

    The checks and conversion of an offline call (real floats, other float
    types converted, finite after conversion), plus the stream's channel
    layout: ``lead`` is the leading shape fixed by its first chunk (None until
    then).  Every stream's slow path goes through here, before any state
    changes; fast paths only skip it for arrays already in the right form.
    """
    x = audio(chunk, "chunk", dtype=dtype)
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
