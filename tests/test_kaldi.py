"""Kaldi fbank / MFCC front ends (fastmel.frontends.KaldiFbank, KaldiMFCC) against
kaldi-native-fbank 1.23, streams against their offline calls and Kaldi's online timing."""
import copy
import math
import pickle
import threading

import numpy as np
import pytest
import scipy.signal

import fastmel
from conftest import assert_bits_equal, cut
from fastmel import ParameterError
from fastmel.frontends import KaldiFbank, KaldiMFCC

try:
    import kaldi_native_fbank as knf
except ImportError:  # the test extra installs it; the rest of this file runs without it
    knf = None
needs_knf = pytest.mark.skipif(knf is None, reason="kaldi-native-fbank is not installed")

# Kaldi's features are float32 throughout; kaldi-native-fbank has its own FFT
# and fastmel uses FFTW, and fastmel sums a frame's samples (DC offset, energy)
# in 8 interleaved partial sums where Kaldi adds them one after the other; the
# rest is the same operations in the same order.  A float32 FFT
# of N <= 2048 points errs by about eps32 * log2(N) ~ 7e-7 of the frame's
# norm; squared and summed over a filter that is a few 1e-6 of the frame's
# largest filter energy.  Hence (linear) filter energies within RTOL of the
# frame's largest, and log values within RTOL / 0.02 = 1e-3 where the filter
# holds at least 2% of that largest energy.
RTOL = 2e-5
LOG_SHARE = 0.02
EPS32 = float(np.finfo(np.float32).eps)


def energy_atol(fe):
    """The log energy: two float32 sums of the frame's L squares in different
    orders differ by at most 2 * L * eps32 of the sum, which the log turns into
    that absolute difference."""
    return 2 * fe.samples_per_frame * EPS32

_OPTION_NAMES = {"sr": "samp_freq", "frame_length": "frame_length_ms",
                 "frame_shift": "frame_shift_ms"}


def knf_options(mfcc=False, **kw):
    """kaldi-native-fbank's options for fastmel's keywords (dither 0 unless given)."""
    o = knf.MfccOptions() if mfcc else knf.FbankOptions()
    o.frame_opts.dither = 0.0
    for k, v in kw.items():
        k = _OPTION_NAMES.get(k, k)
        if k == "num_mel_bins":
            o.mel_opts.num_bins = v
        elif k in ("low_freq", "high_freq"):
            setattr(o.mel_opts, k, v)
        elif hasattr(o.frame_opts, k):
            setattr(o.frame_opts, k, v)
        else:
            setattr(o, k, v)
    return o


def knf_online(mfcc=False, **kw):
    o = knf_options(mfcc, **kw)
    return (knf.OnlineMfcc if mfcc else knf.OnlineFbank)(o), o.frame_opts.samp_freq


def reference(y, mfcc=False, **kw):
    """kaldi-native-fbank's features of all of y, (features, frames)."""
    f, sr = knf_online(mfcc, **kw)
    f.accept_waveform(sr, y.astype(np.float32).tolist())
    f.input_finished()
    n = f.num_frames_ready
    dim = f.dim
    return np.array([f.get_frame(i) for i in range(n)], dtype=np.float32).reshape(n, dim).T


@pytest.fixture(scope="module")
def signals():
    """3 s of speech at 8, 16 and 44.1 kHz, in [-1, 1] and int16's scale."""
    import soundfile as sf
    from importlib.resources import files
    with (files("fastmel") / "data" / "speech_16000.flac").open("rb") as fh:
        y16, _ = sf.read(fh, dtype="float64")
    y16 = y16[:3 * 16000]
    by_rate = {16000: y16, 8000: scipy.signal.resample_poly(y16, 1, 2),
               44100: scipy.signal.resample_poly(y16, 441, 160)}
    return {(sr, scale): (y * scale).astype(np.float32) for sr, y in by_rate.items()
            for scale in (1.0, 32768.0)}


def check_fbank(got, want, kw):
    """got (fastmel) against want (kaldi-native-fbank), within the tolerances above."""
    assert got.shape == want.shape
    got, want = got.astype(np.float64), want.astype(np.float64)
    if kw.get("use_energy"):
        np.testing.assert_allclose(got[0], want[0], rtol=0,
                                   atol=energy_atol(KaldiFbank(**kw)))
        got, want = got[1:], want[1:]
    log = kw.get("use_log_fbank", True)
    lin_got, lin_want = (np.exp(got), np.exp(want)) if log else (got, want)
    peak = lin_want.max(axis=0)
    assert np.all(np.abs(lin_got - lin_want) <= RTOL * peak), \
        f"max error {np.max(np.abs(lin_got - lin_want) / peak):.3g} of the frame's peak"
    if log:
        big = lin_want >= LOG_SHARE * peak
        np.testing.assert_allclose(got[big], want[big], rtol=0, atol=RTOL / LOG_SHARE)


FBANK_GRID = [
    dict(),
    dict(snip_edges=False),
    dict(num_mel_bins=80),
    dict(num_mel_bins=40, snip_edges=False),
    dict(use_energy=True),
    dict(use_energy=True, raw_energy=False),
    dict(use_energy=True, energy_floor=1.0),
    dict(use_energy=True, energy_floor=1e-3, raw_energy=False, snip_edges=False),
    dict(window_type="hamming"),
    dict(window_type="hanning"),
    dict(window_type="hann"),
    dict(window_type="rectangular"),
    dict(window_type="blackman"),
    dict(window_type="blackman", blackman_coeff=0.5),
    dict(window_type="sine"),
    dict(preemph_coeff=0.0),
    dict(preemph_coeff=1.0),
    dict(remove_dc_offset=False),
    dict(low_freq=100.0, high_freq=-400.0),
    dict(low_freq=0.0, high_freq=7000.0),
    dict(use_log_fbank=False),
    dict(use_power=False),
    dict(use_power=False, use_log_fbank=False),
    dict(round_to_power_of_two=False),
    dict(frame_length=50.0, frame_shift=12.5),
    dict(frame_length=20.0, frame_shift=20.0, snip_edges=False),
    dict(sr=8000),
    dict(sr=8000, snip_edges=False, num_mel_bins=40, high_freq=3800.0),
    dict(sr=44100, num_mel_bins=80),
    dict(sr=44100, round_to_power_of_two=False, snip_edges=False),
]


@pytest.mark.parametrize("scale", [1.0, 32768.0], ids=["unit", "int16"])
@pytest.mark.parametrize("kw", FBANK_GRID, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                                   kw.items()) or "defaults")
@needs_knf
def test_fbank_equals_kaldi_native_fbank(signals, kw, scale):
    y = signals[(kw.get("sr", 16000), scale)]
    check_fbank(KaldiFbank(**kw)(y), reference(y, **kw), kw)


MFCC_GRID = [
    dict(),
    dict(use_energy=False),
    dict(snip_edges=False),
    dict(num_ceps=20, num_mel_bins=40, cepstral_lifter=0.0),
    dict(num_ceps=23, cepstral_lifter=10.0, raw_energy=False, energy_floor=0.5),
    dict(sr=8000, window_type="hamming", preemph_coeff=0.0),
    dict(sr=44100, num_mel_bins=40, remove_dc_offset=False),
]


@pytest.mark.parametrize("kw", MFCC_GRID, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                                  kw.items()) or "defaults")
@needs_knf
def test_mfcc_equals_kaldi_native_fbank(signals, kw):
    y = signals[(kw.get("sr", 16000), 32768.0)]
    got = KaldiMFCC(**kw)(y).astype(np.float64)
    want = reference(y, mfcc=True, **kw).astype(np.float64)
    fb_kw = {k: v for k, v in kw.items() if k not in ("num_ceps", "cepstral_lifter")}
    fb_kw["use_energy"] = False
    log_err = np.max(np.abs(KaldiFbank(**fb_kw)(y).astype(np.float64)
                            - reference(y, **fb_kw).astype(np.float64)))
    check_mfcc(got, want, KaldiMFCC(**kw), log_err)


def check_mfcc(got, want, mfcc, log_err):
    """got (fastmel) against want (a reference) for the extractor mfcc, given
    log_err, the largest error of the same options' log filter energies."""
    # MFCC is a linear map of the log filter energies: coefficient q errs by at
    # most lifter_q * ||DCT row q||_1 (<= sqrt(2 * bins)) times the largest
    # log-energy error, plus float32 rounding of the DCT's sum (bins * eps32 * |c|)
    assert got.shape == want.shape
    bins = mfcc.num_mel_bins
    q = np.arange(mfcc.num_ceps)
    lift = 1 + 0.5 * mfcc.cepstral_lifter * np.sin(np.pi * q / mfcc.cepstral_lifter) \
        if mfcc.cepstral_lifter else np.ones(mfcc.num_ceps)
    tol = np.abs(lift) * (math.sqrt(2 * bins) * log_err) + bins * 1.2e-7 * np.abs(want).max(axis=1)
    if mfcc.use_energy:
        np.testing.assert_allclose(got[0], want[0], rtol=0, atol=energy_atol(mfcc))
        got, want, tol = got[1:], want[1:], tol[1:]
    assert np.all(np.abs(got - want) <= tol[:, None])


@needs_knf
def test_defaults_are_kaldi_native_fbank_defaults_but_dither():
    fb, o = KaldiFbank(), knf.FbankOptions()
    assert fb.num_mel_bins == o.mel_opts.num_bins and fb.low_freq == o.mel_opts.low_freq
    assert fb.high_freq == o.mel_opts.high_freq
    assert fb.window_type == o.frame_opts.window_type
    assert fb.preemph_coeff == pytest.approx(o.frame_opts.preemph_coeff)
    assert fb.snip_edges == o.frame_opts.snip_edges
    assert fb.use_energy == o.use_energy and fb.raw_energy == o.raw_energy
    assert fb.use_power == o.use_power and fb.use_log_fbank == o.use_log_fbank
    assert fb.dither == 0.0 != o.frame_opts.dither
    m, mo = KaldiMFCC(), knf.MfccOptions()
    assert (m.num_ceps, m.cepstral_lifter, m.use_energy) == (mo.num_ceps, mo.cepstral_lifter,
                                                             mo.use_energy)
    assert m.num_mel_bins == mo.mel_opts.num_bins


@needs_knf
def test_float64_path(signals):
    y = signals[(16000, 32768.0)]
    for kw in (dict(), dict(use_energy=True, snip_edges=False, num_mel_bins=80)):
        got = KaldiFbank(dtype=np.float64, **kw)(y.astype(np.float64))
        assert got.dtype == np.float64
        want = reference(y, **kw)
        # the reference is float32: its rounding (not fastmel's float64) bounds
        # the difference, the same bounds as for the float32 path
        if kw.get("use_energy"):
            np.testing.assert_allclose(got[0], want[0], rtol=0,
                                       atol=energy_atol(KaldiFbank(**kw)))
            got, want = got[1:], want[1:]
        lin_got, lin_want = np.exp(got), np.exp(want.astype(np.float64))
        assert np.all(np.abs(lin_got - lin_want) <= RTOL * lin_want.max(axis=0))
    got = KaldiMFCC(dtype="float64")(y)
    assert got.dtype == np.float64
    assert got.shape == reference(y, mfcc=True).shape


# -- streams -----------------------------------------------------------------------

TIMING = [dict(), dict(snip_edges=False), dict(frame_length=50.0, frame_shift=10.0,
                                               snip_edges=False),
          dict(frame_length=10.0, frame_shift=10.0, snip_edges=False),
          dict(frame_length=25.0, frame_shift=30.0), dict(sr=8000, snip_edges=False)]
CHUNKINGS = [[1], [0, 7], [160], [13, 400, 0, 1], [401], [3000], [100000]]


@pytest.mark.parametrize("kw", TIMING, ids=lambda kw: ",".join(f"{k}={v}" for k, v in
                                                               kw.items()) or "defaults")
@pytest.mark.parametrize("sizes", CHUNKINGS, ids=str)
@needs_knf
def test_stream_timing_equals_online_fbank(signals, kw, sizes):
    y = signals[(kw.get("sr", 16000), 1.0)][:3217]
    online, sr = knf_online(**kw)
    s = KaldiFbank(**kw).stream()
    got = []
    for a, b in cut(len(y), sizes):
        out = s.process(y[a:b])
        online.accept_waveform(sr, y[a:b].tolist())
        assert out.shape[-1] == online.num_frames_ready - sum(g.shape[-1] for g in got)
        got.append(out)
    got.append(s.flush())
    online.input_finished()
    assert sum(g.shape[-1] for g in got) == online.num_frames_ready
    full = np.concatenate(got, axis=-1)
    want = np.array([online.get_frame(i) for i in range(online.num_frames_ready)]).T
    check_fbank(full, want.astype(np.float32), kw)
    assert_bits_equal(full, KaldiFbank(**kw)(y))


@needs_knf
def test_short_signals_timing_and_values():
    # frames that reach past both ends (snip_edges=False on signals shorter
    # than a frame), and signals too short for any frame
    rng = np.random.default_rng(1)
    for n in (0, 1, 5, 79, 80, 81, 200, 399, 400, 401, 560):
        y = rng.standard_normal(n).astype(np.float32)
        for kw in (dict(), dict(snip_edges=False), dict(frame_length=50.0, snip_edges=False)):
            want = reference(y, **kw) if n else np.zeros((23, 0), np.float32)
            got = KaldiFbank(**kw)(y)
            assert got.shape == want.shape, (n, kw)
            check_fbank(got, want, kw)
            s = KaldiFbank(**kw).stream()
            parts = [s.process(y[a:b]) for a, b in cut(n, [1])] + [s.flush()]
            assert_bits_equal(np.concatenate(parts, axis=-1), got)


def stream_all(fe, y, sizes):
    s = fe.stream()
    parts = [s.process(y[..., a:b]) for a, b in cut(y.shape[-1], sizes)] + [s.flush()]
    return np.concatenate(parts, axis=-1)


@pytest.mark.parametrize("kw", [dict(), dict(snip_edges=False, use_energy=True),
                                dict(frame_length=64.0, frame_shift=5.0, snip_edges=False)],
                         ids=["defaults", "centred-energy", "long-frames"])
@pytest.mark.parametrize("cls", [KaldiFbank, KaldiMFCC])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("lead", [(), (2,), (2, 3)])
def test_stream_equals_offline_bit_for_bit(signals, cls, kw, dtype, lead):
    base = signals[(16000, 32768.0)][:9001].astype(dtype)
    n_ch = math.prod(lead)
    y = np.stack([np.roll(base, 997 * i) for i in range(n_ch)]).reshape(lead + base.shape)
    fe = cls(dtype=dtype, **kw)
    offline = fe(y)
    assert offline.shape[:-1] == lead + (fe.n_out,)
    rng = np.random.default_rng(7)
    random_cuts = list(rng.integers(0, 700, size=40))
    for sizes in ([0, 1], [1], [2, 3, 5, 7, 11, 13], [159, 160, 161], [399, 400, 401, 512],
                  [9001], random_cuts):
        assert_bits_equal(stream_all(fe, y, sizes), offline, f"chunks {sizes[:6]}")


def test_odd_strides_and_channels_as_the_contiguous_copy(signals):
    y = signals[(16000, 1.0)][:8000]
    fe = KaldiFbank(snip_edges=False)
    stacked = np.stack([y, -y, 0.5 * y])
    want = fe(np.ascontiguousarray(stacked))
    for view in (stacked[:, ::-1][:, ::-1], np.asfortranarray(stacked),
                 np.repeat(stacked, 2, axis=1)[:, ::2]):
        assert_bits_equal(fe(view), want)
        assert_bits_equal(stream_all(fe, view, [17, 160]), want)
    for c in range(3):
        assert_bits_equal(fe(stacked[c]), want[c])
    big = stacked.astype(">f4")
    assert_bits_equal(fe(big), want)


def test_latency_is_when_a_frame_is_returned():
    for kw in (dict(), dict(snip_edges=False), dict(frame_length=25.6, sr=10000)):
        fe = KaldiFbank(**kw)
        s = fe.stream()
        L, shift = fe.samples_per_frame, fe.samples_per_shift
        assert s.latency == L - 1 - L // 2
        # frame 1's centre, plus the latency, is the sample that completes it
        centre = shift + (L // 2 if fe.snip_edges else shift // 2)
        n_first = 0
        for n in range(1, 3 * L):
            n_first += s.process(np.zeros(1, np.float32)).shape[-1]
            if n_first == 2:
                break
        assert n - 1 == centre + s.latency


# -- dither ------------------------------------------------------------------------

def test_dither_is_reproducible_with_a_seed_and_streams_the_same(signals):
    y = signals[(16000, 1.0)][:8000]
    plain = KaldiFbank()(y)
    a = KaldiFbank(dither=1e-3, rng=5)
    b = KaldiFbank(dither=1e-3, rng=5)
    first = a(y)
    assert not np.array_equal(first, plain)
    assert_bits_equal(a(y), first)          # every call starts from the seed
    assert_bits_equal(b(y), first)
    assert not np.array_equal(KaldiFbank(dither=1e-3, rng=6)(y), first)
    for sizes in ([1], [160], [37, 0, 401], [8000]):
        assert_bits_equal(stream_all(a, y, sizes), first)
    # the centred frames at the end draw after every earlier frame
    c = KaldiMFCC(dither=1e-2, rng=3, snip_edges=False)
    assert_bits_equal(stream_all(c, np.stack([y, y]), [7, 160]), c(np.stack([y, y])))
    # None: fresh noise each call
    fresh = KaldiFbank(dither=1e-3)
    assert not np.array_equal(fresh(y), fresh(y))


def test_dither_from_a_generator_advances_it(signals):
    y = signals[(16000, 1.0)][:4000]
    fe = KaldiFbank(dither=1e-3, rng=np.random.default_rng(9))
    first, second = fe(y), fe(y)
    assert not np.array_equal(first, second)
    assert_bits_equal(first, KaldiFbank(dither=1e-3, rng=9)(y))


def test_dither_noise_is_kaldis_gaussian_per_frame_sample():
    # a zero signal without DC removal, pre-emphasis or window: the raw energy
    # is log(sum of squares of the noise), L draws of dither * N(0, 1) per frame
    L, dither = 400, 0.5
    fe = KaldiFbank(dither=dither, rng=1, remove_dc_offset=False, preemph_coeff=0.0,
                    window_type="rectangular", use_energy=True)
    energy = fe(np.zeros(16000, np.float32))[0].astype(np.float64)
    draws = np.random.default_rng(1).standard_normal((98, L), dtype=np.float32)
    noise = draws * np.float32(dither)
    # (fastmel's float32 sum against an exact one: within energy_atol's bound)
    np.testing.assert_allclose(energy, np.log(np.sum(noise.astype(np.float64) ** 2, axis=1)),
                               rtol=0, atol=energy_atol(fe))


def test_stream_with_dither_pickles_and_rolls_back(signals):
    y = signals[(16000, 1.0)][:6000]
    fe = KaldiFbank(dither=1e-3, rng=11, snip_edges=False)
    want = fe(y)
    s = fe.stream()
    head = s.process(y[:2500])
    s2 = pickle.loads(pickle.dumps(s))
    s3 = copy.deepcopy(s)
    tail = [s.process(y[2500:]), s.flush()]
    assert_bits_equal(np.concatenate([head] + tail, axis=-1), want)
    for other in (s2, s3):
        assert_bits_equal(np.concatenate([head, other.process(y[2500:]), other.flush()],
                                         axis=-1), want)
    # a step taken back (a Chain's) leaves the generator and buffer as they were
    s = fe.stream()
    a = s.process(y[:1000])
    s._feed(y[1000:5000], keep=True)
    s._rollback()
    assert_bits_equal(np.concatenate([a, s.process(y[1000:]), s.flush()], axis=-1), want)


# -- configuration, errors, pickling, threads ------------------------------------

@pytest.mark.parametrize("kw, error, match", [
    (dict(num_mel_bins=2), ParameterError, "num_mel_bins must be an integer in \\[3"),
    (dict(num_mel_bins=2.5), ParameterError, "num_mel_bins"),
    (dict(num_mel_bins=200), ParameterError, "num_mel_bins=200 is too many"),
    (dict(window_type="kaiser"), ParameterError, "window_type must be one of"),
    (dict(window_type=None), ParameterError, "window_type"),
    (dict(frame_length=0.05), ParameterError, "frame_length=0.05 ms at sr=16000 is 0 samples"),
    (dict(frame_length=1e9), ParameterError, "frame_length"),
    (dict(frame_length=float("nan")), ParameterError, "frame_length must be a finite"),
    (dict(frame_shift=0.0), ParameterError, "frame_shift"),
    (dict(frame_shift=30.0, snip_edges=False), ParameterError, "frame_shift \\(480 samples\\)"),
    (dict(sr=0), ParameterError, "sr must be a sampling rate"),
    (dict(sr=1e300), ParameterError, "sr must be"),
    (dict(sr="16000"), ParameterError, "sr must be a finite number"),
    (dict(low_freq=-1.0), ParameterError, "low_freq=-1.0 and high_freq=0.0"),
    (dict(high_freq=9000.0), ParameterError, "Nyquist \\(8000 Hz\\)"),
    (dict(high_freq=-8000.0), ParameterError, "high_freq=-8000.0"),
    (dict(low_freq=5000.0, high_freq=4000.0), ParameterError, "0 <= low_freq < high_freq"),
    (dict(preemph_coeff=1.5), ParameterError, "preemph_coeff must be in \\[0.0, 1.0\\]"),
    (dict(dither=-1.0), ParameterError, "dither must be a non-negative"),
    (dict(dither=1e30), ParameterError, "dither=1e\\+30 is too large"),
    (dict(energy_floor=-1.0), ParameterError, "energy_floor"),
    (dict(energy_floor=1e308), ParameterError, "energy_floor must be a number in \\[0, 1e30\\]"),
    (dict(low_freq=1e308), ParameterError, "low_freq must be in"),
    (dict(blackman_coeff=1e308), ParameterError, "blackman_coeff must be in"),
    (dict(round_to_power_of_two=False, sr=22050), ParameterError, "even frame length"),
    (dict(dtype=np.float16), ParameterError, "dtype must be float32 or float64"),
    (dict(dtype="bogus"), ParameterError, "dtype must be float32 or float64"),
    (dict(snip_edges=1), TypeError, "snip_edges must be True or False"),
    (dict(use_energy="yes"), TypeError, "use_energy"),
    (dict(rng=-1), TypeError, "rng must be None"),
    (dict(rng="seed"), TypeError, "rng must be None"),
])
def test_parameter_errors(kw, error, match):
    with pytest.raises(error, match=match):
        KaldiFbank(**kw)


def test_mfcc_parameter_errors():
    with pytest.raises(ParameterError, match="num_ceps=30 must be at most num_mel_bins=23"):
        KaldiMFCC(num_ceps=30)
    with pytest.raises(ParameterError, match="num_ceps must be an integer"):
        KaldiMFCC(num_ceps=0)
    with pytest.raises(ParameterError, match="cepstral_lifter must be a finite"):
        KaldiMFCC(cepstral_lifter=float("inf"))
    with pytest.raises(ParameterError, match="cepstral_lifter must be in"):
        KaldiMFCC(cepstral_lifter=1e308)


def test_input_errors():
    fe = KaldiFbank()
    y = np.zeros(16000, np.float32)
    with pytest.raises(TypeError, match="int16"):
        fe(np.zeros(16000, np.int16))
    with pytest.raises(TypeError, match="complex"):
        fe(y.astype(np.complex64))
    for bad in (np.nan, np.inf):
        z = y.copy()
        z[123] = bad
        with pytest.raises(ParameterError, match="non-finite"):
            fe(z)
    with pytest.raises(ParameterError, match="frames, channels"):
        fe(np.zeros((16000, 2), np.float32))
    with pytest.raises(ParameterError, match="scalar"):
        fe(np.float32(1.0))
    with pytest.raises(ParameterError, match="scale the signal down"):
        fe(np.full(1000, 1e30, np.float32))
    # a rejected chunk leaves the stream as it was
    s = fe.stream()
    head = s.process(y[:500])
    for bad, err in ((np.full(10, np.nan, np.float32), ParameterError),
                     (np.zeros(10, np.int16), TypeError),
                     (np.zeros((2, 10), np.float32), ParameterError),
                     (np.full(10, 1e30, np.float32), ParameterError)):
        with pytest.raises(err):
            s.process(bad)
    assert s.samples_in == 500
    assert_bits_equal(np.concatenate([head, s.process(y[500:]), s.flush()], axis=-1), fe(y))


def test_empty_and_shapes():
    fe = KaldiMFCC()
    assert fe(np.zeros(0, np.float32)).shape == (13, 0)
    assert fe(np.zeros((2, 0, 399), np.float32)).shape == (2, 0, 13, 0)
    assert fe(np.zeros((3, 16000), np.float32)).shape == (3, 13, 98)
    assert KaldiFbank(use_energy=True, num_mel_bins=80)(np.zeros(16000)).shape == (81, 98)
    assert KaldiFbank().stream().flush().shape == (23, 0)


def test_repr_attributes_pickling():
    for fe in (KaldiFbank(num_mel_bins=80, snip_edges=False, dither=1e-4, rng=3,
                          window_type="hamming", dtype=np.float64),
               KaldiMFCC(num_ceps=20, num_mel_bins=40, high_freq=-400.0)):
        again = eval(repr(fe), {"KaldiFbank": KaldiFbank, "KaldiMFCC": KaldiMFCC,
                                "np": np})
        assert repr(again) == repr(fe)
        clone = pickle.loads(pickle.dumps(fe))
        assert repr(clone) == repr(fe)
        y = np.random.default_rng(0).standard_normal(5000)
        assert_bits_equal(clone(y), fe(y))
        with pytest.raises(AttributeError, match="read-only"):
            fe.num_mel_bins = 40
        assert "stream()" in repr(fe.stream())
    fe = KaldiFbank()
    assert (fe.samples_per_frame, fe.samples_per_shift, fe.n_fft, fe.n_out) == (400, 160, 512, 23)


def test_threads_share_one_extractor(signals):
    y = signals[(16000, 32768.0)]
    for fe in (KaldiFbank(snip_edges=False, use_energy=True), KaldiMFCC(dither=1.0, rng=4)):
        want = fe(y)
        results = [None] * 6
        barrier = threading.Barrier(len(results))

        def work(i):
            barrier.wait()
            results[i] = fe(y) if i % 2 else stream_all(fe, y, [160])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            assert_bits_equal(r, want, "thread")


def test_chain_mel_front_end_then_delta(signals):
    y = signals[(16000, 1.0)][:8000]
    fe = KaldiFbank(num_mel_bins=40)
    chain = fastmel.Chain([fe.stream(), fastmel.Delta(width=5).stream()])
    parts = [chain.process(y[a:b]) for a, b in cut(len(y), [160, 7])] + [chain.flush()]
    want = fastmel.Delta(width=5)(fe(y))
    assert_bits_equal(np.concatenate(parts, axis=-1), want)


def test_tampered_stream_state_is_refused():
    fe = KaldiFbank(snip_edges=False, dither=1e-3, rng=2)
    y = np.random.default_rng(0).standard_normal(3000).astype(np.float32)
    s = fe.stream()
    s.process(y)
    restore, (maker, state) = s.__reduce__()
    lead, dtype, n_in, engine = state
    bad_engines = [
        dict(engine, t_next=engine["t_next"] + 1),
        dict(engine, buf_pos=n_in + 1),
        dict(engine, buf=engine["buf"][:, 1:]),
        dict(engine, buf=np.full_like(engine["buf"], np.nan)),
        dict(engine, buf=engine["buf"].astype(np.float64)),
        dict(engine, rng=None),
        dict(engine, rng={"bit_generator": "nonsense"}),
        {k: v for k, v in engine.items() if k != "rng"},
    ]
    for bad in bad_engines:
        with pytest.raises(ValueError, match="restored stream state"):
            restore(maker, (lead, dtype, n_in, bad))
    with pytest.raises(ValueError, match="restored stream state"):
        restore(maker, (lead, dtype, n_in + 5000, engine))
    good = restore(maker, state)
    assert_bits_equal(good.flush(), s.flush())
