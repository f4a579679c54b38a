"""Delta-feature benchmarks (issue 11), pytest-benchmark groups "delta-<mode>-<dtype>".

Run (on an otherwise idle machine):
    python -m pytest benchmarks/test_bench_delta.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Workload: 40 MFCCs of W1's 60 s at 16 kHz (hop 160: 6001 frames), computed once by fastmel
outside the timing, in float32 and float64; width 9 (librosa's default), order 1:
  * librosa          librosa.feature.delta(M, mode=mode) (its cache off: the undecorated call)
  * fastmel          fastmel.feature.delta(M, mode=mode)
  * fastmel_stream   Delta(mode=mode): process(frame) for each (40, 1) frame, then flush
                     (context, in its own group "delta-<mode>-float32-stream": the per-frame
                     cost of the stream; no librosa counterpart)
Target: fastmel >= 3x librosa (min times), modes "interp" (the default) and "mirror".
Before timing, fastmel's output is checked against librosa's (1e-5 / 1e-10 of the peak).
"""

import numpy as np
import pytest

from conftest import WORKLOADS, load_audio

pytestmark = pytest.mark.benchmark(warmup=True, warmup_iterations=5, disable_gc=True)

MODES = ["interp", "mirror"]
DTYPES = [np.float32, np.float64]


@pytest.fixture(scope="module")
def mfcc40(fastmel_module):
    wl = WORKLOADS["W1"]
    y = load_audio(wl)
    M = fastmel_module.feature.mfcc(y=y.astype(np.float64), sr=wl.sr, n_mfcc=40, n_mels=80,
                                    n_fft=wl.n_fft, hop_length=wl.hop_length)
    assert M.shape == (40, wl.n_frames)
    return M


def _librosa_delta():
    librosa = pytest.importorskip("librosa")
    return getattr(librosa.feature.delta, "__wrapped__", librosa.feature.delta)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("who", ["librosa", "fastmel"])
def test_delta_offline(benchmark, fastmel_module, mfcc40, who, mode, dtype):
    M = mfcc40.astype(dtype)
    benchmark.group = f"delta-{mode}-{np.dtype(dtype).name}"
    librosa_delta = _librosa_delta()
    ref = librosa_delta(M, mode=mode)
    got = fastmel_module.feature.delta(M, mode=mode)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    assert np.max(np.abs(got - ref)) <= tol * np.max(np.abs(ref))
    run = (lambda: librosa_delta(M, mode=mode)) if who == "librosa" else (
        lambda: fastmel_module.feature.delta(M, mode=mode))
    benchmark(run)


@pytest.mark.parametrize("mode", MODES)
def test_delta_stream(benchmark, fastmel_module, mfcc40, mode):
    M = mfcc40.astype(np.float32)
    benchmark.group = f"delta-{mode}-float32-stream"
    frames = [M[:, t:t + 1] for t in range(M.shape[1])]
    s = fastmel_module.Delta(mode=mode)

    def run():
        for f in frames:
            s.process(f)
        return s.flush()

    benchmark(run)
    benchmark.extra_info["us_per_frame_min"] = benchmark.stats.stats.min / len(frames) * 1e6
