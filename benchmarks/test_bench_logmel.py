"""Offline log-mel benchmarks (SPEC.md section 3), one pytest-benchmark group per workload.

Run:
    python -m pytest benchmarks/ --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

Per workload (W1, W2; see ``conftest.WORKLOADS``) the group holds:
  * fastmel_extractor  fastmel.MelSpectrogram(..., to_db=True, top_db=80, dtype=float32), built once; m(y) timed
  * fastmel_functions  fastmel.power_to_db(fastmel.feature.melspectrogram(y=y, ...))
  * librosa            librosa.power_to_db(librosa.feature.melspectrogram(y=y, ...))
  * fft_floor_batched  floor (i): one FFTW r2c plan over (n_frames, n_fft) float32, FFTW_MEASURE, threads=1
  * fft_floor_hot      floor (ii): n_frames single-frame r2c transforms of one hot aligned buffer
Targets: fastmel >= 5x librosa, <= 1.3x the floor.

fastmel outputs are checked against librosa (0.01 dB above max - 80 dB) *after*
timing, so a wrong result fails the test but its timing is still reported.
"""

import pytest

from conftest import (  # benchmarks/ is on sys.path (pytest rootdir-relative conftest import)
    DB_TOLERANCE,
    make_fastmel_extractor,
    make_fastmel_functions,
    make_fft_floor_batched,
    make_fft_floor_hot,
    make_librosa,
    max_db_error,
)

# warm-up before timing (FFTW plans, numba, caches), GC off while timing (like timeit).
pytestmark = pytest.mark.benchmark(min_rounds=20, warmup=True, warmup_iterations=3, disable_gc=True)


def _setup(benchmark, workload, kind):
    benchmark.group = workload.label
    benchmark.name = f"{kind}[{workload.name}]"
    benchmark.extra_info.update(workload=workload.name, n_frames=workload.n_frames, **workload.mel_kwargs())


def _check(benchmark, workload, out, ref):
    err = max_db_error(out, ref, workload.top_db)
    benchmark.extra_info["max_db_err_vs_librosa"] = err
    assert out.shape == ref.shape, f"shape {out.shape} != librosa {ref.shape}"
    assert str(out.dtype) == "float32", f"dtype {out.dtype}, expected float32"
    assert err <= DB_TOLERANCE, f"max dB error vs librosa {err:g} > {DB_TOLERANCE}"


def test_fastmel_extractor(benchmark, workload, audio, librosa_reference, fastmel_module):
    _setup(benchmark, workload, "fastmel_extractor")
    run = make_fastmel_extractor(fastmel_module, workload, audio)
    run()
    out = benchmark(run)
    _check(benchmark, workload, out, librosa_reference)


def test_fastmel_functions(benchmark, workload, audio, librosa_reference, fastmel_module):
    _setup(benchmark, workload, "fastmel_functions")
    run = make_fastmel_functions(fastmel_module, workload, audio)
    run()
    out = benchmark(run)
    _check(benchmark, workload, out, librosa_reference)


def test_librosa(benchmark, workload, audio, librosa_reference):
    # librosa_reference already ran librosa once on this data (numba/cache warm-up).
    _setup(benchmark, workload, "librosa")
    run = make_librosa(workload, audio)
    run()
    benchmark(run)


def test_fft_floor_batched(benchmark, workload, audio):
    _setup(benchmark, workload, "fft_floor_batched")
    benchmark.extra_info["floor"] = "(i) one FFTW r2c plan, (n_frames, n_fft) float32, MEASURE, threads=1"
    execute = make_fft_floor_batched(workload, audio)
    execute()
    benchmark(execute)


def test_fft_floor_hot(benchmark, workload, audio):
    _setup(benchmark, workload, "fft_floor_hot")
    benchmark.extra_info["floor"] = "(ii) n_frames single-frame r2c on one hot buffer (stride-0 batch)"
    execute = make_fft_floor_hot(workload, audio)
    execute()
    benchmark(execute)
