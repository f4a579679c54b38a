"""Kaldi fbank benchmarks (issue 11), pytest-benchmark groups "kaldi-stream" and "kaldi-offline".

Run:
    python -m pytest benchmarks/test_bench_kaldi.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Workload: W1's 60 s of 16 kHz audio (float32), Kaldi fbank with 80 mel bins and
kaldi-native-fbank's other defaults except dither 0 (the setting k2/sherpa models use);
the same options on both sides:
  * fastmel_stream[160]   s = fastmel.frontends.KaldiFbank(...).stream(); s.process(chunk)
                          for 6000 chunks of 160 samples (10 ms, pre-sliced views); s.flush()
  * knf_online[160]       kaldi-native-fbank OnlineFbank: accept_waveform(sr, chunk) with the
                          chunks as prebuilt Python lists (made outside the timing: pybind11
                          takes a list fastest), get_frame(i) for every newly ready frame;
                          input_finished() at the end
  * fastmel_offline       fe(y)
  * knf_offline           OnlineFbank fed the whole signal as one prebuilt list, then
                          input_finished() and every frame read
Target: fastmel's stream at least 10x knf_online (min times).  Before timing, the
fastmel results are checked: the stream equals the offline call bit for bit, and the
offline call equals kaldi-native-fbank within tests/test_kaldi.py's tolerance.
"""

import numpy as np
import pytest

from conftest import KNF_CHUNK_SIZE, WORKLOADS, load_audio, split_chunks

pytestmark = pytest.mark.benchmark(min_rounds=10, warmup=True, warmup_iterations=2,
                                   disable_gc=True)

N_MELS = 80
SR = 16000


@pytest.fixture(scope="module")
def w1_audio():
    y = load_audio(WORKLOADS["W1"])
    assert y.dtype == np.float32 and y.shape == (60 * SR,)
    return y


@pytest.fixture(scope="module")
def knf():
    return pytest.importorskip("kaldi_native_fbank")


def knf_options(knf):
    opts = knf.FbankOptions()
    opts.frame_opts.dither = 0.0
    opts.frame_opts.samp_freq = SR
    opts.mel_opts.num_bins = N_MELS
    return opts


def run_knf(knf, lists):
    """OnlineFbank over the prebuilt lists, every frame read as it is ready."""
    f = knf.OnlineFbank(knf_options(knf))
    frames, got = [], 0
    for lst in lists:
        f.accept_waveform(SR, lst)
        ready = f.num_frames_ready
        frames.extend(f.get_frame(i) for i in range(got, ready))
        got = ready
    f.input_finished()
    frames.extend(f.get_frame(i) for i in range(got, f.num_frames_ready))
    return frames


def fastmel_fbank(fastmel_module):
    return fastmel_module.frontends.KaldiFbank(num_mel_bins=N_MELS, sr=SR)


@pytest.fixture(scope="module")
def offline(fastmel_module, knf, w1_audio):
    """fastmel's offline features, checked against kaldi-native-fbank's."""
    got = fastmel_fbank(fastmel_module)(w1_audio)
    want = np.array(run_knf(knf, [w1_audio.tolist()]), dtype=np.float64).T
    assert got.shape == want.shape
    # tests/test_kaldi.py: filter energies within 2e-5 of the frame's largest
    # (float32 FFTs, kaldi-native-fbank's and FFTW, round differently)
    lin_got, lin_want = np.exp(got.astype(np.float64)), np.exp(want)
    assert np.all(np.abs(lin_got - lin_want) <= 2e-5 * lin_want.max(axis=0))
    return got


def test_fastmel_stream(benchmark, fastmel_module, w1_audio, offline):
    benchmark.group = "kaldi-stream"
    benchmark.name = f"fastmel_stream[{KNF_CHUNK_SIZE}]"
    fe = fastmel_fbank(fastmel_module)
    chunks = split_chunks(w1_audio, KNF_CHUNK_SIZE)

    def run():
        s = fe.stream()
        outs = [s.process(c) for c in chunks]
        outs.append(s.flush())
        return outs

    outs = benchmark(run)
    assert np.array_equal(np.concatenate(outs, axis=-1), offline)


def test_knf_online(benchmark, knf, w1_audio, offline):
    benchmark.group = "kaldi-stream"
    benchmark.name = f"knf_online[{KNF_CHUNK_SIZE}]"
    lists = [c.tolist() for c in split_chunks(w1_audio, KNF_CHUNK_SIZE)]
    frames = benchmark(run_knf, knf, lists)
    assert len(frames) == offline.shape[-1]


def test_fastmel_offline(benchmark, fastmel_module, w1_audio, offline):
    benchmark.group = "kaldi-offline"
    benchmark.name = "fastmel_offline"
    fe = fastmel_fbank(fastmel_module)
    assert np.array_equal(benchmark(fe, w1_audio), offline)


def test_knf_offline(benchmark, knf, w1_audio, offline):
    benchmark.group = "kaldi-offline"
    benchmark.name = "knf_offline"
    whole = [w1_audio.tolist()]
    assert len(benchmark(run_knf, knf, whole)) == offline.shape[-1]
