"""The noise adder: looped noise at a fixed gain, added to a stream.

Output sample n of channel c is ``x[c, n] + scaled[c, (start + n) % m]``, where
``scaled`` is the noise times the gain, formed in float64 and rounded once to
the stream's dtype (what :func:`fastmel.add_noise` adds too), and the stream
position n is the base's ``n_in``: the noise position needs no state of its own.
"""
import numpy as np

cimport numpy as cnp

from fastmel._checks cimport finite_rows
from fastmel._checks import ParameterError, all_finite
from fastmel._streambase cimport Chunk, Stream, real
from fastmel._streambase import check_state_int

cnp.import_array()


cdef void _add(const real* x, Py_ssize_t xs, const real* noise, Py_ssize_t m, Py_ssize_t pos,
               real* y, Py_ssize_t k) noexcept nogil:
    """y[i] = x[i * xs] + noise[(pos + i) % m], in runs up to the noise's end."""
    cdef Py_ssize_t done = 0, i, run
    cdef const real* s
    while done < k:
        run = min(k - done, m - pos)
        s = noise + pos
        if xs == 1:
            for i in range(run):
                y[done + i] = x[done + i] + s[i]
        else:
            for i in range(run):
                y[done + i] = x[(done + i) * xs] + s[i]
        done += run
        pos = 0


cdef class NoiseAdder(Stream):
    """Adds ``gain * noise`` (looped from ``offset``) to a stream (see fastmel.NoiseMixer).

    ``noise`` is a checked float array (m,) or (..., m), kept as given; its
    scaled copy is made once per dtype the stream meets.
    """

    cdef readonly object noise
    """The noise, (m,) or (..., m), unscaled (NoiseMixer keeps a read-only copy)."""
    cdef readonly double gain
    """The factor the noise is multiplied by."""
    cdef readonly object offset
    """Where in the noise the stream starts (a sample index)."""
    cdef Py_ssize_t m, start, n_rows
    cdef dict scaled_by_dtype
    cdef cnp.ndarray scaled              # (n_rows, m) in the stream's dtype, C order

    def __init__(self, noise, double gain, offset):
        self.noise = noise
        self.gain = gain
        self.offset = offset
        self.m = noise.shape[-1]
        self.start = offset % self.m
        self.n_rows = noise.size // self.m
        self.scaled_by_dtype = {}

    cdef int engine_start(self) except -1:
        lead = self.noise.shape[:-1]
        if self.noise.ndim > 1 and lead != self.lead_shape:
            raise ParameterError(
                f"chunk has leading shape {self.lead_shape}, the noise has {lead}; give one "
                f"noise signal, or one per channel")
        scaled = self.scaled_by_dtype.get(self.work_dtype)
        if scaled is None:
            with np.errstate(over="ignore"):  # reported just below
                scaled = np.ascontiguousarray(
                    (self.gain * self.noise.astype(np.float64)).astype(self.work_dtype)
                ).reshape(self.n_rows, self.m)
            if not all_finite(scaled):
                raise ParameterError(
                    f"gain={self.gain!r} times the noise overflows {self.work_dtype}; use a "
                    f"smaller gain or float64 audio")
            self.scaled_by_dtype[self.work_dtype] = scaled
        self.scaled = scaled
        return 0

    cdef void engine_stop(self) noexcept:
        self.scaled = None

    cdef Py_ssize_t position(self) noexcept:
        """Where in the noise the next sample's noise is."""
        return (self.start + self.n_in % self.m) % self.m

    cdef object engine_get(self):
        return self.position()

    cdef int engine_set(self, object state) except -1:
        # The position follows from n_in; saved beside it, it makes a restored
        # n_in that does not fit the noise a detectable error.
        if check_state_int(state, "position", 0, self.m - 1) != self.position():
            raise ValueError(f"fastmel: restored stream state: position={state} does not fit "
                             f"n_in={self.n_in} and offset={self.offset}")
        return 0

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        return k

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef Py_ssize_t k = c.k, ch, pos = self.position()
        cdef Py_ssize_t row_step = self.m if self.n_rows > 1 else 0
        cdef cnp.ndarray y = self.new_out(k)
        cdef char* yp = <char*>cnp.PyArray_DATA(y)
        cdef const char* sp = <const char*>cnp.PyArray_DATA(self.scaled)
        cdef bint is_double = self.item == 8, ok
        with nogil:
            for ch in range(self.n_ch):
                if is_double:
                    _add[double](<const double*>c.data + ch * c.xs_ch, c.xs,
                                 <const double*>sp + ch * row_step, self.m, pos,
                                 <double*>yp + ch * k, k)
                else:
                    _add[float](<const float*>c.data + ch * c.xs_ch, c.xs,
                                <const float*>sp + ch * row_step, self.m, pos,
                                <float*>yp + ch * k, k)
            ok = finite_rows(yp, is_double, 1, 0, self.n_ch * k, 1)
        if not ok:
            raise ParameterError(
                f"chunk plus the noise overflows {self.work_dtype} (samples up to "
                f"{float(np.max(np.abs(x))):.3g}, gain {self.gain:.3g}); the stream is unchanged")
        self.n_in += k
        return y
