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

from fastmel._spectral cimport finite_rows

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

    cdef _accept_first(self, cnp.ndarray x):
        from fastmel import _checks
        x = _checks.audio(x, "chunk")
        lead = (<object>x).shape[:-1]
        if len(lead) > 32:
            from fastmel.exceptions import ParameterError
            raise ParameterError(f"chunk has too many dimensions ({len(lead) + 1})")
        self.lead = lead
        self.lead_nd = len(lead)
        self.n_ch = 1
        for i, d in enumerate(lead):
            self.dims[i] = d
            self.n_ch *= d
        self.state = np.zeros((self.n_ch, 2 * self.n_sections))
        self.out_dtype = x.dtype
        return x

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
        cdef int typenum, i
        cdef Py_ssize_t k, xs, xs_ch, c, item
        cdef char* xp
        cdef char* yp
        cdef double* st
        from_first = False
        if self.lead is None:
            x = self._accept_first(chunk if cnp.PyArray_Check(chunk) else np.asarray(chunk))
            from_first = True
        elif cnp.PyArray_Check(chunk):
            x = <cnp.ndarray>chunk
        else:
            x = np.asarray(chunk)
        typenum = cnp.PyArray_TYPE(x)
        if not from_first and not ((typenum == cnp.NPY_FLOAT32 or typenum == cnp.NPY_FLOAT64)
                                   and cnp.PyArray_ISNOTSWAPPED(x)):
            from fastmel import _checks
            x = _checks.real_float(x, "chunk").astype(
                np.float32 if x.dtype.itemsize <= 4 else np.float64)
            typenum = cnp.PyArray_TYPE(x)
        if not from_first:
            from fastmel.exceptions import ParameterError
            if x.ndim != self.lead_nd + 1:
                raise ParameterError(
                    f"chunk has leading shape {(<object>x).shape[:-1]}, but this stream carries "
                    f"{self.lead}; the leading shape is fixed per stream (reset() to change it)")
            for i in range(self.lead_nd):
                if cnp.PyArray_DIM(x, i) != self.dims[i]:
                    raise ParameterError(
                        f"chunk has leading shape {(<object>x).shape[:-1]}, but this stream "
                        f"carries {self.lead}; the leading shape is fixed per stream")
        if x.ndim > 2:
            x = x.reshape(self.n_ch, cnp.PyArray_DIM(x, x.ndim - 1))
        item = x.itemsize
        k = cnp.PyArray_DIM(x, x.ndim - 1)
        xs = cnp.PyArray_STRIDE(x, x.ndim - 1) // item
        xs_ch = cnp.PyArray_STRIDE(x, 0) // item if x.ndim == 2 else 0
        if not from_first:
            if not finite_rows(cnp.PyArray_DATA(x), item == 8, self.n_ch, xs_ch, k, xs):
                from fastmel.exceptions import ParameterError
                raise ParameterError("chunk contains non-finite values (NaN or inf); audio must be finite")
        self.dims[self.lead_nd] = k
        y = cnp.PyArray_EMPTY(self.lead_nd + 1, self.dims, typenum, 0)
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
        return None if self.lead is None else (self.lead, self.state.copy(), self.pos)

    def _set_state(self, saved):
        self.reset()
        if saved is not None:
            lead, state, pos = saved
            self._accept_first(np.zeros(tuple(lead) + (0,)))
            self.state[...] = state
            self.pos = pos
