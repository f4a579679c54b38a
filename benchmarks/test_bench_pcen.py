"""PCEN benchmarks (issue 11), pytest-benchmark groups "pcen-<dtype>".

Run (on an otherwise idle machine):
    python -m pytest benchmarks/test_bench_pcen.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Workload: the 128-band mel power spectrogram of W1's 60 s at 16 kHz (hop 160: 6001 frames),
computed once by fastmel outside the timing, in float32 and float64; librosa's defaults
(gain 0.98, bias 2, power 0.5, time constant 0.4 s):
  * librosa          librosa.pcen(S, sr=16000, hop_length=160)
  * fastmel          fastmel.pcen(S, sr=16000, hop_length=160)
Target: fastmel >= 3x librosa (min times).  Before timing, fastmel's output is checked
against librosa's (relative 1e-5 in float32, 1e-12 in float64).
"""

import numpy as np
import pytest

from conftest import WORKLOADS, load_audio

pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=3, disable_gc=True)


@pytest.fixture(scope="module")
def mel128(fastmel_module):
    wl = WORKLOADS["W1"]
    y = load_audio(wl)
    m = fastmel_module.MelSpectrogram(sr=wl.sr, n_fft=wl.n_fft, hop_length=wl.hop_length,
                                      n_mels=128, dtype=np.float64)
    S = m(y.astype(np.float64))
    assert S.shape == (128, wl.n_frames)
    return S


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("who", ["librosa", "fastmel"])
def test_pcen(benchmark, fastmel_module, mel128, who, dtype):
    librosa = pytest.importorskip("librosa")
    S = mel128.astype(dtype)
    benchmark.group = f"pcen-{np.dtype(dtype).name}"
    ref = librosa.pcen(S, sr=16000, hop_length=160)
    got = fastmel_module.pcen(S, sr=16000, hop_length=160)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert np.all(np.abs(got - ref) <= rtol * np.abs(ref) + 1e-30)
    if who == "librosa":
        benchmark(lambda: librosa.pcen(S, sr=16000, hop_length=160))
    else:
        benchmark(lambda: fastmel_module.pcen(S, sr=16000, hop_length=160))
