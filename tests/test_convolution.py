"""Room reverberation: ``fastmel.convolve`` and the streaming ``fastmel.Convolver``.

SPEC "Recording simulation", "Streaming protocol", "Errors" and section 2:
both equal ``scipy.signal.fftconvolve`` within 1e-5 (float32) / 1e-10 (float64)
of the output's largest magnitude, and the stream's concatenated output equals
the offline result bit for bit however the input is cut, with no added latency.

The references are computed by scipy in float64 from the very samples fastmel
receives (float32 inputs are widened exactly), so the tolerance only has to
cover fastmel's own rounding.
"""
import copy
import pickle

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import fastmel
from conftest import (
    RTOL_F32,
    RTOL_F64,
    assert_bits_equal,
    assert_close_rel,
    cut,
    multichannel,
    rtol_for,
)
from fastmel import ParameterError

SR = 16000
DTYPES = [np.float32, np.float64]
# channel layouts: name -> (leading shape of the audio, per-channel IRs?)
LAYOUTS = {
    "mono": ((), False),
    "stereo-mono-ir": ((2,), False),
    "stereo-per-channel": ((2,), True),
    "batch-mono-ir": ((2, 3), False),
    "batch-per-channel": ((2, 3), True),
}
# SPEC section 2 tolerances, relative to the output's largest magnitude.
F32_REASON = "float32 FFTs and accumulation vs an exact float64 reference (SPEC 2)"
F64_REASON = "float64 FFTs: rounding order only (SPEC 2)"


def reason_for(dtype):
    return F32_REASON if np.dtype(dtype) == np.float32 else F64_REASON


def room_ir(n_taps=int(0.3 * SR), *, rt60=0.25, predelay=40, channels=None, seed=0,
            dtype=np.float64):
    """A simulated room impulse response: silence until the direct sound at
    ``predelay``, then exponentially decaying noise (-60 dB after ``rt60`` s)."""
    rng = np.random.default_rng(seed)
    shape = (n_taps,) if channels is None else (channels, n_taps)
    t = np.arange(n_taps) / SR
    ir = rng.standard_normal(shape) * 0.3 * 10.0 ** (-3.0 * t / rt60)
    d = min(predelay, n_taps - 1)
    ir[..., :d] = 0.0
    ir[..., d] = 1.0
    return ir.astype(dtype)


def speech_signal(speech, dtype, lead, dur=1.0, start=0.2):
    """Speech of shape lead + (n,), a different excerpt in every channel."""
    if not lead:
        return speech(SR, dtype, start=start, dur=dur)
    return np.ascontiguousarray(multichannel(speech, SR, dtype, lead, dur=dur))


def reference(x, ir, mode="full"):
    """scipy.signal.fftconvolve per channel, in float64, from the same samples."""
    x64 = np.asarray(x, dtype=np.float64)
    ir64 = np.asarray(ir, dtype=np.float64)
    lead = x64.shape[:-1]
    rows = x64.reshape(-1, x64.shape[-1])
    irs = ir64.reshape(-1, ir64.shape[-1])
    out = [scipy.signal.fftconvolve(row, irs[i if irs.shape[0] > 1 else 0], mode=mode)
           for i, row in enumerate(rows)]
    return np.stack(out).reshape(lead + (out[0].shape[-1],))


def assert_matches_scipy(got, x, ir, dtype, mode="full"):
    ref = reference(x, ir, mode)
    assert got.dtype == np.dtype(dtype)
    assert_close_rel(got, ref, rtol_for(dtype), reason_for(dtype), check_dtype=False)


def stream_all(conv, x, sizes):
    """Feed x in chunks; every process() must return exactly its chunk's length."""
    outs = []
    for a, b in cut(x.shape[-1], sizes):
        out = conv.process(x[..., a:b])
        assert out.shape == x.shape[:-1] + (b - a,), "process must return k samples for k in"
        outs.append(out)
    tail = conv.flush()
    owed = conv.ir.shape[-1] - 1 if x.shape[-1] else 0
    assert tail.shape == x.shape[:-1] + (owed,), "flush returns len(ir) - 1, none for no input"
    outs.append(tail)
    return np.concatenate(outs, axis=-1)


def special_sizes(conv, block_size):
    """Chunk sizes around the block, the time-domain head and every partition."""
    head, levels = conv.partitions
    sizes = {0, 1, 2, 3, 7, 13, 97, 101, 4096, 10007,
             block_size - 1, block_size, block_size + 1, head - 1, head, head + 1}
    for n, _ in levels:
        sizes |= {n - 1, n, n + 1, 2 * n, 2 * n + 1}
    return sorted(s for s in sizes if s >= 0)


# --- offline convolve vs scipy ----------------------------------------------

@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("n_taps", [1, 37, int(0.3 * SR)], ids=["ir1", "ir37", "room"])
def test_convolve_mono_matches_fftconvolve(mode, dtype, n_taps, speech):
    x = speech(SR, dtype, dur=1.0)
    ir = room_ir(n_taps, dtype=dtype)
    y = fastmel.convolve(x, ir, mode=mode)
    assert y.shape == scipy.signal.fftconvolve(x, ir, mode=mode).shape
    assert_matches_scipy(y, x, ir, dtype, mode)


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("n", [1, 2, 500, 4799, 4800, 4801])
def test_convolve_ir_longer_than_signal(mode, dtype, n, speech):
    """Short signals, down to one sample, against a 0.3 s room (valid mode swaps
    the roles as scipy does)."""
    x = speech(SR, dtype, dur=1.0)[:n].copy()
    ir = room_ir(dtype=dtype)
    y = fastmel.convolve(x, ir, mode=mode)
    assert y.shape == scipy.signal.fftconvolve(x, ir, mode=mode).shape
    assert_matches_scipy(y, x, ir, dtype, mode)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_convolve_multichannel(layout, dtype, speech):
    lead, per_channel = LAYOUTS[layout]
    x = speech_signal(speech, dtype, lead, dur=0.5)
    channels = int(np.prod(lead)) if per_channel else None
    ir = room_ir(2000, channels=channels, seed=3, dtype=dtype)
    for mode in ("full", "same", "valid"):
        y = fastmel.convolve(x, ir, mode=mode)
        assert y.shape[:-1] == x.shape[:-1]
        assert_matches_scipy(y, x, ir, dtype, mode)
    if per_channel:
        # each channel really gets its own response: swapping the IRs changes the result
        assert not np.array_equal(fastmel.convolve(x, ir), fastmel.convolve(x, ir[::-1]))
    # memory layout does not matter: Fortran order, strided and reversed views
    full = fastmel.convolve(x, ir)
    wide = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), dtype=dtype)
    wide[..., ::2] = x
    reversed_view = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    for view in (np.asfortranarray(x), wide[..., ::2], reversed_view):
        assert_bits_equal(fastmel.convolve(view, ir), full, "non-contiguous x")


def test_convolve_stereo_matches_scipy_broadcast(speech):
    """The brief's form of the reference: scipy over the last axis with ir[None]."""
    x = speech_signal(speech, np.float64, (2,), dur=0.5)
    ir = room_ir(1000, seed=5)
    ref = scipy.signal.fftconvolve(x, ir[None], mode="full", axes=-1)
    # SPEC 2: float64 within 1e-10 of the output's max (rounding order only)
    assert_close_rel(fastmel.convolve(x, ir), ref, RTOL_F64, F64_REASON)


def test_convolve_output_dtype_follows_x(speech):
    x32 = speech(SR, np.float32, dur=0.25)
    ir64 = room_ir(300)
    y = fastmel.convolve(x32, ir64)
    assert y.dtype == np.float32
    # the IR is used in x's precision: SPEC 2 float32 tolerance
    assert_close_rel(y, reference(x32, ir64), RTOL_F32, F32_REASON, check_dtype=False)
    y = fastmel.convolve(x32.astype(np.float64), ir64.astype(np.float32))
    assert y.dtype == np.float64
    assert_close_rel(y, reference(x32, ir64.astype(np.float32)), RTOL_F64, F64_REASON)


@pytest.mark.parametrize("bad, err", [
    (dict(ir=np.zeros(0)), ParameterError),
    (dict(ir=np.zeros((2, 0))), ParameterError),
    (dict(ir=np.array([1.0, np.nan])), ParameterError),
    (dict(ir=np.array([1.0, np.inf])), ParameterError),
    (dict(x=np.array([0.0, np.nan, 1.0])), ParameterError),
    (dict(x=np.array([0.0, -np.inf, 1.0])), ParameterError),
    (dict(ir=np.ones((1, 1, 5))), ParameterError),
    (dict(ir=np.float64(1.0)), ParameterError),
    (dict(x=np.float64(1.0)), ParameterError),
    (dict(mode="circular"), ParameterError),
    (dict(x=np.ones((2, 50)), ir=np.ones((3, 5))), ParameterError),
    (dict(x=np.ones((2, 3, 50)), ir=np.ones((2, 5))), ParameterError),
    (dict(x=np.ones(50, dtype=np.int16)), TypeError),
    (dict(ir=np.ones(5, dtype=np.int32)), TypeError),
    (dict(x=np.ones(50, dtype=np.complex64)), TypeError),
])
def test_convolve_errors(bad, err):
    args = dict(x=np.ones(50), ir=np.ones(5), mode="full")
    args.update(bad)
    with pytest.raises(err):
        fastmel.convolve(args["x"], args["ir"], mode=args["mode"])


# --- Convolver: offline call and streaming vs scipy --------------------------

@pytest.mark.parametrize("block_size", [1, 7, 16, 64, 256, 1024, 4096])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_convolver_room_matches_fftconvolve(block_size, dtype, speech):
    """A 0.3 s room at 16 kHz on 1 s of speech, every block size from 1 to 4096:
    streamed in blocks of that size, and offline."""
    x = speech(SR, dtype, dur=1.0)
    ir = room_ir()
    conv = fastmel.Convolver(ir, block_size=block_size, dtype=dtype)
    assert conv.latency == 0
    offline = conv(x)
    assert_matches_scipy(offline, x, ir.astype(dtype), dtype)
    streamed = stream_all(conv, x, [block_size])
    assert_bits_equal(streamed, offline, f"block {block_size}")


@pytest.mark.parametrize("n_taps", [1, 2, 15, 16, 17, 100, 255, 256, 257, 1000])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_convolver_short_and_long_irs(n_taps, dtype, speech):
    """IRs from one tap up to several blocks (block 256), awkward lengths."""
    x = speech(SR, dtype, dur=0.5)
    ir = room_ir(n_taps, predelay=3, seed=n_taps)
    conv = fastmel.Convolver(ir, block_size=256, dtype=dtype)
    offline = conv(x)
    assert offline.shape == (x.shape[-1] + n_taps - 1,)
    assert_matches_scipy(offline, x, ir.astype(dtype), dtype)
    for sizes in ([1], [256], [7, 0, 13, 255, 257, 1]):
        assert_bits_equal(stream_all(conv, x, sizes), offline, f"taps {n_taps}, sizes {sizes}")


def test_convolver_ir_of_one_tap_is_a_gain(speech, dtype):
    x = speech(SR, dtype, dur=0.25)
    conv = fastmel.Convolver(np.array([0.5]), dtype=dtype)
    y = stream_all(conv, x, [3, 0, 160])
    # scaling by 0.5 is exact in binary floating point
    assert_bits_equal(y, (x * 0.5).astype(dtype))
    assert conv.flush().shape[-1] == 0


def test_convolver_one_second_room_many_partition_levels(speech):
    """A 1 s IR (16000 taps) at block 64: a head plus several levels of growing
    partitions, and an input long enough to wrap every buffer several times."""
    x = speech(SR, np.float64, start=0.1, dur=3.0)
    ir = room_ir(SR, rt60=0.8, seed=11)
    conv = fastmel.Convolver(ir, block_size=64, dtype=np.float64)
    head, levels = conv.partitions
    assert len(levels) >= 2
    offline = conv(x)
    assert_matches_scipy(offline, x, ir, np.float64)
    assert_bits_equal(stream_all(conv, x, [64, 63, 65, 1, 4099]), offline)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_convolver_multichannel(layout, dtype, speech):
    lead, per_channel = LAYOUTS[layout]
    x = speech_signal(speech, dtype, lead, dur=0.5)
    channels = int(np.prod(lead)) if per_channel else None
    ir = room_ir(channels=channels, seed=7)
    conv = fastmel.Convolver(ir, block_size=128, dtype=dtype)
    offline = conv(x)
    assert offline.shape == lead + (x.shape[-1] + ir.shape[-1] - 1,)
    assert_matches_scipy(offline, x, ir.astype(dtype), dtype)
    assert_bits_equal(stream_all(conv, x, [127, 1, 0, 300]), offline)


def test_convolver_partitions_cover_the_ir():
    """``partitions`` describes a zero-latency layout covering every tap: each
    level starts at a tap no earlier than its partition length."""
    for n_taps in (1, 16, 17, 300, 4800, 16000):
        for block_size in (1, 16, 64, 256, 4096):
            head, levels = fastmel.Convolver(np.ones(n_taps), block_size=block_size).partitions
            assert 1 <= head <= n_taps
            start = head
            for n, k in levels:
                assert n >= 1 and k >= 1
                assert start >= n, f"level of {n} taps starts at {start}: it would add latency"
                start += n * k
            assert start >= n_taps, f"taps {start}..{n_taps} are not covered"
            assert start - n_taps < (levels[-1][0] if levels else 1)


# --- Convolver: random chunkings (hypothesis) ---------------------------------

@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_convolver_random_chunkings_bit_exact(data, speech):
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    # hypothesis leans toward the first entries: the realistic cases come first
    n_taps = data.draw(st.sampled_from([int(0.3 * SR), 700, 100, 5, 1]), label="n_taps")
    block_size = data.draw(st.sampled_from([256, 64, 16, 1, 7, 100, 1024, 4096]), label="block")
    layout = data.draw(st.sampled_from(list(LAYOUTS)), label="layout")
    lead, per_channel = LAYOUTS[layout]
    n = data.draw(st.sampled_from([16000, 4000, n_taps + 1, n_taps, n_taps - 1, 3, 1, 0]),
                  label="n")
    x = speech_signal(speech, dtype, lead, dur=max(n, 1) / SR + 0.01)[..., :n]
    memory = data.draw(st.sampled_from(["C", "strided", "reversed"]), label="memory")
    if memory == "strided":
        wide = np.zeros(x.shape[:-1] + (2 * n,), dtype=dtype)
        wide[..., ::2] = x
        x = wide[..., ::2]
    elif memory == "reversed":
        x = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    ir = room_ir(n_taps, channels=int(np.prod(lead)) if per_channel else None,
                 predelay=data.draw(st.sampled_from([0, 3, 40]), label="predelay"))
    conv = fastmel.Convolver(ir, block_size=block_size, dtype=dtype)
    sizes = data.draw(st.lists(st.one_of(st.sampled_from(special_sizes(conv, block_size)),
                                         st.integers(0, 3 * block_size + 3)),
                               min_size=1, max_size=12), label="sizes")

    offline = conv(np.ascontiguousarray(x))
    assert offline.shape == lead + ((n + n_taps - 1) if n else 0,)
    got = stream_all(conv, x, sizes)
    assert_bits_equal(got, offline, f"sizes {sizes}")
    if n:
        assert_matches_scipy(offline, x, ir.astype(dtype), dtype)
    # flush() ended the stream: the next stream, cut differently, is the same
    assert_bits_equal(stream_all(conv, x, [block_size + 1, 0, 1]), offline, "after flush")


# --- zero latency --------------------------------------------------------------

@pytest.mark.parametrize("block_size", [1, 16, 64, 256, 4096])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_convolver_zero_latency_impulse(block_size, dtype):
    """An impulse at sample p: nothing at all comes out before p, and the IR comes
    out from p on, each sample in the call that brought input up to it."""
    ir = room_ir(predelay=0, seed=2)
    p, n = 1234, 7000
    x = np.zeros(n, dtype=dtype)
    x[p] = 1.0
    conv = fastmel.Convolver(ir, block_size=block_size, dtype=dtype)
    outs = []
    for a, b in cut(n, [97, 1, 256, 0, 13]):
        outs.append(conv.process(x[a:b]))
        assert outs[-1].shape == (b - a,)
    y = np.concatenate(outs)
    assert np.all(y[:p] == 0.0), "output before the impulse"
    assert y[p] != 0.0
    # SPEC 2 tolerance: the impulse's response is the IR itself
    expected = np.zeros(n - p, dtype=dtype)
    expected[:ir.shape[-1]] = ir
    assert_close_rel(y[p:], expected, rtol_for(dtype), reason_for(dtype))


@pytest.mark.parametrize("k", [1, 37, 127, 128, 129, 1024, 4096])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_convolver_first_chunk_output_is_final(k, dtype, speech):
    """The first process(x[:k]) already returns samples 0..k-1 of the full
    convolution of the whole signal (no look-ahead)."""
    x = speech(SR, dtype, dur=1.0)
    ir = room_ir()
    full = reference(x, ir.astype(dtype))
    conv = fastmel.Convolver(ir, block_size=256, dtype=dtype)
    first = conv.process(x[:k])
    assert first.shape == (k,)
    # relative to the full output's max, as SPEC 2 states it
    err = np.max(np.abs(first.astype(np.float64) - full[:k]))
    assert err <= rtol_for(dtype) * np.max(np.abs(full)), reason_for(dtype)
    second = conv.process(x[k:2 * k])
    err = np.max(np.abs(second.astype(np.float64) - full[k:2 * k]))
    assert err <= rtol_for(dtype) * np.max(np.abs(full)), reason_for(dtype)


# --- state: flush, reset, pickle, rejected chunks --------------------------------

def test_convolver_flush_and_reset(speech, dtype):
    x = speech(SR, dtype, dur=0.5)
    ir = room_ir(1000)
    conv = fastmel.Convolver(ir, block_size=64, dtype=dtype)
    offline = conv(x)
    # a stream that saw no chunk owes nothing
    assert fastmel.Convolver(ir, dtype=dtype).flush().size == 0
    # reset mid-stream: back to a fresh convolver
    conv.process(x[:3001])
    conv.reset()
    assert_bits_equal(stream_all(conv, x, [500, 1]), offline, "after reset")
    # flush ends the stream and frees the layout: a stereo stream may follow a mono one
    stereo = speech_signal(speech, dtype, (2,), dur=0.3)
    assert_bits_equal(stream_all(conv, stereo, [333]), conv(stereo), "stereo after mono")
    # and a mono one after a reset of a stereo stream
    conv.process(stereo[..., :10])
    conv.reset()
    assert_bits_equal(stream_all(conv, x, [64]), offline, "mono after stereo reset")


def test_convolver_offline_call_leaves_stream_state_alone(speech):
    x = speech(SR, np.float32, dur=0.5)
    conv = fastmel.Convolver(room_ir(), block_size=64)
    offline = conv(x)
    head = conv.process(x[:2500])
    assert_bits_equal(conv(x), offline, "offline call mid-stream")
    rest = np.concatenate([conv.process(x[2500:]), conv.flush()])
    assert_bits_equal(np.concatenate([head, rest]), offline)


def test_convolver_streams_in_threads_match_sequential(speech):
    """Independent streams in several threads (sharing the FFT plans) give the
    results of the same streams run one after another."""
    import threading

    ir = room_ir()
    signals = [speech(SR, np.float32, start=0.2 + 0.7 * i, dur=0.5) for i in range(4)]
    want = [fastmel.Convolver(ir, block_size=64)(y) for y in signals]
    got = [None] * len(signals)

    def run(i):
        got[i] = stream_all(fastmel.Convolver(ir, block_size=64), signals[i], [160, 1, 97])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(signals))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(len(signals)):
        assert_bits_equal(got[i], want[i], f"thread {i}")


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("layout", ["mono", "stereo-per-channel"])
def test_convolver_copy_mid_stream_continues_identically(how, layout, speech, dtype):
    lead, per_channel = LAYOUTS[layout]
    x = speech_signal(speech, dtype, lead, dur=1.0)
    ir = room_ir(channels=2 if per_channel else None)
    conv = fastmel.Convolver(ir, block_size=64, dtype=dtype)
    offline = conv(x)
    for split in (0, 1, 777, 5003):
        conv.reset()
        head = conv.process(x[..., :split])
        clone = pickle.loads(pickle.dumps(conv)) if how == "pickle" else copy.deepcopy(conv)
        assert type(clone) is fastmel.Convolver
        assert clone.partitions == conv.partitions
        rest = np.concatenate([clone.process(x[..., split:]), clone.flush()], axis=-1)
        assert_bits_equal(np.concatenate([head, rest], axis=-1), offline, f"{how} at {split}")
        # the original is untouched by its copy's progress
        mine = np.concatenate([conv.process(x[..., split:]), conv.flush()], axis=-1)
        assert_bits_equal(mine, rest, f"original after {how} at {split}")
    fresh = pickle.loads(pickle.dumps(fastmel.Convolver(ir, block_size=64, dtype=dtype)))
    assert_bits_equal(stream_all(fresh, x, [1000]), offline, "pickled fresh convolver")


BAD_CHUNKS = [
    ("nan", lambda x: np.where(np.arange(x.shape[-1]) == 3, np.nan, x).astype(x.dtype),
     ParameterError),
    ("inf", lambda x: np.where(np.arange(x.shape[-1]) == 0, -np.inf, x).astype(x.dtype),
     ParameterError),
    ("int16", lambda x: (x * 32767).astype(np.int16), TypeError),
    ("bool", lambda x: x > 0, TypeError),
    ("complex", lambda x: x.astype(np.complex64), TypeError),
    ("extra-channel-axis", lambda x: x[None], ParameterError),
    ("scalar", lambda x: x.reshape(-1)[0], ParameterError),
]


@pytest.mark.parametrize("name, make_bad, err", BAD_CHUNKS, ids=[b[0] for b in BAD_CHUNKS])
@pytest.mark.parametrize("layout", ["mono", "stereo-mono-ir", "stereo-per-channel"])
def test_convolver_rejected_chunk_leaves_state_unchanged(name, make_bad, err, layout, speech):
    lead, per_channel = LAYOUTS[layout]
    dtype = np.float32
    x = speech_signal(speech, dtype, lead, dur=0.5)
    ir = room_ir(2000, channels=2 if per_channel else None)
    conv = fastmel.Convolver(ir, block_size=64, dtype=dtype)
    offline = conv(x)
    outs = [conv.process(x[..., :1001])]
    with pytest.raises(err):
        conv.process(make_bad(x[..., 1001:1101]))
    outs += [conv.process(x[..., 1001:]), conv.flush()]
    assert_bits_equal(np.concatenate(outs, axis=-1), offline, f"after rejected {name}")
    if name == "extra-channel-axis":
        return  # a valid first chunk: only a stream with a fixed layout rejects it
    # rejected as the very first chunk: the stream is still new (layout not fixed)
    with pytest.raises(err):
        conv.process(make_bad(x[..., :100]))
    assert_bits_equal(stream_all(conv, x, [999]), offline, f"after rejected first {name}")


def test_convolver_wrong_leading_shape_and_channel_count(speech):
    x = speech_signal(speech, np.float64, (2,), dur=0.25)
    conv = fastmel.Convolver(room_ir(500, channels=2), dtype=np.float64)
    mono_ir = fastmel.Convolver(room_ir(500), dtype=np.float64)
    # two per-channel IRs: a first chunk with 1 or 3 channels is a ParameterError
    for bad in (x[0], np.stack([x[0], x[1], x[0]])):
        with pytest.raises(ParameterError):
            conv.process(bad[..., :50])
    heads = [c.process(x[..., :50]) for c in (conv, mono_ir)]
    # once a stream carries (2,), chunks shaped (1,), (), (2, 1) are rejected
    for bad in (x[:1, 50:60], x[0, 50:60], x[:, None, 50:60]):
        for c in (conv, mono_ir):
            with pytest.raises(ParameterError):
                c.process(bad)
    for c, head in zip((conv, mono_ir), heads):
        rest = np.concatenate([c.process(x[..., 50:]), c.flush()], axis=-1)
        assert_bits_equal(np.concatenate([head, rest], axis=-1), c(x))


def test_convolver_output_dtype_is_working_precision(speech):
    x = speech(SR, np.float64, dur=0.2)
    ir = room_ir(300)
    c32 = fastmel.Convolver(ir, dtype=np.float32)
    y = np.concatenate([c32.process(x), c32.flush()])
    assert y.dtype == np.float32
    # float64 samples are rounded to float32 on the way in: SPEC 2 float32 tolerance
    assert_close_rel(y, reference(x.astype(np.float32), ir.astype(np.float32)),
                     RTOL_F32, F32_REASON, check_dtype=False)


@pytest.mark.parametrize("kwargs, err", [
    (dict(ir=np.zeros(0)), ParameterError),
    (dict(ir=np.zeros((2, 0))), ParameterError),
    (dict(ir=np.array([1.0, np.nan, 0.5])), ParameterError),
    (dict(ir=np.array([np.inf, 0.5])), ParameterError),
    (dict(ir=np.ones((2, 2, 10))), ParameterError),
    (dict(ir=np.float64(1.0)), ParameterError),
    (dict(block_size=0), ParameterError),
    (dict(block_size=-1), ParameterError),
    (dict(block_size=1.5), ParameterError),
    (dict(block_size=256.0), ParameterError),
    (dict(block_size=True), ParameterError),
    (dict(block_size=None), ParameterError),
    (dict(block_size="256"), ParameterError),
    (dict(dtype=np.int16), ParameterError),
    (dict(dtype=np.complex64), ParameterError),
    (dict(dtype=np.float16), ParameterError),
    (dict(ir=np.ones(10, dtype=np.int32)), TypeError),
    (dict(ir=np.ones(10, dtype=np.complex128)), TypeError),
])
def test_convolver_parameter_errors(kwargs, err):
    args = dict(ir=np.ones(10), block_size=256, dtype=np.float32)
    args.update(kwargs)
    with pytest.raises(err) as info:
        fastmel.Convolver(args.pop("ir"), **args)
    if err is ParameterError:
        assert isinstance(info.value, ValueError)
