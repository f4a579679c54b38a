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

from fastmel._spectral cimport BLOCK, NONFINITE, OUT_COMPLEX, SpectralKernel, Workspace
from fastmel._streambase cimport Chunk, Stream, Target, rows_append, rows_drop

from fastmel._checks import ParameterError, allocation
from fastmel._spectral import pad_ends, run
from fastmel._streambase import (
    MAX_SAMPLES, check_state_array, check_state_bool, check_state_fields, check_state_int,
)

cnp.import_array()

# A call that computes fewer frames (times channels) and takes fewer samples
# (times channels) than these holds the GIL throughout.
DEF GIL_FRAMES = 4
DEF GIL_SAMPLES = 1 << 14


cdef class FrameStream(Stream):
    """A streaming STFT / mel / MFCC front end (see the module docstring): the
    spectral kernel as a stream engine.

    Made by the extractors' ``stream()`` methods, not directly.
    """

    cdef readonly object extractor       # what made this stream (its configuration)
    cdef SpectralKernel kernel
    cdef object framing
    cdef Py_ssize_t n_fft, pad, cap          # hop: the base's (samples per frame)
    cdef bint center, zero_pad
    cdef Workspace ws
    cdef bint ws_ready
    # state
    cdef cnp.ndarray buf
    cdef Py_ssize_t buf_pos, buf_len, t_next
    cdef bint started

    def __cinit__(self, owner, SpectralKernel kernel, framing):
        self.extractor = owner
        self.kernel = kernel
        self.framing = framing
        self.fixed_dtype = np.dtype(np.float64 if kernel.is_double else np.float32)
        self.n_out = kernel.n_out
        self.frames_out = True
        self.bound = kernel.max_amplitude
        self.n_fft = framing.n_fft
        self.hop = framing.hop_length
        self.center = framing.center
        self.pad = self.n_fft // 2 if self.center else 0
        self.zero_pad = not self.center or framing.pad_mode == "constant"
        # Samples after a frame's centre that must arrive before it is emitted;
        # the left padding of other pad modes waits for sample ``pad``.
        self.lag = self.n_fft - 1 - self.n_fft // 2
        if not self.zero_pad:
            self.lag = max(self.lag, self.pad)
        self.maker = owner.stream
        self.label = f"{owner!r}.stream()"
        # Room for the retained n_fft samples plus a good stretch of input.  A
        # compaction always leaves at most n_fft samples (every complete frame
        # is computed first), so the room needs no more than n_fft whatever the hop.
        self.cap = 2 * self.n_fft + max(4096, 2 * min(self.hop, self.n_fft))
        if kernel.workspace_init(&self.ws) != 0:
            raise MemoryError("fastmel: could not allocate stream scratch buffers")
        self.ws_ready = True

    def __dealloc__(self):
        if self.ws_ready:
            self.kernel.workspace_free(&self.ws)

    @property
    def n_out(self):
        """Values per frame (bins, mels or coefficients)."""
        return self.kernel.n_out

    # -- the engine (see fastmel._streambase) --------------------------------

    cdef object engine_dtype(self, object dtype):
        if self.kernel.mode == OUT_COMPLEX:
            return np.dtype(np.complex128 if self.kernel.is_double else np.complex64)
        return dtype

    cdef int engine_start(self) except -1:
        allocation(self.n_ch * self.cap * self.item,
                   f"a stream buffer for leading shape {self.lead_shape}",
                   "check the chunk's layout: time is the last axis")
        self.buf = np.zeros((self.n_ch, self.cap), dtype=self.work_dtype)
        # Raw samples go after room for the left padding (zeros, or built
        # from the first samples once they are in).
        self.buf_pos = 0
        self.buf_len = self.pad
        self.t_next = 0
        self.started = self.zero_pad
        return 0

    cdef void engine_stop(self) noexcept:
        self.buf = None
        self.buf_pos = self.buf_len = self.t_next = 0
        self.started = False

    cdef object engine_run(self, cnp.ndarray x, const Chunk* c):
        cdef cnp.ndarray out = self.new_out(self._frames_ready(self.n_in + c.k) - self.t_next)
        cdef Target t = _target(out)
        self._feed(c.data, c.xs_ch, c.xs, c.k, &t, cnp.PyArray_DIM(out, out.ndim - 1),
                   self.t_next)
        return out

    cdef Py_ssize_t engine_count(self, Py_ssize_t k) except -2:
        return self._frames_ready(self.n_in + k) - self.t_next

    cdef Py_ssize_t engine_run_into(self, cnp.ndarray x, const Chunk* c,
                                    const Target* t) except -2:
        cdef Py_ssize_t n = self._frames_ready(self.n_in + c.k) - self.t_next
        self._feed(c.data, c.xs_ch, c.xs, c.k, t, n, self.t_next)
        return n

    cdef Py_ssize_t _frames_ready(self, Py_ssize_t n_in) noexcept:
        """Frames computable once n_in raw samples are in (before the right padding)."""
        cdef Py_ssize_t avail
        if not self.zero_pad and n_in < self.pad + 1:
            return 0
        avail = self.pad + n_in
        if avail < self.n_fft:
            return 0
        return 1 + (avail - self.n_fft) // self.hop

    cdef _feed(self, const char* xp, Py_ssize_t xs_ch, Py_ssize_t xs, Py_ssize_t k,
               const Target* t, Py_ssize_t n_frames, Py_ssize_t t_first):
        """Append k samples per channel (strides in elements) to the buffer,
        computing the n_frames they complete into t (frame t_first first)."""
        cdef Py_ssize_t done = 0, m
        cdef int status = 0
        # A few frames' work (a 10 ms chunk makes one) costs less than releasing
        # and taking back the GIL; more runs without it.
        cdef bint release = n_frames * self.n_ch >= GIL_FRAMES or k * self.n_ch >= GIL_SAMPLES
        while status == 0:
            m = k - done
            if not self.started:
                # Stop at pad + 1 samples to build the left padding from them.
                m = min(m, self.pad + 1 - self.n_in)
            if release:
                with nogil:
                    status = self._take(xp + done * xs * self.item, xs_ch, xs, &m, t, t_first)
            else:
                status = self._take(xp + done * xs * self.item, xs_ch, xs, &m, t, t_first)
            done += m
            if status == 0 and not self.started and self.n_in == self.pad + 1:
                self._build_left_pad()
                with nogil:
                    status = self._compute(t, t_first)
            if done == k:
                break
        if status != 0:
            # Unreachable for samples within the kernel's max_amplitude (checked
            # before anything changed); the frames computed so far are lost.
            self.clear()
            raise ParameterError(
                "the mel power overflowed (non-finite values); the stream was reset")

    cdef int _take(self, const char* src, Py_ssize_t xs_ch, Py_ssize_t xs, Py_ssize_t* m,
                   const Target* t, Py_ssize_t t_first) noexcept nogil:
        """Append up to m[0] samples per channel (m[0]: as many as fit, after a
        compaction if needed) and compute the frames they complete; the status."""
        if self.cap - self.buf_len < m[0]:
            self._compact()
            m[0] = min(m[0], self.cap - self.buf_len)
        self._append(src, xs_ch, xs, m[0])
        self.n_in += m[0]
        if self.started:
            return self._compute(t, t_first)
        return 0

    cdef void _append(self, const char* src, Py_ssize_t xs_ch, Py_ssize_t xs,
                      Py_ssize_t m) noexcept nogil:
        if m <= 0:
            return
        rows_append(<char*>cnp.PyArray_DATA(self.buf), self.cap, self.n_ch, self.item,
                    self.buf_len, src, xs_ch, xs, m)
        self.buf_len += m

    cdef void _compact(self) noexcept nogil:
        """Drop samples no future frame or padding needs; keep the last n_fft."""
        cdef Py_ssize_t keep_from, shift
        cdef char* base = <char*>cnp.PyArray_DATA(self.buf)
        if not self.started:
            return
        keep_from = min(self.t_next * self.hop, self.buf_pos + self.buf_len - self.n_fft)
        shift = keep_from - self.buf_pos
        if shift <= 0:
            return
        rows_drop(base, self.cap, self.n_ch, self.item, self.buf_len, shift)
        self.buf_pos += shift
        self.buf_len -= shift

    cdef _build_left_pad(self):
        """The left padding from the first pad + 1 samples, as the offline path pads."""
        head = self.buf[:, self.pad:2 * self.pad + 1]
        padded = pad_ends(head, self.pad, 0, self.framing.pad_mode)
        self.buf[:, :self.pad] = padded[:, :self.pad]
        self.started = True

    cdef int _compute(self, const Target* t, Py_ssize_t t_first) noexcept nogil:
        """Every frame whose samples are all in the buffer, BLOCK at a time, into
        t's columns (column 0: frame ``t_first``); the kernel's status (0: fine)."""
        cdef const void* src[BLOCK]
        cdef Py_ssize_t stride[BLOCK]
        cdef Py_ssize_t j, nb, s, c
        cdef Py_ssize_t avail = self.buf_pos + self.buf_len
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
                                      t.data + (c * t.ch_stride
                                                + (self.t_next - t_first) * t.col) * t.item,
                                      t.row, t.col):
                    return NONFINITE
            self.t_next += nb
        return 0

    cdef object engine_tail(self):
        """The frames that need the right-hand padding; for a stream shorter than
        its left padding, the offline result of all it took in."""
        cdef Py_ssize_t n_total, tail
        cdef cnp.ndarray out
        cdef Target t
        if not self.started:
            # Shorter than the padding: the offline path pads it whole.
            raw = self.buf[:, self.pad:self.pad + self.n_in].reshape(
                self.lead_shape + (self.n_in,))
            return run(self.kernel, self.framing, raw)
        n_total = 0
        if self.pad + self.n_in + self.pad >= self.n_fft:
            n_total = 1 + (self.n_in + 2 * self.pad - self.n_fft) // self.hop
        out = self.new_out(n_total - self.t_next)
        if self.pad:
            tail = min(self.n_in, self.n_fft)
            end = self.buf_len
            raw_tail = self.buf[:, end - tail:end]
            right = pad_ends(raw_tail, 0, self.pad, self.framing.pad_mode)
            right = np.ascontiguousarray(right[:, tail:])
            t = _target(out)
            self._feed(<const char*>cnp.PyArray_DATA(right), self.pad, 1, self.pad, &t,
                       n_total - self.t_next, self.t_next)
        return out

    cdef object engine_get(self):
        return dict(buf=self.buf[:, :self.buf_len].copy(), buf_pos=self.buf_pos,
                    t_next=self.t_next, started=self.started)

    cdef int engine_set(self, object state) except -1:
        """Check and install a state made by engine_get (the base has checked and
        installed the leading shape, dtype and n_in): every field against the
        others and this stream's configuration, before anything is indexed."""
        check_state_fields(state, "state", ("buf", "buf_pos", "t_next", "started"))
        n_in = self.n_in
        avail = self.pad + n_in
        buf = check_state_array(state["buf"], "buf", (self.n_ch, None), self.work_dtype)
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
        self.buf[:, :buf_len] = buf
        self.buf_len = buf_len
        self.buf_pos = buf_pos
        self.t_next = t_next
        self.started = started
        return 0


cdef inline Target _target(cnp.ndarray out):
    """Where the frames go in a new C-contiguous output (..., n_out, n)."""
    cdef Target t
    cdef Py_ssize_t n = cnp.PyArray_DIM(out, out.ndim - 1)
    t.data = <char*>cnp.PyArray_DATA(out)
    t.item = cnp.PyArray_ITEMSIZE(out)
    t.ch_stride = cnp.PyArray_DIM(out, out.ndim - 2) * n
    t.row = n
    t.col = 1
    return t
