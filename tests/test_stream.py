"""Streaming STFT / MelSpectrogram / MFCC (SPEC "Streaming protocol").

The invariant under test: the concatenation of every ``process`` output and
``flush()`` is the offline result *bit for bit* (same dtype, same shape, same
bytes) for every way of cutting the input, an empty input included (where
offline raises, flush raises), with the documented exceptions (a stream that
saw no chunk at all flushes ``(n_out, 0)``; with ``center=False`` and fewer
than ``n_fft`` samples offline raises and the stream emits nothing).
Only the librosa sanity test uses tolerances (SPEC section 2, from conftest).
"""
import copy
import pickle
import subprocess
import sys
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import librosa

import fastmel
from conftest import (
    RTOL_F32,
    RTOL_F64,
    assert_bits_equal,
    assert_close_rel,
    assert_db_close,
    complex_of,
    cut,
    multichannel,
)
from fastmel import ParameterError

# Short signals are part of these tests; librosa's warning for them is tested elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input signal:UserWarning")

PAD_MODES = ("constant", "reflect", "edge", "symmetric", "linear_ramp")
LAYOUTS = {"mono": (), "stereo": (2,), "batch": (3, 2)}

W1 = dict(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)
W1_DB = dict(W1, to_db=True, top_db=None)

# name -> (extractor class, keyword arguments without dtype)
CONFIGS = {
    # 16 kHz speech front end (W1), log-mel
    "mel-w1-db": (fastmel.MelSpectrogram, W1_DB),
    # librosa defaults (2048/512, 128 mels), power and dB with a scalar ref != 1
    "mel-defaults": (fastmel.MelSpectrogram, dict(sr=22050)),
    "mel-defaults-db-ref": (fastmel.MelSpectrogram,
                            dict(sr=22050, to_db=True, top_db=None, ref=0.5, amin=1e-8)),
    # non-power-of-two FFT sizes
    "mel-400-reflect": (fastmel.MelSpectrogram,
                        dict(sr=16000, n_fft=400, hop_length=160, n_mels=40, power=1.0,
                             pad_mode="reflect")),
    "mel-1000-edge-htk": (fastmel.MelSpectrogram,
                          dict(sr=22050, n_fft=1000, hop_length=250, n_mels=64, htk=True,
                               norm=None, pad_mode="edge")),
    "mel-512-symmetric": (fastmel.MelSpectrogram,
                          dict(sr=16000, n_fft=512, hop_length=128, n_mels=40,
                               pad_mode="symmetric", to_db=True)),
    "mel-1024-linear_ramp": (fastmel.MelSpectrogram,
                             dict(sr=22050, n_fft=1024, hop_length=256, n_mels=64,
                                  window="hamming", pad_mode="linear_ramp")),
    "mel-nocenter-2048": (fastmel.MelSpectrogram,
                          dict(sr=22050, n_fft=2048, hop_length=700, center=False)),
    "mel-nocenter-400-db": (fastmel.MelSpectrogram,
                            dict(sr=16000, n_fft=400, hop_length=160, n_mels=40, center=False,
                                 to_db=True, top_db=None)),
    "stft-w1": (fastmel.STFT, dict(n_fft=512, win_length=400, hop_length=160)),
    "stft-2048-reflect": (fastmel.STFT, dict(n_fft=2048, hop_length=512, pad_mode="reflect")),
    # odd n_fft: the centre padding is (n_fft - 1) / 2 on each side
    "stft-255-edge": (fastmel.STFT, dict(n_fft=255, hop_length=64, pad_mode="edge")),
    # hop larger than the frame: samples between frames are never used
    "stft-256-hop300-symmetric": (fastmel.STFT, dict(n_fft=256, hop_length=300, win_length=200,
                                                     pad_mode="symmetric")),
    # hop 1: every sample completes a frame
    "stft-16-hop1-linear_ramp": (fastmel.STFT, dict(n_fft=16, hop_length=1,
                                                    pad_mode="linear_ramp")),
    "stft-nocenter-1000": (fastmel.STFT, dict(n_fft=1000, hop_length=128, center=False)),
    "mfcc-w1": (fastmel.MFCC, dict(W1, top_db=None, n_mfcc=13)),
    "mfcc-defaults-lifter22-reflect": (fastmel.MFCC, dict(sr=22050, top_db=None, lifter=22,
                                                          pad_mode="reflect")),
    "mfcc-nocenter-dct3": (fastmel.MFCC, dict(sr=16000, n_fft=400, hop_length=160, n_mels=40,
                                              center=False, top_db=None, dct_type=3,
                                              lifter=22)),
}


def make(name, dtype):
    cls, kw = CONFIGS[name]
    return cls(dtype=dtype, **kw)


def sr_of(ext):
    return ext._config.get("sr", 16000) if not isinstance(ext, fastmel.STFT) else 16000


def framing(ext):
    """(n_fft, hop, center, pad_mode) as configured."""
    f = ext.framing
    return f.n_fft, f.hop_length, f.center, f.pad_mode


def out_dtype(ext, dtype):
    return complex_of(dtype) if isinstance(ext, fastmel.STFT) else np.dtype(dtype)


def expected_n_out(ext):
    if isinstance(ext, fastmel.STFT):
        return ext.framing.n_fft // 2 + 1
    if isinstance(ext, fastmel.MFCC):
        return min(ext._config["n_mfcc"], ext.melspec.n_mels)
    return ext._config["n_mels"]


def expected_stream(ext, y):
    """What a complete stream of y must return: the offline result (raising
    where offline raises), or the documented empty result."""
    n_fft, _, center, _ = framing(ext)
    n = y.shape[-1]
    empty = np.empty(y.shape[:-1] + (expected_n_out(ext), 0), dtype=out_dtype(ext, ext.dtype))
    if not center and n < n_fft:
        with pytest.raises(ParameterError):
            ext(y)
        return empty
    return ext(y)


def feed(stream, y, sizes, *, check_shape=None):
    """Run y through the stream in chunks; returns the list of outputs incl. flush()."""
    outs = []
    for a, b in cut(y.shape[-1], sizes):
        out = stream.process(y[..., a:b])
        if check_shape is not None:
            check_shape(out)
        outs.append(out)
    out = stream.flush()
    if check_shape is not None:
        check_shape(out)
    outs.append(out)
    return outs


def stream_all(stream, y, sizes):
    return np.concatenate(feed(stream, y, sizes), axis=-1)


def signal(speech, sr, dtype, lead, *, start=0.1, dur=0.5, n=None):
    """Speech of shape lead + (n,): different excerpts per channel."""
    if n is not None:
        dur_needed = max(n, 1) / sr
        y = multichannel(speech, sr, dtype, lead or (1,), dur=dur_needed + 0.01)[..., :n]
    else:
        y = multichannel(speech, sr, dtype, lead or (1,), dur=dur)
        if start != 0.1:  # shift every channel to a later excerpt (e.g. one with a pause)
            y = np.stack([speech(sr, dtype, start=start + 0.3 * i, dur=dur)
                          for i in range(int(np.prod(lead or (1,))))])
            y = y.reshape(tuple(lead or (1,)) + (y.shape[-1],))
    if not lead:
        y = y[0]
    return np.ascontiguousarray(y)


def chunk_sizes(ext):
    n_fft, hop, _, _ = framing(ext)
    special = sorted({0, 1, 2, 3, 5, 7, 13, 97, max(hop - 1, 0), hop, hop + 1,
                      n_fft - 1, n_fft, n_fft + 1, 4096, 10007, 20011})
    return st.lists(st.one_of(st.sampled_from(special), st.integers(0, 3 * n_fft)),
                    min_size=1, max_size=12)


# --- 1. random chunkings: stream == offline, bit for bit --------------------

@pytest.mark.parametrize("name", list(CONFIGS))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_chunkings_equal_offline(name, data, speech):
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    ext = make(name, dtype)
    n_fft, hop, center, _ = framing(ext)
    layout = data.draw(st.sampled_from(list(LAYOUTS)), label="layout")
    lead = LAYOUTS[layout]
    sr = sr_of(ext)
    short = [0, 1, 5, n_fft // 2, n_fft // 2 + 1, n_fft - 1, n_fft, n_fft + 1,
             2 * n_fft - 1, 2 * n_fft, 2 * n_fft + 1]
    kind = data.draw(st.sampled_from(["speech", "short"]), label="signal")
    if kind == "speech":
        # start 2.9 s: an excerpt with a pause of near-digital silence
        start = data.draw(st.sampled_from([0.1, 1.3, 2.9]), label="start")
        dur = data.draw(st.sampled_from([0.3, 0.5, 1.0]), label="dur")
        y = signal(speech, sr, dtype, lead, start=start, dur=dur)
    else:
        y = signal(speech, sr, dtype, lead, n=data.draw(st.sampled_from(short), label="n"))
    # memory layout of the chunks the stream receives
    mem = data.draw(st.sampled_from(["C", "F", "strided"]), label="memory")
    if mem == "F":
        y = np.asfortranarray(y)
    elif mem == "strided":
        big = np.zeros(y.shape[:-1] + (2 * y.shape[-1],), dtype=y.dtype)
        big[..., ::2] = y
        y = big[..., ::2]
    sizes = data.draw(chunk_sizes(ext), label="sizes")

    s = ext.stream()
    assert s.n_out == expected_n_out(ext)
    want_dtype = out_dtype(ext, dtype)

    def check_shape(out):
        assert out.dtype == want_dtype
        assert out.shape[:-1] == lead + (s.n_out,)

    try:
        ref = expected_stream(ext, np.ascontiguousarray(y))
    except ParameterError:
        # offline refuses it (an empty signal that only constant padding can
        # extend): so does flush(), and the stream starts afresh all the same
        with pytest.raises(ParameterError):
            feed(s, y, sizes, check_shape=check_shape)
        fresh = np.ones(lead + (3 * n_fft,), dtype)
        assert_bits_equal(stream_all(s, fresh, [hop + 1, 0, 1]), ext(fresh),
                          "after a refused flush")
        return
    got = np.concatenate(feed(s, y, sizes, check_shape=check_shape), axis=-1)
    assert_bits_equal(got, ref)
    # the stream starts afresh after flush(): the same signal again gives the same frames
    assert_bits_equal(stream_all(s, y, [hop + 1, 0, 1]), got, "second run after flush")


@pytest.mark.parametrize("name", ["mel-w1-db", "stft-2048-reflect", "mfcc-nocenter-dct3",
                                  "stft-255-edge", "mfcc-w1"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_empty_stream_equals_offline_empty_signal(name, layout):
    """Empty chunks fix the layout; flush() then gives what the offline call gives
    for an empty signal: one frame of padding (even n_fft, constant padding), none
    (odd n_fft, or center=False where offline raises), or the offline error (and
    the stream stays as it was)."""
    lead = LAYOUTS[layout]
    for dtype in (np.float32, np.float64):
        ext = make(name, dtype)
        s = ext.stream()
        y = np.zeros(lead + (0,), dtype=dtype)
        outs = [s.process(y), s.process(y)]
        for o in outs:
            assert o.shape == lead + (s.n_out, 0) and o.dtype == out_dtype(ext, dtype)
        n_fft, _, center, pad_mode = framing(ext)
        if center and pad_mode != "constant":
            with pytest.raises(ParameterError, match="empty"):
                ext(y)
            with pytest.raises(ParameterError, match="empty"):
                s.flush()
            # unchanged, as every call that raises leaves a stream
            assert s.lead == lead and s.samples_in == 0
            with pytest.raises(ParameterError, match="empty"):
                s.flush()
            s.reset()
            assert s.flush().shape == (s.n_out, 0)
            continue
        outs.append(s.flush())
        got = np.concatenate(outs, axis=-1)
        if center:
            ref = ext(y)
            assert ref.shape[-1] == (1 if n_fft % 2 == 0 else 0)
            assert_bits_equal(got, ref)
        else:
            assert got.shape == lead + (s.n_out, 0)
    # a stream that never saw a chunk does not know its leading shape
    out = make("mel-w1-db", np.float32).stream().flush()
    assert out.shape == (80, 0) and out.dtype == np.float32


@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("center", [True, False], ids=["center", "nocenter"])
def test_every_pad_mode_one_sample_and_prime_chunks(pad_mode, center, speech):
    """Deterministic companion of the hypothesis test: every pad mode, both
    centerings, 1-sample chunks and a prime-sized cut, mono/stereo/batch, both dtypes."""
    for dtype in (np.float32, np.float64):
        ext = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40,
                                     center=center, pad_mode=pad_mode, dtype=dtype)
        for lead in LAYOUTS.values():
            y = signal(speech, 16000, dtype, lead, dur=0.25)
            ref = ext(y)
            for sizes in ([1], [7, 13, 0, 161, 509, 1]):
                assert_bits_equal(stream_all(ext.stream(), y, sizes), ref,
                                  f"{pad_mode} {lead} {sizes}")


# --- 2. sanity against librosa ---------------------------------------------

AWKWARD = [1, 159, 160, 161, 0, 511, 4097, 3]


def test_stream_w1_logmel_matches_librosa(speech):
    y = speech(16000, np.float32, dur=1.0)
    s = fastmel.MelSpectrogram(dtype=np.float32, **W1_DB).stream()
    got = stream_all(s, y, AWKWARD)
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, win_length=400,
                                       hop_length=160, n_mels=80),
        ref=1.0, top_db=None)
    # SPEC section 2: dB values within 0.01 dB over the top 80 dB
    assert_db_close(got, ref, "SPEC dB tolerance (float32 path)")


def test_stream_stft_and_mfcc_match_librosa(speech):
    y = np.stack([speech(22050, np.float64, start=0.2, dur=0.8),
                  speech(22050, np.float64, start=2.9, dur=0.8)])
    got = stream_all(fastmel.STFT(n_fft=2048, hop_length=512, pad_mode="reflect",
                                  dtype=np.float64).stream(), y, AWKWARD)
    ref = librosa.stft(y, n_fft=2048, hop_length=512, pad_mode="reflect")
    # SPEC section 2: float64 within 1e-10 of max magnitude (rounding order only)
    assert_close_rel(got, ref, RTOL_F64, "float64 FFT, rounding order only")

    y32 = y.astype(np.float32)
    got = stream_all(fastmel.MFCC(sr=22050, top_db=None, lifter=22,
                                  dtype=np.float32).stream(), y32, AWKWARD)
    S = librosa.power_to_db(librosa.feature.melspectrogram(y=y32, sr=22050), top_db=None)
    ref = librosa.feature.mfcc(S=S, lifter=22)
    # SPEC section 2: float32 within 1e-5 relative to the max (float32 FFT vs float64)
    assert_close_rel(got, ref, RTOL_F32, "float32 path vs librosa")


# --- 3. reset and flush ------------------------------------------------------

@pytest.mark.parametrize("name", ["mel-w1-db", "mel-400-reflect", "stft-255-edge",
                                  "mel-nocenter-2048", "mfcc-defaults-lifter22-reflect"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_reset_mid_stream_then_new_signal(name, dtype, speech):
    ext = make(name, dtype)
    n_fft, hop, _, _ = framing(ext)
    sr = sr_of(ext)
    y1 = signal(speech, sr, dtype, (2,), start=0.1, dur=0.5)
    y2 = signal(speech, sr, dtype, (2,), start=1.7, dur=0.4)
    ref2 = ext(y2)
    # reset at several depths: nothing fed, a 0-sample chunk, fewer than
    # n_fft // 2 + 1 samples (left padding not built yet), mid-stream
    for n1 in (None, 0, n_fft // 2 - 3, n_fft // 2 + 1, 3 * n_fft + 17):
        s = ext.stream()
        if n1 is not None:
            emitted = s.process(y1[..., :n1])
            if n1 > 3 * n_fft:
                assert emitted.shape[-1] > 0  # really mid-stream
        s.reset()
        assert_bits_equal(stream_all(s, y2, [hop + 1, 7, n_fft]), ref2, f"after reset at {n1}")


@pytest.mark.parametrize("name", ["mel-w1-db", "stft-2048-reflect", "mfcc-nocenter-dct3",
                                  "mel-1024-linear_ramp"])
def test_flush_makes_stream_reusable_and_lead_may_change(name, speech):
    dtype = np.float32
    ext = make(name, dtype)
    sr = sr_of(ext)
    s = ext.stream()
    signals = [signal(speech, sr, dtype, (), start=0.1, dur=0.4),
               signal(speech, sr, dtype, (2,), start=1.1, dur=0.3),
               signal(speech, sr, dtype, (3, 2), start=0.5, dur=0.3),
               signal(speech, sr, dtype, (), start=2.9, dur=0.6)]
    for i, y in enumerate(signals):
        assert_bits_equal(stream_all(s, y, [101, 1, 0, 997]), ext(y), f"signal {i} after flush")
    # reset also frees the leading shape: stereo mid-stream, reset, then mono
    s.process(signals[1][..., :1234])
    s.reset()
    assert_bits_equal(stream_all(s, signals[0], [333]), ext(signals[0]), "mono after reset")
    # but without flush/reset the leading shape stays fixed
    s.process(signals[1][..., :10])
    with pytest.raises(ParameterError):
        s.process(signals[0][..., :10])


# --- 4. rejected chunks ------------------------------------------------------

def _with(x, idx, value):
    x = np.array(x, copy=True)
    x[idx] = value
    return x


# reason -> (builder from a good stereo chunk, expected exception)
BAD_CHUNKS = {
    "nan": (lambda c: _with(c, (1, -1), np.nan), ParameterError),
    "inf": (lambda c: _with(c, (0, 0), np.inf), ParameterError),
    "-inf": (lambda c: _with(c, (1, c.shape[-1] // 2), -np.inf), ParameterError),
    "nan-as-float64": (lambda c: _with(c.astype(np.float64), (0, 1), np.nan), ParameterError),
    "nan-as-float16": (lambda c: _with(c.astype(np.float16), (0, 1), np.nan), ParameterError),
    "mono": (lambda c: np.ascontiguousarray(c[0]), ParameterError),
    "three-channels": (lambda c: np.concatenate([c, c[:1]]), ParameterError),
    "extra-axis": (lambda c: c[None], ParameterError),
    "transposed-batch": (lambda c: np.stack([c, c, c]).reshape(2, 3, -1), ParameterError),
    "scalar": (lambda c: c[0, 0], ParameterError),
    "int16": (lambda c: (c * 32767).astype(np.int16), TypeError),
    "int64": (lambda c: (c * 32767).astype(np.int64), TypeError),
    "uint8": (lambda c: (c * 127 + 128).astype(np.uint8), TypeError),
    "bool": (lambda c: c > 0, TypeError),
    "complex64": (lambda c: c.astype(np.complex64), TypeError),
    "complex128": (lambda c: c.astype(np.complex128), TypeError),
    "object": (lambda c: c.astype(object), TypeError),
}


# A wrong leading shape is only wrong once a first chunk has fixed the shape.
LEAD_REASONS = {"mono", "three-channels", "extra-axis", "transposed-batch"}


@pytest.mark.parametrize("reason", list(BAD_CHUNKS))
@pytest.mark.parametrize("name", ["mel-w1-db", "stft-2048-reflect", "mfcc-nocenter-dct3"])
def test_rejected_chunk_leaves_stream_unchanged(reason, name, speech):
    build, exc = BAD_CHUNKS[reason]
    for dtype in (np.float32, np.float64):
        ext = make(name, dtype)
        n_fft, hop, _, _ = framing(ext)
        y = signal(speech, sr_of(ext), dtype, (2,), dur=0.3)
        ref = ext(y)
        s = ext.stream()
        outs = []
        # Bad chunks are tried: on a fresh stream, after a 0-sample chunk, after
        # 1 sample, while reflect's left padding is still pending, after a frame,
        # mid-buffer.  Each has the length of the good chunk that follows (at
        # least 2), so any state change would shift every later frame.
        bounds = cut(y.shape[-1], [0, 1, n_fft // 4, hop + 1, 2 * n_fft + 3, 13])
        for i, (a, b) in enumerate(bounds):
            if i < 8 and not (i == 0 and reason in LEAD_REASONS):
                probe = y[..., a:b] if b - a >= 2 else y[..., :2]
                with pytest.raises(exc):
                    s.process(build(probe))
            outs.append(s.process(y[..., a:b]))
        outs.append(s.flush())
        assert_bits_equal(np.concatenate(outs, axis=-1), ref, f"after rejected {reason}")


@pytest.mark.parametrize("reason", ["nan", "inf", "int16", "complex64", "bool", "scalar"])
def test_rejected_first_chunk_does_not_fix_leading_shape(reason, speech):
    build, exc = BAD_CHUNKS[reason]
    ext = make("stft-2048-reflect", np.float32)
    stereo = signal(speech, 22050, np.float32, (2,), dur=0.3)
    mono = signal(speech, 22050, np.float32, (), start=1.3, dur=0.3)
    s = ext.stream()
    with pytest.raises(exc):
        s.process(build(stereo[..., :100]))
    # a mono stream (not the rejected chunk's stereo) ...
    assert_bits_equal(stream_all(s, mono, [0, 1, 700]), ext(mono), "mono after rejected first")
    # ... and a batch stream, first fed an empty chunk
    s2 = ext.stream()
    with pytest.raises(exc):
        s2.process(build(stereo[..., :100]))
    batch = signal(speech, 22050, np.float32, (3, 2), dur=0.2)
    assert_bits_equal(stream_all(s2, batch, [0, 999]), ext(batch), "batch after rejected first")


@pytest.mark.parametrize("name", ["mel-w1-db", "stft-255-edge", "mfcc-nocenter-dct3"])
def test_other_real_floats_are_converted(name, speech):
    """float16 into any stream, float64 into float32, float32 into float64,
    byte-swapped samples: converted, and equal to the offline call on the same input."""
    for dtype in (np.float32, np.float64):
        ext = make(name, dtype)
        y = signal(speech, sr_of(ext), np.float64, (2,), dur=0.3)
        for feed_dtype in (np.float16, np.float32, np.float64, np.dtype(">f4"), np.dtype(">f8")):
            yf = y.astype(feed_dtype)
            assert_bits_equal(stream_all(ext.stream(), yf, [1, 160, 0, 4099]), ext(yf),
                              f"{np.dtype(feed_dtype)} into {np.dtype(dtype)}")
        # a mix of input dtypes within one stream
        y32 = y.astype(np.float32)
        s = ext.stream()
        outs = [s.process(y32[..., :500].astype(np.float16).astype(np.float32)),
                s.process(y32[..., :500].astype(np.float16)[..., :0]),
                s.process(y32[..., 500:1200].astype(np.float64)),
                s.process(y32[..., 1200:])]
        outs.append(s.flush())
        mixed = np.concatenate([y32[..., :500].astype(np.float16).astype(np.float32),
                                y32[..., 500:]], axis=-1)
        assert_bits_equal(np.concatenate(outs, axis=-1), ext(mixed), "mixed input dtypes")


@pytest.mark.skipif(np.finfo(np.longdouble).nmant <= np.finfo(np.float64).nmant,
                    reason="np.longdouble is float64 on this platform")
def test_longdouble_chunks_equal_offline():
    """np.longdouble is another real float: the stream must convert it as the
    offline call does.  Samples just above a float32 rounding midpoint (by less
    than a float64 can hold) round differently when converted directly to
    float32 than when converted to float64 first, so this catches a stream and
    an offline path that convert by different routes."""
    rng = np.random.default_rng(1)
    b = rng.standard_normal(4000).astype(np.float32)
    ulp = np.spacing(np.abs(b)).astype(np.longdouble)
    y = b.astype(np.longdouble) + ulp / 2 + ulp * np.longdouble(2.0 ** -40)
    assert np.any(y.astype(np.float32) != y.astype(np.float64).astype(np.float32))
    ext = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40,
                                 dtype=np.float32)
    assert_bits_equal(stream_all(ext.stream(), y, [1234]), ext(y), "longdouble into float32")


# --- 5. pickle / deepcopy mid-stream ---------------------------------------

PICKLE_CASES = [("mel-w1-db", np.float32, ()),
                ("stft-2048-reflect", np.float64, (2,)),
                ("mfcc-nocenter-dct3", np.float32, (3, 2)),
                ("stft-16-hop1-linear_ramp", np.float64, ()),
                ("mel-1000-edge-htk", np.float32, (2,))]


def _pickle_points(ext):
    """Samples fed before the copy: none (fresh), a 0-sample chunk only, left
    padding pending, just past it, mid-stream."""
    n_fft, hop, _, _ = framing(ext)
    return [None, 0, n_fft // 2 - 1, n_fft // 2 + 1, 5 * n_fft + hop // 2 + 3]


def _prefix(s, y, n1, sizes=(97, 1, 0, 300)):
    """Feed y[..., :n1] in chunks; return the outputs."""
    if n1 is None:
        return []
    return [s.process(y[..., a:b]) for a, b in cut(n1, list(sizes))]


def _rest_chunks(y, n1, sizes=(1, 161, 4099, 0, 13)):
    start = n1 or 0
    return [y[..., start + a:start + b] for a, b in cut(y.shape[-1] - start, list(sizes))]


def _finish(s, chunks):
    return [s.process(c) for c in chunks] + [s.flush()]


@pytest.mark.parametrize("name,dtype,lead", PICKLE_CASES,
                         ids=[f"{c[0]}-{np.dtype(c[1])}-{len(c[2])}" for c in PICKLE_CASES])
def test_pickle_and_deepcopy_mid_stream(name, dtype, lead, speech):
    ext = make(name, dtype)
    y = signal(speech, sr_of(ext), dtype, lead, dur=0.4)
    ref = ext(y)
    for n1 in _pickle_points(ext):
        s = ext.stream()
        head = _prefix(s, y, n1)
        rest = _rest_chunks(y, n1)
        blob = pickle.dumps(s, protocol=pickle.HIGHEST_PROTOCOL)
        copies = {"pickle": pickle.loads(blob), "deepcopy": copy.deepcopy(s),
                  "pickle-0": pickle.loads(pickle.dumps(s, protocol=0))}
        # the copies are independent: run the original to the end first
        whole = np.concatenate(head + _finish(s, rest), axis=-1)
        assert_bits_equal(whole, ref, f"uninterrupted, cut at {n1}")
        for how, c in copies.items():
            assert type(c) is type(s)
            assert c.latency == s.latency and c.n_out == s.n_out
            got = np.concatenate(head + _finish(c, rest), axis=-1)
            assert_bits_equal(got, ref, f"{how} at {n1}")
        # a pickled copy keeps the leading shape it was given
        if n1 is not None:
            c = pickle.loads(blob)
            wrong = np.zeros(lead + (1, 5), dtype=dtype)
            with pytest.raises(ParameterError):
                c.process(wrong)


_CHILD = r"""
import pickle, sys
jobs = pickle.load(sys.stdin.buffer)
results = []
for stream, chunks, ext, y in jobs:
    outs = [stream.process(c) for c in chunks]
    outs.append(stream.flush())
    results.append((outs, ext(y)))  # the child's own offline result, for diagnosis
pickle.dump(results, sys.stdout.buffer)
"""


@pytest.fixture(scope="module")
def child_results(speech):
    """Streams pickled half-way, continued in a fresh interpreter (a
    subprocess: nothing is inherited but the pickled bytes)."""
    jobs, expected = [], []
    for name, dtype, lead in PICKLE_CASES:
        ext = make(name, dtype)
        y = signal(speech, sr_of(ext), dtype, lead, dur=0.4)
        for n1 in (_pickle_points(ext)[2], _pickle_points(ext)[4]):
            s = ext.stream()
            head = _prefix(s, y, n1)
            rest = _rest_chunks(y, n1)
            jobs.append((s, rest, ext, y))
            expected.append((f"{name} {np.dtype(dtype)}", n1, head, ext(y)))
    payload = pickle.dumps(jobs, protocol=pickle.HIGHEST_PROTOCOL)
    proc = subprocess.run([sys.executable, "-c", _CHILD], input=payload, capture_output=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    results = pickle.loads(proc.stdout)
    assert len(results) == len(expected)
    return [e + r for e, r in zip(expected, results)]


def test_pickled_stream_state_continues_in_another_process(child_results):
    """The state arrives intact: the child's frames equal the child's own
    offline frames for the same columns (its FFT plans on both sides)."""
    for what, n1, head, _, tail, child_ref in child_results:
        n_head = sum(h.shape[-1] for h in head)
        assert_bits_equal(np.concatenate(tail, axis=-1), child_ref[..., n_head:],
                          f"{what}: child stream after {n1} samples vs child offline")


def test_pickled_stream_in_another_process_equals_uninterrupted(child_results):
    """The frames a child process computes are bit-identical to the
    uninterrupted stream in this process."""
    for what, n1, head, ref, tail, child_ref in child_results:
        got = np.concatenate(head + tail, axis=-1)
        if not np.array_equal(child_ref, ref):
            diff = float(np.max(np.abs(child_ref.astype(np.complex128) - ref)))
            pytest.fail(
                f"{what}: the child's own OFFLINE result differs from this process's (max "
                f"|diff| {diff:.2e}): the FFT plans (FFTW_MEASURE) were chosen differently, "
                f"so no stream state can give identical bits across processes")
        assert_bits_equal(got, ref, f"{what} continued in a child process after {n1} samples")


# --- 6. latency ------------------------------------------------------------

def _formula_latency(n_fft, center, pad_mode):
    lag = n_fft - 1 - n_fft // 2
    if center and pad_mode != "constant":
        lag = max(lag, n_fft // 2)
    return lag


@pytest.mark.parametrize("n_fft", [16, 255, 256, 400, 511, 512, 2048])
@pytest.mark.parametrize("pad_mode", PAD_MODES)
@pytest.mark.parametrize("center", [True, False], ids=["center", "nocenter"])
def test_latency_value(n_fft, pad_mode, center):
    for ext in (fastmel.STFT(n_fft=n_fft, hop_length=64, center=center, pad_mode=pad_mode),
                fastmel.MelSpectrogram(sr=16000, n_fft=n_fft, hop_length=100, n_mels=8,
                                       center=center, pad_mode=pad_mode)):
        lat = ext.stream().latency
        assert type(lat) is int
        assert lat == _formula_latency(n_fft, center, pad_mode)


LATENCY_CASES = [
    dict(n_fft=512, hop_length=160, pad_mode="constant"),
    dict(n_fft=512, hop_length=160, pad_mode="reflect"),
    dict(n_fft=255, hop_length=64, pad_mode="reflect"),
    dict(n_fft=400, hop_length=100, pad_mode="edge"),
    dict(n_fft=256, hop_length=300, pad_mode="constant"),
    dict(n_fft=512, hop_length=160, center=False),
    dict(n_fft=512, hop_length=160, center=False, pad_mode="reflect"),
    dict(n_fft=255, hop_length=64, center=False),
]


@pytest.mark.parametrize("case", LATENCY_CASES,
                         ids=["-".join(f"{k}={v}" for k, v in c.items()) for c in LATENCY_CASES])
def test_latency_one_sample_at_a_time(case, speech):
    ext = fastmel.MelSpectrogram(sr=16000, n_mels=20, dtype=np.float64, **case)
    n_fft, hop, center, pad_mode = framing(ext)
    y = speech(16000, np.float64, dur=0.2)
    s = ext.stream()
    emitted_at = []  # emitted_at[t]: index of the sample whose arrival emitted frame t
    outs = []
    for i in range(len(y)):
        out = s.process(y[i:i + 1])
        emitted_at += [i] * out.shape[-1]
        outs.append(out)
    outs.append(s.flush())
    assert_bits_equal(np.concatenate(outs, axis=-1), ext(y))
    t = np.arange(len(emitted_at))
    centre = t * hop + (0 if center else n_fft // 2)
    wait = np.asarray(emitted_at) - centre
    assert len(emitted_at) > 10
    assert wait.max() == s.latency
    # "frames completed so far": each frame comes out with the sample that
    # completes it (its last sample, and for non-zero padding the sample the
    # left padding is built from), never later
    earliest = centre + (n_fft - 1 - n_fft // 2)
    if center and pad_mode != "constant":
        earliest = np.maximum(earliest, n_fft // 2)
    np.testing.assert_array_equal(np.asarray(emitted_at), earliest)


# --- 7. steady-state allocations ------------------------------------------

def test_steady_state_process_allocates_only_its_output(speech_full):
    """tracemalloc sees numpy's and Python's allocations (not FFTW's own
    mallocs).  100k process calls of 160 samples (W1 log-mel): the traced
    memory after them equals that after a warm-up, up to a small constant;
    a leak of even 16 bytes per call would add 1.5 MB."""
    y = np.array(speech_full[(16000, np.float32)])
    chunks = [y[i:i + 160] for i in range(0, len(y) - 160, 160)]
    s = fastmel.MelSpectrogram(dtype=np.float32, **W1_DB).stream()
    n_warm, n_total = 5000, 100_000
    m = len(chunks)
    tracemalloc.start()
    try:
        out = None
        for i in range(n_warm):
            out = s.process(chunks[i % m])
        del out
        before = tracemalloc.get_traced_memory()[0]
        frames = 0
        for i in range(n_warm, n_total):
            frames += s.process(chunks[i % m]).shape[-1]
        after = tracemalloc.get_traced_memory()[0]
        # one call, measured alone: its peak extra memory is its output array
        # (plus the array object's header, strides and shape: < 512 bytes)
        big = y[:1600]
        s.process(big)
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = s.process(big)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert frames == n_total - n_warm  # one 160-sample hop = one frame
    # slack: a few KiB for interpreter-internal caches (free lists, int objects)
    assert after - before <= 16 * 1024, f"traced memory grew by {after - before} bytes"
    assert out.shape == (80, 10)
    assert peak <= out.nbytes + 512, f"peak {peak} bytes for a {out.nbytes}-byte output"


# --- 8. threads ------------------------------------------------------------

@pytest.mark.parametrize("name", ["mel-w1-db", "stft-2048-reflect",
                                  "mfcc-defaults-lifter22-reflect"])
def test_threads_same_as_sequential(name, speech):
    dtype = np.float32
    ext_a = make(name, dtype)
    ext_b = make(name, dtype)  # an equal configuration: may share the cached kernel
    sr = sr_of(ext_a)
    n_threads = 4
    inputs = [signal(speech, sr, dtype, (2,), start=0.1 + 0.4 * i, dur=1.0)
              for i in range(n_threads)]
    sizes = [[1, 160, 7], [4096], [0, 511, 13, 2049], [97]]
    exts = [ext_a, ext_a, ext_b, ext_b]

    sequential = [stream_all(exts[i].stream(), inputs[i], sizes[i]) for i in range(n_threads)]
    for i in range(n_threads):
        assert_bits_equal(sequential[i], exts[i](inputs[i]), f"sequential {i}")

    results = [None] * n_threads
    errors = []
    barrier = threading.Barrier(n_threads)

    def work(i):
        try:
            s = exts[i].stream()
            barrier.wait()
            results[i] = [stream_all(s, inputs[i], sizes[i]) for _ in range(3)]
        except BaseException as err:  # reported in the main thread
            errors.append(err)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    for i in range(n_threads):
        for r in results[i]:
            assert_bits_equal(r, sequential[i], f"thread {i}")


# --- 9. configurations that cannot stream -----------------------------------

NOT_STREAMABLE = [
    (fastmel.MelSpectrogram, dict(to_db=True, top_db=80.0), "top_db"),
    (fastmel.MelSpectrogram, dict(to_db=True, top_db=0.0), "top_db"),
    (fastmel.MelSpectrogram, dict(to_db=True, top_db=120), "top_db"),
    (fastmel.MelSpectrogram, dict(to_db=True, ref=np.max, top_db=None), "ref"),
    (fastmel.MelSpectrogram, dict(to_db=True, ref=lambda S: np.median(S), top_db=None), "ref"),
    (fastmel.MFCC, dict(), "top_db"),  # MFCC's default top_db=80.0
    (fastmel.MFCC, dict(top_db=40.0, lifter=22), "top_db"),
    (fastmel.MFCC, dict(top_db=None, ref=np.max), "ref"),
]


@pytest.mark.parametrize("cls,kw,word", NOT_STREAMABLE,
                         ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(NOT_STREAMABLE)])
def test_non_causal_configurations_cannot_stream(cls, kw, word):
    ext = cls(sr=16000, n_fft=512, hop_length=160, n_mels=40, **kw)
    with pytest.raises(ParameterError, match=word) as info:
        ext.stream()
    assert "stream" in str(info.value)  # the message says why: it cannot stream
    # the offline call still works
    assert ext(np.zeros(1600, dtype=np.float32)).shape[-1] == 11


@pytest.mark.parametrize("kw", [dict(to_db=True, top_db=None),
                                dict(to_db=True, top_db=None, ref=2.0),
                                dict(to_db=False, top_db=None)])
def test_scalar_ref_without_top_db_streams(kw, speech):
    ext = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40, **kw)
    y = speech(16000, np.float32, dur=0.3)
    assert_bits_equal(stream_all(ext.stream(), y, [160, 1, 999]), ext(y))
