"""Offline log-mel and STFT (SPEC section 3): W1, W2, W3, float64, complex STFT, the FFT floor.

Groups (candidates in ``suite.py``):

* ``logmel-W1`` / ``logmel-W2``: fastmel's extractor and functions, librosa, audioflux and
  torchaudio where installed, and ``fft_floor``: as many single r2c transforms as the
  workload has frames, on one buffer hot in L1, planned with FFTW_MEASURE in a process that
  never imported fastmel (``floor.py``; the round's time is the one that process measures).
* ``logmel-W3``: the extractor on W1's 60 s cut into 1 s clips, one call each, against one
  call on the whole 60 s.
* ``logmel-W1-float64``: the float64 extractor against the float64 functions.
* ``stft-W1``: complex64 STFT with W1's framing, fastmel against torch.stft on one thread.

Outputs are checked (against librosa, or between the two fastmel APIs) before timing.
"""
import numpy as np
import pytest

import suite
from conftest import bench


def _check_db(out, ref, dtype=np.float32):
    err = suite.max_db_error(out, ref)
    assert out.shape == ref.shape and out.dtype == dtype, (out.shape, out.dtype)
    assert err <= suite.DB_TOLERANCE, f"max dB error vs librosa {err:g}"
    return err


def test_fastmel_extractor(benchmark, rounds, fastmel_module, workload, audio, librosa_reference):
    cand = suite.fastmel_extractor(fastmel_module, workload, audio)
    err = _check_db(cand.output(), librosa_reference)
    bench(benchmark, cand, f"logmel-{workload.name}", "fastmel_extractor", rounds, db_err=err)


def test_fastmel_functions(benchmark, rounds, fastmel_module, workload, audio, librosa_reference):
    cand = suite.fastmel_functions(fastmel_module, workload, audio)
    err = _check_db(cand.output(), librosa_reference)
    bench(benchmark, cand, f"logmel-{workload.name}", "fastmel_functions", rounds, db_err=err)


def test_librosa(benchmark, rounds, librosa_module, workload, audio, librosa_reference):
    cand = suite.librosa_logmel(librosa_module, workload, audio)
    bench(benchmark, cand, f"logmel-{workload.name}", "librosa", rounds,
          version=librosa_module.__version__)


def test_audioflux(benchmark, rounds, audioflux_module, workload, audio):
    cand = suite.audioflux_logmel(audioflux_module, workload, audio)
    out = cand.output()
    assert out.shape[0] == workload.n_mels and np.isfinite(out).all()
    bench(benchmark, cand, f"logmel-{workload.name}", "audioflux", rounds,
          version=audioflux_module.__version__)


def test_torchaudio(benchmark, rounds, torch_module, workload, audio, librosa_reference):
    torchaudio = pytest.importorskip("torchaudio", reason="torchaudio not installed; to get it: "
                                                          "python -m pip install torchaudio")
    cand = suite.torchaudio_logmel(torch_module, torchaudio, workload, audio)
    assert tuple(cand.output().shape) == librosa_reference.shape
    bench(benchmark, cand, f"logmel-{workload.name}", "torchaudio", rounds,
          version=torchaudio.__version__)


@pytest.mark.benchmark(timer=suite.FLOOR_CLOCK)
def test_fft_floor(benchmark, rounds, workload):
    worker = suite.FloorWorker(workload.n_fft, workload.n_frames)
    try:
        bench(benchmark, suite.Candidate(worker.run), f"logmel-{workload.name}", "fft_floor",
              rounds, n_transforms=workload.n_frames, n_fft=workload.n_fft)
    finally:
        worker.close()


W1 = suite.WORKLOADS["W1"]


@pytest.fixture(scope="module")
def w1_audio():
    return suite.load_audio(W1)


@pytest.mark.parametrize("how", ["clips", "long"])
def test_w3(benchmark, rounds, fastmel_module, w1_audio, how):
    cand = (suite.fastmel_clips(fastmel_module, W1, w1_audio) if how == "clips"
            else suite.fastmel_extractor(fastmel_module, W1, w1_audio))
    bench(benchmark, cand, "logmel-W3", f"fastmel_{how}", rounds, audio_seconds=W1.duration)


@pytest.mark.parametrize("api", ["extractor", "functions"])
def test_float64(benchmark, rounds, fastmel_module, w1_audio, api):
    y = w1_audio.astype(np.float64)
    ext = suite.fastmel_extractor(fastmel_module, W1, y, dtype=np.float64)
    fun = suite.fastmel_functions(fastmel_module, W1, y)
    a, b = ext.output(), fun.output()
    # SPEC section 2's float64 tolerance: the two APIs differ at most in rounding
    assert a.dtype == b.dtype == np.float64 and suite.rel_error(a, b) <= 1e-10
    bench(benchmark, ext if api == "extractor" else fun, "logmel-W1-float64", f"fastmel_{api}",
          rounds)


def test_stft_fastmel(benchmark, rounds, fastmel_module, w1_audio):
    cand = suite.fastmel_stft(fastmel_module, W1, w1_audio)
    assert cand.output().dtype == np.complex64
    bench(benchmark, cand, "stft-W1", "fastmel_stft", rounds)


def test_stft_torch(benchmark, rounds, fastmel_module, torch_module, w1_audio):
    cand = suite.torch_stft(torch_module, W1, w1_audio)
    ref = suite.fastmel_stft(fastmel_module, W1, w1_audio).output()
    err = suite.rel_error(cand.output().numpy(), ref)
    assert err <= suite.REL_TOL, f"torch.stft vs fastmel: relative error {err:g}"
    bench(benchmark, cand, "stft-W1", "torch_stft", rounds, version=torch_module.__version__,
          threads=torch_module.get_num_threads())
