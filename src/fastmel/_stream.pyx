"""Frame streams: the spectral kernel fed buffer by buffer.

A stream keeps, per channel, a linear buffer of the (virtually) centre-padded
signal: ``buf[:, i]`` is padded sample ``buf_pos + i``.  Frame t covers padded
samples ``[t * hop, t * hop + n_fft)`` and is computed, by the same kernel
the offline functions use, as soon as its last sample is in the buffer.  The
buffer is compacted (a memmove) only when full, and always keeps the last
n_fft samples: the right-hand padding at ``flush()`` is built from them.

Padding other than zeros depends on the signal's first samples, so those
streams hold their first frames back until ``pad + 1`` samples have arrived,
then build the left padding exactly as the offline path does.  A stream that
ends before that is computed by the offline path itself at ``flush()``.
"""
import numpy as np

cimport numpy as cnp
from libc.string cimport memcpy, memmove, memset

from fastmel._streambase cimport MAX_LEAD_ND, enter, leave
from fastmel._checks cimport readable_as_is, within_rows
from fastmel._spectral cimport BLOCK, NONFINITE, OUT_COMPLEX, SpectralKernel, Workspace

from fastmel._streambase import (
    check_state_array, check_state_bool, check_state_fields, check_state_int, check_state_lead,
)
from fastmel._checks import (
    ParameterError, allocation, bounded_audio, check_stream_layout, stream_chunk,
)
from fastmel._spectral import run

cnp.import_array()

# Samples a restored stream may claim to have seen (centuries of audio), so no
# position arithmetic can overflow.
DEF MAX_SAMPLES = 2 ** 50


cdef class FrameStream:
    """A streaming STFT / mel / MFCC front end (see the module docstring).

    Made by the extractors' ``stream()`` methods, not directly.
    """

    cdef SpectralKernel kernel
    cdef object framing
    cdef object owner
    cdef object dtype
    cdef object out_dtype
    cdef int typenum
    cdef int out_typenum
    cdef Py_ssize_t item
    cdef Py_ssize_t n_fft, hop, pad, cap
    cdef bint center, zero_pad
    cdef Workspace ws
    cdef bint ws_ready
    # state
    cdef object lead
    cdef int lead_nd
    cdef cnp.npy_intp dims[MAX_LEAD_ND + 2]   # lead dims, then (n_out, frames) for outputs
    cdef Py_ssize_t n_ch
    cdef cnp.ndarray buf
    cdef Py_ssize_t buf_pos, buf_len, n_in, t_next
    cdef bint started
    cdef int busy                    # the in-use flag (fastmel._streambase)

    def __cinit__(self, owner, SpectralKernel kernel, framing):
        self.owner = owner
        self.kernel = kernel
        self.framing = framing
        self.dtype = np.dtype(np.float64 if kernel.is_double else np.float32)
        self.typenum = cnp.NPY_FLOAT64 if kernel.is_double else cnp.NPY_FLOAT32
        self.item = 8 if kernel.is_double else 4
        if kernel.mode == OUT_COMPLEX:
            self.out_dtype = np.dtype(np.complex128 if kernel.is_double else np.complex64)
        else:
            self.out_dtype = self.dtype
        self.out_typenum = self.out_dtype.num
        self.n_fft = framing.n_fft
        self.hop = framing.hop_length
        self.center = framing.center
        self.pad = self.n_fft // 2 if self.center else 0
        self.zero_pad = not self.center or framing.pad_mode == "constant"
        # Room for the retained n_fft samples plus a good stretch of input.  A
        # compaction always leaves at most n_fft samples (every complete frame
        # is computed first), so the room needs no more than n_fft whatever the hop.
        self.cap = 2 * self.n_fft + max(4096, 2 * min(self.hop, self.n_fft))
        if kernel.workspace_init(&self.ws) != 0:
            raise MemoryError("fastmel: could not allocate stream scratch buffers")
        self.ws_ready = True
        self._clear()

    def __dealloc__(self):
        if self.ws_ready:
            self.kernel.workspace_free(&self.ws)

    cdef _clear(self):
        self.lead = None
        self.n_ch = 0
        self.buf = None
        self.buf_pos = 0
        self.buf_len = 0
        self.n_in = 0
        self.t_next = 0
        self.started = False

    @property
    def latency(self):
        """Samples after a frame's centre that must arrive before the frame is emitted."""
        cdef Py_ssize_t lag = self.n_fft - 1 - self.n_fft // 2
        if not self.zero_pad:
            # The left padding waits for sample ``pad`` (pad + 1 samples).
            lag = max(lag, self.pad)
        return int(lag)

    @property
    def n_out(self):
        """Values per frame (bins, mels or coefficients)."""
        return self.kernel.n_out

    def reset(self):
        """Forget all input: back to the state of a new stream (plans are kept)."""
        enter(&self.busy, self)
        try:
            self._clear()
        finally:
            leave(&self.busy)

    cdef _begin(self, tuple lead):
        cdef Py_ssize_t n_ch = 1
        cdef int i
        if len(lead) > MAX_LEAD_ND:
            raise ParameterError(f"chunk has too many dimensions ({len(lead) + 1})")
        for d in lead:
            n_ch *= d
        allocation(n_ch * self.cap * self.item, f"a stream buffer for leading shape {lead}",
                   "check the chunk's layout: time is the last axis")
        buf = np.zeros((n_ch, self.cap), dtype=self.dtype)
        for i, d in enumerate(lead):
            self.dims[i] = d
        self.lead = lead
        self.lead_nd = len(lead)
        self.dims[self.lead_nd] = self.kernel.n_out
        self.n_ch = n_ch
        self.buf = buf
        if self.zero_pad:
            self.buf_len = self.pad
            self.started = True
        else:
            # Raw samples go after room for the left padding, built later.
            self.buf_len = self.pad

    cdef Py_ssize_t _frames_ready(self, Py_ssize_t n_in) noexcept:
        """Frames computable once n_in raw samples are in (before the right padding)."""
        cdef Py_ssize_t avail
        if not self.zero_pad and n_in < self.pad + 1:
            return 0
        avail = self.pad + n_in
        if avail < self.n_fft:
            return 0
        return 1 + (avail - self.n_fft) // self.hop

    cdef cnp.ndarray _new_out(self, Py_ssize_t n_frames):
        self.dims[self.lead_nd + 1] = n_frames
        return cnp.PyArray_EMPTY(self.lead_nd + 2, self.dims, self.out_typenum, 0)

    def process(self, chunk):
        """Feed a chunk; return the frames it completes.

        Parameters
        ----------
        chunk : np.ndarray [shape=(..., k)]
            Any k >= 0; the leading shape is fixed by the first chunk.

        Returns
        -------
        np.ndarray [shape=(..., n_out, j)]
            The j frames completed by this chunk.

        Raises
        ------
        ParameterError
            Wrong leading shape, non-finite samples, or samples beyond the
            analysis' amplitude bound (see :func:`fastmel.stft`); the stream is
            unchanged.
        TypeError
            Integer, boolean or complex samples; the stream is unchanged.
        RuntimeError
            Another thread is inside this stream.
        """
        enter(&self.busy, self)
        try:
            return self._process(chunk)
        finally:
            leave(&self.busy)

    cdef cnp.ndarray _process(self, chunk):
        cdef cnp.ndarray x
        cdef cnp.ndarray out
        cdef Py_ssize_t k, xs_ch, xs, n_ch
        lead = None
        if self.lead is not None and readable_as_is(chunk, self.typenum, self.lead_nd, self.dims):
            x = <cnp.ndarray>chunk
            n_ch = self.n_ch
        else:
            x, lead = stream_chunk(chunk, self.lead, self.dtype)
            n_ch = cnp.PyArray_DIM(x, 0)
        k = cnp.PyArray_DIM(x, x.ndim - 1)
        if self.lead is None:
            check_stream_layout(lead + (k,))
        xs = cnp.PyArray_STRIDE(x, x.ndim - 1) // self.item
        xs_ch = cnp.PyArray_STRIDE(x, 0) // self.item if x.ndim == 2 else 0
        if not within_rows(cnp.PyArray_DATA(x), self.kernel.is_double, n_ch, xs_ch, k, xs,
                           self.kernel.max_amplitude):
            bounded_audio(x, self.kernel.max_amplitude, "chunk")  # raises the precise error
        if self.lead is None:
            self._begin(lead)
        out = self._new_out(self._frames_ready(self.n_in + k) - self.t_next)
        self._feed(<const char*>cnp.PyArray_DATA(x), xs_ch, xs, k, out, self.t_next)
        return out

    cdef _feed(self, const char* xp, Py_ssize_t xs_ch, Py_ssize_t xs, Py_ssize_t k,
               cnp.ndarray out, Py_ssize_t t_first):
        """Append k samples per channel (strides in elements) to the buffer,
        computing the frames they complete into out."""
        cdef Py_ssize_t done = 0, m
        cdef char* op = <char*>cnp.PyArray_DATA(out)
        cdef Py_ssize_t n_frames = cnp.PyArray_DIM(out, out.ndim - 1)
        cdef Py_ssize_t out_item = out.itemsize
        cdef int status = 0
        while status == 0:
            m = k - done
            if not self.started:
                # Stop at pad + 1 samples to build the left padding from them.
                m = min(m, self.pad + 1 - self.n_in)
            with nogil:
                if self.cap - self.buf_len < m:
                    self._compact()
                    m = min(m, self.cap - self.buf_len)
                self._append(xp + done * xs * self.item, xs_ch, xs, m)
                done += m
                self.n_in += m
                if self.started:
                    status = self._compute(op, n_frames, out_item, t_first)
            if status == 0 and not self.started and self.n_in == self.pad + 1:
                self._build_left_pad()
                with nogil:
                    status = self._compute(op, n_frames, out_item, t_first)
            if done == k:
                break
        if status != 0:
            # Unreachable for samples within the kernel's max_amplitude (checked
            # before anything changed); the frames computed so far are lost.
            self._clear()
            raise ParameterError(
                "the mel power overflowed (non-finite values); the stream was reset")

    cdef void _append(self, const char* src, Py_ssize_t xs_ch, Py_ssize_t xs,
                      Py_ssize_t m) noexcept nogil:
        cdef Py_ssize_t c, i
        cdef char* base = <char*>cnp.PyArray_DATA(self.buf)
        cdef char* dst
        cdef const char* s
        if m <= 0:
            return
        for c in range(self.n_ch):
            dst = base + (c * self.cap + self.buf_len) * self.item
            s = src + c * xs_ch * self.item
            if xs == 1:
                memcpy(dst, s, m * self.item)
            elif self.item == 8:
                for i in range(m):
                    (<double*>dst)[i] = (<const double*>s)[i * xs]
            else:
                for i in range(m):
                    (<float*>dst)[i] = (<const float*>s)[i * xs]
        self.buf_len += m

    cdef void _compact(self) noexcept nogil:
        """Drop samples no future frame or padding needs; keep the last n_fft."""
        cdef Py_ssize_t keep_from, shift, c
        cdef char* base = <char*>cnp.PyArray_DATA(self.buf)
        if not self.started:
            return
        keep_from = min(self.t_next * self.hop, self.buf_pos + self.buf_len - self.n_fft)
        shift = keep_from - self.buf_pos
        if shift <= 0:
            return
        for c in range(self.n_ch):
            memmove(base + c * self.cap * self.item,
                    base + (c * self.cap + shift) * self.item,
                    (self.buf_len - shift) * self.item)
        self.buf_pos += shift
        self.buf_len -= shift

    cdef _build_left_pad(self):
        """The left padding from the first pad + 1 samples, as the offline path pads."""
        head = self.buf[:, self.pad:2 * self.pad + 1]
        padded = np.pad(head, ((0, 0), (self.pad, 0)), mode=self.framing.pad_mode)
        self.buf[:, :self.pad] = padded[:, :self.pad]
        self.started = True

    cdef int _compute(self, char* op, Py_ssize_t n_frames, Py_ssize_t out_item,
                      Py_ssize_t t_first) noexcept nogil:
        """Every frame whose samples are all in the buffer, BLOCK at a time, into
        the output columns from ``t_first`` on; the kernel's status (0: fine)."""
        cdef const void* src[BLOCK]
        cdef Py_ssize_t stride[BLOCK]
        cdef Py_ssize_t j, nb, s, c
        cdef Py_ssize_t avail = self.buf_pos + self.buf_len
        cdef Py_ssize_t n_out = self.kernel.n_out
        cdef char* base = <char*>cnp.PyArray_DATA(self.buf)
        while self.t_next * self.hop + self.n_fft <= avail:
            nb = 0
            while nb < BLOCK and (self.t_next + nb) * self.hop + self.n_fft <= avail:
                nb += 1
            for c in range(self.n_ch):
                for j in range(nb):
                    s = (self.t_next + j) * self.hop - self.buf_pos
                    src[j] = base + (c * self.cap + s) * self.item
                    stride[j] = 1
                if self.kernel.frames(&self.ws, src, stride, nb,
                                      op + (c * n_out * n_frames + self.t_next - t_first) * out_item,
                                      n_frames, 1):
                    return NONFINITE
            self.t_next += nb
        return 0

    def flush(self):
        """End of stream: return the frames still owed, then start afresh.

        Returns
        -------
        np.ndarray [shape=(..., n_out, j)]
            The frames that need the right-hand padding (``center=True``).
            Concatenated after every ``process`` output, they equal the offline
            result for the whole signal, an empty one included (one frame of
            padding when ``n_fft`` is even).  Two exceptions: a stream that
            received no chunk at all (not even an empty one, so its leading
            shape is unknown) returns ``(n_out, 0)``; with ``center=False`` a
            stream of fewer than n_fft samples returns no frames where the
            offline call raises.

        Raises
        ------
        ParameterError
            Where the offline call raises for the same signal: an empty
            signal with a pad mode other than "constant" (there is nothing to
            reflect or extend).  The stream starts afresh all the same.
        RuntimeError
            Another thread is inside this stream.
        """
        enter(&self.busy, self)
        try:
            return self._flush()
        finally:
            leave(&self.busy)

    cdef _flush(self):
        cdef Py_ssize_t n_total, tail, k
        cdef cnp.ndarray out
        if self.lead is None:
            out = np.empty((self.kernel.n_out, 0), dtype=self.out_dtype)
            self._clear()
            return out
        if not self.started:
            # Shorter than the padding: the offline path pads it whole.
            raw = self.buf[:, self.pad:self.pad + self.n_in].reshape(self.lead + (self.n_in,))
            try:
                return run(self.kernel, self.framing, raw)
            finally:
                self._clear()
        n_total = 0
        if self.pad + self.n_in + self.pad >= self.n_fft:
            n_total = 1 + (self.n_in + 2 * self.pad - self.n_fft) // self.hop
        out = self._new_out(n_total - self.t_next)
        if self.pad:
            tail = min(self.n_in, self.n_fft)
            end = self.buf_len
            raw_tail = self.buf[:, end - tail:end]
            right = np.pad(raw_tail, ((0, 0), (0, self.pad)), mode=self.framing.pad_mode)
            right = np.ascontiguousarray(right[:, tail:])
            self._feed(<const char*>cnp.PyArray_DATA(right), self.pad, 1, self.pad, out,
                       self.t_next)
        self._clear()
        return out

    def __reduce__(self):
        enter(&self.busy, self)
        try:
            return self._reduce()
        finally:
            leave(&self.busy)

    cdef _reduce(self):
        state = None
        if self.lead is not None:
            state = dict(lead=self.lead, buf=self.buf[:, :self.buf_len].copy(),
                         buf_pos=self.buf_pos, n_in=self.n_in, t_next=self.t_next,
                         started=self.started)
        return (_restore, (self.owner, state))

    def _set_state(self, state):
        enter(&self.busy, self)
        try:
            self._clear()
            if state is not None:
                self._install(state)
        finally:
            leave(&self.busy)

    cdef _install(self, state):
        """Install a state made by __reduce__.  It may come from a tampered pickle:
        every field is checked against the others and this stream's configuration
        before anything is indexed; a bad one raises ValueError, leaving the
        stream new."""
        check_state_fields(state, "state", ("lead", "buf", "buf_pos", "n_in", "t_next",
                                            "started"))
        lead = check_state_lead(state["lead"])
        n_ch = 1
        for d in lead:
            n_ch *= d
        n_in = check_state_int(state["n_in"], "n_in", 0, MAX_SAMPLES)
        avail = self.pad + n_in
        buf = check_state_array(state["buf"], "buf", (n_ch, None), self.dtype)
        buf_len = buf.shape[1]
        if buf_len > min(self.cap, avail):
            raise ValueError(f"fastmel: restored stream state: buf holds {buf_len} samples, "
                             f"more than the {min(self.cap, avail)} this stream can hold")
        buf_pos = check_state_int(state["buf_pos"], "buf_pos", 0, avail)
        if buf_pos + buf_len != avail or (buf_pos > 0 and buf_len < self.n_fft):
            raise ValueError(f"fastmel: restored stream state: buf_pos={buf_pos} does not fit "
                             f"buf ({buf_len} samples) and n_in={n_in}")
        started = check_state_bool(state["started"], "started")
        if started != (self.zero_pad or n_in >= self.pad + 1):
            raise ValueError(f"fastmel: restored stream state: started={started} does not "
                             f"fit n_in={n_in}")
        t_next = check_state_int(state["t_next"], "t_next", 0, MAX_SAMPLES)
        if t_next != (self._frames_ready(n_in) if started else 0):
            raise ValueError(f"fastmel: restored stream state: t_next={t_next} does not fit "
                             f"n_in={n_in}")
        if buf.size and float(np.max(np.abs(buf))) > self.kernel.max_amplitude:
            raise ValueError("fastmel: restored stream state: buf holds samples beyond the "
                             "analysis' amplitude bound")
        if self.zero_pad and buf_pos < self.pad and np.any(buf[:, :self.pad - buf_pos]):
            raise ValueError("fastmel: restored stream state: buf's left padding is not zeros")
        self._begin(lead)
        self.buf[:, :buf_len] = buf
        self.buf_len = buf_len
        self.buf_pos = buf_pos
        self.n_in = n_in
        self.t_next = t_next
        self.started = started


def _restore(owner, state):
    stream = owner._new_stream()
    stream._set_state(state)
    return stream
