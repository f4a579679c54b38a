"""``Stream.process_into`` and ``Stream.output_length``: the allocation-free
``process`` (issue 10's real-time loop), on every kind of stream fastmel makes.

Each stage is fed the protocol tests' chunks (``test_protocol.chunks_of``)
once through ``process`` (the reference) and once through ``process_into``
into outputs of several layouts; what lands in ``out[..., :n]`` must equal
``process``'s output bit for bit, and the rest of ``out`` must be untouched.
"""
import copy
import threading

import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal
from fastmel import ParameterError
from test_protocol import LEAD, STAGES, assert_same_state, chunks_of, make, run, state

SR = 16000


def _kaldi():
    return fastmel.frontends.KaldiFbank(sr=SR, num_mel_bins=23).stream()


ALL = STAGES + ["kaldi"]


def new(name):
    return _kaldi() if name == "kaldi" else make(name)


def feed(name):
    return chunks_of("mel" if name == "kaldi" else name)


#: a sentinel no stage writes (outputs here are far smaller, or logs of them)
SENTINEL = 12345.5


def _room(ref, m, layout):
    """An output with the shape of ``ref`` but m items on its last axis, filled
    with SENTINEL, in ``layout``."""
    shape = ref.shape[:-1] + (m,)
    fill = SENTINEL + (1j if ref.dtype.kind == "c" else 0)
    if layout == "c":
        return np.full(shape, fill, ref.dtype)
    if layout == "fortran":
        return np.asfortranarray(np.full(shape, fill, ref.dtype))
    if layout == "ring":
        # a window into a wider ring buffer: rows further apart than m
        ring = np.full(shape[:-1] + (m + 9,), fill, ref.dtype)
        return ring[..., 5:5 + m]
    if layout == "every-other":
        return np.full(shape[:-1] + (2 * m,), fill, ref.dtype)[..., ::2]
    if layout == "reversed":
        return np.full(shape, fill, ref.dtype)[..., ::-1]
    if layout == "unaligned":
        raw = np.full(ref.dtype.itemsize * int(np.prod(shape)) + 1, 0, np.uint8)
        out = raw[1:].view(ref.dtype).reshape(shape)
        out[...] = fill
        return out
    raise AssertionError(layout)


def _untouched(out, n, what):
    rest = out[..., n:]
    assert np.all(rest == (SENTINEL + (1j if out.dtype.kind == "c" else 0))), (
        f"{what}: process_into wrote past the {n} items of its output")


@pytest.mark.parametrize("layout", ["c", "fortran", "ring", "every-other", "reversed",
                                    "unaligned"])
@pytest.mark.parametrize("extra", [0, 3], ids=["exact", "room"])
@pytest.mark.parametrize("name", ALL)
def test_process_into_writes_what_process_returns(name, extra, layout):
    chunks = feed(name)
    want = run(new(name), chunks)[:-1]
    s = new(name)
    for i, (c, ref) in enumerate(zip(chunks, want)):
        n = ref.shape[-1]
        assert s.output_length(c.shape[-1]) == n, f"{name}: output_length before chunk {i}"
        out = _room(ref, n + extra, layout)
        assert s.process_into(c, out) == n
        assert_bits_equal(np.ascontiguousarray(out[..., :n]), ref, f"{name}, chunk {i}")
        _untouched(out, n, f"{name}, chunk {i}")
    # the stream went on exactly as process() would have: the same flush
    assert_bits_equal(s.flush(), run(new(name), chunks)[-1], f"{name}: flush")


@pytest.mark.parametrize("name", ALL)
def test_output_length_is_the_length_process_returns(name):
    """Asked at rest and after each chunk, for several chunk lengths: a copy of
    the stream fed that many samples (frames) returns exactly that many items."""
    s = new(name)
    for c in [None] + feed(name):
        if c is not None:
            s.process(c)
        for k in (0, 1, 7, 160, 1000):
            probe = copy.deepcopy(s)
            chunk = chunks_of("mel" if name == "kaldi" else name, n=k, sizes=())[0]
            assert probe.process(chunk).shape[-1] == s.output_length(k), (name, k)


@pytest.mark.parametrize("name", ALL)
def test_too_little_room_is_refused_and_nothing_changes(name):
    chunks = feed(name)
    want = run(new(name), chunks)
    s, ref = new(name), new(name)
    for i, (c, w) in enumerate(zip(chunks, want)):
        n = w.shape[-1]
        if n:
            out = _room(w, n - 1, "c")
            before = state(s)
            with pytest.raises(ParameterError, match="room"):
                s.process_into(c, out)
            assert_same_state(state(s), before, f"{name}: after a refused chunk {i}")
            _untouched(out, 0, f"{name}: a refused chunk {i}")
        s.process(c)
        ref.process(c)
    assert_bits_equal(s.flush(), ref.flush(), f"{name}: flush after refusals")


@pytest.mark.parametrize("name", ALL)
def test_bad_out_is_refused_on_the_first_chunk_and_the_stream_stays_new(name):
    c = next(c for c in feed(name) if c.shape[-1])
    ref = new(name).process(c)
    m = ref.shape[-1] + 2
    other = {np.dtype(a): b for a, b in [(np.float32, np.float64), (np.float64, np.float32),
                                         (np.complex64, np.complex128),
                                         (np.complex128, np.complex64)]}[ref.dtype]
    readonly = _room(ref, m, "c")
    readonly.flags.writeable = False
    swapped = _room(ref, m, "c").astype(ref.dtype.newbyteorder())
    cases = [
        (list(_room(ref, m, "c")), TypeError, "numpy array"),
        (_room(ref, m, "c").astype(other), TypeError, "out must be"),
        (swapped, TypeError, "out must be"),
        (readonly, ParameterError, "read-only"),
        (_room(ref, m, "c")[None], ParameterError, "shape"),
        (_room(ref, m, "c")[..., None], ParameterError, "shape"),
    ]
    if ref.ndim >= 2:
        cases.append((np.full(ref.shape[:-2] + (ref.shape[-2] + 1, m), SENTINEL, ref.dtype),
                      ParameterError, "shape"))
    for out, error, words in cases:
        s = new(name)
        with pytest.raises(error, match=words):
            s.process_into(c, out)
        assert s.lead is None and s.samples_in == 0, f"{name}: a refused first call"
        # and it then works as a new stream
        good = _room(ref, m, "c")
        assert s.process_into(c, good) == ref.shape[-1]
        assert_bits_equal(np.ascontiguousarray(good[..., :ref.shape[-1]]), ref, name)


@pytest.mark.parametrize("name", ["bandpass", "convolver-f32", "noise-mono", "chain-signal"])
def test_in_place_on_a_sample_stage(name):
    """out may be the chunk itself (in-place processing of a signal stage)."""
    chunks = [c.astype(np.float64) if name == "chain-signal" else c for c in feed(name)]
    want = run(new(name), chunks)[:-1]
    s = new(name)
    for c, w in zip(chunks, want):
        if w.dtype != c.dtype:
            continue
        x = c.copy()
        assert s.process_into(x, x) == x.shape[-1]
        assert_bits_equal(x, w, f"{name} in place")


@pytest.mark.parametrize("name", ["mel", "mfcc", "stft", "kaldi"])
def test_out_sharing_memory_with_the_chunk(name):
    """An out over the same bytes as the chunk (a hostile caller): the frames
    are what process returns (the chunk is read before anything is written)."""
    chunks = feed(name)
    want = run(new(name), chunks)[:-1]
    s = new(name)
    for c, w in zip(chunks, want):
        n_bytes = max(c.nbytes, w.nbytes + w.dtype.itemsize * w.shape[-2]) + 64
        raw = np.zeros(n_bytes, np.uint8)
        x = raw[:c.nbytes].view(c.dtype)
        x[...] = c
        shape = w.shape[:-1] + (w.shape[-1] + 1,)
        out = raw[:w.dtype.itemsize * int(np.prod(shape))].view(w.dtype).reshape(shape)
        n = s.process_into(x, out)
        assert n == w.shape[-1]
        assert_bits_equal(np.ascontiguousarray(out[..., :n]), w, name)


def test_many_channels_into_a_transposed_view():
    """A (2, 3)-channel mel stream into channel axes laid out in another order."""
    m = fastmel.MelSpectrogram(sr=SR, n_fft=512, hop_length=160, n_mels=40)
    x = (np.random.default_rng(3).standard_normal((2, 3, 1600)) * 0.1).astype(np.float32)
    want = run(m.stream(), [x[..., :700], x[..., 700:]])
    s = m.stream()
    for c, w in zip([x[..., :700], x[..., 700:]], want):
        n = w.shape[-1]
        store = np.full((3, 2, 40, n + 2), SENTINEL, np.float32)
        out = store.transpose(1, 0, 2, 3)        # channels no longer evenly spaced
        assert s.process_into(c, out) == n
        assert_bits_equal(np.ascontiguousarray(out[..., :n]), w, "transposed out")
        _untouched(out, n, "transposed out")


@pytest.mark.parametrize("k, error", [(-1, ParameterError), (2 ** 60, ParameterError),
                                      (1.5, TypeError), (True, TypeError), ("3", TypeError),
                                      (None, TypeError)])
def test_output_length_refuses_what_is_not_a_chunk_length(k, error):
    with pytest.raises(error, match="k"):
        make("mel").output_length(k)


def test_output_length_takes_numpy_integers():
    s = make("mel")
    assert s.output_length(np.int64(1600)) == s.output_length(1600) > 0


class _Gain:
    """A stage that is not a fastmel stream (the Chain protocol: process/flush/reset)."""

    def process(self, x):
        return x * 0.5

    def flush(self):
        return np.zeros(0, np.float32)

    def reset(self):
        pass


def test_a_chain_with_a_foreign_stage_cannot_tell_its_length():
    s = fastmel.Chain([_Gain(), fastmel.Bandpass(SR, 100, 7000)])
    x = np.ones(100, np.float32) * 0.1
    with pytest.raises(TypeError, match="output length"):
        s.output_length(100)
    with pytest.raises(TypeError, match="output length"):
        s.process_into(x, np.zeros(100, np.float32))
    assert s.lead is None
    assert s.process(x).shape == (100,)


def test_a_stream_busy_in_another_thread_refuses_process_into():
    """The in-use flag guards process_into as it guards process (no timing luck:
    the other thread is held inside the conversion of its chunk)."""

    class Held:
        def __init__(self):
            self.inside, self.release = threading.Event(), threading.Event()

        def __array__(self, dtype=None, copy=None):
            self.inside.set()
            self.release.wait(30)
            return np.zeros(160, np.float32)

    for busy_call in ("process", "process_into"):
        s = make("mel")
        s.process(np.zeros(160, np.float32))
        held = Held()
        args = (held,) if busy_call == "process" else (held, np.empty((40, 4), np.float32))
        th = threading.Thread(target=getattr(s, busy_call), args=args)
        th.start()
        assert held.inside.wait(30)
        try:
            with pytest.raises(RuntimeError, match="in use by another thread"):
                s.process_into(np.zeros(160, np.float32), np.empty((40, 4), np.float32))
        finally:
            held.release.set()
            th.join()
