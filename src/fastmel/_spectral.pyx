"""Per-frame spectral kernel: window -> r2c FFT -> |X|^p -> mel -> dB.

One kernel serves the offline functions and the streams, which is what makes
a stream's output equal the offline output bit for bit.  Frames are handled
``BLOCK`` at a time.  In float32 the block's power spectra are transposed
8 frames at a time into (bin, lane) order, so the band-sparse mel projection
runs across frames in SIMD lanes while every lane still sums its bins in one
fixed order (fastmel_kernels.h): the same arithmetic whatever the block
holds, and the same as a frame computed alone (``fastmel_mel_f32``, a
stream's usual call).
"""
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

cimport numpy as cnp
from libc.math cimport INFINITY, pow, sqrt, sqrtf, powf
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from libc.stdint cimport uint64_t
from libc.string cimport memcpy, memset

from fastmel._checks cimport finite_rows
from fastmel._plan cimport RealPlan, aligned_alloc, aligned_free
from fastmel._plan import get_plan
from fastmel._checks import SMALL_ALLOCATION, ParameterError, allocation

cnp.import_array()

cdef extern from "fastmel_db.h" nogil:
    void fastmel_power_to_db_f32(float* v, long n, float amin, float offset)
    void fastmel_power_to_db_f64(double* v, long n, double amin, double offset)
    float fastmel_max_f32(const float* v, long n)
    double fastmel_max_f64(const double* v, long n)
    void fastmel_clip_below_f32(float* v, long n, float floor)
    void fastmel_clip_below_f64(double* v, long n, double floor)
    void fastmel_minmax_f32(const float* v, long rows, long stride, long n, float* lohi)
    void fastmel_minmax_f64(const double* v, long rows, long stride, long n, double* lohi)
    void fastmel_minmax_lanes_f32(const float* v, long rows, long n, float* lohi)
    void fastmel_minmax_lanes_f64(const double* v, long rows, long n, double* lohi)

cdef extern from "fastmel_scatter.h" nogil:
    # complex values move as 64-bit words: their bits, whatever the dtype
    void fastmel_scatter(const uint64_t* spec, Py_ssize_t spec_stride, Py_ssize_t nb,
                         Py_ssize_t n_bins, uint64_t* out, Py_ssize_t row_stride,
                         Py_ssize_t col_stride, int words)

cdef extern from "fastmel_kernels.h" nogil:
    enum: FASTMEL_LANES
    void fastmel_window_f32(const float* x, Py_ssize_t stride, const float* w, float* out, Py_ssize_t n)
    void fastmel_window_f64(const double* x, Py_ssize_t stride, const double* w, double* out, Py_ssize_t n)
    void fastmel_power2_f32(const float* spec, float* p, Py_ssize_t n_bins)
    void fastmel_power2_f64(const double* spec, double* p, Py_ssize_t n_bins)
    void fastmel_transpose8_how(const float* R, Py_ssize_t rs, Py_ssize_t n, float* T, Py_ssize_t ts,
                                int how)
    void fastmel_mel_block_f32(const float* R, Py_ssize_t rs, Py_ssize_t n_cols, Py_ssize_t nb,
                               float* T, const float* w, const Py_ssize_t* lo,
                               const Py_ssize_t* span, const Py_ssize_t* woff, Py_ssize_t n_mels,
                               float* mel)
    int fastmel_mel_f32(const float* p, const float* w, const Py_ssize_t* lo, const Py_ssize_t* runs,
                        Py_ssize_t n_runs, Py_ssize_t n_mels, float* mel, Py_ssize_t lane_stride,
                        float* scratch)
    int fastmel_mel_f64(const double* p, const double* w, const Py_ssize_t* lo, const Py_ssize_t* len,
                        const Py_ssize_t* woff, Py_ssize_t n_mels, double* mel, Py_ssize_t lane_stride)

ctypedef fused real:
    float
    double

cdef enum:
    POWER_ONE = 1
    POWER_TWO = 2
    POWER_ANY = 3


# The spare workspace slot's states: a caller moves it from FULL (or EMPTY)
# to BUSY with a compare-and-swap, so only one caller touches the slot at a
# time; the others allocate (or free) their own.
cdef enum:
    SPARE_EMPTY = 0
    SPARE_FULL = 1
    SPARE_BUSY = 2

cdef extern from *:
    """
    static inline int fastmel_cas(int* state, int expected, int desired) {
        return __atomic_compare_exchange_n(state, &expected, desired, 0,
                                           __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
    }
    static inline void fastmel_store(int* state, int value) {
        __atomic_store_n(state, value, __ATOMIC_RELEASE);
    }
    """
    bint fastmel_cas(int* state, int expected, int desired) nogil
    void fastmel_store(int* state, int value) nogil


cdef class SpectralKernel:
    """Everything the per-frame work needs, fixed at construction.

    Parameters
    ----------
    mode : int
        OUT_COMPLEX, OUT_MEL or OUT_MEL_DB.
    n_fft : int
    window : np.ndarray [shape=(win_len,)]
        Window in the working precision (float32 or float64).
    win_off : int
        Where the window starts inside the n_fft frame (centre padding).
    power : float
    mel_rows : tuple or None
        The mel filters as :func:`pack_mel_rows` packs them (any precision;
        converted to the window's).
    amin, db_offset : float
        dB floor and ``10*log10(max(amin, ref))``.
    dct : np.ndarray [shape=(n_mfcc, n_mels)] or None
        For OUT_MFCC: the DCT matrix, liftering folded into its rows.
    """

    def __cinit__(self, int mode, Py_ssize_t n_fft, window, Py_ssize_t win_off,
                  double power=2.0, mel_rows=None, double amin=1e-10,
                  double db_offset=0.0, dct=None):
        cdef cnp.ndarray w = np.ascontiguousarray(window)
        self.is_double = w.dtype == np.float64
        self.mode = mode
        self.n_fft = n_fft
        self.n_bins = n_fft // 2 + 1
        # Spectrum slots start on 64-byte boundaries: FFTW's new-array execute
        # needs the alignment the plan was made with.
        item = 8 if self.is_double else 4
        self.spec_stride = (2 * self.n_bins * item + 63) // 64 * 64 // item
        # power rows padded with zeros for the one-frame kernel's whole-lane reads
        self.rows_stride = (self.n_bins + FASTMEL_LANES + 15) // 16 * 16
        self.win_off = win_off
        self.win_len = w.shape[0]
        self.power = power
        self.power_kind = POWER_TWO if power == 2.0 else POWER_ONE if power == 1.0 else POWER_ANY
        self.amin = amin
        self.db_offset = db_offset
        self.plan = get_plan(n_fft, self.is_double)
        self._window = w
        self.window = cnp.PyArray_DATA(w)
        if mode == OUT_COMPLEX:
            self.n_out = self.n_bins
            self.max_amplitude = _max_amplitude(w, mode, power, 0.0)
            return
        lo, length, woff, weights = mel_rows
        lo = np.ascontiguousarray(lo, dtype=np.intp)
        length = np.ascontiguousarray(length, dtype=np.intp)
        woff = np.ascontiguousarray(woff, dtype=np.intp)
        weights = np.ascontiguousarray(weights, dtype=w.dtype)
        self.n_mels = self.n_out = lo.shape[0]
        if mode == OUT_MFCC:
            self._dct = np.ascontiguousarray(dct, dtype=w.dtype)
            self.dct = cnp.PyArray_DATA(self._dct)
            self.n_out = self._dct.shape[0]
        self._mel_lo, self._mel_len, self._mel_woff, self._mel_w = lo, length, woff, weights
        self.mel_lo = <const Py_ssize_t*>cnp.PyArray_DATA(lo)
        self.mel_len = <const Py_ssize_t*>cnp.PyArray_DATA(length)
        self.mel_woff = <const Py_ssize_t*>cnp.PyArray_DATA(woff)
        self.mel_w = cnp.PyArray_DATA(weights)
        self._mel_runs = mel_runs(length, woff)
        self.mel_runs = <const Py_ssize_t*>cnp.PyArray_DATA(self._mel_runs)
        self.n_mel_runs = self._mel_runs.shape[0]
        self._mel_span = _spans(length, woff, weights)
        self.mel_span = <const Py_ssize_t*>cnp.PyArray_DATA(self._mel_span)
        self.max_amplitude = _max_amplitude(w, mode, power, _largest_row_sum(weights, woff, length))

    def __reduce__(self):
        raise TypeError("SpectralKernel is rebuilt from its owner's configuration, not pickled")

    cdef int workspace_init(self, Workspace* ws) noexcept nogil:
        """Allocate one caller's buffers; 0 on success, -1 when out of memory."""
        cdef size_t item = 8 if self.is_double else 4
        ws.fft_in = aligned_alloc(self.n_fft * item)
        # a spectrum per frame of a block for complex output, else one (see _frames)
        ws.fft_out = aligned_alloc(self.spec_stride * (BLOCK if self.mode == OUT_COMPLEX else 1)
                                   * item)
        # power spectrum (zero-padded past the last bin), then the float32 mel
        # projection's partial sums (8 per filter, filters rounded up to 8)
        ws.pblock = aligned_alloc(self._pblock_size() * item)
        # mel block, then cepstra (n_out lanes) or dB gather scratch (n_mels lanes)
        ws.mblock = aligned_alloc((self.n_mels + max(self.n_mels, self.n_out)) * BLOCK * item)
        if ws.fft_in == NULL or ws.fft_out == NULL or ws.pblock == NULL or ws.mblock == NULL:
            self.workspace_free(ws)
            return -1
        # The samples outside the window stay zero: the FFT preserves its input.
        memset(ws.fft_in, 0, self.n_fft * item)
        # The padding past the last bin meets zero weights; it must stay finite.
        memset(ws.pblock, 0, self._pblock_size() * item)
        # Lanes of a partial block keep finite values through the dB loop.
        memset(ws.mblock, 0, (self.n_mels + max(self.n_mels, self.n_out)) * BLOCK * item)
        ws.track = False
        return 0

    cdef Py_ssize_t _pblock_size(self) noexcept nogil:
        """Values in a workspace's power buffer: the power spectra (see
        _mel_scratch_at), then the one-frame float32 mel kernel's scratch."""
        return self._mel_scratch_at() + 8 * ((self.n_mels + 7) // 8 * 8)

    cdef Py_ssize_t _mel_scratch_at(self) noexcept nogil:
        """Offset (in values, 64-byte aligned) of the one-frame float32 mel
        kernel's scratch, whose rows past n_mels must stay zero: after one
        power spectrum zero-padded for the mel kernels' whole-lane reads
        (float64), or BLOCK power spectra in rows of rows_stride and the same
        transposed (float32, fastmel_mel_block_f32; the first row is the one
        frame's power spectrum, its padding zero)."""
        if self.is_double:
            return (self.n_bins + FASTMEL_LANES + 15) // 16 * 16
        return 2 * BLOCK * self.rows_stride

    cdef int workspace_take(self, Workspace* ws) noexcept nogil:
        """A workspace for one offline worker: the kernel's spare if no other
        caller holds it (a short clip's call spent about 1 us allocating and
        clearing its buffers), else a new one; 0, or -1 when out of memory.
        A used workspace serves as well as a new one: every path writes what
        it reads back, and what stays untouched (the zeros around the window
        and past the last bin) stays as workspace_init set it."""
        if fastmel_cas(&self.spare_state, SPARE_FULL, SPARE_BUSY):
            ws[0] = self.spare
            fastmel_store(&self.spare_state, SPARE_EMPTY)
            return 0
        return self.workspace_init(ws)

    cdef void workspace_give(self, Workspace* ws) noexcept nogil:
        """Back to the spare slot if it is empty, else freed."""
        if fastmel_cas(&self.spare_state, SPARE_EMPTY, SPARE_BUSY):
            self.spare = ws[0]
            fastmel_store(&self.spare_state, SPARE_FULL)
            return
        self.workspace_free(ws)

    def __dealloc__(self):
        if self.spare_state == SPARE_FULL:
            self.workspace_free(&self.spare)

    cdef void workspace_free(self, Workspace* ws) noexcept nogil:
        aligned_free(ws.fft_in)
        aligned_free(ws.fft_out)
        aligned_free(ws.pblock)
        aligned_free(ws.mblock)
        ws.fft_in = ws.fft_out = ws.pblock = ws.mblock = NULL

    cdef int frames(self, Workspace* ws, const void** src, const Py_ssize_t* stride,
                    Py_ssize_t nb, void* out, Py_ssize_t row_stride,
                    Py_ssize_t col_stride) noexcept nogil:
        """Process ``nb <= BLOCK`` frames; 0, or NONFINITE when a mel value is not finite.

        ``src[j]`` points at the first of frame j's n_fft samples, spaced
        ``stride[j]`` elements apart.  Output value r of frame j goes to
        ``out[r * row_stride + j * col_stride]`` (in elements; complex
        elements for OUT_COMPLEX).  Samples within ``max_amplitude`` never
        give NONFINITE; the check, free inside the mel projection, guards the
        bound's margin (see ``_max_amplitude``).
        """
        if self.is_double:
            return _frames[double](self, ws, src, stride, nb, <double*>out, row_stride, col_stride)
        return _frames[float](self, ws, src, stride, nb, <float*>out, row_stride, col_stride)


def mel_runs(length, woff):
    """The filters as runs of neighbours with equal span lengths whose weights
    follow each other, for the float32 mel kernel: rows of (first filter,
    filters, span length, offset of the first one's weights), intp."""
    n = length.shape[0]
    if n == 0:
        return np.zeros((0, 4), np.intp)
    breaks = np.flatnonzero((length[1:] != length[:-1]) | (woff[1:] != woff[:-1] + length[:-1]))
    first = np.concatenate(([0], breaks + 1)).astype(np.intp)
    count = np.diff(np.append(first, n))
    return np.ascontiguousarray(np.stack([first, count, length[first], woff[first]], axis=1),
                                dtype=np.intp)


def _transpose8(cnp.ndarray rows, int how):
    """Test hook: the float32 mel kernel's transpose of 8 rows (float32,
    C-contiguous, a multiple of 8 columns) by the CPU's best path (how 0)
    or the plain loop every CPU has (how 1)."""
    if rows.dtype != np.float32 or not rows.flags.c_contiguous or rows.ndim != 2 \
            or rows.shape[0] != 8 or rows.shape[1] % 8:
        raise ValueError("rows must be C-contiguous float32 of shape (8, 8k)")
    cdef cnp.ndarray out = np.empty((rows.shape[1], 8), np.float32)
    fastmel_transpose8_how(<const float*>cnp.PyArray_DATA(rows), rows.shape[1], rows.shape[1],
                           <float*>cnp.PyArray_DATA(out), 8, how)
    return out


def _spans(length, woff, weights):
    """Each filter's span without the zeros that pad it to whole lanes (the
    float32 kernels read only these), intp."""
    span = np.array(length, dtype=np.intp)
    for m in range(span.shape[0]):
        while span[m] > 0 and weights[woff[m] + span[m] - 1] == 0:
            span[m] -= 1
    return span


def _largest_row_sum(weights, woff, length):
    """The largest sum of one mel filter's weights (in float64)."""
    rows = woff[length > 0]
    if rows.size == 0:
        return 0.0
    return float(np.add.reduceat(weights.astype(np.float64), rows).max())


def _max_amplitude(window, int mode, double power, double row_sum):
    """The largest sample magnitude A for which no value a kernel forms can overflow.

    A frame's exact spectrum is bounded by B = A * sum|window|.  The FFT's
    intermediates are partial sums of the same terms for sizes with small
    prime factors; for large primes (Rader's and Bluestein's convolutions)
    no such bound is proven, so the bound allows C * B, C = 16 (the tests
    find the worst signals finite at 15 times the bound for prime sizes up to
    1000003), and the mel kernels still check what they compute.  The power kernels form
    re^2 + im^2 <= 2 (C B)^2 first, then raise it to power / 2; a mel value is
    at most row_sum times the largest power.  dB values and cepstra of finite
    mel values are finite.  The bound is far above any audio (float32 with
    n_fft=512 and a Hann window: about 3e15).
    """
    big = float(np.finfo(window.dtype).max)
    l1 = float(np.sum(np.abs(window.astype(np.float64))))
    log_c = math.log(16.0)
    if mode == OUT_COMPLEX:
        log_b = math.log(big) - log_c
    else:
        log_b = 0.5 * (math.log(big) - math.log(2.0)) - log_c
        if row_sum > 0:
            log_b = min(log_b, (math.log(big) - math.log(2.0 * row_sum)) / power
                        - 0.5 * math.log(2.0) - log_c)
    log_a = log_b - math.log(l1)
    # Never above the largest finite value, so that inf fails the check too.
    return big if log_a >= math.log(big) else math.exp(log_a)


def pack_mel_rows(blocks):
    """Mel filters packed for the kernel: each filter's span of bins from its
    first to its last non-zero weight, zero-padded to whole SIMD lanes (see
    fastmel_kernels.h).

    Parameters
    ----------
    blocks : iterable of (int, int, np.ndarray [shape=(rows, columns)])
        The filters in order, a block of rows at a time, with each block's
        first row and first column (its weights are zero outside its columns).

    Returns
    -------
    lo, length, woff : np.ndarray [shape=(n_mels,), dtype=intp]
        First bin, padded span length and offset into ``weights`` of each filter
        (0, 0 and the next offset for an empty one).
    weights : np.ndarray [shape=(sum(length),)]
    """
    lo_parts, len_parts, packed = [], [], []
    dtype = np.float32
    for _, c0, block in blocks:
        dtype = block.dtype
        nz = block != 0
        used = nz.any(axis=1)
        if block.shape[1] == 0:  # a block of empty filters has no columns at all
            first = np.zeros(block.shape[0], np.intp)
            last = first - 1
        else:
            first = np.where(used, nz.argmax(axis=1), 0)
            last = np.where(used, block.shape[1] - 1 - nz[:, ::-1].argmax(axis=1), -1)
        size = last - first + 1
        length = -(-size // FASTMEL_LANES) * FASTMEL_LANES
        # Copied out span by span, so no block outlives its turn.
        part = np.zeros(int(length.sum()), dtype)
        at = 0
        for r in np.flatnonzero(used):
            part[at:at + size[r]] = block[r, first[r]:last[r] + 1]
            at += length[r]
        packed.append(part)
        lo_parts.append(np.where(used, first + c0, 0).astype(np.intp))
        len_parts.append(length.astype(np.intp))
    lo = np.concatenate(lo_parts) if lo_parts else np.zeros(0, np.intp)
    length = np.concatenate(len_parts) if len_parts else np.zeros(0, np.intp)
    woff = np.zeros(lo.size, dtype=np.intp)
    woff[1:] = np.cumsum(length)[:-1]
    weights = np.concatenate(packed) if lo.size and length.sum() else np.zeros(1, dtype)
    return lo, length, woff, np.ascontiguousarray(weights)


cdef inline int _frames(SpectralKernel k, Workspace* ws, const void** src,
                        const Py_ssize_t* stride, Py_ssize_t nb, real* out,
                        Py_ssize_t row_stride, Py_ssize_t col_stride) noexcept nogil:
    cdef real* buf = <real*>ws.fft_in
    cdef real* spec = <real*>ws.fft_out
    cdef real* pblock = <real*>ws.pblock
    cdef real* mblock = <real*>ws.mblock
    cdef real* cblock = mblock + k.n_mels * BLOCK
    cdef const real* win = <const real*>k.window
    cdef const real* x
    cdef const real* sp
    cdef real* o
    cdef real* res
    cdef real* wbuf = buf + k.win_off
    cdef Py_ssize_t j, i, b, m, s
    cdef Py_ssize_t n_bins = k.n_bins, win_len = k.win_len
    cdef bint finite = True
    if nb == 1 and (k.mode == OUT_MEL or k.mode == OUT_MEL_DB):
        # One frame (a stream's usual call): its mel values in a row of their
        # own, so that the dB step runs over n_mels values, not a block's
        # lane gathered and scattered back.  The same element-wise arithmetic
        # as a block's, so the same bits.
        s = stride[0]
        x = <const real*>src[0] + k.win_off * s
        if real is float:
            fastmel_window_f32(x, s, win, wbuf, win_len)
        else:
            fastmel_window_f64(x, s, win, wbuf, win_len)
        k.plan.execute(buf, spec)
        _power(k, spec, pblock)
        # A contiguous output column takes the values where they are computed.
        res = out if row_stride == 1 else cblock
        if real is float:
            finite = fastmel_mel_f32(pblock, <const float*>k.mel_w, k.mel_lo, k.mel_runs,
                                     k.n_mel_runs, k.n_mels, res, 1,
                                     pblock + k._mel_scratch_at())
        else:
            finite = fastmel_mel_f64(pblock, <const double*>k.mel_w, k.mel_lo, k.mel_len,
                                     k.mel_woff, k.n_mels, res, 1)
        if not finite:
            return NONFINITE
        if k.mode == OUT_MEL_DB:
            _db(k, res, k.n_mels)
            if ws.track:
                _extremes(ws, res, 1, k.n_mels, k.n_mels)
        if res != out:
            for m in range(k.n_mels):
                out[m * row_stride] = res[m]
        return 0
    # Window and transform each frame into its own spectrum slot; for mel
    # output, go on to its power spectrum and its lane of the mel block.
    for j in range(nb):
        s = stride[j]
        x = <const real*>src[j] + k.win_off * s
        # Mel output needs a spectrum only until its power is taken: one slot,
        # kept hot in L1, serves every frame.
        sp = spec + k.spec_stride * j if k.mode == OUT_COMPLEX else spec
        if real is float:
            fastmel_window_f32(x, s, win, wbuf, win_len)
        else:
            fastmel_window_f64(x, s, win, wbuf, win_len)
        k.plan.execute(buf, <real*>sp)
        if k.mode == OUT_COMPLEX:
            continue
        if real is float:
            # each frame's power in its own row, for the lanes below
            _power(k, sp, pblock + j * k.rows_stride)
        else:
            _power(k, sp, pblock)
            # An overflowed power (inf, or NaN from inf times a zero weight) would
            # otherwise be floored to amin by the dB conversion and read as silence.
            finite &= fastmel_mel_f64(pblock, <const double*>k.mel_w, k.mel_lo, k.mel_len,
                                      k.mel_woff, k.n_mels, mblock + j, BLOCK)
    if real is float and k.mode != OUT_COMPLEX:
        # the frames in SIMD lanes, one per lane of the mel block
        fastmel_mel_block_f32(pblock, k.rows_stride, k.rows_stride, nb,
                              pblock + BLOCK * k.rows_stride, <const float*>k.mel_w, k.mel_lo,
                              k.mel_span, k.mel_woff, k.n_mels, mblock)
        if nb == BLOCK:  # one contiguous run
            finite = finite_rows(mblock, False, 1, 0, k.n_mels * BLOCK, 1)
        else:
            finite = finite_rows(mblock, False, k.n_mels, BLOCK, nb, 1)
    if k.mode == OUT_COMPLEX:
        # Samples within max_amplitude keep every spectrum value finite (see
        # _max_amplitude); a check here would cost a pass over each spectrum.
        fastmel_scatter(<const uint64_t*>spec, k.spec_stride // 2, nb, n_bins, <uint64_t*>out,
                        row_stride, col_stride, 1 if real is float else 2)
        return 0
    if not finite:
        return NONFINITE
    res = mblock
    if k.mode != OUT_MEL:
        _db_block(k, mblock, cblock, nb)
    if k.mode == OUT_MEL_DB and ws.track:
        if nb == BLOCK:
            _extremes(ws, mblock, 1, k.n_mels * BLOCK, k.n_mels * BLOCK)
        else:  # the spare lanes hold stale values
            _extremes_lanes(ws, mblock, k.n_mels, nb)
    if k.mode == OUT_MFCC:
        _dct_block(k, mblock, cblock, nb)
        res = cblock
    if col_stride == 1:  # the offline layout: each row's nb values are adjacent
        for m in range(k.n_out):
            memcpy(out + m * row_stride, res + m * BLOCK, nb * sizeof(real))
        return 0
    for m in range(k.n_out):
        o = out + m * row_stride
        for j in range(nb):
            o[j * col_stride] = res[m * BLOCK + j]
    return 0


cdef inline void _power(SpectralKernel k, const real* spec, real* p) noexcept nogil:
    """|X|^power of one spectrum."""
    cdef Py_ssize_t b
    cdef real re, im, e = <real>(0.5 * k.power)
    if k.power_kind == POWER_TWO:
        if real is float:
            fastmel_power2_f32(spec, p, k.n_bins)
        else:
            fastmel_power2_f64(spec, p, k.n_bins)
    elif k.power_kind == POWER_ONE:
        for b in range(k.n_bins):
            re = spec[2 * b]
            im = spec[2 * b + 1]
            p[b] = _sqrt(re * re + im * im)
    else:
        for b in range(k.n_bins):
            re = spec[2 * b]
            im = spec[2 * b + 1]
            p[b] = _pow(re * re + im * im, e)


cdef inline void _db_block(SpectralKernel k, real* mblock, real* scratch,
                           Py_ssize_t nb) noexcept nogil:
    """dB of the nb used lanes of the mel block.  A (mostly) full block is
    converted in place; a sparse one (a stream's few frames) is gathered,
    converted and scattered back, so the work follows the frames.
    Every value goes through the same element-wise arithmetic either way."""
    cdef Py_ssize_t m, j, n = k.n_mels
    if 2 * nb >= BLOCK:
        # Mostly full: converting the spare lanes too is cheaper than moving.
        _db(k, mblock, n * BLOCK)
        return
    for j in range(nb):
        for m in range(n):
            scratch[j * n + m] = mblock[m * BLOCK + j]
    _db(k, scratch, n * nb)
    for j in range(nb):
        for m in range(n):
            mblock[m * BLOCK + j] = scratch[j * n + m]


cdef inline void _extremes(Workspace* ws, const real* v, Py_ssize_t rows, Py_ssize_t stride,
                           Py_ssize_t n) noexcept nogil:
    """Fold the extremes of the first n values of rows runs (stride apart) into ws.ext."""
    cdef float lohi[2]
    if real is float:
        lohi[0] = <float>ws.ext[0]
        lohi[1] = <float>ws.ext[1]
        fastmel_minmax_f32(v, rows, stride, n, lohi)
        ws.ext[0] = lohi[0]
        ws.ext[1] = lohi[1]
    else:
        fastmel_minmax_f64(v, rows, stride, n, ws.ext)


cdef inline void _extremes_lanes(Workspace* ws, const real* block, Py_ssize_t rows,
                                 Py_ssize_t nb) noexcept nogil:
    """Fold the extremes of the nb used lanes of a block's rows into ws.ext."""
    cdef float lohi[2]
    if real is float:
        lohi[0] = <float>ws.ext[0]
        lohi[1] = <float>ws.ext[1]
        fastmel_minmax_lanes_f32(block, rows, nb, lohi)
        ws.ext[0] = lohi[0]
        ws.ext[1] = lohi[1]
    else:
        fastmel_minmax_lanes_f64(block, rows, nb, ws.ext)


cdef inline void _db(SpectralKernel k, real* v, Py_ssize_t n) noexcept nogil:
    if real is float:
        fastmel_power_to_db_f32(v, n, <float>k.amin, <float>k.db_offset)
    else:
        fastmel_power_to_db_f64(v, n, k.amin, k.db_offset)


cdef inline void _dct_block(SpectralKernel k, const real* mblock, real* cblock,
                            Py_ssize_t nb) noexcept nogil:
    """Cepstra: each used lane's dB mel vector times the DCT matrix, mels in ascending order."""
    cdef const real* dct = <const real*>k.dct
    cdef real acc[BLOCK]
    cdef real c
    cdef Py_ssize_t q, m, j
    for q in range(k.n_out):
        for j in range(nb):
            acc[j] = 0
        for m in range(k.n_mels):
            c = dct[q * k.n_mels + m]
            for j in range(nb):
                acc[j] = acc[j] + c * mblock[m * BLOCK + j]
        for j in range(nb):
            cblock[q * BLOCK + j] = acc[j]


cdef inline real _sqrt(real v) noexcept nogil:
    if real is float:
        return sqrtf(v)
    else:
        return sqrt(v)


cdef inline real _pow(real v, real e) noexcept nogil:
    if real is float:
        return powf(v, e)
    else:
        return pow(v, e)


def floor_below_max(cnp.ndarray values, double top_db, Py_ssize_t group):
    """Clip each run of ``group`` values of the C-contiguous float array (finite
    values) at its maximum minus top_db, in place."""
    cdef Py_ssize_t n = values.size, start
    cdef bint is_double = values.itemsize == 8
    cdef char* p = <char*>cnp.PyArray_DATA(values)
    cdef double peak
    if group <= 0:
        return
    with nogil:
        start = 0
        while start < n:
            if is_double:
                peak = fastmel_max_f64(<double*>p + start, group)
                fastmel_clip_below_f64(<double*>p + start, group, peak - top_db)
            else:
                peak = fastmel_max_f32(<float*>p + start, group)
                fastmel_clip_below_f32(<float*>p + start, group, <float>(peak - top_db))
            start += group


# A unit of work a worker takes from the shared counter is whole blocks of
# one channel's frames (so every block holds the frames it holds with one
# thread: same bits), about UNIT_POINTS frame samples: large enough that
# taking one costs nothing, small enough that a worker slowed by a busy core
# delays the end by little.
cdef enum:
    UNIT_POINTS = 1 << 15
    UNIT_MAX_BLOCKS = 16

# Job status besides 0 and NONFINITE: the caller gave up (an exception while it waited).
cdef enum:
    STOPPED = 2

cdef extern from *:
    """
    /* Relaxed atomics: the counter hands out units of work and the status
       stops workers early; the results are read only after every worker has
       returned (Future.result() and the GIL order those reads). */
    static inline Py_ssize_t fastmel_next_unit(Py_ssize_t* counter) {
        return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
    }
    static inline int fastmel_status(int* status) {
        return __atomic_load_n(status, __ATOMIC_RELAXED);
    }
    static inline void fastmel_fail(int* status, int code) {
        int ok = 0;  /* the first failure is the one reported */
        __atomic_compare_exchange_n(status, &ok, code, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    }
    """
    Py_ssize_t fastmel_next_unit(Py_ssize_t* counter) nogil
    int fastmel_status(int* status) nogil
    void fastmel_fail(int* status, int code) nogil


cdef class _OfflineJob:
    """One offline analysis, split in units of ``chunk`` frames of one channel.

    Any number of workers call :meth:`work` at once; each takes units from a
    shared counter until none are left, with its own scratch buffers (the
    kernel and the FFTW plan are only read: FFTW's new-array execute is
    thread-safe).  The job holds the arrays it reads and writes, so a worker
    still running when its caller has gone never touches freed memory.
    """
    cdef SpectralKernel kernel
    cdef object arrays
    cdef char* xp
    cdef char* hp
    cdef char* tp
    cdef char* op
    cdef Py_ssize_t item, out_item, n, xs_ch, xs, head_len, tail_len, tail_start
    cdef Py_ssize_t pad, hop, n_frames, chunk, per_channel, n_units
    cdef Py_ssize_t counter
    cdef int status
    cdef double* ext

    def __cinit__(self, SpectralKernel kernel, cnp.ndarray x, cnp.ndarray head,
                  cnp.ndarray tail, Py_ssize_t pad, Py_ssize_t hop, Py_ssize_t n_frames,
                  cnp.ndarray out, bint track=False):
        self.kernel = kernel
        self.arrays = (x, head, tail, out)
        self.item = x.itemsize
        self.out_item = out.itemsize
        self.n = x.shape[1]
        self.xs_ch = x.strides[0] // self.item
        self.xs = x.strides[1] // self.item
        self.head_len = head.shape[1]
        self.tail_len = tail.shape[1]
        self.tail_start = pad + self.n + pad - self.tail_len
        self.pad = pad
        self.hop = hop
        self.n_frames = n_frames
        self.xp = <char*>cnp.PyArray_DATA(x)
        self.hp = <char*>cnp.PyArray_DATA(head)
        self.tp = <char*>cnp.PyArray_DATA(tail)
        self.op = <char*>cnp.PyArray_DATA(out)
        self.chunk = BLOCK * max(1, min(<Py_ssize_t>UNIT_MAX_BLOCKS,
                                        UNIT_POINTS // (BLOCK * kernel.n_fft)))
        self.per_channel = (n_frames + self.chunk - 1) // self.chunk
        self.n_units = x.shape[0] * self.per_channel
        self.counter = 0
        self.status = 0
        # With track, each unit's smallest and largest output value (each
        # unit is one worker's: no two write the same row).
        self.ext = NULL
        if track:
            self.ext = <double*>PyMem_Malloc(max(1, 2 * self.n_units) * sizeof(double))
            if self.ext == NULL:
                raise MemoryError("fastmel: could not allocate the top_db floor's extremes")

    def __dealloc__(self):
        PyMem_Free(self.ext)

    def __reduce__(self):
        raise TypeError("an offline job belongs to the call that made it")

    def work(self):
        """Take and process units until none are left or the job has failed."""
        cdef SpectralKernel k = self.kernel
        with nogil:
            self._work(k)

    def stop(self):
        """Make every worker return after its current unit."""
        fastmel_fail(&self.status, STOPPED)

    cdef void _work(self, SpectralKernel k) noexcept nogil:
        cdef Workspace ws
        cdef const void* src[BLOCK]
        cdef Py_ssize_t stride[BLOCK]
        cdef Py_ssize_t unit, c, t0, t_end, j, nb, s
        cdef Py_ssize_t n_fft = k.n_fft, n_out = k.n_out
        cdef int result
        if k.workspace_take(&ws) != 0:
            return  # the others do the work; with none, units are left untaken
        while fastmel_status(&self.status) == 0:
            unit = fastmel_next_unit(&self.counter)
            if unit >= self.n_units:
                break
            c = unit // self.per_channel
            t0 = (unit - c * self.per_channel) * self.chunk
            t_end = min(t0 + self.chunk, self.n_frames)
            ws.track = self.ext != NULL
            ws.ext[0] = INFINITY
            ws.ext[1] = -INFINITY
            while t0 < t_end:
                nb = min(<Py_ssize_t>BLOCK, t_end - t0)
                for j in range(nb):
                    s = (t0 + j) * self.hop
                    if s + n_fft <= self.head_len:
                        src[j] = self.hp + (c * self.head_len + s) * self.item
                        stride[j] = 1
                    elif s >= self.pad and s + n_fft <= self.pad + self.n:
                        src[j] = self.xp + (c * self.xs_ch + (s - self.pad) * self.xs) * self.item
                        stride[j] = self.xs
                    else:
                        src[j] = self.tp + (c * self.tail_len + s - self.tail_start) * self.item
                        stride[j] = 1
                result = k.frames(&ws, src, stride, nb,
                                  self.op + (c * n_out * self.n_frames + t0) * self.out_item,
                                  self.n_frames, 1)
                if result != 0:
                    fastmel_fail(&self.status, result)
                    break
                t0 += nb
            if self.ext != NULL:
                self.ext[2 * unit] = ws.ext[0]
                self.ext[2 * unit + 1] = ws.ext[1]
        k.workspace_give(&ws)


# Below this many frame samples (frames times n_fft, over all channels) a
# second thread costs more to wake and join than it saves: measured (2-core
# AMD EPYC, n_fft 512 and 2048), two threads break even at 1 to 2 s of 16 kHz
# audio and gain 1.2-1.4x at 2.5 s.
PARALLEL_MIN_WORK = 1 << 17

_pool = None
_pool_size = 0
_pool_pid = 0
_pool_lock = threading.Lock()


def _start_helpers(work, Py_ssize_t count):
    """Futures of ``count`` calls of ``work`` on the module's thread pool.

    The pool is made on first use and remade larger when a call asks for more
    threads; its idle threads block on its queue (they never spin).  A forked
    child makes its own: the parent's threads do not exist there.  Pools are
    replaced and used under one lock, so no call submits to a pool being shut
    down.  Returns no futures when the interpreter is shutting down (the
    caller then does all the work).
    """
    global _pool, _pool_size, _pool_pid
    with _pool_lock:
        pid = os.getpid()
        if _pool is None or _pool_pid != pid or _pool_size < count:
            old = _pool if _pool_pid == pid else None
            _pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="fastmel")
            _pool_size, _pool_pid = count, pid
            if old is not None:
                old.shutdown(wait=False)  # its threads finish what they run, then exit
        try:
            return [_pool.submit(work) for _ in range(count)]
        except RuntimeError:  # no new threads at interpreter exit
            return []


def run_offline(SpectralKernel kernel, cnp.ndarray x, cnp.ndarray head,
                cnp.ndarray tail, Py_ssize_t pad, Py_ssize_t hop,
                Py_ssize_t n_frames, cnp.ndarray out, Py_ssize_t workers=1, top_db=None):
    """Run the kernel over every frame of every channel of a padded signal.

    The padded signal of channel c is virtual: ``head[c]`` holds its first
    ``head.shape[1]`` samples, ``x[c]`` (any strides) sits at offset ``pad``,
    and ``tail[c]`` holds its last ``tail.shape[1]`` samples.  A frame is read
    from whichever of the three holds all of it.  ``out`` is C-contiguous
    ``(channels, n_out, n_frames)``.  Up to ``workers`` threads (the caller
    and pool threads) share the frames; below PARALLEL_MIN_WORK, one does it
    all.  Every frame is computed the same way whichever thread takes it, so
    ``out`` has the same bits for every ``workers``.  Returns 0, or NONFINITE
    when a mel value came out non-finite (see ``SpectralKernel.frames``);
    ``out`` is then incomplete.

    ``top_db`` (dB kernels only): then floor each channel at its maximum
    minus top_db, as :func:`floor_below_max` does.  The workers note each
    unit's extremes as they write it, so the floor needs no pass to find the
    maximum, and none at all for a channel whose range is within top_db.
    """
    cdef bint track = top_db is not None and kernel.mode == OUT_MEL_DB
    cdef _OfflineJob job = _OfflineJob(kernel, x, head, tail, pad, hop, n_frames, out, track)
    cdef Py_ssize_t n_threads = min(workers, job.n_units)
    if n_threads > 1 and (<double>job.n_units) * job.chunk * kernel.n_fft < PARALLEL_MIN_WORK:
        n_threads = 1
    if n_threads <= 1:
        job.work()
    else:
        helpers = _start_helpers(job.work, n_threads - 1)
        try:
            job.work()
            for f in helpers:
                # A helper still queued behind other callers' work has nothing left to do.
                if not f.cancel():
                    f.result()
        except BaseException:  # interrupted while waiting: the helpers stop, the job keeps its arrays
            job.stop()
            raise
    if job.status == 0 and job.counter < job.n_units:
        raise MemoryError("fastmel: could not allocate FFT scratch buffers")
    if job.status == 0 and top_db is not None:
        if not track:
            raise ValueError("top_db needs a dB kernel")
        _floor_channels(out, job.ext, job.per_channel, float(top_db))
    return job.status


cdef void _floor_channels(cnp.ndarray out, const double* ext, Py_ssize_t per_channel,
                          double top_db) noexcept:
    """floor_below_max of each channel of out (channels, n_out, n_frames),
    given the extremes of its per_channel units (lo, hi pairs in ext)."""
    cdef Py_ssize_t c, u, group = cnp.PyArray_DIM(out, 1) * cnp.PyArray_DIM(out, 2)
    cdef char* p = <char*>cnp.PyArray_DATA(out)
    cdef bint is_double = cnp.PyArray_ITEMSIZE(out) == 8
    cdef const double* e
    cdef double lo, peak
    cdef float floor32
    if group == 0 or per_channel == 0:
        return
    with nogil:
        for c in range(cnp.PyArray_DIM(out, 0)):
            e = ext + 2 * c * per_channel
            lo = e[0]
            peak = e[1]
            for u in range(1, per_channel):
                lo = min(lo, e[2 * u])
                peak = max(peak, e[2 * u + 1])
            # The floor in the output's precision, as floor_below_max computes it.
            if is_double:
                if lo < peak - top_db:
                    fastmel_clip_below_f64(<double*>p + c * group, group, peak - top_db)
            else:
                floor32 = <float>(peak - top_db)
                if lo < floor32:
                    fastmel_clip_below_f32(<float*>p + c * group, group, floor32)


def run(kernel, framing, y, workers=1, top_db=None):
    """Run ``kernel`` over every frame of ``y`` (..., n); returns (..., n_out, n_frames).

    ``y`` must already be a checked float32/float64 array in the kernel's
    precision, ``workers`` a checked thread count, ``top_db`` None or (dB
    kernels) a checked floor (see :func:`run_offline`).
    """
    # Each framing attribute read once, into C: a 1 s clip's call is short
    # enough for Python attribute lookups to show.
    cdef cnp.ndarray yy = y
    cdef int nd = cnp.PyArray_NDIM(yy)
    cdef Py_ssize_t n = cnp.PyArray_DIM(yy, nd - 1), rows = 1, i
    cdef Py_ssize_t n_fft = framing.n_fft, hop = framing.hop_length
    cdef bint center = framing.center
    for i in range(nd - 1):
        rows *= cnp.PyArray_DIM(yy, i)
    if not center and n < n_fft:
        raise ParameterError(
            f"n_fft={n_fft} is too large for uncentered analysis of a signal of length {n}; "
            f"use center=True or a smaller n_fft")
    lead = y.shape[:-1]
    x = y.reshape(rows, n)
    cdef Py_ssize_t pad = n_fft // 2 if center else 0
    # framing.n_frames(n); C division truncates, so the empty case (an odd
    # n_fft's padding is one short of a frame) is spelled out
    cdef Py_ssize_t n_frames = 1 + (n + 2 * pad - n_fft) // hop if n + 2 * pad >= n_fft else 0
    if pad and n >= 2 * n_fft:
        # Only the first and last n_fft samples meet the padding.
        head, tail = _pad_edges(x, n_fft, pad, framing.pad_mode)
    elif pad:
        # A short signal is padded whole (numpy's reflection of pads longer
        # than the signal needs both ends at once).
        try:
            x = np.ascontiguousarray(np.pad(x, ((0, 0), (pad, pad)), mode=framing.pad_mode))
        except ValueError as err:  # numpy cannot extend an empty signal but with constants
            raise ParameterError(
                f"pad_mode={framing.pad_mode!r} cannot pad an empty signal: {err}") from None
        pad = 0
    if not pad or n < 2 * n_fft:
        head = tail = np.empty((x.shape[0], 0), dtype=x.dtype)
    cdef SpectralKernel k = kernel
    cdef bint is_complex = k.mode == OUT_COMPLEX
    cdef int typenum = cnp.PyArray_TYPE(yy)
    if is_complex:
        typenum = cnp.NPY_COMPLEX128 if typenum == cnp.NPY_FLOAT64 else cnp.NPY_COMPLEX64
    nbytes = rows * k.n_out * n_frames * cnp.PyArray_ITEMSIZE(yy) * (2 if is_complex else 1)
    if nbytes > SMALL_ALLOCATION:    # (the message is not worth formatting for small outputs)
        allocation(
            nbytes, f"the output {lead + (k.n_out, n_frames)}",
            "use a larger hop_length, fewer bins or mels, or a stream over pieces of the signal")
    cdef cnp.npy_intp dims[3]
    dims[0] = rows
    dims[1] = k.n_out
    dims[2] = n_frames
    out = cnp.PyArray_EMPTY(3, dims, typenum, 0)
    if run_offline(kernel, x, head, tail, pad, hop, n_frames, out, workers, top_db):
        raise ParameterError(
            f"the mel power overflowed {x.dtype} (non-finite values) for samples up to "
            f"{float(np.max(np.abs(x))):.3g}; scale the signal down or use float64")
    return out.reshape(lead + out.shape[1:])


cdef enum:
    PAD_CONSTANT, PAD_EDGE, PAD_REFLECT, PAD_SYMMETRIC

_PAD_KINDS = {"constant": PAD_CONSTANT, "edge": PAD_EDGE, "reflect": PAD_REFLECT,
              "symmetric": PAD_SYMMETRIC}


def pad_ends(seg, Py_ssize_t left, Py_ssize_t right, mode):
    """``np.pad(seg, ((0, 0), (left, right)), mode=mode)`` of a 2-D float32/float64
    ``seg``, C-contiguous.

    The padding is a copy of samples for every mode but linear_ramp, so
    copying them directly gives np.pad's bits without its generality, which
    costs more than the analysis of a short clip.  linear_ramp (an arithmetic
    ramp), pads longer than one reflection covers, and an empty ``seg`` go to
    np.pad itself.
    """
    cdef Py_ssize_t n = seg.shape[1]
    kind = _PAD_KINDS.get(mode, -1)
    if kind < 0 or (kind != PAD_CONSTANT and n == 0) or \
            (kind == PAD_REFLECT and max(left, right) >= n) or \
            (kind == PAD_SYMMETRIC and max(left, right) > n):
        return np.ascontiguousarray(np.pad(seg, ((0, 0), (left, right)), mode=mode))
    cdef cnp.ndarray x = seg
    cdef cnp.ndarray out = np.empty((seg.shape[0], left + n + right), dtype=seg.dtype)
    cdef Py_ssize_t item = x.itemsize, r, rows = seg.shape[0]
    cdef Py_ssize_t xs_r = x.strides[0] // item, xs = x.strides[1] // item
    cdef char* src = <char*>cnp.PyArray_DATA(x)
    cdef char* dst = <char*>cnp.PyArray_DATA(out)
    cdef int k = kind
    with nogil:
        for r in range(rows):
            if item == 8:
                _pad_row[double](<const double*>src + r * xs_r, xs, n, left, right, k,
                                 <double*>dst + r * (left + n + right))
            else:
                _pad_row[float](<const float*>src + r * xs_r, xs, n, left, right, k,
                                <float*>dst + r * (left + n + right))
    return out


cdef tuple _pad_edges(cnp.ndarray x, Py_ssize_t n_fft, Py_ssize_t pad, mode):
    """``(pad_ends(x[:, :n_fft], pad, 0, mode), pad_ends(x[:, n - n_fft:], 0, pad, mode))``
    for a 2-D float32/float64 ``x`` of n >= n_fft > pad samples per row, as two
    halves of one array, without the slices and Python calls (those took
    about 2.3 us, 4 % of a 1 s clip's analysis at 16 kHz)."""
    kind = _PAD_KINDS.get(mode, -1)
    if kind < 0:
        return (pad_ends(x[:, :n_fft], pad, 0, mode),
                pad_ends(x[:, x.shape[1] - n_fft:], 0, pad, mode))
    cdef Py_ssize_t item = x.itemsize, r, rows = x.shape[0], width = pad + n_fft
    cdef Py_ssize_t xs_r = x.strides[0] // item, xs = x.strides[1] // item
    cdef Py_ssize_t last = (x.shape[1] - n_fft) * xs
    cdef cnp.ndarray edges = np.empty((2, rows, width), dtype=x.dtype)
    cdef char* src = <char*>cnp.PyArray_DATA(x)
    cdef char* dst = <char*>cnp.PyArray_DATA(edges)
    cdef int k = kind
    with nogil:
        for r in range(rows):
            if item == 8:
                _pad_row[double](<const double*>src + r * xs_r, xs, n_fft, pad, 0, k,
                                 <double*>dst + r * width)
                _pad_row[double](<const double*>src + r * xs_r + last, xs, n_fft, 0, pad, k,
                                 <double*>dst + (rows + r) * width)
            else:
                _pad_row[float](<const float*>src + r * xs_r, xs, n_fft, pad, 0, k,
                                <float*>dst + r * width)
                _pad_row[float](<const float*>src + r * xs_r + last, xs, n_fft, 0, pad, k,
                                <float*>dst + (rows + r) * width)
    return edges[0], edges[1]


cdef void _pad_row(const real* x, Py_ssize_t xs, Py_ssize_t n, Py_ssize_t left,
                   Py_ssize_t right, int kind, real* out) noexcept nogil:
    """One row of pad_ends: out[left + i] = x[i]; the pads as np.pad's ``kind``."""
    cdef Py_ssize_t i
    cdef real* tail = out + left + n
    # One loop per case (a branch per sample cost as much as the copy); the
    # pads read the row copied into out, which is contiguous.
    if xs == 1:
        memcpy(out + left, x, n * sizeof(real))
    else:
        for i in range(n):
            out[left + i] = x[i * xs]
    x = out + left
    if kind == PAD_CONSTANT:
        for i in range(left):
            out[i] = 0
        for i in range(right):
            tail[i] = 0
    elif kind == PAD_EDGE:
        for i in range(left):
            out[i] = x[0]
        for i in range(right):
            tail[i] = x[n - 1]
    elif kind == PAD_REFLECT:
        for i in range(left):                   # padded position i - left
            out[i] = x[left - i]
        for i in range(right):                  # padded position n + i
            tail[i] = x[n - 2 - i]
    else:
        for i in range(left):
            out[i] = x[left - 1 - i]
        for i in range(right):
            tail[i] = x[n - 1 - i]
