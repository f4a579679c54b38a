"""Every error path: ParameterError (a ValueError) for bad parameters or data,
TypeError for bad types. Messages name the parameter (and the value).

Where librosa 0.11 raises something else (a numpy/scipy ValueError, a
ZeroDivisionError) or silently accepts a meaningless value, the comment says so.
"""
import numpy as np
import pytest

import librosa

import fastmel
from conftest import assert_close_dtype
from fastmel import ParameterError

# Short signals are part of these tests; librosa's warning for them is tested elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:n_fft=.* is too large for input signal:UserWarning")

W1 = dict(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=40)


@pytest.fixture(scope="module")
def y():
    return np.random.default_rng(0).standard_normal(4000)


@pytest.fixture(scope="module")
def y32(y):
    return y.astype(np.float32)


def test_parameter_error_is_value_error():
    assert issubclass(ParameterError, ValueError)
    assert isinstance(fastmel.ParameterError(), ValueError)
    assert fastmel.exceptions.ParameterError is ParameterError


# --- STFT parameters, checked on every entry point that takes them ----------

def _stft(sig, **kw):
    return fastmel.stft(sig, **kw)


def _melspec(sig, **kw):
    return fastmel.feature.melspectrogram(y=sig, sr=16000, **kw)


def _mfcc(sig, **kw):
    return fastmel.feature.mfcc(y=sig, sr=16000, **kw)


def _mel_object(sig, **kw):
    return fastmel.MelSpectrogram(sr=16000, **kw)(sig)


def _mfcc_object(sig, **kw):
    return fastmel.MFCC(sr=16000, **kw)(sig)


ENTRY_POINTS = [_stft, _melspec, _mfcc, _mel_object, _mfcc_object]
EP_IDS = ["stft", "melspectrogram", "mfcc", "MelSpectrogram", "MFCC"]

BAD_STFT_PARAMS = [
    # (kwargs, parameter named in the message, value shown in the message)
    (dict(n_fft=0), "n_fft", "0"),  # librosa: scipy ValueError "Nx=0"
    (dict(n_fft=-512), "n_fft", "-512"),
    (dict(n_fft=512.5), "n_fft", "512.5"),  # librosa: scipy ValueError "Nx=512.5"
    (dict(n_fft=512, hop_length=0), "hop_length", "0"),
    (dict(n_fft=512, hop_length=-160), "hop_length", "-160"),
    (dict(n_fft=512, win_length=600), "win_length", "600"),
    (dict(n_fft=512, win_length=0), "win_length", "0"),  # librosa: scipy ValueError
    (dict(n_fft=512, win_length=-3), "win_length", "-3"),
    (dict(n_fft=512, window="no_such_window"), "window", "no_such_window"),  # librosa: scipy ValueError
    (dict(n_fft=512, window=np.ones(300)), "window", "300"),
    (dict(n_fft=512, win_length=400, window=np.ones(512)), "window", "512"),
    (dict(n_fft=512, pad_mode="wrap"), "pad_mode", "wrap"),
    (dict(n_fft=512, pad_mode="foo"), "pad_mode", "foo"),  # librosa: numpy ValueError
    (dict(n_fft=512, pad_mode="maximum"), "pad_mode", "maximum"),
]


def _ids(cases):
    return ["-".join(f"{k}={v if not isinstance(v, np.ndarray) else 'array' + str(len(v))}"
                     for k, v in c[0].items()) for c in cases]


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=EP_IDS)
@pytest.mark.parametrize("kwargs, name, value", BAD_STFT_PARAMS, ids=_ids(BAD_STFT_PARAMS))
def test_bad_stft_parameters(entry, kwargs, name, value, y):
    with pytest.raises(ParameterError) as info:
        entry(y, **kwargs)
    msg = str(info.value)
    assert name in msg, f"message does not name {name!r}: {msg!r}"
    assert value in msg, f"message does not show the value {value!r}: {msg!r}"


@pytest.mark.parametrize("n_fft", [1, 2, 3])
def test_default_hop_of_zero(n_fft, y):
    # win_length // 4 == 0: librosa 0.11 dies with ZeroDivisionError. fastmel
    # may reject the derived hop (ParameterError) or use a hop of 1; anything
    # else (another exception, other frames) is wrong.
    try:
        got = fastmel.stft(y[:300], n_fft=n_fft)
    except ParameterError as err:
        assert "hop_length" in str(err) or "n_fft" in str(err)
        return
    ref = librosa.stft(y[:300], n_fft=n_fft, hop_length=1)
    # float64 path: 1e-10 of max magnitude
    assert_close_dtype(got, ref, "float64 path, FFT rounding only")


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_fft=0), "n_fft"),
        (dict(hop_length=0), "hop_length"),
        (dict(n_fft=512, win_length=513), "win_length"),
        (dict(window="no_such_window"), "window"),
        (dict(n_fft=512, window=np.ones(100)), "window"),
        (dict(pad_mode="wrap"), "pad_mode"),
        (dict(n_mels=0), "n_mels"),
        (dict(fmin=-1.0), "fmin"),
        (dict(fmin=4000.0, fmax=4000.0), "fmin"),
        (dict(amin=0.0), "amin"),
        (dict(top_db=-1.0), "top_db"),
    ],
    ids=lambda v: str(v) if isinstance(v, str) else None,
)
@pytest.mark.parametrize("cls", [fastmel.MelSpectrogram, fastmel.MFCC], ids=["mel", "mfcc"])
def test_extractor_constructor_rejects(cls, kwargs, name):
    # Objects are planned once, at construction, so bad configurations fail there.
    with pytest.raises(ParameterError, match=name):
        cls(sr=16000, **kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_mfcc=0), "n_mfcc"),
        (dict(n_mfcc=-1), "n_mfcc"),
        (dict(dct_type=0), "dct_type"),
        (dict(dct_type=5), "dct_type"),
        (dict(norm="foo"), "norm"),
        (dict(lifter=-1), "lifter"),
    ],
)
def test_mfcc_constructor_rejects(kwargs, name):
    with pytest.raises(ParameterError, match=name):
        fastmel.MFCC(sr=16000, **kwargs)


# --- bad audio data ----------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=EP_IDS)
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_non_finite_audio(entry, bad, dt, y):
    sig = y.astype(dt)
    sig[1234] = bad
    # librosa: ParameterError "Audio buffer is not finite everywhere"
    with pytest.raises(ParameterError, match="finite"):
        entry(sig, n_fft=512)


def test_non_finite_audio_multichannel(y):
    sig = np.stack([y, y])
    sig[1, -1] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        fastmel.stft(sig, n_fft=512)


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=EP_IDS)
@pytest.mark.parametrize("length", [0, 100, 511])
def test_short_signal_uncentered(entry, length, y):
    # librosa: ParameterError "n_fft=512 is too large for uncentered analysis"
    with pytest.raises(ParameterError) as info:
        entry(y[:length], n_fft=512, center=False)
    msg = str(info.value)
    # an empty signal may be reported as such rather than as too short for n_fft
    assert "n_fft" in msg or (length == 0 and "empty" in msg), msg


@pytest.mark.parametrize("pad_mode", ["reflect", "edge", "symmetric", "linear_ramp"])
def test_empty_signal_with_non_constant_padding(pad_mode):
    # librosa 0.11 lets numpy raise "can't extend empty axis"; there is
    # nothing to reflect, so fastmel reports bad data.
    with pytest.raises(ParameterError):
        fastmel.stft(np.zeros(0), n_fft=512, pad_mode=pad_mode)


# --- bad dtypes: TypeError with a hint ---------------------------------------

@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=EP_IDS)
@pytest.mark.parametrize("dt", [np.int16, np.int32])
def test_integer_audio_type_error(entry, dt, y):
    pcm = (y * 3000).astype(dt)
    with pytest.raises(TypeError) as info:
        entry(pcm, n_fft=512)
    msg = str(info.value)
    # the hint says how to convert PCM (e.g. "divide by 32768") or to use floats
    assert "32768" in msg or "float" in msg.lower(), msg


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=EP_IDS)
@pytest.mark.parametrize("kind", ["bool", "complex64", "complex128"])
def test_bool_and_complex_audio_type_error(entry, kind, y):
    sig = (y > 0) if kind == "bool" else y.astype(kind)
    with pytest.raises(TypeError) as info:
        entry(sig, n_fft=512)
    assert "float" in str(info.value).lower() or "real" in str(info.value).lower()


def test_type_error_is_not_parameter_error(y):
    with pytest.raises(TypeError) as info:
        fastmel.stft((y * 100).astype(np.int16), n_fft=512)
    assert not isinstance(info.value, ParameterError)


# --- mel filter bank -----------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_mels=0), "n_mels"),  # librosa 0.11 silently returns an empty (0, 257) basis
        (dict(n_mels=-1), "n_mels"),  # librosa: numpy "negative dimensions"
        (dict(fmin=-1.0), "fmin"),  # librosa accepts a negative fmin; the spec forbids it
        (dict(fmin=4000.0, fmax=4000.0), "fmin"),  # librosa: divide by zero, NaN weights
        (dict(fmin=5000.0, fmax=4000.0), "fmin"),  # librosa: warns about empty filters
        (dict(norm="foo"), "norm"),  # librosa: ParameterError "Unsupported norm"
        (dict(n_fft=0), "n_fft"),  # librosa: ZeroDivisionError
        (dict(sr=0), "sr"),  # librosa: ZeroDivisionError
        (dict(sr=-16000), "sr"),  # librosa: silently builds a meaningless basis
    ],
)
def test_mel_filters_bad_parameters(kwargs, name):
    kw = dict(sr=16000, n_fft=512)
    kw.update(kwargs)
    with pytest.raises(ParameterError) as info:
        fastmel.filters.mel(**kw)
    assert name in str(info.value)


@pytest.mark.parametrize("kwargs, name", [(dict(n_mels=0), "n_mels"), (dict(fmin=-5.0), "fmin"),
                                          (dict(fmin=3000.0, fmax=1000.0), "fmin")])
def test_melspectrogram_bad_mel_parameters(kwargs, name, y):
    with pytest.raises(ParameterError, match=name):
        fastmel.feature.melspectrogram(y=y, sr=16000, n_fft=512, **kwargs)


# --- dB -------------------------------------------------------------------------

@pytest.mark.parametrize("func", [fastmel.power_to_db, fastmel.amplitude_to_db], ids=["power", "amplitude"])
@pytest.mark.parametrize(
    "kwargs, name",
    [(dict(amin=0.0), "amin"), (dict(amin=-1e-10), "amin"), (dict(top_db=-1.0), "top_db"),
     (dict(top_db=-80.0), "top_db")],
)
def test_db_bad_parameters(func, kwargs, name):
    # librosa: ParameterError "amin must be strictly positive" / "top_db must be non-negative"
    S = np.abs(np.random.default_rng(1).standard_normal((40, 10)))
    with pytest.raises(ParameterError, match=name):
        func(S, **kwargs)


# --- mfcc -----------------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_mfcc=0), "n_mfcc"),  # librosa 0.11 returns an empty (0, t) array
        (dict(n_mfcc=-3), "n_mfcc"),
        (dict(dct_type=0), "dct_type"),  # librosa: scipy ValueError "invalid DCT type"
        (dict(dct_type=5), "dct_type"),
        (dict(dct_type=-1), "dct_type"),
        (dict(norm="foo"), "norm"),  # librosa: scipy ValueError
        (dict(lifter=-1), "lifter"),  # librosa: ParameterError
        (dict(lifter=-0.5), "lifter"),
    ],
)
@pytest.mark.parametrize("path", ["y", "S"])
def test_mfcc_bad_parameters(kwargs, name, path, y):
    if path == "y":
        args = dict(y=y, sr=16000, n_fft=512, n_mels=40)
    else:
        args = dict(S=np.zeros((40, 10)))
    with pytest.raises(ParameterError) as info:
        fastmel.feature.mfcc(**args, **kwargs)
    assert name in str(info.value)


@pytest.mark.parametrize(
    "func", [fastmel.feature.mfcc, fastmel.feature.melspectrogram, fastmel.mfcc, fastmel.melspectrogram],
    ids=["mfcc", "melspectrogram", "alias_mfcc", "alias_melspectrogram"],
)
def test_neither_y_nor_S(func):
    # librosa: ParameterError "Input signal must be provided to compute a spectrogram"
    with pytest.raises(ParameterError):
        func(sr=16000)


# --- arguments are keyword-only after the signal ---------------------------------

def test_keyword_only_arguments(y):
    with pytest.raises(TypeError):
        fastmel.stft(y, 512)
    with pytest.raises(TypeError):
        fastmel.feature.melspectrogram(y)
    with pytest.raises(TypeError):
        fastmel.feature.mfcc(y)
    with pytest.raises(TypeError):
        fastmel.filters.mel(16000, 512)
    with pytest.raises(TypeError):
        fastmel.power_to_db(np.ones((2, 2)), 1.0)
    with pytest.raises(TypeError):
        fastmel.util.frame(y, 10, 5)


def test_samples_beyond_float32_range_rejected_by_a_float32_extractor():
    # 1e39 is finite in float64 but inf once converted to the extractor's
    # float32: the offline call rejects it, as its stream does.
    y = np.zeros(4000)
    y[100] = 1e39
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40)
    with pytest.raises(ParameterError, match="non-finite"):
        m(y)
    with pytest.raises(ParameterError, match="non-finite"):
        m.stream().process(y)
