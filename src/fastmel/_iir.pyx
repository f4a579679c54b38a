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
from libc.string cimport memcpy

from fastmel._checks cimport finite_rows
from fastmel._checks import ParameterError
from fastmel._streambase cimport Chunk, Stream, real
from fastmel._streambase import check_state_array

cnp.import_array()

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


cdef class SosStream(Stream):
    """A cascade of second-order sections as a stream engine (see fastmel.Bandpass).

    ``sos`` is (n_sections, 6) float64.  The dtype of the signal is its first
    chunk's; the state is (channels, 2 * n_sections) float64, and the stream
    position (``n_in``) places the denormal guards.
    """

    cdef readonly object sos
    cdef const double* coeffs
    cdef Py_ssize_t n_sections
    cdef cnp.ndarray state
    cdef cnp.ndarray saved               # the state before the chunk being filtered
    cdef cnp.ndarray undo                # the state at the last checkpoint

    def __init__(self, sos):
        # A read-only copy: the filter stays what its repr, stream() and pickles say.
        self.sos = np.array(sos, dtype=np.float64, order="C")
        self.sos.flags.writeable = False
        self.coeffs = <const double*>cnp.PyArray_DATA(self.sos)
        self.n_sections = self.sos.shape[0]

    cdef int engine_start(self) except -1:
        self.state = np.zeros((self.n_ch, 2 * self.n_sections))
        self.saved = np.empty_like(self.state)
        return 0

    cdef void engine_stop(self) noexcept:
        self.state = None
        self.saved = None
        self.undo = None

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef Py_ssize_t k = c.k, ch, n_state = self.n_ch * 2 * self.n_sections
        cdef bint is_double = self.item == 8, ok
        cdef cnp.ndarray y = self.new_out(k)
        cdef char* yp = <char*>cnp.PyArray_DATA(y)
        cdef double* st = <double*>cnp.PyArray_DATA(self.state)
        with nogil:
            memcpy(cnp.PyArray_DATA(self.saved), st, n_state * sizeof(double))
            for ch in range(self.n_ch):
                if is_double:
                    _cascade[double](<const double*>c.data + ch * c.xs_ch, c.xs,
                                     <double*>yp + ch * k, k, self.coeffs, self.n_sections,
                                     st + ch * 2 * self.n_sections, self.n_in)
                else:
                    _cascade[float](<const float*>c.data + ch * c.xs_ch, c.xs,
                                    <float*>yp + ch * k, k, self.coeffs, self.n_sections,
                                    st + ch * 2 * self.n_sections, self.n_in)
            # Finite input can still overflow: the output's dtype (float32 near
            # its limit times a passband gain above 1) or, with huge float64
            # input, the state, which would poison every later output.
            ok = (finite_rows(yp, is_double, 1, 0, self.n_ch * k, 1)
                  and finite_rows(st, True, 1, 0, n_state, 1))
            if not ok:
                memcpy(st, cnp.PyArray_DATA(self.saved), n_state * sizeof(double))
        if not ok:
            raise ParameterError(
                f"chunk overflows the filter: finite samples (up to "
                f"{float(np.max(np.abs(x))):.3g}) give non-finite {self.work_dtype} output or "
                f"state; the stream is unchanged")
        self.n_in += k
        return y

    cdef object engine_get(self):
        return self.state.copy()

    cdef int engine_set(self, object state) except -1:
        state = check_state_array(state, "state", (self.n_ch, 2 * self.n_sections), np.float64)
        self.state[...] = state
        return 0

    cdef int engine_save(self, Py_ssize_t k) except -1:
        if self.undo is None:
            self.undo = np.empty_like(self.state)
        memcpy(cnp.PyArray_DATA(self.undo), cnp.PyArray_DATA(self.state),
               self.state.size * sizeof(double))
        return 0

    cdef int engine_undo(self) except -1:
        memcpy(cnp.PyArray_DATA(self.state), cnp.PyArray_DATA(self.undo),
               self.state.size * sizeof(double))
        return 0
