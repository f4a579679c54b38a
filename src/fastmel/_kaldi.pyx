"""Kaldi's filterbank and MFCC front end: the per-frame kernel and its stream engine.

The arithmetic follows Kaldi's (kaldi-native-fbank's ``ProcessWindow`` and
its fbank / MFCC computers), step by step, in the kernel's precision: copy
the frame (reflected at the signal's ends when ``snip_edges`` is off), add
``dither`` times a standard normal draw, remove the frame's mean, take the
raw log energy, pre-emphasise (``x[i] - c * x[i - 1]``, ``x[0] - c *
x[0]``), multiply by the window, zero-pad to the FFT size, take the
windowed energy, FFT, power (or magnitude) of the bins below Nyquist,
sparse mel filters, natural log with a floor at FLT_EPSILON, and for MFCC
the DCT and lifter; the log energy (floored at ``log(energy_floor)``) goes
in row 0.  What differs from Kaldi is rounding only: FFTW's FFT, the
frame's sums (mean, energy) in 8 partial sums, and the filters' log through
fastmel's vectorised logarithm (2 ulp); filter and DCT sums run in Kaldi's
order.

Frame timing is Kaldi's ``NumFrames``/``FirstSampleOfFrame``: with
``snip_edges`` frame t covers ``[t * shift, t * shift + L)``; without, it
is centred at ``t * shift + shift // 2`` and starts ``L // 2`` before.  A
stream emits a frame once its last sample is in (Kaldi's online count);
``flush`` adds the frames Kaldi computes when input finishes, reflected at
the end within the samples Kaldi still holds then (from the first sample
of the first frame not yet emitted), which is what makes the offline
result, computed by the same function, equal to Kaldi's.

Dither draws ``L`` values per frame and channel from a numpy Generator,
frame after frame (all channels of a frame before the next frame), so a
stream draws the same values as the offline call whatever its chunks.
"""
import numpy as np

cimport numpy as cnp
from libc.float cimport FLT_EPSILON
from libc.math cimport log, logf
from libc.string cimport memset

from fastmel._plan cimport RealPlan, aligned_alloc, aligned_free
from fastmel._streambase cimport Chunk, Stream, rows_append, rows_drop, real

from fastmel._checks import ParameterError, allocation
from fastmel._streambase import (
    MAX_SAMPLES, check_state_array, check_state_fields, check_state_int,
)

cdef extern from "fastmel_db.h" nogil:
    void fastmel_power_to_db_f32(float* v, long n, float amin, float offset)
    int fastmel_all_finite_f32(const float* x, long n, long stride)
    int fastmel_all_finite_f64(const double* x, long n, long stride)

# The frame's element-wise loops, in C for what Cython cannot say: restrict
# (the output never aliases the input, so the loops vectorise) and
# target_clones (an AVX2 build chosen at load time).  Every clone does the
# same IEEE operations in the same order (no FMA: -ffp-contract=off), so the
# bits are those of the scalar loops they replace.
cdef extern from *:
    """
    #include <stddef.h>
    #include "fastmel_db.h"   /* FASTMEL_CLONES */

    #define FASTMEL_KALDI_LOOPS(T, SUF)                                                   \
    /* The sum of a[i] (squares: of (a[i] - mean)^2) in 8 interleaved partial sums */    \
    FASTMEL_CLONES_8 static T fastmel_kaldi_sum_##SUF(const T *restrict a, ptrdiff_t n,     \
                                                     T mean, int squares)                 \
    {                                                                                     \
        T l[8] = {0, 0, 0, 0, 0, 0, 0, 0};                                                \
        ptrdiff_t n8 = n - n % 8, i, j;                                                   \
        if (squares) {                                                                    \
            for (i = 0; i < n8; i += 8)                                                   \
                for (j = 0; j < 8; j++) { T v = a[i + j] - mean; l[j] += v * v; }         \
            for (i = n8; i < n; i++) { T v = a[i] - mean; l[i - n8] += v * v; }           \
        } else {                                                                          \
            for (i = 0; i < n8; i += 8)                                                   \
                for (j = 0; j < 8; j++) l[j] += a[i + j];                                 \
            for (i = n8; i < n; i++) l[i - n8] += a[i];                                   \
        }                                                                                 \
        return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]));         \
    }                                                                                     \
    /* f[i] = ((x[i] - mean) - c * (x[i - 1] - mean)) * win[i], x[-1] read as x[0];     \
       c == 0: f[i] = (x[i] - mean) * win[i] */                                           \
    FASTMEL_CLONES static void fastmel_kaldi_prewin_##SUF(const T *restrict x, T mean,    \
                                                          T c, const T *restrict win,     \
                                                          T *restrict f, ptrdiff_t n)     \
    {                                                                                     \
        if (n <= 0) return;                                                               \
        if (c != 0) {                                                                     \
            f[0] = ((x[0] - mean) - c * (x[0] - mean)) * win[0];                          \
            for (ptrdiff_t i = 1; i < n; i++)                                             \
                f[i] = ((x[i] - mean) - c * (x[i - 1] - mean)) * win[i];                  \
        } else {                                                                          \
            for (ptrdiff_t i = 0; i < n; i++) f[i] = (x[i] - mean) * win[i];              \
        }                                                                                 \
    }                                                                                     \
    /* p[i] = |X[i]|^2 (root: |X[i]|) from interleaved complex X */                       \
    FASTMEL_CLONES static void fastmel_kaldi_power_##SUF(const T *restrict sp,            \
                                                         T *restrict p, ptrdiff_t n,      \
                                                         int root)                        \
    {                                                                                     \
        for (ptrdiff_t i = 0; i < n; i++)                                                 \
            p[i] = sp[2 * i] * sp[2 * i] + sp[2 * i + 1] * sp[2 * i + 1];                 \
        if (root)                                                                         \
            for (ptrdiff_t i = 0; i < n; i++) p[i] = FASTMEL_KALDI_SQRT_##SUF(p[i]);      \
    }

    #define FASTMEL_KALDI_SQRT_f32 __builtin_sqrtf
    #define FASTMEL_KALDI_SQRT_f64 __builtin_sqrt
    FASTMEL_KALDI_LOOPS(float, f32)
    FASTMEL_KALDI_LOOPS(double, f64)
    """
    float fastmel_kaldi_sum_f32(const float* a, Py_ssize_t n, float mean, int squares) nogil
    double fastmel_kaldi_sum_f64(const double* a, Py_ssize_t n, double mean, int squares) nogil
    void fastmel_kaldi_prewin_f32(const float* x, float mean, float c, const float* win,
                                  float* f, Py_ssize_t n) nogil
    void fastmel_kaldi_prewin_f64(const double* x, double mean, double c, const double* win,
                                  double* f, Py_ssize_t n) nogil
    void fastmel_kaldi_power_f32(const float* sp, float* p, Py_ssize_t n, int root) nogil
    void fastmel_kaldi_power_f64(const double* sp, double* p, Py_ssize_t n, int root) nogil

cnp.import_array()

# Frames whose noise is drawn at once when dithering (the rest of the time
# every frame of a call runs in one loop without the GIL).
DEF NOISE_BLOCK = 64

# Kernel status: an output value came out non-finite.
DEF NONFINITE = 1

# A stream chunk with fewer frames (times channels) and samples than these is
# computed holding the GIL: releasing it would cost more than the work.
DEF GIL_FRAMES = 4
DEF GIL_SAMPLES = 1 << 14

# ln(x) = 10 * log10(x) * ln(10) / 10
DEF LN10_OVER_10 = 0.23025850929940458


cdef struct Work:
    void* frame        # n_fft reals: the frame, then the FFT input
    void* spec         # n_bins complex
    void* gather       # frame_length reals: a frame reflected at the edges
    void* pre          # frame_length reals: the frame before pre-emphasis
    void* mel          # n_mels reals


cdef class KaldiKernel:
    """One Kaldi fbank / MFCC configuration, immutable: per-frame arithmetic,
    window, mel filters, DCT and FFT plan.  Made by fastmel.frontends."""

    cdef readonly bint is_double, snip_edges
    cdef readonly Py_ssize_t frame_length, frame_shift, n_fft, n_bins, n_mels, n_out, n_ceps
    cdef readonly double max_amplitude, dither
    cdef bint remove_dc, use_power, use_log, energy_raw, energy_windowed
    cdef double preemph, log_floor
    cdef RealPlan plan
    cdef object _window, _mel_lo, _mel_len, _mel_woff, _mel_w, _dct, _lifter
    cdef const void* window
    # filter m: weights mel_w[mel_woff[m]:][:mel_len[m]] over bins mel_lo[m]...
    cdef const Py_ssize_t* mel_lo
    cdef const Py_ssize_t* mel_len
    cdef const Py_ssize_t* mel_woff
    cdef const void* mel_w
    cdef const void* dct
    cdef const void* lifter

    def __cinit__(self, *, bint is_double, Py_ssize_t frame_length, Py_ssize_t frame_shift,
                  Py_ssize_t n_fft, bint snip_edges, window, mel_lo, mel_len, mel_w,
                  double preemph, bint remove_dc, double dither, int energy, double log_floor,
                  bint use_power, bint use_log, dct, lifter, RealPlan plan,
                  double max_amplitude):
        real = np.float64 if is_double else np.float32
        self.is_double = is_double
        self.frame_length, self.frame_shift, self.n_fft = frame_length, frame_shift, n_fft
        self.n_bins = n_fft // 2 + 1
        self.snip_edges = snip_edges
        self.preemph, self.remove_dc, self.dither = preemph, remove_dc, dither
        self.energy_raw, self.energy_windowed = energy == 1, energy == 2
        self.log_floor = log_floor
        self.use_power, self.use_log = use_power, use_log
        self.plan = plan
        self.max_amplitude = max_amplitude
        self._window = np.ascontiguousarray(window, dtype=real)
        self._mel_lo = np.ascontiguousarray(mel_lo, dtype=np.intp)
        self._mel_len = np.ascontiguousarray(mel_len, dtype=np.intp)
        self._mel_woff = np.ascontiguousarray(np.concatenate(([0], np.cumsum(mel_len)[:-1])),
                                              dtype=np.intp)
        self._mel_w = np.ascontiguousarray(mel_w, dtype=real)
        self.n_mels = self._mel_lo.shape[0]
        self.n_ceps = 0 if dct is None else dct.shape[0]
        self._dct = np.ascontiguousarray(dct if dct is not None else np.zeros(1), dtype=real)
        self._lifter = np.ascontiguousarray(lifter if lifter is not None else np.ones(1),
                                            dtype=real)
        self.n_out = (self.n_ceps if self.n_ceps else self.n_mels
                      + (self.energy_raw or self.energy_windowed))
        self.window = cnp.PyArray_DATA(self._window)
        self.mel_lo = <const Py_ssize_t*>cnp.PyArray_DATA(self._mel_lo)
        self.mel_len = <const Py_ssize_t*>cnp.PyArray_DATA(self._mel_len)
        self.mel_woff = <const Py_ssize_t*>cnp.PyArray_DATA(self._mel_woff)
        self.mel_w = cnp.PyArray_DATA(self._mel_w)
        self.dct = cnp.PyArray_DATA(self._dct)
        self.lifter = cnp.PyArray_DATA(self._lifter)

    # -- frame timing (Kaldi's NumFrames / FirstSampleOfFrame) ----------------

    cdef long long first_sample(self, long long t) noexcept nogil:
        if self.snip_edges:
            return t * self.frame_shift
        return t * self.frame_shift + self.frame_shift // 2 - self.frame_length // 2

    cdef long long num_frames(self, long long n, bint at_end) noexcept nogil:
        """Frames of a signal of n samples: all of them (``at_end``), or those
        whose samples are all in while more may come."""
        cdef long long t
        if self.snip_edges:
            return 0 if n < self.frame_length else 1 + (n - self.frame_length) // self.frame_shift
        t = (n + self.frame_shift // 2) // self.frame_shift
        if at_end:
            return t
        while t > 0 and self.first_sample(t - 1) + self.frame_length > n:
            t -= 1
        return t

    # -- scratch ---------------------------------------------------------------

    cdef int work_init(self, Work* w) noexcept nogil:
        cdef size_t item = 8 if self.is_double else 4
        w.frame = aligned_alloc(self.n_fft * item)
        w.spec = aligned_alloc(2 * self.n_bins * item)
        w.gather = aligned_alloc(self.frame_length * item)
        w.pre = aligned_alloc(self.frame_length * item)
        w.mel = aligned_alloc(self.n_mels * item)
        if w.frame == NULL or w.spec == NULL or w.gather == NULL or w.pre == NULL \
                or w.mel == NULL:
            self.work_free(w)
            return -1
        return 0

    cdef void work_free(self, Work* w) noexcept nogil:
        aligned_free(w.frame)
        aligned_free(w.spec)
        aligned_free(w.gather)
        aligned_free(w.pre)
        aligned_free(w.mel)
        w.frame = w.spec = w.gather = w.pre = w.mel = NULL

    def __reduce__(self):
        raise TypeError("KaldiKernel is rebuilt from its extractor's configuration, "
                        "not pickled")


cdef inline real _log(real v) noexcept nogil:
    if real is float:
        return logf(v)
    else:
        return log(v)


cdef inline real _sum(const real* a, Py_ssize_t n, real mean, bint squares) noexcept nogil:
    """The sum of a[i] (or of (a[i] - mean)**2) over n, in 8 interleaved partial
    sums: one chain of dependent additions (Kaldi's order) would cost more than
    the frame's FFT.  The order differs from Kaldi's, by float32 rounding only."""
    if real is float:
        return fastmel_kaldi_sum_f32(a, n, mean, squares)
    else:
        return fastmel_kaldi_sum_f64(a, n, mean, squares)


cdef int _frame(KaldiKernel k, Work* w, const real* x, const real* noise, real* out,
                Py_ssize_t os) noexcept nogil:
    """One frame: L samples from x (noise: L draws, or NULL) to n_out values,
    os apart in out.  Returns NONFINITE if a value is not finite."""
    cdef real* f = <real*>w.frame
    cdef real* sp = <real*>w.spec
    cdef real* g = <real*>w.pre
    cdef real* mel = <real*>w.mel
    cdef const real* win = <const real*>k.window
    cdef const real* mw = <const real*>k.mel_w
    cdef const real* dct = <const real*>k.dct
    cdef const real* lif = <const real*>k.lifter
    cdef Py_ssize_t L = k.frame_length, i, m, q, nb = k.n_fft // 2
    cdef real s, mean, c = <real>k.preemph, d = <real>k.dither, energy = 0, eps = FLT_EPSILON
    cdef real floor_ = <real>k.log_floor    # -inf: no floor
    cdef bint energy_on = k.energy_raw or k.energy_windowed
    cdef Py_ssize_t first = 1 if energy_on and not k.n_ceps else 0
    if noise != NULL:
        for i in range(L):
            g[i] = x[i] + noise[i] * d
        x = g
    # Kaldi subtracts the mean in place; here x[i] - mean is formed where it is
    # used, rounded the same (and x - 0 is x, bit for bit, without DC removal)
    mean = _sum(x, L, 0, False) / <real>L if k.remove_dc else 0
    if k.energy_raw:
        s = _sum(x, L, mean, True)
        energy = _log(s if s > eps else eps)
    # pre-emphasis (x[i] - c * x[i - 1], x[0] - c * x[0]: Kaldi's in-place
    # loop from the end reads the samples before it changes them) and window
    if real is float:
        fastmel_kaldi_prewin_f32(x, mean, c, win, f, L)
    else:
        fastmel_kaldi_prewin_f64(x, mean, c, win, f, L)
    memset(f + L, 0, (k.n_fft - L) * sizeof(real))
    if k.energy_windowed:
        s = _sum(f, L, 0, True)       # the padding adds nothing
        energy = _log(s if s > eps else eps)
    k.plan.execute(f, sp)
    # power of the bins below Nyquist (Kaldi's filters never reach it), in place
    if real is float:
        fastmel_kaldi_power_f32(sp, f, nb, not k.use_power)
    else:
        fastmel_kaldi_power_f64(sp, f, nb, not k.use_power)
    _filters(k, f, mw, mel)
    if k.use_log:
        if real is float:
            # glibc's logf costs about as much as the FFT: fastmel's vectorised
            # dB (within 2 ulp), scaled to the natural log
            fastmel_power_to_db_f32(mel, k.n_mels, eps, 0)
            for m in range(k.n_mels):
                mel[m] *= <float>LN10_OVER_10
        else:
            for m in range(k.n_mels):
                s = mel[m]
                mel[m] = log(s if s > eps else eps)
    if energy_on and energy < floor_:
        energy = floor_
    if k.n_ceps:
        for q in range(k.n_ceps):
            s = 0
            for m in range(k.n_mels):
                s += dct[q * k.n_mels + m] * mel[m]
            out[q * os] = s * lif[q]
    else:
        for m in range(k.n_mels):
            out[(m + first) * os] = mel[m]
    if energy_on:
        out[0] = energy
    if real is float:
        return 0 if fastmel_all_finite_f32(out, k.n_out, os) else NONFINITE
    else:
        return 0 if fastmel_all_finite_f64(out, k.n_out, os) else NONFINITE


cdef inline void _filters(KaldiKernel k, const real* f, const real* mw,
                          real* mel) noexcept nogil:
    """mel[m] = the sum of filter m's weights times f over its bins, in
    ascending order (Kaldi's), four filters side by side: each sum is a chain
    of dependent additions, and four chains overlap where one would wait."""
    cdef Py_ssize_t m, i, n, n_mels = k.n_mels
    cdef Py_ssize_t l0, l1, l2, l3
    cdef const real* w0
    cdef const real* w1
    cdef const real* w2
    cdef const real* w3
    cdef const real* p0
    cdef const real* p1
    cdef const real* p2
    cdef const real* p3
    cdef real s0, s1, s2, s3
    m = 0
    while m + 4 <= n_mels:
        l0, l1, l2, l3 = k.mel_len[m], k.mel_len[m + 1], k.mel_len[m + 2], k.mel_len[m + 3]
        w0, w1 = mw + k.mel_woff[m], mw + k.mel_woff[m + 1]
        w2, w3 = mw + k.mel_woff[m + 2], mw + k.mel_woff[m + 3]
        p0, p1 = f + k.mel_lo[m], f + k.mel_lo[m + 1]
        p2, p3 = f + k.mel_lo[m + 2], f + k.mel_lo[m + 3]
        n = min(min(l0, l1), min(l2, l3))
        s0 = s1 = s2 = s3 = 0
        for i in range(n):
            s0 += w0[i] * p0[i]
            s1 += w1[i] * p1[i]
            s2 += w2[i] * p2[i]
            s3 += w3[i] * p3[i]
        for i in range(n, l0):
            s0 += w0[i] * p0[i]
        for i in range(n, l1):
            s1 += w1[i] * p1[i]
        for i in range(n, l2):
            s2 += w2[i] * p2[i]
        for i in range(n, l3):
            s3 += w3[i] * p3[i]
        mel[m], mel[m + 1], mel[m + 2], mel[m + 3] = s0, s1, s2, s3
        m += 4
    while m < n_mels:
        s0 = 0
        w0, p0 = mw + k.mel_woff[m], f + k.mel_lo[m]
        for i in range(k.mel_len[m]):
            s0 += w0[i] * p0[i]
        mel[m] = s0
        m += 1


cdef inline long long _reflect(long long s, long long lo, long long hi) noexcept nogil:
    """Kaldi's reflection of sample index s into [lo, hi) (-1 -> 0, hi -> hi - 1),
    repeated for frames longer than the signal."""
    while s < lo or s >= hi:
        if s < lo:
            s = 2 * lo - s - 1
        else:
            s = 2 * hi - 1 - s
    return s


cdef int _frames(KaldiKernel k, Work* w, const real* sig, Py_ssize_t ch_stride,
                 Py_ssize_t n_ch, long long sig_pos, long long lo, long long hi,
                 long long t0, Py_ssize_t nt, const real* noise, real* out,
                 Py_ssize_t n_cols, Py_ssize_t col0) noexcept nogil:
    """Frames t0 .. t0 + nt of n_ch channels (rows ch_stride apart in sig,
    whose element 0 is sample sig_pos) into out (n_ch, n_out, n_cols) from
    column col0; edges reflect within [lo, hi).  noise: nt * n_ch * L draws
    (frame-major) or NULL."""
    cdef Py_ssize_t L = k.frame_length, j, i, c
    cdef long long start
    cdef const real* src
    cdef const real* row
    cdef real* g = <real*>w.gather
    for j in range(nt):
        start = k.first_sample(t0 + j)
        for c in range(n_ch):
            row = sig + c * ch_stride
            if start >= lo and start + L <= hi:
                src = row + (start - sig_pos)
            else:
                for i in range(L):
                    g[i] = row[_reflect(start + i, lo, hi) - sig_pos]
                src = g
            if _frame(k, w, src, noise + (j * n_ch + c) * L if noise != NULL else NULL,
                      out + c * k.n_out * n_cols + col0 + j, n_cols):
                return NONFINITE
    return 0


cdef int _run(KaldiKernel k, Work* w, const char* sig, Py_ssize_t ch_stride, Py_ssize_t n_ch,
              long long sig_pos, long long lo, long long hi, long long t0, Py_ssize_t nt,
              object rng, char* out, Py_ssize_t n_cols, Py_ssize_t col0) except -1:
    """_frames over nt frames (``sig``: n_ch rows ch_stride elements apart; out:
    (n_ch, n_out, n_cols)), drawing the dither's noise from ``rng`` NOISE_BLOCK
    frames at a time."""
    cdef int status = 0
    cdef Py_ssize_t done = 0, nb
    cdef const char* noise = NULL
    cdef cnp.ndarray draws
    if nt <= 0 or n_ch == 0:
        return 0
    while done < nt and status == 0:
        nb = nt - done
        if k.dither != 0:
            nb = min(nb, NOISE_BLOCK)
            draws = rng.standard_normal((nb, n_ch, k.frame_length),
                                        dtype=np.float64 if k.is_double else np.float32)
            noise = <const char*>cnp.PyArray_DATA(draws)
        with nogil:
            if k.is_double:
                status = _frames(k, w, <const double*>sig, ch_stride, n_ch, sig_pos, lo, hi,
                                 t0 + done, nb, <const double*>noise, <double*>out, n_cols,
                                 col0 + done)
            else:
                status = _frames(k, w, <const float*>sig, ch_stride, n_ch, sig_pos, lo, hi,
                                 t0 + done, nb, <const float*>noise, <float*>out, n_cols,
                                 col0 + done)
        done += nb
    if status:
        raise ParameterError("the Kaldi features overflowed (non-finite values); scale the "
                             "signal down or use float64")
    return 0


def offline(KaldiKernel k, cnp.ndarray x, rng):
    """Every frame of x (n_ch, n), contiguous rows in the kernel's precision, as
    (n_ch, n_out, n_frames): Kaldi's features of the whole signal at once."""
    cdef Py_ssize_t n_ch = x.shape[0]
    cdef long long n = x.shape[1]
    cdef long long n_done = k.num_frames(n, False), n_all = k.num_frames(n, True)
    nbytes = n_ch * k.n_out * n_all * x.itemsize
    allocation(nbytes, f"the output ({n_ch}, {k.n_out}, {n_all})",
               "use a stream over pieces of the signal")
    cdef cnp.ndarray out = np.empty((n_ch, k.n_out, n_all), dtype=x.dtype)
    cdef const char* xp = <const char*>cnp.PyArray_DATA(x)
    cdef char* op = <char*>cnp.PyArray_DATA(out)
    cdef Work w
    if k.work_init(&w) != 0:
        raise MemoryError("fastmel: could not allocate Kaldi frame scratch")
    try:
        # the frames Kaldi computes as samples arrive reflect (on the left only)
        # within the whole signal; those it adds when input ends, within what
        # it still holds then
        _run(k, &w, xp, n, n_ch, 0, 0, n, 0, n_done, rng, op, n_all, 0)
        _run(k, &w, xp, n, n_ch, 0, max(0, k.first_sample(n_done)), n, n_done, n_all - n_done,
             rng, op, n_all, n_done)
    finally:
        k.work_free(&w)
    return out


cdef class KaldiStream(Stream):
    """Kaldi fbank / MFCC as a stream engine (see the module docstring).

    Per channel a linear buffer holds the samples from buf_pos on (Kaldi's
    remainder: from the first sample of the next frame to compute, at least
    0); compacted (a memmove) when full.  Made by the extractors' stream().
    """

    cdef readonly object extractor
    cdef KaldiKernel kernel
    cdef object rng_source              # () -> the Generator a new stream draws from
    cdef object rng
    cdef object undo_rng
    cdef object undo                    # what engine_undo puts back
    cdef Py_ssize_t cap
    cdef Work work
    cdef bint work_ready
    cdef cnp.ndarray buf
    cdef long long buf_pos, t_next
    cdef Py_ssize_t buf_len

    def __cinit__(self, owner, KaldiKernel kernel, rng_source):
        self.extractor = owner
        self.kernel = kernel
        self.rng_source = rng_source
        self.fixed_dtype = np.dtype(np.float64 if kernel.is_double else np.float32)
        self.n_out = kernel.n_out
        self.frames_out = True
        self.bound = kernel.max_amplitude
        self.hop = kernel.frame_shift
        # a frame is out once its last sample is in: frame_length - 1 - frame_length // 2
        # samples after its centre
        self.lag = kernel.frame_length - 1 - kernel.frame_length // 2
        self.maker = owner.stream
        self.label = f"{owner!r}.stream()"
        self.cap = 2 * kernel.frame_length + max(4096, 2 * kernel.frame_shift)
        if kernel.work_init(&self.work) != 0:
            raise MemoryError("fastmel: could not allocate Kaldi frame scratch")
        self.work_ready = True

    def __dealloc__(self):
        if self.work_ready:
            self.kernel.work_free(&self.work)

    @property
    def n_out(self):
        """Values per frame (the energy, if any, first)."""
        return self.kernel.n_out

    cdef int engine_start(self) except -1:
        allocation(self.n_ch * self.cap * self.item,
                   f"a stream buffer for leading shape {self.lead_shape}",
                   "check the chunk's layout: time is the last axis")
        self.buf = np.zeros((self.n_ch, self.cap), dtype=self.work_dtype)
        self.buf_pos = self.buf_len = self.t_next = 0
        self.rng = self.rng_source() if self.kernel.dither != 0 else None
        return 0

    cdef void engine_stop(self) noexcept:
        self.buf = None
        self.rng = self.undo_rng = self.undo = None
        self.buf_pos = self.buf_len = self.t_next = 0

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        return self.kernel.num_frames(self.n_in + k, False) - self.t_next

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef KaldiKernel k = self.kernel
        cdef long long t_end = k.num_frames(self.n_in + c.k, False)
        cdef cnp.ndarray out = self.new_out(t_end - self.t_next)
        cdef long long t_first = self.t_next, t_ready
        cdef Py_ssize_t done = 0, m
        cdef int status = 0
        if k.dither == 0:
            # the whole chunk in one stretch; a few frames' work (a 10 ms chunk
            # makes one) costs less than releasing and taking back the GIL
            if (t_end - t_first) * self.n_ch < GIL_FRAMES and c.k * self.n_ch < GIL_SAMPLES:
                status = self._take(c, <char*>cnp.PyArray_DATA(out),
                                    cnp.PyArray_DIM(out, out.ndim - 1), t_first)
            else:
                with nogil:
                    status = self._take(c, <char*>cnp.PyArray_DATA(out),
                                        cnp.PyArray_DIM(out, out.ndim - 1), t_first)
            if status:
                self.clear()
                raise ParameterError("the Kaldi features overflowed (non-finite values); "
                                     "the stream was reset")
            return out
        while True:
            m = min(c.k - done, self.cap - self.buf_len)
            self._append(c.data + done * c.xs * self.item, c.xs_ch, c.xs, m)
            done += m
            self.n_in += m
            t_ready = k.num_frames(self.n_in, False)
            self._compute(t_ready, 0, out, t_first)
            self._compact()
            if done == c.k:
                return out

    cdef int _take(self, const Chunk* c, char* out, Py_ssize_t n_cols,
                   long long t_first) noexcept nogil:
        """engine_run without dither (no noise to draw): append, compute the frames
        completed, compact, for as many pieces as the buffer needs; the status."""
        cdef Py_ssize_t done = 0, m
        cdef long long t_ready
        cdef int status
        cdef void* sig
        while True:
            m = min(c.k - done, self.cap - self.buf_len)
            self._append(c.data + done * c.xs * self.item, c.xs_ch, c.xs, m)
            done += m
            self.n_in += m
            t_ready = self.kernel.num_frames(self.n_in, False)
            if t_ready > self.t_next and self.n_ch:
                sig = cnp.PyArray_DATA(self.buf)
                if self.kernel.is_double:
                    status = _frames(self.kernel, &self.work, <const double*>sig, self.cap,
                                     self.n_ch, self.buf_pos, 0, self.n_in, self.t_next,
                                     t_ready - self.t_next, NULL, <double*>out, n_cols,
                                     self.t_next - t_first)
                else:
                    status = _frames(self.kernel, &self.work, <const float*>sig, self.cap,
                                     self.n_ch, self.buf_pos, 0, self.n_in, self.t_next,
                                     t_ready - self.t_next, NULL, <float*>out, n_cols,
                                     self.t_next - t_first)
                if status:
                    return status
            if t_ready > self.t_next:
                self.t_next = t_ready
            self._compact()
            if done == c.k:
                return 0

    cdef int _compute(self, long long t_end, long long lo, cnp.ndarray out,
                      long long t_first) except -1:
        """Frames t_next .. t_end into out (whose column 0 is frame t_first)."""
        cdef Py_ssize_t nt = t_end - self.t_next
        if nt <= 0 or self.n_ch == 0:
            self.t_next = max(self.t_next, t_end)
            return 0
        try:
            _run(self.kernel, &self.work, <const char*>cnp.PyArray_DATA(self.buf), self.cap,
                 self.n_ch, self.buf_pos, lo, self.n_in, self.t_next, nt, self.rng,
                 <char*>cnp.PyArray_DATA(out), cnp.PyArray_DIM(out, out.ndim - 1),
                 self.t_next - t_first)
        except ParameterError:
            self.clear()
            raise ParameterError("the Kaldi features overflowed (non-finite values); the "
                                 "stream was reset") from None
        self.t_next = t_end
        return 0

    cdef void _append(self, const char* src, Py_ssize_t xs_ch, Py_ssize_t xs,
                      Py_ssize_t m) noexcept nogil:
        if m <= 0:
            return
        rows_append(<char*>cnp.PyArray_DATA(self.buf), self.cap, self.n_ch, self.item,
                    self.buf_len, src, xs_ch, xs, m)
        self.buf_len += m

    cdef void _compact(self) noexcept nogil:
        """Drop the samples before the next frame's first (Kaldi's discard)."""
        cdef long long keep_from = max(0, self.kernel.first_sample(self.t_next))
        cdef long long shift = min(keep_from, self.n_in) - self.buf_pos
        cdef char* base = <char*>cnp.PyArray_DATA(self.buf)
        if shift <= 0 or self.buf_len < self.cap // 2:
            return
        rows_drop(base, self.cap, self.n_ch, self.item, self.buf_len, shift)
        self.buf_pos += shift
        self.buf_len -= shift

    cdef object engine_tail(self):
        """The frames Kaldi adds when input finishes (snip_edges off)."""
        cdef KaldiKernel k = self.kernel
        cdef long long t_end = k.num_frames(self.n_in, True)
        cdef cnp.ndarray out = self.new_out(t_end - self.t_next)
        self._compute(t_end, max(0, k.first_sample(self.t_next)), out, self.t_next)
        return out

    cdef object engine_get(self):
        return dict(buf=self.buf[:, :self.buf_len].copy(), buf_pos=self.buf_pos,
                    t_next=self.t_next,
                    rng=None if self.rng is None else self.rng.bit_generator.state)

    cdef int engine_set(self, object state) except -1:
        """Check and install a state made by engine_get (the base has installed the
        leading shape, dtype and n_in): every field against the others."""
        check_state_fields(state, "state", ("buf", "buf_pos", "t_next", "rng"))
        cdef KaldiKernel k = self.kernel
        n_in = self.n_in
        t_next = check_state_int(state["t_next"], "t_next", 0, MAX_SAMPLES)
        if t_next != k.num_frames(n_in, False):
            raise ValueError(f"fastmel: restored stream state: t_next={t_next} does not fit "
                             f"n_in={n_in}")
        buf_pos = check_state_int(state["buf_pos"], "buf_pos", 0, n_in)
        buf = check_state_array(state["buf"], "buf", (self.n_ch, n_in - buf_pos),
                                self.work_dtype)
        if n_in - buf_pos > self.cap or buf_pos > max(0, k.first_sample(t_next)):
            raise ValueError(f"fastmel: restored stream state: buf_pos={buf_pos} does not fit "
                             f"n_in={n_in}")
        if buf.size and float(np.max(np.abs(buf))) > k.max_amplitude:
            raise ValueError("fastmel: restored stream state: buf holds samples beyond the "
                             "analysis' amplitude bound")
        rng = state["rng"]
        if (rng is None) != (k.dither == 0):
            raise ValueError("fastmel: restored stream state: rng must be a generator state "
                             "exactly when dither is on")
        if rng is not None:
            try:
                self.rng.bit_generator.state = rng
            except (TypeError, ValueError, KeyError) as err:
                raise ValueError(f"fastmel: restored stream state: rng: {err}") from None
        self.buf[:, :buf.shape[1]] = buf
        self.buf_len = buf.shape[1]
        self.buf_pos = buf_pos
        self.t_next = t_next
        return 0

    cdef int engine_save(self, Py_ssize_t k) except -1:
        # a Chain's step can be taken back: the samples stay in the buffer
        # until a later compaction, but the generator moves on
        self.undo_rng = None if self.rng is None else self.rng.bit_generator.state
        self.undo = (self.buf[:, :self.buf_len].copy(), self.buf_pos, self.buf_len,
                      self.t_next)
        return 0

    cdef int engine_undo(self) except -1:
        buf, self.buf_pos, self.buf_len, self.t_next = self.undo
        self.buf[:, :self.buf_len] = buf
        if self.rng is not None:
            self.rng.bit_generator.state = self.undo_rng
        return 0
