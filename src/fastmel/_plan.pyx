"""FFTW plan cache for fastmel's compiled core.

A plan is made once per (size, precision, direction), under a lock (FFTW's
planner is not thread-safe), and then executed with FFTW's new-array
interface on per-call buffers.  Those buffers must share the planning
arrays' alignment: every buffer in fastmel comes from :func:`aligned_alloc`,
which aligns to 64 bytes, and the planning arrays are aligned the same way.

Plans come from the wisdom fastmel ships (data/fftw_wisdom.json, made by
scripts/make_fftw_wisdom.py), never from timing at run time: FFTW_MEASURE
picks among algorithms by the clock, so two processes could round results
differently.  Sizes the wisdom does not cover get FFTW_ESTIMATE's choice,
which is deterministic too.
"""
import json
import threading
from importlib.resources import files

import numpy as np
import pyfftw

from libc.stdlib cimport free
from posix.stdlib cimport posix_memalign

from pyfftw cimport FFTW, fftw_exe

DEF ALIGNMENT = 64

_lock = threading.Lock()
_plans = {}


def _load_wisdom():
    try:
        data = json.loads((files("fastmel") / "data" / "fftw_wisdom.json").read_text())
        pyfftw.import_wisdom((data["double"].encode(), data["single"].encode(), b""))
    except (OSError, ValueError, KeyError):
        pass  # no shipped wisdom: every size is planned by estimate


_load_wisdom()


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
    """An unnormalised real FFT of ``n_fft`` points in one precision: real to
    complex (``n_fft // 2 + 1`` bins), or with ``inverse`` complex to real."""

    def __cinit__(self, Py_ssize_t n_fft, bint is_double, bint inverse=False):
        real = np.float64 if is_double else np.float32
        cplx = np.complex128 if is_double else np.complex64
        self.n_fft = n_fft
        self.n_bins = n_fft // 2 + 1
        self.is_double = is_double
        self.inverse = inverse
        # Out-of-place r2c plans leave their input intact (FFTW default), which
        # the spectral kernel relies on for the zero padding around a short
        # window; c2r plans may overwrite theirs.
        if inverse:
            arrays = (_aligned_empty(self.n_bins, cplx), _aligned_empty(n_fft, real))
            direction = "FFTW_BACKWARD"
        else:
            arrays = (_aligned_empty(n_fft, real), _aligned_empty(self.n_bins, cplx))
            direction = "FFTW_FORWARD"
        try:
            self._fftw = pyfftw.FFTW(*arrays, direction=direction,
                                     flags=("FFTW_MEASURE", "FFTW_WISDOM_ONLY"), threads=1)
        except RuntimeError:  # not in the shipped wisdom
            self._fftw = pyfftw.FFTW(*arrays, direction=direction,
                                     flags=("FFTW_ESTIMATE",), threads=1)
        self._exe = self._fftw.get_fftw_exe()

    def __reduce__(self):
        return (get_plan, (self.n_fft, self.is_double, self.inverse))

    cdef void execute(self, void* src, void* dst) noexcept nogil:
        self._exe._fftw_execute(self._exe._plan, src, dst)


def get_plan(Py_ssize_t n_fft, bint is_double, bint inverse=False):
    """The shared plan for an ``n_fft``-point real FFT (made on first use)."""
    key = (n_fft, bool(is_double), bool(inverse))
    plan = _plans.get(key)
    if plan is None:
        with _lock:
            plan = _plans.get(key)
            if plan is None:
                plan = RealPlan(n_fft, is_double, inverse)
                _plans[key] = plan
    return plan
