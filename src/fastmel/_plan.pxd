# Shared FFTW plans: one per (size, precision), made once and reused by every
# caller with its own buffers (FFTW's new-array execute is thread-safe).
from pyfftw cimport FFTW, fftw_exe


cdef class RealPlan:
    cdef readonly Py_ssize_t n_fft
    cdef readonly Py_ssize_t n_bins
    cdef readonly bint is_double
    cdef readonly bint inverse
    # Kept alive for as long as the plan struct below is used.
    cdef FFTW _fftw
    cdef fftw_exe _exe

    cdef void execute(self, void* src, void* dst) noexcept nogil


cdef void* aligned_alloc(size_t nbytes) noexcept nogil
cdef void aligned_free(void* ptr) noexcept nogil
