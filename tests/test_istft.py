"""Inverse STFT: ``fastmel.istft`` against ``librosa.istft``, the STFT -> ISTFT round
trip, the ISTFT stream against the offline call (bit for bit, every chunking),
pickling mid-stream, and every error path.

Tolerances are the spec's (SPEC section 2, from conftest), relative to the
reference's largest magnitude: float64 1e-10, float32 1e-5.
"""
import copy
import pickle
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import librosa

import fastmel
from conftest import RTOL_F32, RTOL_F64, assert_bits_equal, assert_close_rel, cut, rtol_for
from fastmel import ParameterError
from fastmel._istft import InverseStream

# float64: the same arithmetic as librosa up to the order of the FFT's and the
# overlap-add's roundings; float32: a single-precision inverse FFT, window and
# sums (librosa multiplies its float32 inverse FFT by a float64 window and adds
# in float64 before rounding), so single-precision rounding grown by log2(n_fft).
REASON = "spec section 2 tolerance for the input's precision"

REAL = {np.complex64: np.float32, np.complex128: np.float64}


def spectra(shape, dtype=np.complex128, seed=0):
    """Random complex values: no signal's STFT (DC and Nyquist bins with imaginary
    parts, frames that disagree where they overlap)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


def audio(n, lead=(), dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 0.3 * np.sin(2 * np.pi * 440 * t / 16000) + 0.05 * rng.standard_normal(lead + (n,))
    return y.astype(dtype)


# --- 1. parity with librosa.istft -----------------------------------------------------------

#: (n_fft, hop_length, win_length, window, explicit n_fft)
CONFIGS = {
    "512-128-hann": (512, 128, None, "hann", False),
    "512-160-win400-hamming": (512, 160, 400, "hamming", False),
    "odd-511-100-blackman": (511, 100, None, "blackman", True),
    "400-100-kaiser": (400, 100, None, ("kaiser", 8.0), False),
    "256-64-triang-array": (256, 64, 200, np.bartlett(201)[:-1], False),
    "256-256-boxcar-no-overlap": (256, 256, None, "boxcar", False),
    "64-100-hop-beyond-frame": (64, 100, None, "hann", False),
    "64-40-hop-beyond-half-frame": (64, 40, None, "hann", False),
    "16-1-hop-one": (16, 1, None, "hann", False),
    "2048-default-hop": (2048, None, None, "hann", False),
}


def _kwargs(config, **extra):
    n_fft, hop, win, window, explicit = CONFIGS[config]
    kw = dict(hop_length=hop, win_length=win, window=window, **extra)
    if explicit:
        kw["n_fft"] = n_fft
    return n_fft, kw


@pytest.mark.parametrize("center", [True, False], ids=["center", "uncentred"])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize("config", list(CONFIGS))
def test_random_spectra_equal_librosa(config, dtype, center):
    n_fft, kw = _kwargs(config, center=center)
    S = spectra((n_fft // 2 + 1, 23), dtype, seed=len(config))
    got = fastmel.istft(S, **kw)
    ref = librosa.istft(S, **kw)
    assert got.dtype == REAL[dtype]
    assert_close_rel(got, ref, rtol_for(dtype), REASON)


@pytest.mark.parametrize("lead", [(2,), (2, 3)], ids=["stereo", "batch"])
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=["c64", "c128"])
def test_multichannel_equals_librosa_and_each_channel(lead, dtype):
    S = spectra(lead + (129, 17), dtype, seed=3)
    got = fastmel.istft(S, hop_length=64)
    assert_close_rel(got, librosa.istft(S, hop_length=64), rtol_for(dtype), REASON)
    for idx in np.ndindex(*lead):
        # the same kernel per channel: identical bits
        assert_bits_equal(got[idx], fastmel.istft(S[idx], hop_length=64), f"channel {idx}")


@pytest.mark.parametrize("center", [True, False], ids=["center", "uncentred"])
@pytest.mark.parametrize("length", [1, 100, 1023, 1024, 1500, 5000])
def test_length_equals_librosa(length, center):
    S = spectra((257, 7), seed=5)
    got = fastmel.istft(S, hop_length=128, center=center, length=length)
    ref = librosa.istft(S, hop_length=128, center=center, length=length)
    assert got.shape == (length,)
    assert_close_rel(got, ref, RTOL_F64, REASON)
    # the same bits as without length where both have samples (the same sums);
    # beyond, with center, the right-hand padding up to the last frame's end, then zeros
    full = fastmel.istft(S, hop_length=128, center=center)
    m = min(length, full.shape[-1])
    assert_bits_equal(got[:m], full[:m], "length-trimmed")
    end = 128 * 6 + 512 - (256 if center else 0)
    assert np.all(got[m:end] != 0) and not np.any(got[end:])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_dtype_is_the_output_type(dtype):
    S = spectra((257, 9), np.complex64, seed=6)
    got = fastmel.istft(S, hop_length=128, dtype=dtype)
    assert_bits_equal(got, fastmel.istft(S, hop_length=128).astype(dtype), "cast at the end")
    if dtype != np.float16:      # librosa's overlap-add (numba) has no float16
        ref = librosa.istft(S, hop_length=128, dtype=dtype)
        assert_close_rel(got, ref, RTOL_F32, "complex64 input: the float32 path, then the "
                                             "output type")


def test_stft_of_speech_equals_librosa(speech16_f32, speech16_f64):
    for y in (speech16_f32, speech16_f64):
        D = librosa.stft(y, n_fft=512, hop_length=160, win_length=400)
        got = fastmel.istft(D, hop_length=160, win_length=400, length=len(y))
        ref = librosa.istft(D, hop_length=160, win_length=400, length=len(y))
        assert_close_rel(got, ref, rtol_for(D.dtype), REASON)


def test_out_is_written_and_returned():
    S = spectra((2, 257, 9), np.complex64, seed=7)
    want = fastmel.istft(S, hop_length=128)
    for out in (np.full(want.shape, np.nan, np.float32),            # written in place
                np.full((2, want.shape[-1] * 2), np.nan, np.float32)[:, ::2],   # strided
                np.full(want.shape, np.nan, np.float64)):           # converted
        got = fastmel.istft(S, hop_length=128, out=out)
        assert got is out
        assert_bits_equal(out, want.astype(out.dtype), "out")
    ref = librosa.istft(S, hop_length=128, out=np.empty(want.shape, np.float32))
    assert_close_rel(want, ref, RTOL_F32, REASON)


def test_frames_beyond_length_are_not_read():
    S = spectra((257, 40), seed=8)
    poisoned = S.copy()
    # frames starting after the last kept padded sample cannot reach it
    poisoned[:, 12:] = 1e300
    assert_bits_equal(fastmel.istft(poisoned, hop_length=128, length=1000),
                      fastmel.istft(S, hop_length=128, length=1000), "frames beyond length")


def test_no_frames():
    S = np.zeros((2, 257, 0), np.complex64)
    got = fastmel.istft(S)
    assert got.shape == (2, 0) and got.dtype == np.float32   # librosa: negative dimensions
    got = fastmel.istft(S, length=10)
    assert_bits_equal(got, librosa.istft(S, length=10), "zeros of length")
    assert fastmel.istft(np.zeros((0, 257, 4), np.complex128)).shape == (0, 3 * 128)


@pytest.mark.parametrize("layout", ["fortran", "strided", "reversed-frames", "big-endian",
                                    "long-double"])
def test_any_layout_gives_its_contiguous_copys_result(layout):
    S = spectra((2, 129, 11), np.complex128, seed=9)
    x = {"fortran": lambda: np.asfortranarray(S),
         "strided": lambda: np.repeat(S, 2, axis=-1)[..., ::2],
         "reversed-frames": lambda: S[..., ::-1].copy()[..., ::-1],
         "big-endian": lambda: S.astype(">c16"),
         "long-double": lambda: S.astype(np.clongdouble)}[layout]()
    assert_bits_equal(fastmel.istft(x, hop_length=64), fastmel.istft(S, hop_length=64), layout)


def test_threads_share_an_istft():
    inv = fastmel.ISTFT(n_fft=512, hop_length=128)
    inputs = [spectra((257, 50 + i), np.complex64, seed=i) for i in range(6)]
    want = [inv(S) for S in inputs]
    got = [None] * len(inputs)

    def work(i):
        for _ in range(5):
            got[i] = inv(inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, w in zip(got, want):
        assert_bits_equal(g, w, "from a thread")


# --- 2. STFT -> ISTFT round trip ------------------------------------------------------------

@pytest.mark.parametrize("window,n_fft,hop,win", [
    ("hann", 512, 128, None), ("hann", 512, 160, 400), ("hamming", 400, 100, None),
    ("blackman", 1024, 256, None), (("kaiser", 6.0), 511, 100, None), ("boxcar", 256, 256, None),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
def test_round_trip_recovers_the_signal(dtype, window, n_fft, hop, win):
    y = audio(8000, (2,), dtype)
    kw = dict(n_fft=n_fft, hop_length=hop, win_length=win, window=window)
    D = fastmel.stft(y, **kw)
    back = fastmel.istft(D, length=y.shape[-1], **kw)
    assert back.dtype == dtype
    # y -> STFT -> ISTFT is the identity in exact arithmetic wherever the windows'
    # squares sum above tiny (every sample, with centre padding): only the two
    # transforms' rounding remains
    assert_close_rel(back, y, RTOL_F32 if dtype == np.float32 else RTOL_F64,
                     "exact reconstruction up to the precision's rounding")


def test_uncentred_round_trip_recovers_the_covered_samples():
    y = audio(5000)
    D = fastmel.stft(y, n_fft=512, hop_length=128, window="hamming", center=False)
    back = fastmel.istft(D, hop_length=128, window="hamming", center=False)
    # hamming is nowhere zero: every sample a frame covers comes back
    assert back.shape == (512 + 128 * (D.shape[-1] - 1),)
    assert_close_rel(back, y[:back.shape[-1]], RTOL_F64, "float64 reconstruction")


def test_round_trip_through_the_streams(speech16_f32):
    kw = dict(n_fft=512, hop_length=128)
    analysis, synthesis = fastmel.STFT(**kw).stream(), fastmel.ISTFT(**kw).stream()
    y = speech16_f32
    parts = []
    for a, b in cut(len(y), [0, 1, 160, 7, 512, 333]):
        parts.append(synthesis.process(analysis.process(y[a:b])))
    parts.append(synthesis.process(analysis.flush()))
    parts.append(synthesis.flush())
    got = np.concatenate(parts)
    assert_bits_equal(got, fastmel.istft(fastmel.stft(y, **kw), hop_length=128),
                      "stream round trip")
    assert got.shape == y.shape      # n divisible by the hop: no sample lost or added
    assert_close_rel(got, y, RTOL_F32, "float32 reconstruction")


# --- 3. the stream equals the offline call, bit for bit ------------------------------------

STREAMS = {
    "512-128": dict(n_fft=512, hop_length=128),
    "512-128-f64": dict(n_fft=512, hop_length=128, dtype=np.float64),
    "400-160-win-hamming-uncentred": dict(n_fft=400, hop_length=160, win_length=320,
                                          window="hamming", center=False),
    "odd-63-20": dict(n_fft=63, hop_length=20),
    # the end trim may drop samples the last frame completes: held back a frame
    "64-40-held": dict(n_fft=64, hop_length=40),
    # gaps of zeros between frames
    "32-50-gaps": dict(n_fft=32, hop_length=50),
    "32-50-gaps-uncentred": dict(n_fft=32, hop_length=50, center=False),
    "8-1": dict(n_fft=8, hop_length=1, window="triang"),
}


def stream_all(stream, S, sizes):
    outs = [stream.process(S[..., a:b]) for a, b in cut(S.shape[-1], sizes)]
    outs.append(stream.flush())
    return outs


@pytest.mark.parametrize("name", list(STREAMS))
@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_random_chunkings_equal_offline(name, data):
    inv = fastmel.ISTFT(**STREAMS[name])
    lead = data.draw(st.sampled_from([(), (2,), (2, 1)]), label="lead")
    n = data.draw(st.sampled_from([0, 1, 2, 3, 7, 40, 130]), label="frames")
    dtype = data.draw(st.sampled_from([np.complex64, np.complex128]), label="dtype")
    S = spectra(lead + (inv.n_fft // 2 + 1, n), dtype, seed=n)
    if data.draw(st.booleans(), label="fortran"):      # librosa's STFT layout
        S = np.asfortranarray(S)
    sizes = data.draw(st.lists(st.one_of(st.sampled_from([0, 1, 2, 16, 17]),
                                         st.integers(0, 60)), min_size=1, max_size=8),
                      label="sizes")
    s = inv.stream()
    outs = stream_all(s, S, sizes)
    want = inv(S)
    for o in outs:
        assert o.dtype == inv.dtype and o.shape[:-1] == lead
    assert_bits_equal(np.concatenate(outs, axis=-1), want, f"{name}: chunks of {sizes}")
    # the stream is at rest again and gives the same once more
    assert s.lead is None and s.samples_in == 0
    assert_bits_equal(np.concatenate(stream_all(s, S, [1]), axis=-1), want, "after a flush")


@pytest.mark.parametrize("name", list(STREAMS))
def test_each_frame_returns_what_it_completes(name):
    """One frame per call: after a steady start each call returns hop samples
    (with a held-back stream, one frame later); flush returns the rest."""
    inv = fastmel.ISTFT(**STREAMS[name])
    s = inv.stream()
    S = spectra((inv.n_fft // 2 + 1, 30), seed=2)
    sizes = [s.process(S[:, t:t + 1]).shape[-1] for t in range(30)]
    hop, pad = inv.hop_length, inv.n_fft // 2 if inv.center else 0
    kept = min(hop, inv.n_fft - pad)
    assert sizes[5:] == [hop] * 25
    assert sum(sizes) == max(0, 29 * hop + kept - pad)
    assert s.latency == (1 if kept < hop else 0)
    assert s.flush().shape[-1] == inv(S).shape[-1] - sum(sizes)


def test_istft_stream_attributes():
    inv = fastmel.ISTFT(n_fft=256, hop_length=64)
    s = inv.stream()
    assert type(s) is InverseStream and isinstance(s, fastmel.Stream)
    assert s.extractor is inv and repr(s) == f"{inv!r}.stream()"
    assert s.dtype == np.complex64 and s.lead is None and s.latency == 0
    out = s.flush()
    assert out.shape == (0,) and out.dtype == np.float32
    s.process(spectra((2, 129, 3), np.complex128))
    assert s.lead == (2, 129) and s.samples_in == 3 and s.dtype == np.complex64
    assert "after 3 frames of leading shape (2, 129)" in repr(s)   # samples_in counts frames


# --- 4. pickling mid-stream --------------------------------------------------------------

@pytest.mark.parametrize("name", ["512-128", "64-40-held", "32-50-gaps", "8-1"])
@pytest.mark.parametrize("after", [0, 1, 2, 5, 60])
def test_pickle_mid_stream_resumes_bit_for_bit(name, after):
    inv = fastmel.ISTFT(**STREAMS[name])
    S = spectra((2, inv.n_fft // 2 + 1, 90), np.complex64, seed=after)
    s = inv.stream()
    head = [s.process(S[..., :after])]
    for cp in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
        assert (cp.lead, cp.samples_in, repr(cp)) == (s.lead, s.samples_in, repr(s))
        got = head + stream_all(cp, S[..., after:], [3, 1, 0, 11])
        assert_bits_equal(np.concatenate(got, axis=-1), inv(S), f"resumed after {after} frames")


def _nan_at(a, i, j):
    a = a.copy()
    a[i, j] = np.nan
    return a


@pytest.mark.parametrize("case", ["acc-nan", "acc-shape", "acc-dtype", "acc-huge", "acc-list",
                                  "extra-field", "n_in-not-fitting", "n_in-beyond",
                                  "position-beyond", "lead-bins", "dtype-real"])
def test_tampered_state_is_refused(case):
    inv = fastmel.ISTFT(n_fft=64, hop_length=2 ** 20 if case == "position-beyond" else 16)
    s = inv.stream()
    s.process(spectra((33, 20), np.complex64, seed=1))
    maker, (lead, dtype, n_in, engine) = s.__reduce__()[1]
    acc = engine["acc"]
    bad = {
        "acc-nan": lambda: (lead, dtype, n_in, dict(acc=_nan_at(acc, 0, 3))),
        "acc-shape": lambda: (lead, dtype, n_in, dict(acc=acc[:, 1:])),
        "acc-dtype": lambda: (lead, dtype, n_in, dict(acc=acc.astype(np.float64))),
        # sums no frames within the stream's bound add up to: later outputs could overflow
        "acc-huge": lambda: (lead, dtype, n_in, dict(acc=acc * np.float32(1e37))),
        "acc-list": lambda: (lead, dtype, n_in, dict(acc=acc.tolist())),
        "extra-field": lambda: (lead, dtype, n_in, dict(acc=acc, env=acc[0])),
        # the frame count fixes how many sums are owed
        "n_in-not-fitting": lambda: (lead, dtype, 0, engine),
        "n_in-beyond": lambda: (lead, dtype, 2 ** 50 + 1, engine),
        # frames times the hop pass the positions a stream can count
        "position-beyond": lambda: (lead, dtype, 2 ** 50, engine),
        "lead-bins": lambda: ((32,), dtype, n_in, engine),
        "dtype-real": lambda: (lead, "<f4", n_in, engine),
    }[case]()
    # the lead's bins are the engine's to check, as for a first chunk
    with pytest.raises(ValueError, match="takes frames of 33 bins" if case == "lead-bins"
                       else "restored stream state"):
        s._set_state(bad)
    # a refused state leaves the stream new
    assert s.lead is None and s.samples_in == 0


def test_restored_sums_at_the_bound_are_accepted():
    """The check on restored sums is no stricter than real streams: the loudest
    frames the stream accepts resume."""
    inv = fastmel.ISTFT(n_fft=64, hop_length=16)
    S = np.full((33, 12), 0.999 * inv.kernel.max_value * (1 + 1j), np.complex64)
    S.imag[::2] *= -1
    s = inv.stream()
    s.process(S[:, :7])
    resumed = pickle.loads(pickle.dumps(s))
    want = np.concatenate([s.process(S[:, 7:]), s.flush()])
    assert np.all(np.isfinite(want))
    assert_bits_equal(np.concatenate([resumed.process(S[:, 7:]), resumed.flush()]), want,
                      "resumed at the bound")


# --- 5. errors -----------------------------------------------------------------------------

S8 = spectra((257, 8), np.complex64)


@pytest.mark.parametrize("x,match", [
    (np.ones((257, 8), np.float32), "must be a complex spectrum.*real"),
    (np.ones((257, 8), np.int16), "must be a complex spectrum.*int16"),
    (np.ones((257, 8), bool), "must be a complex spectrum"),
    ([[1.0, 2.0]], "must be a complex spectrum"),
])
def test_non_complex_input_is_a_type_error(x, match):
    with pytest.raises(TypeError, match=match):
        fastmel.istft(x)
    with pytest.raises(TypeError, match=match):
        fastmel.ISTFT(n_fft=512)(x)


@pytest.mark.parametrize("kw,match", [
    (dict(x=np.ones(257, np.complex64)), r"shape \(\.\.\., 1 \+ n_fft // 2, n_frames\)"),
    (dict(x=np.ones((1, 5), np.complex64)), r"1 frequency bins.*= 0; pass n_fft"),
    (dict(n_fft=1024), r"257 frequency bins.*n_fft=1024 has 513"),
    (dict(n_fft=0), "n_fft must be a positive integer"),
    (dict(n_fft=2 ** 25), "n_fft must be <="),
    (dict(n_fft=512.0), "n_fft must be a positive integer"),
    (dict(hop_length=0), "hop_length must be a positive integer"),
    (dict(hop_length=2 ** 49), "hop_length must be <="),
    (dict(win_length=600), "win_length=600 must be <= n_fft=512"),
    (dict(win_length=3), "hop_length=None defaults to win_length // 4"),
    (dict(window="nope"), "window='nope' is not a known window"),
    (dict(window=np.ones(100)), "window has length 100, expected win_length=512"),
    (dict(window=np.full(512, 1e20)), "too large for float32 synthesis"),
    (dict(length=0), "length must be a positive integer, got 0"),
    (dict(length=-5), "length must be a positive integer"),
    (dict(length=10.5), "length must be a positive integer"),
    (dict(out=np.empty(100, np.float32)), r"out has shape \(100,\), but the output has shape"),
    (dict(out=np.empty(896, np.float64), dtype=np.float32), "differs from out's dtype"),
    (dict(x=np.where(np.arange(8) == 3, np.nan, S8)), "non-finite values"),
    (dict(x=np.where(np.arange(8) == 3, 1j * np.inf, S8)), "non-finite values"),
    (dict(x=np.full((257, 8), 1e37, np.complex64)), "up to 1e\\+37 in magnitude.*complex128"),
    (dict(x=spectra((257, 8)) * 1e300, dtype=np.float32),
     "overflows dtype=float32"),
])
def test_parameter_errors(kw, match):
    kw = dict(kw)
    x = kw.pop("x", S8)
    with pytest.raises(ParameterError, match=match):
        fastmel.istft(x, **kw)


@pytest.mark.parametrize("x", [np.ones(129, np.complex64), np.complex64(1)], ids=["1-D", "0-D"])
def test_spectra_need_bins_and_frames(x):
    for call in (fastmel.istft, fastmel.ISTFT(n_fft=256)):
        with pytest.raises(ParameterError, match=r"shape \(\.\.\., 1 \+ n_fft // 2, n_frames\)"):
            call(x)


@pytest.mark.parametrize("kw,match", [
    (dict(dtype=np.complex64), "not a real floating type"),
    (dict(dtype=np.int32), "not a real floating type"),
    (dict(dtype="nonsense"), "not a numpy dtype"),
    (dict(out=np.empty(896, np.int32)), "out must be a real floating array"),
    (dict(out=[0.0] * 896), "out must be a numpy array"),
])
def test_type_errors(kw, match):
    with pytest.raises(TypeError, match=match):
        fastmel.istft(S8, **kw)


def test_read_only_out_is_refused():
    out = np.empty(896, np.float32)
    out.flags.writeable = False
    with pytest.raises(ParameterError, match="out is read-only"):
        fastmel.istft(S8, out=out)


def test_istft_settings_are_read_only_and_rebuild():
    inv = fastmel.ISTFT(n_fft=400, hop_length=None, win_length=320, window="hamming",
                        center=False, dtype=np.complex128)
    assert (inv.n_fft, inv.hop_length, inv.win_length, inv.window, inv.center, inv.dtype) == (
        400, 80, 320, "hamming", False, np.float64)
    assert repr(inv) == ("ISTFT(n_fft=400, hop_length=80, win_length=320, window='hamming', "
                         "center=False, dtype='float64')")
    again = eval(repr(inv), {"ISTFT": fastmel.ISTFT})
    S = spectra((201, 9))
    assert_bits_equal(again(S), inv(S), "rebuilt from its repr")
    assert_bits_equal(pickle.loads(pickle.dumps(inv))(S), inv(S), "unpickled")
    for name in ("n_fft", "hop_length", "win_length", "window", "center", "dtype"):
        with pytest.raises(AttributeError, match="read-only"):
            setattr(inv, name, getattr(inv, name))
    with pytest.raises(ParameterError, match="dtype must be float32 or float64"):
        fastmel.ISTFT(dtype=np.int16)


def test_istft_object_converts_to_its_precision():
    inv = fastmel.ISTFT(n_fft=256, hop_length=64)
    S = spectra((129, 10), np.complex128)
    assert_bits_equal(inv(S), inv(S.astype(np.complex64)), "complex128 into a float32 ISTFT")
    assert_bits_equal(inv(S, length=300), fastmel.istft(S.astype(np.complex64), hop_length=64,
                                                        length=300), "the function's result")


@pytest.mark.parametrize("bad,error,match", [
    (np.ones((129, 3), np.float32), TypeError, "must be a complex spectrum"),
    (spectra((100, 3), np.complex64), ParameterError, "takes frames of 129 bins|leading shape"),
    (spectra((3,), np.complex64), ParameterError, "takes frames of 129 bins|leading shape"),
    (spectra((129, 3), np.complex64) * np.float32(1e37), ParameterError, "in magnitude"),
    (np.where(np.arange(3) == 1, np.nan, spectra((129, 3), np.complex64)), ParameterError,
     "non-finite"),
])
@pytest.mark.parametrize("fed", [False, True], ids=["first", "later"])
def test_stream_refuses_a_chunk_and_stays_as_it_was(bad, error, match, fed):
    inv = fastmel.ISTFT(n_fft=256, hop_length=64)
    S = spectra((129, 20), np.complex64, seed=4)
    tried, ref = inv.stream(), inv.stream()
    if fed:
        tried.process(S[:, :5])
        ref.process(S[:, :5])
    for _ in range(2):
        with pytest.raises(error, match=match):
            tried.process(bad)
    assert (tried.lead, tried.samples_in) == (ref.lead, ref.samples_in)
    assert_bits_equal(np.concatenate(stream_all(tried, S[:, 5:], [4])),
                      np.concatenate(stream_all(ref, S[:, 5:], [4])), "after the refusal")


def test_stream_refuses_another_leading_shape():
    s = fastmel.ISTFT(n_fft=256, hop_length=64).stream()
    s.process(spectra((2, 129, 1), np.complex64))
    with pytest.raises(ParameterError, match="leading shape"):
        s.process(spectra((3, 129, 1), np.complex64))


def test_a_chain_refuses_an_istft_stream():
    inv = fastmel.ISTFT(n_fft=256, hop_length=64)
    for stages in ([inv.stream()], [inv.stream(), fastmel.Bandpass(16000, 100, 7000)],
                   [fastmel.Bandpass(16000, 100, 7000), inv.stream()]):
        with pytest.raises(ParameterError, match="complex spectra.*cannot be in a Chain"):
            fastmel.Chain(stages)
