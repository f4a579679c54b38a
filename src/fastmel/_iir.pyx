"""Cascades of second-order IIR sections with float64 state.

Each section runs in transposed direct form II, the form (and operation
order) of scipy.signal.sosfilt.  The state is float64 for float32 audio too,
and the state is kept out of the denormal range: adding and subtracting
1e-200 rounds magnitudes below about 1e-216 to zero, moves values up to about
1e-184 by at most about 1e-216, and leaves larger ones exactly as they were.
The guard runs after every GUARD_EVERY-th sample of the stream, counted from
its start (so results do not depend on how the signal is cut into chunks),
and off the per-sample recursion, which keeps the filter as fast as a plain
one; between two guards no state can decay from 1e-216 into denormals.  After
a signal stops, the state decays to zero or settles in a limit cycle near
1e-215 (float32 output is exactly 0 either way).
"""
import numpy as np

cimport numpy as cnp

from fastmel._checks import stream_chunk
from fastmel._spectral cimport finite_rows, readable_as_is
from fastmel.exceptions import ParameterError

cnp.import_array()

ctypedef fused real:
    float
    double

# Far below any audible level, far above the denormal range (~2.2e-308).
cdef double DENORMAL_GUARD = 1e-200
# A state would have to shrink by 1e-92 within this many samples to slip from
# the guard's reach into denormals (a pole radius under 1e-11).
cdef enum:
    GUARD_EVERY = 8


cdef void _cascade(const real* x, Py_ssize_t xs, real* y, Py_ssize_t n,
                   const double* sos, Py_ssize_t n_sections, double* state,
                   long long pos) noexcept nogil:
    """Filter n samples; ``pos`` is the stream index of x[0] (it places the guards)."""
    cdef Py_ssize_t i, s
    cdef double v, out, s0, s1
    cdef const double* c
    for i in range(n):
        v = x[i * xs]
        for s in range(n_sections):
            c = sos + 6 * s
            s0 = state[2 * s]
            s1 = state[2 * s + 1]
            out = c[0] * v + s0
            state[2 * s] = c[1] * v - c[4] * out + s1
            state[2 * s + 1] = c[2] * v - c[5] * out
            v = out
        y[i] = <real>v
        if (pos + i) % GUARD_EVERY == GUARD_EVERY - 1:
            for s in range(2 * n_sections):
                state[s] = (state[s] + DENORMAL_GUARD) - DENORMAL_GUARD


cdef class SosStream:
    """A cascade of second-order sections as a stream (see fastmel.Bandpass).

    ``sos`` is (n_sections, 6) float64.  The leading shape of the signal is
    fixed by the first chunk; state is (channels, 2 * n_sections) float64.
    """

    cdef readonly object sos
    cdef const double* coeffs
    cdef Py_ssize_t n_sections
    cdef object lead
    cdef int lead_nd
    cdef cnp.npy_intp dims[33]
    cdef Py_ssize_t n_ch
    cdef cnp.ndarray state
    cdef object out_dtype
    cdef long long pos

    def __init__(self, sos):
        self._set_sos(sos)
        self.reset()

    def _set_sos(self, sos):
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self.coeffs = <const double*>cnp.PyArray_DATA(self.sos)
        self.n_sections = self.sos.shape[0]

    @property
    def latency(self):
        """An IIR filter looks no samples ahead."""
        return 0

    def reset(self):
        """Back to rest: zero state, no fixed channel layout."""
        self.lead = None
        self.lead_nd = 0
        self.n_ch = 0
        self.state = None
        self.out_dtype = np.dtype(np.float32)
        self.pos = 0

    cdef _begin(self, tuple lead, dtype):
        """Fix the channel layout and output dtype; zero state."""
        if len(lead) > 32:
            raise ParameterError(f"chunk has too many dimensions ({len(lead) + 1})")
        self.lead = lead
        self.lead_nd = len(lead)
        self.n_ch = 1
        for i, d in enumerate(lead):
            self.dims[i] = d
            self.n_ch *= d
        self.state = np.zeros((self.n_ch, 2 * self.n_sections))
        self.out_dtype = np.dtype(dtype)

    def process(self, chunk):
        """Filter the next chunk [shape=(..., k)]; returns [shape=(..., k)], same dtype.

        Raises
        ------
        ParameterError
            Non-finite samples or a leading shape other than the stream's; the
            stream is unchanged.
        TypeError
            Integer, boolean or complex samples; the stream is unchanged.
        """
        cdef cnp.ndarray x, y
        cdef Py_ssize_t k, xs, xs_ch, c, item
        cdef char* xp
        cdef char* yp
        cdef double* st
        if self.lead is not None and readable_as_is(chunk, -1, self.lead_nd, self.dims):
            x = <cnp.ndarray>chunk
            item = x.itemsize
            xs_ch = cnp.PyArray_STRIDE(x, 0) // item if x.ndim == 2 else 0
            if not finite_rows(cnp.PyArray_DATA(x), item == 8, self.n_ch, xs_ch,
                               cnp.PyArray_DIM(x, x.ndim - 1),
                               cnp.PyArray_STRIDE(x, x.ndim - 1) // item):
                raise ParameterError(
                    "chunk contains non-finite values (NaN or inf); audio must be finite")
        else:
            x, lead = stream_chunk(chunk, self.lead)
            if self.lead is None:
                self._begin(lead, x.dtype)
        item = x.itemsize
        k = cnp.PyArray_DIM(x, x.ndim - 1)
        xs = cnp.PyArray_STRIDE(x, x.ndim - 1) // item
        xs_ch = cnp.PyArray_STRIDE(x, 0) // item if x.ndim == 2 else 0
        self.dims[self.lead_nd] = k
        y = cnp.PyArray_EMPTY(self.lead_nd + 1, self.dims, cnp.PyArray_TYPE(x), 0)
        xp = <char*>cnp.PyArray_DATA(x)
        yp = <char*>cnp.PyArray_DATA(y)
        st = <double*>cnp.PyArray_DATA(self.state)
        with nogil:
            for c in range(self.n_ch):
                if item == 8:
                    _cascade[double](<const double*>xp + c * xs_ch, xs, <double*>yp + c * k, k,
                                     self.coeffs, self.n_sections, st + c * 2 * self.n_sections,
                                     self.pos)
                else:
                    _cascade[float](<const float*>xp + c * xs_ch, xs, <float*>yp + c * k, k,
                                    self.coeffs, self.n_sections, st + c * 2 * self.n_sections,
                                    self.pos)
        self.pos += k
        return y

    def flush(self):
        """End of stream: an IIR filter owes nothing; returns an empty array (the
        stream's first chunk's dtype) and resets."""
        lead = self.lead if self.lead is not None else ()
        dtype = self.out_dtype
        self.reset()
        return np.zeros(lead + (0,), dtype=dtype)

    def _get_state(self):
        if self.lead is None:
            return None
        return (self.lead, self.state.copy(), self.pos, self.out_dtype.str)

    def _set_state(self, saved):
        self.reset()
        if saved is not None:
            lead, state, pos, dtype = saved
            self._begin(tuple(lead), dtype)
            self.state[...] = state
            self.pos = pos
