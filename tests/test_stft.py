"""fastmel.stft against librosa.stft (librosa 0.11)."""
import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

import librosa

import fastmel
from conftest import (
    RTOL_F32,
    assert_close_dtype,
    assert_close_rel,
    complex_of,
    librosa_quiet,
    multichannel,
)

# Each parameter value of the brief appears on at least a couple of cases; the
# grid is a list, not a Cartesian product, to keep the suite fast.
STFT_CASES = [
    dict(n_fft=256),
    dict(n_fft=256, hop_length=100, pad_mode="reflect"),
    dict(n_fft=400, hop_length=160),
    dict(n_fft=400, hop_length=160, center=False),
    dict(n_fft=400, win_length=300),  # default hop = win_length // 4 = 75
    dict(n_fft=512, win_length=400, hop_length=160),
    dict(n_fft=512, win_length=400, hop_length=160, window="hamming", pad_mode="reflect"),
    dict(n_fft=512, win_length=401, hop_length=128, pad_mode="edge"),
    dict(n_fft=512, hop_length=700),  # hop larger than the frame: gaps between frames
    dict(n_fft=512, window=("kaiser", 8.0), pad_mode="symmetric"),
    dict(n_fft=511, win_length=400, hop_length=97),  # odd n_fft, uneven window centring
    dict(n_fft=1000),
    dict(n_fft=1000, hop_length=333, window="blackman", pad_mode="edge"),
    dict(n_fft=1000, hop_length=300, center=False, window="hamming"),
    dict(n_fft=2048),
    dict(n_fft=2048, hop_length=512, pad_mode="symmetric", window="blackman"),
    dict(n_fft=2048, win_length=1500, hop_length=700, window="boxcar", pad_mode="linear_ramp"),
    dict(n_fft=2048, hop_length=300, center=False, window="ones"),
    dict(n_fft=4096, hop_length=1024),
    dict(n_fft=4096, hop_length=1000, pad_mode="linear_ramp", window="ones"),
    dict(n_fft=4096, win_length=4000, hop_length=2048, center=False, window="boxcar"),
]


def _id(case):
    return "-".join(f"{k}={v}" for k, v in case.items())


@pytest.mark.parametrize("case", STFT_CASES, ids=_id)
def test_stft_parity_grid(case, dtype, speech):
    y = speech(16000, dtype)
    ref = librosa.stft(y, **case)
    got = fastmel.stft(y, **case)
    assert got.dtype == complex_of(dtype)
    # float64: 1e-10 (only FFT rounding order differs); float32: 1e-5 (single-precision FFT)
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize("sr", [16000, 22050])
def test_stft_defaults(sr, dtype, speech):
    y = speech(sr, dtype, dur=0.5)
    ref = librosa.stft(y)
    got = fastmel.stft(y)
    assert got.shape == (1025, 1 + len(y) // 512)
    # spec tolerance for the input dtype (float64 1e-10 / float32 1e-5)
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize(
    "n_fft, win_length", [(512, 400), (512, None), (1000, 1000), (2048, 1200)]
)
def test_stft_explicit_window_array(n_fft, win_length, dtype, speech):
    rng = np.random.default_rng(n_fft)
    length = win_length or n_fft
    # An asymmetric window catches flipped or mis-centred windows.
    window = scipy.signal.get_window("hann", length) * (1 + 0.3 * rng.random(length))
    y = speech(16000, dtype)
    kw = dict(n_fft=n_fft, win_length=win_length, hop_length=160, window=window)
    ref = librosa.stft(y, **kw)
    got = fastmel.stft(y, **kw)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "boxcar", "ones", ("kaiser", 8.0)])
def test_stft_windows_float64(window, speech16_f64):
    kw = dict(n_fft=512, win_length=400, hop_length=160, window=window)
    ref = librosa.stft(speech16_f64, **kw)
    got = fastmel.stft(speech16_f64, **kw)
    # float64 path: 1e-10 of max magnitude
    assert_close_dtype(got, ref, "float64 path, FFT rounding only")


@pytest.mark.parametrize("pad_mode", ["constant", "reflect", "edge", "symmetric", "linear_ramp"])
@pytest.mark.parametrize("n_fft, hop_length", [(512, 160), (2048, 512)])
def test_stft_pad_modes(pad_mode, n_fft, hop_length, dtype, speech):
    # Start mid-word so the edge frames are not silent and the padding matters.
    y = speech(16000, dtype, start=0.35, dur=0.4)
    kw = dict(n_fft=n_fft, hop_length=hop_length, pad_mode=pad_mode)
    ref = librosa.stft(y, **kw)
    got = fastmel.stft(y, **kw)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize("shape", [(2,), (3, 2)], ids=["2ch", "3x2ch"])
@pytest.mark.parametrize(
    "case",
    [dict(n_fft=512, win_length=400, hop_length=160), dict(n_fft=2048, pad_mode="reflect"),
     dict(n_fft=1000, hop_length=250, center=False)],
    ids=_id,
)
def test_stft_multichannel(shape, case, dtype, speech):
    y = multichannel(speech, 16000, dtype, shape)
    ref = librosa.stft(y, **case)
    got = fastmel.stft(y, **case)
    assert got.shape == ref.shape and got.shape[: len(shape)] == shape
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")
    # Channels are independent: each slice equals the mono transform exactly
    # enough (same dtype path, same frames).
    mono = fastmel.stft(y[(0,) * len(shape)], **case)
    assert_close_dtype(got[(0,) * len(shape)], mono, "same computation on one channel")


def test_stft_fortran_ordered_multichannel(dtype, speech):
    y = np.asfortranarray(multichannel(speech, 16000, dtype, (2,)))
    assert not y.flags.c_contiguous
    ref = librosa.stft(y, n_fft=512, hop_length=128)
    got = fastmel.stft(y, n_fft=512, hop_length=128)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize(
    "make",
    [
        lambda y: y[::2],
        lambda y: y[::-1],
        lambda y: np.stack([y, -y], axis=1).T[0],  # a row of a transposed array
        lambda y: np.stack([y, -y], axis=1)[:, 1],  # a strided column
    ],
    ids=["step2", "reversed", "transposed_row", "column"],
)
def test_stft_non_contiguous_input(make, dtype, speech):
    y = make(speech(16000, dtype))
    assert not y.flags.c_contiguous or y.strides[0] != y.itemsize
    kw = dict(n_fft=512, win_length=400, hop_length=160)
    ref = librosa.stft(np.ascontiguousarray(y), **kw)
    got = fastmel.stft(y, **kw)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


def test_stft_read_only_input_and_no_mutation(dtype, speech):
    y = speech(16000, dtype)
    y.setflags(write=False)
    before = y.copy()
    got = fastmel.stft(y, n_fft=512, hop_length=160, pad_mode="reflect")
    ref = librosa.stft(y, n_fft=512, hop_length=160, pad_mode="reflect")
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")
    assert np.array_equal(y, before)
    assert got.flags.writeable


def test_stft_does_not_mutate_writeable_input(speech16_f32):
    y = speech16_f32.copy()
    before = y.copy()
    fastmel.stft(y, n_fft=400, hop_length=160, pad_mode="edge")
    assert np.array_equal(y, before)


@pytest.mark.parametrize("pad_mode", ["constant", "reflect", "edge", "symmetric", "linear_ramp"])
@pytest.mark.parametrize("length", [1, 10, 256, 257, 511, 512])
def test_stft_short_signals_centered(length, pad_mode, dtype, speech):
    # librosa warns "n_fft=512 is too large" for length < n_fft but still
    # computes; fastmel must produce the same frames (a warning is optional).
    y = speech(16000, dtype, start=0.4, dur=0.1)[:length]
    kw = dict(n_fft=512, hop_length=128, pad_mode=pad_mode)
    ref = librosa_quiet(librosa.stft, y, **kw)
    got = librosa_quiet(fastmel.stft, y, **kw)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


def test_stft_empty_signal_constant_pad(dtype):
    # librosa 0.11 returns one all-zero frame for an empty signal with
    # constant padding; fastmel mirrors that.
    y = np.zeros(0, dtype=dtype)
    ref = librosa_quiet(librosa.stft, y, n_fft=512)
    got = librosa_quiet(fastmel.stft, y, n_fft=512)
    assert got.shape == ref.shape == (257, 1)
    assert got.dtype == complex_of(dtype)
    assert np.all(got == 0)


@pytest.mark.parametrize("n_fft", [256, 400, 2048])
def test_stft_length_equal_n_fft_uncentered(n_fft, dtype, speech):
    y = speech(16000, dtype)[:n_fft]
    ref = librosa.stft(y, n_fft=n_fft, center=False)
    got = fastmel.stft(y, n_fft=n_fft, center=False)
    assert got.shape == (n_fft // 2 + 1, 1)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize("hop_length", [1, 3])
def test_stft_tiny_hops(hop_length, speech16_f64):
    y = speech16_f64[:2000]
    ref = librosa.stft(y, n_fft=256, hop_length=hop_length)
    got = fastmel.stft(y, n_fft=256, hop_length=hop_length)
    # float64 path: 1e-10 of max magnitude
    assert_close_dtype(got, ref, "float64 path, FFT rounding only")


def test_stft_hop_longer_than_signal(dtype, speech):
    y = speech(16000, dtype)[:1000]
    ref = librosa.stft(y, n_fft=512, hop_length=5000)
    got = fastmel.stft(y, n_fft=512, hop_length=5000)
    assert got.shape == (257, 1)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize("n_fft", [1, 2, 3])
def test_stft_tiny_n_fft_with_explicit_hop(n_fft, speech16_f64):
    y = speech16_f64[:300]
    ref = librosa.stft(y, n_fft=n_fft, hop_length=1)
    got = fastmel.stft(y, n_fft=n_fft, hop_length=1)
    # float64 path: 1e-10 of max magnitude
    assert_close_dtype(got, ref, "float64 path, FFT rounding only")


@pytest.mark.parametrize(
    "in_dtype, out_dtype",
    [(np.float32, np.complex128), (np.float64, np.complex64)],
)
def test_stft_dtype_argument(in_dtype, out_dtype, speech):
    y = speech(16000, in_dtype)
    ref = librosa.stft(y, n_fft=512, hop_length=160, dtype=out_dtype)
    got = fastmel.stft(y, n_fft=512, hop_length=160, dtype=out_dtype)
    assert got.dtype == np.dtype(out_dtype)
    # Either side of the pair is single precision, so the float32 bound applies.
    assert_close_rel(got, ref, RTOL_F32, "one side of the computation is float32")


def test_stft_float16_input_is_converted(speech):
    y16 = speech(16000, np.float32).astype(np.float16)
    ref = librosa.stft(y16, n_fft=512, hop_length=160)
    got = fastmel.stft(y16, n_fft=512, hop_length=160)
    # librosa maps float16 to complex64, so does fastmel ("other real floats are converted").
    assert got.dtype == np.complex64
    # float16 samples are exact in float32, so this is the float32 path: 1e-5
    assert_close_rel(got, ref, RTOL_F32, "float16 converts exactly to the float32 path")


def test_stft_digital_silence_is_exactly_zero(dtype):
    y = np.zeros(4000, dtype=dtype)
    got = fastmel.stft(y, n_fft=512, hop_length=160)
    assert got.shape == librosa.stft(y, n_fft=512, hop_length=160).shape
    assert np.all(got == 0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 3000),
    n_fft=st.sampled_from([16, 64, 100, 256, 400, 512]),
    hop=st.integers(1, 600),
    win_frac=st.sampled_from([1.0, 0.75, 0.5]),
    center=st.booleans(),
    pad_mode=st.sampled_from(["constant", "reflect", "edge", "symmetric", "linear_ramp"]),
    use_f32=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_stft_random_configurations(n, n_fft, hop, win_frac, center, pad_mode, use_f32, seed):
    if not center and n < n_fft:
        n = n_fft + n % 97
    dt = np.float32 if use_f32 else np.float64
    y = np.random.default_rng(seed).standard_normal(n).astype(dt)
    win_length = max(1, int(n_fft * win_frac))
    kw = dict(n_fft=n_fft, hop_length=hop, win_length=win_length, center=center, pad_mode=pad_mode)
    ref = librosa_quiet(librosa.stft, y, **kw)
    got = librosa_quiet(fastmel.stft, y, **kw)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_output_same_bits_as_small_pieces(dtype):
    # Outputs of 2 MiB and more are written with non-temporal stores (a
    # different store path, fastmel_scatter.h); a stream's small chunks take
    # regular stores.  Both must hold the FFT's bits.
    from conftest import assert_bits_equal
    x = np.random.default_rng(7).standard_normal(10 * 16000 + 77).astype(dtype)
    whole = fastmel.stft(x, n_fft=512, hop_length=128)
    assert whole.nbytes >= 2 << 20
    s = fastmel.STFT(n_fft=512, hop_length=128, dtype=dtype).stream()
    parts = [s.process(x[a:a + 30000]) for a in range(0, x.size, 30000)]
    assert all(p.nbytes < 2 << 20 for p in parts)
    assert_bits_equal(np.concatenate(parts + [s.flush()], axis=-1), whole, "stream")
    # two channels: the second channel's rows follow the first's
    both = fastmel.stft(np.stack([x, x[::-1].copy()]), n_fft=512, hop_length=128)
    assert_bits_equal(both[0], whole, "channel 0")
    assert_bits_equal(both[1], fastmel.stft(x[::-1].copy(), n_fft=512, hop_length=128),
                      "channel 1")
