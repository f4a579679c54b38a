"""Two threads on one long signal (issue 10, SPEC section 3), pytest-benchmark
groups "threads-<other core>".

Run (on an otherwise idle machine with at least two cores):
    python -m pytest benchmarks/test_bench_threads.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Workload: W1's log-mel (16 kHz, n_fft 512, win_length 400, hop 160, 80 mels,
dB with top_db 80, float32) of 600 s (W1's audio tiled), one extractor built
once, ``m(y, workers=w)`` timed for w = 1 and 2:
  * group "threads-free": nothing else runs.  Target: workers=2 at least 1.7x workers=1.
  * group "threads-busy": one busy-loop process (``while True: pass``) runs all the
    while, taking a core.  Target: workers=2 no slower than 0.95x workers=1.
Before timing, every output is checked equal, bit for bit, to workers=1's.
"""
import dataclasses
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import WORKLOADS, load_audio

pytestmark = pytest.mark.benchmark(min_rounds=10, warmup=True, warmup_iterations=2,
                                   disable_gc=True)

W1_600 = dataclasses.replace(WORKLOADS["W1"], duration=600.0)


@pytest.fixture(scope="module")
def long_signal():
    y = np.resize(load_audio(WORKLOADS["W1"]), W1_600.n_samples)
    return np.ascontiguousarray(y, dtype=np.float32)


@pytest.fixture(scope="module")
def extractor(fastmel_module, long_signal):
    m = fastmel_module.MelSpectrogram(**W1_600.mel_kwargs(), to_db=True, top_db=W1_600.top_db,
                                      dtype=np.float32)
    return m, m(long_signal)


@pytest.fixture(params=["free", "busy"])
def other_core(request):
    """Nothing, or a busy-loop process for the duration of one benchmark."""
    if request.param == "free":
        yield request.param
        return
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)  # let it start spinning
        yield request.param
    finally:
        busy.kill()
        busy.wait()


@pytest.mark.parametrize("workers", [1, 2])
def test_logmel_600s_workers(benchmark, extractor, long_signal, other_core, workers):
    m, want = extractor
    benchmark.group = f"threads-{other_core}"
    benchmark.name = f"fastmel_extractor[W1 600 s, workers={workers}, other core {other_core}]"
    benchmark.extra_info.update(workload="W1", duration=W1_600.duration, workers=workers,
                                other_core=other_core, **W1_600.mel_kwargs())
    out = m(long_signal, workers=workers)
    assert np.array_equal(out, want), "workers changed the output"
    benchmark(m, long_signal, workers=workers)
