"""Inverse STFT: per-frame inverse FFT, window, overlap-add, envelope division.

Frame t (``n_bins`` complex values per channel) is transformed back to
``n_fft`` samples (FFTW c2r; the imaginary parts of the DC and Nyquist bins
are taken as zero, as numpy's and scipy's irfft take them), multiplied by the
window divided by ``n_fft`` (FFTW does not normalise) and added into an
accumulator at padded samples ``[t * hop, t * hop + n_fft)``; the squared
window is added into the envelope at the same samples.  A sample is final
once no later frame reaches it (p < T * hop after T frames) and is then
written out as ``acc / env`` where ``env > tiny`` (librosa's rule), else as
``acc``.  Every sample's sums run in frame order whatever the calls the
frames came in, so a stream equals the offline call bit for bit.

With ``center`` the first ``n_fft // 2`` padded samples are dropped, and so
are the last ``n_fft // 2`` unless the caller asks for a ``length`` (as
librosa does: that is how a signal's last samples come back): a stream holds
back the final samples that the end trim would drop were the last frame in,
until the next frame shows it was not.

The accumulators are linear buffers of ``cap`` samples from padded position
``base``; positions from the end of the last frame on are zero.  Room for the
next frame is made by moving what is still owed to the front (rarely: ``cap``
leaves space for many hops).
"""
import math

import numpy as np

cimport numpy as cnp
from libc.string cimport memmove, memset

from fastmel._plan cimport RealPlan, aligned_alloc, aligned_free
from fastmel._plan import get_plan
from fastmel._checks import ParameterError, allocation
from fastmel._streambase cimport MAX_LEAD_ND, Chunk, Stream, real
from fastmel._streambase import check_state_array, check_state_fields

cnp.import_array()

cdef extern from "fastmel_istft.h" nogil:
    int fastmel_gather_f32(const float* src, Py_ssize_t xs_b, Py_ssize_t xs_f,
                           Py_ssize_t n_bins, Py_ssize_t nb, float* spec, Py_ssize_t slot,
                           float limit, Py_ssize_t ahead)
    int fastmel_gather_f64(const double* src, Py_ssize_t xs_b, Py_ssize_t xs_f,
                           Py_ssize_t n_bins, Py_ssize_t nb, double* spec, Py_ssize_t slot,
                           double limit, Py_ssize_t ahead)
    void fastmel_ola_f32(float* acc, const float* w, const float* x, Py_ssize_t n)
    void fastmel_ola_f64(double* acc, const double* w, const double* x, Py_ssize_t n)
    void fastmel_accumulate_f32(float* acc, const float* w, Py_ssize_t n)
    void fastmel_accumulate_f64(double* acc, const double* w, Py_ssize_t n)
    void fastmel_normalize_f32(const float* acc, const float* env, float* y, Py_ssize_t n,
                               float tiny)
    void fastmel_normalize_f64(const double* acc, const double* env, double* y, Py_ssize_t n,
                               double tiny)

# Positions (padded samples) are 64-bit; a stream or signal reaching this far
# is refused (it would have produced more samples than memory holds anyway).
MAX_POSITION = 2 ** 62
cdef long long max_position = MAX_POSITION

# Outputs of a stream call beyond this many bytes are checked against the
# memory this machine has (a frame can carry up to 2**48 samples of hop).
cdef enum:
    CHECKED_OUTPUT = 1 << 24


cdef struct Synth:
    # The state of one synthesis: accumulators and counters, scratch.
    char* acc                 # n_ch rows of cap values, the working precision
    char* env                 # cap values
    void* spec                # one frame's bins (aligned scratch)
    void* frame               # its inverse transform (aligned scratch)
    Py_ssize_t n_ch
    long long T               # frames added
    long long base            # padded position of acc[:, 0] and env[0]
    long long q               # next padded position to write out


cdef struct Sink:
    # Where samples are written out: position p goes to data[p - first] of its
    # channel's row; positions from ``end`` on are not written (offline ``length``).
    char* data
    Py_ssize_t row
    long long first
    long long end


cdef class InverseKernel:
    """Everything the per-frame synthesis needs, fixed at construction.

    Parameters
    ----------
    n_fft, hop_length : int
    window : np.ndarray [shape=(win_length,), dtype=float64]
        The window as get_window returns it (checked, finite, not all zero).
    center : bool
    is_double : bool
        float64 arithmetic (complex128 input) rather than float32.

    Raises
    ------
    ParameterError
        A window whose squares, summed over the frames that overlap, overflow
        the working precision.
    """

    cdef readonly Py_ssize_t n_fft, n_bins, hop, pad, lag
    cdef readonly bint is_double
    cdef readonly double max_value       # largest real or imaginary part accepted
    cdef readonly double acc_scale       # |acc| <= sqrt(env) * acc_scale (see engine_set)
    cdef Py_ssize_t lo, hi               # the window's span in the frame
    cdef Py_ssize_t cap                  # accumulator length
    cdef Py_ssize_t block                # frames gathered at a time
    cdef Py_ssize_t slot                 # values between their spectra (64-byte multiples)
    cdef Py_ssize_t item                 # bytes per real value
    cdef double tiny
    cdef RealPlan plan
    cdef object _wn, _w2                 # own the memory behind wn, w2
    cdef const void* wn                  # window / n_fft, n_fft values (zero outside lo:hi)
    cdef const void* w2                  # window squared

    def __cinit__(self, Py_ssize_t n_fft, Py_ssize_t hop_length, window, bint center,
                  bint is_double):
        dtype = np.dtype(np.float64 if is_double else np.float32)
        info = np.finfo(dtype)
        w = np.zeros(n_fft)
        off = (n_fft - window.shape[0]) // 2
        w[off:off + window.shape[0]] = window
        self.n_fft, self.hop, self.is_double = n_fft, hop_length, is_double
        self.n_bins = n_fft // 2 + 1
        self.pad = n_fft // 2 if center else 0
        # a sample is held back for one more frame when the end trim could reach it
        self.lag = 1 if hop_length > n_fft - self.pad else 0
        self.lo, self.hi = off, off + window.shape[0]
        self.item = dtype.itemsize
        self.tiny = float(info.tiny)
        self.slot = (2 * self.n_bins + 15) // 16 * 16
        self.block = max(1, min(32, (1 << 19) // (self.slot * self.item)))
        # room for a block of frames after what is owed
        self.cap = 2 * n_fft + self.block * min(hop_length, n_fft)
        with np.errstate(over="ignore", under="ignore"):  # checked just below
            wn = (w / n_fft).astype(dtype)
            w2 = np.square(w).astype(dtype)
        frames = (n_fft + hop_length - 1) // hop_length   # the most frames one sample meets
        w2max = float(np.max(w2))
        if not w2max * frames * 4 <= float(info.max):
            raise ParameterError(
                f"the window's values (up to {float(np.max(np.abs(window))):.3g}) are too large "
                f"for {dtype} synthesis: their squares, summed over the {frames} frames that "
                f"overlap, overflow; scale the window down"
                + (" or use complex128" if not is_double else ""))
        self._wn, self._w2 = wn, w2
        self.wn = cnp.PyArray_DATA(wn)
        self.w2 = cnp.PyArray_DATA(w2)
        self.plan = get_plan(n_fft, is_double, True)
        self._bounds(w, w2, frames, info)

    cdef _bounds(self, w, w2, Py_ssize_t frames, info):
        """The largest real or imaginary part B accepted, so that nothing overflows
        (a factor of 4 to spare, of which 2 covers a restored accumulator).

        With |Re|, |Im| <= B, the unnormalised inverse transform stays below
        3 n_bins B (2 sqrt(2) n_bins B, plus rounding).  A sample's sum over its
        k <= K frames obeys |acc| <= sqrt(env) sqrt(K) 3 n_bins B / n_fft
        (Cauchy-Schwarz; ``acc_scale`` is that factor of sqrt(env), rounding
        allowed for), and its output |acc / env| <= acc_scale / sqrt(env_min),
        env_min being at least the smallest positive squared window value and
        tiny (nothing smaller is divided by).  |acc| also stays below
        K max|w| / n_fft * 3 n_bins B.
        """
        cdef double slack = 1.0 + 4.0 * frames * float(info.eps)
        positive = w2[w2 > 0]
        env_min = max(self.tiny, float(np.min(positive)) if positive.size else self.tiny)
        transform = 3.0 * self.n_bins
        per_b = math.sqrt(frames) * transform / self.n_fft * slack
        worst = max(transform, frames * float(np.max(np.abs(w))) / self.n_fft * transform * slack,
                    per_b / math.sqrt(env_min))
        self.max_value = float(info.max) / (4.0 * worst)
        self.acc_scale = per_b * self.max_value

    # -- positions ------------------------------------------------------------

    cdef inline long long content_end(self, long long T) noexcept nogil:
        """Where the accumulators are zero from, after T frames."""
        return 0 if T == 0 else (T - 1) * self.hop + self.n_fft

    cdef inline long long ready(self, long long T) noexcept nogil:
        """Padded positions below this are final and kept by the end trim, after T frames."""
        return 0 if T == 0 else (T - 1) * self.hop + min(self.hop, self.n_fft - self.pad)

    cdef inline long long end(self, long long T) noexcept nogil:
        """The padded position the output ends at when T frames are all there are."""
        return 0 if T == 0 else (T - 1) * self.hop + self.n_fft - self.pad

    cdef inline long long written(self, long long T) noexcept nogil:
        """Samples per channel written out once T frames are in (more may follow)."""
        return max(0, self.ready(T) - self.pad)

    def total(self, T, trim_end=True):
        """Samples per channel of the whole output when T frames are all there are
        (librosa's length without ``length``); without ``trim_end``, the samples
        up to the last frame's end (what ``length`` can keep)."""
        if T == 0:
            return 0
        return (T - 1) * self.hop + self.n_fft - (2 if trim_end else 1) * self.pad

    # -- the synthesis --------------------------------------------------------

    cdef int synth_init(self, Synth* s, Py_ssize_t n_ch, char* acc, char* env) noexcept nogil:
        """A synthesis at its start on zeroed accumulators; 0, or -1 when the
        scratch cannot be allocated."""
        s.acc, s.env, s.n_ch = acc, env, n_ch
        s.T = s.base = s.q = 0
        s.spec = aligned_alloc(self.block * self.slot * self.item)
        s.frame = aligned_alloc(self.n_fft * self.item)
        if s.spec == NULL or s.frame == NULL:
            self.synth_free(s)
            return -1
        return 0

    cdef void synth_free(self, Synth* s) noexcept nogil:
        aligned_free(s.spec)
        aligned_free(s.frame)
        s.spec = s.frame = NULL

    cdef bint run(self, Synth* s, const char* X, Py_ssize_t xs_c, Py_ssize_t xs_b,
                  Py_ssize_t xs_f, Py_ssize_t j, const Sink* out) noexcept nogil:
        """Add j frames (X: complex values, strides in values between channels,
        bins and frames) and write out every sample they make final.  Returns
        whether every value was finite and within ``max_value`` (checked as
        the frames are read: the offline call's only scan; otherwise its output
        is not to be used)."""
        if self.is_double:
            return self._run[double](s, <const double*>X, xs_c, xs_b, xs_f, j, out)
        return self._run[float](s, <const float*>X, xs_c, xs_b, xs_f, j, out)

    cdef void finish(self, Synth* s, const Sink* out, bint trim_end) noexcept nogil:
        """Write out what is owed when no frame follows (with ``trim_end``, but
        the last ``pad`` samples)."""
        cdef long long upto = self.end(s.T) if trim_end else self.content_end(s.T)
        if self.is_double:
            self._emit[double](s, <const double*>s.acc, <const double*>s.env, upto, out)
        else:
            self._emit[float](s, <const float*>s.acc, <const float*>s.env, upto, out)

    cdef bint _run(self, Synth* s, const real* X, Py_ssize_t xs_c, Py_ssize_t xs_b,
                   Py_ssize_t xs_f, Py_ssize_t j, const Sink* out) noexcept nogil:
        # X holds interleaved real and imaginary parts; strides count complex values.
        # Frames go a block at a time, gathered together (in the order of their
        # layout in memory, the next block prefetched) and added channel by
        # channel; every sample still sums its frames in frame order.
        cdef Py_ssize_t f = 0, nb, b, c, off
        cdef bint bad = False
        cdef Py_ssize_t lo = self.lo, hi = self.hi, n_bins = self.n_bins, slot = self.slot
        cdef real* spec
        cdef const real* fr = <const real*>s.frame
        cdef const real* wn = <const real*>self.wn
        cdef const real* w2 = <const real*>self.w2
        while f < j:
            # everything before this frame is final (and kept: the frame ends later)
            self._emit[real](s, <const real*>s.acc, <const real*>s.env, s.T * self.hop, out)
            nb = min(j - f, self.block)
            if s.T * self.hop + (nb - 1) * self.hop + self.n_fft > s.base + self.cap:
                self._compact(s)
                nb = min(nb, 1 + (self.cap - self.n_fft) // self.hop)
            off = s.T * self.hop - s.base
            for b in range(nb):
                _accumulate(<real*>s.env + off + b * self.hop + lo, w2 + lo, hi - lo)
            for c in range(s.n_ch):
                bad |= _gather(X + 2 * (c * xs_c + f * xs_f), xs_b, xs_f, n_bins, nb,
                               <real*>s.spec, slot, <real>self.max_value,
                               min(j - f - nb, self.block))
                for b in range(nb):
                    spec = <real*>s.spec + b * slot
                    spec[1] = 0
                    if self.n_fft % 2 == 0:
                        spec[2 * n_bins - 1] = 0
                    self.plan.execute(spec, s.frame)
                    _ola(<real*>s.acc + c * self.cap + off + b * self.hop + lo, wn + lo, fr + lo,
                         hi - lo)
            s.T += nb
            f += nb
            self._emit[real](s, <const real*>s.acc, <const real*>s.env, self.ready(s.T), out)
        return not bad

    cdef void _compact(self, Synth* s) noexcept nogil:
        """Move the accumulators to start at q (every sample before it is written out)."""
        cdef long long shift = s.q - s.base
        cdef long long used = self.content_end(s.T) - s.base
        cdef long long keep = max(0, used - shift)
        cdef Py_ssize_t c, item = self.item
        cdef char* row
        for c in range(s.n_ch + 1):
            row = s.env if c == s.n_ch else s.acc + c * self.cap * item
            if keep:
                memmove(row, row + shift * item, keep * item)
            memset(row + keep * item, 0, (used - keep) * item)
        s.base = s.q

    cdef void _emit(self, Synth* s, const real* acc_rows, const real* env_row, long long upto,
                    const Sink* out) noexcept nogil:
        """Write out positions [q, upto): acc / env where env > tiny, else acc;
        zeros beyond the last frame's end.  Positions before the left trim
        (``pad``) or from ``out.end`` on are skipped."""
        cdef long long a = max(s.q, <long long>self.pad)
        cdef long long b = min(upto, out.end)
        cdef long long filled = min(b, self.content_end(s.T))
        cdef Py_ssize_t c, n
        cdef real* y
        if b > a:
            n = max(0, filled - a)
            for c in range(s.n_ch):
                y = <real*>(out.data + c * out.row * sizeof(real)) + (a - out.first)
                _normalize(acc_rows + c * self.cap + (a - s.base), env_row + (a - s.base), y, n,
                           <real>self.tiny)
                memset(y + n, 0, (b - a - n) * sizeof(real))
        s.q = max(s.q, upto)

    cdef void add_envelope(self, real* env, long long base, long long t) noexcept nogil:
        """Frame t's squared window into an envelope that starts at position base
        (positions before base skipped): the additions ``_run`` makes."""
        cdef long long start = t * self.hop - base
        cdef Py_ssize_t i = max(self.lo, -start)
        if i < self.hi:
            _accumulate(env + start + i, <const real*>self.w2 + i, self.hi - i)


cdef inline bint _gather(const real* src, Py_ssize_t xs_b, Py_ssize_t xs_f, Py_ssize_t n_bins,
                         Py_ssize_t nb, real* spec, Py_ssize_t slot, real limit,
                         Py_ssize_t ahead) noexcept nogil:
    if real is float:
        return fastmel_gather_f32(src, xs_b, xs_f, n_bins, nb, spec, slot, limit, ahead)
    else:
        return fastmel_gather_f64(src, xs_b, xs_f, n_bins, nb, spec, slot, limit, ahead)


cdef inline void _ola(real* acc, const real* w, const real* x, Py_ssize_t n) noexcept nogil:
    if real is float:
        fastmel_ola_f32(acc, w, x, n)
    else:
        fastmel_ola_f64(acc, w, x, n)


cdef inline void _accumulate(real* acc, const real* w, Py_ssize_t n) noexcept nogil:
    if real is float:
        fastmel_accumulate_f32(acc, w, n)
    else:
        fastmel_accumulate_f64(acc, w, n)


cdef inline void _normalize(const real* acc, const real* env, real* y, Py_ssize_t n,
                            real tiny) noexcept nogil:
    if real is float:
        fastmel_normalize_f32(acc, env, y, n, tiny)
    else:
        fastmel_normalize_f64(acc, env, y, n, tiny)


def synthesize(InverseKernel kernel, cnp.ndarray S, Py_ssize_t n_frames, cnp.ndarray out,
               bint trim_end=True):
    """The inverse STFT of the first ``n_frames`` frames of ``S`` into ``out``
    (without ``trim_end``, the right-hand padding is kept: librosa's ``length``).

    ``S`` is (n_ch, n_bins, n) complex in the kernel's precision, its strides
    whole values; ``out`` is (n_ch, m) in the kernel's real type, its rows
    contiguous, and receives the first m samples of the result (m at most its
    length).  Returns False when a value read was not finite or beyond
    ``kernel.max_value`` (``out`` is then not to be used).
    """
    cdef Synth s
    cdef bint ok
    cdef Sink sink
    cdef Py_ssize_t n_ch = S.shape[0], item = S.itemsize
    cdef cnp.ndarray acc = np.zeros((n_ch, kernel.cap), dtype=out.dtype)
    cdef cnp.ndarray env = np.zeros(kernel.cap, dtype=out.dtype)
    cdef const char* X = <const char*>cnp.PyArray_DATA(S)
    cdef Py_ssize_t xs_c = S.strides[0] // item, xs_b = S.strides[1] // item
    cdef Py_ssize_t xs_f = S.strides[2] // item
    sink.data = <char*>cnp.PyArray_DATA(out)
    sink.row = out.strides[0] // out.itemsize
    sink.first = kernel.pad
    sink.end = kernel.pad + out.shape[1]
    if kernel.synth_init(&s, n_ch, <char*>cnp.PyArray_DATA(acc),
                         <char*>cnp.PyArray_DATA(env)) != 0:
        raise MemoryError("fastmel: could not allocate inverse STFT scratch buffers")
    with nogil:
        ok = kernel.run(&s, X, xs_c, xs_b, xs_f, n_frames, &sink)
        kernel.finish(&s, &sink, trim_end)
    kernel.synth_free(&s)
    return ok


cdef class InverseStream(Stream):
    """A streaming inverse STFT: frames of spectra in, samples out (see the
    module docstring); the engine behind fastmel.ISTFT's ``stream()``.

    Chunks are (..., n_bins, j) complex: the leading shape the base fixes
    ends with the bins axis, and ``samples_in`` counts frames.
    """

    cdef readonly object extractor       # what made this stream (its configuration)
    cdef InverseKernel kernel
    cdef Synth s
    cdef bint scratch
    cdef Py_ssize_t n_sig                # signal channels: n_ch / n_bins
    cdef cnp.ndarray acc                 # (n_sig, cap)
    cdef cnp.ndarray env                 # (cap,)

    def __cinit__(self, owner, InverseKernel kernel):
        self.extractor = owner
        self.kernel = kernel
        self.is_complex = True
        self.fixed_dtype = np.dtype(np.complex128 if kernel.is_double else np.complex64)
        self.bound = kernel.max_value
        self.lag = kernel.lag
        self.maker = owner.stream
        self.label = f"{owner!r}.stream()"
        if kernel.synth_init(&self.s, 0, NULL, NULL) != 0:
            raise MemoryError("fastmel: could not allocate inverse STFT scratch buffers")
        self.scratch = True

    def __dealloc__(self):
        if self.scratch:
            self.kernel.synth_free(&self.s)

    # -- the engine (see fastmel._streambase) --------------------------------

    cdef object engine_dtype(self, object dtype):
        return np.dtype(np.float64 if self.kernel.is_double else np.float32)

    cdef int engine_start(self) except -1:
        lead = self.lead_shape
        if len(lead) == 0 or lead[-1] != self.kernel.n_bins:
            raise ParameterError(
                f"chunk has shape {lead + ('k',)}, but this inverse STFT (n_fft="
                f"{self.kernel.n_fft}) takes frames of {self.kernel.n_bins} bins: chunks of "
                f"shape (..., {self.kernel.n_bins}, frames)")
        self.n_sig = self.n_ch // self.kernel.n_bins
        dtype = self.out_dtype
        allocation((int(self.n_sig) + 1) * self.kernel.cap * (self.item // 2),
                   f"an inverse STFT stream for leading shape {lead}")
        self.acc = np.zeros((self.n_sig, self.kernel.cap), dtype=dtype)
        self.env = np.zeros(self.kernel.cap, dtype=dtype)
        self._attach(0)
        return 0

    cdef void _attach(self, long long T) noexcept:
        """Point the synthesis at this stream's accumulators, after T frames."""
        self.s.acc = <char*>cnp.PyArray_DATA(self.acc)
        self.s.env = <char*>cnp.PyArray_DATA(self.env)
        self.s.n_ch = self.n_sig
        self.s.T = T
        self.s.q = self.kernel.ready(T)
        self.s.base = self.s.q

    cdef void engine_stop(self) noexcept:
        self.acc = self.env = None
        self.s.acc = self.s.env = NULL
        self.s.n_ch = 0
        self.s.T = self.s.base = self.s.q = 0

    cdef cnp.ndarray _out(self, long long n):
        """An output of n samples per signal channel: (lead[:-1]..., n)."""
        cdef cnp.npy_intp dims[MAX_LEAD_ND]
        cdef int i
        if n > CHECKED_OUTPUT // ((self.item // 2) * max(self.n_sig, 1)):
            allocation(int(self.n_sig) * n * (self.item // 2),
                       f"an inverse STFT output of {n} samples per channel",
                       f"each frame brings hop_length={self.kernel.hop} samples: pass fewer frames "
                       f"per chunk")
        for i in range(self.lead_nd - 1):
            dims[i] = self.dims[i]
        dims[self.lead_nd - 1] = n
        return cnp.PyArray_EMPTY(self.lead_nd, dims, self.out_typenum, 0)

    cdef Sink _sink(self, cnp.ndarray y):
        cdef Sink sink
        sink.data = <char*>cnp.PyArray_DATA(y)
        sink.row = y.shape[y.ndim - 1]
        sink.first = self.kernel.pad + self.kernel.written(self.s.T)
        sink.end = max_position
        return sink

    cdef int _check_room(self, Py_ssize_t k) except -1:
        cdef long long T = self.s.T
        # (T + k) hop + n_fft <= max_position, without overflowing
        if k > (max_position - self.kernel.n_fft) // self.kernel.hop - T:
            raise ParameterError(
                f"this inverse STFT stream has taken {T} frames of hop {self.kernel.hop}; {k} "
                f"more would pass the {MAX_POSITION} samples it can count (reset() it)")
        return 0

    cdef object engine_out_lead(self, tuple lead):
        return lead[:-1]                     # the bins axis becomes samples

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        self._check_room(k)
        return self.kernel.written(self.s.T + k) - self.kernel.written(self.s.T)

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef InverseKernel kernel = self.kernel
        cdef long long T = self.s.T
        self._check_room(c.k)
        cdef cnp.ndarray y = self._out(kernel.written(T + c.k) - kernel.written(T))
        cdef Sink sink = self._sink(y)
        with nogil:
            kernel.run(&self.s, c.data, kernel.n_bins * c.xs_ch, c.xs_ch, c.xs, c.k, &sink)
        self.n_in += c.k
        return y

    cdef object engine_tail(self):
        cdef long long T = self.s.T
        cdef cnp.ndarray y = self._out(self.kernel.end(T) - self.kernel.pad
                                       - self.kernel.written(T) if T else 0)
        cdef Sink sink = self._sink(y)
        with nogil:
            self.kernel.finish(&self.s, &sink, True)
        return y

    cdef object engine_get(self):
        """The accumulated sums still owed; the envelope follows from the frame count."""
        lo = self.s.q - self.s.base
        hi = self.kernel.content_end(self.s.T) - self.s.base
        return dict(acc=self.acc[:, lo:max(lo, hi)].copy())

    cdef int engine_set(self, object state) except -1:
        """Check and install a state made by engine_get (the base has checked and
        installed the leading shape, dtype and n_in, the frame count).

        The envelope is rebuilt from the frames that reach the owed samples, by
        the additions the stream made, so it is exact; each sum must lie within
        the bound every real one obeys (see InverseKernel._bounds), or later
        outputs could overflow.
        """
        cdef InverseKernel kernel = self.kernel
        cdef long long t
        T = self.n_in
        check_state_fields(state, "state", ("acc",))
        if T * kernel.hop + kernel.n_fft > MAX_POSITION:            # Python integers
            raise ValueError(f"fastmel: restored stream state: n_in={T} frames of hop "
                             f"{kernel.hop} pass the {MAX_POSITION} samples a stream can count")
        q, stop = kernel.ready(T), kernel.content_end(T)
        acc = check_state_array(state["acc"], "acc", (self.n_sig, max(0, stop - q)),
                                self.out_dtype)
        self._attach(T)
        # the first frame that reaches q
        t0 = 0 if q < kernel.n_fft else (q - kernel.n_fft) // kernel.hop + 1
        for t in range(t0, T):
            if kernel.is_double:
                kernel.add_envelope[double](<double*>self.s.env, self.s.base, t)
            else:
                kernel.add_envelope[float](<float*>self.s.env, self.s.base, t)
        if acc.size:
            scale = np.sqrt(self.env[:acc.shape[1]].astype(np.float64)) * kernel.acc_scale
            if np.any(np.abs(acc) > scale):
                raise ValueError("fastmel: restored stream state: acc holds sums beyond what "
                                 "frames within the stream's bound can add up to")
        self.acc[:, :acc.shape[1]] = acc
        return 0
