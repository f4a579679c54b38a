"""Per-channel energy normalisation: fastmel.pcen against librosa.pcen, and the
PCEN stream (a stage that takes frames) against fastmel.pcen, bit for bit."""
import copy
import pickle

import librosa
import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal
from fastmel import ParameterError

SR, HOP = 16000, 160
# float64: the same float64 smoother as librosa's lfilter; the element-wise
# steps (fastmel_math.h's log, exp, log1p and expm1, within 2 ulp each, see
# test_fastlog.py) differ from librosa's by a few ulps each, compounded over
# ~6 steps.
RTOL64 = 1e-12
# float32 runs float32 after the smoother: the log of eps + M (up to ~1e10
# here, |log| <= 25) is off by up to 25 ulp(1) ~ 1.5e-6 absolute, which becomes
# gain times that in relative error of the gain, plus a few float32 ulps.
RTOL32 = 1e-5


def mel(dtype=np.float32, lead=(), seconds=3.0, seed=0, scale=2.0 ** 31):
    rng = np.random.default_rng(seed)
    y = (0.1 * rng.standard_normal(lead + (int(SR * seconds),))).astype(np.float32)
    y[..., : SR // 2] *= 1e-4                    # a quiet start: levels spread widely
    S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=HOP, n_mels=40)
    return (S * scale).astype(dtype)


def close(got, want, rtol):
    want = np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    err = np.abs(got.astype(np.float64) - want)
    assert np.all(err <= rtol * np.abs(want) + 1e-30), float(np.max(err / (np.abs(want) + 1e-30)))


PARAMS = [dict(), dict(power=0.0), dict(bias=0.0), dict(gain=0.8, bias=10.0, power=0.25,
                                                        time_constant=0.06),
          dict(b=0.5), dict(b=1.0), dict(eps=1e-3, gain=0.0), dict(max_size=3),
          dict(max_size=8)]


@pytest.mark.parametrize("kw", PARAMS, ids=[str(k) or "defaults" for k in PARAMS])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_equals_librosa(kw, dtype):
    S = mel(dtype)
    got = fastmel.pcen(S, sr=SR, hop_length=HOP, **kw)
    assert got.dtype == dtype                     # float32 stays float32 (librosa: float64)
    want = librosa.pcen(S.astype(np.float64), sr=SR, hop_length=HOP, **kw)
    close(got, want, RTOL64 if dtype == np.float64 else RTOL32)


def test_axis_zi_and_zf_as_librosa():
    S = mel(np.float64, seconds=2.0)
    T = np.ascontiguousarray(S.T)                 # time first
    got, zf = fastmel.pcen(T, sr=SR, hop_length=HOP, axis=0, return_zf=True)
    want, wzf = librosa.pcen(T, sr=SR, hop_length=HOP, axis=0, return_zf=True)
    close(got, want, RTOL64)
    assert zf.shape == wzf.shape == (1, 40)
    close(zf, wzf, RTOL64)
    # continuing from zf equals one call over both halves
    half = S.shape[-1] // 2
    a, za = fastmel.pcen(S[:, :half], sr=SR, hop_length=HOP, return_zf=True)
    b = fastmel.pcen(S[:, half:], sr=SR, hop_length=HOP, zi=za)
    assert_bits_equal(np.concatenate([a, b], axis=-1), fastmel.pcen(S, sr=SR, hop_length=HOP),
                      "continued from zf")
    # a scalar zi broadcasts, as in librosa
    close(fastmel.pcen(S, sr=SR, hop_length=HOP, zi=0.5),
          librosa.pcen(S, sr=SR, hop_length=HOP, zi=np.full((1, 1), 0.5)), RTOL64)


def test_max_filter_on_3d_input_with_max_axis():
    S = mel(np.float64, lead=(2,), seconds=1.0)
    got = fastmel.pcen(S, sr=SR, hop_length=HOP, max_size=5, max_axis=1)
    want = librosa.pcen(S, sr=SR, hop_length=HOP, max_size=5, max_axis=1)
    close(got, want, RTOL64)


def test_ref_is_smoothed_instead_of_S():
    S = mel(np.float64, seconds=1.0)
    ref = np.roll(S, 3, axis=0)
    close(fastmel.pcen(S, sr=SR, hop_length=HOP, ref=ref),
          librosa.pcen(S, sr=SR, hop_length=HOP, ref=ref), RTOL64)


@pytest.mark.parametrize("bad, error, match", [
    (dict(S=-np.ones((4, 10))), ParameterError, "negative"),
    (dict(S=np.ones((4, 10)) * 1j), TypeError, "np.abs"),
    (dict(S=np.ones((4, 10), np.int16)), TypeError, "floating"),
    (dict(S=np.full((4, 10), np.nan)), ParameterError, "non-finite"),
    (dict(gain=-1), ParameterError, "gain"),
    (dict(bias=-1), ParameterError, "bias"),
    (dict(power=-0.5), ParameterError, "power"),
    (dict(eps=0), ParameterError, "eps"),
    (dict(time_constant=0), ParameterError, "time_constant"),
    (dict(b=1.5), ParameterError, "b="),
    (dict(b=np.nan), ParameterError, "b"),
    (dict(max_size=0), ParameterError, "max_size"),
    (dict(max_size=True), ParameterError, "max_size"),
    (dict(S=np.ones(10), max_size=3), ParameterError, "1-D"),
    (dict(S=np.ones((2, 4, 10)), max_size=3), ParameterError, "max_axis"),
    (dict(axis=2), ParameterError, "axis"),
    (dict(zi=np.ones((3, 3))), ParameterError, "zi"),
    (dict(ref=np.ones((3, 3))), ParameterError, "ref"),
])
def test_errors(bad, error, match):
    kw = dict(S=np.ones((4, 10)), sr=SR, hop_length=HOP)
    kw.update(bad)
    with pytest.raises(error, match=match):
        fastmel.pcen(kw.pop("S"), **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("view", ["contiguous", "strided", "transposed"])
@pytest.mark.parametrize("value, match", [
    (-5e-324, "negative"), (-np.inf, "non-finite"), (np.inf, "non-finite"),
    (np.nan, "non-finite"), (-np.nan, "non-finite"), (-1.0, "negative"), (-0.0, None)])
def test_each_bad_value_anywhere_is_refused_and_minus_zero_is_not(value, match, view, dtype):
    # The input's checks (finite, not negative) run as one scan: each kind of
    # bad value, at the start, middle and end, through strided and transposed
    # views, with the message of the check it fails; -0.0 passes (as np.min sees it).
    for where in [(0, 0), (5, 63), (12, 127)]:
        S = np.ones((13, 128), dtype)
        S[where] = value
        if np.dtype(dtype) == np.float32 and value == -5e-324:
            S[where] = -np.float32(1e-45)               # float32's smallest negative
        if view == "strided":
            S = np.repeat(S, 2, axis=1)[:, ::2]
        elif view == "transposed":
            S = np.asfortranarray(S).T.copy().T           # the same values, time first in memory
        if match is None:
            assert np.all(np.isfinite(fastmel.pcen(S)))
        else:
            with pytest.raises(ParameterError, match=match):
                fastmel.pcen(S)
            with pytest.raises(ParameterError, match=match):
                fastmel.pcen(np.ones_like(S), ref=S)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("S, zi", [(np.full((2, 5), 1e-3), -5.0),     # eps + M < 0
                                   (np.zeros((2, 5)), -1e-6)],        # eps + M == 0
                         ids=["negative", "zero"])
def test_smoothed_level_not_above_minus_eps_is_refused(S, zi, dtype):
    # A negative zi can pull eps + M to zero or below, where its logarithm is
    # undefined: librosa returns NaN or inf; fastmel says why instead of
    # returning numbers (float64 returned zeros, float32 blamed an overflow).
    with np.errstate(invalid="ignore", divide="ignore"):
        want = librosa.pcen(S, zi=np.full((2, 1), zi))
    assert not np.all(np.isfinite(want))
    with pytest.raises(ParameterError, match=r"eps \+ M .*not positive"):
        fastmel.pcen(S.astype(dtype), zi=zi)
    s = fastmel.PCEN().stream()                  # a stream resumed at that state
    s.process(np.ones((2, 1), dtype))
    s._set_state(s.__reduce__()[1][1][:-1] + (np.full(2, zi),))
    with pytest.raises(ParameterError, match=r"eps \+ M .*not positive"):
        s.process(S.astype(dtype))
    assert_bits_equal(s.__reduce__()[1][1][-1], np.full(2, zi), "state unchanged")


def test_negative_zi_where_eps_plus_m_stays_positive_equals_librosa():
    S = mel(np.float64, seconds=0.5)
    zi = -1e-7                                    # above -eps: eps + M stays positive
    close(fastmel.pcen(S, sr=SR, hop_length=HOP, zi=zi),
          librosa.pcen(S, sr=SR, hop_length=HOP, zi=np.full((S.shape[0], 1), zi)), RTOL64)


# --- the stream ---------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_size", [1, 3])
@pytest.mark.parametrize("lead", [(), (2,)])
def test_stream_equals_offline_bit_for_bit(dtype, max_size, lead):
    S = mel(dtype, lead=lead, seconds=2.0)
    p = fastmel.PCEN(sr=SR, hop_length=HOP, max_size=max_size)
    want = fastmel.pcen(S, sr=SR, hop_length=HOP, max_size=max_size,
                        max_axis=S.ndim - 2 if max_size > 1 else None)
    assert_bits_equal(p(S), want, "whole")
    rng = np.random.default_rng(3)
    for _ in range(3):
        s, outs, i = p.stream(), [], 0
        while i < S.shape[-1]:
            k = int(rng.choice([0, 1, 2, 7, 40]))
            outs.append(s.process(S[..., i:i + k]))
            i += k
        outs.append(s.flush())
        assert_bits_equal(np.concatenate(outs, axis=-1), want, "chunked")


def test_stream_pickles_mid_stream_and_refuses_bad_frames_unchanged():
    S = mel(np.float32, seconds=1.0)
    s = fastmel.PCEN(sr=SR, hop_length=HOP)
    head = s.process(S[:, :30])
    with pytest.raises(ParameterError, match="non-negative"):
        s.process(-S[:, 30:40])
    for other in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert_bits_equal(np.concatenate([head, other.process(S[:, 30:])], axis=-1),
                          s.stream().process(S), "resumed")
    assert s.samples_in == 30 and s.latency == 0 and s.lead == (40,)
    state = s.__reduce__()[1][1]
    lead, dtype, n_in, z = state
    for tampered in (z[:-1], z.astype(np.float32), np.full_like(z, np.nan), None, "z"):
        with pytest.raises((ValueError, TypeError)):
            fastmel.PCEN(sr=SR, hop_length=HOP)._set_state((lead, dtype, n_in, tampered))


def test_stream_at_rest_attributes_and_repr():
    p = fastmel.PCEN(sr=SR, hop_length=HOP, gain=0.9)
    out = p.flush()
    assert out.shape == (0,) and out.dtype == np.float32
    again = eval(repr(p), {"PCEN": fastmel.PCEN})
    assert repr(again) == repr(p) and again.b == p.b and again.gain == 0.9
    for attr in ("b", "gain", "bias", "power", "eps", "max_size", "sr", "hop_length",
                 "time_constant"):
        with pytest.raises(AttributeError):
            setattr(p, attr, 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chain_mel_then_pcen_equals_offline(dtype):
    rng = np.random.default_rng(5)
    y = (0.1 * rng.standard_normal(SR * 2)).astype(dtype)
    m = fastmel.MelSpectrogram(sr=SR, n_fft=512, hop_length=HOP, n_mels=40, dtype=dtype)
    chain = fastmel.Chain([m.stream(), fastmel.PCEN(sr=SR, hop_length=HOP)])
    outs = [chain.process(y[i:i + 160]) for i in range(0, y.size, 160)] + [chain.flush()]
    want = fastmel.pcen(m(y), sr=SR, hop_length=HOP)
    assert_bits_equal(np.concatenate(outs, axis=-1), want, "mel -> pcen chain")


@pytest.mark.parametrize("shape", [(0, 5), (0, 0), (2, 0, 5)])
def test_no_bands_with_max_size(shape):
    """Zero bands with max_size > 1 give an empty result (was an IndexError)."""
    S = np.zeros(shape, dtype=np.float32)
    got = fastmel.pcen(S, max_size=3, max_axis=-2)
    assert got.shape == shape and got.dtype == np.float32
    assert fastmel.PCEN(max_size=3)(S).shape == shape


@pytest.mark.parametrize("max_size", [6, 7, 2 ** 31, 2 ** 63, 10 ** 30])
def test_max_size_wider_than_the_bands(max_size):
    """A max filter spanning every band (was a MemoryError/OverflowError for huge
    sizes) equals scipy's with the same size: the maximum over all bands."""
    S = np.abs(np.random.default_rng(0).standard_normal((3, 20)))
    got = fastmel.pcen(S, max_size=max_size)
    # scipy/librosa index max_size bands: run them on a size that covers the
    # reflection period just as well (>= 2 * bands, same result)
    ref = librosa.pcen(S, max_size=6)
    assert_bits_equal(got, fastmel.pcen(S, max_size=6), "as wide as the period")
    np.testing.assert_allclose(got, ref, rtol=1e-12)  # float64: same smoother as librosa
    assert_bits_equal(fastmel.PCEN(max_size=max_size)(S), got, "PCEN vs pcen")


@pytest.mark.parametrize("kw", PARAMS[:4], ids=["defaults", "power0", "bias0", "general"])
def test_float64_blocks_and_odd_band_counts_equal_librosa(kw):
    # The float64 kernel works in blocks of 8 bands (single bands for the rest)
    # and 256 frames: 13 bands, 700 frames and time on axis 0 (rows of stride
    # > 1) cross every boundary; the stream, cut anywhere, gives the same bits.
    rng = np.random.default_rng(5)
    S = (rng.gamma(0.5, 1.0, (13, 700)) * 10.0 ** rng.uniform(-6, 4, (13, 1))).astype(np.float64)
    S[:, 100:140] = 0.0                          # silence: exact zeros
    got = fastmel.pcen(S.T, sr=SR, hop_length=HOP, axis=0, **kw)
    with np.errstate(divide="ignore"):           # librosa's log(0) where bias == 0
        want = librosa.pcen(S, sr=SR, hop_length=HOP, **kw)
    close(got.T, want, RTOL64)
    want = fastmel.pcen(S, sr=SR, hop_length=HOP, **kw)
    assert_bits_equal(np.ascontiguousarray(got.T), want, "axis 0")
    s = fastmel.PCEN(sr=SR, hop_length=HOP, **kw).stream()
    parts = [s.process(S[:, a:b]) for a, b in [(0, 3), (3, 300), (300, 301), (301, 700)]]
    assert_bits_equal(np.concatenate(parts + [s.flush()], axis=-1), want, "stream")
