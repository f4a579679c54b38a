"""Whisper log-mel benchmarks (issue 11), pytest-benchmark groups "whisper-<n_mels>".

Run (on an otherwise idle machine; one BLAS thread, as transformers' mel product uses BLAS):
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    python -m pytest benchmarks/test_bench_whisper.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Workload: the first 30 s of W1's audio (16 kHz, float32), Whisper's window exactly, so
padding and trimming cost nothing on either side; 80 and 128 mels:
  * transformers     WhisperFeatureExtractor(feature_size=n_mels)._np_extract_fbank_features
                     (its numpy path: what __call__ runs without torch, after its padding)
  * fastmel          fastmel.frontends.WhisperLogMel(n_mels=n_mels, dtype=dtype)(y)
fastmel is timed in float32 and float64 (transformers' result is float32, computed in
float64).  Target: fastmel float32 >= 5x transformers (min times).  Before timing,
fastmel's output is checked against transformers' (2.5e-4 in float32, 3e-7 in float64,
as in tests/test_frontends.py).
"""

import numpy as np
import pytest

from conftest import WORKLOADS, load_audio

pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=3, disable_gc=True)

N_MELS = [80, 128]


@pytest.fixture(scope="module")
def clip30():
    y = load_audio(WORKLOADS["W1"])[:30 * 16000]
    assert y.dtype == np.float32 and y.shape == (480000,)
    return y


def _transformers(n_mels):
    transformers = pytest.importorskip("transformers")
    fe = transformers.WhisperFeatureExtractor(feature_size=n_mels)
    return lambda y: fe._np_extract_fbank_features(y[None], "cpu")[0]


@pytest.mark.parametrize("n_mels", N_MELS)
def test_whisper_transformers(benchmark, clip30, n_mels):
    benchmark.group = f"whisper-{n_mels}"
    run = _transformers(n_mels)
    assert run(clip30).shape == (n_mels, 3000)
    benchmark(run, clip30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n_mels", N_MELS)
def test_whisper_fastmel(benchmark, fastmel_module, clip30, n_mels, dtype):
    benchmark.group = f"whisper-{n_mels}"
    fe = fastmel_module.frontends.WhisperLogMel(n_mels=n_mels, dtype=dtype)
    ref = _transformers(n_mels)(clip30)
    got = fe(clip30)
    tol = 2.5e-4 if dtype == np.float32 else 3e-7
    assert got.shape == ref.shape and np.max(np.abs(got - ref.astype(np.float64))) <= tol
    benchmark(fe, clip30)
