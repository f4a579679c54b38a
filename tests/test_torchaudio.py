"""torchaudio presets: TorchaudioMelSpectrogram and TorchaudioMFCC.

The reference tests run torchaudio itself (transforms.MelSpectrogram and
transforms.MFCC) and skip where torch or torchaudio is not installed (CI's
optional torch leg installs them); the rest (settings, repr, pickling,
streams, errors) needs fastmel only.
"""
import inspect
import pickle

import numpy as np
import pytest

import fastmel
from _torchaudio import import_torchaudio
from conftest import assert_bits_equal, assert_close_rel, cut, rtol_for
from fastmel import ParameterError
from fastmel.frontends import TorchaudioMelSpectrogram, TorchaudioMFCC

# torchaudio's defaults (128 mels over 201 bins) leave some filters empty,
# and both torchaudio and fastmel say so; the values are compared all the same.
pytestmark = [pytest.mark.filterwarnings("ignore:At least one mel filterbank has all zero"),
              pytest.mark.filterwarnings("ignore:Empty filters detected")]

SR = 16000

# Option sets people change, in torchaudio's names (MelSpectrogram's, and
# MFCC's melkwargs): its defaults; a speech setup (25 ms window in a 512 FFT,
# 10 ms hop, 80 mels); Slaney scale and area normalisation in a band, the
# magnitude; no centring; torch's other two pad modes.
MEL_OPTIONS = [
    {},
    dict(n_fft=512, win_length=400, hop_length=160, n_mels=80),
    dict(mel_scale="slaney", norm="slaney", f_min=50.0, f_max=7000.0, power=1.0, n_mels=64),
    dict(center=False, n_mels=40),
    dict(pad_mode="constant", hop_length=100),
    dict(pad_mode="replicate", n_fft=256, n_mels=32),
]
MEL_IDS = ["defaults", "speech", "slaney-band-magnitude", "no-centre", "constant", "replicate"]


@pytest.fixture(scope="module")
def ta():
    return import_torchaudio()


@pytest.fixture(scope="module")
def clips(speech_full):
    """(n,), (2, n) with the second channel 40 dB quieter (so that a floor
    over all channels and a floor per channel differ), and (2, 2, n)."""
    y = np.asarray(speech_full[(SR, np.float64)][3200:3200 + 24000])
    z = np.asarray(speech_full[(SR, np.float64)][30000:30000 + 24000])
    two = np.stack([y, 0.01 * z])
    return {"mono": y, "channels": two, "batch": np.stack([two, np.stack([0.001 * z, y])])}


def torchaudio_output(ta, transform, kwargs, x):
    """torchaudio's ``transform(**kwargs)`` of ``x`` (numpy in, numpy out).

    For float64 input, torchaudio runs with torch.float64 as its default
    dtype, so that its window, mel filters and DCT are computed in float64
    (``.double()`` on a float32 module would only widen float32 values);
    top_db=None is set on the MFCC's AmplitudeToDB, which torchaudio fixes at 80.
    """
    import torch
    kwargs = dict(kwargs)
    top_db = kwargs.pop("top_db", 80.0)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64 if x.dtype == np.float64 else torch.float32)
    try:
        module = getattr(ta.transforms, transform)(**kwargs)
        if transform == "MFCC":
            module.amplitude_to_DB.top_db = top_db
        with torch.no_grad():
            return module(torch.from_numpy(np.ascontiguousarray(x))).numpy()
    finally:
        torch.set_default_dtype(default)


def check(got, ref, dtype):
    assert got.dtype == np.dtype(dtype)
    # SPEC section 2: float32 within 1e-5 of the output's maximum (fastmel's
    # float32 FFT and filters against torch's float32 arithmetic, observed
    # ~1.5e-6); float64 within 1e-10 (both compute in float64, observed ~5e-15).
    # For MFCCs the maximum is c0's, and the dB values behind them are
    # compared through it with the same bound.
    assert_close_rel(got, ref, rtol_for(dtype), "SPEC float32 1e-5 / float64 1e-10 of the max")


# --- equal to torchaudio ---------------------------------------------------------------

@pytest.mark.parametrize("shape", ["mono", "channels"])
@pytest.mark.parametrize("options", MEL_OPTIONS, ids=MEL_IDS)
def test_melspectrogram_equals_torchaudio(ta, clips, options, shape, dtype):
    x = clips[shape].astype(dtype)
    got = TorchaudioMelSpectrogram(**options, dtype=dtype)(x)
    check(got, torchaudio_output(ta, "MelSpectrogram", options, x), dtype)


@pytest.mark.parametrize("shape", ["mono", "channels", "batch"])
@pytest.mark.parametrize("options", [
    {},
    dict(n_mfcc=13, melkwargs=MEL_OPTIONS[1]),
    dict(n_mfcc=20, norm=None, melkwargs=MEL_OPTIONS[2]),
    dict(n_mfcc=13, log_mels=True, melkwargs=MEL_OPTIONS[3]),
    dict(n_mfcc=24, log_mels=True, norm=None, melkwargs=MEL_OPTIONS[5]),
    dict(n_mfcc=13, top_db=None, melkwargs=MEL_OPTIONS[1]),
], ids=["defaults", "speech", "no-dct-norm", "log-mels", "log-mels-no-norm", "unfloored"])
def test_mfcc_equals_torchaudio(ta, clips, options, shape, dtype):
    """The "channels" and "batch" clips have quiet channels: torchaudio floors
    the dB values at the maximum over all channels of an item, not per channel."""
    x = clips[shape].astype(dtype)
    got = TorchaudioMFCC(**options, dtype=dtype)(x)
    check(got, torchaudio_output(ta, "MFCC", options, x), dtype)


@pytest.mark.parametrize("sample_rate", [8000, 11025, 22050, 44100])
def test_other_sample_rates(ta, clips, sample_rate, dtype):
    """11025 is odd: torchaudio puts the bins and f_max on sample_rate // 2 = 5512."""
    x = clips["mono"].astype(dtype)
    options = dict(sample_rate=sample_rate, n_fft=1024, n_mels=64)
    got = TorchaudioMelSpectrogram(**options, dtype=dtype)(x)
    check(got, torchaudio_output(ta, "MelSpectrogram", options, x), dtype)
    options = dict(sample_rate=sample_rate, n_mfcc=20, melkwargs=dict(n_fft=1024, n_mels=64))
    got = TorchaudioMFCC(**options, dtype=dtype)(x)
    check(got, torchaudio_output(ta, "MFCC", options, x), dtype)


def test_defaults_are_torchaudios(ta):
    """Every default the presets share with torchaudio is torchaudio's (read
    from its signatures), and the resolved ones are what torchaudio resolves."""
    for ours, theirs in ((TorchaudioMelSpectrogram, ta.transforms.MelSpectrogram),
                         (TorchaudioMFCC, ta.transforms.MFCC)):
        mine = inspect.signature(ours).parameters
        for name, p in inspect.signature(theirs).parameters.items():
            if name in mine:
                assert mine[name].default == p.default, (ours.__name__, name)
    theirs = ta.transforms.MelSpectrogram()
    ours = TorchaudioMelSpectrogram()
    assert (ours.win_length, ours.hop_length) == (theirs.win_length, theirs.hop_length)
    assert ours.f_max == theirs.mel_scale.f_max
    assert ours.n_mels == theirs.n_mels
    theirs = ta.transforms.MFCC()
    assert (TorchaudioMFCC().top_db, TorchaudioMFCC().n_mfcc) == (theirs.top_db, theirs.n_mfcc)


# --- streams -------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda dtype: TorchaudioMelSpectrogram(dtype=dtype),
    lambda dtype: TorchaudioMelSpectrogram(center=False, n_fft=512, win_length=400,
                                           hop_length=160, n_mels=80, dtype=dtype),
    lambda dtype: TorchaudioMelSpectrogram(pad_mode="replicate", power=1.0, dtype=dtype),
    lambda dtype: TorchaudioMFCC(top_db=None, n_mfcc=13, melkwargs=dict(n_mels=40), dtype=dtype),
    lambda dtype: TorchaudioMFCC(log_mels=True, dtype=dtype),
    lambda dtype: TorchaudioMFCC(log_mels=True, norm=None, n_mfcc=13,
                                 melkwargs=dict(center=False, n_mels=40), dtype=dtype),
], ids=["mel-defaults", "mel-speech-uncentred", "mel-replicate", "mfcc-unfloored",
        "mfcc-log-mels", "mfcc-log-mels-uncentred"])
@pytest.mark.parametrize("shape", ["mono", "channels", "batch"])
def test_stream_equals_offline_bit_for_bit(clips, make, shape, dtype):
    fe = make(dtype)
    x = clips[shape][..., :8000].astype(dtype)
    want = fe(x)
    for sizes in ([0, 1, 7, 199, 200, 201, 400, 0, 1009], [8000], [1]):
        s = fe.stream()
        parts = [s.process(x[..., a:b]) for a, b in cut(x.shape[-1], sizes)] + [s.flush()]
        assert_bits_equal(np.concatenate(parts, axis=-1), want, f"stream {sizes[:4]}")


def test_mfcc_stream_refused_with_reason():
    with pytest.raises(ParameterError, match="top_db=80.0 floors at the whole signal's maximum"
                                             ".*top_db=None"):
        TorchaudioMFCC().stream()


def test_log_mels_stream_protocol(clips):
    """The log_mels stream wraps the mel stream: a rejected chunk changes
    nothing, reset starts over, a pickled stream goes on where it was."""
    fe = TorchaudioMFCC(log_mels=True, n_mfcc=13, melkwargs=dict(n_mels=40), dtype=np.float64)
    x = clips["channels"][..., :6000]
    want = fe(x)
    s = fe.stream()
    assert s.latency == fe.melspec.stream().latency == 200
    first = s.process(x[..., :2500])
    bad = x[..., 2500:2600].copy()
    bad[1, 5] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        s.process(bad)
    with pytest.raises(ParameterError):
        s.process(x[0, 2500:2600])  # a different channel count
    resumed = pickle.loads(pickle.dumps(s))
    for stream in (s, resumed):
        got = np.concatenate([first, stream.process(x[..., 2500:]), stream.flush()], axis=-1)
        assert_bits_equal(got, want, "after a rejected chunk, pickled")
    s.reset()
    assert_bits_equal(np.concatenate([s.process(x), s.flush()], axis=-1), want, "after reset")
    assert repr(s) == f"<{fe!r}.stream() over {s._mel!r}>"


# --- settings, repr, pickling ------------------------------------------------------

@pytest.mark.parametrize("fe", [
    TorchaudioMelSpectrogram(n_fft=512, win_length=400, hop_length=160, n_mels=80, f_min=20,
                             f_max=7600, power=1, center=False, pad_mode="constant",
                             norm="slaney", mel_scale="slaney", dtype="float64"),
    TorchaudioMelSpectrogram(sample_rate=11025, n_mels=40),
    TorchaudioMFCC(sample_rate=22050, n_mfcc=13, norm=None, log_mels=True,
                   melkwargs=dict(n_fft=1024, n_mels=40, pad=0), dtype=np.float64),
    TorchaudioMFCC(top_db=None, melkwargs=dict(n_mels=64)),
], ids=["mel", "mel-odd-rate", "mfcc-log-mels", "mfcc-unfloored"])
def test_repr_pickle_readonly(clips, fe):
    names = {"TorchaudioMelSpectrogram": TorchaudioMelSpectrogram, "TorchaudioMFCC": TorchaudioMFCC}
    again = eval(repr(fe), names)
    copy = pickle.loads(pickle.dumps(fe))
    x = clips["channels"][..., :4000]
    for other in (again, copy):
        assert repr(other) == repr(fe)
        assert_bits_equal(other(x), fe(x), "rebuilt")
    for name in ("sample_rate", "n_fft", "hop_length", "dtype"):
        with pytest.raises(AttributeError):
            setattr(fe, name, getattr(fe, name))


def test_resolved_settings():
    fe = TorchaudioMelSpectrogram()
    assert repr(fe) == (
        "TorchaudioMelSpectrogram(sample_rate=16000, n_fft=400, win_length=400, hop_length=200, "
        "f_min=0.0, f_max=8000.0, n_mels=128, power=2.0, center=True, pad_mode='reflect', "
        "norm=None, mel_scale='htk', dtype='float32')")
    assert fe.window == "hann"
    fe = TorchaudioMelSpectrogram(sample_rate=11025, win_length=301, n_mels=40)
    assert (fe.win_length, fe.hop_length, fe.f_max) == (301, 150, 5512.0)
    with pytest.raises(AttributeError, match="read-only"):
        fe.n_mels = 80
    melkwargs = dict(n_mels=40, hop_length=160)
    fe = TorchaudioMFCC(n_mfcc=13, melkwargs=melkwargs)
    melkwargs["n_mels"] = 20  # the caller's dict is not the extractor's
    assert fe.melkwargs == dict(n_mels=40, hop_length=160)
    fe.melkwargs["n_mels"] = 10  # nor is the attribute read
    assert fe.melkwargs == dict(n_mels=40, hop_length=160) and fe.melspec.n_mels == 40
    assert (fe.n_fft, fe.hop_length, fe.win_length, fe.window, fe.center, fe.pad_mode) == \
        (400, 160, 400, "hann", True, "reflect")
    assert fe.kernel is None and TorchaudioMFCC(top_db=None).kernel is not None
    assert fastmel.frontends.TorchaudioMFCC is TorchaudioMFCC


@pytest.mark.parametrize("fe", [
    TorchaudioMelSpectrogram(n_mels=40),
    TorchaudioMFCC(melkwargs=dict(n_mels=40)),
    TorchaudioMFCC(log_mels=True, melkwargs=dict(n_mels=40)),
], ids=["mel", "mfcc", "mfcc-log-mels"])
def test_threads_share_one_extractor(clips, fe):
    from concurrent.futures import ThreadPoolExecutor
    x = clips["channels"]
    parts = [x[..., k * 2000:k * 2000 + 6000] for k in range(8)]
    want = [fe(p) for p in parts]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(fe, parts))
    for g, w in zip(got, want):
        assert_bits_equal(g, w, "threads")


def test_float64_input_to_float32_preset(clips):
    x = clips["mono"]
    fe = TorchaudioMelSpectrogram()
    assert_bits_equal(fe(x), fe(x.astype(np.float32)), "converted")


# --- errors ------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    (dict(sample_rate=1), "sample_rate must be at least 2.*1"),
    (dict(sample_rate=0), "sample_rate must be > 0"),
    (dict(n_fft=0), "n_fft must be a positive integer"),
    (dict(win_length=500), "win_length=500 must be <= n_fft=400"),
    (dict(n_fft=1, win_length=1), "hop_length=None defaults to win_length // 2.*0"),
    (dict(hop_length=0), "hop_length must be a positive integer"),
    (dict(f_min=-1.0), "f_min must be >= 0"),
    (dict(f_min=4000.0, f_max=3000.0), "f_max must be greater than f_min=4000.0"),
    (dict(f_max=float("nan")), "f_max must be a finite number"),
    (dict(n_mels=0), "n_mels must be a positive integer"),
    (dict(power=0), "power must be > 0"),
    (dict(pad_mode="circular"), "pad_mode must be one of.*'circular' is not supported"),
    (dict(pad_mode="edge"), "pad_mode must be one of.*'replicate'.*'edge'"),
    (dict(norm="ortho"), "norm must be None or 'slaney'"),
    (dict(mel_scale="kaldi"), "mel_scale must be 'htk' or 'slaney'"),
    (dict(dtype=np.float16), "dtype must be float32 or float64"),
    (dict(pad=5), "pad only at its default \\(0\\), got pad=5"),
    (dict(normalized=True), "normalized only at its default \\(False\\)"),
    (dict(normalized=0), "normalized only at its default"),
    (dict(wkwargs=dict(periodic=False)), "wkwargs only at its default"),
    (dict(onesided=False), "onesided only at its default \\(None or True\\)"),
    (dict(window_fn=np.hanning), "does not take window_fn.*hann_window"),
])
def test_melspectrogram_bad_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        TorchaudioMelSpectrogram(**kwargs)


def test_torchaudio_defaults_accepted_and_unknown_refused():
    fe = TorchaudioMelSpectrogram(pad=0, normalized=False, wkwargs=None, onesided=True)
    assert repr(fe) == repr(TorchaudioMelSpectrogram())
    with pytest.raises(TypeError, match="unexpected keyword argument 'fmax'"):
        TorchaudioMelSpectrogram(fmax=4000)
    with pytest.raises(TypeError, match="center must be True or False"):
        TorchaudioMelSpectrogram(center=1)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_mfcc=0), ParameterError, "n_mfcc must be a positive integer"),
    (dict(n_mfcc=41, melkwargs=dict(n_mels=40)), ParameterError, "n_mfcc=41 must be <= n_mels=40"),
    (dict(dct_type=3), ParameterError, "dct_type must be 2.*3"),
    (dict(dct_type=True), ParameterError, "dct_type must be 2.*True"),
    (dict(norm="slaney"), ParameterError, "norm must be 'ortho' or None"),
    (dict(top_db=-1.0), ParameterError, "top_db must be non-negative"),
    (dict(melkwargs=dict(sample_rate=8000)), ParameterError, "melkwargs must not hold sample_rate"),
    (dict(melkwargs=dict(dtype="float64")), ParameterError, "melkwargs must not hold dtype"),
    (dict(melkwargs=dict(pad=3)), ParameterError, "pad only at its default"),
    (dict(melkwargs=dict(n_fft=0)), ParameterError, "n_fft must be a positive integer"),
    (dict(melkwargs=dict(nfft=512)), TypeError, "unexpected keyword argument 'nfft'"),
    (dict(melkwargs=[("n_mels", 40)]), TypeError, "melkwargs must be a dict or None"),
    (dict(log_mels=1), TypeError, "log_mels must be True or False"),
])
def test_mfcc_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        TorchaudioMFCC(**kwargs)


@pytest.mark.parametrize("fe", [
    TorchaudioMelSpectrogram(n_mels=40),
    TorchaudioMFCC(melkwargs=dict(n_mels=40)),
    TorchaudioMFCC(log_mels=True, melkwargs=dict(n_mels=40)),
    TorchaudioMFCC(top_db=None, melkwargs=dict(n_mels=40)),
], ids=["mel", "mfcc", "mfcc-log-mels", "mfcc-unfloored"])
def test_bad_audio(fe):
    with pytest.raises(TypeError, match="int16"):
        fe(np.zeros(SR, np.int16))
    with pytest.raises(TypeError, match="complex"):
        fe(np.zeros(SR, np.complex64))
    y = np.zeros(SR, np.float32)
    y[100] = np.nan
    with pytest.raises(ParameterError, match="finite"):
        fe(y)
    with pytest.raises(ParameterError, match="soundfile"):
        fe(np.zeros((SR, 2), np.float32))
