"""Kaldi fbank (issue 11), groups ``kaldi-stream`` and ``kaldi-offline``.

W1's 60 s of 16 kHz audio (float32), Kaldi fbank with 80 mel bins and kaldi-native-fbank's
other defaults except dither 0 (what k2/sherpa models use); the same options on both sides,
every stream object made in the untimed setup:

* ``fastmel_stream[160]``: ``KaldiFbank(...).stream()``, ``process`` per 160-sample chunk
  (10 ms, views made outside the timing), then ``flush``.
* ``knf_online[lists]``: kaldi-native-fbank's OnlineFbank fed the same chunks as prebuilt
  Python lists, reading every newly ready frame.  Target: fastmel at least 10x.
* ``fastmel_offline`` / ``knf_offline``: the whole signal in one call / one list.

Before timing, fastmel's stream must equal its offline call bit for bit, and the offline
call kaldi-native-fbank's within tests/test_kaldi.py's tolerance.
"""
import numpy as np
import pytest

import suite
from conftest import bench

WL = suite.WORKLOADS["W1"]
N_MELS = 80


@pytest.fixture(scope="module")
def y():
    return suite.load_audio(WL)


@pytest.fixture(scope="module")
def opts(knf_module):
    o = knf_module.FbankOptions()
    o.frame_opts.dither = 0.0
    o.frame_opts.samp_freq = float(WL.sr)
    o.mel_opts.num_bins = N_MELS
    return o


@pytest.fixture(scope="module")
def fe(fastmel_module):
    return fastmel_module.frontends.KaldiFbank(num_mel_bins=N_MELS, sr=WL.sr)


@pytest.fixture(scope="module")
def offline(fe, knf_module, opts, y):
    """fastmel's offline features, checked against kaldi-native-fbank's."""
    got = fe(y)
    f = knf_module.OnlineFbank(opts)
    f.accept_waveform(float(WL.sr), y.tolist())
    f.input_finished()
    want = np.array([f.get_frame(i) for i in range(f.num_frames_ready)], np.float64).T
    assert got.shape == want.shape
    # tests/test_kaldi.py: filter energies within 2e-5 of the frame's largest
    # (float32 FFTs, kaldi-native-fbank's and FFTW's, round differently)
    lin_got, lin_want = np.exp(got.astype(np.float64)), np.exp(want)
    assert np.all(np.abs(lin_got - lin_want) <= 2e-5 * lin_want.max(axis=0))
    return got


def test_fastmel_stream(benchmark, rounds, fe, y, offline):
    cand = suite.stream_of(fe, suite.split_chunks(y, suite.KNF_CHUNK))
    assert np.array_equal(np.concatenate(cand.output(), axis=-1), offline)
    bench(benchmark, cand, "kaldi-stream", f"fastmel_stream[{suite.KNF_CHUNK}]", rounds)


def test_knf_online(benchmark, rounds, knf_module, opts, y, offline):
    cand = suite.knf_online(knf_module, WL, suite.split_chunks(y, suite.KNF_CHUNK), opts=opts)
    assert cand.output() == offline.shape[-1]
    bench(benchmark, cand, "kaldi-stream", "knf_online[lists]", rounds)


def test_fastmel_offline(benchmark, rounds, fe, y, offline):
    assert np.array_equal(fe(y), offline)
    bench(benchmark, suite.call(fe, y), "kaldi-offline", "fastmel_offline", rounds)


def test_knf_offline(benchmark, rounds, knf_module, opts, y, offline):
    cand = suite.knf_online(knf_module, WL, [y], opts=opts)
    assert cand.output() == offline.shape[-1]
    bench(benchmark, cand, "kaldi-offline", "knf_offline", rounds)
