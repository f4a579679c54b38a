"""``workers``: one offline call on several threads gives one thread's bits
(SPEC section 3, two threads), refuses bad counts, reports a worker's error,
and is safe on a shared extractor."""
import multiprocessing
import os
import sys
import threading
import tracemalloc

import numpy as np
import pytest

import fastmel
from fastmel import _spectral
from fastmel.exceptions import ParameterError

WORKERS = (2, 3, 4, -1)


@pytest.fixture
def split_everything(monkeypatch):
    """Share out even short signals, and count the calls that did."""
    calls = []
    start = _spectral._start_helpers

    def spy(work, count):
        calls.append(count)
        return start(work, count)

    monkeypatch.setattr(_spectral, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(_spectral, "_start_helpers", spy)
    return calls


def _signal(shape, dtype, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _same_bits(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape
    # NaN-free outputs: array_equal is bit equality here but for -0.0 == 0.0,
    # so the raw bytes are compared as well.
    assert np.array_equal(a, b)
    assert a.tobytes() == b.tobytes()


EXTRACTORS = {
    "logmel_top_db": lambda dt, c: fastmel.MelSpectrogram(
        sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80, to_db=True,
        top_db=80.0, center=c, pad_mode="reflect", dtype=dt),
    "mel_power1": lambda dt, c: fastmel.MelSpectrogram(
        sr=22050, n_fft=1024, hop_length=256, n_mels=64, power=1.0, center=c, dtype=dt),
    "mfcc_top_db": lambda dt, c: fastmel.MFCC(
        sr=16000, n_fft=400, hop_length=160, n_mels=40, n_mfcc=13, center=c, dtype=dt),
    "mfcc_kernel": lambda dt, c: fastmel.MFCC(
        sr=16000, n_fft=512, hop_length=128, n_mels=40, n_mfcc=20, lifter=22, top_db=None,
        center=c, dtype=dt),
    "stft": lambda dt, c: fastmel.STFT(n_fft=256, hop_length=100, center=c, dtype=dt),
}


@pytest.mark.parametrize("name", sorted(EXTRACTORS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("shape", [(16000 * 3 + 77,), (3, 9001), (2, 2, 4099)])
def test_extractors_give_one_threads_bits(split_everything, name, dtype, center, shape):
    m = EXTRACTORS[name](dtype, center)
    y = _signal(shape, dtype)
    want = m(y)
    for workers in WORKERS:
        _same_bits(m(y, workers=workers), want)
    assert split_everything, "no call was shared out"


def test_top_db_floors_at_the_whole_outputs_maximum(split_everything):
    """The loudest frame is in the last block (another worker's): every worker's
    frames are floored at its level, as with one thread."""
    y = _signal(16000 * 4, np.float32, 1) * 1e-3
    y[-800:] *= 1e3
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40, to_db=True,
                               top_db=20.0)
    want = m(y)
    got = m(y, workers=2)
    _same_bits(got, want)
    assert got.min() == np.float32(got.max() - 20.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_functions_give_one_threads_bits(split_everything, dtype):
    y = _signal((2, 20011), dtype, 2)
    kw = dict(sr=16000, n_fft=512, hop_length=160)
    _same_bits(fastmel.feature.melspectrogram(y=y, workers=2, **kw),
               fastmel.feature.melspectrogram(y=y, **kw))
    _same_bits(fastmel.feature.mfcc(y=y, workers=-1, **kw), fastmel.feature.mfcc(y=y, **kw))
    _same_bits(fastmel.feature.mfcc(y=y, lifter=22, workers=3, **kw),
               fastmel.feature.mfcc(y=y, lifter=22, **kw))
    _same_bits(fastmel.stft(y, n_fft=512, hop_length=160, workers=2),
               fastmel.stft(y, n_fft=512, hop_length=160))


def test_a_short_call_stays_on_one_thread(monkeypatch):
    calls = []
    start = _spectral._start_helpers
    monkeypatch.setattr(_spectral, "_start_helpers",
                        lambda work, count: calls.append(count) or start(work, count))
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40)
    m(_signal(16000, np.float32), workers=2)
    assert not calls
    m(_signal(16000 * 10, np.float32), workers=2)
    assert calls == [1]


def test_more_workers_than_units_start_no_idle_threads(split_everything):
    m = fastmel.MelSpectrogram(sr=16000, n_fft=2048, hop_length=512)
    y = _signal(512 * 40, np.float32)   # 41 frames: 3 units of 16
    _same_bits(m(y, workers=64), m(y))
    assert split_everything == [2]      # the caller and two pool threads


@pytest.mark.parametrize("workers", [0, -2, -7])
def test_bad_worker_counts_are_refused(workers):
    y = _signal(4000, np.float32)
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512)
    calls = [lambda: m(y, workers=workers),
             lambda: fastmel.MFCC(sr=16000, n_fft=512)(y, workers=workers),
             lambda: fastmel.STFT(n_fft=512)(y, workers=workers),
             lambda: fastmel.stft(y, n_fft=512, workers=workers),
             lambda: fastmel.feature.melspectrogram(y=y, n_fft=512, workers=workers),
             lambda: fastmel.feature.mfcc(y=y, n_fft=512, workers=workers)]
    for call in calls:
        with pytest.raises(ParameterError, match=f"workers must be .*got {workers}"):
            call()


@pytest.mark.parametrize("workers", [True, 2.0, "2", [2]])
def test_worker_counts_of_other_types_are_refused(workers):
    y = _signal(4000, np.float32)
    with pytest.raises(TypeError, match="workers must be an int or None"):
        fastmel.MelSpectrogram(sr=16000, n_fft=512)(y, workers=workers)
    with pytest.raises(TypeError, match="workers must be an int or None"):
        fastmel.stft(y, n_fft=512, workers=workers)


def test_numpy_integer_and_none_are_counts(split_everything):
    y = _signal(9000, np.float32)
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512)
    want = m(y)
    _same_bits(m(y, workers=np.int64(2)), want)
    _same_bits(m(y, workers=None), want)
    _same_bits(m(y, workers=1), want)


def test_a_workers_error_reaches_the_caller(split_everything):
    """A frame whose mel power overflows, in the last unit (a pool thread's when
    the caller takes the first): the same ParameterError as with one thread."""
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40)
    framing = m.framing
    y = _signal((2, 16000 * 2), np.float32, 3)
    # past the amplitude check fastmel's entry points make, straight to the driver
    y[1, -300] = 3e37
    errors = []
    for workers in (1, 2, 4):
        with pytest.raises(ParameterError, match="overflowed") as info:
            _spectral.run(m.kernel, framing, y, workers)
        errors.append(str(info.value))
    assert errors[0] == errors[1] == errors[2]
    # and the same extractor then works normally
    _same_bits(m(y[:1], workers=2), m(y[:1]))


def test_a_pool_that_takes_no_work_leaves_it_all_to_the_caller(split_everything, monkeypatch):
    """As at interpreter exit, when a pool refuses new work."""
    from concurrent.futures import ThreadPoolExecutor
    closed = ThreadPoolExecutor(max_workers=8)
    closed.shutdown()
    monkeypatch.setattr(_spectral, "_pool", closed)
    monkeypatch.setattr(_spectral, "_pool_size", 8)
    monkeypatch.setattr(_spectral, "_pool_pid", os.getpid())
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160)
    y = _signal(16000 * 3, np.float32, 6)
    _same_bits(m(y, workers=2), m(y))
    assert split_everything == [1]


@pytest.mark.parametrize("fresh_pool", [False, True])
def test_shared_extractor_in_two_threads_each_with_more_workers(split_everything, monkeypatch,
                                                                fresh_pool):
    """Two callers at once (one growing the pool when ``fresh_pool``)."""
    if fresh_pool:
        monkeypatch.setattr(_spectral, "_pool", None)
        monkeypatch.setattr(_spectral, "_pool_size", 0)
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80,
                               to_db=True, top_db=80.0)
    signals = [_signal(16000 * 2 + 31 * i, np.float32, 10 + i) for i in range(2)]
    want = [m(y) for y in signals]
    got = [[] for _ in signals]
    failures = []
    barrier = threading.Barrier(len(signals))

    def call(i):
        try:
            barrier.wait()
            for _ in range(20):
                got[i].append(m(signals[i], workers=2 + i))
        except BaseException as err:  # reported by the main thread
            failures.append(err)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(signals))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a call hung"
    assert not failures, failures
    for i, outs in enumerate(got):
        assert len(outs) == 20
        for out in outs:
            _same_bits(out, want[i])


def test_peak_memory_is_the_output_with_two_workers():
    y = _signal(16000 * 20, np.float32, 4)
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160,
                               n_mels=80, pad_mode="reflect", to_db=True, top_db=80.0)
    m(y, workers=2)  # the pool and plans are made on the first call
    tracemalloc.start()
    try:
        out = m(y, workers=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # as tests/test_memory.py: a copy of the 1.28 MB signal or its frames would exceed the slack
    assert peak <= out.nbytes + 64 * 1024, (peak, out.nbytes)


def _in_child(queue):
    y = _signal(16000 * 3, np.float32, 5)
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160)
    _spectral.PARALLEL_MIN_WORK = 0
    same = bool(np.array_equal(m(y, workers=2), m(y)))
    queue.put((same, _spectral._pool_pid == os.getpid()))


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
# forking a process with threads is what this test is about (Python 3.12+ warns of it)
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_a_forked_child_gets_its_own_pool(split_everything):
    """The parent's pool threads do not exist in a forked child: it must neither
    wait on them nor lose its work."""
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160)
    m(_signal(16000 * 3, np.float32), workers=2)  # the parent's pool exists
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_in_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        pytest.fail("the forked child hung")
    assert child.exitcode == 0
    assert queue.get(timeout=5) == (True, True)


def test_minus_one_is_the_cpu_count(monkeypatch):
    from fastmel._analysis import check_workers
    assert check_workers(-1) == (os.cpu_count() or 1)
    assert check_workers(None) == 1
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert check_workers(-1) == 1
