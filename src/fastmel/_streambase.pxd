# The stream base: the streaming protocol, written once (see _streambase.pyx).
cimport numpy as cnp
from libc.string cimport memcpy, memmove

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


# A sample engine's input buffer: n_ch rows of cap items of `item` bytes each,
# row c at base + c * cap * item.  Shared by the engines that keep one.

cdef inline void rows_append(char* base, Py_ssize_t cap, Py_ssize_t n_ch, Py_ssize_t item,
                             Py_ssize_t at, const char* src, Py_ssize_t xs_ch, Py_ssize_t xs,
                             Py_ssize_t m) noexcept nogil:
    """Copy m samples per row from src (rows xs_ch, samples xs elements apart)
    to position ``at`` of each buffer row."""
    cdef Py_ssize_t c, i
    cdef char* dst
    cdef const char* s
    for c in range(n_ch):
        dst = base + (c * cap + at) * item
        s = src + c * xs_ch * item
        if xs == 1:
            memcpy(dst, s, m * item)
        elif item == 8:
            for i in range(m):
                (<double*>dst)[i] = (<const double*>s)[i * xs]
        else:
            for i in range(m):
                (<float*>dst)[i] = (<const float*>s)[i * xs]


cdef inline void rows_drop(char* base, Py_ssize_t cap, Py_ssize_t n_ch, Py_ssize_t item,
                           Py_ssize_t length, Py_ssize_t shift) noexcept nogil:
    """Drop the first ``shift`` of the ``length`` samples of each buffer row."""
    cdef Py_ssize_t c
    for c in range(n_ch):
        memmove(base + c * cap * item, base + (c * cap + shift) * item, (length - shift) * item)


cdef struct Target:
    # Where an engine writes output item j of value r for channel ch (strides
    # in elements of the output dtype): data + ch * ch_stride + r * row + j * col
    char* data
    Py_ssize_t item                    # bytes per element
    Py_ssize_t ch_stride
    Py_ssize_t row
    Py_ssize_t col


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
    cdef object into                   # process_into's out, for new_out (exact fit)

    # For the engines
    cdef cnp.ndarray new_out(self, Py_ssize_t n)
    # The engine's part (see the class docstring)
    cdef object engine_dtype(self, object dtype)
    cdef int engine_start(self) except -1
    cdef void engine_stop(self) noexcept
    cdef object engine_run(self, cnp.ndarray x, const Chunk* c)
    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2
    cdef object engine_out_lead(self, tuple lead)
    cdef Py_ssize_t engine_run_into(self, cnp.ndarray x, const Chunk* c,
                                    const Target* t) except -2
    cdef object engine_tail(self)
    cdef object engine_get(self)
    cdef int engine_set(self, object state) except -1
    cdef int engine_save(self, Py_ssize_t k) except -1
    cdef int engine_undo(self) except -1
    # The protocol
    cdef str unit(self)
    cdef str unit_out(self)
    cdef int check_room(self, Py_ssize_t k) except -1
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
    cdef Py_ssize_t step_into(self, cnp.ndarray x, object lead, object out) except -1
    cdef Py_ssize_t check_out(self, object out, Target* t, cnp.ndarray x) except -1
    cdef object feed(self, object chunk, bint keep, bint scanned, bint into=*, object out=*)
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
