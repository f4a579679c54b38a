# The stream base: what every streaming stage shares (see _streambase.pyx).

cdef enum:
    MAX_LEAD_ND = 32                  # leading dimensions of a stream's chunks

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


cdef class InUse:
    cdef int busy
    cdef object stream
