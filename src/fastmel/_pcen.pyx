"""Per-channel energy normalisation (PCEN): the stream engine, which the
offline :func:`fastmel.pcen` runs over the whole spectrogram.

For each channel (a band of a spectrogram), the smoother is the one-pole
filter ``scipy.signal.lfilter([b], [1, b - 1])`` in transposed direct form II,
in float64 (``y = b x + z``, ``z = -(b - 1) y``), as ``librosa.pcen`` runs it;
its state ``z`` is the filter's ``zf``.  Then, element by element,

    smooth = exp(-gain * log(eps + y))
    out = bias**power * expm1(power * log1p(x * smooth / bias))

(librosa's expressions with ``log(eps) + log1p(y / eps)`` folded into
``log(eps + y)``; ``power == 0`` gives ``log1p(x * smooth)``, ``bias == 0``
gives ``exp(power * log(x * smooth))``), in the stream's precision (float32
runs float32 from the smoother on, as the rest of fastmel).  float64 runs
the smoother and the element-wise step block by block in one pass, with
fastmel_pcen.h's vectorised functions (the same bits on every CPU); float32
uses numpy's vectorised float32 functions.  Each output depends only on its
own element and the smoother, so a stream gives the offline bits however its
frames are cut.
"""
import numpy as np

cimport numpy as cnp

from fastmel._checks cimport finite_rows
from fastmel._checks import ParameterError
from fastmel._streambase cimport Chunk, Stream, real
from fastmel._streambase import check_state_array

cnp.import_array()

cdef extern from "fastmel_math.h" nogil:
    double fastmel_log_f64(double x)
    double fastmel_db_f64(double x)
    double fastmel_log1p_f64(double u)
    double fastmel_exp_f64(double y)
    double fastmel_expm1_f64(double y)
    double fastmel_log_par_f64(double x)
    double fastmel_exp_par_f64(double y)

cdef extern from "fastmel_db.h" nogil:
    void fastmel_power_to_db_f64(double* v, long n, double amin, double offset)

cdef extern from "fastmel_pcen.h" nogil:
    enum:
        FASTMEL_PCEN_LOG
        FASTMEL_PCEN_POW
        FASTMEL_PCEN_GENERAL
        FASTMEL_PCEN_SQRT
        FASTMEL_PCEN_T_NOT_POSITIVE
        FASTMEL_PCEN_NOT_FINITE
    int fastmel_pcen_magnitudes_f64(const double* x, Py_ssize_t n, Py_ssize_t stride)
    int fastmel_pcen_magnitudes_f32(const float* x, Py_ssize_t n, Py_ssize_t stride)
    int fastmel_pcen_f64(const double* x, double* t, double* out, Py_ssize_t n, int form,
                          double neg_gain, double inv_bias, double power, double bias_power)


cdef void _smooth(const real* x, Py_ssize_t xs, Py_ssize_t k, double b, double na1,
                  double eps, double* z, real* out) noexcept nogil:
    """out[i] = eps + y[i] (rounded to x's precision) for the float64 smoother y
    over k inputs (stride xs); z is its state, in and out.  na1 is -(b - 1):
    lfilter's -(a1 y) rounds as (-a1) y (rounding is symmetric), without the
    negation in the recursion's chain (the smoothers run 2x faster)."""
    cdef Py_ssize_t i
    cdef double zz = z[0], y
    for i in range(k):
        y = b * <double>x[i * xs] + zz
        zz = na1 * y
        out[i] = <real>(eps + y)
    z[0] = zz


cdef enum:
    ROWS = 8            # channels smoothed side by side (independent recursions overlap)
    COLS = 256          # float64: frames per block (ROWS * COLS scratch stays in L1)


cdef void _smooth_rows(const real* x, Py_ssize_t xs_ch, Py_ssize_t xs, Py_ssize_t k,
                       double b, double na1, double eps, double* z, real* out) noexcept nogil:
    """_smooth of ROWS channels at once (rows xs_ch apart in x, k apart in out):
    each channel's arithmetic is _smooth's, in the same order."""
    cdef Py_ssize_t i, r
    cdef double zz[ROWS]
    cdef double y
    for r in range(ROWS):
        zz[r] = z[r]
    for i in range(k):
        for r in range(ROWS):
            y = b * <double>x[r * xs_ch + i * xs] + zz[r]
            zz[r] = na1 * y
            out[r * k + i] = <real>(eps + y)
    for r in range(ROWS):
        z[r] = zz[r]


cdef class PCENStream(Stream):
    """PCEN over frames (..., n_bands, j) as a stream engine (see fastmel.PCEN).

    ``max_size > 1`` takes, for the smoother, the maximum over ``max_size``
    neighbouring bands (the second-to-last axis; reflected at the edges, as
    ``scipy.ndimage.maximum_filter1d``) instead of the band itself.
    """

    cdef readonly double b
    """The smoother's coefficient, as resolved (from ``time_constant`` when not given)."""
    cdef readonly double gain
    """The exponent of the smoothed energy each band is divided by."""
    cdef readonly double bias
    """The bias added before the compression."""
    cdef readonly double power
    """The compression exponent."""
    cdef readonly double eps
    """The floor added to the smoothed energy."""
    cdef readonly Py_ssize_t max_size
    """Bands the smoother's input is the maximum over (1: each band itself)."""
    cdef cnp.ndarray z                  # (n_ch,) float64: the smoother's state
    cdef cnp.ndarray z_next             # the state after the chunk being computed
    cdef cnp.ndarray undo
    cdef cnp.ndarray work               # float64 scratch, grown as chunks need

    def __init__(self, double b, double gain, double bias, double power, double eps,
                 Py_ssize_t max_size):
        self.b, self.gain, self.bias, self.power, self.eps = b, gain, bias, power, eps
        self.max_size = max_size
        self.frames_in = True
        self.frames_out = True
        self.hop = 1

    cdef int engine_start(self) except -1:
        if self.max_size > 1 and self.lead_nd == 0:
            raise ParameterError("max_size > 1 takes the maximum over neighbouring bands: "
                                 "chunks must be frames (..., n_bands, j), not 1-D")
        # librosa's default: lfilter_zi([b], [1, b - 1]), the steady state of
        # a unit input, for every channel
        self.z = np.full(self.n_ch, 1.0 - self.b)
        self.z_next = np.empty_like(self.z)
        return 0

    cdef void engine_stop(self) noexcept:
        self.z = self.z_next = self.undo = None

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        return k

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef Py_ssize_t k = c.k
        cdef cnp.ndarray y = self.new_out(k)
        x2 = x.reshape(self.n_ch, k)
        if k and self.n_ch and float(x2.min()) < 0:
            raise ParameterError("PCEN takes a magnitude or power spectrogram: frames must be "
                                 "non-negative; the stream is unchanged")
        ref = x2
        if self.max_size > 1:
            ref = _band_max(x.reshape(self.lead_shape + (k,)), self.max_size).reshape(
                self.n_ch, k)
        size = work_size(self.n_ch, k, self.work_dtype)
        if self.work is None or self.work.shape[0] < size:
            self.work = np.empty(size, dtype=self.work_dtype)
        self.z_next[...] = self.z
        pcen_rows(x2, ref, self.z_next, y.reshape(self.n_ch, k), self.work, self.b, self.gain,
                  self.bias, self.power, self.eps)
        self.z, self.z_next = self.z_next, self.z
        self.n_in += k
        return y

    cdef object engine_get(self):
        return self.z.copy()

    cdef int engine_set(self, object state) except -1:
        z = check_state_array(state, "z", (self.n_ch,), np.float64)
        self.z[...] = z
        return 0

    cdef int engine_save(self, Py_ssize_t k) except -1:
        if self.undo is None:
            self.undo = np.empty_like(self.z)
        self.undo[...] = self.z
        return 0

    cdef int engine_undo(self) except -1:
        self.z[...] = self.undo
        return 0



def _band_max(x, max_size):
    """The maximum over ``max_size`` neighbouring bands (axis -2), reflected at the
    edges as scipy.ndimage.maximum_filter1d's default mode ("reflect": d c b a |
    a b c d), centred as its origin 0."""
    cdef Py_ssize_t n = x.shape[-2], size, left, right, i
    if n == 0:
        # no bands to reflect into (and np.take cannot index an empty axis)
        return x.copy()
    if max_size >= 2 * n:
        # the window spans a whole reflection period, so every band: the
        # maximum over all of them, without indexing max_size bands (any int)
        return np.broadcast_to(x.max(axis=-2, keepdims=True), x.shape).copy()
    size = max_size
    left, right = size // 2, size - 1 - size // 2
    idx = np.arange(-left, n + right)
    # half-sample reflection, repeated for filters wider than the bands
    period = 2 * n
    idx = np.mod(idx, period)
    idx = np.where(idx >= n, period - 1 - idx, idx)
    padded = np.take(x, idx, axis=-2)
    out = padded[..., 0:n, :].copy()
    for i in range(1, size):
        np.maximum(out, padded[..., i:i + n, :], out=out)
    return out


def pcen_rows(x, ref, cnp.ndarray z, out, cnp.ndarray work, double b, double gain,
              double bias, double power, double eps):
    """PCEN of the rows of ``x`` (n_ch, k), smoothing ``ref`` (the same shape and
    dtype; ``x`` itself, or its band maximum) from state ``z`` (n_ch,) float64,
    updated in place, into ``out`` (n_ch, k) of x's dtype.  ``work`` is scratch
    of x's dtype: for float32 at least 3 * n_ch * k values, for float64 at least
    ``work_size(n_ch, k, dtype)``.  Raises ParameterError, with ``z`` already
    advanced, if eps + the smoother's output is not positive somewhere (its
    logarithm is undefined; only a negative initial state gets there) or an
    output is not finite."""
    if x.dtype == np.float64:
        status = _pcen_rows_f64(x, ref, z, out, work, b, gain, bias, power, eps)
    else:
        status = _pcen_rows_f32(x, ref, z, out, work, b, gain, bias, power, eps)
        if not finite_rows(cnp.PyArray_DATA(out), False, 1, 0, out.size, 1):
            status |= FASTMEL_PCEN_NOT_FINITE
    if status & FASTMEL_PCEN_T_NOT_POSITIVE:
        raise ParameterError(
            f"PCEN takes the logarithm of eps + M (M the smoothed level), which is not "
            f"positive here: an initial state zi below -eps (eps={eps!r}) pulls M down "
            f"to -eps or lower (librosa returns NaN or inf there)")
    if status:
        raise ParameterError(f"PCEN overflows {out.dtype} for values up to "
                             f"{float(np.max(x)):.3g}")


def magnitudes(cnp.ndarray x):
    """True when every value of the float32/float64 array ``x`` (at least 1-D,
    aligned, strides whole elements: see ``_checks.element_strided``) is finite
    and not negative: the check of PCEN's input in one pass."""
    if x.size == 0:
        return True
    cdef cnp.ndarray x2 = x.reshape(-1, x.shape[x.ndim - 1])
    cdef Py_ssize_t item = x2.itemsize, rows = x2.shape[0], n = x2.shape[1], r
    cdef Py_ssize_t rs = x2.strides[0] // item, s = x2.strides[1] // item
    cdef const char* p = <const char*>cnp.PyArray_DATA(x2)
    cdef bint ok = True
    with nogil:
        for r in range(rows):
            if item == 8:
                ok = fastmel_pcen_magnitudes_f64(<const double*>p + r * rs, n, s)
            else:
                ok = fastmel_pcen_magnitudes_f32(<const float*>p + r * rs, n, s)
            if not ok:
                break
    return ok


def work_size(Py_ssize_t n_ch, Py_ssize_t k, dtype):
    """The values of scratch ``pcen_rows`` needs for (n_ch, k) frames of ``dtype``."""
    if np.dtype(dtype) == np.float64:
        return ROWS * COLS
    return max(3 * n_ch * k, 1)


cdef int _form(double bias, double power) noexcept:
    """fastmel_pcen_f64's form for these parameters."""
    if power == 0:
        return FASTMEL_PCEN_LOG
    if bias == 0:
        return FASTMEL_PCEN_POW
    if power == 0.5:
        return FASTMEL_PCEN_SQRT
    return FASTMEL_PCEN_GENERAL


cdef int _pcen_rows_f64(x, ref, cnp.ndarray z, out, cnp.ndarray work, double b, double gain,
                        double bias, double power, double eps) except -1:
    """float64 pcen_rows: for each ROWS channels (or one), block by block of COLS
    frames, the smoother into scratch, then fastmel_pcen_f64 from it into out.
    Returns fastmel_pcen_f64's status bits, or'ed over the blocks."""
    cdef Py_ssize_t n_ch = x.shape[0], k = x.shape[1], ch, rows, c0, cb, r
    # The element-wise step reads x and writes out along rows of unit stride.
    cdef cnp.ndarray xc = np.ascontiguousarray(x)
    cdef cnp.ndarray oc = out if out.flags.c_contiguous else np.empty((n_ch, k), np.float64)
    cdef cnp.ndarray rr = ref
    cdef Py_ssize_t rs = rr.strides[1] // 8, rs_ch = rr.strides[0] // 8
    cdef const double* rp = <const double*>cnp.PyArray_DATA(rr)
    cdef const double* xp = <const double*>cnp.PyArray_DATA(xc)
    cdef double* op = <double*>cnp.PyArray_DATA(oc)
    cdef double* zp = <double*>cnp.PyArray_DATA(z)
    cdef double* tp = <double*>cnp.PyArray_DATA(work)
    cdef double na1 = -(b - 1.0)
    cdef int form = _form(bias, power)
    cdef int status = 0
    cdef double bias_power = bias ** power
    cdef double inv_bias = 1.0 / bias if bias != 0 else 0.0
    with nogil:
        ch = 0
        while ch < n_ch:
            rows = ROWS if ch + ROWS <= n_ch else 1
            c0 = 0
            while c0 < k:
                cb = min(<Py_ssize_t>COLS, k - c0)
                if rows == ROWS:
                    _smooth_rows[double](rp + ch * rs_ch + c0 * rs, rs_ch, rs, cb, b, na1, eps,
                                         zp + ch, tp)
                else:
                    _smooth[double](rp + ch * rs_ch + c0 * rs, rs, cb, b, na1, eps, zp + ch, tp)
                for r in range(rows):
                    status |= fastmel_pcen_f64(xp + (ch + r) * k + c0, tp + r * cb,
                                               op + (ch + r) * k + c0, cb, form, -gain,
                                               inv_bias, power, bias_power)
                c0 += cb
            ch += rows
    if oc is not out:
        out[...] = oc
    return status


cdef int _pcen_rows_f32(x, ref, cnp.ndarray z, out, cnp.ndarray work, double b, double gain,
                        double bias, double power, double eps) except -1:
    """float32 pcen_rows: the smoother into work, then numpy's float32 functions.
    Returns FASTMEL_PCEN_T_NOT_POSITIVE if some eps + M is not positive (then
    before computing anything more), else 0."""
    cdef Py_ssize_t n_ch = x.shape[0], k = x.shape[1], ch, n = n_ch * k
    cdef cnp.ndarray r = ref
    cdef Py_ssize_t rs = r.strides[1] // 4, rs_ch = r.strides[0] // 4
    cdef const float* rp = <const float*>cnp.PyArray_DATA(r)
    cdef double* zp = <double*>cnp.PyArray_DATA(z)
    cdef float* tp = <float*>cnp.PyArray_DATA(work)
    cdef double na1 = -(b - 1.0)
    t = work[:n].reshape(n_ch, k)
    with nogil:
        ch = 0
        while ch + ROWS <= n_ch:
            _smooth_rows[float](rp + ch * rs_ch, rs_ch, rs, k, b, na1, eps, zp + ch, tp + ch * k)
            ch += ROWS
        for ch in range(ch, n_ch):
            _smooth[float](rp + ch * rs_ch, rs, k, b, na1, eps, zp + ch, tp + ch * k)
    if n and float(t.min()) <= 0:
        return FASTMEL_PCEN_T_NOT_POSITIVE
    # Element-wise (numpy's vectorised log and exp; log1p from log, see _log1p)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        np.log(t, out=t)
        np.multiply(t, -gain, out=t)
        np.exp(t, out=t)                          # smooth = (eps + M) ** -gain
        np.multiply(t, x, out=t)
        if power == 0:
            _log1p(t, work[n:2 * n].reshape(n_ch, k), work[2 * n:3 * n].reshape(n_ch, k), out)
        elif bias == 0:
            np.log(t, out=t)
            np.multiply(t, power, out=t)
            np.exp(t, out=out)
        else:
            np.divide(t, bias, out=t)
            _log1p(t, work[n:2 * n].reshape(n_ch, k), work[2 * n:3 * n].reshape(n_ch, k), t)
            np.multiply(t, power, out=t)
            np.expm1(t, out=t)
            np.multiply(t, bias ** power, out=out)
    return 0


cdef _log1p(u, w, c, out):
    """out = log1p(u) for u >= 0, from numpy's vectorised log (its log1p is not):
    with w = 1 + u rounded, log1p(u) = log(w) + log1p(d / w) where d = u - (w - 1)
    is what the rounding lost, |d / w| <= ulp(1), so log(w) - ((w - 1) - u) / w
    is within an ulp or two (and exactly u where w == 1)."""
    np.add(u, 1.0, out=w)
    np.subtract(w, 1.0, out=c)
    np.subtract(c, u, out=c)
    np.divide(c, w, out=c)
    np.log(w, out=w)
    np.subtract(w, c, out=out)


def math_f64(str name, x):
    """fastmel_math.h's function ``name`` ("log", "db", "log1p", "exp", "expm1",
    "log_par", "exp_par", or "power_to_db", the dB kernel's loop with amin 0
    and offset 0) of each value of ``x`` (float64), as a new array: the hook
    tests measure them by."""
    cdef cnp.ndarray a = np.array(x, dtype=np.float64, order="C", copy=True)
    cdef double* p = <double*>cnp.PyArray_DATA(a)
    cdef Py_ssize_t i, n = a.size
    cdef int kind
    kinds = ("log", "db", "log1p", "exp", "expm1", "log_par", "exp_par", "power_to_db")
    if name not in kinds:
        raise ValueError(f"name={name!r} is not one of {kinds}")
    kind = kinds.index(name)
    with nogil:
        if kind == 7:
            fastmel_power_to_db_f64(p, n, 0.0, 0.0)
        else:
            for i in range(n):
                if kind == 0:
                    p[i] = fastmel_log_f64(p[i])
                elif kind == 1:
                    p[i] = fastmel_db_f64(p[i])
                elif kind == 2:
                    p[i] = fastmel_log1p_f64(p[i])
                elif kind == 3:
                    p[i] = fastmel_exp_f64(p[i])
                elif kind == 4:
                    p[i] = fastmel_expm1_f64(p[i])
                elif kind == 5:
                    p[i] = fastmel_log_par_f64(p[i])
                else:
                    p[i] = fastmel_exp_par_f64(p[i])
    return a


def pcen_step_f64(x, t, double gain, double bias, double power):
    """fastmel_pcen_f64, the float64 element-wise step (the vectorised loops, in
    the CPU's clone), of ``x`` and ``t`` (eps + the smoother's output), 1-D
    float64 of one length, as a new array: the hook tests compare it with the
    same functions called one value at a time."""
    cdef cnp.ndarray xc = np.array(x, dtype=np.float64, order="C", copy=True)
    cdef cnp.ndarray tc = np.array(t, dtype=np.float64, order="C", copy=True)
    cdef cnp.ndarray out = np.empty_like(xc)
    if xc.ndim != 1 or tc.ndim != 1 or tc.shape[0] != xc.shape[0]:
        raise ValueError(f"x and t must be 1-D of one length, got shapes {np.shape(x)} "
                         f"and {np.shape(t)}")
    cdef int form = _form(bias, power)
    cdef double bias_power = bias ** power
    cdef double inv_bias = 1.0 / bias if bias != 0 else 0.0
    fastmel_pcen_f64(<const double*>cnp.PyArray_DATA(xc), <double*>cnp.PyArray_DATA(tc),
                     <double*>cnp.PyArray_DATA(out), xc.shape[0], form, -gain, inv_bias, power,
                     bias_power)
    return out
