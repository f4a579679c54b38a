"""The stream base: safety every streaming stage shares.

* One in-use flag per stream (``enter``/``leave`` in the .pxd for compiled
  streams, :class:`InUse` for Python ones): a second thread entering a stream
  that another thread is inside gets a RuntimeError instead of sharing its
  buffers.
* Checks for state restored by unpickling, which is untrusted: each field is
  checked (type, shape, dtype, range, finiteness) before anything indexes it,
  and a bad one raises ValueError naming the field.

Only numpy is imported here: this module sits below every Python-layer module.
"""
import numpy as np

cimport numpy as cnp

cnp.import_array()


cdef int raise_in_use(object stream) except -1:
    name = type(stream).__name__
    raise RuntimeError(
        f"this {name} is in use by another thread; give each thread its own stream "
        f"(stream() / copy.deepcopy)")


cdef class InUse:
    """The in-use flag for a stream written in Python: ``with self._in_use: ...``.

    Not reentrant: a stream's methods take it once, at the public entry.
    """

    def __cinit__(self, stream):
        # A weak tie would cost more than it saves: the flag lives and dies with
        # its stream, and only the type's name is needed.
        self.stream = type(stream)

    def __enter__(self):
        if self.busy:
            raise RuntimeError(
                f"this {self.stream.__name__} is in use by another thread; give each thread "
                f"its own stream (stream() / copy.deepcopy)")
        self.busy = 1
        return self

    def __exit__(self, *exc):
        self.busy = 0
        return False

    def __reduce__(self):
        raise TypeError("an in-use flag is not picklable; the stream pickles its own state")


def _bad(name, what, value):
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return ValueError(f"fastmel: restored stream state: {name} must be {what}, got {text}")


def check_state_int(value, name, lo, hi):
    """``value`` as an int in [lo, hi]; a bool or non-integer raises ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise _bad(name, f"an integer in [{lo}, {hi}]", value)
    value = int(value)
    if not lo <= value <= hi:
        raise _bad(name, f"an integer in [{lo}, {hi}]", value)
    return value


def check_state_bool(value, name):
    """``value`` as a bool (True, False, or numpy's)."""
    if not isinstance(value, (bool, np.bool_)):
        raise _bad(name, "True or False", value)
    return bool(value)


def check_state_float(value, name, lo, hi):
    """``value`` as a float in [lo, hi] (NaN is refused; the bounds may be infinite)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                    np.floating)):
        raise _bad(name, f"a number in [{lo}, {hi}]", value)
    value = float(value)
    if not lo <= value <= hi:
        raise _bad(name, f"a number in [{lo}, {hi}]", value)
    return value


def check_state_lead(value, name="lead"):
    """A leading shape: a tuple of at most MAX_LEAD_ND non-negative ints."""
    if not isinstance(value, tuple) or len(value) > MAX_LEAD_ND:
        raise _bad(name, f"a tuple of at most {MAX_LEAD_ND} sizes", value)
    return tuple(check_state_int(d, f"{name}[{i}]", 0, 2 ** 62) for i, d in enumerate(value))


def check_state_array(value, name, shape, dtype, finite=True):
    """``value`` as an ndarray of exactly ``dtype`` and ``shape`` (None: any
    length on that axis), all finite unless told otherwise."""
    dtype = np.dtype(dtype)
    if type(value) is not np.ndarray:
        raise _bad(name, f"a numpy array of {dtype}", type(value))
    if value.dtype != dtype:
        raise _bad(name, f"a numpy array of {dtype}", value.dtype)
    if value.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(value.shape, shape)):
        raise _bad(name, f"of shape {tuple('any' if s is None else s for s in shape)}",
                   value.shape)
    if finite and value.size and not np.isfinite(value).all():
        raise _bad(name, "finite", "an array with NaN or inf")
    return value


def check_state_dtype(value, name, allowed):
    """``value`` (a dtype or its string) as one of the ``allowed`` dtypes."""
    try:
        dtype = np.dtype(value) if isinstance(value, (str, np.dtype)) else None
    except TypeError:
        dtype = None
    allowed = [np.dtype(a) for a in allowed]
    if dtype is None or dtype not in allowed:
        raise _bad(name, f"one of {[str(a) for a in allowed]}", value)
    return dtype


def check_state_fields(value, name, fields):
    """``value`` as a dict with exactly the keys ``fields``."""
    if type(value) is not dict or set(value) != set(fields):
        raise _bad(name, f"a dict of {sorted(fields)}",
                   sorted(value) if type(value) is dict else type(value))
    return value


def check_state_tuple(value, name, n):
    """``value`` as a tuple of n items."""
    if type(value) is not tuple or len(value) != n:
        raise _bad(name, f"a tuple of {n} items", value)
    return value
