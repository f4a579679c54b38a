"""Hardening of the recording simulation (issue 8): convolve/Convolver, Bandpass,
add_noise/NoiseMixer and Chain.

SPEC "Errors and misuse": any array numpy can describe gives the result of its
contiguous copy; finite input never comes out as non-finite output called
success (a stage that would overflow raises ParameterError and, as a stream,
changes no state); impossible sizes are refused before anything is allocated.
"""
import re
import warnings

import numpy as np
import pytest
import scipy.signal

import fastmel
from conftest import RTOL_F64, assert_bits_equal, assert_close_rel, cut
from conftest import layout as as_layout
from fastmel import ParameterError
from fastmel.design import bandpass_fir, butter_bandpass
from fastmel.noise import MAX_SNR_DB

SR = 16000
DTYPES = [np.float32, np.float64]
F32_MAX = float(np.finfo(np.float32).max)


def signal(lead=(), n=3000, dtype=np.float32, seed=0):
    """Band-limited noise with a decaying envelope (speech-like spread of levels)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(tuple(lead) + (n,)) * np.exp(-np.arange(n) / n)
    return scipy.signal.lfilter([1.0, 0.5], [1.0, -0.6], x).astype(dtype)


def room(n_taps=2000, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    ir = rng.standard_normal(n_taps) * 0.3 * np.exp(-np.arange(n_taps) / (n_taps / 6))
    ir[0] = 1.0
    return ir.astype(dtype)


# --- finding 1: every numpy layout gives the result of its contiguous copy --------------

#: the layouts these tests feed (tests/conftest.py makes them)
SIM_LAYOUTS = ["field", "unaligned", "readonly", "fortran", "negative", "every-other",
               "byteswapped"]


def test_layout_helpers_make_what_they_claim():
    x = signal((2,), 50)
    assert as_layout("field", x).strides[-1] == 6 and not as_layout("field", x).flags.aligned
    assert not as_layout("unaligned", x).flags.aligned
    assert not as_layout("byteswapped", x).dtype.isnative
    assert as_layout("negative", x).strides[-1] < 0
    assert not as_layout("readonly", x).flags.writeable
    assert not as_layout("fortran", x).flags.c_contiguous


@pytest.mark.parametrize("name", SIM_LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lead", [(), (2,)], ids=["mono", "stereo"])
def test_convolve_any_layout_of_x_and_ir(name, dtype, lead):
    x = signal(lead, 3000, dtype)
    for ir in (room(37, dtype=dtype), room(1500, dtype=dtype)):
        want = fastmel.convolve(x, ir)
        assert_bits_equal(fastmel.convolve(as_layout(name, x), ir), want, f"x {name}")
        assert_bits_equal(fastmel.convolve(x, as_layout(name, ir)), want, f"ir {name}")
        if lead:  # one IR per channel, as a 2-D array in that layout
            irs = np.stack([ir, ir[::-1].copy()])
            want = fastmel.convolve(x, irs)
            assert_bits_equal(fastmel.convolve(x, as_layout(name, irs)), want, f"irs {name}")


@pytest.mark.parametrize("name", SIM_LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lead", [(), (2,)], ids=["mono", "stereo"])
def test_convolver_any_layout_of_chunks_and_ir(name, dtype, lead):
    x = signal(lead, 3000, dtype)
    ir = room(700)
    conv = fastmel.Convolver(ir, block_size=64, dtype=dtype)
    want = conv(x)
    assert_bits_equal(fastmel.Convolver(as_layout(name, ir), block_size=64, dtype=dtype)(x),
                      want, f"ir {name}")
    assert_bits_equal(conv(as_layout(name, x)), want, f"whole x {name}")
    # chunks in that layout, first and later (the streams' fast path)
    outs = [conv.process(as_layout(name, x[..., a:b])) for a, b in cut(x.shape[-1], [1, 160, 999])]
    outs.append(conv.flush())
    assert_bits_equal(np.concatenate(outs, axis=-1), want, f"chunks {name}")


@pytest.mark.parametrize("name", SIM_LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("lead", [(), (2,)], ids=["mono", "stereo"])
def test_bandpass_any_layout(name, dtype, lead):
    x = signal(lead, 2000, dtype)
    bp = fastmel.Bandpass(SR, 100, 7000, order=6)
    want = bp(x)
    assert want.dtype == np.dtype(dtype)
    assert_bits_equal(bp(as_layout(name, x)), want, f"whole x {name}")
    outs = [bp.process(as_layout(name, x[..., a:b])) for a, b in cut(x.shape[-1], [1, 160, 333])]
    assert_bits_equal(np.concatenate(outs + [bp.flush()], axis=-1), want, f"chunks {name}")


@pytest.mark.parametrize("name", SIM_LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("per_channel", [False, True], ids=["mono-noise", "per-channel"])
def test_noise_any_layout(name, dtype, per_channel):
    x = signal((2,), 2000, dtype)
    noise = signal((2,) if per_channel else (), 700, dtype, seed=7)
    want = fastmel.add_noise(x, noise, snr_db=6.0, rng=3)
    assert_bits_equal(fastmel.add_noise(as_layout(name, x), noise, snr_db=6.0, rng=3), want,
                      f"x {name}")
    assert_bits_equal(fastmel.add_noise(x, as_layout(name, noise), snr_db=6.0, rng=3), want,
                      f"noise {name}")
    mixer = fastmel.NoiseMixer(noise, gain=0.3, offset=11)
    want = mixer(x)
    assert_bits_equal(fastmel.NoiseMixer(as_layout(name, noise), gain=0.3, offset=11)(x), want,
                      f"mixer noise {name}")
    outs = [mixer.process(as_layout(name, x[..., a:b])) for a, b in cut(x.shape[-1], [1, 160])]
    assert_bits_equal(np.concatenate(outs + [mixer.flush()], axis=-1), want, f"chunks {name}")


@pytest.mark.parametrize("name", SIM_LAYOUTS)
def test_chain_any_layout(name):
    x = signal((2,), 2000, np.float32)

    def chain():
        return fastmel.Chain([fastmel.Convolver(room(300), block_size=64),
                              fastmel.NoiseMixer(signal((), 500, seed=9), gain=0.1),
                              fastmel.Bandpass(SR, 100, 7000)])
    c = chain()
    want = np.concatenate([c.process(x), c.flush()], axis=-1)
    c = chain()
    outs = [c.process(as_layout(name, x[..., a:b])) for a, b in cut(x.shape[-1], [1, 161, 500])]
    assert_bits_equal(np.concatenate(outs + [c.flush()], axis=-1), want, f"chunks {name}")


# --- finding 2: high orders, stable sections, bounded orders ------------------------------

def butterworth_magnitude(f, sr, low, high, order):
    """|H| of the digital Butterworth band-pass at frequencies f, from its analog
    definition |H(jW)|^2 = 1 / (1 + ((W^2 - W0^2) / (W B))^(2 order)) at the
    bilinear-warped W = tan(pi f / sr) (edges warped alike)."""
    w = np.tan(np.pi * np.asarray(f, dtype=np.float64) / sr)
    w1, w2 = np.tan(np.pi * np.array([low, high]) / sr)
    ratio = np.abs((w ** 2 - w1 * w2) / (w * (w2 - w1)))
    with np.errstate(divide="ignore"):  # ratio 0 at the centre: log -inf, |H| 1
        return np.exp(-0.5 * np.logaddexp(0.0, 2.0 * order * np.log(ratio)))


@pytest.mark.parametrize("sr, low, high, order", [
    (16000, 100, 7000, 158),   # the case: scipy's gain overflows to NaN here
    (16000, 100, 7000, 300),   # scipy raises OverflowError here
    (48000, 20, 20000, 200),
    (16000, 300, 3400, 60),
    (22050, 1000, 1100, 12),
    (16000, 100, 7000, 500),
])
def test_bandpass_high_order_is_the_butterworth_filter(sr, low, high, order):
    sos = butter_bandpass(sr, low, high, order=order)
    assert np.all(np.isfinite(sos))
    # every section stable: poles strictly inside the unit circle
    a1, a2 = sos[:, 4], sos[:, 5]
    assert np.all(np.abs(a2) < 1) and np.all(np.abs(a1) < 1 + a2)
    # the response is Butterworth's, from the passband down to -60 dB
    f = np.linspace(1, sr / 2 - 1, 4000)
    want = butterworth_magnitude(f, sr, low, high, order)
    f, want = f[want > 1e-3], want[want > 1e-3]
    _, h = scipy.signal.sosfreqz(sos, worN=f, fs=sr)
    # a product of `order` sections, each with poles near the unit circle: the
    # coefficients' rounding (1e-16) is amplified by about 1/(1 - |pole|) per section
    assert np.max(np.abs(np.abs(h) - want)) <= 1e-6
    # where scipy can design it, the same sections as scipy (1e-10 absolute:
    # coefficient rounding of scipy's other route)
    with np.errstate(all="ignore"):
        try:
            ref = scipy.signal.butter(order, [low, high], btype="bandpass", fs=sr, output="sos")
        except OverflowError:
            ref = None
    if ref is not None:
        assert np.max(np.abs(sos[:, 3:] - ref[:, 3:])) <= 1e-10
        assert np.max(np.abs(sos[1:, :3] - ref[1:, :3])) <= 1e-10
        if np.isfinite(ref[0, 0]):
            assert np.max(np.abs(sos[0, :3] - ref[0, :3])) <= 1e-10
    x = signal((), 4000, np.float64)
    y = fastmel.Bandpass(sr, low, high, order=order)(x)
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) > 0
    assert_close_rel(y, scipy.signal.sosfilt(sos, x), RTOL_F64,
                     "the same sections run by scipy: recursion rounding only (SPEC 2)")


def test_bandpass_orders_beyond_the_limits_are_refused():
    with pytest.raises(ParameterError, match="at most 500"):
        fastmel.Bandpass(SR, 100, 7000, order=501)
    with pytest.raises(ParameterError, match="at most 500"):
        fastmel.Bandpass(SR, 100, 7000, order=10**12)
    # a 1 Hz band: the message names the highest order, which is accepted
    with pytest.raises(ParameterError, match=r"highest order for this band is \d+") as info:
        fastmel.Bandpass(SR, 1000, 1001, order=100)
    highest = int(re.search(r"highest order for this band is (\d+)", str(info.value)).group(1))
    assert 1 <= highest < 100
    y = fastmel.Bandpass(SR, 1000, 1001, order=highest)(signal((), 2000, np.float64))
    assert np.all(np.isfinite(y))
    with pytest.raises(ParameterError):
        fastmel.Bandpass(SR, 1000, 1001, order=highest + 1)
    # a band no order can reach
    with pytest.raises(ParameterError, match="no order"):
        butter_bandpass(SR, 1e-300, 2e-300, order=1)


def _square(n, amplitude, dtype, period=16):
    t = np.arange(n)
    return (amplitude * np.sign(np.sin(2 * np.pi * t / period + 0.1))).astype(dtype)


@pytest.mark.parametrize("lead", [(), (2,)], ids=["mono", "stereo"])
def test_bandpass_overflow_is_refused_and_changes_no_state(lead):
    x = signal(lead, 2000, np.float32)
    loud = np.broadcast_to(_square(300, 3e38, np.float32), lead + (300,))
    bp = fastmel.Bandpass(SR, 100, 7000)
    # the float64 response of the loud square wave exceeds float32's range
    assert np.max(np.abs(bp(loud.astype(np.float64)))) > F32_MAX
    with pytest.raises(ParameterError, match="overflow"):
        bp(loud)
    want = bp(x)
    outs = [bp.process(x[..., :500])]
    with pytest.raises(ParameterError, match="overflow"):
        bp.process(loud)
    outs.append(bp.process(x[..., 500:]))
    assert_bits_equal(np.concatenate(outs, axis=-1), want, "after a rejected loud chunk")
    # rejected as the first chunk: the stream is still at rest (layout and dtype free)
    bp.reset()
    with pytest.raises(ParameterError):
        bp.process(loud)
    assert_bits_equal(bp.process(x[None]), bp.stream()(x[None]), "new layout after rejection")


def test_bandpass_float64_state_overflow_is_refused():
    bp = fastmel.Bandpass(SR, 100, 7000)
    with pytest.raises(ParameterError, match="overflow"):
        bp(_square(300, 1.7e308, np.float64))


# --- finding 2 (convolution): overflow raises, the stream keeps its state -----------------

def test_convolve_overflow_raises():
    x = np.full(100, 3e38, np.float32)
    with pytest.raises(ParameterError, match="overflow"):
        fastmel.convolve(x, [1, 0.9, 0.5])
    # FFT path (a long IR): the float32 transforms overflow
    with pytest.raises(ParameterError, match="overflow"):
        fastmel.convolve(np.full(10000, 1e36, np.float32), np.ones(1000) / 1000)
    # an IR that does not fit the audio's dtype
    with pytest.raises(ParameterError, match="range"):
        fastmel.convolve(np.ones(10, np.float32), [1e39])
    with pytest.raises(ParameterError, match="range"):
        fastmel.Convolver([1e39])


@pytest.mark.parametrize("ir", [np.array([1.0, 0.9, 0.5]), room(2000)],
                         ids=["head-only", "partitioned"])
def test_convolver_overflow_is_refused_and_changes_no_state(ir):
    x = signal((), 5000, np.float32)
    conv = fastmel.Convolver(ir, block_size=64)
    want = conv(x)
    loud = np.full(200, 3e38, np.float32)
    outs = [conv.process(x[:1234])]
    with pytest.raises(ParameterError, match="overflow"):
        conv.process(loud)
    outs += [conv.process(x[1234:]), conv.flush()]
    assert_bits_equal(np.concatenate(outs), want, "after a rejected loud chunk")
    with pytest.raises(ParameterError, match="overflow"):
        conv(loud)
    # rejected as the first chunk: the stream is still at rest, any layout may follow
    with pytest.raises(ParameterError):
        conv.process(loud)
    stereo = np.stack([x, x[::-1]])
    assert_bits_equal(np.concatenate([conv.process(stereo), conv.flush()], axis=-1),
                      conv(stereo), "stereo after a rejected first chunk")


def test_convolver_loud_but_representable_input_is_exact():
    """Inputs above the level where overflow is impossible take the checked path:
    the same bits as offline, and scipy's result, when nothing overflows."""
    ir = room(2000)
    x = (signal((), 6000, np.float64) * 1e34).astype(np.float32)
    conv = fastmel.Convolver(ir, block_size=64)
    want = conv(x)
    outs = [conv.process(x[a:b]) for a, b in cut(x.size, [1, 100, 1000])] + [conv.flush()]
    assert_bits_equal(np.concatenate(outs), want, "checked path")
    ref = scipy.signal.fftconvolve(x.astype(np.float64), ir)
    assert_close_rel(want, ref, 1e-5, "float32 FFTs vs float64 reference (SPEC 2)",
                     check_dtype=False)


def test_convolver_tail_overflow_raises_in_flush():
    """Finite outputs while streaming, but the tail (the IR's later taps meeting
    loud input) overflows: flush() raises and the stream keeps its state."""
    ir = np.zeros(16)
    ir[0], ir[15] = 1e-3, 3.0
    conv = fastmel.Convolver(ir, block_size=16)
    assert conv.partitions == (16, ())  # all taps in the time-domain head
    y = conv.process(np.full(15, 3e38, np.float32))
    assert np.all(np.isfinite(y))
    with pytest.raises(ParameterError, match="overflow"):
        conv.flush()
    with pytest.raises(ParameterError):  # still owed, still overflowing
        conv.flush()
    conv.reset()
    assert conv.flush().size == 0


# --- finding 9: arithmetic and sizes ---------------------------------------------------------

@pytest.mark.parametrize("snr_db", [-4000, 4000, -MAX_SNR_DB - 0.5, MAX_SNR_DB + 0.5, 1e308])
def test_impossible_snr_is_refused(snr_db):
    x, noise = signal((), 500, np.float64), signal((), 100, np.float64, seed=4)
    with pytest.raises(ParameterError, match="snr_db"):
        fastmel.add_noise(x, noise, snr_db=snr_db)
    with pytest.raises(ParameterError, match="snr_db"):
        fastmel.NoiseMixer(noise, snr_db=snr_db, signal_power=0.1)


@pytest.mark.parametrize("snr_db", [-MAX_SNR_DB, MAX_SNR_DB])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_extreme_accepted_snr_is_exact(snr_db, dtype):
    x, noise = signal((), 4000, dtype), signal((), 1000, dtype, seed=4)
    y = fastmel.add_noise(x, noise, snr_db=snr_db, rng=0)
    assert np.all(np.isfinite(y))
    if snr_db < 0 or dtype == np.float64:  # the noise is measurable: measure it back
        d = y.astype(np.float64) - x.astype(np.float64)
        measured = 10 * np.log10(np.mean(np.square(x.astype(np.float64)))
                                 / np.mean(np.square(d)))
        # the spec's dB tolerance; rounding the sum to the dtype moves the measured
        # noise power by eps * |x| / |noise| relative (2e-6 at +200 dB in float64)
        assert abs(measured - snr_db) <= 0.01
    else:  # 1e-10 of x's amplitude, below float32 rounding: y is x up to that rounding
        assert_close_rel(y, x, np.finfo(dtype).eps, "noise at +200 dB is below x's rounding")


def test_noise_gain_overflow_is_refused():
    with pytest.raises(ParameterError, match="float64"):
        fastmel.NoiseMixer(np.full(10, 1e10), gain=1e300)
    # float32 overflow shows at the first float32 chunk, which leaves the stream at rest
    mixer = fastmel.NoiseMixer(np.ones(10, np.float32), gain=1e300)
    with pytest.raises(ParameterError, match="float32"):
        mixer.process(np.ones(10, np.float32))
    out = mixer.process(np.ones(10, np.float64))
    assert out.dtype == np.float64 and np.all(out == 1 + 1e300)


# NoiseMixer.process skips np.errstate (it costs more than the add): numpy's own
# overflow warning comes with the ParameterError.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_noise_sum_overflow_is_refused_and_changes_no_state():
    noise = signal((), 300, np.float32, seed=5)
    x = signal((), 1000, np.float32)
    with pytest.raises(ParameterError, match="overflow"):
        fastmel.add_noise(np.full(10, 3e38, np.float32), noise, snr_db=-10.0)
    with pytest.raises(ParameterError, match="overflow"):
        fastmel.add_noise(np.full(10, 1e200), noise, snr_db=0.0)  # its power
    mixer = fastmel.NoiseMixer(noise, gain=1e37)
    want = mixer(x)
    outs = [mixer.process(x[:400])]
    assert np.max(mixer.process(x[:0]).shape) == 0
    with pytest.raises(ParameterError, match="overflow"):
        mixer.process(np.full((50,), 3.4e38, np.float32))
    outs.append(mixer.process(x[400:]))
    assert_bits_equal(np.concatenate(outs), want, "after a rejected chunk")


def test_absurd_sizes_are_refused_before_allocating():
    # 10**6 channels x 10**6 output samples: terabytes (9 samples per channel: a
    # layout no stream takes for soundfile's (frames, channels))
    x = np.broadcast_to(np.float32(0.1), (10**6, 9))
    with pytest.raises(ParameterError, match="GiB"):
        fastmel.convolve(x, np.ones(10**6, np.float32))
    conv = fastmel.Convolver(room(48000))
    with pytest.raises(ParameterError, match="GiB"):
        conv.process(x)
    # the stream is still at rest: a mono stream may start
    y = signal((), 300, np.float32)
    assert_bits_equal(np.concatenate([conv.process(y), conv.flush()]), conv(y), "after refusal")


def test_bandpass_fir_absurd_num_taps_is_refused_before_allocating():
    with pytest.raises(ParameterError, match="num_taps"):
        bandpass_fir(SR, 300, 3400, num_taps=10**15)


def test_absurd_block_size_only_caps_the_head():
    """block_size is a tuning hint: the time-domain head never exceeds 256 taps, so
    a huge value allocates nothing more than 256 would."""
    ir = room(4800)
    big = fastmel.Convolver(ir, block_size=2**62)
    assert big.partitions == fastmel.Convolver(ir, block_size=256).partitions


# --- finding 11: empty signals, stream dtypes --------------------------------------------------

@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("lead", [(), (2,), (2, 3)])
def test_empty_signal_convolves_to_empty(mode, lead):
    """scipy.signal.fftconvolve returns an empty array for an empty input; fastmel
    does the same, offline and as a stream (empty chunks and flush owe nothing)."""
    assert scipy.signal.fftconvolve(np.zeros(0), np.ones(5), mode=mode).size == 0
    x = np.zeros(lead + (0,), np.float32)
    out = fastmel.convolve(x, room(50), mode=mode)
    assert out.shape == lead + (0,) and out.dtype == np.float32
    conv = fastmel.Convolver(room(50))
    assert_bits_equal(conv(x), fastmel.convolve(x, room(50)), "Convolver(ir)(empty)")
    assert conv.process(x).shape == lead + (0,)
    assert conv.process(x).shape == lead + (0,)
    assert conv.flush().shape == lead + (0,)


SIGNAL_STREAMS = {
    "bandpass": lambda: fastmel.Bandpass(SR, 100, 7000),
    "noise": lambda: fastmel.NoiseMixer(signal((), 300, np.float64, seed=2), gain=0.1),
}


@pytest.mark.parametrize("first, second", [(np.float32, np.float64), (np.float64, np.float32)])
@pytest.mark.parametrize("stage", list(SIGNAL_STREAMS))
def test_stream_dtype_is_fixed_by_the_first_chunk(first, second, stage):
    make = SIGNAL_STREAMS[stage]
    x = signal((2,), 1000, np.float64)
    s = make()
    a = s.process(x[..., :400].astype(first))
    b = s.process(x[..., 400:].astype(second))
    assert a.dtype == b.dtype == np.dtype(first)
    tail = s.flush()
    assert tail.dtype == np.dtype(first) and tail.shape == (2, 0)
    # later chunks are converted to the stream's dtype, like the feature streams do
    want = make().process(np.concatenate([x[..., :400].astype(first),
                                          x[..., 400:].astype(second).astype(first)], axis=-1))
    assert_bits_equal(np.concatenate([a, b], axis=-1), want, "converted chunk")
    # flush() (and reset()) free the dtype
    assert s.process(x.astype(second)).dtype == np.dtype(second)
    s.reset()
    assert s.process(x.astype(second)).dtype == np.dtype(second)


@pytest.mark.parametrize("stage", list(SIGNAL_STREAMS))
def test_stream_rejects_a_later_chunk_that_does_not_fit_its_dtype(stage):
    s = SIGNAL_STREAMS[stage]()
    x = signal((), 500, np.float32)
    want = s.process(x)
    s.reset()
    s.process(x[:100])
    with pytest.raises(ParameterError):
        s.process(np.full(10, 1e39))  # beyond float32
    assert_bits_equal(np.concatenate([s.process(x[:0]), s.process(x[100:])]), want[100:],
                      f"{stage} after a rejected chunk")


# --- finding 11: add_noise in bounded memory, same result -------------------------------------

def _add_noise_by_definition(x, noise, snr_db, rng):
    """The documented computation, written out with full-length arrays: the looped
    noise segment (C-contiguous), powers as numpy's float64 mean of squares, the
    scaled noise formed in float64 and rounded once to x's dtype, then added."""
    offset = int(np.random.default_rng(rng).integers(0, noise.shape[-1]))
    idx = (offset + np.arange(x.shape[-1])) % noise.shape[-1]
    segment = np.ascontiguousarray(np.broadcast_to(noise[..., idx], x.shape))
    p_x = float(np.mean(np.square(x, dtype=np.float64)))
    p_n = float(np.mean(np.square(segment, dtype=np.float64)))
    gain = float(np.sqrt(p_x / (p_n * 10.0 ** (snr_db / 10.0))))
    return x + (gain * segment.astype(np.float64)).astype(x.dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("noise_dtype", DTYPES, ids=["noise-f32", "noise-f64"])
@pytest.mark.parametrize("lead, per_channel", [((), False), ((2,), False), ((2,), True),
                                               ((3, 2), False), ((3, 2), True)])
@pytest.mark.parametrize("n, m", [(1, 5), (7, 300), (16383, 1), (16385, 50001), (40000, 16384),
                                  (100003, 777)])
def test_add_noise_equals_its_definition(dtype, noise_dtype, lead, per_channel, n, m):
    """Block by block, the result of the full-length computation: the powers
    differ only by float64 summation order (~1e-16 x log2(size) relative), so
    the noise added may differ by one rounding of x's dtype, no more."""
    rng = np.random.default_rng(n + m)
    x = rng.standard_normal(lead + (n,)).astype(dtype)
    noise = rng.standard_normal((lead if per_channel else ()) + (m,)).astype(noise_dtype)
    got = fastmel.add_noise(x, noise, snr_db=3.7, rng=n)
    want = _add_noise_by_definition(x, noise, 3.7, n)
    assert got.dtype == want.dtype and got.shape == want.shape
    # The powers' summation order moves the gain by ~1e-15 relative at most
    # (float64, a million squares), i.e. 1e-13 of the noise term is generous;
    # then one rounding of the scaled noise and one of the sum, in x's dtype.
    term = np.abs(want.astype(np.float64) - x)
    tol = (1e-13 * term + 2 * np.spacing(term.astype(dtype))
           + 2 * np.spacing(np.abs(want).astype(dtype)))
    assert np.all(np.abs(got.astype(np.float64) - want) <= tol)
    assert_bits_equal(fastmel.add_noise(x, noise, snr_db=3.7, rng=n), got, "repeatable")


def test_add_noise_of_an_empty_signal_is_empty():
    """Like NoiseMixer (and convolve): nothing in, nothing out, instead of a
    misleading "noise is silent" error."""
    for lead in ((), (2,)):
        x = np.zeros(lead + (0,), np.float32)
        y = fastmel.add_noise(x, signal((), 50, np.float32), snr_db=10.0, rng=0)
        assert y.shape == x.shape and y.dtype == x.dtype
        assert_bits_equal(y, fastmel.NoiseMixer(signal((), 50), gain=0.1)(x), "empty")


@pytest.mark.parametrize("shape", [(0,), (0, 5), (3, 0)])
def test_empty_impulse_response_or_noise_is_refused(shape):
    # (0, n): no channels is as empty as no taps
    with pytest.raises(ParameterError, match="ir is empty"):
        fastmel.Convolver(np.zeros(shape, np.float32))
    with pytest.raises(ParameterError, match="ir is empty"):
        fastmel.convolve(np.ones(10, np.float32), np.zeros(shape, np.float32))
    with pytest.raises(ParameterError, match="noise is empty"):
        fastmel.NoiseMixer(np.zeros(shape), gain=1.0)
    with pytest.raises(ParameterError, match="noise is empty"):
        fastmel.add_noise(np.ones(10), np.zeros(shape), snr_db=10)


def test_add_noise_rng_is_checked():
    x, noise = np.ones(100), np.sin(np.arange(50.0))
    with pytest.raises(ParameterError, match="rng"):
        fastmel.add_noise(x, noise, snr_db=10, rng=-1)
    for bad in ("seed", 1.5, True):
        with pytest.raises(TypeError, match="rng"):
            fastmel.add_noise(x, noise, snr_db=10, rng=bad)
    assert_bits_equal(fastmel.add_noise(x, noise, snr_db=10, rng=np.random.default_rng(3)),
                      fastmel.add_noise(x, noise, snr_db=10, rng=3))


def test_tiny_noise_at_a_negative_snr():
    # noise power 1e-320 times 10**(-5) underflowed to 0: ZeroDivisionError
    x = np.random.default_rng(1).standard_normal(2000).astype(np.float32)
    noise = 1e-160 * np.sin(np.arange(29.0))
    y = fastmel.add_noise(x, noise, snr_db=-49.7, rng=0)
    assert np.all(np.isfinite(y))
    added = y.astype(np.float64) - x
    snr = 10 * np.log10(np.mean(x.astype(np.float64) ** 2) / np.mean(added ** 2))
    assert abs(snr - (-49.7)) < 0.01  # float32 rounding of x + noise, far below 0.01 dB


def test_convolver_with_taps_near_the_float64_limit_warns_nothing():
    ir = np.array([1.7e308, -1.7e308, 1.7e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        room = fastmel.Convolver(ir, dtype=np.float64)
        assert room.process(np.zeros((0,), np.float64)).shape == (0,)
        out = room.process(np.full(4, 1e-10))
    assert np.all(np.isfinite(out))
