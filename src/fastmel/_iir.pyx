"""Cascades of second-order IIR sections with float64 state.

Each section runs in transposed direct form II, the form (and operation
order) of scipy.signal.sosfilt.  The state is float64 for float32 audio too,
and the state is kept out of the denormal range: adding and subtracting
1e-200 rounds magnitudes below about 1e-216 to zero, moves values up to about
1e-184 by at most about 1e-216, and leaves larger ones exactly as they were.
The guard runs after every GUARD_EVERY-th sample of the stream, counted from
its start (so results do not depend on how the signal is cut into chunks),
so it costs two additions per state every 8 samples; between two guards no
state can decay from 1e-216 into denormals.  After
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
cdef enum:
    # A state would have to shrink by 1e-92 within this many samples to slip
    # from the guard's reach into denormals (a pole radius under 1e-11).
    GUARD_EVERY = 8
    # Samples per pass of the sections: the block waits in a float64 buffer
    # (2 KiB, 4 KiB for a pair of channels: L1) between groups of sections.
    BLOCK = 256
    # Sections whose state is kept in registers over a block.  A section's
    # recursion is a chain of four dependent operations per sample; four
    # sections side by side hide each other's latency about as well as the
    # floating-point units allow, and their state still fits the 16 xmm registers.
    GROUP = 4


cdef extern from *:
    """
    /* Two channels side by side in one SSE2 register (GCC/Clang vector
       extension): each lane is an IEEE double operation as in scalar code
       (no contraction either: -ffp-contract=off), so the bits are the scalar
       recursion's, and two channels cost about what one does. */
    typedef double fm_pair __attribute__((vector_size(16)));
    static inline fm_pair fm_pair_of(double a, double b) { fm_pair r = {a, b}; return r; }
    static inline double fm_pair_lane(fm_pair v, int k) { return v[k]; }
    """
    # Cython must see a type other than double to specialise on it; it only
    # writes the arithmetic out, which the C compiler does on pairs (scalars
    # broadcast).
    ctypedef float pair "fm_pair"
    pair pair_of "fm_pair_of"(double a, double b) noexcept nogil
    double pair_lane "fm_pair_lane"(pair v, int k) noexcept nogil


ctypedef fused lanes:
    double      # one channel
    pair        # two channels


cdef inline void _sections(lanes* buf, Py_ssize_t n, const double* sos, double* st0,
                           double* st1, long long pos, const int g) noexcept nogil:
    """Run ``g`` <= GROUP consecutive sections over ``buf`` in place: one
    channel (state ``st0``) or a pair (states ``st0``, ``st1``).

    The state lives in a local array for the whole block, which the compiler
    keeps in registers once ``g`` is a constant: held in memory, every sample
    would wait for the previous one's store to be forwarded to its load.  The
    arithmetic per sample and section is exactly that of sample-major order
    (each section's state depends only on the section's own input), so
    grouping gives the same bits.  ``pos`` is the stream index of buf[0].
    """
    cdef lanes z[2 * GROUP]
    cdef lanes c[6 * GROUP]
    cdef lanes v, out
    cdef double guard = DENORMAL_GUARD
    cdef Py_ssize_t i = 0, j, end
    cdef int s
    for s in range(2 * g):
        if lanes is double:
            z[s] = st0[s]
        else:
            z[s] = pair_of(st0[s], st1[s])
    for s in range(6 * g):
        if lanes is double:
            c[s] = sos[s]
        else:
            # broadcast once per block, not at every multiplication
            c[s] = pair_of(sos[s], sos[s])
    while i < n:
        # Up to and including the next sample after which the guard runs.
        end = min(n, i + GUARD_EVERY - (pos + i) % GUARD_EVERY)
        for j in range(i, end):
            v = buf[j]
            for s in range(g):
                out = c[6 * s] * v + z[2 * s]
                z[2 * s] = c[6 * s + 1] * v - c[6 * s + 4] * out + z[2 * s + 1]
                z[2 * s + 1] = c[6 * s + 2] * v - c[6 * s + 5] * out
                v = out
            buf[j] = v
        if (pos + end) % GUARD_EVERY == 0:
            for s in range(2 * g):
                z[s] = (z[s] + guard) - guard
        i = end
    for s in range(2 * g):
        if lanes is double:
            st0[s] = z[s]
        else:
            st0[s] = pair_lane(z[s], 0)
            st1[s] = pair_lane(z[s], 1)


cdef void _cascade(lanes* buf, const real* x0, const real* x1, Py_ssize_t xs, real* y0,
                   real* y1, Py_ssize_t n, const double* sos, Py_ssize_t n_sections,
                   double* st0, double* st1, long long pos) noexcept nogil:
    """Filter n samples of one channel (x0 -> y0, state st0; x1, y1, st1 are
    not touched) or of two (also x1 -> y1 with st1), with ``buf`` [BLOCK] as
    scratch.  ``pos`` is the stream index of x0[0] (it places the guards).

    Section-major over blocks of samples, GROUP sections at a time, as
    _sections explains; the guard runs on every section's state after the
    same samples as it would sample by sample.
    """
    cdef Py_ssize_t i0 = 0, i, m, s
    while i0 < n:
        m = min(<Py_ssize_t>BLOCK, n - i0)
        for i in range(m):
            if lanes is double:
                buf[i] = x0[(i0 + i) * xs]
            else:
                buf[i] = pair_of(x0[(i0 + i) * xs], x1[(i0 + i) * xs])
        s = 0
        while n_sections - s >= GROUP:
            _sections(buf, m, sos + 6 * s, st0 + 2 * s, st1 + 2 * s, pos + i0, GROUP)
            s += GROUP
        # Literal group sizes, so that each call gets its own register copy.
        if n_sections - s == 3:
            _sections(buf, m, sos + 6 * s, st0 + 2 * s, st1 + 2 * s, pos + i0, 3)
        elif n_sections - s == 2:
            _sections(buf, m, sos + 6 * s, st0 + 2 * s, st1 + 2 * s, pos + i0, 2)
        elif n_sections - s == 1:
            _sections(buf, m, sos + 6 * s, st0 + 2 * s, st1 + 2 * s, pos + i0, 1)
        for i in range(m):
            if lanes is double:
                y0[i0 + i] = <real>buf[i]
            else:
                y0[i0 + i] = <real>pair_lane(buf[i], 0)
                y1[i0 + i] = <real>pair_lane(buf[i], 1)
        i0 += m


cdef class SosStream(Stream):
    """A cascade of second-order sections as a stream engine (see fastmel.Bandpass).

    ``sos`` is (n_sections, 6) float64.  The dtype of the signal is its first
    chunk's; the state is (channels, 2 * n_sections) float64, and the stream
    position (``n_in``) places the denormal guards.
    """

    cdef readonly object sos
    """The second-order sections, (n_sections, 6) float64, read-only."""
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

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        return k

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef Py_ssize_t k = c.k, ch, n_st = 2 * self.n_sections
        cdef Py_ssize_t n_state = self.n_ch * n_st
        cdef bint is_double = self.item == 8, ok
        cdef double one[BLOCK]
        cdef pair two[BLOCK]
        cdef const double* x64
        cdef const float* x32
        cdef cnp.ndarray y = self.new_out(k)
        cdef char* yp = <char*>cnp.PyArray_DATA(y)
        cdef double* st = <double*>cnp.PyArray_DATA(self.state)
        with nogil:
            memcpy(cnp.PyArray_DATA(self.saved), st, n_state * sizeof(double))
            # Channels in pairs, an odd last one alone.
            for ch in range(0, self.n_ch, 2):
                if ch + 1 < self.n_ch and is_double:
                    _cascade(two, <const double*>c.data + ch * c.xs_ch,
                             <const double*>c.data + (ch + 1) * c.xs_ch, c.xs,
                             <double*>yp + ch * k, <double*>yp + (ch + 1) * k, k,
                             self.coeffs, self.n_sections, st + ch * n_st,
                             st + (ch + 1) * n_st, self.n_in)
                elif ch + 1 < self.n_ch:
                    _cascade(two, <const float*>c.data + ch * c.xs_ch,
                             <const float*>c.data + (ch + 1) * c.xs_ch, c.xs,
                             <float*>yp + ch * k, <float*>yp + (ch + 1) * k, k,
                             self.coeffs, self.n_sections, st + ch * n_st,
                             st + (ch + 1) * n_st, self.n_in)
                elif is_double:
                    x64 = <const double*>c.data + ch * c.xs_ch
                    _cascade(one, x64, x64, c.xs, <double*>yp + ch * k, <double*>yp + ch * k,
                             k, self.coeffs, self.n_sections, st + ch * n_st, st + ch * n_st,
                             self.n_in)
                else:
                    x32 = <const float*>c.data + ch * c.xs_ch
                    _cascade(one, x32, x32, c.xs, <float*>yp + ch * k, <float*>yp + ch * k,
                             k, self.coeffs, self.n_sections, st + ch * n_st, st + ch * n_st,
                             self.n_in)
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
