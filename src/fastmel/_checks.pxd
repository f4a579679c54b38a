# Input checks (see _checks.pyx): the C-level scans the streams use.
cimport numpy as cnp

cdef bint finite_rows(const void* x, bint is_double, Py_ssize_t rows, Py_ssize_t row_stride,
                      Py_ssize_t n, Py_ssize_t stride) noexcept nogil

cdef bint within_rows(const void* x, bint is_double, Py_ssize_t rows, Py_ssize_t row_stride,
                      Py_ssize_t n, Py_ssize_t stride, double limit) noexcept nogil

cdef bint readable_as_is(object chunk, int typenum, int lead_nd,
                         const cnp.npy_intp* dims) noexcept
