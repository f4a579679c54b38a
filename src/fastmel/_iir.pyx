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

from fastmel._streambase cimport MAX_LEAD_ND, enter, leave
from fastmel._streambase import (
    check_state_array, check_state_dtype, check_state_int, check_state_lead, check_state_tuple,
)
from fastmel._checks cimport finite_rows, readable_as_is
from fastmel._checks import ParameterError, stream_chunk

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

    ``sos`` is (n_sections, 6) float64.  The leading shape and the dtype of the
    signal are fixed by the first chunk (later chunks of another float dtype
    are converted to it, as the feature streams do); state is
    (channels, 2 * n_sections) float64.
    """

    cdef readonly object sos
    cdef const double* coeffs
    cdef Py_ssize_t n_sections
    cdef object lead
    cdef int lead_nd
    cdef cnp.npy_intp dims[MAX_LEAD_ND + 1]
    cdef Py_ssize_t n_ch
    cdef cnp.ndarray state
    cdef cnp.ndarray saved               # the state before the chunk being filtered
    cdef object out_dtype
    cdef int typenum
    cdef long long pos
    cdef int busy                        # the in-use flag (fastmel._streambase)
    cdef cnp.ndarray undo                # the state at the last _checkpoint
    cdef long long undo_pos
    cdef int undo_mode                   # 0: none, 1: the stream was at rest, 2: saved

    def __init__(self, sos):
        self._set_sos(sos)
        self._reset()

    def _set_sos(self, sos):
        self.sos = np.ascontiguousarray(sos, dtype=np.float64)
        self.coeffs = <const double*>cnp.PyArray_DATA(self.sos)
        self.n_sections = self.sos.shape[0]

    @property
    def latency(self):
        """An IIR filter looks no samples ahead."""
        return 0

    def reset(self):
        """Back to rest: zero state, no fixed channel layout or dtype."""
        enter(&self.busy, self)
        try:
            self._reset()
        finally:
            leave(&self.busy)

    cdef _reset(self):
        self.lead = None
        self.lead_nd = 0
        self.n_ch = 0
        self.state = None
        self.saved = None
        self.undo = None
        self.undo_mode = 0
        self.out_dtype = np.dtype(np.float32)
        self.typenum = -1
        self.pos = 0

    cdef _begin(self, tuple lead, dtype):
        """Fix the channel layout and dtype; zero state."""
        if len(lead) > MAX_LEAD_ND:
            raise ParameterError(f"chunk has too many dimensions ({len(lead) + 1})")
        self.lead = lead
        self.lead_nd = len(lead)
        self.n_ch = 1
        for i, d in enumerate(lead):
            self.dims[i] = d
            self.n_ch *= d
        self.state = np.zeros((self.n_ch, 2 * self.n_sections))
        self.saved = np.empty_like(self.state)
        self.undo = np.empty_like(self.state)
        self.out_dtype = np.dtype(dtype)
        self.typenum = self.out_dtype.num

    def process(self, chunk):
        """Filter the next chunk [shape=(..., k)]; returns [shape=(..., k)] in the
        stream's dtype (its first chunk's).

        Raises
        ------
        ParameterError
            Non-finite samples, a leading shape other than the stream's, or
            samples so large that the output (or the filter's state) overflows;
            the stream is unchanged.
        TypeError
            Integer, boolean or complex samples; the stream is unchanged.
        RuntimeError
            Another thread is inside this stream.
        """
        enter(&self.busy, self)
        try:
            return self._process(chunk)
        finally:
            leave(&self.busy)

    cdef cnp.ndarray _process(self, chunk):
        cdef cnp.ndarray x, y
        cdef Py_ssize_t k, xs, xs_ch, c, item
        cdef char* xp
        cdef char* yp
        cdef double* st
        cdef bint first = self.lead is None, ok
        if not first and readable_as_is(chunk, self.typenum, self.lead_nd, self.dims):
            x = <cnp.ndarray>chunk
            item = x.itemsize
            xs_ch = cnp.PyArray_STRIDE(x, 0) // item if x.ndim == 2 else 0
            if not finite_rows(cnp.PyArray_DATA(x), item == 8, self.n_ch, xs_ch,
                               cnp.PyArray_DIM(x, x.ndim - 1),
                               cnp.PyArray_STRIDE(x, x.ndim - 1) // item):
                raise ParameterError(
                    "chunk contains non-finite values (NaN or inf); audio must be finite")
        else:
            x, lead = stream_chunk(chunk, self.lead, None if first else self.out_dtype)
            if first:
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
            memcpy(cnp.PyArray_DATA(self.saved), st, self.n_ch * 2 * self.n_sections * sizeof(double))
            for c in range(self.n_ch):
                if item == 8:
                    _cascade[double](<const double*>xp + c * xs_ch, xs, <double*>yp + c * k, k,
                                     self.coeffs, self.n_sections, st + c * 2 * self.n_sections,
                                     self.pos)
                else:
                    _cascade[float](<const float*>xp + c * xs_ch, xs, <float*>yp + c * k, k,
                                    self.coeffs, self.n_sections, st + c * 2 * self.n_sections,
                                    self.pos)
            # Finite input can still overflow: the output's dtype (float32 near
            # its limit times a passband gain above 1) or, with huge float64
            # input, the state, which would poison every later output.
            ok = (finite_rows(yp, item == 8, 1, 0, self.n_ch * k, 1)
                  and finite_rows(st, True, 1, 0, self.n_ch * 2 * self.n_sections, 1))
            if not ok:
                memcpy(st, cnp.PyArray_DATA(self.saved),
                       self.n_ch * 2 * self.n_sections * sizeof(double))
        if not ok:
            if first:
                self._reset()
            raise ParameterError(
                f"chunk overflows the filter: finite samples (up to "
                f"{float(np.max(np.abs(x))):.3g}) give non-finite {self.out_dtype} output or "
                f"state; the stream is unchanged")
        self.pos += k
        return y

    def _checkpoint(self, Py_ssize_t k):
        """Prepare to take back the next process call (``_rollback``): what a
        Chain does when a later stage refuses the chunk."""
        enter(&self.busy, self)
        try:
            if self.lead is None:
                self.undo_mode = 1
            else:
                memcpy(cnp.PyArray_DATA(self.undo), cnp.PyArray_DATA(self.state),
                       self.n_ch * 2 * self.n_sections * sizeof(double))
                self.undo_pos = self.pos
                self.undo_mode = 2
        finally:
            leave(&self.busy)

    def _rollback(self):
        """Take back the process call since the last ``_checkpoint`` (once)."""
        enter(&self.busy, self)
        try:
            if self.undo_mode == 1:
                self._reset()
            elif self.undo_mode == 2 and self.lead is not None:
                memcpy(cnp.PyArray_DATA(self.state), cnp.PyArray_DATA(self.undo),
                       self.n_ch * 2 * self.n_sections * sizeof(double))
                self.pos = self.undo_pos
            self.undo_mode = 0
        finally:
            leave(&self.busy)

    def flush(self):
        """End of stream: an IIR filter owes nothing; returns an empty array (the
        stream's dtype) and resets."""
        enter(&self.busy, self)
        try:
            lead = self.lead if self.lead is not None else ()
            dtype = self.out_dtype
            self._reset()
            return np.zeros(lead + (0,), dtype=dtype)
        finally:
            leave(&self.busy)

    def _get_state(self):
        enter(&self.busy, self)
        try:
            if self.lead is None:
                return None
            return (self.lead, self.state.copy(), self.pos, self.out_dtype.str)
        finally:
            leave(&self.busy)

    def _set_state(self, saved):
        """Install a state made by _get_state.  It may come from a tampered pickle:
        every field is checked first; a bad one raises ValueError, leaving the
        stream at rest."""
        enter(&self.busy, self)
        try:
            self._reset()
            if saved is None:
                return
            lead, state, pos, dtype = check_state_tuple(saved, "state", 4)
            lead = check_state_lead(lead)
            dtype = check_state_dtype(dtype, "dtype", [np.float32, np.float64])
            n_ch = 1
            for d in lead:
                n_ch *= d
            state = check_state_array(state, "state", (n_ch, 2 * self.n_sections), np.float64)
            pos = check_state_int(pos, "pos", 0, 2 ** 62)
            self._begin(lead, dtype)
            self.state[...] = state
            self.pos = pos
        finally:
            leave(&self.busy)
