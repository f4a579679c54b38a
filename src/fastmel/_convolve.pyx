"""FFT convolution: offline overlap-add, and a zero-latency partitioned stream.

The stream splits the impulse response h into a time-domain head, taps
[0, D), and levels of uniform partitions, level l holding K_l partitions of
N_l taps from tap S_l on (S_l >= N_l; see fastmel.convolution for how the
levels are chosen).  Level l runs uniformly partitioned overlap-save with a
frequency-domain delay line: when input sample T - 1 arrives with T a
multiple of N_l, the last 2 N_l inputs are transformed, multiplied with the
K_l partition spectra against the K_l most recent input spectra, and the
inverse transform adds N_l finished samples into an output accumulator at
[T - N_l + S_l, T + S_l), all at or after T: so no output waits for more
input than it depends on.  Output n is the head FIR at n plus the
accumulator at n.

Every addition happens in an order fixed by sample times (events in time
order, levels in order at equal times, partitions in order), never by where
calls begin or end: the output is bit-identical for every chunking.
"""
import numpy as np

cimport numpy as cnp
from libc.string cimport memcpy, memmove, memset

from pyfftw cimport fftw_exe

from fastmel._plan cimport RealPlan, aligned_alloc, aligned_free
from fastmel._plan import _aligned_empty, get_plan
from fastmel._checks cimport finite_rows
from fastmel._checks import ParameterError, allocation
from fastmel._streambase cimport Chunk, Stream, real
from fastmel._streambase import (
    check_state_array, check_state_fields, check_state_float, check_state_int,
)

cnp.import_array()

cdef extern from "fastmel_conv.h" nogil:
    void fastmel_cmac_f32(const float* x, const float* h, float* acc, Py_ssize_t n, int first)
    void fastmel_cmac_f64(const double* x, const double* h, double* acc, Py_ssize_t n, int first)
    void fastmel_fir_f32(const float* x, const float* h, Py_ssize_t d, const float* add,
                         float* y, Py_ssize_t n)
    void fastmel_fir_f64(const double* x, const double* h, Py_ssize_t d, const double* add,
                         double* y, Py_ssize_t n)
    double fastmel_peak_f32(const float* x, Py_ssize_t n, Py_ssize_t stride)
    double fastmel_peak_f64(const double* x, Py_ssize_t n, Py_ssize_t stride)

DEF MAX_LEVELS = 24

cdef enum:
    UNDO_NONE = 0
    UNDO_LOG = 1        # the regions the call overwrites are saved in ``undo``
    UNDO_FULL = 2       # the whole state is saved in ``undo_full``


cdef inline void _exec(fftw_exe* exe, void* src, void* dst) noexcept nogil:
    exe._fftw_execute(exe._plan, src, dst)


cdef inline Py_ssize_t _round16(Py_ssize_t n) noexcept nogil:
    return (n + 15) // 16 * 16


cdef inline Py_ssize_t _slot(Py_ssize_t n) noexcept nogil:
    """Values per spectrum slot for partitions of n taps: n + 1 complex, rounded
    up to 64 bytes (16 values) so every slot is aligned for FFTW."""
    return _round16(2 * (n + 1))


cdef double _peak_rows(const void* x, bint is_double, Py_ssize_t rows, Py_ssize_t row_stride,
                       Py_ssize_t n, Py_ssize_t stride) noexcept nogil:
    """The largest |x| over ``rows x n`` values (strides in elements), +inf when
    any of them is not finite."""
    cdef Py_ssize_t r
    cdef double peak = 0.0, p
    for r in range(rows):
        if is_double:
            p = fastmel_peak_f64(<const double*>x + r * row_stride, n, stride)
        else:
            p = fastmel_peak_f32(<const float*>x + r * row_stride, n, stride)
        if p > peak:
            peak = p
    return peak


def _aligned_zeros(shape, dtype):
    """Zeros whose rows start on 64-byte boundaries (the row length is a multiple of 16)."""
    out = _aligned_empty(shape[0] * shape[1], dtype).reshape(shape)
    out[...] = 0
    return out


# ---------------------------------------------------------------------------
# Streaming: the partitioned convolver


cdef class PartitionedConvolver(Stream):
    """Zero-latency partitioned convolution of a stream (see the module docstring):
    the engine behind fastmel.Convolver.

    Parameters
    ----------
    ir : np.ndarray [shape=(n_ir_channels, m)]
        Impulse responses, in the working precision: one for every channel, or
        one row per channel.
    head : int
        Taps convolved in the time domain (D).
    levels : sequence of (N, K)
        Partition size and count of each level, in order; level l starts at
        tap D + sum of the earlier levels' N * K.
    """

    cdef readonly object ir
    """The impulse responses, (n_ir_channels, m) in the working precision (read-only)."""
    cdef readonly object levels
    """The frequency-domain levels: a tuple of (partition_length, count), in tap order."""
    cdef bint is_double
    cdef Py_ssize_t m, n_ir, head, n_levels, hist, cap, ring
    cdef Py_ssize_t N[MAX_LEVELS]
    cdef Py_ssize_t K[MAX_LEVELS]
    cdef Py_ssize_t S[MAX_LEVELS]
    cdef Py_ssize_t hoff[MAX_LEVELS]     # offset of level l's spectra in one IR's bank
    cdef Py_ssize_t bank                 # reals per IR channel's spectra bank
    cdef fftw_exe fwd[MAX_LEVELS]
    cdef fftw_exe inv[MAX_LEVELS]
    cdef object _plans                   # keeps the FFTW objects behind fwd/inv alive
    cdef cnp.ndarray hspec               # (n_ir, bank)
    cdef cnp.ndarray hhead               # (n_ir, head), time-domain head taps
    # scratch (aligned)
    cdef void* tbuf
    cdef void* spec
    cdef void* yspec
    cdef Py_ssize_t n_max
    # state
    cdef Py_ssize_t buf_pos, buf_len
    cdef cnp.ndarray buf                 # (n_ch, cap) inputs from buf_pos on
    cdef cnp.ndarray fdl                 # (n_ch, bank) input spectra
    cdef cnp.ndarray acc                 # (n_ch, ring) output accumulator
    # Overflow: while every input so far is at most safe_peak in magnitude, no
    # intermediate value can overflow (see _safe_peak); past it, each call keeps
    # a copy of the state and checks what it produced.
    cdef double safe_peak
    cdef double peak                     # the largest |input| since the last reset
    # A checkpoint, so a Chain can take back one call (see engine_save)
    cdef int undo_kind                   # UNDO_NONE, UNDO_LOG or UNDO_FULL
    cdef cnp.ndarray undo                # (n_ch, undo_cap): the values the call overwrites
    cdef Py_ssize_t undo_cap, undo_k, undo_buf_pos, undo_buf_len
    cdef double undo_peak
    cdef object undo_full                # a whole _snapshot, for chunks beyond the buffer's room

    def __init__(self, ir, Py_ssize_t head, levels):
        cdef Py_ssize_t l, s, n_max = 1, total = 0
        cdef RealPlan p
        ir = np.ascontiguousarray(ir)
        self.ir = ir
        self.fixed_dtype = ir.dtype
        self.is_double = ir.dtype == np.float64
        self.item = 8 if self.is_double else 4
        self.n_ir, self.m = ir.shape[0], ir.shape[1]
        self.head = min(head, self.m)
        self.levels = tuple((int(N), int(K)) for N, K in levels)
        self.n_levels = len(self.levels)
        if self.n_levels > MAX_LEVELS:
            raise ValueError("too many partition levels")
        s = self.head
        plans = []
        for l, (N, K) in enumerate(self.levels):
            self.N[l], self.K[l], self.S[l] = N, K, s
            self.hoff[l] = total
            total += K * _slot(N)
            s += N * K
            n_max = max(n_max, N)
            p = get_plan(2 * N, self.is_double, False)
            self.fwd[l] = p._exe
            plans.append(p)
            p = get_plan(2 * N, self.is_double, True)
            self.inv[l] = p._exe
            plans.append(p)
        self._plans = plans
        self.bank = max(total, 16)
        self.n_max = n_max
        # Input history for the largest transform and the head; accumulator
        # reaching the furthest output any level writes.
        # Rows of the input buffer, its history and every compaction shift are
        # whole multiples of 16 values (64 bytes), so the last 2N inputs of any
        # event start on an aligned address and FFTW reads them in place.
        self.hist = _round16(max(2 * n_max, self.head))
        self.cap = self.hist + _round16(max(4096, 2 * n_max)) + 16
        self.ring = 1
        while self.ring < s + n_max + 1:
            self.ring *= 2
        self.tbuf = aligned_alloc(2 * n_max * self.item)
        self.spec = aligned_alloc(2 * (n_max + 1) * self.item)
        self.yspec = aligned_alloc(2 * (n_max + 1) * self.item)
        if self.tbuf == NULL or self.spec == NULL or self.yspec == NULL:
            raise MemoryError("fastmel: could not allocate convolver buffers")
        self._prepare_ir(ir)
        self.safe_peak = self._safe_peak(ir)

    cdef _share(self, PartitionedConvolver o):
        """A new, empty stream on o's prepared impulse response: the configuration,
        plans and partition spectra are o's (never written after __cinit__, so
        shared read-only); the scratch and the state are this stream's own."""
        cdef Py_ssize_t l
        self.ir, self.levels, self._plans = o.ir, o.levels, o._plans
        self.fixed_dtype, self.maker, self.label = o.fixed_dtype, o.maker, o.label
        self.is_double, self.item, self.m, self.n_ir = o.is_double, o.item, o.m, o.n_ir
        self.head, self.n_levels, self.bank, self.n_max = o.head, o.n_levels, o.bank, o.n_max
        self.hist, self.cap, self.ring = o.hist, o.cap, o.ring
        for l in range(o.n_levels):
            self.N[l], self.K[l], self.S[l], self.hoff[l] = o.N[l], o.K[l], o.S[l], o.hoff[l]
            self.fwd[l], self.inv[l] = o.fwd[l], o.inv[l]
        self.hspec, self.hhead, self.safe_peak = o.hspec, o.hhead, o.safe_peak
        self.tbuf = aligned_alloc(2 * self.n_max * self.item)
        self.spec = aligned_alloc(2 * (self.n_max + 1) * self.item)
        self.yspec = aligned_alloc(2 * (self.n_max + 1) * self.item)
        if self.tbuf == NULL or self.spec == NULL or self.yspec == NULL:
            raise MemoryError("fastmel: could not allocate convolver buffers")

    def stream(self):
        """A new stream of this convolver, at rest, sharing its prepared spectra
        (see _share): no re-planning, no transform of the impulse response."""
        fresh = type(self).__new__(type(self))
        (<PartitionedConvolver>fresh)._share(self)
        if hasattr(self, "__dict__"):
            fresh.__dict__.update(self.__dict__)   # a Python subclass's configuration
        return fresh

    def __dealloc__(self):
        aligned_free(self.tbuf)
        aligned_free(self.spec)
        aligned_free(self.yspec)

    cdef _prepare_ir(self, ir):
        """Head taps, and each partition's spectrum scaled by 1/(2N) (FFTW does not
        normalise its inverse)."""
        cdef Py_ssize_t r, l, k, N
        dtype = ir.dtype
        self.hhead = np.ascontiguousarray(ir[:, :self.head])
        bank = _aligned_zeros((self.n_ir, self.bank), dtype)
        for l in range(self.n_levels):
            N = self.N[l]
            for k in range(self.K[l]):
                lo = self.S[l] + k * N
                block = np.zeros((self.n_ir, 2 * N), dtype=np.float64)
                part = ir[:, lo:lo + N].astype(np.float64)
                block[:, :part.shape[1]] = part / (2 * N)
                spec = self._forward(block.astype(dtype), l)
                o = self.hoff[l] + k * _slot(N)
                bank[:, o:o + 2 * (N + 1)] = spec
        self.hspec = bank

    cdef double _safe_peak(self, ir):
        """The input magnitude A below which nothing overflows, with a factor of 2
        to spare for rounding.  With L = the largest sum of |taps| of an IR row:
        head outputs and the accumulator stay below A L; a level's forward
        transform of 2N inputs stays below 2N A, its spectra times the
        partition spectra (taps scaled by 1/(2N)) below A L, and the inverse
        transform's partial sums below 2N A L."""
        cdef double big = np.finfo(ir.dtype).max
        # set before the with block: C cannot know that np.errstate never
        # swallows an exception, which would skip the assignment
        cdef double l1 = 0.0
        with np.errstate(over="ignore"):  # taps near float64's limit: an infinite L, no safe level
            l1 = float(np.max(np.sum(np.abs(ir), axis=1, dtype=np.float64)))
        cdef double worst = 2.0 * l1
        if self.n_levels:
            worst = 2.0 * 2 * self.n_max * max(1.0, l1)
        return big / worst if worst > 0 else np.inf

    cdef _forward(self, block, Py_ssize_t l):
        """The level-l transform of each row of block, as interleaved reals."""
        cdef Py_ssize_t r, N = self.N[l]
        out = np.empty((block.shape[0], 2 * (N + 1)), dtype=block.dtype)
        for r in range(block.shape[0]):
            memcpy(self.tbuf, cnp.PyArray_DATA(np.ascontiguousarray(block[r])), 2 * N * self.item)
            _exec(&self.fwd[l], self.tbuf, self.spec)
            memcpy(cnp.PyArray_DATA(out) + r * 2 * (N + 1) * self.item, self.spec,
                   2 * (N + 1) * self.item)
        return out

    @property
    def head_length(self):
        """Taps convolved in the time domain."""
        return self.head

    # -- the engine (see fastmel._streambase) --------------------------------

    cdef int engine_start(self) except -1:
        if self.n_ir > 1 and self.n_ch != self.n_ir:
            raise ParameterError(
                f"this convolver holds {self.n_ir} impulse responses, one per channel, "
                f"but the chunk has {self.n_ch} channels (leading shape {self.lead_shape})")
        allocation(self.n_ch * (self.cap + self.bank + self.ring) * self.item,
                   f"a convolver stream of {self.n_ch} channels (leading shape "
                   f"{self.lead_shape})")
        dtype = self.ir.dtype
        # History before the first sample is silence.
        self.buf = _aligned_zeros((self.n_ch, self.cap), dtype)
        self.buf_pos = -self.hist
        self.buf_len = self.hist
        self.fdl = _aligned_zeros((self.n_ch, self.bank), dtype)
        self.acc = np.zeros((self.n_ch, self.ring), dtype=dtype)
        return 0

    cdef void engine_stop(self) noexcept:
        self.peak = 0.0
        self.buf = self.fdl = self.acc = None
        self.undo = None
        self.undo_full = None
        self.undo_cap = 0
        self.undo_kind = UNDO_NONE

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        return k

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef double peak = _peak_rows(c.data, self.is_double, self.n_ch, c.xs_ch, c.k, c.xs)
        cdef cnp.ndarray y = self.new_out(c.k)
        peak = max(peak, self.peak)
        if peak <= self.safe_peak:
            self._run(c.data, c.xs_ch, c.xs, c.k, <char*>cnp.PyArray_DATA(y))
        else:
            saved = self._snapshot()
            self._run(c.data, c.xs_ch, c.xs, c.k, <char*>cnp.PyArray_DATA(y))
            if not self._finite(y):
                self._restore(saved)
                raise ParameterError(
                    f"chunk overflows the convolution: finite samples (up to {peak:.3g} in "
                    f"magnitude so far) give non-finite {self.ir.dtype} output or state; "
                    f"the stream is unchanged")
        self.peak = peak
        return y

    cdef object engine_tail(self):
        """The len(ir) - 1 samples the convolution owes (none for an empty signal)."""
        cdef Py_ssize_t tail = self.m - 1
        if self.n_in == 0:
            return self.new_out(0)
        zeros = np.zeros((self.n_ch, tail), dtype=self.ir.dtype)
        cdef cnp.ndarray y = self.new_out(tail)
        saved = self._snapshot() if self.peak > self.safe_peak else None
        self._run(<const char*>cnp.PyArray_DATA(zeros), tail, 1, tail,
                  <char*>cnp.PyArray_DATA(y))
        if saved is not None and not finite_rows(cnp.PyArray_DATA(y), self.is_double, 1, 0,
                                                 y.size, 1):
            self._restore(saved)
            raise ParameterError(
                f"the convolution tail overflows: inputs up to {self.peak:.3g} in magnitude "
                f"give non-finite {self.ir.dtype} output; the stream is unchanged")
        return y

    cdef int engine_save(self, Py_ssize_t k) except -1:
        """Keep what the next call of k samples per channel overwrites.

        Such a call writes, besides fresh room in the input buffer, only the
        accumulator at its own k outputs and where its block events add, and the
        delay-line slots of those events: just these are saved, so a checkpoint
        costs about what the call does.  The buffer is compacted first if the
        call would have to (compaction changes no output), so the call never
        moves old inputs.
        """
        self.undo_kind = UNDO_NONE
        self.undo_full = None
        if self.cap - self.buf_len < k:
            self._compact()
        if self.cap - self.buf_len < k:
            self.undo_full = self._snapshot()
            self.undo_kind = UNDO_FULL
            return 0
        need = self._log(k, False, True)
        if need > self.undo_cap:
            self.undo = np.empty((self.n_ch, need), dtype=self.ir.dtype)
            self.undo_cap = need
        self._log(k, False, False)
        self.undo_k = k
        self.undo_buf_pos, self.undo_buf_len = self.buf_pos, self.buf_len
        self.undo_peak = self.peak
        self.undo_kind = UNDO_LOG
        return 0

    cdef int engine_undo(self) except -1:
        # the base has put n_in back, which _log's event times count from
        if self.undo_kind == UNDO_FULL:
            self._restore(self.undo_full)
        elif self.undo_kind == UNDO_LOG:
            self.buf_pos, self.buf_len = self.undo_buf_pos, self.undo_buf_len
            self.peak = self.undo_peak
            self._log(self.undo_k, True, False)
        self.undo_kind = UNDO_NONE
        self.undo_full = None
        return 0

    cdef object engine_get(self):
        return dict(buf_pos=self.buf_pos, buf=self.buf[:, :self.buf_len].copy(),
                    fdl=self.fdl.copy(), acc=self.acc.copy(), peak=self.peak)

    cdef int engine_set(self, object st) except -1:
        """Check and install a state made by engine_get (the base has checked
        and installed the leading shape, dtype and n_in)."""
        check_state_fields(st, "state", ("buf_pos", "buf", "fdl", "acc", "peak"))
        dtype = self.ir.dtype
        n_in = self.n_in
        # The buffer holds inputs [buf_pos, n_in): at least the history every
        # event and the head read, at most its capacity, starting on a 64-byte
        # boundary (FFTW reads it in place).
        buf = check_state_array(st["buf"], "buf", (self.n_ch, None), dtype)
        buf_len = buf.shape[1]
        if not self.hist <= buf_len <= self.cap:
            raise ValueError(f"fastmel: restored stream state: buf must hold {self.hist} to "
                             f"{self.cap} samples per channel, got {buf_len}")
        buf_pos = check_state_int(st["buf_pos"], "buf_pos", -self.hist, 2 ** 50)
        if buf_pos + buf_len != n_in or buf_pos % 16:
            raise ValueError(f"fastmel: restored stream state: buf_pos={buf_pos} does not fit "
                             f"buf ({buf_len} samples) and n_in={n_in}")
        fdl = check_state_array(st["fdl"], "fdl", (self.n_ch, self.bank), dtype)
        acc = check_state_array(st["acc"], "acc", (self.n_ch, self.ring), dtype)
        peak = check_state_float(st["peak"], "peak", 0.0, np.inf)
        # The overflow analysis (see _safe_peak) trusts ``peak`` to bound every
        # value the state came from; a restored one is raised to cover the state.
        for a in (buf, fdl, acc):
            if a.size:
                peak = max(peak, float(np.max(np.abs(a))))
        self.buf[:, :buf_len] = buf
        self.buf_len = buf_len
        self.buf_pos = buf_pos
        self.fdl[...] = fdl
        self.acc[...] = acc
        self.peak = peak
        return 0

    cdef Py_ssize_t _log(self, Py_ssize_t k, bint back, bint size_only):
        """Save (or, with ``back``, put back) what a call of k samples from input
        n_in overwrites: the accumulator at [n_in, n_in + k), and for each level's
        events T in (n_in, n_in + k] the accumulator at [T - N + S, T + S) and
        delay-line slot T / N - 1 (mod K).  Returns the values per channel."""
        cdef Py_ssize_t t0 = self.n_in, c, l, N, K, first, last, n_ev, b, j, stride
        cdef Py_ssize_t o = 0  # no channels: no values
        cdef Py_ssize_t item = self.item
        cdef char* acc
        cdef char* fdl
        cdef char* undo
        cdef char* line
        for c in range(self.n_ch if not size_only else 1):
            if not size_only:
                acc = <char*>cnp.PyArray_DATA(self.acc) + c * self.ring * item
                fdl = <char*>cnp.PyArray_DATA(self.fdl) + c * self.bank * item
                undo = <char*>cnp.PyArray_DATA(self.undo) + c * self.undo_cap * item
                _ring_copy(acc, self.ring, t0, k, undo, item, back)
            o = k
            for l in range(self.n_levels):
                N, K, stride = self.N[l], self.K[l], _slot(self.N[l])
                first = (t0 // N + 1) * N
                last = (t0 + k) // N * N
                if last < first:
                    continue
                n_ev = (last - first) // N + 1
                if not size_only:
                    _ring_copy(acc, self.ring, first - N + self.S[l], n_ev * N, undo + o * item,
                               item, back)
                o += n_ev * N
                line = fdl + self.hoff[l] * item if not size_only else NULL
                for j in range(min(n_ev, K)):
                    b = (first // N - 1 + j) % K
                    if not size_only:
                        if back:
                            memcpy(line + b * stride * item, undo + o * item, stride * item)
                        else:
                            memcpy(undo + o * item, line + b * stride * item, stride * item)
                    o += stride
        return max(o, 1)

    cdef _snapshot(self):
        return (self.buf.copy(), self.fdl.copy(), self.acc.copy(),
                self.n_in, self.buf_pos, self.buf_len)

    cdef _restore(self, saved):
        """Put back a _snapshot (into the same, aligned, arrays)."""
        buf, fdl, acc, self.n_in, self.buf_pos, self.buf_len = saved
        self.buf[...] = buf
        self.fdl[...] = fdl
        self.acc[...] = acc

    cdef bint _finite(self, cnp.ndarray y):
        """Whether the output y and the state that later outputs come from are finite."""
        return (finite_rows(cnp.PyArray_DATA(y), self.is_double, 1, 0, y.size, 1)
                and finite_rows(cnp.PyArray_DATA(self.acc), self.is_double, 1, 0,
                                self.acc.size, 1)
                and finite_rows(cnp.PyArray_DATA(self.fdl), self.is_double, 1, 0,
                                self.fdl.size, 1))

    cdef _run(self, const char* xp, Py_ssize_t xs_ch, Py_ssize_t xs, Py_ssize_t k, char* yp):
        """Feed k samples per channel, in pieces that fit the buffer."""
        cdef Py_ssize_t done = 0, m
        with nogil:
            while done < k:
                if self.cap - self.buf_len < 1:
                    self._compact()
                m = min(k - done, self.cap - self.buf_len)
                if self.is_double:
                    self._piece[double](xp + done * xs * self.item, xs_ch, xs, m,
                                        <double*>yp + done, k)
                else:
                    self._piece[float](xp + done * xs * self.item, xs_ch, xs, m,
                                       <float*>yp + done, k)
                done += m

    cdef void _compact(self) noexcept nogil:
        """Move the last ``hist`` (to 15 more) inputs to the front of the buffer,
        by a multiple of 16 values so alignment is kept."""
        cdef Py_ssize_t shift = (self.buf_len - self.hist) // 16 * 16, c
        cdef char* base = <char*>cnp.PyArray_DATA(self.buf)
        if shift <= 0:
            return
        for c in range(self.n_ch):
            memmove(base + c * self.cap * self.item,
                    base + (c * self.cap + shift) * self.item, (self.buf_len - shift) * self.item)
        self.buf_pos += shift
        self.buf_len -= shift

    cdef void _piece(self, const char* xp, Py_ssize_t xs_ch, Py_ssize_t xs, Py_ssize_t m,
                     real* y, Py_ssize_t y_row) noexcept nogil:
        """Append m samples per channel and produce their m outputs per channel."""
        cdef Py_ssize_t c, i, t, end, seg_end, e, l, r0, run
        cdef real* base = <real*>cnp.PyArray_DATA(self.buf)
        cdef real* buf
        cdef const real* x
        cdef real* acc
        cdef real* fdl
        cdef const real* hh
        cdef const real* hs
        cdef Py_ssize_t t0 = self.n_in
        for c in range(self.n_ch):
            buf = base + c * self.cap
            x = <const real*>xp + c * xs_ch
            for i in range(m):
                buf[self.buf_len + i] = x[i * xs]
        self.buf_len += m
        end = t0 + m
        for c in range(self.n_ch):
            buf = base + c * self.cap
            acc = <real*>cnp.PyArray_DATA(self.acc) + c * self.ring
            fdl = <real*>cnp.PyArray_DATA(self.fdl) + c * self.bank
            r0 = c if self.n_ir > 1 else 0
            hh = <const real*>cnp.PyArray_DATA(self.hhead) + r0 * self.head
            hs = <const real*>cnp.PyArray_DATA(self.hspec) + r0 * self.bank
            t = t0
            while t < end:
                e = end + 1
                for l in range(self.n_levels):
                    e = min(e, (t // self.N[l] + 1) * self.N[l])
                seg_end = min(e, end)
                # Outputs [t, seg_end): head FIR plus the accumulator, which no
                # later event touches below seg_end.
                while t < seg_end:
                    i = t & (self.ring - 1)
                    run = min(seg_end - t, self.ring - i)
                    _head_out[real](buf + (t - self.buf_pos), hh, self.head, acc + i,
                                    y + c * y_row + (t - t0), run)
                    memset(acc + i, 0, run * sizeof(real))
                    t += run
                if seg_end == e:
                    for l in range(self.n_levels):
                        if e % self.N[l] == 0:
                            self._event[real](l, e, buf, acc, fdl, hs)
        self.n_in = end

    cdef void _event(self, Py_ssize_t l, Py_ssize_t T, const real* buf, real* acc, real* fdl,
                     const real* hs) noexcept nogil:
        """Level l's block ending at input T: transform, multiply along the delay
        line, add the inverse into the accumulator at [T - N + S, T + S)."""
        cdef Py_ssize_t N = self.N[l], K = self.K[l], nb = N + 1, k, slot, b, i, p, run
        cdef Py_ssize_t stride = _slot(N)
        cdef real* tb = <real*>self.tbuf
        cdef real* ys = <real*>self.yspec
        cdef real* line = fdl + self.hoff[l]
        cdef const real* h = hs + self.hoff[l]
        b = T // N - 1
        slot = b % K
        # Input and delay-line slot are both 64-byte aligned, like the plan's arrays.
        _exec(&self.fwd[l], <void*>(buf + (T - 2 * N - self.buf_pos)), line + slot * stride)
        for k in range(K):
            # Partition k meets the input spectrum of k blocks ago.
            slot = (b - k) % K
            if slot < 0:
                slot += K
            if real is float:
                fastmel_cmac_f32(line + slot * stride, h + k * stride, ys, nb, k == 0)
            else:
                fastmel_cmac_f64(line + slot * stride, h + k * stride, ys, nb, k == 0)
        _exec(&self.inv[l], ys, tb)
        p = T - N + self.S[l]
        i = 0
        while i < N:
            k = (p + i) & (self.ring - 1)
            run = min(N - i, self.ring - k)
            for slot in range(run):
                acc[k + slot] = acc[k + slot] + tb[N + i + slot]
            i += run


cdef void _ring_copy(char* ring, Py_ssize_t size, Py_ssize_t start, Py_ssize_t n, char* save,
                     Py_ssize_t item, bint back) noexcept nogil:
    """Copy ring[start : start + n] (indices mod size, a power of two) to save, or
    back from it."""
    cdef Py_ssize_t i = 0, j, run
    while i < n:
        j = (start + i) & (size - 1)
        run = min(n - i, size - j)
        if back:
            memcpy(ring + j * item, save + i * item, run * item)
        else:
            memcpy(save + i * item, ring + j * item, run * item)
        i += run


cdef inline void _head_out(const real* x, const real* h, Py_ssize_t d, const real* add,
                           real* y, Py_ssize_t n) noexcept nogil:
    if real is float:
        fastmel_fir_f32(x, h, d, add, y, n)
    else:
        fastmel_fir_f64(x, h, d, add, y, n)
