"""fastmel.feature.delta and fastmel.Delta (issue 11).

The offline function equals librosa.feature.delta (orders 1 and 2, widths 3
to 15, every edge mode, float32 and float64, any axis, short inputs, its
savgol_filter keyword arguments) and refuses what it refuses; the stream
equals the offline function bit for bit however the frames are cut, resumes
bit for bit from a pickle, and follows an MFCC stream in a Chain.  The
protocol every stream shares is tested in test_protocol.py (Delta is among
its stages).
"""
import copy
import pickle
from fractions import Fraction

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import fastmel
import librosa
from conftest import RTOL_F32, RTOL_F64, assert_bits_equal, assert_close_rel, rtol_for
from fastmel import ParameterError
from fastmel.deltas import MAX_POLYORDER, MAX_WIDTH, savgol_design

MODES = ["interp", "mirror", "nearest", "constant", "wrap"]
#: what librosa raises for bad parameters: its ParameterError (not a ValueError) or scipy's
LIBROSA_REFUSES = (ValueError, librosa.util.exceptions.ParameterError)
STREAM_MODES = MODES[:-1]
WIDTHS = list(range(3, 16, 2))

#: Why fastmel and librosa may differ, per dtype (tolerances: conftest's, SPEC section 2).
REASON = {
    np.float64: "both sum width products in float64 (coefficients rounded once here, from "
                "scipy's lstsq there; another order of additions): ~1e-15 of the peak",
    np.float32: "both sum in float64 and round once to float32 (1 ulp, 6e-8), but librosa fits "
                "the 'interp' edges in float32 (polyfit on float32 data: ~1e-6 of the peak)",
}


@pytest.fixture(scope="module")
def mfcc_frames(speech_full):
    """Real features: 20 MFCCs of the bundled clip (8.6 s at 16 kHz, hop 512), float64,
    with the large c0 offset that makes float32 fits lose digits."""
    M = fastmel.feature.mfcc(y=speech_full[(16000, np.float64)], sr=16000)
    assert M.shape == (20, 269)
    return M


def frames(lead, n, dtype=np.float64, seed=0):
    """Feature-like frames: a random walk (deltas of a smooth signal) with an offset."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.standard_normal(tuple(lead) + (n,)), axis=-1) + 10 * rng.standard_normal(
        tuple(lead) + (1,))
    return x.astype(dtype)


# --- 1. offline: equal to librosa ---------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("order", [1, 2])
def test_equals_librosa_on_mfccs(mode, order, dtype, mfcc_frames):
    M = mfcc_frames.astype(dtype)
    for width in WIDTHS:
        got = fastmel.feature.delta(M, width=width, order=order, mode=mode)
        want = librosa.feature.delta(M, width=width, order=order, mode=mode)
        assert want.dtype == dtype                    # librosa keeps float32 and float64
        assert got.flags.c_contiguous
        assert_close_rel(got, want, rtol_for(dtype), f"width {width}: {REASON[dtype]}")


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("mode", MODES)
def test_any_axis_and_leading_shape(axis, mode, dtype):
    x = frames((17, 19), 23, dtype, seed=1)
    for order in (1, 2):
        got = fastmel.feature.delta(x, width=7, order=order, axis=axis, mode=mode)
        want = librosa.feature.delta(x, width=7, order=order, axis=axis, mode=mode)
        assert got.shape == x.shape and got.flags.c_contiguous
        assert_close_rel(got, want, rtol_for(dtype), f"axis {axis}: {REASON[dtype]}")
        # the same numbers as the time-last call on the moved data, bit for bit
        moved = np.ascontiguousarray(np.moveaxis(x, axis, -1))
        assert_bits_equal(np.moveaxis(got, axis, -1),
                          fastmel.feature.delta(moved, width=7, order=order, mode=mode), "axis")


@pytest.mark.parametrize("kwargs", [
    dict(polyorder=3), dict(polyorder=4, order=2, width=9), dict(polyorder=5, width=13),
    dict(delta=0.01), dict(delta=3.5, order=2), dict(mode="constant", cval=2.5),
    dict(mode="constant", cval=-1e3, order=2), dict(polyorder=0), dict(deriv=5),
], ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_savgol_keyword_arguments_as_librosa_passes_them(kwargs, dtype):
    """polyorder (above order: the 'interp' edges are polynomials in the
    offset; below it: zeros), delta (the spacing), cval ('constant'), and
    deriv, which librosa drops."""
    x = frames((5,), 40, dtype, seed=2)
    kw = dict(width=7) | kwargs
    for mode in ([kw.pop("mode")] if "mode" in kw else MODES):
        got = fastmel.feature.delta(x, mode=mode, **kw)
        assert librosa.feature.delta(x, mode=mode, **kw).dtype == dtype
        # float32: librosa's float32 polyfit of degree above 2 loses digits at the
        # 'interp' edges (3e-5 of the peak at degree 5 over 13 frames) where fastmel's
        # deltas stay within 1 ulp of exact, so the reference is librosa on the same
        # values in float64, rounded once to float32
        want = librosa.feature.delta(x.astype(np.float64), mode=mode, **kw).astype(dtype)
        assert_close_rel(got, want, rtol_for(dtype), f"{mode}: {REASON[dtype]}")


@pytest.mark.parametrize("mode", MODES)
def test_short_inputs_equal_librosa_or_both_refuse(mode):
    """Rows shorter than the width: the extensions reflect or wrap as many
    times over as scipy.ndimage does; 'interp' refuses fewer frames than the
    width, as librosa does; no frames give no frames."""
    for width in (3, 7, 15):
        for n in range(0, 18):
            x = frames((2,), n, seed=n)
            try:
                want = librosa.feature.delta(x, width=width, mode=mode)
            except LIBROSA_REFUSES:
                with pytest.raises(ParameterError, match=r"cannot exceed data\.shape\[axis\]"):
                    fastmel.feature.delta(x, width=width, mode=mode)
                assert mode == "interp" and n < width
                continue
            got = fastmel.feature.delta(x, width=width, mode=mode)
            assert got.shape == want.shape and got.dtype == want.dtype
            # at the data's scale: a row of 1 frame extends to a constant, whose delta
            # is 0 exactly here and 1e-16 of the data in scipy (its centre coefficient
            # is 3e-18, not 0), so the reference's own peak is no scale
            assert np.max(np.abs(got - want), initial=0) <= RTOL_F64 * np.max(
                np.abs(x), initial=0), f"width {width}, {n} frames: {REASON[np.float64]}"


def test_float16_and_byte_swapped_data_are_converted():
    x = frames((3,), 20, seed=3)
    assert_bits_equal(fastmel.feature.delta(x.astype(np.float16)),
                      fastmel.feature.delta(x.astype(np.float16).astype(np.float32)), "float16")
    assert_bits_equal(fastmel.feature.delta(x.astype(">f8")), fastmel.feature.delta(x), ">f8")
    odd = np.asfortranarray(frames((6, 4), 30, seed=4))[:, ::2, ::-1]   # any strides
    assert_bits_equal(fastmel.feature.delta(odd, order=2),
                      fastmel.feature.delta(np.ascontiguousarray(odd), order=2), "strided")


def test_design_equals_scipy_and_differentiates_polynomials_exactly():
    """Row 0 is scipy's savgol_coeffs(use='dot') for the orders librosa uses;
    every row differentiates polynomials of the fitted degree exactly (scipy's
    least squares loses that at high degrees: width 33, polyorder 16 gives
    coefficients that do not differentiate s**3)."""
    for width in WIDTHS:
        for order in (1, 2):
            ref = scipy.signal.savgol_coeffs(width, order, deriv=order, use="dot")
            got = savgol_design(width, order, order, 1.0, True)
            assert got.shape == (1, width) and not got.flags.writeable
            # exact rationals rounded once here; scipy's lstsq is a few ulps off
            assert np.max(np.abs(got[0] - ref)) <= 1e-14 * np.max(np.abs(ref))
    for width, order, polyorder in [(33, 3, 16), (9, 1, 4), (101, 2, MAX_POLYORDER)]:
        rows = savgol_design(width, order, polyorder, 1.0, True)
        assert rows.shape == (polyorder - order + 1, width)
        s = range(-(width // 2), width // 2 + 1)
        for j in range(polyorder + 1):
            for u in (0, -(width // 2), 1):
                # d^order/ds^order of s**j at s = u: the rows as a polynomial in u
                got = sum(Fraction(float(c)) * Fraction(v) ** j * Fraction(u) ** m
                          for m, row in enumerate(rows) for c, v in zip(row, s))
                exact = (Fraction(np.prod(range(j - order + 1, j + 1), dtype=object))
                         * Fraction(u) ** (j - order)) if j >= order else 0
                # each coefficient rounded once: errors of 1e-16 x sum |c s^j u^m|
                bound = sum(abs(Fraction(float(c)) * Fraction(v) ** j * Fraction(u) ** m)
                            for m, row in enumerate(rows) for c, v in zip(row, s))
                assert abs(got - exact) <= 1e-14 * bound + 1e-300, (width, order, j, u)


# --- 2. offline: what it refuses ----------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(width=4), "width must be an odd integer >= 3"),
    (dict(width=1), "width must be an odd integer >= 3"),
    (dict(width=-3), "width must be an odd integer >= 3"),
    (dict(width=9.0), "width must be an odd integer"),
    (dict(width=True), "width must be"),
    (dict(width="9"), "width must be"),
    (dict(width=MAX_WIDTH + 2, mode="nearest"), f"at most {MAX_WIDTH}"),
    (dict(order=0), "order must be a positive integer"),
    (dict(order=-1), "order must be a positive integer"),
    (dict(order=1.0), "order must be a positive integer"),
    (dict(order=True), "order must be a positive integer"),
    (dict(order=MAX_POLYORDER + 1, width=41), f"at most {MAX_POLYORDER}"),
    (dict(order=3, width=3), "order must be less than width"),
    (dict(polyorder=3, width=3), "polyorder must be less than width=3, got 3"),
    (dict(polyorder=-1), "polyorder must be a non-negative integer"),
    (dict(polyorder=2.5), "polyorder must be"),
    (dict(mode="reflect"), "mode must be one of 'interp', 'mirror'"),
    (dict(mode=None), "mode must be one of"),
    (dict(delta=0), "delta must be > 0"),
    (dict(delta=-1.0), "delta must be > 0"),
    (dict(delta=np.inf), "delta must be a finite number"),
    (dict(delta=1e-300, order=2), "overflow float64"),
    (dict(cval=np.nan, mode="constant"), "cval must be a finite number"),
    (dict(axis=2), r"axis must be an integer in \[-2, 1\]"),
    (dict(axis=-3), r"axis must be an integer in \[-2, 1\]"),
    (dict(axis=1.0), "axis must be an integer"),
    (dict(axis=True), "axis must be an integer"),
    (dict(width=13), r"width=13 cannot exceed data\.shape\[axis\]=12"),
    (dict(width=5, axis=0), r"width=5 cannot exceed data\.shape\[axis\]=3"),
])
def test_bad_parameters_are_refused(kwargs, match):
    x = frames((3,), 12)
    with pytest.raises(ParameterError, match=match):
        fastmel.feature.delta(x, **kwargs)


def test_every_parameter_librosa_refuses_is_refused():
    """The refusals librosa (and scipy under it) makes: fastmel makes them too,
    as ParameterError, a ValueError like theirs."""
    x = frames((3,), 12)
    for kwargs in [dict(width=4), dict(width=1), dict(order=0), dict(order=1.5),
                   dict(mode="reflect"), dict(width=13), dict(order=3, width=3),
                   dict(polyorder=7, width=7)]:
        with pytest.raises(LIBROSA_REFUSES):
            librosa.feature.delta(x, **kwargs)
        with pytest.raises(ParameterError):
            fastmel.feature.delta(x, **kwargs)


@pytest.mark.parametrize("data, error, match", [
    (np.arange(20, dtype=np.int16).reshape(2, 10), TypeError, "floating-point"),
    (np.ones((2, 10), np.complex64), TypeError, "real-valued"),
    (np.ones((2, 10), bool), TypeError, "floating-point"),
    (np.array(1.0), ParameterError, "at least one dimension"),
    (np.where(np.arange(20) == 7, np.nan, 1.0).reshape(2, 10), ParameterError, "non-finite"),
    (np.where(np.arange(20) == 7, -np.inf, 1.0).reshape(2, 10), ParameterError, "non-finite"),
])
def test_bad_data_is_refused(data, error, match):
    with pytest.raises(error, match=match):
        fastmel.feature.delta(data, width=3, mode="nearest")


def test_unknown_keyword_argument_is_a_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument.*window"):
        fastmel.feature.delta(frames((2,), 12), window=3)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@pytest.mark.parametrize("dtype, value", [(np.float32, 3e38), (np.float64, 1.7e308)])
def test_overflowing_deltas_raise_instead_of_inf(dtype, value):
    """Finite data whose second differences overflow the dtype (librosa gives
    inf): refused, naming the dtype."""
    x = np.tile(np.array([value, -value], dtype), 10)
    assert np.isinf(librosa.feature.delta(x, width=3, order=2, mode="nearest")).any()
    for mode in MODES:
        with pytest.raises(ParameterError, match=f"overflows {np.dtype(dtype)}"):
            fastmel.feature.delta(x, width=3, order=2, mode=mode)
    # order 1 cannot overflow: its coefficients' magnitudes sum to 3 / width <= 1
    assert np.isfinite(fastmel.feature.delta(x, width=3, order=1)).all()


# --- 3. the stream: equal to offline, bit for bit -----------------------------------------

def stream_all(s, x, sizes):
    """Feed ``x`` cut into ``sizes`` (then the rest), then flush; the concatenation."""
    outs, pos = [], 0
    for k in sizes:
        outs.append(s.process(x[..., pos:pos + k]))
        pos += k
    outs += [s.process(x[..., pos:]), s.flush()]
    return np.concatenate(outs, axis=-1)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_chunkings_equal_offline(data):
    mode = data.draw(st.sampled_from(STREAM_MODES), label="mode")
    width = data.draw(st.sampled_from(WIDTHS), label="width")
    order = data.draw(st.sampled_from([1, 2]), label="order")
    polyorder = data.draw(st.sampled_from([None, min(order + 2, width - 1)]), label="polyorder")
    dtype = data.draw(st.sampled_from([np.float32, np.float64]), label="dtype")
    lead = data.draw(st.sampled_from([(), (3,), (2, 5)]), label="lead")
    n = data.draw(st.sampled_from([0, 1, width // 2, width // 2 + 1, width - 1, width,
                                   width + 1, 2 * width, 37, 300]), label="n")
    sizes = data.draw(st.lists(st.one_of(st.sampled_from([0, 1, width, width - 1]),
                                         st.integers(0, 40)), max_size=12), label="sizes")
    x = frames(lead, n, dtype, seed=n)
    kw = dict(width=width, order=order, mode=mode, polyorder=polyorder, cval=0.25)
    s = fastmel.Delta(**kw)
    if mode == "interp" and n < width:
        with pytest.raises(ParameterError, match="cannot exceed"):
            fastmel.feature.delta(x, **kw)
        with pytest.raises(ParameterError, match="the stream has taken in"):
            stream_all(s, x, sizes)
        assert s.samples_in == n                      # the failed flush left it as it was
        return
    assert_bits_equal(stream_all(s, x, sizes), fastmel.feature.delta(x, **kw),
                      f"{kw} {dtype.__name__} {lead} n={n} sizes={sizes}")


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("order", [1, 2])
def test_one_frame_and_empty_chunks_equal_offline(mode, order, dtype, mfcc_frames):
    M = mfcc_frames[:, :60].astype(dtype)
    for width in WIDTHS:
        want = fastmel.feature.delta(M, width=width, order=order, mode=mode)
        assert_bits_equal(stream_all(fastmel.Delta(width=width, order=order, mode=mode), M,
                                     [0, 1] * 60), want, f"width {width}, one-frame chunks")
        assert_bits_equal(stream_all(fastmel.Delta(width=width, order=order, mode=mode), M,
                                     []), want, f"width {width}, one chunk")


@pytest.mark.parametrize("mode", STREAM_MODES)
def test_latency_is_the_frames_an_output_waits_for(mode):
    """Output t is returned with frame t + width // 2 (the extending modes), or,
    in mode 'interp', the first width // 2 outputs with frame width - 1; the
    latency is the most any output waits, and some output waits that long."""
    for width in (3, 5, 9):
        s = fastmel.Delta(width=width, mode=mode)
        h = width // 2
        assert s.latency == (width - 1 if mode == "interp" else h)
        x = frames((2,), 30, seed=5)
        arrival = []                                  # the frame each output came with
        for f in range(30):
            arrival += [f] * s.process(x[:, f:f + 1]).shape[-1]
        assert len(arrival) == 30 - h                 # the last h come with flush()
        assert s.flush().shape == (2, h)
        waits = [f - t for t, f in enumerate(arrival)]
        assert max(waits) == s.latency
        assert waits[h:] == [h] * (30 - 2 * h)        # every later output waits h frames


def test_wrap_cannot_stream():
    with pytest.raises(ParameterError, match="mode='wrap' cannot stream"):
        fastmel.Delta(mode="wrap")


def test_interp_flush_of_too_few_frames_leaves_the_stream_as_it_was():
    s, ref = fastmel.Delta(width=9), fastmel.Delta(width=9)
    x = frames((3,), 20, seed=6)
    for stream in (s, ref):
        assert stream.process(x[:, :8]).shape == (3, 0)   # 8 < 9: nothing yet
    for _ in range(2):
        with pytest.raises(ParameterError, match="width=9 frames, but the stream has taken in 8"):
            s.flush()
        assert s.samples_in == 8
    assert_bits_equal(stream_all(s, x[:, 8:], []), stream_all(ref, x[:, 8:], []), "after")
    assert_bits_equal(stream_all(fastmel.Delta(width=9), x, [8]), fastmel.feature.delta(x),
                      "the whole")


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_overflowing_chunk_and_flush_leave_the_stream_as_it_was():
    big = np.float32(3e38)
    x = frames((2,), 12, np.float32, seed=7)
    s = fastmel.Delta(width=3, order=2, mode="nearest")
    s.process(x)
    before = s.__reduce__()[1][-1]
    with pytest.raises(ParameterError, match="overflows float32.*unchanged"):
        s.process(np.array([[big, -big, big]] * 2, np.float32))
    after = s.__reduce__()[1][-1]
    assert after[:3] == before[:3] and after[3].tobytes() == before[3].tobytes()
    # the last frame's delta overflows only once the extension is known: at flush
    t = fastmel.Delta(width=3, order=2, mode="constant", cval=-3e38)
    assert t.process(np.array([[0, 0, 0, big]], np.float32)).shape == (1, 3)
    with pytest.raises(ParameterError, match="last frames overflows float32"):
        t.flush()
    assert t.samples_in == 4


# --- 4. copies, configuration ---------------------------------------------------------------

@pytest.mark.parametrize("mode", STREAM_MODES)
def test_pickled_mid_stream_resumes_bit_for_bit_at_every_cut(mode):
    x = frames((4,), 25, np.float32, seed=8)
    kw = dict(width=7, order=2, mode=mode, polyorder=3)
    want = fastmel.feature.delta(x, **kw)
    for cut in range(26):
        s = fastmel.Delta(**kw)
        head = s.process(x[:, :cut])
        for copied in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
            assert type(copied) is fastmel.Delta and repr(copied) == repr(s)
            rest = stream_all(copied, x[:, cut:], [1, 2])
            assert_bits_equal(np.concatenate([head, rest], axis=-1), want, f"cut {cut}")


@pytest.mark.parametrize("state, match", [
    ("tail", "a tuple of 4 items"),
    (((4,), "<f4", 3, np.zeros((4, 2), np.float32)), r"tail must be of shape \(4, 3\)"),
    (((4,), "<f4", 30, np.zeros((4, 7), np.float64)), "tail must be a numpy array of float32"),
    (((4,), "<f4", 3, np.full((4, 3), np.nan, np.float32)), "tail must be finite"),
    (((4,), "<f4", 3, [[0.0] * 3] * 4), "tail must be a numpy array"),
])
def test_tampered_state_is_refused(state, match):
    s = fastmel.Delta(width=7)
    with pytest.raises(ValueError, match=match):
        s._set_state(state)
    assert s.lead is None


def test_repr_rebuilds_the_delta_and_configuration_is_read_only():
    d = fastmel.Delta(width=11, order=2, mode="constant", polyorder=3, delta=0.5, cval=1.5)
    assert (d.width, d.order, d.mode, d.polyorder, d.delta, d.cval) == (
        11, 2, "constant", 3, 0.5, 1.5)
    again = eval(repr(d), {"Delta": fastmel.Delta})
    assert repr(again) == repr(d)
    assert_bits_equal(again.coeffs, d.coeffs, "coefficients")
    assert_bits_equal(d.coeffs, savgol_design(11, 2, 3, 0.5, False), "the centre row only")
    assert fastmel.Delta(width=11, order=1, polyorder=3).coeffs.shape == (3, 11)  # interp edges


def test_calling_a_delta_is_the_offline_function_and_leaves_its_stream_alone():
    d = fastmel.Delta(width=5, order=2, mode="mirror", delta=2.0)
    x = frames((3, 4), 30, seed=9)
    d.process(x[..., :10])
    before = d.__reduce__()[1][-1]
    for axis in (-1, 0):
        assert_bits_equal(d(x, axis=axis), fastmel.feature.delta(
            x, width=5, order=2, axis=axis, mode="mirror", delta=2.0), f"axis {axis}")
    after = d.__reduce__()[1][-1]
    assert after[:3] == before[:3] and after[3].tobytes() == before[3].tobytes()


# --- 5. after a feature stream, in a Chain ----------------------------------------------------

@pytest.mark.parametrize("mode", ["interp", "mirror"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_chain_mfcc_then_delta_equals_offline_mfcc_then_delta(mode, dtype, speech):
    y = speech(16000, dtype, dur=1.0)
    mfcc = fastmel.MFCC(sr=16000, n_fft=400, hop_length=160, n_mels=40, top_db=None,
                        dtype=dtype)
    M = mfcc(y)
    for stages, want in [
        ([fastmel.Delta(width=9, mode=mode)], fastmel.feature.delta(M, width=9, mode=mode)),
        ([fastmel.Delta(width=9, order=2, mode=mode)],
         fastmel.feature.delta(M, width=9, order=2, mode=mode)),
        # delta of delta: frames on to a stage that takes frames
        ([fastmel.Delta(width=5, mode=mode), fastmel.Delta(width=3, mode="nearest")],
         fastmel.feature.delta(fastmel.feature.delta(M, width=5, mode=mode), width=3,
                               mode="nearest")),
    ]:
        chain = fastmel.Chain([mfcc.stream()] + stages)
        # latency in samples: each frame a stage waits for is a hop
        assert chain.latency == mfcc.stream().latency + 160 * sum(s.latency for s in stages)
        for sizes in ([160] * 100, [1, 0, 7, 1601, 159, 3000]):
            assert_bits_equal(stream_all(chain, y, sizes), want, f"{stages} {sizes}")
        # and it matches librosa's mfcc -> delta within the spec's tolerance
    ref = librosa.feature.delta(M, width=9, mode=mode)
    assert_close_rel(fastmel.feature.delta(M, width=9, mode=mode), ref, rtol_for(dtype),
                     REASON[dtype])


def test_chain_latency_is_when_a_delta_frame_arrives(speech):
    """A chain's latency is in its input's samples: delta frame t (centred at
    sample t * hop) is returned once sample t * hop + latency is in."""
    y = speech(16000, np.float32, dur=0.5)
    mfcc = fastmel.MFCC(sr=16000, n_fft=400, hop_length=160, n_mels=40, top_db=None)
    chain = fastmel.Chain([mfcc.stream(), fastmel.Delta(width=5, mode="nearest")])
    out = 0
    for i in range(len(y)):
        out += chain.process(y[i:i + 1]).shape[-1]
        # frames returned after samples 0..i are those t with t * 160 + latency <= i
        assert out == max(0, (i - chain.latency) // 160 + 1), i
