"""Hardening of the feature side (issue 8): arrays of any layout, dB edge
cases, windows, sizes, transposed input, empty signals.

Layout tests compare with the contiguous copy bit for bit (same compiled
kernel, same arithmetic: no tolerance applies).
"""
import warnings

import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal
from conftest import layout as as_layout
from fastmel import ParameterError

MEL = dict(sr=16000, n_fft=512, hop_length=160, n_mels=40)


def _speechlike(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / 16000.0
    return 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)


# --- finding 1: any array numpy can describe gives its contiguous copy's result

#: the layouts these tests feed (tests/conftest.py makes them)
FEATURE_LAYOUTS = ["field", "unaligned", "negative", "transposed", "readonly", "every-other"]


OFFLINE = {
    "stft": lambda y: fastmel.stft(y, n_fft=512, hop_length=160),
    "melspectrogram": lambda y: fastmel.feature.melspectrogram(y=y, **MEL),
    "mfcc": lambda y: fastmel.feature.mfcc(y=y, **MEL),
    "STFT": lambda y: fastmel.STFT(n_fft=512, hop_length=160, dtype=y.dtype)(y),
    "MelSpectrogram": lambda y: fastmel.MelSpectrogram(dtype=y.dtype, **MEL)(y),
    "MelSpectrogram-db": lambda y: fastmel.MelSpectrogram(dtype=y.dtype, to_db=True,
                                                          top_db=80.0, **MEL)(y),
    "MFCC": lambda y: fastmel.MFCC(dtype=y.dtype, **MEL)(y),
    "MFCC-kernel": lambda y: fastmel.MFCC(dtype=y.dtype, top_db=None, **MEL)(y),
}

STREAMS = {
    "STFT": lambda dt: fastmel.STFT(n_fft=512, hop_length=160, dtype=dt),
    "MelSpectrogram": lambda dt: fastmel.MelSpectrogram(dtype=dt, **MEL),
    "MFCC": lambda dt: fastmel.MFCC(dtype=dt, top_db=None, **MEL),
}


def _signal(layout, n=3000):
    # transposed views need channels; the others are tried mono and stereo
    if layout == "transposed":
        return [_speechlike(2 * n).reshape(2, n)]
    return [_speechlike(n), _speechlike(2 * n, seed=1).reshape(2, n)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("layout", FEATURE_LAYOUTS)
@pytest.mark.parametrize("entry", list(OFFLINE))
def test_offline_any_layout_equals_contiguous_copy(entry, layout, dtype):
    for values in _signal(layout):
        y = as_layout(layout, values.astype(dtype))
        ref = OFFLINE[entry](np.ascontiguousarray(y))
        assert_bits_equal(OFFLINE[entry](y), ref, f"{entry} {layout} {y.shape}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("layout", FEATURE_LAYOUTS)
@pytest.mark.parametrize("kind", list(STREAMS))
def test_stream_any_layout_equals_contiguous_copy(kind, layout, dtype):
    """Every chunk in the layout (the fast path after the first chunk too)."""
    ext = STREAMS[kind](dtype)
    for values in _signal(layout):
        y = as_layout(layout, values.astype(dtype))
        ref = ext(np.ascontiguousarray(y))
        s = ext.stream()
        outs = []
        for a, b in [(0, 7), (7, 700), (700, 701), (701, 2500), (2500, values.shape[-1])]:
            outs.append(s.process(as_layout(layout, values[..., a:b].astype(dtype))))
        outs.append(s.flush())
        assert_bits_equal(np.concatenate(outs, axis=-1), ref, f"{kind} {layout} {y.shape}")


def test_stream_chunks_of_odd_strides_after_a_contiguous_first_chunk():
    """The fast path (leading shape already fixed) must not read a 6-byte-strided chunk in place."""
    values = _speechlike(4000)
    ext = fastmel.MelSpectrogram(dtype=np.float32, **MEL)
    s = ext.stream()
    first = s.process(values[:1000].astype(np.float32))
    rest = s.process(as_layout("field", values[1000:].astype("<f4")))
    got = np.concatenate([first, rest, s.flush()], axis=-1)
    assert_bits_equal(got, ext(values.astype(np.float32)))


@pytest.mark.parametrize("layout", ["field", "unaligned", "negative", "transposed"])
def test_spectrogram_inputs_of_any_layout(layout):
    """S= inputs and the dB functions read through numpy: still the contiguous copy's result."""
    S = np.abs(fastmel.stft(_speechlike(6000).reshape(2, 3000), n_fft=256)) ** 2
    for dtype in (np.float32, np.float64):
        odd = as_layout(layout, S.astype(dtype))
        c = np.ascontiguousarray(odd)
        for f in (fastmel.power_to_db, fastmel.amplitude_to_db,
                  lambda s: fastmel.feature.melspectrogram(S=s, sr=16000, n_mels=20),
                  lambda s: fastmel.feature.mfcc(S=s, n_mfcc=5),
                  lambda s: fastmel.util.frame(s, frame_length=5, hop_length=3)):
            assert_bits_equal(np.ascontiguousarray(f(odd)), np.ascontiguousarray(f(c)), layout)


# --- finding 3: windows are checked -----------------------------------------

def _nan_window(n):
    return np.full(n, np.nan)


def _zero_window(n):
    return np.zeros(n)


BAD_WINDOWS = [
    (("kaiser", float("nan")), "kaiser"),
    (("kaiser", float("inf")), "kaiser"),
    (("kaiser", -5.0), "kaiser"),
    (("kaiser", 1e308), "kaiser"),     # numpy's Bessel function overflows: NaN window
    (("kaiser", 1000.0), "kaiser"),
    (("gaussian", 0), "gaussian"),     # 0/0 at the centre
    (("gaussian", 0.0), "gaussian"),
    (("gaussian", -1.0), "gaussian"),
    (("gaussian", float("nan")), "gaussian"),
    (("gaussian", 1e-200), "gaussian"),  # std**2 underflows: 0/0 again
    (("gaussian", True), "gaussian"),
    (_nan_window, "_nan_window"),
    (_zero_window, "_zero_window"),
    (lambda n: np.ones(n - 1), "shape"),
    (np.full(400, np.nan), "non-finite"),
    (np.r_[np.ones(399), np.inf], "non-finite"),
    (np.zeros(400), "zeros"),
    (np.ones(300), "300"),
    (np.ones(512), "512"),
    (np.ones((2, 200)), "window"),
]


@pytest.mark.parametrize("window, word", BAD_WINDOWS,
                         ids=[str(i) for i in range(len(BAD_WINDOWS))])
@pytest.mark.parametrize("entry", ["stft", "melspectrogram", "MelSpectrogram", "MFCC", "STFT"])
def test_bad_windows_are_refused(entry, window, word):
    y = _speechlike(4000)
    call = {
        "stft": lambda: fastmel.stft(y, n_fft=512, win_length=400, window=window),
        "melspectrogram": lambda: fastmel.feature.melspectrogram(
            y=y, sr=16000, n_fft=512, win_length=400, window=window),
        "MelSpectrogram": lambda: fastmel.MelSpectrogram(
            sr=16000, n_fft=512, win_length=400, window=window, to_db=True)(y),
        "MFCC": lambda: fastmel.MFCC(sr=16000, n_fft=512, win_length=400, window=window)(y),
        "STFT": lambda: fastmel.STFT(n_fft=512, win_length=400, window=window)(y),
    }[entry]
    with pytest.raises(ParameterError, match="window") as info:
        call()
    assert word in str(info.value)


def test_window_beyond_float32_range_is_refused_for_float32_only():
    y = _speechlike(4000)
    big = np.full(512, 1e39)  # finite in float64, inf in float32
    fastmel.stft(y, n_fft=512, window=big)
    with pytest.raises(ParameterError, match="window.*float32"):
        fastmel.stft(y.astype(np.float32), n_fft=512, window=big)
    tiny = np.full(512, 1e-50)  # rounds to zero in float32
    with pytest.raises(ParameterError, match="window.*float32"):
        fastmel.MelSpectrogram(n_fft=512, window=tiny)


def test_complex_window_is_a_type_error():
    with pytest.raises(TypeError, match="window"):
        fastmel.stft(_speechlike(4000), n_fft=512, window=np.ones(512, complex))


@pytest.mark.parametrize("window", [("kaiser", 0.0), ("kaiser", 14.0), ("kaiser", 700.0),
                                    ("gaussian", 0.3), ("gaussian", 0.5), ("gaussian", 1e300)])
def test_extreme_but_valid_window_parameters_match_scipy(window):
    scipy_signal = pytest.importorskip("scipy.signal")
    for n in (1, 2, 399, 400):
        ref = scipy_signal.get_window(window, n, fftbins=True)
        got = fastmel.filters.get_window(window, n)
        # The same formulas evaluated in float64 (numpy's kaiser vs scipy's): rounding only.
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-300)


# --- finding 3: dB edge cases -----------------------------------------------

def _with_silence(n=6000, dtype=np.float32):
    y = _speechlike(n).astype(dtype)
    y[1000:3000] = 0  # digital silence: mel power 0, floored at amin
    y[3000:3500] *= np.float32(1e-20)  # powers far below FLT_MIN
    return y


@pytest.mark.parametrize("amin", [1e-30, 1.1e-38, 1e-38, 1e-40, 1e-42, 1e-45, 2e-45])
def test_float32_db_kernel_with_tiny_amin_matches_power_to_db(amin):
    y = _with_silence()
    mel = fastmel.MelSpectrogram(dtype=np.float32, **MEL)(y)
    ref = fastmel.power_to_db(mel, amin=amin, top_db=None, ref=0.5)
    got = fastmel.MelSpectrogram(dtype=np.float32, to_db=True, amin=amin, ref=0.5, **MEL)(y)
    assert got.dtype == np.float32 and np.all(np.isfinite(got))
    # The whole range is compared (the floor is what amin sets); the kernel's
    # logarithm is within 2 ulp, far inside the spec's 0.01 dB.
    from conftest import assert_db_close
    assert_db_close(got, ref, "float32 dB kernel vs numpy log10", range_db=np.inf)
    assert got.min() < 10 * np.log10(max(amin, 1e-30)) + 5  # the floor was reached
    stream = fastmel.MelSpectrogram(dtype=np.float32, to_db=True, amin=amin, ref=0.5, **MEL).stream()
    assert_bits_equal(np.concatenate([stream.process(y), stream.flush()], axis=-1), got)


@pytest.mark.parametrize("amin", [1e-40, 1e-45])
def test_float32_mfcc_kernel_with_tiny_amin_matches_the_numpy_path(amin):
    from conftest import RTOL_F32, assert_close_rel
    y = _with_silence()
    mel = fastmel.MelSpectrogram(dtype=np.float32, **MEL)(y)
    ref = fastmel.feature.mfcc(S=fastmel.power_to_db(mel, amin=amin, top_db=None), n_mfcc=13)
    got = fastmel.MFCC(dtype=np.float32, top_db=None, amin=amin, n_mfcc=13, **MEL)(y)
    assert_close_rel(got, ref, RTOL_F32, "float32 cepstra: kernel log vs numpy log10, then the DCT")


def test_amin_that_rounds_to_zero_is_refused_everywhere():
    y = _with_silence()
    S32 = fastmel.MelSpectrogram(dtype=np.float32, **MEL)(y)
    calls = [
        lambda: fastmel.MelSpectrogram(dtype=np.float32, to_db=True, amin=1e-46, **MEL),
        lambda: fastmel.MFCC(dtype=np.float32, amin=1e-46, **MEL),
        lambda: fastmel.MFCC(dtype=np.float32, top_db=None, amin=1e-46, **MEL),
        lambda: fastmel.power_to_db(S32, amin=1e-46),
        lambda: fastmel.amplitude_to_db(S32, amin=1e-23),  # amin**2 = 1e-46
    ]
    for call in calls:
        with pytest.raises(ParameterError, match="amin"):
            call()
    # the same values are fine in float64
    fastmel.MelSpectrogram(dtype=np.float64, to_db=True, amin=1e-46, **MEL)(y)
    assert np.all(np.isfinite(fastmel.power_to_db(S32.astype(np.float64), amin=1e-46)))
    with pytest.raises(ParameterError, match="amin"):
        fastmel.amplitude_to_db(S32.astype(np.float64), amin=1e-170)  # 1e-340 underflows


@pytest.mark.parametrize("amin", [0.0, -1e-10, float("nan"), float("inf"), "1e-10", None])
def test_bad_amin_everywhere(amin):
    y = _with_silence()
    S = np.abs(y[:400].reshape(20, 20))
    for call in (lambda: fastmel.power_to_db(S, amin=amin),
                 lambda: fastmel.amplitude_to_db(S, amin=amin),
                 lambda: fastmel.MelSpectrogram(to_db=True, amin=amin),
                 lambda: fastmel.MFCC(amin=amin),
                 lambda: fastmel.MFCC(amin=amin, top_db=None)):
        with pytest.raises(ParameterError, match="amin"):
            call()


def test_float16_power_is_computed_in_float32():
    S = np.abs(np.random.default_rng(3).standard_normal((8, 30))).astype(np.float16)
    S[0, :5] = 0
    got = fastmel.power_to_db(S, top_db=None)
    assert np.all(np.isfinite(got))
    assert_bits_equal(got, fastmel.power_to_db(S.astype(np.float32), top_db=None))


@pytest.mark.parametrize("top_db", [None, 80.0])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_db_of_non_finite_power_is_refused(bad, top_db):
    S = np.abs(np.random.default_rng(4).standard_normal((3, 8, 30)))
    S[1, 2, 3] = bad
    for f in (fastmel.power_to_db, fastmel.amplitude_to_db):
        with pytest.raises(ParameterError, match="non-finite"):
            f(S, top_db=top_db)
        with pytest.raises(ParameterError, match="non-finite"):
            f(S[1], top_db=top_db)


@pytest.mark.parametrize("shape", [(9, 0), (3, 4, 0), (0, 5)])
def test_db_of_empty_S(shape):
    # librosa lets np.max fail on an empty array; fastmel names the problem, and a
    # number as ref gives the empty result.
    S = np.zeros(shape)
    for f in (fastmel.power_to_db, fastmel.amplitude_to_db):
        with pytest.raises(ParameterError, match="empty"):
            f(S, ref=np.max)
        assert f(S, ref=1.0).shape == shape


def test_amplitude_whose_square_overflows_is_refused():
    S = np.full((4, 5), 1e20, dtype=np.float32)
    with pytest.raises(ParameterError, match="overflow"):
        fastmel.amplitude_to_db(S)
    assert np.all(np.isfinite(fastmel.amplitude_to_db(S.astype(np.float64))))


@pytest.mark.parametrize("ref", [np.inf, np.nan, -np.inf, lambda s: np.nan, lambda s: np.inf])
def test_non_finite_ref_is_refused(ref):
    S = np.abs(np.random.default_rng(5).standard_normal((8, 30)))
    for f in (fastmel.power_to_db, fastmel.amplitude_to_db):
        with pytest.raises(ParameterError, match="ref"):
            f(S, ref=ref)
    if not callable(ref):
        with pytest.raises(ParameterError, match="ref"):
            fastmel.MelSpectrogram(to_db=True, ref=ref)


def test_amplitude_ref_whose_square_overflows_is_refused():
    S = np.abs(np.random.default_rng(6).standard_normal((8, 30)))
    with pytest.raises(ParameterError, match="ref"):
        fastmel.amplitude_to_db(S, ref=1e200)


# --- finding 3: overflow never reads as silence ------------------------------

EXTRACTORS = {
    "STFT": lambda dt, **kw: fastmel.STFT(n_fft=kw.get("n_fft", 512), dtype=dt,
                                          window=kw.get("window", "hann")),
    "MelSpectrogram": lambda dt, **kw: fastmel.MelSpectrogram(dtype=dt, **dict(MEL, **kw)),
    "MelSpectrogram-db": lambda dt, **kw: fastmel.MelSpectrogram(
        dtype=dt, to_db=True, top_db=None, **dict(MEL, **kw)),
    "MFCC": lambda dt, **kw: fastmel.MFCC(dtype=dt, top_db=None, **dict(MEL, **kw)),
}


# float32 samples whose power (or, for STFT, whose spectrum) overflows
OVERFLOWING = [(name, scale) for name in EXTRACTORS
               for scale in ([1e36] if name == "STFT" else [1e18, 1e20, 1e30, 1e36])
               + [float(np.finfo(np.float32).max)]]


@pytest.mark.parametrize("name, scale", OVERFLOWING)
def test_float32_samples_that_would_overflow_are_refused(name, scale):
    y = _speechlike(4000)
    y = (y / np.max(np.abs(y)) * scale).astype(np.float32)
    assert np.all(np.isfinite(y))
    ext = EXTRACTORS[name](np.float32)
    with pytest.raises(ParameterError, match="magnitude") as info:
        ext(y)
    assert "float64" in str(info.value)
    s = ext.stream()
    with pytest.raises(ParameterError, match="magnitude"):
        s.process(y)
    # the rejected chunk left the stream as new: it still equals offline
    small = _speechlike(4000).astype(np.float32)
    assert_bits_equal(np.concatenate([s.process(small), s.flush()], axis=-1), ext(small))


def test_functions_refuse_overflowing_float32_samples_too():
    y = (_speechlike(4000) * 1e19).astype(np.float32)
    for call in (lambda: fastmel.stft(y * np.float32(1e17), n_fft=512),
                 lambda: fastmel.feature.melspectrogram(y=y, **MEL),
                 lambda: fastmel.feature.mfcc(y=y, **MEL)):
        with pytest.raises(ParameterError, match="magnitude"):
            call()
    # the same samples in float64 are fine
    assert np.all(np.isfinite(fastmel.feature.mfcc(y=y.astype(np.float64), **MEL)))


def _extremes(n, amplitude, dtype):
    """Signals whose spectra reach the bound: DC, Nyquist, a tone, noise."""
    rng = np.random.default_rng(7)
    t = np.arange(n)
    for y in (np.ones(n), (-1.0) ** t, np.sin(2 * np.pi * 0.125 * t),
              np.sign(rng.standard_normal(n))):
        yield (amplitude * y / np.max(np.abs(y))).astype(dtype)


@pytest.mark.parametrize("kw", [{}, dict(power=1.0), dict(power=3.0), dict(norm=None),
                                dict(n_fft=509, window="boxcar"), dict(n_fft=2048, n_mels=128),
                                dict(window=np.full(512, 7.0))],
                         ids=["default", "power1", "power3", "norm-none", "prime-boxcar",
                              "2048", "big-window"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", list(EXTRACTORS))
def test_samples_at_the_bound_give_finite_output(name, dtype, kw):
    """The bound is safe: the worst signals at exactly max_amplitude stay finite."""
    if name == "STFT":
        kw = {k: v for k, v in kw.items() if k in ("n_fft", "window")}
    ext = EXTRACTORS[name](dtype, **kw)
    kernel = ext.kernel
    limit = kernel.max_amplitude
    assert 0 < limit < np.finfo(dtype).max
    for y in _extremes(6000, limit, dtype):
        y = np.minimum(np.maximum(y, -dtype(limit)), dtype(limit))  # rounding to dtype
        out = ext(y)
        assert np.all(np.isfinite(out)), name
    # just above it: refused
    with pytest.raises(ParameterError, match="magnitude"):
        ext(np.full(6000, np.nextafter(dtype(limit), dtype(np.inf)), dtype=dtype))


def test_kernel_reports_non_finite_mel_values_when_its_door_is_bypassed():
    """The compiled kernel's own check: overflowed power raises, never becomes the floor."""
    from fastmel._analysis import run
    for name in ("MelSpectrogram", "MelSpectrogram-db", "MFCC"):
        ext = EXTRACTORS[name](np.float32)
        for y in (np.full(3000, 3e38, np.float32), np.full(3000, 1e18, np.float32)):
            with pytest.raises(ParameterError, match="overflowed"):
                run(ext.kernel, ext.framing, y)


@pytest.mark.parametrize("n_fft", [4093, 65521, 2 * 65521])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_prime_sizes_keep_their_margin_beyond_the_bound(n_fft, dtype):
    """The bound's factor 16 for FFT intermediates: FFTW's prime-size algorithms
    (Rader, Bluestein) keep the worst signals finite even at 15 times the bound,
    which the complex STFT relies on (it has no check of its own)."""
    from fastmel._analysis import run
    for ext in (fastmel.STFT(n_fft=n_fft, hop_length=n_fft // 2, window="boxcar", dtype=dtype),
                fastmel.MelSpectrogram(sr=16000, n_fft=n_fft, hop_length=n_fft // 2,
                                       window="boxcar", dtype=dtype)):
        limit = min(15 * ext.kernel.max_amplitude, float(np.finfo(dtype).max))
        t = np.arange(3 * n_fft)
        for y in list(_extremes(3 * n_fft, limit, dtype)) + [
                (limit * np.cos(np.pi * t * t / n_fft)).astype(dtype)]:
            assert np.all(np.isfinite(run(ext.kernel, ext.framing, y)))


# --- finding 9: impossible sizes are refused before anything is allocated ---

SIZE_ENTRIES = {
    "stft": lambda y, **kw: fastmel.stft(y, **kw),
    "melspectrogram": lambda y, **kw: fastmel.feature.melspectrogram(y=y, sr=16000, **kw),
    "mfcc": lambda y, **kw: fastmel.feature.mfcc(y=y, sr=16000, **kw),
    "STFT": lambda y, **kw: fastmel.STFT(**kw)(y),
    "MelSpectrogram": lambda y, **kw: fastmel.MelSpectrogram(sr=16000, **kw)(y),
    "MFCC": lambda y, **kw: fastmel.MFCC(sr=16000, **kw)(y),
}

BAD_SIZES = [
    (dict(n_fft=2 ** 40), "n_fft"),
    (dict(n_fft=2 ** 24 + 1), "n_fft"),
    (dict(n_fft=512, hop_length=2 ** 63), "hop_length"),
    (dict(n_fft=512, hop_length=2 ** 48 + 1), "hop_length"),
    (dict(n_fft=2 ** 30, win_length=2 ** 30), "n_fft"),
]


@pytest.mark.parametrize("kw, name", BAD_SIZES, ids=[str(i) for i in range(len(BAD_SIZES))])
@pytest.mark.parametrize("entry", list(SIZE_ENTRIES))
def test_impossible_framing_sizes_are_parameter_errors(entry, kw, name):
    with pytest.raises(ParameterError, match=name) as info:
        SIZE_ENTRIES[entry](np.zeros(1000, np.float32), **kw)
    assert "2**" in str(info.value)  # the message states the limit


def test_largest_hop_is_accepted():
    y = _speechlike(3000).astype(np.float32)
    assert_bits_equal(fastmel.stft(y, n_fft=512, hop_length=2 ** 48),
                      fastmel.stft(y, n_fft=512, hop_length=10 ** 6))
    s = fastmel.STFT(n_fft=512, hop_length=2 ** 48).stream()
    assert_bits_equal(np.concatenate([s.process(y), s.flush()], axis=-1),
                      fastmel.stft(y, n_fft=512, hop_length=10 ** 6))
    assert fastmel.util.frame(y, frame_length=10, hop_length=2 ** 48).shape == (10, 1)
    with pytest.raises(ParameterError, match="hop_length"):
        fastmel.util.frame(y, frame_length=10, hop_length=2 ** 63)


@pytest.mark.parametrize("n_mels", [10 ** 7, 2 ** 16 + 1])
def test_too_many_mels_are_refused(n_mels):
    for call in (lambda: fastmel.MelSpectrogram(n_mels=n_mels),
                 lambda: fastmel.MFCC(n_mels=n_mels),
                 lambda: fastmel.filters.mel(sr=16000, n_fft=512, n_mels=n_mels),
                 lambda: fastmel.feature.melspectrogram(y=np.zeros(100), n_mels=n_mels)):
        with pytest.raises(ParameterError, match="n_mels.*2\\*\\*16"):
            call()


@pytest.mark.parametrize("kw, name", [
    (dict(sr=float("inf")), "sr"), (dict(sr=float("nan")), "sr"), (dict(sr=-16000), "sr"),
    (dict(sr=0), "sr"), (dict(sr=1e-300), "sr"), (dict(fmin=float("nan")), "fmin"),
    (dict(fmin=-1.0), "fmin"), (dict(fmax=float("inf")), "fmax"), (dict(fmin=100.0, fmax=50.0), "fmax"),
    (dict(sr=1e-300, fmax=1e-301), "sr"),
])
def test_bad_rates_and_band_edges(kw, name):
    kw = dict(dict(sr=16000), **kw)
    for call in (lambda: fastmel.filters.mel(n_fft=512, **kw),
                 lambda: fastmel.MelSpectrogram(n_fft=512, **kw),
                 lambda: fastmel.MFCC(n_fft=512, **kw)):
        with pytest.raises(ParameterError, match=name):
            call()


def test_huge_sample_rate_is_like_librosa():
    """Nothing is allocated by sr: a huge one only empties the filters, with librosa's warning."""
    librosa = pytest.importorskip("librosa")
    with pytest.warns(UserWarning, match="Empty filters"):
        got = fastmel.filters.mel(sr=1e300, n_fft=512, n_mels=40)
    with pytest.warns(UserWarning, match="Empty filters"):
        ref = librosa.filters.mel(sr=1e300, n_fft=512, n_mels=40)
    assert got.tobytes() == ref.tobytes()


def _run_limited(code, limit_gb=2.0):
    """Run code in a child process whose address space is limited, so that an
    allocation fastmel fails to refuse ends there as a MemoryError (or a kill)."""
    import subprocess
    import sys
    prelude = ("import resource; resource.setrlimit(resource.RLIMIT_AS, "
               f"({int(limit_gb * 2 ** 30)}, {int(limit_gb * 2 ** 30)}))\n")
    proc = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True,
                          text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


def test_many_mels_and_large_ffts_are_built_in_bounded_memory():
    """At the caps, the extractors build their sparse filters without the dense
    (n_mels, n_bins) matrix: 2**16 mels x 2**15 bins would be 8 GiB of float32."""
    rc, out = _run_limited(
        "import warnings, numpy as np, fastmel\n"
        "warnings.simplefilter('ignore')\n"
        "m = fastmel.MelSpectrogram(sr=48000, n_fft=2**16, hop_length=4096, n_mels=2**16)\n"
        "out = m(np.zeros(10000, np.float32))\n"
        "assert out.shape == (2**16, 3) and np.all(np.isfinite(out))\n"
        "m = fastmel.MFCC(sr=48000, n_fft=2**22, hop_length=2**20, n_mels=64, top_db=None)\n"
        "assert np.all(np.isfinite(m(np.ones(5000, np.float32))))\n"
        "print('ok')\n")
    assert rc == 0 and "ok" in out, out


def test_dense_mel_matrix_larger_than_memory_is_refused():
    rc, out = _run_limited(
        "import fastmel\n"
        "try:\n"
        "    fastmel.filters.mel(sr=48000, n_fft=2**24, n_mels=2**16)\n"
        "except fastmel.ParameterError as err:\n"
        "    print('refused', err)\n")
    assert rc == 0 and "refused" in out and "GiB" in out, out


def test_outputs_larger_than_memory_are_refused(monkeypatch):
    from fastmel import _checks
    monkeypatch.setattr(_checks, "physical_memory", lambda: 2 ** 30)
    y = np.zeros(2 ** 16, np.float32)
    # 65537 frames x 1025 bins x 8 bytes = 0.5 GiB: fine
    assert fastmel.stft(y, n_fft=2048, hop_length=1).shape == (1025, 2 ** 16 + 1)
    for call in (lambda: fastmel.stft(np.zeros(2 ** 17, np.float32), n_fft=2048, hop_length=1),
                 lambda: fastmel.MelSpectrogram(n_fft=2048, hop_length=1, n_mels=2 ** 13)(y),
                 lambda: fastmel.filters.mel(sr=16000, n_fft=2 ** 20, n_mels=2 ** 10)):
        with pytest.raises(ParameterError, match="GiB"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 2**13 mels over 1025 bins: empty filters
            call()
    # a stream's buffers are refused the same way, and its leading shape stays open
    s = fastmel.MelSpectrogram(n_fft=2048).stream()
    with pytest.raises(ParameterError, match="GiB"):
        s.process(np.zeros((2 ** 16, 0), np.float32))
    assert s.process(np.zeros((2, 4096), np.float32)).shape[:2] == (2, 128)


@pytest.mark.parametrize("hop", [513, 5000, 10 ** 6])
def test_hops_longer_than_the_frame_stream_like_offline(hop):
    """The stream's buffer no longer grows with the hop (a compaction leaves at
    most n_fft samples): frames far apart still equal the offline ones."""
    y = _speechlike(40000).astype(np.float32)
    ext = fastmel.MelSpectrogram(n_fft=512, hop_length=hop, sr=16000, n_mels=40)
    for size in (1, 511, 3001, 9000):
        s = ext.stream()
        outs = [s.process(y[a:a + size]) for a in range(0, y.size, size)] + [s.flush()]
        assert_bits_equal(np.concatenate(outs, axis=-1), ext(y), f"hop {hop} chunks {size}")


@pytest.mark.parametrize("bad", [np.nan, np.inf, 3e38])
def test_S_inputs_with_non_finite_results_are_refused(bad):
    # finite 3e38 overflows only in sums: a whole column of it
    S = np.abs(np.random.default_rng(8).standard_normal((257, 20))).astype(np.float32)
    S[100:, 3] = bad
    with pytest.raises(ParameterError, match="non-finite"):
        fastmel.feature.melspectrogram(S=S, sr=16000, n_mels=40, norm=None)
    D = np.random.default_rng(9).standard_normal((40, 20)).astype(np.float32)
    D[:, 3] = bad
    with pytest.raises(ParameterError, match="non-finite"):
        fastmel.feature.mfcc(S=D)


# --- finding 10: soundfile's (frames, channels) layout is not taken as signals

TRANSPOSED = [(4000, 1), (4000, 2), (600, 8), (4000, 16), (2048, 64), (3, 4000, 2), (512, 6)]
NOT_TRANSPOSED = [(2, 4000), (64, 4000), (100, 2), (511, 8), (4000, 65), (3, 2, 4000), (2, 0)]


@pytest.mark.parametrize("shape", TRANSPOSED, ids=str)
@pytest.mark.parametrize("entry", list(SIZE_ENTRIES))
def test_transposed_offline_input_is_refused_with_the_fix(entry, shape):
    y = np.zeros(shape, np.float32)
    with pytest.raises(ParameterError, match=r"y\.T") as info:
        SIZE_ENTRIES[entry](y, n_fft=512)
    assert str(shape) in str(info.value)


@pytest.mark.parametrize("shape", NOT_TRANSPOSED, ids=str)
@pytest.mark.parametrize("entry", list(SIZE_ENTRIES))
def test_channels_first_and_short_batches_are_analysed(entry, shape):
    y = np.random.default_rng(1).standard_normal(shape).astype(np.float32) * 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # short signals: librosa's n_fft warning
        out = SIZE_ENTRIES[entry](y, n_fft=512)
    assert out.shape[:-2] == shape[:-1] and np.all(np.isfinite(out))


@pytest.mark.parametrize("entry", list(SIZE_ENTRIES))
def test_signal_shorter_than_n_fft_warns_like_librosa(entry):
    librosa = pytest.importorskip("librosa")
    for n in (0, 1, 511):
        y = np.zeros((2, n), np.float32)
        with pytest.warns(UserWarning) as ours:
            SIZE_ENTRIES[entry](y, n_fft=512)
        with pytest.warns(UserWarning) as theirs:
            librosa.stft(y, n_fft=512)
        message = f"n_fft=512 is too large for input signal of length={n}"
        assert str(theirs[0].message) == message
        assert [str(w.message) for w in ours if "n_fft" in str(w.message)] == [message]
        assert ours[0].filename == __file__  # points at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SIZE_ENTRIES[entry](np.zeros(512, np.float32), n_fft=512)


@pytest.mark.parametrize("kind", list(STREAMS))
def test_transposed_first_chunk_is_refused_by_a_stream(kind):
    ext = STREAMS[kind](np.float32)
    y = (_speechlike(3200).reshape(2, 1600) * 0.5).astype(np.float32)
    s = ext.stream()
    for bad in ((160, 2), (65, 8), (4, 160, 2)):
        with pytest.raises(ParameterError, match=r"chunk\.T"):
            s.process(np.zeros(bad, np.float32))
    # nothing was fixed by the rejected chunks: channels first works
    outs = [s.process(y[:, a:a + 160]) for a in range(0, 1600, 160)] + [s.flush()]
    assert_bits_equal(np.concatenate(outs, axis=-1), ext(y))


@pytest.mark.parametrize("first", [(64, 8), (160, 9), (65, 0), (2, 1), (3, 64, 8)], ids=str)
def test_many_channels_with_short_chunks_still_stream(first):
    """Up to 64 channels any chunk size is fine, and a wider stream fixes its layout
    with an empty first chunk (or a first chunk of more than 8 samples)."""
    ext = fastmel.MelSpectrogram(dtype=np.float32, **MEL)
    lead = first[:-1]
    y = (np.random.default_rng(2).standard_normal(lead + (2000,)) * 0.1).astype(np.float32)
    s = ext.stream()
    k = first[-1]
    outs = [s.process(y[..., :k])]
    outs += [s.process(y[..., a:a + 8]) for a in range(k, 2000, 8)]
    outs.append(s.flush())
    assert_bits_equal(np.concatenate(outs, axis=-1), ext(y))


@pytest.mark.parametrize("dtype", [np.int16, np.float32, "bogus", bool])
def test_stft_output_dtype_must_be_complex(dtype):
    # librosa casts to whatever it is given (int16 drops the imaginary part with
    # a ComplexWarning); a non-complex output type is a mistake.
    with pytest.raises(TypeError, match="dtype"):
        fastmel.stft(np.zeros(1024, np.float32), n_fft=512, dtype=dtype)


def test_stft_output_dtype_that_overflows_is_refused():
    y = np.full(2048, 1e150)
    assert np.all(np.isfinite(fastmel.stft(y, n_fft=512)))
    with pytest.raises(ParameterError, match="overflows dtype=complex64"):
        fastmel.stft(y, n_fft=512, dtype=np.complex64)
    y32 = np.random.default_rng(0).standard_normal(2048)
    got = fastmel.stft(y32, n_fft=512, dtype=np.complex64)
    assert got.dtype == np.complex64
    assert_bits_equal(got, fastmel.stft(y32, n_fft=512).astype(np.complex64))


@pytest.mark.parametrize("func", ["power_to_db", "amplitude_to_db"])
def test_db_of_long_double_is_float64(func):
    S = np.abs(np.random.default_rng(6).standard_normal((8, 30)))
    got = getattr(fastmel, func)(S.astype(np.longdouble), top_db=60.0)
    assert got.dtype == np.float64
    assert_bits_equal(got, getattr(fastmel, func)(S, top_db=60.0))


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_db_with_a_huge_top_db_is_no_floor(dtype):
    # max - 1e308 overflows float32; it means "no floor", without a numpy warning.
    S = np.abs(np.random.default_rng(7).standard_normal((2, 8, 30))).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for func in (fastmel.power_to_db, fastmel.amplitude_to_db):
            assert_bits_equal(func(S, top_db=1e308), func(S, top_db=None))
