# The per-frame spectral kernel shared by the offline functions and the streams.
cimport numpy as cnp
from fastmel._plan cimport RealPlan

# What a kernel writes for each frame.
cdef enum:
    OUT_COMPLEX = 0   # the r2c spectrum, n_bins complex values
    OUT_MEL = 1       # mel energies, n_mels values
    OUT_MEL_DB = 2    # mel energies in dB, n_mels values
    OUT_MFCC = 3      # cepstra of the dB mel energies, n_mfcc values

# Frames go through the mel projection this many at a time, one SIMD lane each
# (fastmel_minmax_lanes_* in fastmel_db.h are written for 16).
cdef enum:
    BLOCK = 16

# Status of SpectralKernel.frames and run_offline: a mel value was not finite.
cdef enum:
    NONFINITE = 1


cdef struct Workspace:
    void* fft_in
    void* fft_out
    void* pblock
    void* mblock
    # With track set (OUT_MEL_DB only), frames() folds the smallest and the
    # largest value it writes into ext (the offline top_db floor's extremes).
    bint track
    double ext[2]


cdef class SpectralKernel:
    cdef readonly int mode
    cdef readonly bint is_double
    cdef readonly Py_ssize_t n_fft
    cdef readonly Py_ssize_t n_bins
    cdef Py_ssize_t spec_stride
    cdef readonly Py_ssize_t n_out
    cdef readonly Py_ssize_t n_mels
    cdef Py_ssize_t win_off
    cdef Py_ssize_t win_len
    cdef double power
    cdef int power_kind
    cdef double amin
    cdef double db_offset
    cdef readonly double max_amplitude
    cdef RealPlan plan
    # numpy arrays owning the memory behind the pointers below
    cdef object _window
    cdef object _mel_lo
    cdef object _mel_len
    cdef object _mel_woff
    cdef object _mel_w
    cdef object _mel_runs
    cdef object _mel_span
    cdef object _dct
    cdef const void* window
    cdef const Py_ssize_t* mel_lo
    cdef const Py_ssize_t* mel_len
    cdef const Py_ssize_t* mel_woff
    cdef const Py_ssize_t* mel_runs
    cdef Py_ssize_t n_mel_runs
    cdef const Py_ssize_t* mel_span
    cdef Py_ssize_t rows_stride
    cdef const void* mel_w
    cdef const void* dct

    cdef int workspace_init(self, Workspace* ws) noexcept nogil
    cdef void workspace_free(self, Workspace* ws) noexcept nogil
    # One spare workspace an offline call takes and gives back (see take/give)
    cdef Workspace spare
    cdef int spare_state
    cdef int workspace_take(self, Workspace* ws) noexcept nogil
    cdef void workspace_give(self, Workspace* ws) noexcept nogil
    cdef Py_ssize_t _pblock_size(self) noexcept nogil
    cdef Py_ssize_t _mel_scratch_at(self) noexcept nogil
    cdef int frames(self, Workspace* ws, const void** src, const Py_ssize_t* stride,
                    Py_ssize_t nb, void* out, Py_ssize_t row_stride,
                    Py_ssize_t col_stride) noexcept nogil
