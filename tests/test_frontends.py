"""Front-end presets against the implementations they copy.

WhisperLogMel against transformers' WhisperFeatureExtractor (its numpy path,
which it takes when torch is not installed and which the test calls directly
through ``_np_extract_fbank_features`` when torch is)."""
import pickle

import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal, cut
from fastmel import ParameterError
from fastmel.frontends import WhisperLogMel

transformers = pytest.importorskip("transformers")

SR = 16000
N_30S = 30 * SR

# Tolerances, absolute, in Whisper's unit (log10 of the mel power, divided by 4):
# float32: SPEC's float32 bound for dB values above max - 80 dB is 0.01 dB,
# and every Whisper value is at or above its floor at max - 80 dB; 0.01 dB is
# 0.001 in log10 and 2.5e-4 after the division by 4.
ATOL32 = 2.5e-4
# float64: the reference keeps its spectrum in complex64 (power off by <= 1.2e-7
# relative, log10 by <= 5.2e-8) and returns float32 after log10 of values in
# [-10, 4] (half an ulp: 4.8e-7) and after x + 4 (2.4e-7), each divided by 4:
# <= 1.9e-7 in all, against fastmel's float64 (~1e-15).
ATOL64 = 3e-7


def atol(dtype):
    return ATOL32 if np.dtype(dtype) == np.float32 else ATOL64


def reference(y, n_mels=80, pad_or_trim=True):
    """transformers' numpy Whisper features of a 1-D clip (as float64)."""
    fe = transformers.WhisperFeatureExtractor(feature_size=n_mels)
    # What its __call__ does before the extraction (float64 audio becomes
    # float32), called step by step so that the numpy extractor runs even
    # where torch is installed (__call__ would take the torch path).
    if pad_or_trim:
        how = dict(padding="max_length", truncation=True)
    else:
        how = dict(padding="longest", truncation=False)
    batch = transformers.BatchFeature({"input_features": [np.asarray([y], np.float32).T]})
    padded = fe.pad(batch, max_length=fe.n_samples, **how)
    waveform = padded["input_features"].transpose(2, 0, 1)[0]
    return fe._np_extract_fbank_features(waveform, "cpu")[0].astype(np.float64)


def check(got, ref, dtype):
    assert got.dtype == np.dtype(dtype)
    assert got.shape == ref.shape
    err = np.max(np.abs(got.astype(np.float64) - ref), initial=0.0)
    assert err <= atol(dtype), err


@pytest.fixture(scope="module")
def long_speech(speech_full):
    """31.3 s of the bundled clip, tiled: longer than Whisper's 30 s."""
    return np.resize(speech_full[(SR, np.float32)], int(31.3 * SR))


def test_reference_helper_is_transformers_call(long_speech):
    """The helper computes what WhisperFeatureExtractor's own __call__ returns
    on a machine without torch (here checked on whatever this machine has)."""
    if transformers.is_torch_available():
        pytest.skip("__call__ takes the torch path here")
    fe = transformers.WhisperFeatureExtractor()
    y = long_speech[:5 * SR]
    want = fe(y, sampling_rate=SR, return_tensors="np")["input_features"][0]
    np.testing.assert_array_equal(reference(y), want)
    want = fe(y, sampling_rate=SR, return_tensors="np", padding="longest",
              truncation=False)["input_features"][0]
    np.testing.assert_array_equal(reference(y, pad_or_trim=False), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("seconds", [0.7, 8.0, 31.3])
@pytest.mark.parametrize("pad_or_trim", [True, False], ids=["pad_or_trim", "as_given"])
@pytest.mark.parametrize("n_mels", [80, 128])
def test_equals_transformers(long_speech, n_mels, pad_or_trim, seconds, dtype):
    y = long_speech[:int(seconds * SR)]
    ref = reference(y, n_mels, pad_or_trim)
    got = WhisperLogMel(n_mels=n_mels, pad_or_trim=pad_or_trim, dtype=dtype)(y)
    assert got.shape == (n_mels, 3000 if pad_or_trim else len(y) // 160)
    check(got, ref, dtype)


@pytest.mark.filterwarnings("ignore:n_fft=400 is too large")
@pytest.mark.parametrize("n", [1, 159, 160, 201, 399, 400, 401, N_30S - 1, N_30S, N_30S + 1])
def test_lengths_around_the_edges(long_speech, n):
    """Clips around one hop, the reflect padding's reach, and 30 s."""
    y = long_speech[:n]
    for pad_or_trim in (True, False):
        ref = reference(y, 80, pad_or_trim) if pad_or_trim or n >= 160 else None
        got = WhisperLogMel(pad_or_trim=pad_or_trim)(y)
        if ref is None:  # fewer samples than a hop: no frame is left (transformers fails)
            assert got.shape == (80, 0)
        else:
            check(got, ref, np.float32)


def test_empty_clip_is_30s_of_silence():
    got = WhisperLogMel()(np.zeros(0, np.float32))
    check(got, reference(np.zeros(SR, np.float32)), np.float32)


@pytest.mark.parametrize("in_dtype, dtype", [(np.float64, np.float32), (np.float32, np.float64)])
def test_input_converted_to_dtype(long_speech, in_dtype, dtype):
    # float32 samples, so transformers' conversion to float32 loses nothing
    y = long_speech[:3 * SR].astype(in_dtype)
    check(WhisperLogMel(dtype=dtype)(y), reference(y), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("pad_or_trim", [True, False], ids=["pad_or_trim", "as_given"])
def test_multichannel_each_channel_floored_on_its_own(long_speech, pad_or_trim, dtype):
    y = np.stack([long_speech[:4 * SR], long_speech[SR:5 * SR], long_speech[2 * SR:6 * SR]])
    # a channel 100 dB quieter: one floor over all channels would flatten it
    y[1] *= 1e-5
    y = y.reshape(3, 1, -1)
    got = WhisperLogMel(n_mels=128, pad_or_trim=pad_or_trim, dtype=dtype)(y)
    assert got.shape[:2] == (3, 1)
    for c in range(3):
        check(got[c, 0], reference(y[c, 0], 128, pad_or_trim), dtype)


def test_strided_input_as_its_contiguous_copy(long_speech):
    y = np.stack([long_speech[:2 * SR], long_speech[SR:3 * SR]]).T.copy().T[:, ::2]
    fe = WhisperLogMel(pad_or_trim=False)
    assert_bits_equal(fe(y), fe(np.ascontiguousarray(y)), "strided")


def test_stream_refused_with_reason():
    with pytest.raises(ParameterError, match="maximum - 8.*melspec.stream"):
        WhisperLogMel().stream()


def test_melspec_stream_gives_unfloored_values(long_speech):
    """The documented streaming route: melspec's stream equals melspec offline
    bit for bit, and flooring its frames (last dropped) gives the features."""
    fe = WhisperLogMel(pad_or_trim=False)
    y = long_speech[:2 * SR + 37]
    s = fe.melspec.stream()
    frames = [s.process(y[a:b]) for a, b in cut(len(y), [0, 1, 160, 397, 1000])] + [s.flush()]
    X = np.concatenate(frames, axis=-1)
    assert_bits_equal(X, fe.melspec(y), "melspec stream")
    X = X[:, :-1]
    X = np.maximum(X, X.max() - 80.0) / np.float32(40.0) + np.float32(1.0)
    check(X, reference(y, 80, False), np.float32)


def test_settings_repr_pickle(long_speech):
    fe = WhisperLogMel(n_mels=128, pad_or_trim=False, dtype="float64")
    assert (fe.n_mels, fe.pad_or_trim, fe.dtype) == (128, False, np.dtype(np.float64))
    assert repr(fe) == "WhisperLogMel(n_mels=128, pad_or_trim=False, dtype='float64')"
    again = eval(repr(fe), {"WhisperLogMel": WhisperLogMel})
    copy = pickle.loads(pickle.dumps(fe))
    y = long_speech[:SR]
    for other in (again, copy):
        assert repr(other) == repr(fe)
        assert_bits_equal(other(y), fe(y), "rebuilt")
    with pytest.raises(AttributeError, match="read-only"):
        fe.n_mels = 80
    assert fastmel.frontends.WhisperLogMel is WhisperLogMel


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_mels=64), "n_mels must be 80 or 128.*64"),
    (dict(n_mels=True), "n_mels must be 80 or 128.*True"),
    (dict(n_mels="80"), "n_mels must be 80 or 128.*'80'"),
    (dict(dtype=np.float16), "dtype must be float32 or float64"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        WhisperLogMel(**kwargs)


def test_pad_or_trim_must_be_bool():
    with pytest.raises(TypeError, match="pad_or_trim must be True or False.*1"):
        WhisperLogMel(pad_or_trim=1)


@pytest.mark.parametrize("pad_or_trim", [True, False])
def test_bad_audio(pad_or_trim):
    fe = WhisperLogMel(pad_or_trim=pad_or_trim)
    with pytest.raises(TypeError, match="int16"):
        fe(np.zeros(SR, np.int16))
    with pytest.raises(TypeError, match="complex"):
        fe(np.zeros(SR, np.complex64))
    with pytest.raises(ParameterError, match="scalar"):
        fe(np.float32(0.0))
    y = np.zeros(SR, np.float32)
    y[100] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        fe(y)
    with pytest.raises(ParameterError, match="soundfile"):
        fe(np.zeros((SR, 2), np.float32))
    # past 30 s too: the part cut off is bad input all the same
    long = np.zeros(WhisperLogMel.N_SAMPLES + 10, np.float32)
    long[-1] = np.inf
    with pytest.raises(ParameterError, match="finite"):
        fe(long)


@pytest.mark.filterwarnings("ignore:n_fft=400 is too large")
def test_empty_clip_as_given_refused():
    with pytest.raises(ParameterError, match="reflect"):
        WhisperLogMel(pad_or_trim=False)(np.zeros(0, np.float32))


def test_threads_share_one_extractor(long_speech):
    from concurrent.futures import ThreadPoolExecutor
    fe = WhisperLogMel()
    clips = [long_speech[k * SR:(k + 5) * SR] for k in range(8)]
    want = [fe(y) for y in clips]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(fe, clips))
    for g, w in zip(got, want):
        assert_bits_equal(g, w, "threads")
