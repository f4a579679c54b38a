"""Microphone band limits: ``fastmel.Bandpass``, ``design.butter_bandpass`` and
``design.bandpass_fir`` (public as ``filters.butter_bandpass`` and ``filters.bandpass_fir``).

SPEC "Recording simulation", "Streaming protocol", "Errors" and section 2:
``Bandpass`` equals ``scipy.signal.sosfilt(scipy.signal.butter(order, [low, high],
btype="bandpass", fs=sr, output="sos"), x)`` within 1e-5 (float32) / 1e-10
(float64) of the output's largest magnitude, streams bit-identically however
the input is cut, keeps float64 state (also for float32 audio) and keeps its
recursion out of denormal numbers.

References are computed by scipy in float64 from the very samples fastmel
receives (float32 audio widens exactly).
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
from fastmel.design import bandpass_fir, butter_bandpass

DTYPES = [np.float32, np.float64]
LAYOUTS = {"mono": (), "stereo": (2,), "batch": (2, 3)}
# (sr, low_hz, high_hz, order): telephone band, wide microphone bands, a very
# narrow band (poles close to the unit circle), first order, a high order.
BANDS = [
    (16000, 300, 3400, 4),
    (16000, 50, 7000, 4),
    (16000, 100, 7900, 8),
    (16000, 3000, 3100, 1),
    (22050, 20, 8000, 8),
    (22050, 1000, 1010, 2),
    (22050, 80, 10000, 6),
]
BAND_IDS = [f"{sr}-{lo}-{hi}-o{o}" for sr, lo, hi, o in BANDS]
# SPEC 2 tolerances, relative to the output's largest magnitude.
F32_REASON = "float64 recursion rounded to float32 output vs float64 reference (SPEC 2)"
F64_REASON = "float64 recursion: rounding order and the denormal guard only (SPEC 2)"
# The sections are computed by another route than scipy's (zpk transforms):
# 1e-12 absolute covers rounding of coefficients of magnitude <= ~6.
SOS_ATOL = 1e-12
# firwin's taps are a windowed sinc of magnitude <= 1: 1e-12 covers rounding.
FIR_ATOL = 1e-12


def reason_for(dtype):
    return F32_REASON if np.dtype(dtype) == np.float32 else F64_REASON


def scipy_sos(sr, low, high, order):
    return scipy.signal.butter(order, [low, high], btype="bandpass", fs=sr, output="sos")


def reference(x, sr, low, high, order):
    return scipy.signal.sosfilt(scipy_sos(sr, low, high, order),
                                np.asarray(x, dtype=np.float64), axis=-1)


def speech_signal(speech, sr, dtype, lead, dur=1.0, start=0.2):
    if not lead:
        return speech(sr, dtype, start=start, dur=dur)
    return np.ascontiguousarray(multichannel(speech, sr, dtype, lead, dur=dur))


def stream_all(bp, x, sizes):
    """Feed x in chunks (each output as long as its chunk); flush() owes nothing."""
    outs = []
    for a, b in cut(x.shape[-1], sizes):
        out = bp.process(x[..., a:b])
        assert out.shape == x.shape[:-1] + (b - a,)
        outs.append(out)
    tail = bp.flush()
    assert isinstance(tail, np.ndarray) and tail.size == 0 and tail.shape[-1] == 0, \
        "an IIR filter owes nothing at flush()"
    return np.concatenate(outs, axis=-1)


# --- coefficients -------------------------------------------------------------

@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100, 48000])
@pytest.mark.parametrize("order", range(1, 11))
def test_butter_bandpass_equals_scipy_sos(sr, order):
    bands = [(300, 3400), (50, 0.45 * sr), (20, 7000), (1000, 1010), (0.5, 100),
             (0.3 * sr, 0.49 * sr), (200, sr / 2 - 30), (5, 60)]
    for low, high in bands:
        if high >= sr / 2:
            continue
        got = butter_bandpass(sr, low, high, order=order)
        ref = scipy_sos(sr, low, high, order)
        assert got.shape == ref.shape == (order, 6)
        assert got.dtype == np.float64
        err = np.max(np.abs(got - ref))
        assert err <= SOS_ATOL, f"band {low}-{high} Hz: max |sos - scipy| {err:.3e}"


@pytest.mark.parametrize("sr, low, high", [
    (16000, 10, 7990), (22050, 1, 11024), (48000, 50, 23950),   # symmetric band edges
    (22050, 50, 11024), (44100, 50, 22049),                       # 1 Hz below Nyquist
])
@pytest.mark.parametrize("order", [2, 5, 8])
def test_butter_bandpass_extreme_edges_filter_like_scipy(sr, low, high, order, speech):
    """Bands whose edges mirror each other around sr/4, or sit 1 Hz below Nyquist.
    With mirrored edges the poles near z = 1 and z = -1 have equal radii, so the
    section order scipy picks is decided by its own rounding; the comparison is
    therefore made on the filtered signal (SPEC 2), not on the coefficients."""
    x = speech(22050, np.float64, dur=0.5)
    sos = butter_bandpass(sr, low, high, order=order)
    ref = reference(x, sr, low, high, order)
    # SPEC 2: float64 within 1e-10 of the output's max
    assert_close_rel(scipy.signal.sosfilt(sos, x), ref, RTOL_F64, F64_REASON)
    assert_close_rel(fastmel.Bandpass(sr, low, high, order=order)(x), ref, RTOL_F64,
                     F64_REASON)


@pytest.mark.parametrize("num_taps", [1, 2, 3, 4, 31, 64, 101, 255, 512])
@pytest.mark.parametrize("sr, low, high", [(16000, 300, 3400), (16000, 50, 7900),
                                           (22050, 1000, 1010), (48000, 20, 20000),
                                           (8000, 0.5, 3999.5)])
def test_bandpass_fir_equals_firwin(num_taps, sr, low, high):
    got = bandpass_fir(sr, low, high, num_taps=num_taps)
    ref = scipy.signal.firwin(num_taps, [low, high], pass_zero=False, fs=sr)
    assert got.shape == (num_taps,)
    assert np.max(np.abs(got - ref)) <= FIR_ATOL


def test_bandpass_fir_through_convolver_is_linear_phase(speech):
    """The FIR taps drive a Convolver as SPEC's linear-phase alternative: equal to
    scipy's lfilter with firwin's taps."""
    x = speech(16000, np.float64, dur=0.5)
    taps = bandpass_fir(16000, 300, 3400, num_taps=101)
    # symmetric taps (linear phase), up to the rounding of the sinc evaluation
    assert np.max(np.abs(taps - taps[::-1])) <= FIR_ATOL
    y = fastmel.Convolver(taps, dtype=np.float64).process(x)
    ref = scipy.signal.lfilter(scipy.signal.firwin(101, [300, 3400], pass_zero=False,
                                                   fs=16000), 1.0, x)
    # SPEC 2: float64 within 1e-10 of the output's max
    assert_close_rel(y, ref, RTOL_F64, "float64 FIR, summation order only")



def test_band_pass_designs_keep_their_public_names_in_filters():
    """SPEC names ``fastmel.filters.bandpass_fir``; the designs live in fastmel.design."""
    import fastmel.design
    import fastmel.filters

    assert fastmel.filters.bandpass_fir is fastmel.design.bandpass_fir
    assert fastmel.filters.butter_bandpass is fastmel.design.butter_bandpass
    assert {"bandpass_fir", "butter_bandpass"} <= set(fastmel.filters.__all__)

# --- offline vs scipy ----------------------------------------------------------------

@pytest.mark.parametrize("band", BANDS, ids=BAND_IDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bandpass_matches_sosfilt(band, dtype, speech):
    sr, low, high, order = band
    bp = fastmel.Bandpass(sr, low, high, order=order)
    assert bp.latency == 0
    # 2.9 s: an excerpt with a pause of near-digital silence
    for start in (0.2, 2.9):
        x = speech(sr, dtype, start=start, dur=1.0)
        y = bp(x)
        assert y.dtype == np.dtype(dtype)
        assert_close_rel(y, reference(x, *band), rtol_for(dtype), reason_for(dtype),
                         check_dtype=False)


def test_bandpass_sos_matches_its_filter():
    bp = fastmel.Bandpass(16000, 300, 3400, order=4)
    np.testing.assert_allclose(bp.sos, scipy_sos(16000, 300, 3400, 4), rtol=0, atol=SOS_ATOL)


@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bandpass_multichannel(layout, dtype, speech):
    """Every channel is filtered on its own (no state shared between channels)."""
    lead = LAYOUTS[layout]
    x = speech_signal(speech, 16000, dtype, lead, dur=0.5)
    bp = fastmel.Bandpass(16000, 100, 7000, order=3)
    y = bp(x)
    assert y.shape == x.shape and y.dtype == np.dtype(dtype)
    assert_close_rel(y, reference(x, 16000, 100, 7000, 3), rtol_for(dtype), reason_for(dtype),
                     check_dtype=False)
    assert_bits_equal(stream_all(bp.stream(), x, [159, 1, 0, 160]), y)


@pytest.mark.parametrize("n_ch", [2, 3, 5])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bandpass_channel_pairs_give_each_channels_own_bits(n_ch, dtype, speech):
    """The kernel filters channels two at a time (an odd last one alone): each
    channel's output, and its state, are bit for bit those of the channel
    filtered by itself, from a strided view and across chunks."""
    x = speech(16000, dtype, dur=0.4)
    base = np.stack([np.roll(x, 977 * c) * (1 + c) for c in range(n_ch)])
    view = np.repeat(base, 2, axis=-1)[:, ::2]          # strided, equal to base
    bp = fastmel.Bandpass(16000, 300, 3400, order=5)
    y = stream_all(bp.stream(), view, [300, 7, 0, 1000])
    for c in range(n_ch):
        assert_bits_equal(y[c], bp(base[c]), f"channel {c}")
    alone = bp.stream()
    alone.process(base[n_ch - 1])
    together = bp.stream()
    together.process(base)
    assert_bits_equal(together.__reduce__()[1][1][3][n_ch - 1], alone.__reduce__()[1][1][3][0],
                      "last channel's state")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bandpass_float32_runs_float64_state(dtype, speech):
    """float32 audio runs the same float64 recursion: its output is the float64
    stream's output on the widened samples, rounded once to float32."""
    x32 = speech(16000, np.float32, start=2.9, dur=1.0)
    for sr, low, high, order in BANDS[:3]:
        bp = fastmel.Bandpass(sr, low, high, order=order)
        assert_bits_equal(bp(x32), bp(x32.astype(np.float64)).astype(np.float32),
                          f"{low}-{high} Hz")


# --- streaming -----------------------------------------------------------------------

@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_bandpass_random_chunkings_bit_exact(data, speech):
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    band = data.draw(st.sampled_from(BANDS), label="band")
    lead = LAYOUTS[data.draw(st.sampled_from(list(LAYOUTS)), label="layout")]
    n = data.draw(st.sampled_from([22050, 4000, 161, 160, 159, 2, 1, 0]), label="n")
    sr = band[0]
    x = speech_signal(speech, sr, dtype, lead, dur=max(n, 1) / sr + 0.01)[..., :n]
    memory = data.draw(st.sampled_from(["C", "strided", "reversed"]), label="memory")
    if memory == "strided":
        wide = np.zeros(x.shape[:-1] + (2 * n,), dtype=dtype)
        wide[..., ::2] = x
        x = wide[..., ::2]
    elif memory == "reversed":
        x = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    special = [0, 1, 2, 3, 7, 13, 97, 159, 160, 161, 511, 512, 4096, 10007]
    sizes = data.draw(st.lists(st.one_of(st.sampled_from(special), st.integers(0, 1000)),
                               min_size=1, max_size=12), label="sizes")
    bp = fastmel.Bandpass(*band[:3], order=band[3])
    offline = bp(np.ascontiguousarray(x))
    assert offline.shape == x.shape
    assert_bits_equal(stream_all(bp, x, sizes), offline, f"sizes {sizes}")
    # flush() ended the stream: the next one starts from rest
    assert_bits_equal(stream_all(bp, x, [160]), offline, "after flush")


@pytest.mark.parametrize("layout", ["mono", "batch"])
def test_bandpass_flush_is_empty_in_the_stream_dtype(layout, speech, dtype):
    """flush() owes nothing: an empty (..., 0) array of the dtype the stream
    returns, so concatenating every output and flush() keeps the offline dtype."""
    x = speech_signal(speech, 16000, dtype, LAYOUTS[layout], dur=0.1)
    bp = fastmel.Bandpass(16000, 300, 3400)
    out = bp.process(x)
    tail = bp.flush()
    assert tail.shape == x.shape[:-1] + (0,)
    assert tail.dtype == out.dtype == np.dtype(dtype), \
        f"flush() dtype {tail.dtype}, process() dtype {out.dtype}"


def test_bandpass_one_sample_and_prime_chunks(speech, dtype):
    x = speech(16000, dtype, dur=1.0)
    bp = fastmel.Bandpass(16000, 300, 3400)
    offline = bp(x)
    for sizes in ([1], [2, 3, 5, 7, 11, 13, 0], [160], [16000]):
        assert_bits_equal(stream_all(bp, x, sizes), offline, f"sizes {sizes}")


def test_bandpass_zero_latency_impulse(dtype):
    """Nothing before an impulse; its response starts at the impulse, sample by sample."""
    sr, low, high, order = BANDS[0]
    p, n = 777, 4000
    x = np.zeros(n, dtype=dtype)
    x[p] = 1.0
    bp = fastmel.Bandpass(sr, low, high, order=order)
    outs = [bp.process(x[a:b]) for a, b in cut(n, [1, 100, 0, 37])]
    y = np.concatenate(outs)
    assert np.all(y[:p] == 0.0)
    assert y[p] != 0.0
    h = scipy.signal.sosfilt(scipy_sos(sr, low, high, order), np.eye(1, n - p)[0])
    assert_close_rel(y[p:], h.astype(dtype), rtol_for(dtype), reason_for(dtype))


def test_bandpass_call_leaves_stream_state_alone(speech):
    x = speech(16000, np.float64, dur=0.5)
    bp = fastmel.Bandpass(16000, 300, 3400)
    offline = bp(x)
    head = bp.process(x[:3000])
    assert_bits_equal(bp(x), offline, "offline call mid-stream")
    assert_bits_equal(np.concatenate([head, bp.process(x[3000:])]), offline)
    fresh = bp.stream()
    assert type(fresh) is fastmel.Bandpass and fresh is not bp
    assert_bits_equal(fresh.process(x), offline)


def test_bandpass_call_and_stream_reuse_the_design(monkeypatch, speech):
    """A whole-signal call (and stream()) takes this object's sections instead of
    designing them again (that cost ~60 us per call, a tenth of filtering 10 s of
    audio); the new stream is what the constructor would give."""
    x = speech(16000, np.float32, dur=0.5)
    bp = fastmel.Bandpass(16000, 300, 3400, order=4)
    want = bp.stream().process(x)

    def no_design(*args, **kwargs):
        raise AssertionError("the filter was designed again")

    monkeypatch.setattr(fastmel.iir, "butter_bandpass", no_design)
    assert_bits_equal(bp(x), want, "call")
    fresh = bp.stream()
    assert type(fresh) is fastmel.Bandpass and repr(fresh) == repr(bp)
    assert (fresh.sr, fresh.low_hz, fresh.high_hz, fresh.order) == (16000, 300, 3400, 4)
    assert not fresh.sos.flags.writeable and fresh.sos is not bp.sos
    assert_bits_equal(fresh.sos, bp.sos, "sos")
    monkeypatch.undo()
    # a pickle still names the parameters: unpickling designs (and checks) the filter
    fresh.process(x[:100])
    assert_bits_equal(pickle.loads(pickle.dumps(fresh)).process(x[100:]), want[100:], "pickle")


def test_bandpass_subclass_stream_runs_its_constructor(speech):
    class Tagged(fastmel.Bandpass):
        def __init__(self, sr, low_hz, high_hz, *, order=4):
            super().__init__(sr, low_hz, high_hz, order=order)
            self.tag = "mic"

    x = speech(16000, np.float64, dur=0.2)
    fresh = Tagged(16000, 300, 3400).stream()
    assert type(fresh) is Tagged and fresh.tag == "mic"
    assert_bits_equal(fresh.process(x), fastmel.Bandpass(16000, 300, 3400)(x), "subclass")


def test_bandpass_reset_mid_stream(speech, dtype):
    x = speech(16000, dtype, dur=0.5)
    stereo = speech_signal(speech, 16000, dtype, (2,), dur=0.3)
    bp = fastmel.Bandpass(16000, 50, 7000, order=6)
    bp.process(x[:1234])
    bp.reset()
    assert_bits_equal(stream_all(bp, x, [500]), bp(x), "after reset")
    # reset (and flush) free the channel layout
    bp.process(x[:100])
    bp.reset()
    assert_bits_equal(stream_all(bp, stereo, [333]), bp(stereo), "stereo after mono")


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("layout", ["mono", "batch"])
def test_bandpass_copy_mid_stream_continues_identically(how, layout, speech, dtype):
    x = speech_signal(speech, 16000, dtype, LAYOUTS[layout], dur=0.5)
    bp = fastmel.Bandpass(16000, 50, 7000, order=5)
    offline = bp(x)
    for split in (0, 1, 2345):
        bp.reset()
        head = bp.process(x[..., :split])
        clone = pickle.loads(pickle.dumps(bp)) if how == "pickle" else copy.deepcopy(bp)
        assert type(clone) is fastmel.Bandpass
        rest = clone.process(x[..., split:])
        assert_bits_equal(np.concatenate([head, rest], axis=-1), offline, f"{how} at {split}")
        assert_bits_equal(bp.process(x[..., split:]), rest, f"original after {how}")
    assert repr(pickle.loads(pickle.dumps(bp))) == repr(bp)


BAD_CHUNKS = [
    ("nan", lambda x: np.where(np.arange(x.shape[-1]) == 5, np.nan, x).astype(x.dtype),
     ParameterError),
    ("inf", lambda x: np.where(np.arange(x.shape[-1]) == 0, np.inf, x).astype(x.dtype),
     ParameterError),
    ("int16", lambda x: (x * 32767).astype(np.int16), TypeError),
    ("complex", lambda x: x.astype(np.complex128), TypeError),
    ("bool", lambda x: x > 0, TypeError),
    ("extra-axis", lambda x: x[None], ParameterError),
    ("missing-axis", lambda x: x.reshape(-1)[:7] if x.ndim > 1 else x[0], ParameterError),
]


@pytest.mark.parametrize("name, make_bad, err", BAD_CHUNKS, ids=[b[0] for b in BAD_CHUNKS])
@pytest.mark.parametrize("layout", ["mono", "stereo"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_bandpass_rejected_chunk_leaves_state_unchanged(name, make_bad, err, layout, dtype,
                                                        speech):
    x = speech_signal(speech, 16000, dtype, LAYOUTS[layout], dur=0.25)
    bp = fastmel.Bandpass(16000, 300, 3400)
    offline = bp(x)
    outs = [bp.process(x[..., :1000])]
    with pytest.raises(err):
        bp.process(make_bad(x[..., 1000:1100]))
    outs.append(bp.process(x[..., 1000:]))
    assert_bits_equal(np.concatenate(outs, axis=-1), offline, f"after rejected {name}")
    if name in ("nan", "inf", "int16", "complex", "bool"):
        # rejected as the first chunk: the stream is still at rest, layout free
        bp.reset()
        with pytest.raises(err):
            bp.process(make_bad(x[..., :100]))
        assert_bits_equal(stream_all(bp, x, [999]), offline, f"after rejected first {name}")


# --- the recursion, sample by sample -------------------------------------------------

def recursion_reference(sos, x, state, pos):
    """The documented recursion written out sample by sample in Python floats
    (IEEE doubles, no fused multiply-add): every section in scipy's transposed
    direct form II, then the denormal guard, (z + 1e-200) - 1e-200 on every
    state, after each stream sample whose index is 7 mod 8."""
    z = [float(v) for v in state]
    out = []
    for i, sample in enumerate(x):
        v = float(sample)
        for s, (b0, b1, b2, _, a1, a2) in enumerate(sos.tolist()):
            o = b0 * v + z[2 * s]
            z[2 * s] = b1 * v - a1 * o + z[2 * s + 1]
            z[2 * s + 1] = b2 * v - a2 * o
            v = o
        out.append(v)
        if (pos + i) % 8 == 7:
            z = [(v + 1e-200) - 1e-200 for v in z]
    return np.array(out), np.array(z)


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 7, 9])
@pytest.mark.parametrize("dtype", DTYPES)
def test_bandpass_bits_equal_the_sample_by_sample_recursion(order, dtype, speech):
    """However the kernel orders its loops (blocks of samples, groups of sections
    held in registers), every output and state is the per-sample recursion's, bit
    for bit, guards included.  The stream starts mid-way (position 13, not a
    multiple of 8) from states of about 1e-205, which the guards round while the
    input is silent, then speech follows; 400 and 300 samples cross the kernel's blocks."""
    sr, low, high = 16000, 300, 3400
    bp = fastmel.Bandpass(sr, low, high, order=order)
    rng = np.random.default_rng(order)
    state = rng.standard_normal((1, 2 * bp.sos.shape[0])) * 1e-205
    silence, voice = np.zeros(400, dtype), speech(sr, dtype, dur=300 / sr)
    stream = bp.stream()
    stream._set_state(((), np.dtype(dtype).str, 13, state))
    want_y, want_state = recursion_reference(bp.sos, silence, state[0], 13)
    assert_bits_equal(stream.process(silence), want_y.astype(dtype))
    # float32 output of such states is 0: the guards show in the state
    assert_bits_equal(stream.__reduce__()[1][1][3][0], want_state)
    want_y, want_state = recursion_reference(bp.sos, voice, want_state, 13 + 400)
    assert_bits_equal(stream.process(voice), want_y.astype(dtype))
    assert_bits_equal(stream.__reduce__()[1][1][3][0], want_state)


# --- digital silence: no denormals -----------------------------------------------------

@pytest.mark.parametrize("band", BANDS[:3], ids=BAND_IDS[:3])
def test_bandpass_silence_after_signal_has_no_denormals(band, speech):
    """Speech, then 8 s of digital silence (longer than the slowest decay to the
    guard level).  SPEC: the recursion stays out of denormal numbers.  Observed
    behaviour: float64 output is never subnormal and settles far below any audible
    level; float32 output (the float64 state rounded) becomes exactly 0.0."""
    sr, low, high, order = band
    x = np.concatenate([speech(sr, np.float64, dur=1.0), np.zeros(8 * sr)])
    tiny64 = np.finfo(np.float64).tiny
    y64 = fastmel.Bandpass(sr, low, high, order=order)(x)
    mag = np.abs(y64)
    assert np.all((mag == 0.0) | (mag >= tiny64)), \
        f"{np.sum((mag > 0) & (mag < tiny64))} subnormal float64 outputs"
    # last second of silence: at most the guard's resolution (about 1e-216),
    # far above subnormals and far below anything audible
    assert np.max(mag[-sr:]) < 1e-200
    # scipy's float64 result differs only by those sub-1e-200 values (SPEC 2)
    assert_close_rel(y64, reference(x, *band), RTOL_F64, F64_REASON)

    y32 = fastmel.Bandpass(sr, low, high, order=order)(x.astype(np.float32))
    assert np.all(y32[-sr:] == 0.0), "float32 output after long silence must be exactly 0"
    assert_close_rel(y32, reference(x.astype(np.float32), *band), RTOL_F32, F32_REASON,
                     check_dtype=False)


def test_bandpass_silence_streamed_in_small_chunks_has_no_denormals(speech):
    """The same through 160-sample chunks (the state is carried between calls)."""
    x = np.concatenate([speech(16000, np.float64, dur=0.5), np.zeros(5 * 16000)])
    bp = fastmel.Bandpass(16000, 300, 3400)
    y = stream_all(bp, x, [160])
    mag = np.abs(y)
    assert np.all((mag == 0.0) | (mag >= np.finfo(np.float64).tiny))
    assert np.max(mag[-16000:]) < 1e-200


# --- errors -----------------------------------------------------------------------------

BAD_PARAMS = [
    dict(low_hz=0), dict(low_hz=-10), dict(low_hz=8000), dict(low_hz=9000),
    dict(high_hz=8000), dict(high_hz=8000.5), dict(high_hz=0), dict(high_hz=-1),
    dict(low_hz=3400, high_hz=300), dict(low_hz=1000, high_hz=1000),
    dict(low_hz=np.nan), dict(high_hz=np.inf), dict(low_hz=-np.inf),
    dict(sr=0), dict(sr=-16000), dict(sr=np.nan), dict(sr=np.inf),
    dict(sr=4000),  # high_hz 3400 > Nyquist 2000
    dict(low_hz="300"), dict(low_hz=None), dict(sr=None),
]


@pytest.mark.parametrize("kwargs", BAD_PARAMS, ids=[repr(k) for k in BAD_PARAMS])
@pytest.mark.parametrize("func", ["Bandpass", "butter_bandpass", "bandpass_fir"])
def test_band_parameter_errors(kwargs, func):
    args = dict(sr=16000, low_hz=300, high_hz=3400)
    args.update(kwargs)
    call = {
        "Bandpass": lambda: fastmel.Bandpass(args["sr"], args["low_hz"], args["high_hz"]),
        "butter_bandpass": lambda: butter_bandpass(args["sr"], args["low_hz"], args["high_hz"]),
        "bandpass_fir": lambda: bandpass_fir(args["sr"], args["low_hz"], args["high_hz"],
                                             num_taps=31),
    }[func]
    with pytest.raises(ParameterError):
        call()


@pytest.mark.parametrize("order", [0, -1, 1.5, 4.0, True, None, "4"])
def test_order_errors(order):
    with pytest.raises(ParameterError):
        fastmel.Bandpass(16000, 300, 3400, order=order)
    with pytest.raises(ParameterError):
        butter_bandpass(16000, 300, 3400, order=order)


@pytest.mark.parametrize("num_taps", [0, -3, 2.5, None])
def test_bandpass_fir_num_taps_errors(num_taps):
    with pytest.raises(ParameterError):
        bandpass_fir(16000, 300, 3400, num_taps=num_taps)
