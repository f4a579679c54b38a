"""power_to_db / amplitude_to_db / mfcc against librosa (0.11 or 1.0, by Python).

Multichannel dB follows librosa 1.0 (top_db floor and callable ref per channel,
i.e. per index of the leading axes).  The reference is librosa applied to each
channel separately, which is what 1.0 does by itself: under librosa 1.0 the
tests also check fastmel against 1.0's own multichannel call, under 0.11 they
check that the input tells a per-channel floor from a whole-array one.
"""
import numpy as np
import pytest

import librosa

import fastmel
from conftest import (
    LIBROSA_1,
    assert_close_dtype,
    assert_db_close,
    multichannel,
    per_channel,
)

MEL16 = dict(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)


def _whole_array(db_fn, S, **kwargs):
    """``db_fn`` with one floor (and one callable ref) for the whole array,
    whatever the librosa version: the channels are stacked into one 2-D input."""
    return db_fn(S.reshape(-1, S.shape[-1]), **kwargs).reshape(S.shape)


@pytest.fixture(scope="module")
def power_mel(speech):
    """Power mel spectrograms with a pause of near-silence, by dtype."""
    out = {}
    for dt in (np.float32, np.float64):
        y = speech(16000, dt, start=2.9, dur=1.0)
        out[dt] = librosa.feature.melspectrogram(y=y, **MEL16)
    # Exact zeros exercise the amin clamp.
    for S in out.values():
        S[:3, :5] = 0
    return out


@pytest.fixture(scope="module")
def magnitude_spec(speech):
    out = {}
    for dt in (np.float32, np.float64):
        y = speech(16000, dt, start=2.9, dur=1.0)
        out[dt] = np.abs(librosa.stft(y, n_fft=512, hop_length=160))
    return out


DB_CASES = [
    dict(),
    dict(ref=np.max),
    dict(ref=np.median),  # any callable: fastmel must call it, not special-case np.max
    dict(ref=1e-3, top_db=None),
    dict(ref=np.max, top_db=None),
    dict(top_db=40.0),
    dict(ref=np.max, top_db=40.0),
    dict(top_db=0.0),
    dict(amin=1e-5, top_db=None),
    dict(amin=1e-3, ref=np.max, top_db=80.0),
]


def _id(case):
    return "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in case.items()) or "defaults"


@pytest.mark.parametrize("case", DB_CASES, ids=_id)
def test_power_to_db_parity(case, dtype, power_mel):
    S = power_mel[dtype]
    ref = librosa.power_to_db(S, **case)
    got = fastmel.power_to_db(S, **case)
    assert got.dtype == np.dtype(dtype)
    # 0.01 dB over the top 80 dB: spec section 2 dB tolerance
    assert_db_close(got, ref, "spec dB tolerance")


@pytest.mark.parametrize("case", DB_CASES, ids=_id)
def test_amplitude_to_db_parity(case, dtype, magnitude_spec):
    S = magnitude_spec[dtype]
    ref = librosa.amplitude_to_db(S, **case)
    got = fastmel.amplitude_to_db(S, **case)
    assert got.dtype == np.dtype(dtype)
    # 0.01 dB over the top 80 dB: spec section 2 dB tolerance
    assert_db_close(got, ref, "spec dB tolerance")


def test_power_to_db_default_floor_is_exact(power_mel):
    S = power_mel[np.float64]
    got = fastmel.power_to_db(S)
    # top_db=80 default: nothing below max - 80 dB survives
    assert got.min() >= got.max() - 80.0 - 1e-9
    assert np.isclose(got.min(), got.max() - 80.0, rtol=0, atol=1e-9)


def test_power_to_db_does_not_mutate(power_mel):
    S = power_mel[np.float32].copy()
    before = S.copy()
    fastmel.power_to_db(S, ref=np.max)
    fastmel.amplitude_to_db(S, ref=np.max)
    assert np.array_equal(S, before)


@pytest.mark.parametrize("func", ["power_to_db", "amplitude_to_db"])
def test_db_one_dimensional(func, dtype):
    S = np.abs(np.random.default_rng(3).standard_normal(1000)).astype(dtype) ** 2
    ref = getattr(librosa, func)(S, ref=np.max)
    got = getattr(fastmel, func)(S, ref=np.max)
    # 0.01 dB over the top 80 dB: spec section 2 dB tolerance
    assert_db_close(got, ref, "spec dB tolerance")


@pytest.mark.parametrize("func", ["power_to_db", "amplitude_to_db"])
@pytest.mark.parametrize("shape", [(2,), (3, 2)], ids=["2ch", "3x2ch"])
@pytest.mark.parametrize("top_db", [80.0, 40.0])
def test_db_multichannel_top_db_per_channel(func, shape, top_db, dtype, speech):
    y = multichannel(speech, 16000, dtype, shape, quiet_factor=1e-3)
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=160))
    if func == "power_to_db":
        S = S**2
    ref_fn = getattr(librosa, func)
    ref = per_channel(ref_fn, S, 2, top_db=top_db)
    # The input is built so that a whole-array floor would differ: the test
    # would not see a wrong (librosa 0.11, global) floor otherwise.
    assert not np.allclose(_whole_array(ref_fn, S, top_db=top_db), ref, atol=1.0)
    got = getattr(fastmel, func)(S, top_db=top_db)
    assert got.shape == S.shape
    # 0.01 dB over the top 80 dB of each channel's reference: spec dB tolerance
    for idx in np.ndindex(*shape):
        assert_db_close(got[idx], ref[idx], f"spec dB tolerance, channel {idx}")
    if LIBROSA_1:
        # librosa 1.0's own multichannel call: same floor per channel
        assert_db_close(got, ref_fn(S, top_db=top_db), "spec dB tolerance, librosa 1.0")


@pytest.mark.parametrize("func", ["power_to_db", "amplitude_to_db"])
def test_db_multichannel_callable_ref_per_channel(func, dtype, speech):
    # A callable ref (np.max) is evaluated per channel, like the top_db floor
    # (librosa 1.0's channel-independent dB scaling).
    y = multichannel(speech, 16000, dtype, (3, 2), quiet_factor=1e-3)
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=160))
    if func == "power_to_db":
        S = S**2
    ref_fn = getattr(librosa, func)
    ref = per_channel(ref_fn, S, 2, ref=np.max, top_db=None)
    # A whole-array np.max reference would shift the quiet channels: check the
    # input can tell the two apart.
    assert not np.allclose(_whole_array(ref_fn, S, ref=np.max, top_db=None), ref, atol=1.0)
    got = getattr(fastmel, func)(S, ref=np.max, top_db=None)
    for idx in np.ndindex(3, 2):
        # 0.01 dB over the top 80 dB of each channel: spec dB tolerance
        assert_db_close(got[idx], ref[idx], f"spec dB tolerance, channel {idx}")
    if LIBROSA_1:
        # librosa 1.0 evaluates the callable per channel too
        assert_db_close(got, ref_fn(S, ref=np.max, top_db=None), "spec dB tolerance, librosa 1.0")


@pytest.mark.parametrize("func", ["power_to_db", "amplitude_to_db"])
def test_db_multichannel_without_top_db_equals_librosa(func, dtype, speech):
    # With top_db=None and a scalar ref there is no floor: librosa 0.11 and
    # 1.0 agree, and the multichannel result is elementwise.
    y = multichannel(speech, 16000, dtype, (2,), quiet_factor=1e-3)
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=160)) ** 2
    ref = getattr(librosa, func)(S, ref=2.0, top_db=None)
    got = getattr(fastmel, func)(S, ref=2.0, top_db=None)
    # 0.01 dB over the top 80 dB: spec section 2 dB tolerance
    assert_db_close(got, ref, "spec dB tolerance")


MFCC_CASES = [
    dict(),
    dict(n_mfcc=13),
    dict(n_mfcc=40, n_mels=40),
    dict(dct_type=1, norm=None),
    dict(dct_type=1, norm="ortho"),
    dict(dct_type=2, norm=None),
    dict(dct_type=3, norm="ortho"),
    dict(dct_type=3, norm=None, n_mfcc=13),
    dict(lifter=22),
    dict(lifter=22, n_mfcc=13, dct_type=3),
    dict(lifter=1.5, norm=None),
    dict(mel_norm=None),
    dict(n_mfcc=1),
]


@pytest.mark.parametrize("case", MFCC_CASES, ids=_id)
@pytest.mark.parametrize("setup", ["w1", "w2"])
def test_mfcc_parity_from_y(case, setup, dtype, speech):
    if setup == "w1":
        kw = dict(MEL16)
        kw.setdefault("n_mels", 80)
        kw.update(case)
    else:
        kw = dict(sr=22050, **case)
    y = speech(kw["sr"], dtype, start=2.9)
    ref = librosa.feature.mfcc(y=y, **kw)
    got = fastmel.feature.mfcc(y=y, **kw)
    assert got.dtype == np.dtype(dtype)
    # spec tolerance for mfcc and the input dtype (relative to max |coefficient|)
    assert_close_dtype(got, ref, "spec section 2 mfcc tolerance for the input dtype")


@pytest.mark.parametrize(
    "case", [dict(), dict(n_mfcc=13, dct_type=3), dict(lifter=22, norm=None), dict(dct_type=1)], ids=_id
)
def test_mfcc_parity_from_S(case, dtype, power_mel):
    S = librosa.power_to_db(power_mel[dtype])
    ref = librosa.feature.mfcc(S=S, **case)
    got = fastmel.feature.mfcc(S=S, **case)
    # spec tolerance for mfcc and the input dtype
    assert_close_dtype(got, ref, "spec section 2 mfcc tolerance for the input dtype")


@pytest.mark.parametrize("shape", [(2,), (3, 2)], ids=["2ch", "3x2ch"])
def test_mfcc_multichannel_per_channel(shape, dtype, speech):
    # mfcc applies power_to_db(top_db=80): per channel in fastmel (librosa 1.0).
    y = multichannel(speech, 16000, dtype, shape, quiet_factor=1e-3)
    kw = dict(MEL16, n_mfcc=13, lifter=22)
    ref = per_channel(lambda ch: librosa.feature.mfcc(y=ch, **kw), y, 1)
    mel_kw = {k: v for k, v in kw.items() if k not in ("n_mfcc", "lifter")}
    S_db = _whole_array(librosa.power_to_db, librosa.feature.melspectrogram(y=y, **mel_kw))
    global_floor = librosa.feature.mfcc(S=S_db, n_mfcc=13, lifter=22)
    assert not np.allclose(global_floor, ref, atol=1.0)  # the input does distinguish
    got = fastmel.feature.mfcc(y=y, **kw)
    assert got.shape == shape + ref.shape[len(shape):]
    # spec mfcc tolerance, applied to each channel against its own reference
    for idx in np.ndindex(*shape):
        assert_close_dtype(got[idx], ref[idx], f"spec mfcc tolerance, channel {idx}")
    if LIBROSA_1:
        # librosa 1.0's own multichannel mfcc, channel by channel
        whole = librosa.feature.mfcc(y=y, **kw)
        for idx in np.ndindex(*shape):
            assert_close_dtype(got[idx], whole[idx], f"spec mfcc tolerance, librosa 1.0 {idx}")


def test_mfcc_multichannel_S(dtype, power_mel):
    # With S given there is no dB step: librosa 0.11 multichannel is the reference.
    S0 = librosa.power_to_db(power_mel[dtype])
    S = np.stack([S0, S0[::-1] * 0.5])
    ref = librosa.feature.mfcc(S=S, n_mfcc=13)
    got = fastmel.feature.mfcc(S=S, n_mfcc=13)
    # spec tolerance for mfcc and the input dtype
    assert_close_dtype(got, ref, "spec section 2 mfcc tolerance for the input dtype")


def test_mfcc_alias(speech16_f32):
    kw = dict(y=speech16_f32, sr=16000, n_mfcc=13, n_mels=40, n_fft=512, hop_length=160)
    assert np.array_equal(fastmel.mfcc(**kw), fastmel.feature.mfcc(**kw))


def test_mfcc_default_sr(speech22_f64):
    ref = librosa.feature.mfcc(y=speech22_f64)
    got = fastmel.feature.mfcc(y=speech22_f64)
    # float64 mfcc: 1e-10 of max |coefficient|
    assert_close_dtype(got, ref, "float64 mfcc")
