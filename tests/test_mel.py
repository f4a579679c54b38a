"""fastmel.filters.mel and fastmel.feature.melspectrogram against librosa 0.11."""
import warnings

import numpy as np
import pytest

import librosa

import fastmel
from conftest import (
    assert_bits_equal,
    assert_close_dtype,
    librosa_quiet,
    multichannel,
)

MEL_CASES = [
    dict(sr=8000, n_fft=256, n_mels=10),
    dict(sr=8000, n_fft=512, n_mels=40, fmin=100.0, fmax=3800.0, htk=True),
    dict(sr=16000, n_fft=400, n_mels=80),
    dict(sr=16000, n_fft=400, n_mels=40, fmin=20.0, fmax=7600.0, norm=None),
    dict(sr=16000, n_fft=512, n_mels=80, htk=True, norm=None),
    dict(sr=16000, n_fft=512, n_mels=128),  # librosa warns: some filters are empty
    dict(sr=22050, n_fft=1000, n_mels=40, fmin=300.0, fmax=8000.0),
    dict(sr=22050, n_fft=2048),
    dict(sr=22050, n_fft=2048, n_mels=128, htk=True, fmax=11025.0),
    dict(sr=44100, n_fft=2048, n_mels=80, fmin=30.0, norm=None),
    dict(sr=44100, n_fft=4096, n_mels=128, fmax=16000.0, htk=True),
    dict(sr=48000, n_fft=1024, n_mels=10, fmin=50.0, fmax=20000.0),
    dict(sr=48000, n_fft=2048, n_mels=128, fmin=0.0, fmax=24000.0, norm=None, htk=True),
    dict(sr=16000, n_fft=512, n_mels=40, fmax=9000.0),  # fmax above Nyquist: librosa allows it
]


def _id(case):
    return "-".join(f"{k}={v}" for k, v in case.items())


@pytest.mark.parametrize("case", MEL_CASES, ids=_id)
def test_mel_filters_parity(case, dtype):
    ref = librosa_quiet(librosa.filters.mel, dtype=dtype, **case)
    got = librosa_quiet(fastmel.filters.mel, dtype=dtype, **case)
    assert got.shape == (case.get("n_mels", 128), case["n_fft"] // 2 + 1)
    # spec tolerance for the requested dtype (librosa builds in float64 and casts)
    assert_close_dtype(got, ref, "spec section 2 tolerance for the requested dtype")


def test_mel_filters_default_dtype_is_float32():
    got = fastmel.filters.mel(sr=22050, n_fft=2048)
    ref = librosa.filters.mel(sr=22050, n_fft=2048)
    assert got.dtype == np.float32
    # float32 output: 1e-5 of the max weight
    assert_close_dtype(got, ref, "float32 output")


@pytest.mark.parametrize("norm", [1.0, 2.0, np.inf])
def test_mel_filters_numeric_norm(norm):
    # librosa.filters.mel accepts a p-norm for `norm` (util.normalize); the
    # contract is "equals librosa.filters.mel".
    kw = dict(sr=16000, n_fft=512, n_mels=40, norm=norm, dtype=np.float64)
    ref = librosa.filters.mel(**kw)
    got = fastmel.filters.mel(**kw)
    # float64 output: 1e-10 of the max weight
    assert_close_dtype(got, ref, "float64 output")


@pytest.mark.parametrize("fmax", [None, 8000.0])
def test_mel_filters_fmax_none_means_nyquist(fmax):
    a = fastmel.filters.mel(sr=16000, n_fft=512, n_mels=40, fmax=fmax, dtype=np.float64)
    b = fastmel.filters.mel(sr=16000, n_fft=512, n_mels=40, fmax=8000.0, dtype=np.float64)
    assert np.array_equal(a, b)


MELSPEC_CASES = [
    dict(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80),  # workload W1
    dict(sr=22050),  # workload W2: librosa defaults
    dict(sr=16000, n_fft=400, hop_length=160, n_mels=40, power=1.0),
    dict(sr=16000, n_fft=512, hop_length=128, n_mels=40, fmin=20.0, fmax=7600.0, htk=True),
    dict(sr=16000, n_fft=1000, hop_length=250, n_mels=10, norm=None, window="hamming"),
    dict(sr=22050, n_fft=1024, hop_length=256, n_mels=80, center=False),
    dict(sr=22050, n_fft=2048, hop_length=700, n_mels=128, pad_mode="reflect", power=1.0),
    dict(sr=22050, n_fft=4096, hop_length=1024, n_mels=128, fmin=50.0, fmax=10000.0, norm=None),
    dict(sr=16000, n_fft=512, hop_length=160, n_mels=40, power=3.0, pad_mode="edge"),
]


@pytest.mark.parametrize("case", MELSPEC_CASES, ids=_id)
def test_melspectrogram_parity_from_y(case, dtype, speech):
    y = speech(case["sr"], dtype)
    ref = librosa_quiet(librosa.feature.melspectrogram, y=y, **case)
    got = librosa_quiet(fastmel.feature.melspectrogram, y=y, **case)
    assert got.dtype == np.dtype(dtype)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


@pytest.mark.parametrize("power", [1.0, 2.0])
@pytest.mark.parametrize(
    "n_fft, mel_kw",
    [(512, dict(n_mels=40)), (2048, dict(n_mels=128, fmax=8000.0, htk=True)), (400, dict(n_mels=80, norm=None))],
)
def test_melspectrogram_parity_from_S(power, n_fft, mel_kw, dtype, speech):
    y = speech(16000, dtype)
    S = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=160)) ** power
    assert S.dtype == np.dtype(dtype)
    # n_fft is not passed: librosa infers it from S.shape[-2] when S is given
    # (and ignores `power`), so fastmel must do the same.
    ref = librosa_quiet(librosa.feature.melspectrogram, S=S, sr=16000, power=power, **mel_kw)
    got = librosa_quiet(fastmel.feature.melspectrogram, S=S, sr=16000, power=power, **mel_kw)
    assert got.shape == (mel_kw["n_mels"], S.shape[-1])
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


def test_melspectrogram_S_overrides_n_fft_argument(speech16_f64):
    S = np.abs(librosa.stft(speech16_f64, n_fft=512, hop_length=160)) ** 2
    ref = librosa.feature.melspectrogram(S=S, sr=16000, n_fft=4096, n_mels=40)
    got = fastmel.feature.melspectrogram(S=S, sr=16000, n_fft=4096, n_mels=40)
    # float64: 1e-10 of max magnitude
    assert_close_dtype(got, ref, "float64 path")


def test_melspectrogram_default_sr(speech22_f32):
    ref = librosa.feature.melspectrogram(y=speech22_f32)
    got = fastmel.feature.melspectrogram(y=speech22_f32)
    # float32: 1e-5 of max magnitude
    assert_close_dtype(got, ref, "float32 path")


@pytest.mark.parametrize("shape", [(2,), (3, 2)], ids=["2ch", "3x2ch"])
@pytest.mark.parametrize(
    "case",
    [dict(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80), dict(sr=22050, power=1.0)],
    ids=_id,
)
def test_melspectrogram_multichannel(shape, case, dtype, speech):
    # No dB step here, so librosa 0.11's multichannel output is the reference.
    y = multichannel(speech, case["sr"], dtype, shape, quiet_factor=0.01)
    ref = librosa.feature.melspectrogram(y=y, **case)
    got = fastmel.feature.melspectrogram(y=y, **case)
    assert got.shape[: len(shape)] == shape
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


def test_melspectrogram_multichannel_S(dtype, speech):
    y = multichannel(speech, 16000, dtype, (3, 2))
    S = np.abs(librosa.stft(y, n_fft=512, hop_length=160)) ** 2
    ref = librosa.feature.melspectrogram(S=S, sr=16000, n_mels=40)
    got = fastmel.feature.melspectrogram(S=S, sr=16000, n_mels=40)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


def test_melspectrogram_alias(speech16_f32):
    kw = dict(y=speech16_f32, sr=16000, n_fft=512, hop_length=160, n_mels=40)
    assert np.array_equal(fastmel.melspectrogram(**kw), fastmel.feature.melspectrogram(**kw))


def test_melspectrogram_read_only_non_contiguous(dtype, speech):
    y = speech(16000, dtype, dur=2.0)[::2]
    y.setflags(write=False)
    ref = librosa.feature.melspectrogram(y=np.ascontiguousarray(y), sr=8000, n_fft=256, hop_length=80, n_mels=40)
    got = fastmel.feature.melspectrogram(y=y, sr=8000, n_fft=256, hop_length=80, n_mels=40)
    # spec tolerance for the input dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the input dtype")


def test_melspectrogram_silence_is_zero(dtype):
    y = np.zeros(8000, dtype=dtype)
    got = fastmel.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=160, n_mels=40)
    assert got.shape == (40, 51)
    assert got.dtype == np.dtype(dtype)
    assert np.all(got == 0)


# Filters built a block of rows at a time, each block only over the bins its
# filters can cover (except p-norms), must still be librosa's, zero signs included.
BLOCKED_CASES = [
    dict(sr=22050, n_fft=2 ** 14, n_mels=256),
    dict(sr=44100, n_fft=2 ** 15 + 1, n_mels=1000, htk=True, norm=None),
    dict(sr=16000, n_fft=2 ** 14, n_mels=300, fmin=0.0, fmax=1000.0, norm=np.inf),
    dict(sr=16000, n_fft=2 ** 14, n_mels=200, fmin=50.0, fmax=16000.0, norm=2.0),
    dict(sr=8000, n_fft=256, n_mels=1000, norm=1.0),  # more mels than bins
    dict(sr=48000, n_fft=4096, n_mels=2 ** 12, htk=True),
]


@pytest.mark.parametrize("case", BLOCKED_CASES, ids=_id)
def test_mel_filters_bit_equal_to_librosa_when_built_in_blocks(case, dtype):
    ref = librosa_quiet(librosa.filters.mel, dtype=dtype, **case)
    got = librosa_quiet(fastmel.filters.mel, dtype=dtype, **case)
    assert got.dtype == ref.dtype and got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("case", BLOCKED_CASES + MEL_CASES[:4], ids=_id)
def test_packed_filters_equal_the_packed_dense_matrix(case):
    """The extractors' filters, built block by block without the dense matrix,
    pack exactly as the dense matrix does in one block."""
    from fastmel._spectral import pack_mel_rows
    dense = librosa_quiet(fastmel.filters.mel, **case)
    params = fastmel.filters.mel_params(**{k: v for k, v in case.items() if k != "n_fft"})
    got = librosa_quiet(fastmel.filters.mel_rows, case["n_fft"], params)
    ref = pack_mel_rows([(0, 0, dense)])
    for g, r in zip(got, ref):
        assert g.dtype == r.dtype and g.tobytes() == r.tobytes()


def test_extractor_whose_mel_filters_have_no_bins():
    # n_fft=1 has a single (DC) bin; with fmin above it the one filter is empty
    # (librosa warns the same).  The packed filters must handle a block without
    # columns: the result is the all-zero projection, not an IndexError.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fastmel.filters.mel(sr=124831.6, n_fft=1, n_mels=1, fmin=20.0, htk=True, norm=None)
        m = fastmel.MelSpectrogram(sr=124831.6, n_fft=1, hop_length=1, n_mels=1, fmin=20.0,
                                   htk=True, norm=None, window="hann")
        y = np.array([0.1, -0.2, 0.3], np.float32)
        got = m(y)
        want = librosa.feature.melspectrogram(y=y, sr=124831.6, n_fft=1, hop_length=1, n_mels=1,
                                              fmin=20.0, htk=True, norm=None)
    assert not ref.any()
    assert got.shape == want.shape and not got.any() and not want.any()


@pytest.mark.parametrize("n_frames", [1, 2, 7, 8, 9, 15, 16, 17, 33])
@pytest.mark.parametrize("cfg", [dict(sr=16000, n_fft=512, win_length=400, hop_length=160,
                                      n_mels=80),
                                 dict(sr=22050, n_fft=2048, hop_length=512, n_mels=128,
                                      htk=True, norm=None)], ids=["W1", "W2htk"])
def test_float32_mel_is_the_ascending_sum_on_every_path(n_frames, cfg):
    """The float32 kernel sums each filter in one order (eight partial sums
    over bins i, i + 8, ... of its span, folded pairwise), one rounding per
    operation, whether frames go 8 to a SIMD vector (full or partial blocks,
    one or two halves) or one at a time (a stream's chunk): exactly numpy's
    float32 arithmetic in that order over fastmel's own power spectrum."""
    rng = np.random.default_rng(n_frames)
    hop = cfg["hop_length"]
    y = (0.1 * rng.standard_normal((n_frames - 1) * hop + 1)).astype(np.float32)
    m = fastmel.MelSpectrogram(**cfg, dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a one-frame signal is short
        got = m(y)
        D = fastmel.stft(y, n_fft=cfg["n_fft"], win_length=cfg.get("win_length"),
                         hop_length=hop)
    P = D.real * D.real + D.imag * D.imag
    W = fastmel.filters.mel(sr=cfg["sr"], n_fft=cfg["n_fft"], n_mels=cfg["n_mels"],
                            htk=cfg.get("htk", False), norm=cfg.get("norm", "slaney"))
    want = np.zeros((W.shape[0], P.shape[1]), np.float32)
    for i, row in enumerate(W):
        nz = np.flatnonzero(row)
        if not nz.size:
            continue
        part = [np.zeros(P.shape[1], np.float32) for _ in range(8)]
        for b in range(nz[0], nz[-1] + 1):
            k = (b - nz[0]) % 8
            part[k] = part[k] + row[b] * P[b]
        s = part
        want[i] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
    assert got.dtype == np.float32 and np.array_equal(got, want)    # exact: same operations
    s = m.stream()                                                  # one frame per call
    streamed = np.concatenate([s.process(y[i:i + hop]) for i in range(0, y.size, hop)]
                              + [s.flush()], axis=-1)
    assert np.array_equal(streamed, got)


def test_mel_runs_cover_every_filter_once_with_its_own_weights():
    # The float32 kernel walks runs of equal-length filters with consecutive
    # weights: every filter must fall in exactly one run, at its own offset.
    from fastmel._spectral import mel_runs
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 7, 40):
        length = rng.choice([0, 8, 16, 24], size=n).astype(np.intp)
        woff = np.zeros(n, np.intp)
        woff[1:] = np.cumsum(length)[:-1]
        woff[rng.random(n) < 0.2] += 8          # gaps: not consecutive
        runs = mel_runs(length, woff)
        assert runs.dtype == np.intp and runs.flags.c_contiguous and runs.shape[1] == 4
        seen = []
        for first, count, span, off in runs:
            for i, m in enumerate(range(first, first + count)):
                assert length[m] == span and woff[m] == off + i * span
                seen.append(m)
        assert seen == list(range(n))


def test_the_mel_transpose_paths_agree():
    """The AVX2 transpose (where the CPU has it) and the plain loop other CPUs
    run are the same permutation."""
    from fastmel._spectral import _transpose8
    rows = np.random.default_rng(6).standard_normal((8, 272)).astype(np.float32)
    for how in (0, 1):
        assert np.array_equal(_transpose8(rows, how), rows.T)


def test_empty_filters_give_zero_on_the_one_frame_path():
    """More mels than the bins can separate leave filters with no bin (librosa
    warns "Empty filters"): their energy is 0 offline and in a stream's
    one-frame kernel, which then equals the offline block path bit for bit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        m = fastmel.MelSpectrogram(sr=16000, n_fft=256, hop_length=160, n_mels=128,
                                   dtype=np.float32)
        basis = fastmel.filters.mel(sr=16000, n_fft=256, n_mels=128)
    empty = ~basis.any(axis=1)
    assert empty.any()
    y = (np.random.default_rng(5).standard_normal(3200) * 0.1).astype(np.float32)
    offline = m(y)
    assert np.all(offline[empty] == 0)
    s = m.stream()
    streamed = np.concatenate([s.process(y[i:i + 160]) for i in range(0, y.size, 160)]
                              + [s.flush()], axis=-1)
    assert_bits_equal(streamed, offline, "one frame per chunk, empty filters")
