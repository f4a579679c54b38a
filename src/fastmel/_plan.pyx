"""FFTW plan cache for fastmel's compiled core.

A plan is made once per (size, precision) with FFTW_MEASURE, under a lock
(FFTW's planner is not thread-safe), and then executed with FFTW's new-array
interface on per-call buffers.  Those buffers must share the planning arrays'
alignment: every buffer in fastmel comes from :func:`aligned_alloc`, which
aligns to 64 bytes, and the planning arrays are aligned the same way.
"""
import threading

import numpy as np
import pyfftw

from libc.stdlib cimport free
from posix.stdlib cimport posix_memalign

from pyfftw cimport FFTW, fftw_exe

DEF ALIGNMENT = 64

_lock = threading.Lock()
_plans = {}


cdef void* aligned_alloc(size_t nbytes) noexcept nogil:
    """64-byte aligned memory (NULL on failure); release with aligned_free."""
    cdef void* ptr = NULL
    if nbytes == 0:
        nbytes = ALIGNMENT
    if posix_memalign(&ptr, ALIGNMENT, nbytes) != 0:
        return NULL
    return ptr


cdef void aligned_free(void* ptr) noexcept nogil:
    free(ptr)


def _aligned_empty(n, dtype):
    dtype = np.dtype(dtype)
    raw = np.empty(n * dtype.itemsize + ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % ALIGNMENT
    return raw[offset:offset + n * dtype.itemsize].view(dtype)


cdef class RealPlan:
    """A real-to-complex FFT of ``n_fft`` points in one precision."""

    def __cinit__(self, Py_ssize_t n_fft, bint is_double):
        real = np.float64 if is_double else np.float32
        cplx = np.complex128 if is_double else np.complex64
        self.n_fft = n_fft
        self.n_bins = n_fft // 2 + 1
        self.is_double = is_double
        src = _aligned_empty(n_fft, real)
        dst = _aligned_empty(self.n_bins, cplx)
        # Out-of-place r2c plans leave their input intact (FFTW default), which
        # the kernel relies on for the zero padding around a short window.
        # Exhaustive measuring of huge sizes would stall the first call for
        # seconds; those sizes are rare, so they get a quick estimate instead.
        effort = "FFTW_MEASURE" if n_fft <= 1 << 16 else "FFTW_ESTIMATE"
        self._fftw = pyfftw.FFTW(
            src, dst, direction="FFTW_FORWARD",
            flags=(effort,), threads=1,
        )
        self._exe = self._fftw.get_fftw_exe()

    def __reduce__(self):
        return (get_plan, (self.n_fft, self.is_double))

    cdef void r2c(self, void* src, void* dst) noexcept nogil:
        self._exe._fftw_execute(self._exe._plan, src, dst)


def get_plan(Py_ssize_t n_fft, bint is_double):
    """The shared plan for an ``n_fft``-point real FFT (made on first use)."""
    key = (n_fft, bool(is_double))
    plan = _plans.get(key)
    if plan is None:
        with _lock:
            plan = _plans.get(key)
            if plan is None:
                plan = RealPlan(n_fft, is_double)
                _plans[key] = plan
    return plan
