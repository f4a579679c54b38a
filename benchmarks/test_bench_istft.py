"""Inverse STFT benchmarks (issue 11), pytest-benchmark groups "istft-<dtype>".

Run (on an otherwise idle machine):
    python -m pytest benchmarks/test_bench_istft.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Workload: the STFT (n_fft 512, hop 128, hann) of W1's 60 s at 16 kHz, computed once by
librosa outside the timing (its Fortran-ordered (257, 7501) output), in complex64 and
complex128:
  * librosa          librosa.istft(D, hop_length=128, n_fft=512)
  * fastmel          fastmel.istft(D, hop_length=128, n_fft=512)
Target: fastmel >= 3x librosa (min times).  Before timing, fastmel's output is checked
against librosa's (1e-5 / 1e-10 of the peak, the stft tolerances).
"""

import numpy as np
import pytest

from conftest import WORKLOADS, load_audio

pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=3, disable_gc=True)


@pytest.fixture(scope="module")
def spectra():
    librosa = pytest.importorskip("librosa")
    y = load_audio(WORKLOADS["W1"])
    return {np.complex64: librosa.stft(y.astype(np.float32), n_fft=512, hop_length=128),
            np.complex128: librosa.stft(y.astype(np.float64), n_fft=512, hop_length=128)}


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128], ids=["c64", "c128"])
@pytest.mark.parametrize("who", ["librosa", "fastmel"])
def test_istft(benchmark, fastmel_module, spectra, who, dtype):
    librosa = pytest.importorskip("librosa")
    D = spectra[dtype]
    benchmark.group = f"istft-{np.dtype(dtype).name}"
    ref = librosa.istft(D, hop_length=128, n_fft=512)
    got = fastmel_module.istft(D, hop_length=128, n_fft=512)
    tol = 1e-5 if dtype == np.complex64 else 1e-10
    assert got.shape == ref.shape and np.max(np.abs(got - ref)) <= tol * np.max(np.abs(ref))
    if who == "librosa":
        benchmark(lambda: librosa.istft(D, hop_length=128, n_fft=512))
    else:
        benchmark(lambda: fastmel_module.istft(D, hop_length=128, n_fft=512))
