"""Delta features: the Savitzky-Golay derivative filter over frames, offline
and as a stream engine.

Output t of a row of n frames is the correlation of the centre coefficients
with the ``width`` frames t - h .. t + h around it (h = width // 2).  Frames
beyond the row's ends take the values the edge mode gives them (the
extensions of scipy.ndimage, which librosa.feature.delta goes through):
"mirror" reflects about the end frames, "nearest" repeats them, "constant"
is ``cval``, "wrap" is periodic (as many times over as a short row needs).
In mode "interp" nothing is extended: the first and last h outputs are the
derivative, at their positions, of the polynomial fitted to the first / last
``width`` frames.

A stream holds the last ``width`` frames of each row and nothing else: which
outputs are out and which are owed follows from the number of frames taken
in.  Output t is emitted once frame t + h is in (the left extensions need
frames 0..h at most), except in mode "interp", whose first h outputs wait for
frame width - 1; "wrap" cannot stream (its first outputs need the last
frames).  The offline call runs the same routine once over each row, so
every output is the same sum of the same values in the same order either way.
"""
import numpy as np

cimport numpy as cnp
from libc.string cimport memcpy, memmove

from fastmel._checks import ParameterError, all_finite, allocation
from fastmel._streambase cimport Chunk, Stream, real
from fastmel._streambase import check_state_array

cnp.import_array()

cdef extern from "fastmel_delta.h" nogil:
    void fastmel_savgol(const double* x, const double* c, Py_ssize_t width, double* y,
                        Py_ssize_t n)
    void fastmel_widen_f32(const float* x, Py_ssize_t stride, double* out, Py_ssize_t n)
    void fastmel_widen_f64(const double* x, Py_ssize_t stride, double* out, Py_ssize_t n)
    bint fastmel_narrow_f32(const double* a, float* y, Py_ssize_t n)
    bint fastmel_narrow_f64(const double* a, double* y, Py_ssize_t n)

#: The edge modes, in the order of the compiled enum below.
MODES = ("interp", "mirror", "nearest", "constant", "wrap")

cdef enum:
    INTERP, MIRROR, NEAREST, CONSTANT, WRAP

cdef enum:
    BLOCK = 1024                        # outputs per pass of the kernel


cdef struct Plan:
    Py_ssize_t width
    Py_ssize_t h
    Py_ssize_t n_poly
    int mode
    double cval
    const double* poly                  # (n_poly, width), see DeltaStream


cdef inline Py_ssize_t _ready(const Plan* p, Py_ssize_t n) noexcept nogil:
    """Outputs a stream has emitted once n frames are in (before its flush)."""
    if p.mode == INTERP:
        return n - p.h if n >= p.width else 0
    return n - p.h if n > p.h else 0


cdef inline Py_ssize_t _source(const Plan* p, Py_ssize_t f, Py_ssize_t n) noexcept nogil:
    """The frame of a row of n whose value frame index f takes (f may lie
    beyond the row), or -1 for ``cval``."""
    cdef Py_ssize_t period, r
    if 0 <= f < n:
        return f
    if p.mode == CONSTANT:
        return -1
    if p.mode == NEAREST:
        return 0 if f < 0 else n - 1
    if p.mode == WRAP:
        r = f % n
        return r + n if r < 0 else r
    if n == 1:                          # mirror
        return 0
    period = 2 * (n - 1)
    r = f % period
    if r < 0:
        r += period
    return period - r if r >= n else r


cdef void _gather(const Plan* p, const real* held, Py_ssize_t n_held, Py_ssize_t N,
                  const real* x, Py_ssize_t xs, Py_ssize_t n, Py_ssize_t f0,
                  Py_ssize_t count, double* out) noexcept nogil:
    """out[i] = frame f0 + i of a row of n frames, as the edge mode extends it;
    frames N.. are x's (stride xs), the n_held before them ``held``'s."""
    cdef Py_ssize_t i, f
    for i in range(count):
        f = _source(p, f0 + i, n)
        if f < 0:
            out[i] = p.cval
        elif f >= N:
            out[i] = x[(f - N) * xs]
        else:
            out[i] = held[f - (N - n_held)]


cdef inline bint _store(const double* a, real* y, Py_ssize_t n) noexcept nogil:
    if real is float:
        return fastmel_narrow_f32(a, y, n)
    else:
        return fastmel_narrow_f64(a, y, n)


cdef bint _emit(const Plan* p, const real* held, Py_ssize_t n_held, Py_ssize_t N,
                const real* x, Py_ssize_t xs, Py_ssize_t k, bint final, real* y,
                double* work) noexcept nogil:
    """Outputs from _ready(N) up to _ready(N + k) (with ``final``: to N + k, the
    row's end) into y, for a row whose frames N.. are x's k frames (stride
    xs) and whose last n_held frames before them are ``held``.  ``work``
    holds 2 * BLOCK + width + n_poly doubles.  False if an output is not
    finite (an overflow)."""
    cdef Py_ssize_t h = p.h, width = p.width, n = N + k
    cdef Py_ssize_t t0 = _ready(p, N), t = t0, t_end, c_end, a, b, nb
    cdef double* xd = work
    cdef double* acc = work + BLOCK + width
    cdef double* coef = acc + BLOCK
    cdef bint ok = True
    t_end = n if final else _ready(p, n)
    c_end = t_end
    if p.mode == INTERP:
        c_end = min(t_end, n - h)
    if p.mode == INTERP and t < min(h, t_end):
        # the first edge (emitted with frame width - 1, so all of it at once)
        _gather(p, held, n_held, N, x, xs, n, 0, width, xd)
        while t < h:
            ok &= _edge(p, xd, t - h, y + t - t0, coef)
            t += 1
    # the centre outputs: first those whose window starts before x (from the
    # extension or the held frames), then those within x, then those past the
    # row's end (final only); then interp's last edge
    a = max(t, min(c_end, N + h))
    b = max(a, min(c_end, n - h))
    while t < c_end:
        if a <= t < b:
            nb = min(BLOCK, b - t)
            if real is double:
                if xs == 1:              # read in place
                    fastmel_savgol(x + t - h - N, p.poly, width, acc, nb)
                else:
                    fastmel_widen_f64(x + (t - h - N) * xs, xs, xd, nb + width - 1)
                    fastmel_savgol(xd, p.poly, width, acc, nb)
            else:
                fastmel_widen_f32(x + (t - h - N) * xs, xs, xd, nb + width - 1)
                fastmel_savgol(xd, p.poly, width, acc, nb)
            ok &= _store(acc, y + t - t0, nb)
        else:
            nb = min(BLOCK, (a if t < a else c_end) - t)
            _gather(p, held, n_held, N, x, xs, n, t - h, nb + width - 1, xd)
            fastmel_savgol(xd, p.poly, width, acc, nb)
            ok &= _store(acc, y + t - t0, nb)
        t += nb
    if p.mode == INTERP and t < t_end:
        _gather(p, held, n_held, N, x, xs, n, n - width, width, xd)
        while t < t_end:
            ok &= _edge(p, xd, t - (n - width) - h, y + t - t0, coef)
            t += 1
    return ok


cdef bint _edge(const Plan* p, const double* window, Py_ssize_t u, real* y,
                double* coef) noexcept nogil:
    """The derivative at offset u from the window's centre of the polynomial
    fitted to ``window``: the polynomial in u whose coefficients are the rows
    of ``poly`` applied to the window."""
    cdef Py_ssize_t m
    cdef double v
    for m in range(p.n_poly):
        fastmel_savgol(window, p.poly + m * p.width, p.width, coef + m, 1)
    v = coef[p.n_poly - 1]
    for m in range(p.n_poly - 2, -1, -1):
        v = v * u + coef[m]
    return _store(&v, y, 1)


cdef int _plan(Plan* p, cnp.ndarray poly, int mode, double cval) except -1:
    p.width = cnp.PyArray_DIM(poly, 1)
    p.h = p.width // 2
    p.n_poly = cnp.PyArray_DIM(poly, 0)
    p.mode = mode
    p.cval = cval
    p.poly = <const double*>cnp.PyArray_DATA(poly)
    return 0


cdef Py_ssize_t _work_size(const Plan* p) noexcept:
    return 2 * BLOCK + p.width + p.n_poly


def delta_rows(cnp.ndarray x, cnp.ndarray poly, int mode, double cval):
    """The deltas of each row of ``x`` [shape=(rows, n)], float32 or float64 with
    strides in whole elements, in x's dtype.  ``poly``: (n_poly, width) float64,
    C order (see DeltaStream); ``mode``: an index into MODES.  In mode
    "interp", n >= width (the caller checks).

    ``x`` need not have been scanned: a NaN or inf frame makes its own
    output non-finite (through any coefficient, 0 included), so the outputs'
    check finds it, and only then is ``x`` scanned, to say which it was.
    Raises ParameterError for non-finite data or deltas that overflow."""
    cdef Plan p
    _plan(&p, poly, mode, cval)
    cdef Py_ssize_t rows = cnp.PyArray_DIM(x, 0), n = cnp.PyArray_DIM(x, 1), r
    cdef Py_ssize_t item = x.itemsize
    cdef Py_ssize_t xs_r = cnp.PyArray_STRIDE(x, 0) // item
    cdef Py_ssize_t xs = cnp.PyArray_STRIDE(x, 1) // item
    cdef cnp.ndarray y = np.empty((rows, n), dtype=x.dtype)
    cdef cnp.ndarray work = np.empty(_work_size(&p))
    cdef double* wp = <double*>cnp.PyArray_DATA(work)
    cdef const char* xp = <const char*>cnp.PyArray_DATA(x)
    cdef char* yp = <char*>cnp.PyArray_DATA(y)
    cdef bint ok = True, is_double = item == 8
    with nogil:
        for r in range(rows):
            if is_double:
                ok = _emit[double](&p, NULL, 0, 0, <const double*>xp + r * xs_r, xs, n, True,
                                   <double*>yp + r * n, wp)
            else:
                ok = _emit[float](&p, NULL, 0, 0, <const float*>xp + r * xs_r, xs, n, True,
                                  <float*>yp + r * n, wp)
            if not ok:
                break
    if not ok:
        if not all_finite(x):
            raise ParameterError("data contains non-finite values (NaN or inf); deltas "
                                 "need finite features")
        raise ParameterError(
            f"the delta of data overflows {x.dtype}: values up to "
            f"{float(np.max(np.abs(x))):.3g} with coefficients summing to "
            f"{float(np.abs(poly[0]).sum()):.3g} in magnitude; scale the data down"
            + (" or use float64" if not is_double else ""))
    return y


cdef class DeltaStream(Stream):
    """Delta features of a stream of frames (see fastmel.Delta).

    ``poly`` is (n_poly, width) float64: row 0 holds the centre coefficients
    (the derivative at a window's centre is their correlation with it); in
    mode "interp", row m holds the coefficients of u**m in the derivative at
    offset u from the centre (one row when that derivative is a constant).
    """

    cdef readonly object coeffs
    """The filters, (n_poly, width) float64, read-only (row 0: the centre coefficients)."""
    cdef Plan plan
    cdef cnp.ndarray work
    cdef cnp.ndarray tail                # (channels, width): the last ``held`` frames, in order
    cdef Py_ssize_t held
    cdef cnp.ndarray undo
    cdef Py_ssize_t undo_held

    def __init__(self, poly, str mode, double cval):
        if mode == "wrap":
            raise ParameterError(
                "mode='wrap' cannot stream: its first outputs depend on the last frames; "
                "use fastmel.feature.delta on the whole signal")
        # a read-only copy: the filter stays what its repr, stream() and pickles say
        self.coeffs = np.array(poly, dtype=np.float64, order="C")
        self.coeffs.flags.writeable = False
        _plan(&self.plan, self.coeffs, MODES.index(mode), cval)
        self.frames_in = True
        self.frames_out = True
        self.lag = self.plan.width - 1 if self.plan.mode == INTERP else self.plan.h
        self.work = np.empty(_work_size(&self.plan))

    cdef int engine_start(self) except -1:
        allocation(self.n_ch * self.plan.width * self.item,
                   f"a delta stream's frames for leading shape {self.lead_shape}",
                   "check the chunk's layout: time (frames) is the last axis")
        self.tail = np.empty((self.n_ch, self.plan.width), dtype=self.work_dtype)
        self.held = 0
        return 0

    cdef void engine_stop(self) noexcept:
        self.tail = None
        self.undo = None
        self.held = 0

    cdef bint emit(self, const char* data, Py_ssize_t xs_ch, Py_ssize_t xs, Py_ssize_t k,
                   bint final, cnp.ndarray y):
        """Every channel's outputs of _emit into y (channels, j); False on overflow."""
        cdef Py_ssize_t ch, width = self.plan.width, j = cnp.PyArray_DIM(y, y.ndim - 1)
        cdef Py_ssize_t N = self.n_in
        cdef char* yp = <char*>cnp.PyArray_DATA(y)
        cdef const char* tp = <const char*>cnp.PyArray_DATA(self.tail)
        cdef double* wp = <double*>cnp.PyArray_DATA(self.work)
        cdef bint ok = True, is_double = self.item == 8
        with nogil:
            for ch in range(self.n_ch):
                if is_double:
                    ok = _emit[double](&self.plan, <const double*>tp + ch * width, self.held, N,
                                       <const double*>data + ch * xs_ch, xs, k, final,
                                       <double*>yp + ch * j, wp)
                else:
                    ok = _emit[float](&self.plan, <const float*>tp + ch * width, self.held, N,
                                      <const float*>data + ch * xs_ch, xs, k, final,
                                      <float*>yp + ch * j, wp)
                if not ok:
                    break
        return ok

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        return _ready(&self.plan, self.n_in + k) - _ready(&self.plan, self.n_in)

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef Py_ssize_t k = c.k, N = self.n_in
        cdef cnp.ndarray y = self.new_out(_ready(&self.plan, N + k) - _ready(&self.plan, N))
        if not self.emit(c.data, c.xs_ch, c.xs, k, False, y):
            raise ParameterError(
                f"chunk's delta overflows {self.work_dtype} (frames up to "
                f"{float(np.max(np.abs(x))):.3g}); the stream is unchanged")
        self.keep_last(c.data, c.xs_ch, c.xs, k)
        self.n_in += k
        return y

    cdef void keep_last(self, const char* data, Py_ssize_t xs_ch, Py_ssize_t xs,
                        Py_ssize_t k) noexcept:
        """The tail becomes the last ``width`` frames of (tail, chunk)."""
        cdef Py_ssize_t ch, width = self.plan.width, item = self.item
        cdef Py_ssize_t held = min(self.held + k, width), keep = max(held - k, 0)
        cdef Py_ssize_t skip = k - (held - keep)
        cdef char* tp = <char*>cnp.PyArray_DATA(self.tail)
        cdef char* row
        for ch in range(self.n_ch):
            row = tp + ch * width * item
            memmove(row, row + (self.held - keep) * item, keep * item)
            if item == 8:
                _copy[double](<const double*>data + ch * xs_ch + skip * xs, xs,
                              <double*>row + keep, held - keep)
            else:
                _copy[float](<const float*>data + ch * xs_ch + skip * xs, xs,
                             <float*>row + keep, held - keep)
        self.held = held

    cdef object engine_tail(self):
        cdef Py_ssize_t N = self.n_in
        cdef cnp.ndarray y
        if self.plan.mode == INTERP and N < self.plan.width:
            raise ParameterError(
                f"mode='interp' fits its edges to the first and last width={self.plan.width} "
                f"frames, but the stream has taken in {N}; the offline call raises for them too "
                f"(the stream is unchanged: feed more frames, or use another mode)")
        y = self.new_out(N - _ready(&self.plan, N))
        if not self.emit(NULL, 0, 0, 0, True, y):
            raise ParameterError(
                f"the delta of the last frames overflows {self.work_dtype}; the stream is "
                f"unchanged")
        return y

    cdef object engine_get(self):
        return self.tail[:, :self.held].copy()

    cdef int engine_set(self, object state) except -1:
        """The tail: the last min(n_in, width) frames of each channel, finite."""
        held = min(self.n_in, self.plan.width)
        tail = check_state_array(state, "tail", (self.n_ch, held), self.work_dtype)
        self.tail[:, :held] = tail
        self.held = held
        return 0

    cdef int engine_save(self, Py_ssize_t k) except -1:
        if self.undo is None:
            self.undo = np.empty_like(self.tail)
        memcpy(cnp.PyArray_DATA(self.undo), cnp.PyArray_DATA(self.tail),
               self.tail.size * self.item)
        self.undo_held = self.held
        return 0

    cdef int engine_undo(self) except -1:
        memcpy(cnp.PyArray_DATA(self.tail), cnp.PyArray_DATA(self.undo),
               self.tail.size * self.item)
        self.held = self.undo_held
        return 0


cdef void _copy(const real* src, Py_ssize_t xs, real* dst, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = src[i * xs]
