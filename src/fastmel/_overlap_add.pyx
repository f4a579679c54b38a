"""Offline FFT convolution: overlap-add with one transform size.

Each row of the signal is cut into blocks of n_fft - m + 1 samples; a block
zero-padded to n_fft points, multiplied by the impulse response's spectrum
and transformed back is that block's full linear convolution, and the
blocks' results overlap-add into the output.  A whole signal is known up
front, so one transform size (chosen by fastmel.convolution) serves it; the
zero-latency partitioned stream lives in fastmel._convolve.
"""
cimport numpy as cnp
from libc.string cimport memcpy, memset

from fastmel._plan cimport RealPlan, aligned_alloc, aligned_free
from fastmel._plan import get_plan

cnp.import_array()

cdef extern from "fastmel_conv.h" nogil:
    void fastmel_cmac_f32(const float* x, const float* h, float* acc, Py_ssize_t n, int first)
    void fastmel_cmac_f64(const double* x, const double* h, double* acc, Py_ssize_t n, int first)

ctypedef fused real:
    float
    double


def overlap_add(cnp.ndarray x, cnp.ndarray ir, Py_ssize_t n_fft, cnp.ndarray out):
    """Full linear convolution of each row of ``x`` (channels, n) with the matching
    row of ``ir`` (1 or channels, m) into C-contiguous ``out`` (channels, n + m - 1),
    by overlap-add with ``n_fft``-point transforms (n_fft >= m)."""
    cdef bint is_double = x.itemsize == 8
    cdef RealPlan fwd = get_plan(n_fft, is_double, False)
    cdef RealPlan inv = get_plan(n_fft, is_double, True)
    cdef Py_ssize_t n_ch = x.shape[0], n = x.shape[1], m = ir.shape[1]
    cdef Py_ssize_t n_ir = ir.shape[0], item = x.itemsize
    cdef Py_ssize_t xs_ch = x.strides[0] // item, xs = x.strides[1] // item
    cdef Py_ssize_t is_ch = ir.strides[0] // item, is_ = ir.strides[1] // item
    cdef Py_ssize_t n_bins = n_fft // 2 + 1, step = n_fft - m + 1
    cdef Py_ssize_t n_out = n + m - 1
    cdef char* xp = <char*>cnp.PyArray_DATA(x)
    cdef char* hp = <char*>cnp.PyArray_DATA(ir)
    cdef char* op = <char*>cnp.PyArray_DATA(out)
    cdef void* tbuf = aligned_alloc(n_fft * item)
    cdef void* spec = aligned_alloc(2 * n_bins * item)
    cdef void* prod = aligned_alloc(2 * n_bins * item)
    cdef void* hspec = aligned_alloc(2 * n_bins * item * n_ir)
    cdef Py_ssize_t c, r
    if tbuf == NULL or spec == NULL or prod == NULL or hspec == NULL:
        aligned_free(tbuf)
        aligned_free(spec)
        aligned_free(prod)
        aligned_free(hspec)
        raise MemoryError("fastmel: could not allocate convolution buffers")
    with nogil:
        memset(op, 0, n_ch * n_out * item)
        for r in range(n_ir):
            if is_double:
                _load[double](<const double*>hp + r * is_ch, is_, m, <double*>tbuf, n_fft, 1.0 / n_fft)
            else:
                _load[float](<const float*>hp + r * is_ch, is_, m, <float*>tbuf, n_fft, 1.0 / n_fft)
            # FFTW writes only to buffers aligned like its plan's: go through spec.
            fwd.execute(tbuf, spec)
            memcpy(<char*>hspec + r * 2 * n_bins * item, spec, 2 * n_bins * item)
        for c in range(n_ch):
            if is_double:
                _ola[double](fwd, inv, <const double*>xp + c * xs_ch, xs, n, m,
                             <const double*>hspec + (c if n_ir > 1 else 0) * 2 * n_bins,
                             <double*>op + c * n_out, n_fft, step, <double*>tbuf, <double*>spec,
                             <double*>prod)
            else:
                _ola[float](fwd, inv, <const float*>xp + c * xs_ch, xs, n, m,
                            <const float*>hspec + (c if n_ir > 1 else 0) * 2 * n_bins,
                            <float*>op + c * n_out, n_fft, step, <float*>tbuf, <float*>spec,
                            <float*>prod)
    aligned_free(tbuf)
    aligned_free(spec)
    aligned_free(prod)
    aligned_free(hspec)


cdef void _load(const real* src, Py_ssize_t stride, Py_ssize_t n, real* dst, Py_ssize_t size,
                double scale) noexcept nogil:
    """dst[:n] = src[::stride] * scale, zeros up to size."""
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = <real>(src[i * stride] * scale)
    memset(dst + n, 0, (size - n) * sizeof(real))


cdef void _ola(RealPlan fwd, RealPlan inv, const real* x, Py_ssize_t xs, Py_ssize_t n,
               Py_ssize_t m, const real* hspec, real* out, Py_ssize_t n_fft, Py_ssize_t step,
               real* tbuf, real* spec, real* prod) noexcept nogil:
    # The product goes to its own buffer: fastmel_cmac's arguments are restrict.
    cdef Py_ssize_t start = 0, i, take, n_bins = n_fft // 2 + 1, n_out = n + m - 1, span
    while start < n:
        take = min(step, n - start)
        for i in range(take):
            tbuf[i] = x[(start + i) * xs]
        memset(tbuf + take, 0, (n_fft - take) * sizeof(real))
        fwd.execute(tbuf, spec)
        if real is float:
            fastmel_cmac_f32(spec, hspec, prod, n_bins, 1)
        else:
            fastmel_cmac_f64(spec, hspec, prod, n_bins, 1)
        inv.execute(prod, tbuf)
        span = min(take + m - 1, n_out - start)
        for i in range(span):
            out[start + i] += tbuf[i]
        start += step
