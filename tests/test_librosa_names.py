"""librosa's top-level conversion names in fastmel: signatures, values, shapes,
dtypes and the errors for input librosa would turn into garbage.

Every comparison is exact unless a tolerance is written beside it: float64
results equal librosa's bit for bit, float32 results equal librosa's float64
result rounded once to float32 (librosa rounds intermediates to float32 and
so differs from both by a few float32 ulps, more near the HTK scale's zero).
"""
import inspect

import numpy as np
import pytest

import librosa

import fastmel

NAMES = ("hz_to_mel", "mel_to_hz", "mel_frequencies", "fft_frequencies", "db_to_power",
         "db_to_amplitude", "frames_to_time", "time_to_frames", "frames_to_samples",
         "samples_to_frames", "times_like")

RNG = np.random.default_rng(12)
FREQUENCIES = np.concatenate([RNG.uniform(-600.0, 30000.0, 2000),
                              [0.0, 999.999, 1000.0, 1000.0001, 8000.0, 11025.0]])
MELS = np.concatenate([RNG.uniform(-10.0, 1200.0, 2000), [0.0, 14.999, 15.0, 15.0001]])
DBS = np.concatenate([RNG.uniform(-300.0, 300.0, 2000), [0.0, -80.0, 80.0]])


def _same(got, ref):
    """Equal values, shape and type (numpy scalar vs array, dtype)."""
    assert type(got) is type(ref), (type(got), type(ref))
    assert np.shape(got) == np.shape(ref)
    assert np.asarray(got).dtype == np.asarray(ref).dtype
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("name", NAMES)
def test_top_level_with_librosas_signature(name):
    got = inspect.signature(getattr(fastmel, name))
    ref = inspect.signature(getattr(librosa, name))
    assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == \
        [(p.name, p.kind, p.default) for p in ref.parameters.values()]
    assert getattr(fastmel, name) is getattr(fastmel.convert, name)
    assert name in fastmel.__all__


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("name, values", [("hz_to_mel", FREQUENCIES), ("mel_to_hz", MELS)])
def test_mel_scale_equals_librosa(name, values, htk):
    ours, theirs = getattr(fastmel, name), getattr(librosa, name)
    _same(ours(values, htk=htk), theirs(values, htk=htk))
    grid = values[:60].reshape(3, 4, 5)
    _same(ours(grid, htk=htk), theirs(grid, htk=htk))
    # float32 in, float32 out: librosa's float64 result rounded once
    x = values.astype(np.float32)
    _same(ours(x, htk=htk), theirs(x.astype(np.float64), htk=htk).astype(np.float32))
    assert ours(x, htk=htk).dtype == theirs(x, htk=htk).dtype == np.float32


@pytest.mark.parametrize("name", ["hz_to_mel", "mel_to_hz"])
def test_mel_scale_scalars_and_dtypes(name):
    ours, theirs = getattr(fastmel, name), getattr(librosa, name)
    for value in (440, 440.0, np.float64(2000.0), np.int16(300), np.array(20.0)):
        _same(ours(value), theirs(value))
    _same(ours([440.0]), theirs([440.0]))
    _same(ours(np.array([100, 4000], dtype=np.int32)), theirs(np.array([100, 4000], np.int32)))
    _same(ours(np.array([], dtype=np.float32)), theirs(np.array([], dtype=np.float32)))
    _same(ours([]), theirs([]))
    got = ours(np.float32(30.0))
    # librosa gives float64 for a float32 scalar in mel_to_hz's log region; fastmel float32
    assert type(got) is np.float32
    assert got == np.float32(theirs(30.0))
    # float16 is computed in float32, as fastmel's dB functions do
    assert ours(np.array([30.0], dtype=np.float16)).dtype == np.float32


@pytest.mark.parametrize("htk", [False, True])
@pytest.mark.parametrize("n_mels", [0, 1, 2, 3, 40, 128, 257])
@pytest.mark.parametrize("fmin, fmax", [(0.0, 11025.0), (20.0, 7600.0), (300.0, 50.0),
                                        (-100.0, 8000.0), (133.33, 6855.4976)])
def test_mel_frequencies_equal_librosa(n_mels, fmin, fmax, htk):
    _same(fastmel.mel_frequencies(n_mels, fmin=fmin, fmax=fmax, htk=htk),
          librosa.mel_frequencies(n_mels, fmin=fmin, fmax=fmax, htk=htk))


def test_mel_frequencies_defaults():
    _same(fastmel.mel_frequencies(), librosa.mel_frequencies())
    _same(fastmel.mel_frequencies(np.int64(5)), librosa.mel_frequencies(np.int64(5)))


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100.5])
@pytest.mark.parametrize("n_fft", [1, 2, 3, 255, 256, 400, 401, 2048])
def test_fft_frequencies_equal_librosa(sr, n_fft):
    _same(fastmel.fft_frequencies(sr=sr, n_fft=n_fft), librosa.fft_frequencies(sr=sr, n_fft=n_fft))


def test_fft_frequencies_defaults():
    _same(fastmel.fft_frequencies(), librosa.fft_frequencies())


@pytest.mark.parametrize("ref", [1.0, 2.5, 1e-3, 7])
@pytest.mark.parametrize("name", ["db_to_power", "db_to_amplitude"])
def test_db_inverse_equals_librosa(name, ref):
    ours, theirs = getattr(fastmel, name), getattr(librosa, name)
    _same(ours(DBS, ref=ref), theirs(DBS, ref=ref))
    _same(ours(DBS[:24].reshape(2, 3, 4), ref=ref), theirs(DBS[:24].reshape(2, 3, 4), ref=ref))
    x = DBS.astype(np.float32)
    _same(ours(x, ref=ref), theirs(x.astype(np.float64), ref=ref).astype(np.float32))
    assert theirs(x, ref=ref).dtype == np.float32
    for value in (10, -20.5, np.float64(3.0), np.int16(-40), np.array(6.0)):
        _same(ours(value, ref=ref), theirs(value, ref=ref))
    _same(ours(np.float32(10.0), ref=ref), np.float32(theirs(10.0, ref=ref)))
    _same(ours(np.array([-10, 20], dtype=np.int8)), theirs(np.array([-10, 20], dtype=np.int8)))
    _same(ours(np.zeros((0, 3))), theirs(np.zeros((0, 3))))


def test_db_inverse_round_trips_fastmel_db():
    S = RNG.uniform(1e-3, 10.0, (4, 6))
    # floors inactive (S well above amin, within top_db): only rounding of log and power
    np.testing.assert_allclose(fastmel.db_to_power(fastmel.power_to_db(S, ref=2.0), ref=2.0), S,
                               rtol=1e-13)
    np.testing.assert_allclose(
        fastmel.db_to_amplitude(fastmel.amplitude_to_db(S, ref=3.0), ref=3.0), S, rtol=1e-13)


@pytest.mark.parametrize("n_fft", [None, 400, 401, 2048, 1])
@pytest.mark.parametrize("hop_length", [1, 160, 512, 441])
def test_frames_and_samples_equal_librosa(hop_length, n_fft):
    kw = dict(hop_length=hop_length, n_fft=n_fft)
    frames = np.array([[0, 1, 2], [10, -3, 12345]])
    _same(fastmel.frames_to_samples(frames, **kw), librosa.frames_to_samples(frames, **kw))
    _same(fastmel.frames_to_samples(7, **kw), librosa.frames_to_samples(7, **kw))
    fractional = np.array([1.6, 2.2, -0.7, 3.0])
    _same(fastmel.frames_to_samples(fractional, **kw), librosa.frames_to_samples(fractional, **kw))
    samples = np.arange(-1000, 5000, 7)
    _same(fastmel.samples_to_frames(samples, **kw), librosa.samples_to_frames(samples, **kw))
    fsamples = np.array([1.5, 1024.7, -0.25, 511.999, 300.0], dtype=np.float32)
    _same(fastmel.samples_to_frames(fsamples, **kw), librosa.samples_to_frames(fsamples, **kw))
    _same(fastmel.samples_to_frames(fsamples.astype(np.float64), **kw),
          librosa.samples_to_frames(fsamples.astype(np.float64), **kw))
    for sr in (16000, 22050, 44100.5):
        _same(fastmel.frames_to_time(frames, sr=sr, **kw),
              librosa.frames_to_time(frames, sr=sr, **kw))
        _same(fastmel.frames_to_time(fractional, sr=sr, **kw),
              librosa.frames_to_time(fractional, sr=sr, **kw))
        times = np.linspace(-0.5, 3.0, 707)
        for t in (times, times.astype(np.float32), times.reshape(7, 101)):
            _same(fastmel.time_to_frames(t, sr=sr, **kw), librosa.time_to_frames(t, sr=sr, **kw))


def test_frames_and_samples_defaults_and_scalars():
    _same(fastmel.frames_to_samples(3), librosa.frames_to_samples(3))
    _same(fastmel.frames_to_time(3), librosa.frames_to_time(3))
    _same(fastmel.frames_to_time(np.int32(3)), librosa.frames_to_time(np.int32(3)))
    # librosa 1.0 returns numpy scalars here (0.11 a 0-d array): fastmel follows 1.0
    for got, ref in ((fastmel.samples_to_frames(1000), librosa.samples_to_frames(1000)),
                     (fastmel.time_to_frames(1.0), librosa.time_to_frames(1.0)),
                     (fastmel.time_to_frames(np.float32(-1.0)),
                      librosa.time_to_frames(np.float32(-1.0)))):
        assert type(got) is np.int64
        assert got == ref
    for func in (fastmel.frames_to_samples, fastmel.samples_to_frames, fastmel.frames_to_time,
                 fastmel.time_to_frames):
        ref = getattr(librosa, func.__name__)
        _same(func([]), ref([]))
        _same(func(np.zeros((2, 0))), ref(np.zeros((2, 0))))


def test_small_integer_dtypes_computed_exactly():
    frames = np.array([1, 2, 255], dtype=np.uint8)
    # librosa computes in uint8 here and overflows (numpy raises or wraps)
    _same(fastmel.frames_to_samples(frames, hop_length=512),
          librosa.frames_to_samples(frames.astype(np.int64), hop_length=512))
    _same(fastmel.frames_to_time(frames.astype(np.int16), hop_length=512),
          librosa.frames_to_time(frames.astype(np.int64), hop_length=512))
    _same(fastmel.samples_to_frames(np.array([100, -7], dtype=np.int16), hop_length=10),
          librosa.samples_to_frames(np.array([100, -7]), hop_length=10))


def test_extreme_integers_exact():
    big = np.array([2 ** 62, -2 ** 63], dtype=np.int64)
    assert fastmel.samples_to_frames(big, hop_length=3, n_fft=10).tolist() == \
        [(2 ** 62 - 5) // 3, (-2 ** 63 - 5) // 3]
    assert fastmel.frames_to_samples(2 ** 53 + 1, hop_length=512) == (2 ** 53 + 1) * 512


@pytest.mark.parametrize("n_fft", [None, 400])
def test_times_like_equals_librosa(n_fft):
    kw = dict(sr=16000, hop_length=160, n_fft=n_fft)
    X = np.zeros((2, 80, 37))
    _same(fastmel.times_like(X, **kw), librosa.times_like(X, **kw))
    _same(fastmel.times_like(X, axis=1, **kw), librosa.times_like(X, axis=1, **kw))
    _same(fastmel.times_like(X, axis=-3, **kw), librosa.times_like(X, axis=-3, **kw))
    _same(fastmel.times_like(37, **kw), librosa.times_like(37, **kw))
    _same(fastmel.times_like(np.int64(5), **kw), librosa.times_like(np.int64(5), **kw))
    _same(fastmel.times_like(0, **kw), librosa.times_like(0, **kw))
    _same(fastmel.times_like(np.zeros((80, 0)), **kw), librosa.times_like(np.zeros((80, 0)), **kw))
    _same(fastmel.times_like(X[0].tolist(), **kw), librosa.times_like(X[0], **kw))
    _same(fastmel.times_like(5), librosa.times_like(5))


BAD_VALUES = [
    (fastmel.hz_to_mel, "frequencies", np.nan),
    (fastmel.hz_to_mel, "frequencies", [100.0, np.inf]),
    (fastmel.mel_to_hz, "mels", [np.nan]),
    (fastmel.db_to_power, "S_db", -np.inf),
    (fastmel.db_to_amplitude, "S_db", [0.0, np.nan]),
    (fastmel.frames_to_time, "frames", np.nan),
    (fastmel.frames_to_samples, "frames", [1.0, np.inf]),
    (fastmel.samples_to_frames, "samples", np.nan),
    (fastmel.time_to_frames, "times", np.nan),  # librosa: an arbitrary integer
]


@pytest.mark.parametrize("func, name, value", BAD_VALUES)
def test_non_finite_values_refused(func, name, value):
    with pytest.raises(fastmel.ParameterError, match=f"{name} contains non-finite"):
        func(value)


@pytest.mark.parametrize("func, name", [(f, n) for f, n, _ in BAD_VALUES[::2]] + [
    (fastmel.frames_to_samples, "frames"), (fastmel.time_to_frames, "times")])
@pytest.mark.parametrize("value", [1 + 2j, "440", [True, False], None])
def test_bad_value_types(func, name, value):
    with pytest.raises(TypeError, match=name):
        func(value)


@pytest.mark.parametrize("call, match", [
    (lambda: fastmel.hz_to_mel(-700.0, htk=True), r"frequencies=-700.0 .*above -700 Hz"),
    (lambda: fastmel.hz_to_mel([0.0, -800.0], htk=True), r"frequencies=-800.0"),
    (lambda: fastmel.mel_to_hz(20000.0), r"mels=20000.0 .*at most 10238.4"),
    (lambda: fastmel.mel_to_hz(np.float32(2000.0)), r"not finite in float32.*at most 1205"),
    (lambda: fastmel.mel_to_hz([1e6], htk=True), r"mels=1000000.0 .*at most 792538"),
    (lambda: fastmel.db_to_power(np.float32(400.0)), r"S_db=400.0 .*at most 385.318 dB"),
    (lambda: fastmel.db_to_power(4000.0), r"S_db=4000.0"),
    (lambda: fastmel.db_to_amplitude(np.float32(800.0)), r"at most 770.637 dB"),
    (lambda: fastmel.db_to_amplitude(3100.0), r"at most 3082.55 dB"),
    (lambda: fastmel.db_to_amplitude(1.0, ref=1e200), r"ref=1e\+200 .*square"),
    (lambda: fastmel.db_to_power(1.0, ref=-1.0), r"ref must be > 0, got -1.0"),
    (lambda: fastmel.db_to_power(1.0, ref=0), r"ref must be > 0"),
    (lambda: fastmel.db_to_power(1.0, ref=np.nan), r"ref must be a finite number"),
    (lambda: fastmel.mel_frequencies(-1), r"n_mels must be an integer >= 0, got -1"),
    (lambda: fastmel.mel_frequencies(4.0), r"n_mels must be an integer >= 0, got 4.0"),
    (lambda: fastmel.mel_frequencies(4, fmax=np.inf), r"fmax must be a finite number"),
    (lambda: fastmel.mel_frequencies(4, fmin=-800.0, htk=True), r"frequencies=-800.0"),
    (lambda: fastmel.mel_frequencies(2 ** 60), r"n_mels=.* more than this machine"),
    (lambda: fastmel.fft_frequencies(n_fft=0), r"n_fft must be a positive integer, got 0"),
    (lambda: fastmel.fft_frequencies(sr=-1, n_fft=4), r"sr must be > 0, got -1"),
    (lambda: fastmel.fft_frequencies(n_fft=2 ** 60), r"more than this machine"),
    (lambda: fastmel.frames_to_time(3, sr=0), r"sr must be > 0, got 0"),
    (lambda: fastmel.frames_to_time(3, hop_length=0), r"hop_length must be a positive integer"),
    (lambda: fastmel.frames_to_samples(3, hop_length=2.5), r"hop_length must be a positive"),
    (lambda: fastmel.samples_to_frames(3, n_fft=-5), r"n_fft must be a positive integer, got -5"),
    (lambda: fastmel.time_to_frames(1.0, n_fft=0), r"n_fft must be a positive integer, got 0"),
    (lambda: fastmel.frames_to_samples(2 ** 62, hop_length=4), r"beyond the int64 range"),
    (lambda: fastmel.frames_to_samples([1e300]), r"frames=1e\+300 .*beyond the int64 range"),
    (lambda: fastmel.frames_to_samples(np.array([2 ** 64 - 1], np.uint64)), r"int64 range"),
    (lambda: fastmel.time_to_frames(1e300), r"times=1e\+300 .*int64 range"),
    (lambda: fastmel.samples_to_frames(-1e30), r"samples=-1e\+30 .*int64 range"),
    (lambda: fastmel.times_like(-1), r"X must be a number of frames >= 0"),
    (lambda: fastmel.times_like(np.zeros((3, 4)), axis=2), r"axis=2 .*-2 <= axis < 2"),
    (lambda: fastmel.times_like(np.zeros(())), r"axis=-1 .*shape \(\)"),
    (lambda: fastmel.times_like(2 ** 60), r"more than this machine"),
    (lambda: fastmel.times_like(4, sr=np.inf), r"sr must be a finite number"),
])
def test_bad_parameters(call, match):
    with pytest.raises(fastmel.ParameterError, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: fastmel.hz_to_mel(440.0, htk="yes"), r"htk must be True or False, got 'yes'"),
    (lambda: fastmel.mel_to_hz(4.0, htk=1), r"htk must be True or False, got 1"),
    (lambda: fastmel.mel_frequencies(4, htk=None), r"htk must be True or False"),
    (lambda: fastmel.times_like(5.0), r"X must be a number of frames \(an int\)"),
    (lambda: fastmel.times_like(True), r"X must be .* got True"),
    (lambda: fastmel.times_like(None), r"X must be"),
    (lambda: fastmel.times_like([[1, 2], [3]]), r"ragged"),
    (lambda: fastmel.times_like(np.zeros(3), axis=0.0), r"axis must be an int, got 0.0"),
])
def test_bad_types(call, match):
    with pytest.raises(TypeError, match=match):
        call()


def test_errors_are_value_errors():
    with pytest.raises(ValueError):
        fastmel.time_to_frames(np.nan)
