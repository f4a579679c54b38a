"""Additive noise (``fastmel.add_noise``, ``fastmel.NoiseMixer``) and chains of
streaming stages (``fastmel.Chain``).

SPEC "Recording simulation", "Streaming protocol", "Errors": noise is looped and
cropped from a random offset and scaled so that 10*log10(P_signal/P_noise) ==
snr_db with P the mean square over the whole clip; a NoiseMixer streams a fixed
gain; a Chain of streams is itself a stream whose output equals running every
stage offline in turn, bit for bit, however the input is cut.
"""
import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fastmel
from conftest import assert_bits_equal, assert_close_rel, cut, multichannel, rtol_for
from fastmel import ParameterError

SR = 16000
DTYPES = [np.float32, np.float64]
# SNRs are measured back from the returned array in float64; 0.01 dB is the
# spec's dB tolerance and covers the float32 rounding of the sum (a relative
# noise-power error of about 1e-7 even at 60 dB SNR, i.e. < 1e-6 dB).
SNR_TOL_DB = 0.01
W1_DB = dict(sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=80, to_db=True,
             top_db=None)


def stream_all(stream, x, sizes):
    """process() over the chunks, then flush(); an empty flush() is left out of the
    concatenation (its dtype is checked on its own, in the flush tests)."""
    outs = [stream.process(x[..., a:b]) for a, b in cut(x.shape[-1], sizes)]
    tail = stream.flush()
    if tail.shape[-1]:
        outs.append(tail)
    return np.concatenate(outs, axis=-1)


def speech_signal(speech, dtype, lead, dur=1.0, start=0.2):
    if not lead:
        return speech(SR, dtype, start=start, dur=dur)
    return np.ascontiguousarray(multichannel(speech, SR, dtype, lead, dur=dur))


def white(n, lead=(), seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(tuple(lead) + (n,)).astype(dtype)


def babble(speech, n, dtype=np.float64):
    """Another talker: speech from later in the clip, looped if n is long."""
    return np.resize(speech(SR, np.float64, start=5.0, dur=3.0), n).astype(dtype)


def power(a):
    return float(np.mean(np.square(np.asarray(a, dtype=np.float64))))


def measured_snr(x, y):
    x64 = np.asarray(x, dtype=np.float64)
    return 10.0 * np.log10(power(x64) / power(np.asarray(y, dtype=np.float64) - x64))


def looped(noise, offset, n):
    return noise[..., (offset + np.arange(n)) % noise.shape[-1]]


def find_segment(d, noise):
    """The (offset, gain) with d == gain * looped(noise, offset, len(d)), found
    by least squares over every offset on the first samples, then checked on
    all of d (float64, up to the rounding of the sum that produced d)."""
    m, k = noise.shape[-1], min(32, d.shape[-1])
    cand = noise[(np.arange(m)[:, None] + np.arange(k)[None, :]) % m]
    gains = cand @ d[:k] / np.einsum("ij,ij->i", cand, cand)
    resid = np.max(np.abs(cand * gains[:, None] - d[:k]), axis=1)
    offset = int(np.argmin(resid))
    gain = float(gains[offset])
    seg = looped(noise, offset, d.shape[-1])
    err = np.max(np.abs(d - gain * seg))
    # the sum was formed in float64 from float64 operands: only its rounding remains
    assert err <= 1e-12 * max(np.max(np.abs(d)), 1.0), \
        f"difference is not a scaled, looped crop of the noise (residual {err:.3e})"
    return offset, gain


# --- add_noise -------------------------------------------------------------------------

@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 7.5, 20.0, 60.0])
@pytest.mark.parametrize("noise_len", [1600, SR, 3 * SR], ids=["short", "same", "long"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_add_noise_snr_measured_back(snr_db, noise_len, dtype, speech):
    x = speech(SR, dtype, dur=1.0)
    for noise in (babble(speech, noise_len), white(noise_len, dtype=np.float32)):
        y = fastmel.add_noise(x, noise, snr_db=snr_db, rng=1)
        assert y.shape == x.shape and y.dtype == np.dtype(dtype)
        assert abs(measured_snr(x, y) - snr_db) <= SNR_TOL_DB


@pytest.mark.parametrize("noise_len", [1, 7, 1000, SR, 3 * SR + 5])
def test_add_noise_is_a_looped_crop_of_the_noise(noise_len, speech):
    """y - x is gain * noise[offset], noise[offset + 1], ... wrapping around the
    noise's end, with the gain that gives the exact SNR on that segment."""
    x = speech(SR, np.float64, dur=1.0)
    noise = white(noise_len, seed=noise_len) + 0.5  # + 0.5: one-sample noise is not silent
    y = fastmel.add_noise(x, noise, snr_db=12.0, rng=np.random.default_rng(7))
    offset, gain = find_segment(y - x, noise)
    assert 0 <= offset < noise_len
    seg = gain * looped(noise, offset, x.shape[-1])
    assert abs(10 * np.log10(power(x) / power(seg)) - 12.0) < 1e-9


@pytest.mark.parametrize("layout", ["stereo", "batch"])
def test_add_noise_mono_noise_on_multichannel(layout, speech):
    """One noise for every channel: each channel gets the same scaled segment, and
    the SNR is over all channels together."""
    lead = {"stereo": (2,), "batch": (2, 3)}[layout]
    x = speech_signal(speech, np.float64, lead, dur=0.5)
    noise = white(3000, seed=3)
    y = fastmel.add_noise(x, noise, snr_db=5.0, rng=0)
    assert y.shape == x.shape
    d = (y - x).reshape(-1, x.shape[-1])
    found = {find_segment(row, noise) for row in d}
    offsets = {o for o, _ in found}
    assert len(offsets) == 1, f"channels got different segments: {offsets}"
    gains = [g for _, g in found]
    np.testing.assert_allclose(gains, gains[0], rtol=1e-12)  # one gain for the clip
    assert abs(measured_snr(x, y) - 5.0) <= SNR_TOL_DB


def test_add_noise_per_channel_noise(speech):
    x = speech_signal(speech, np.float64, (2, 3), dur=0.5)
    noise = white(2000, lead=(2, 3), seed=4)
    y = fastmel.add_noise(x, noise, snr_db=-3.0, rng=5)
    d = (y - x).reshape(6, -1)
    rows = noise.reshape(6, -1)
    gains = [find_segment(d[c], rows[c])[1] for c in range(6)]
    # every channel gets its own noise, all scaled by the one gain of the clip
    np.testing.assert_allclose(gains, gains[0], rtol=1e-12)
    assert abs(measured_snr(x, y) - (-3.0)) <= SNR_TOL_DB
    for dtype in DTYPES:
        y = fastmel.add_noise(x.astype(dtype), noise.astype(np.float32), snr_db=-3.0, rng=5)
        assert y.dtype == np.dtype(dtype)
        assert abs(measured_snr(x.astype(dtype), y) - (-3.0)) <= SNR_TOL_DB


def test_add_noise_seeded_rng_is_reproducible(speech):
    x = speech(SR, np.float32, dur=0.5)
    noise = white(SR, seed=9)
    a = fastmel.add_noise(x, noise, snr_db=10, rng=42)
    assert_bits_equal(fastmel.add_noise(x, noise, snr_db=10, rng=42), a, "same int seed")
    assert_bits_equal(fastmel.add_noise(x, noise, snr_db=10, rng=np.random.default_rng(42)), a,
                      "same seed as a Generator")
    outs = [fastmel.add_noise(x, noise, snr_db=10, rng=seed).tobytes() for seed in range(10)]
    assert len(set(outs)) >= 5, "different seeds should usually pick different offsets"
    # a Generator is consumed: two calls with one generator usually differ
    g = np.random.default_rng(3)
    draws = {fastmel.add_noise(x, noise, snr_db=10, rng=g).tobytes() for _ in range(5)}
    assert len(draws) >= 2
    # rng=None: random, but still at the requested SNR
    assert abs(measured_snr(x, fastmel.add_noise(x, noise, snr_db=10)) - 10) <= SNR_TOL_DB


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_add_noise_silent_signal_is_returned_unchanged(dtype):
    for lead in ((), (2,)):
        x = np.zeros(lead + (4000,), dtype=dtype)
        y = fastmel.add_noise(x, white(500), snr_db=10, rng=0)
        assert_bits_equal(y, x, "silent x")


@pytest.mark.parametrize("kwargs, err", [
    (dict(noise=np.zeros(100)), ParameterError),
    (dict(noise=np.zeros(0)), ParameterError),
    (dict(noise=np.zeros((2, 0))), ParameterError),
    (dict(noise=np.r_[1.0, np.nan, 0.5]), ParameterError),
    (dict(noise=np.r_[1.0, np.inf, 0.5]), ParameterError),
    (dict(snr_db=np.nan), ParameterError),
    (dict(snr_db=np.inf), ParameterError),
    (dict(snr_db=-np.inf), ParameterError),
    (dict(snr_db=None), ParameterError),
    (dict(snr_db="10"), ParameterError),
    (dict(x=np.ones((2, 300)), noise=np.ones((3, 50))), ParameterError),
    (dict(x=np.ones(300), noise=np.ones((2, 50))), ParameterError),
    (dict(x=np.ones((2, 3, 300)), noise=np.ones((3, 2, 50))), ParameterError),
    (dict(x=np.ones((2, 3, 300)), noise=np.ones((6, 50))), ParameterError),
    (dict(x=np.r_[0.5, np.nan, 0.5]), ParameterError),
    (dict(x=np.ones(300, dtype=np.int16)), TypeError),
    (dict(noise=np.ones(50, dtype=np.int32)), TypeError),
])
def test_add_noise_errors(kwargs, err):
    args = dict(x=np.sin(np.arange(300.0)), noise=np.cos(np.arange(50.0)), snr_db=10.0)
    args.update(kwargs)
    with pytest.raises(err):
        fastmel.add_noise(args["x"], args["noise"], snr_db=args["snr_db"], rng=0)


# --- NoiseMixer -----------------------------------------------------------------------------

NOISE_LAYOUTS = {
    "mono": ((), False),
    "stereo-mono-noise": ((2,), False),
    "stereo-per-channel": ((2,), True),
    "batch-per-channel": ((2, 3), True),
}


@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_noise_mixer_random_chunkings_bit_exact(data, speech):
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    noise_dtype = data.draw(st.sampled_from(DTYPES), label="noise dtype")
    lead, per_channel = NOISE_LAYOUTS[data.draw(st.sampled_from(list(NOISE_LAYOUTS)),
                                                label="layout")]
    m = data.draw(st.sampled_from([1600, 48000, 100, 1]), label="noise length")
    n = data.draw(st.sampled_from([8000, m + 1, m, m - 1, 1, 0]), label="n")
    offset = data.draw(st.sampled_from([0, 1, 37, max(m - 1, 0), m, 5 * m + 3]), label="offset")
    gain = data.draw(st.sampled_from([0.0, 0.01, 1.0, -0.5]), label="gain")
    x = speech_signal(speech, dtype, lead, dur=max(n, 1) / SR + 0.01)[..., :n]
    noise = white(m, lead=lead if per_channel else (), seed=m, dtype=noise_dtype)
    mixer = fastmel.NoiseMixer(noise, gain=gain, offset=offset)
    assert mixer.latency == 0
    sizes = data.draw(st.lists(st.one_of(st.sampled_from([0, 1, 2, 97, 160, m - 1, m, m + 1]),
                                         st.integers(0, 2000)), min_size=1, max_size=10),
                      label="sizes")
    offline = mixer(x)
    assert offline.shape == x.shape and offline.dtype == np.dtype(dtype)
    outs = []
    for a, b in cut(n, sizes):
        out = mixer.process(x[..., a:b])
        assert out.shape == x.shape[:-1] + (b - a,) and out.dtype == np.dtype(dtype)
        outs.append(out)
    tail = mixer.flush()
    assert tail.shape[-1] == 0, "a noise mixer owes nothing at flush()"
    assert_bits_equal(np.concatenate(outs, axis=-1), offline, f"sizes {sizes}")
    # what was added: gain times the looped noise from the offset (SPEC tolerance of
    # the output dtype covers the rounding of the sum)
    want = x.astype(np.float64) + gain * looped(noise.astype(np.float64), offset, n)
    if n:
        assert_close_rel(offline, want, rtol_for(dtype), "rounding of the sum to the output dtype",
                         check_dtype=False)
    # flush() rewound the noise: the next stream starts at the offset again
    assert_bits_equal(stream_all(mixer, x, [161]), offline, "after flush")


@pytest.mark.parametrize("snr_db", [-5.0, 10.0, 35.0])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_noise_mixer_snr_with_signal_power(snr_db, dtype, speech):
    """snr_db + signal_power: a signal of that power comes out at that SNR (the
    noise loops over whole periods here, so the segment has the noise's power)."""
    x = speech(SR, dtype, dur=1.0)
    noise = babble(speech, 4000)           # 16000 = 4 whole periods
    mixer = fastmel.NoiseMixer(noise, snr_db=snr_db, signal_power=power(x), offset=1234)
    assert abs(10 * np.log10(power(x) / (mixer.gain ** 2 * power(noise))) - snr_db) < 1e-9
    y = stream_all(mixer, x, [160])
    assert abs(measured_snr(x, y) - snr_db) <= SNR_TOL_DB
    # same level as an explicit gain
    explicit = fastmel.NoiseMixer(noise, gain=mixer.gain, offset=1234)
    assert_bits_equal(explicit(x), y)


def test_noise_mixer_reset_pickle_and_rejected_chunks(speech, dtype):
    x = speech_signal(speech, dtype, (2,), dur=0.5)
    noise = white(1000, lead=(2,), seed=1)
    mixer = fastmel.NoiseMixer(noise, gain=0.1, offset=17)
    offline = mixer(x)
    head = mixer.process(x[..., :333])
    for bad, err in [(x[..., 333:400].astype(np.int16), TypeError),
                     (np.where(np.arange(67) == 3, np.nan, x[..., 333:400]), ParameterError),
                     (x[:1, 333:400], ParameterError),
                     (x[0, 333:400], ParameterError),
                     (x[None, :, 333:400], ParameterError)]:
        with pytest.raises(err):
            mixer.process(bad)
    for clone in (pickle.loads(pickle.dumps(mixer)), copy.deepcopy(mixer)):
        assert_bits_equal(np.concatenate([head, clone.process(x[..., 333:])], axis=-1), offline,
                          "copy mid-stream")
    assert_bits_equal(np.concatenate([head, mixer.process(x[..., 333:])], axis=-1), offline,
                      "after rejected chunks")
    mixer.process(x[..., :50])
    mixer.reset()
    assert_bits_equal(stream_all(mixer, x, [97]), offline, "after reset")
    # per-channel noise: a first chunk with another channel count is rejected
    with pytest.raises(ParameterError):
        mixer.process(np.zeros((3, 10), dtype=dtype))
    assert_bits_equal(stream_all(mixer, x, [1000]), offline, "after rejected first chunk")


@pytest.mark.parametrize("noise_dtype", DTYPES, ids=["noise-f32", "noise-f64"])
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_noise_mixer_flush_is_empty_in_the_stream_dtype(dtype, noise_dtype, speech):
    """flush() owes nothing: an empty (..., 0) array of the output dtype, so that
    concatenating every output and flush() gives the offline result, dtype included."""
    x = speech_signal(speech, dtype, (2,), dur=0.1)
    mixer = fastmel.NoiseMixer(white(100, dtype=noise_dtype), gain=0.1)
    outs = [mixer.process(x[..., :500]), mixer.process(x[..., 500:])]
    tail = mixer.flush()
    assert tail.shape == (2, 0)
    assert tail.dtype == np.dtype(dtype), f"flush() dtype {tail.dtype}, outputs {dtype}"
    assert_bits_equal(np.concatenate(outs + [tail], axis=-1), mixer(x))


@pytest.mark.parametrize("kwargs", [
    dict(),                                        # no level at all
    dict(snr_db=10.0),                             # snr without signal_power
    dict(signal_power=0.01),                       # signal_power without snr
    dict(gain=0.1, snr_db=10.0, signal_power=0.01),
    dict(gain=0.1, snr_db=10.0),
    dict(gain=np.nan), dict(gain=np.inf), dict(gain="0.1"),
    dict(snr_db=np.nan, signal_power=0.01), dict(snr_db=10.0, signal_power=-1.0),
    dict(snr_db=10.0, signal_power=np.inf),
    dict(gain=0.1, offset=-1), dict(gain=0.1, offset=1.5), dict(gain=0.1, offset=True),
    dict(gain=0.1, noise=np.zeros(0)), dict(gain=0.1, noise=np.r_[0.1, np.nan]),
    dict(snr_db=10.0, signal_power=0.01, noise=np.zeros(50)),   # silent noise has no SNR
])
def test_noise_mixer_parameter_errors(kwargs):
    args = dict(noise=np.cos(np.arange(50.0)))
    args.update(kwargs)
    with pytest.raises(ParameterError):
        fastmel.NoiseMixer(args.pop("noise"), **args)


# --- Chain ---------------------------------------------------------------------------------

def room_ir(n_taps=int(0.3 * SR), seed=0, rt60=0.25):
    rng = np.random.default_rng(seed)
    t = np.arange(n_taps) / SR
    ir = rng.standard_normal(n_taps) * 0.3 * 10.0 ** (-3.0 * t / rt60)
    ir[:40] = 0.0
    ir[40] = 1.0
    return ir


def recording_stages(speech, dtype, clean_power):
    """Convolver -> NoiseMixer -> Bandpass -> MelSpectrogram stream, fresh."""
    mel = fastmel.MelSpectrogram(dtype=dtype, **W1_DB)
    return [fastmel.Convolver(room_ir(), block_size=160, dtype=dtype),
            fastmel.NoiseMixer(babble(speech, 2 * SR, dtype), snr_db=15.0,
                               signal_power=clean_power, offset=321),
            fastmel.Bandpass(SR, 100, 7000, order=4),
            mel.stream()], mel


def offline_in_turn(stages, mel, x):
    conv, mixer, bp, _ = stages
    return mel(bp(mixer(conv(x))))


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_chain_random_chunkings_equal_stages_offline(data, speech):
    dtype = data.draw(st.sampled_from(DTYPES), label="dtype")
    lead = data.draw(st.sampled_from([(), (2,)]), label="lead")
    n = data.draw(st.sampled_from([16000, 8000, 400, 159, 1]), label="n")
    x = speech_signal(speech, dtype, lead, dur=max(n, 1) / SR + 0.01)[..., :n]
    stages, mel = recording_stages(speech, dtype, power(x) if n > 1 else 0.01)
    ref = offline_in_turn(stages, mel, x)
    chain = fastmel.Chain(stages)
    special = [0, 1, 2, 13, 159, 160, 161, 399, 400, 401, 511, 512, 513, 4096, 10007]
    sizes = data.draw(st.lists(st.one_of(st.sampled_from(special), st.integers(0, 1200)),
                               min_size=1, max_size=10), label="sizes")
    outs = [chain.process(x[..., a:b]) for a, b in cut(n, sizes)]
    for out in outs:
        assert out.shape[:-1] == lead + (80,) and out.dtype == np.dtype(dtype)
    got = np.concatenate(outs + [chain.flush()], axis=-1)
    assert_bits_equal(got, ref, f"sizes {sizes}")
    # flush() ended the stream: the chain starts afresh
    assert_bits_equal(stream_all(chain, x, [160]), ref, "second run after flush")


def test_chain_matches_stages_one_sample_and_prime_chunks(speech, dtype):
    x = speech(SR, dtype, dur=0.5)
    stages, mel = recording_stages(speech, dtype, power(x))
    ref = offline_in_turn(stages, mel, x)
    chain = fastmel.Chain(stages)
    assert chain.latency == sum(s.latency for s in stages) == stages[-1].latency
    for sizes in ([1], [2, 3, 5, 7, 11, 13, 0, 509], [160], [x.shape[-1]]):
        assert_bits_equal(stream_all(chain, x, sizes), ref, f"sizes {sizes}")
    # reset mid-stream
    chain.process(x[:1001])
    chain.reset()
    assert_bits_equal(stream_all(chain, x, [320]), ref, "after reset")


def test_chain_of_signal_stages_and_nested_chains(speech):
    """Sample-to-sample stages only: the output is the full-length signal
    (convolution tail included); a chain can itself be a stage."""
    x = speech_signal(speech, np.float32, (2,), dur=0.5)
    ir = room_ir(2000, seed=8)

    def stages():
        return [fastmel.Convolver(ir, block_size=64), fastmel.Bandpass(SR, 300, 3400),
                fastmel.NoiseMixer(white(777, seed=2, dtype=np.float32), gain=0.01)]

    conv, bp, mixer = stages()
    ref = mixer(bp(conv(x)))
    assert ref.shape == (2, x.shape[-1] + 1999)
    chain = fastmel.Chain(stages())
    assert chain.latency == 0
    assert_bits_equal(stream_all(chain, x, [63, 0, 1, 1000]), ref, "flat chain")
    a, b, c = stages()
    nested = fastmel.Chain([fastmel.Chain([a, b]), c])
    assert_bits_equal(stream_all(nested, x, [64, 2]), ref, "nested chain")


def test_chain_rejected_first_stage_chunk_leaves_chain_unchanged(speech):
    x = speech(SR, np.float32, dur=0.5)
    stages, mel = recording_stages(speech, np.float32, power(x))
    ref = offline_in_turn(stages, mel, x)
    chain = fastmel.Chain(stages)
    outs = [chain.process(x[:777])]
    for bad, err in [(np.where(np.arange(100) == 9, np.nan, x[777:877]), ParameterError),
                     ((x[777:877] * 32767).astype(np.int16), TypeError),
                     (x[None, 777:877], ParameterError)]:
        with pytest.raises(err):
            chain.process(bad)
    outs += [chain.process(x[777:]), chain.flush()]
    assert_bits_equal(np.concatenate(outs, axis=-1), ref)


def test_chain_chunk_rejected_by_a_later_stage_leaves_chain_unchanged():
    """SPEC streaming protocol: a rejected chunk (here: a channel count the second
    stage does not accept) raises before any state changes, so the chain goes on
    as if the call never happened and still accepts a correct first chunk."""
    x = np.random.default_rng(0).standard_normal((3, 400)).astype(np.float32)
    ir = room_ir(300, seed=1)

    def chain():
        return fastmel.Chain([fastmel.Bandpass(SR, 300, 3400),
                              fastmel.Convolver(np.stack([ir, -ir]), block_size=64)])

    c = chain()
    with pytest.raises(ParameterError):
        c.process(x)                               # 3 channels, 2 impulse responses
    assert_bits_equal(stream_all(c, x[:2], [100]), stream_all(chain(), x[:2], [100]))


@pytest.mark.parametrize("stages", [
    [],
    [object()],
    [np.zeros(3)],
    [lambda chunk: chunk],
    ["Bandpass"],
    [fastmel.MelSpectrogram(**W1_DB)],            # an extractor, not its stream()
    [fastmel.Bandpass(SR, 300, 3400), None],
], ids=["empty", "object", "array", "function", "string", "extractor", "none-stage"])
def test_chain_parameter_errors(stages):
    with pytest.raises(ParameterError):
        fastmel.Chain(stages)
