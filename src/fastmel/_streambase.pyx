"""The stream base: the streaming protocol, written once.

:class:`Stream` owns everything a streaming stage shares, and each stage is an
engine plugged into it (kaldi-native-fbank's OnlineGenericBaseFeature<Computer>
is the model for the split):

* The leading-shape contract: the first chunk fixes the leading shape (and,
  for stages without a working dtype of their own, the dtype); later chunks
  must match, or are converted as the offline calls convert.  Time is the
  last axis: samples (..., k) for most stages; a stage that takes frames
  (``frames_in``: a delta stream after a feature stream) takes (...,
  n_features, j), its leading shape ending in the features, and counts frames
  where the others count samples.
* Acceptance: a fast path for arrays that need no conversion (one scan for
  finite samples, within ``bound`` when the engine has one) and a slow path
  (:func:`fastmel._checks.stream_chunk`) that converts exactly as the offline
  calls do; a first chunk of samples that looks transposed is refused.  Everything is
  checked before any state changes.  An engine that sets ``is_complex`` (and
  a complex ``fixed_dtype``) takes complex chunks instead, each real and
  imaginary part scanned as a sample; the layout rule is then the engine's.
* ``flush``/``reset``: a flush returns what the engine still owes and starts
  afresh; a stream never fed returns an empty result shaped as for a
  one-channel signal.  A call that raises leaves the stream as it was.
* ``latency``, pickling (the stream's maker plus its state, every field of
  which is checked on load: pickles are untrusted), ``repr``, and readable
  ``lead``, ``dtype`` and ``samples_in``.
* Safety: one in-use flag per stream (``enter``/``leave``), so a second
  thread gets a RuntimeError instead of sharing the stream's buffers; and a
  checkpoint of one call (``_feed(chunk, keep=True)``/``_rollback``), what
  makes a Chain atomic.

An engine (a cdef subclass) implements ``engine_*``: ``engine_start``
allocates its state for ``n_ch`` channels of ``work_dtype`` (zeroed);
``engine_run`` takes a checked chunk, writes its output into an array from
``new_out`` and advances ``n_in`` by the chunk's length, raising with its
state unchanged if it must refuse the chunk; ``engine_tail`` returns what
``flush`` owes (and raises leaving the state unchanged); ``engine_get`` /
``engine_set`` save and restore (and check) its state; ``engine_save`` /
``engine_undo`` keep and put back what the next ``engine_run`` of k samples
overwrites.  The engine's loops run without the GIL on the buffers this base
has checked.

Compiled, and importing only the compiled input checks: this module sits
below every Python-layer module.
"""
import operator

import numpy as np

cimport numpy as cnp
from cpython.object cimport PyTypeObject
from cpython.ref cimport Py_INCREF
from libc.math cimport INFINITY

from fastmel._checks cimport finite_rows, readable_as_is, within_rows
from fastmel._checks import ParameterError, check_stream_layout, stream_chunk

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    PyTypeObject PyArray_Type
    # (steals a reference to descr)
    object PyArray_NewFromDescr(PyTypeObject* subtype, cnp.dtype descr, int nd,
                                const cnp.npy_intp* dims, const cnp.npy_intp* strides,
                                void* data, int flags, void* obj)

# Samples per channel a stream takes in (centuries of audio), so no position
# arithmetic can overflow.
MAX_SAMPLES = 2 ** 50
cdef long long max_samples = MAX_SAMPLES

# Chunks of fewer samples are scanned holding the GIL (releasing it costs more).
cdef enum:
    SCAN_NOGIL = 1 << 14

cdef enum:
    # the public entries (Stream.entry)
    PROCESS, FEED, ROLLBACK, FLUSH, RESET, REDUCE, SET_STATE

cdef enum:
    UNDO_NONE = 0
    UNDO_FRESH = 1      # the stream had no input: taking back is a reset
    UNDO_ENGINE = 2     # the engine kept what the call overwrites


cdef class Stream:
    """The streaming protocol (see the module docstring); engines subclass it."""

    def __cinit__(self, *args, **kwargs):
        self.bound = INFINITY
        self.lead_shape = None
        self.typenum = -1
        self.out_typenum = -1
        self.hop = 1

    # -- readable attributes ------------------------------------------------

    @property
    def latency(self):
        """Samples (frames, for a stage that takes frames) after an output's own
        input sample that must arrive before it is returned, at most."""
        return int(self.lag)

    @property
    def lead(self):
        """The leading shape fixed by the first chunk, or None before it."""
        return self.lead_shape

    @property
    def dtype(self):
        """The stream's dtype: its working dtype, else the first chunk's (None before it)."""
        return self.work_dtype if self.lead_shape is not None else self.fixed_dtype

    @property
    def samples_in(self):
        """Samples (frames, for a stage that takes frames) per channel taken in
        since the stream started (or was reset)."""
        return int(self.n_in)

    def __repr__(self):
        label = self.label if self.label is not None else type(self).__name__
        if self.lead_shape is None:
            return label
        return (f"<{label} after {self.n_in} {self.unit()} of leading shape {self.lead_shape}, "
                f"{self.work_dtype}>")

    def stream(self):
        """A new stream of this configuration, at rest."""
        return self.maker()

    cdef str unit(self):
        # what samples_in counts: frames for stages that take frames or spectra
        return "frames" if self.frames_in or self.is_complex else "samples"

    def _bind(self, maker, label):
        """For the stage's constructor: ``maker()`` makes a fresh stream of this
        configuration (``stream()``, unpickling), ``label`` is how repr names it."""
        self.maker = maker
        self.label = label

    # -- the protocol -------------------------------------------------------

    def process(self, chunk):
        """Feed a chunk [shape=(..., k)], any k >= 0; returns the output it completes.

        Sample stages return (..., k) samples, frame stages the frames
        completed, (..., n_out, j); stages that take frames (..., n_features,
        k) return frames (..., n_features, j).  The first chunk fixes the
        leading shape.

        Parameters
        ----------
        chunk : np.ndarray [shape=(..., k)]
            The next k samples (or frames, for a stage that takes frames),
            real float (complex for a stream of spectra).

        Returns
        -------
        np.ndarray
            The output this chunk completes (as above); it may be empty along
            the last axis.

        Raises
        ------
        ParameterError
            Another leading shape, non-finite samples (or beyond the stage's
            amplitude bound), a first chunk that looks transposed, or a chunk
            the stage must refuse (an overflow); the stream is unchanged.
        TypeError
            Integer, boolean or complex samples (real ones, for a stream of
            spectra); the stream is unchanged.
        RuntimeError
            Another thread is inside this stream.
        """
        return self.entry(PROCESS, chunk, False)

    def process_into(self, chunk, out):
        """Feed a chunk [shape=(..., k)] and write the output it completes into ``out``.

        The allocation-free ``process``, for real-time loops: nothing is
        allocated per call.  ``out`` has the shape of ``process``'s output
        with room on the last axis, (..., m) or (..., n_out, m) for any
        m >= ``output_length(k)``; the output goes to ``out[..., :n]`` and the
        rest of ``out`` is left as it was.  It may be a view, e.g. a window
        into a ring buffer of frames (``out=ring[:, w:]``).

        Parameters
        ----------
        chunk : np.ndarray [shape=(..., k)]
            As for ``process``.
        out : np.ndarray
            Writable, of this stream's output dtype (``dtype``, or complex for
            a complex STFT), with the leading shape of the chunks.

        Returns
        -------
        n : int
            How many samples (frames) were written: the length of the last
            axis of what ``process`` would have returned.

        Raises
        ------
        ParameterError
            As for ``process``; or ``out`` has another shape, no room for the
            n items or is read-only.  The stream is unchanged, and so is
            ``out``, except after a chunk the stage refuses once computed (an
            overflow): then ``out[..., :n]`` may hold partial output.
        TypeError
            As for ``process``; or ``out`` is not a numpy array of the output
            dtype, or this stage cannot tell its output length in advance (a
            chain holding a stage that is not a fastmel stream).
        RuntimeError
            Another thread is inside this stream.
        """
        enter(&self.busy, self)
        try:
            return self.feed(chunk, False, False, True, out)
        finally:
            leave(&self.busy)

    def output_length(self, k):
        """The length of the last axis of what ``process`` returns for a chunk of
        k samples (frames, for a stage that takes frames) now: the room
        ``process_into`` needs.

        Parameters
        ----------
        k : int
            The chunk's length (its last axis), >= 0.

        Returns
        -------
        n : int
            Samples (frames) that ``process`` of such a chunk would return.

        Raises
        ------
        ParameterError
            k is negative or more than a stream can count.
        TypeError
            k is not an integer, or this stage cannot tell (see ``process_into``).
        """
        k = _index(k, "k")
        if not 0 <= k <= max_samples:
            raise ParameterError(f"k must be an integer in [0, {MAX_SAMPLES}], got {k}")
        n = self.engine_count(k)
        if n < 0:
            raise _cannot_count(self)
        return n

    def _feed(self, chunk, bint keep=False):
        """``process`` for a chunk that is already checked (a Chain's): an array
        in this stream's layout and dtype skips the scan for finite samples
        (not the engine's amplitude bound); anything else takes the full path.
        With ``keep``, the call can be taken back by ``_rollback``."""
        return self.entry(FEED, chunk, keep)

    def _rollback(self):
        """Take back the ``_feed(..., keep=True)`` call since the last one (once)."""
        self.entry(ROLLBACK, None, False)

    def flush(self):
        """End of stream: returns what the stage still owes, then starts afresh.

        Concatenated after every ``process`` output, it completes the offline
        result for the whole signal.  A stream that received no chunk at all
        (its leading shape is unknown) returns an empty result shaped as for
        a one-channel signal: (0,) samples or (n_out, 0) frames.

        Raises
        ------
        ParameterError
            What the stage owes cannot be computed (the offline call raises
            for the same signal, or it overflows); the stream is unchanged.
        RuntimeError
            Another thread is inside this stream.
        """
        return self.entry(FLUSH, None, False)

    def reset(self):
        """Back to the state of a new stream (plans and prepared filters are kept)."""
        self.entry(RESET, None, False)

    def __reduce__(self):
        return self.entry(REDUCE, None, False)

    def _set_state(self, state):
        """Install a state made by ``__reduce__``.  It may come from a tampered
        pickle: every field is checked (here the protocol's, in engine_set the
        engine's) before anything is indexed; a bad one raises ValueError and
        leaves the stream new."""
        self.entry(SET_STATE, state, False)

    cdef object entry(self, int what, object arg, bint keep):
        """Every public entry, inside the in-use flag (taken once, here)."""
        enter(&self.busy, self)
        try:
            if what == PROCESS:
                return self.feed(arg, False, False)
            if what == FEED:
                return self.feed(arg, keep, True)
            if what == ROLLBACK:
                return self.rollback()
            if what == FLUSH:
                out = self.owed()
                self.clear()
                return out
            if what == RESET:
                return self.restart()
            if what == REDUCE:
                return (_restore, (self.rebuilder(), self.get_state()))
            return self.set_state(arg)
        finally:
            leave(&self.busy)

    cdef object get_state(self):
        """The state pickling saves: None at rest, else the protocol's fields and
        the engine's."""
        if self.lead_shape is None:
            return None
        return (self.lead_shape, self.work_dtype.str, self.n_in, self.engine_get())

    cdef int set_state(self, object state) except -1:
        self.clear()
        if state is None:
            return 0
        lead, dtype, n_in, engine = check_state_tuple(state, "state", 4)
        lead = check_state_lead(lead)
        allowed = [self.fixed_dtype] if self.fixed_dtype is not None else [np.float32,
                                                                            np.float64]
        dtype = check_state_dtype(dtype, "dtype", allowed)
        n_in = check_state_int(n_in, "n_in", 0, MAX_SAMPLES)
        n_ch = 1
        for d in lead:
            n_ch *= d
        if n_ch > 2 ** 40:
            raise _bad("lead", "a leading shape of at most 2**40 channels", lead)
        self.begin(lead, dtype)
        try:
            self.n_in = n_in
            self.engine_set(engine)
        except BaseException:
            self.clear()
            raise
        return 0

    # -- the protocol's parts -----------------------------------------------

    cdef bint scan(self, cnp.ndarray x):
        """Whether a chunk on the fast path is finite (and within ``bound``)."""
        # complex values are scanned as their real and imaginary parts
        cdef Py_ssize_t item = self.item // 2 if self.is_complex else self.item
        cdef Py_ssize_t xs = cnp.PyArray_STRIDE(x, x.ndim - 1) // item
        cdef Py_ssize_t xs_ch = cnp.PyArray_STRIDE(x, 0) // item if x.ndim == 2 else 0
        cdef Py_ssize_t k = cnp.PyArray_DIM(x, x.ndim - 1)
        cdef const char* p = <const char*>cnp.PyArray_DATA(x)
        cdef bint is_double = item == 8, both = False
        if self.is_complex:
            if xs == 2:                          # contiguous: one run of parts
                k, xs = 2 * k, 1
            else:
                both = True
        if self.n_ch * k >= SCAN_NOGIL:
            with nogil:
                return (self.scan_rows(p, is_double, xs_ch, k, xs)
                        and (not both or self.scan_rows(p + item, is_double, xs_ch, k, xs)))
        return (self.scan_rows(p, is_double, xs_ch, k, xs)
                and (not both or self.scan_rows(p + item, is_double, xs_ch, k, xs)))

    cdef bint scan_rows(self, const void* p, bint is_double, Py_ssize_t xs_ch, Py_ssize_t k,
                        Py_ssize_t xs) noexcept nogil:
        if self.bound == INFINITY:
            return finite_rows(p, is_double, self.n_ch, xs_ch, k, xs)
        return within_rows(p, is_double, self.n_ch, xs_ch, k, xs, self.bound)

    cdef tuple convert(self, object chunk):
        """The slow path: ``chunk`` checked and converted as the offline calls
        do, as ((channels, k) array, leading shape)."""
        fed = self.lead_shape is not None
        x, lead = stream_chunk(chunk, self.lead_shape,
                               self.work_dtype if fed else self.fixed_dtype,
                               None if self.bound == INFINITY else self.bound, self.is_complex)
        # frames are short along time by nature; spectra: the engine checks its bins
        if not fed and not self.frames_in and not self.is_complex:
            check_stream_layout(lead + (x.shape[-1],))
        return x, lead

    cdef object feed(self, object chunk, bint keep, bint scanned, bint into=False,
                     object out=None):
        """Accept ``chunk`` and run the engine on it; with ``scanned``, its samples
        are known to be finite (a Chain's stage: the output of a stage before),
        so an array that needs no conversion skips that scan (not the engine's
        amplitude bound).  With ``into``, the output goes into ``out``
        (``process_into``) and the count is returned."""
        cdef cnp.ndarray x
        lead = None
        if self.lead_shape is not None and readable_as_is(chunk, self.typenum, self.lead_nd,
                                                          self.dims):
            x = <cnp.ndarray>chunk
            if (not scanned or self.bound != INFINITY) and not self.scan(x):
                self.convert(chunk)              # raises the precise error
        else:
            x, lead = self.convert(chunk)
        if into:
            return self.step_into(x, lead, out)
        return self.step(x, lead, keep)

    cdef object owed(self):
        """What ``flush`` returns: the engine's tail, or for a stream never fed
        an empty result shaped as for one channel."""
        if self.lead_shape is not None:
            return self.engine_tail()
        dtype = self.engine_dtype(self.fixed_dtype if self.fixed_dtype is not None
                                  else np.dtype(np.float32))
        return np.empty(((self.n_out,) if self.n_out else ()) + (0,), dtype=dtype)

    cdef int restart(self) except -1:
        """What ``reset`` does."""
        self.clear()
        return 0

    cdef object rebuilder(self):
        """What unpickling calls to get the stream a pickled state goes into: by
        default the maker (a fresh stream of this configuration)."""
        return self.maker

    cdef object step(self, cnp.ndarray x, object lead, bint keep):
        """Run the engine on an accepted chunk (``lead``: the first chunk's)."""
        cdef Chunk c
        cdef bint first = self.lead_shape is None
        cdef Py_ssize_t k = cnp.PyArray_DIM(x, x.ndim - 1)
        self.check_room(k)
        if first:
            self.begin(lead, x.dtype)
        if keep:
            # a first call is taken back by clearing, after the engine has
            # undone what reaches beyond it (a chain's stages)
            self.engine_save(k)
            self.undo_n_in = self.n_in
            self.undo_mode = UNDO_FRESH if first else UNDO_ENGINE
        c.data = <const char*>cnp.PyArray_DATA(x)
        c.k = k
        c.xs = cnp.PyArray_STRIDE(x, x.ndim - 1) // self.item
        c.xs_ch = cnp.PyArray_STRIDE(x, 0) // self.item if x.ndim == 2 else 0
        if not first:
            return self.engine_run(x, &c)
        try:
            return self.engine_run(x, &c)
        except BaseException:
            self.clear()                         # a refused first chunk leaves it new
            raise

    cdef Py_ssize_t step_into(self, cnp.ndarray x, object lead, object out) except -1:
        """``step`` for ``process_into``: run the engine on an accepted chunk, its
        output written into ``out``; how many items it wrote."""
        cdef Chunk c
        cdef Target t
        cdef bint first = self.lead_shape is None
        cdef Py_ssize_t k = cnp.PyArray_DIM(x, x.ndim - 1), n, m, got
        cdef cnp.ndarray y
        self.check_room(k)
        if first:
            self.begin(lead, x.dtype)
        try:
            n = self.engine_count(k)
            if n < 0:
                raise _cannot_count(self)
            m = self.check_out(out, &t, x)
            if n > m:
                raise ParameterError(
                    f"out has room for {m} {self.unit_out()} on its last axis; this chunk of "
                    f"{k} completes {n} (output_length(k) tells before the call)")
            c.data = <const char*>cnp.PyArray_DATA(x)
            c.k = k
            c.xs = cnp.PyArray_STRIDE(x, x.ndim - 1) // self.item
            c.xs_ch = cnp.PyArray_STRIDE(x, 0) // self.item if x.ndim == 2 else 0
            if t.data != NULL:
                got = self.engine_run_into(x, &c, &t)
                if got >= 0:
                    return got
                if m == n and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>out):
                    # an exact fit: the engine's new_out hands it ``out`` itself
                    self.into = out
            try:
                y = self.engine_run(x, &c)
            finally:
                self.into = None
            if y is not out and n:
                out[..., :n] = y
            return n
        except BaseException:
            if first:
                self.clear()                     # a refused first chunk leaves it new
            raise

    cdef int check_room(self, Py_ssize_t k) except -1:
        if self.n_in + k > max_samples:
            raise ParameterError(
                f"this stream has taken in {self.n_in} {self.unit()}; {k} more would pass the "
                f"{MAX_SAMPLES} a stream can count (reset() it)")
        return 0

    cdef str unit_out(self):
        return "frames" if self.frames_out else "samples"

    cdef Py_ssize_t check_out(self, object out, Target* t, cnp.ndarray x) except -1:
        """Check ``process_into``'s ``out`` against the stream; its room m (the
        last axis).  ``t`` gets where to write when the engine may write
        straight into it (t.data NULL: through a copy): aligned, strides in
        whole non-negative elements, its channels evenly spaced, and no byte
        shared with the chunk ``x``."""
        cdef cnp.ndarray o
        cdef int nd, i, lead_nd = self.lead_nd
        cdef Py_ssize_t item, s, span = 1, ch = -1
        t.data = NULL
        if not cnp.PyArray_Check(out):
            raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
        o = <cnp.ndarray>out
        if cnp.PyArray_TYPE(o) != self.out_typenum or not cnp.PyArray_ISNOTSWAPPED(o):
            raise TypeError(f"out must be {self.out_dtype} (this stream's output), got "
                            f"{out.dtype}")
        want = self.engine_out_lead(self.lead_shape)
        nd = lead_nd + (2 if self.n_out else 1)
        if want is None:
            ok = cnp.PyArray_NDIM(o) == nd
            for i in range(lead_nd):
                ok = ok and cnp.PyArray_DIM(o, i) == self.dims[i]
            if self.n_out:
                ok = ok and cnp.PyArray_DIM(o, lead_nd) == self.n_out
        else:
            ok = out.shape[:-1] == want and cnp.PyArray_NDIM(o) > 0
        if not ok:
            if want is None:
                want = self.lead_shape + ((self.n_out,) if self.n_out else ())
            raise ParameterError(f"out must have shape {want + ('m',)} with room m on its "
                                 f"last axis, got {out.shape}")
        if not cnp.PyArray_ISWRITEABLE(o):
            raise ParameterError("out is read-only")
        if want is not None:
            # another layout than (lead..., [n_out,] n): through a copy
            return cnp.PyArray_DIM(o, cnp.PyArray_NDIM(o) - 1)
        item = cnp.PyArray_ITEMSIZE(o)
        if not cnp.PyArray_ISALIGNED(o) or _overlap(o, x):
            return cnp.PyArray_DIM(o, nd - 1)
        for i in range(nd):
            s = cnp.PyArray_STRIDE(o, i)
            if s < 0 or s % item:
                return cnp.PyArray_DIM(o, nd - 1)
        # the channels (the leading axes, flattened) evenly spaced
        for i in range(lead_nd - 1, -1, -1):
            if self.dims[i] == 1:
                continue
            s = cnp.PyArray_STRIDE(o, i) // item
            if ch < 0:
                ch = s
            elif s != ch * span:
                return cnp.PyArray_DIM(o, nd - 1)
            span *= self.dims[i]
        t.data = <char*>cnp.PyArray_DATA(o)
        t.item = item
        t.ch_stride = ch if ch > 0 else 0
        t.row = cnp.PyArray_STRIDE(o, lead_nd) // item if self.n_out else 0
        t.col = cnp.PyArray_STRIDE(o, nd - 1) // item
        return cnp.PyArray_DIM(o, nd - 1)

    cdef int rollback(self) except -1:
        if self.undo_mode != UNDO_NONE and self.lead_shape is not None:
            self.n_in = self.undo_n_in
            self.engine_undo()
            if self.undo_mode == UNDO_FRESH:
                self.clear()
        self.undo_mode = UNDO_NONE
        return 0

    cdef int begin(self, tuple lead, object dtype) except -1:
        """Fix the leading shape and dtype; the engine allocates its state."""
        cdef int i
        if len(lead) > MAX_LEAD_ND:
            raise ParameterError(f"chunk has too many dimensions ({len(lead) + 1}); "
                                 f"at most {MAX_LEAD_ND + 1}")
        n_ch = 1
        for i, d in enumerate(lead):
            self.dims[i] = d
            n_ch *= d
        self.lead_shape = lead
        self.lead_nd = len(lead)
        self.n_ch = n_ch
        self.work_dtype = np.dtype(dtype)
        self.typenum = self.work_dtype.num
        self.item = self.work_dtype.itemsize
        self.out_dtype = np.dtype(self.engine_dtype(self.work_dtype))   # new_out relies on it
        self.out_typenum = self.out_dtype.num
        self.n_in = 0
        try:
            self.engine_start()
        except BaseException:
            self.clear()
            raise
        return 0

    cdef void clear(self) noexcept:
        self.engine_stop()
        self.lead_shape = None
        self.lead_nd = 0
        self.n_ch = 0
        self.work_dtype = None
        self.typenum = -1
        self.out_typenum = -1
        self.n_in = 0
        self.undo_mode = UNDO_NONE

    cdef cnp.ndarray new_out(self, Py_ssize_t n):
        """An output for n samples (or frames): (..., n), or (..., n_out, n)."""
        # The dtype object at hand spares numpy a lookup by type number (a
        # stream's one-frame calls make an output each).
        cdef cnp.dtype descr = <cnp.dtype>self.out_dtype
        cdef int nd = self.lead_nd + 1
        if self.into is not None and cnp.PyArray_DIM(<cnp.ndarray>self.into,
                                                     cnp.PyArray_NDIM(<cnp.ndarray>self.into) - 1) == n:
            out, self.into = self.into, None
            return <cnp.ndarray>out
        if self.n_out:
            self.dims[self.lead_nd] = self.n_out
            nd += 1
        self.dims[nd - 1] = n
        Py_INCREF(descr)
        return PyArray_NewFromDescr(&PyArray_Type, descr, nd, self.dims, NULL, NULL, 0, NULL)

    # -- the engine's part (overridden) -------------------------------------

    cdef object engine_dtype(self, object dtype):
        """The output's dtype for input of ``dtype``."""
        return dtype

    cdef int engine_start(self) except -1:
        return 0

    cdef void engine_stop(self) noexcept:
        pass

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        raise NotImplementedError

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        """The length of the output's last axis for a chunk of k now (before any
        state changes), or -1: this engine cannot tell (``process_into`` is
        then refused)."""
        return -1

    cdef object engine_out_lead(self, tuple lead):
        """The output's shape but its last axis, for chunks of leading shape
        ``lead``; None: the usual ``lead`` (then ``n_out`` when set)."""
        return None

    cdef Py_ssize_t engine_run_into(self, cnp.ndarray x, const Chunk* c,
                                    const Target* t) except -2:
        """``engine_run`` writing into ``t`` (room checked); the count, or -1:
        this engine writes through ``new_out`` (the base copies)."""
        return -1

    cdef object engine_tail(self):
        return self.new_out(0)

    cdef object engine_get(self):
        return None

    cdef int engine_set(self, object state) except -1:
        if state is not None:
            raise _bad("engine state", "None", state)
        return 0

    cdef int engine_save(self, Py_ssize_t k) except -1:
        return 0

    cdef int engine_undo(self) except -1:
        return 0


cdef inline bint _overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    """Whether the bytes a and b span (first to last element) intersect."""
    cdef Py_ssize_t alo, ahi, blo, bhi
    if not _span(a, &alo, &ahi) or not _span(b, &blo, &bhi):
        return False
    return alo < bhi and blo < ahi


cdef inline bint _span(cnp.ndarray a, Py_ssize_t* lo, Py_ssize_t* hi) noexcept:
    cdef int i
    cdef Py_ssize_t d, s
    lo[0] = hi[0] = <Py_ssize_t>cnp.PyArray_DATA(a)
    for i in range(cnp.PyArray_NDIM(a)):
        d = cnp.PyArray_DIM(a, i)
        if d == 0:
            return False
        s = cnp.PyArray_STRIDE(a, i) * (d - 1)
        if s < 0:
            lo[0] += s
        else:
            hi[0] += s
    hi[0] += cnp.PyArray_ITEMSIZE(a)
    return True


def _index(value, name):
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}") from None


def _cannot_count(stream):
    return TypeError(f"{type(stream).__name__} cannot tell its output length before a call "
                     f"(a stage that is not a fastmel stream); use process()")


def _restore(maker, state):
    """A stream from a pickle: a fresh one from its maker, then its state (checked)."""
    stream = maker()
    if not isinstance(stream, Stream):
        raise ValueError(f"fastmel: restored stream state: the maker gave a "
                         f"{type(stream).__name__}, not a stream")
    stream._set_state(state)
    return stream


cdef int raise_in_use(object stream) except -1:
    name = type(stream).__name__
    raise RuntimeError(
        f"this {name} is in use by another thread; give each thread its own stream "
        f"(stream() / copy.deepcopy)")


def _bad(name, what, value):
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return ValueError(f"fastmel: restored stream state: {name} must be {what}, got {text}")


def check_state_int(value, name, lo, hi):
    """``value`` as an int in [lo, hi]; a bool or non-integer raises ValueError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise _bad(name, f"an integer in [{lo}, {hi}]", value)
    value = int(value)
    if not lo <= value <= hi:
        raise _bad(name, f"an integer in [{lo}, {hi}]", value)
    return value


def check_state_bool(value, name):
    """``value`` as a bool (True, False, or numpy's)."""
    if not isinstance(value, (bool, np.bool_)):
        raise _bad(name, "True or False", value)
    return bool(value)


def check_state_float(value, name, lo, hi):
    """``value`` as a float in [lo, hi] (NaN is refused; the bounds may be infinite)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                    np.floating)):
        raise _bad(name, f"a number in [{lo}, {hi}]", value)
    value = float(value)
    if not lo <= value <= hi:
        raise _bad(name, f"a number in [{lo}, {hi}]", value)
    return value


def check_state_lead(value, name="lead"):
    """A leading shape: a tuple of at most MAX_LEAD_ND non-negative ints."""
    if not isinstance(value, tuple) or len(value) > MAX_LEAD_ND:
        raise _bad(name, f"a tuple of at most {MAX_LEAD_ND} sizes", value)
    return tuple(check_state_int(d, f"{name}[{i}]", 0, 2 ** 62) for i, d in enumerate(value))


def check_state_array(value, name, shape, dtype, finite=True):
    """``value`` as an ndarray of exactly ``dtype`` and ``shape`` (None: any
    length on that axis), all finite unless told otherwise."""
    dtype = np.dtype(dtype)
    if type(value) is not np.ndarray:
        raise _bad(name, f"a numpy array of {dtype}", type(value))
    if value.dtype != dtype:
        raise _bad(name, f"a numpy array of {dtype}", value.dtype)
    if value.ndim != len(shape) or any(
            want is not None and got != want for got, want in zip(value.shape, shape)):
        raise _bad(name, f"of shape {tuple('any' if s is None else s for s in shape)}",
                   value.shape)
    if finite and value.size and not np.isfinite(value).all():
        raise _bad(name, "finite", "an array with NaN or inf")
    return value


def check_state_dtype(value, name, allowed):
    """``value`` (a dtype or its string) as one of the ``allowed`` dtypes."""
    try:
        dtype = np.dtype(value) if isinstance(value, (str, np.dtype)) else None
    except TypeError:
        dtype = None
    allowed = [np.dtype(a) for a in allowed]
    if dtype is None or dtype not in allowed:
        raise _bad(name, f"one of {[str(a) for a in allowed]}", value)
    return dtype


def check_state_fields(value, name, fields):
    """``value`` as a dict with exactly the keys ``fields``."""
    if type(value) is not dict or set(value) != set(fields):
        raise _bad(name, f"a dict of {sorted(fields)}",
                   sorted(value) if type(value) is dict else type(value))
    return value


def check_state_tuple(value, name, n):
    """``value`` as a tuple of n items."""
    if type(value) is not tuple or len(value) != n:
        raise _bad(name, f"a tuple of {n} items", value)
    return value
