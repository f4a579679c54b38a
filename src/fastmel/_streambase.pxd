# The stream base: the streaming protocol, written once (see _streambase.pyx).
cimport numpy as cnp

cdef enum:
    MAX_LEAD_ND = 32                  # leading dimensions of a stream's chunks


# The sample types engines compute in.
ctypedef fused real:
    float
    double


cdef struct Chunk:
    # A checked chunk as an engine reads it: n_ch rows of k samples in the
    # stream's dtype, strides in elements (xs_ch is 0 for a single row).
    const char* data
    Py_ssize_t k
    Py_ssize_t xs_ch
    Py_ssize_t xs


cdef class Stream:
    # Set by the engine when it is made
    cdef Py_ssize_t lag                # latency, in samples
    cdef Py_ssize_t n_out              # values per frame (frame stages); 0: sample stages
    cdef bint frames_in                # chunks are frames (..., n_features, j), not samples
    cdef bint frames_out               # the output is frames (a frame stage, or frames in)
    cdef Py_ssize_t hop                # input items per output item (frame stages: samples)
    cdef object fixed_dtype            # the working dtype, or None: the first chunk's
    cdef double bound                  # largest |sample| accepted (inf: finite is enough)
    cdef bint is_complex               # chunks are complex (fixed_dtype complex64/128), e.g. spectra
    cdef object maker                  # () -> a fresh stream of this configuration
    cdef object label                  # the configuration, as repr shows it
    # The protocol's state
    cdef object lead_shape             # None until the first chunk
    cdef int lead_nd
    cdef cnp.npy_intp dims[MAX_LEAD_ND + 2]   # lead, then the output's trailing dims
    cdef Py_ssize_t n_ch
    cdef object work_dtype             # the stream's dtype once fed
    cdef int typenum
    cdef object out_dtype
    cdef int out_typenum
    cdef Py_ssize_t item
    cdef long long n_in                # samples (frames) per channel since the start
                                       # (engines advance it)
    cdef int busy                      # the in-use flag
    cdef int undo_mode
    cdef long long undo_n_in

    # For the engines
    cdef cnp.ndarray new_out(self, Py_ssize_t n)
    # The engine's part (see the class docstring)
    cdef object engine_dtype(self, object dtype)
    cdef int engine_start(self) except -1
    cdef void engine_stop(self) noexcept
    cdef object engine_run(self, cnp.ndarray x, const Chunk* c)
    cdef object engine_tail(self)
    cdef object engine_get(self)
    cdef int engine_set(self, object state) except -1
    cdef int engine_save(self, Py_ssize_t k) except -1
    cdef int engine_undo(self) except -1
    # The protocol
    cdef str unit(self)
    cdef object entry(self, int what, object arg, bint keep)
    cdef object get_state(self)
    cdef int set_state(self, object state) except -1
    cdef int begin(self, tuple lead, object dtype) except -1
    cdef void clear(self) noexcept
    cdef bint scan(self, cnp.ndarray x)
    cdef bint scan_rows(self, const void* p, bint is_double, Py_ssize_t xs_ch, Py_ssize_t k,
                        Py_ssize_t xs) noexcept nogil
    cdef tuple convert(self, object chunk)
    cdef object step(self, cnp.ndarray x, object lead, bint keep)
    cdef object feed(self, object chunk, bint keep, bint scanned)
    cdef object owed(self)
    cdef int restart(self) except -1
    cdef object rebuilder(self)
    cdef int rollback(self) except -1


cdef int raise_in_use(object stream) except -1


cdef inline int enter(int* busy, object stream) except -1:
    """Mark a stream in use, or raise if another thread is inside it.

    The test and the set run under the GIL with nothing in between that could
    release it, so two threads can never both pass; ``leave`` must follow in a
    ``finally``.
    """
    if busy[0]:
        raise_in_use(stream)
    busy[0] = 1
    return 0


cdef inline void leave(int* busy) noexcept:
    busy[0] = 0
