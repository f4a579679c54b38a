"""fastmel.MelSpectrogram / fastmel.MFCC: parity, pickling, threads, GIL release."""
import pickle
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import librosa

import fastmel
from conftest import (
    assert_close_dtype,
    assert_db_close,
    multichannel,
    per_channel,
)

W1 = dict(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)
W2 = dict(sr=22050)

MEL_OBJECT_CASES = [
    W1,
    W2,
    dict(sr=16000, n_fft=400, hop_length=160, n_mels=40, power=1.0, fmin=20.0, fmax=7600.0),
    dict(sr=22050, n_fft=1024, hop_length=256, n_mels=64, htk=True, norm=None, window="hamming"),
    dict(sr=22050, n_fft=2048, hop_length=700, n_mels=128, center=False),
    dict(sr=16000, n_fft=512, hop_length=128, n_mels=40, pad_mode="reflect"),
]


def _id(case):
    return "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in case.items()) or "defaults"


@pytest.mark.parametrize("case", MEL_OBJECT_CASES, ids=_id)
def test_melspectrogram_object_parity(case, dtype, speech):
    y = speech(case.get("sr", 22050), dtype)
    m = fastmel.MelSpectrogram(dtype=dtype, **case)
    got = m(y)
    ref = librosa.feature.melspectrogram(y=y, **case)
    assert got.dtype == np.dtype(dtype)
    # spec tolerance for the dtype (objects are compared to librosa, not to the function)
    assert_close_dtype(got, ref, "spec section 2 tolerance for the dtype")


def test_melspectrogram_object_defaults(speech22_f32):
    m = fastmel.MelSpectrogram()
    got = m(speech22_f32)
    ref = librosa.feature.melspectrogram(y=speech22_f32)
    assert got.dtype == np.float32  # default dtype=np.float32
    # float32: 1e-5 of max magnitude
    assert_close_dtype(got, ref, "float32 path")


@pytest.mark.parametrize(
    "db", [dict(), dict(ref=np.max), dict(top_db=80.0), dict(ref=1e-4, amin=1e-8, top_db=60.0)], ids=_id
)
def test_melspectrogram_object_to_db(db, dtype, speech):
    y = speech(16000, dtype, start=2.9)
    m = fastmel.MelSpectrogram(dtype=dtype, to_db=True, **W1, **db)
    got = m(y)
    mel = librosa.feature.melspectrogram(y=y, **W1)
    # MelSpectrogram's own defaults: ref=1.0, amin=1e-10, top_db=None
    ref = librosa.power_to_db(mel, **{"ref": 1.0, "amin": 1e-10, "top_db": None, **db})
    assert got.dtype == np.dtype(dtype)
    # 0.01 dB over the top 80 dB: spec section 2 dB tolerance
    assert_db_close(got, ref, "spec dB tolerance")


def test_melspectrogram_object_multichannel(dtype, speech):
    y = multichannel(speech, 16000, dtype, (2,), quiet_factor=0.01)
    got = fastmel.MelSpectrogram(dtype=dtype, **W1)(y)
    ref = librosa.feature.melspectrogram(y=y, **W1)
    # spec tolerance for the dtype
    assert_close_dtype(got, ref, "spec section 2 tolerance for the dtype")


def test_melspectrogram_object_multichannel_to_db_per_channel(dtype, speech):
    y = multichannel(speech, 16000, dtype, (3, 2), quiet_factor=1e-3)
    got = fastmel.MelSpectrogram(dtype=dtype, to_db=True, top_db=80.0, **W1)(y)
    mel = librosa.feature.melspectrogram(y=y, **W1)
    ref = per_channel(librosa.power_to_db, mel, 2, top_db=80.0)
    # 0.01 dB over each channel's top 80 dB: spec dB tolerance (floor per channel)
    for idx in np.ndindex(3, 2):
        assert_db_close(got[idx], ref[idx], f"spec dB tolerance, channel {idx}")


@pytest.mark.parametrize("top_db", [80.0, 30.0, 0.0])
@pytest.mark.parametrize("workers", [1, 2])
def test_melspectrogram_object_top_db_is_the_floor_of_the_unfloored(top_db, workers, dtype):
    """The workers note each block's extremes and floor from them (no pass for
    the maximum, none at all within range): the same bits as flooring the
    unfloored output afterwards, for every channel, frame count and thread count."""
    rng = np.random.default_rng(7)
    # 3 s, with a silent stretch in one channel (a floor to apply) and a
    # quiet, narrow-range one (none); 4641 samples: 30 frames, 16 + 14, and
    # 2561: 17 frames, a block and a single frame.
    for n in (48000, 4641, 2561):
        y = (0.1 * rng.standard_normal((3, n))).astype(dtype)
        y[0, n // 4:n // 2] = 0
        y[2] *= 1e-3
        kw = dict(W1, to_db=True, dtype=dtype)
        got = fastmel.MelSpectrogram(**kw, top_db=top_db)(y, workers=workers)
        want = fastmel.MelSpectrogram(**kw, top_db=None)(y)
        for c in range(3):  # floor_below_max: the whole-output pass it replaces
            want[c] = np.maximum(want[c], want[c].max() - np.array(top_db, dtype))
        # exact: the same values compared and the same floor
        assert got.dtype == want.dtype and np.array_equal(got, want), (n, top_db)


def test_reused_scratch_gives_each_call_its_own_result(dtype):
    """Offline calls reuse the kernel's spare scratch buffers: whatever an
    earlier call left in them (a longer signal, a partial block, one frame,
    two threads) changes no later result."""
    rng = np.random.default_rng(11)
    signals = [(0.1 * rng.standard_normal(n)).astype(dtype) for n in (48000, 1601, 3201, 161)]
    signals.append(np.zeros(5000, dtype))
    m = fastmel.MelSpectrogram(**W1, to_db=True, top_db=80.0, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)   # the 161-sample signal is short
        first = [m(y) for y in signals]
        for i in (4, 3, 0, 2, 1, 0, 3):
            assert np.array_equal(m(signals[i], workers=2), first[i]), i
            assert np.array_equal(m(signals[i]), first[i]), i


MFCC_OBJECT_CASES = [
    dict(W1, n_mfcc=13),
    dict(W2),
    dict(W1, n_mfcc=40, dct_type=3, norm=None),
    dict(W1, n_mfcc=20, lifter=22),
    dict(W1, n_mfcc=13, dct_type=1, norm=None, fmin=20.0, fmax=7600.0),
]


@pytest.mark.parametrize("case", MFCC_OBJECT_CASES, ids=_id)
def test_mfcc_object_parity(case, dtype, speech):
    y = speech(case.get("sr", 22050), dtype, start=2.9)
    got = fastmel.MFCC(dtype=dtype, **case)(y)
    ref = librosa.feature.mfcc(y=y, **case)
    assert got.dtype == np.dtype(dtype)
    # spec mfcc tolerance for the dtype
    assert_close_dtype(got, ref, "spec section 2 mfcc tolerance for the dtype")


def test_mfcc_object_top_db_none(dtype, speech):
    # MFCC's top_db defaults to 80 like librosa.feature.mfcc; None removes the floor.
    y = speech(16000, dtype, start=2.9)
    got = fastmel.MFCC(dtype=dtype, top_db=None, n_mfcc=13, **W1)(y)
    S = librosa.power_to_db(librosa.feature.melspectrogram(y=y, **W1), top_db=None)
    ref = librosa.feature.mfcc(S=S, n_mfcc=13)
    with_floor = librosa.feature.mfcc(y=y, n_mfcc=13, **W1)
    assert not np.allclose(ref, with_floor)  # the excerpt's pause is below the floor
    # spec mfcc tolerance for the dtype
    assert_close_dtype(got, ref, "spec section 2 mfcc tolerance for the dtype")


def test_mfcc_object_multichannel_per_channel(dtype, speech):
    y = multichannel(speech, 16000, dtype, (2,), quiet_factor=1e-3)
    kw = dict(W1, n_mfcc=13)
    got = fastmel.MFCC(dtype=dtype, **kw)(y)
    ref = per_channel(lambda ch: librosa.feature.mfcc(y=ch, **kw), y, 1)
    # spec mfcc tolerance, per channel
    for i in range(2):
        assert_close_dtype(got[i], ref[i], f"spec mfcc tolerance, channel {i}")


@pytest.mark.parametrize(
    "make",
    [
        lambda dt: fastmel.MelSpectrogram(dtype=dt, **W1),
        lambda dt: fastmel.MelSpectrogram(dtype=dt, to_db=True, ref=1e-3, top_db=70.0, **W1),
        lambda dt: fastmel.MFCC(dtype=dt, n_mfcc=13, lifter=22, **W1),
    ],
    ids=["mel", "logmel", "mfcc"],
)
def test_pickle_round_trip(make, dtype, speech):
    m = make(dtype)
    y = speech(16000, dtype)
    before = m(y)
    m2 = pickle.loads(pickle.dumps(m))
    assert type(m2) is type(m)
    # Same code and configuration on both sides: bit-identical.
    assert np.array_equal(m2(y), before)
    assert np.array_equal(m(y), before)  # the original still works after pickling


def test_pickle_unused_object(speech16_f32):
    # Pickling before the first call must work too (plans are rebuilt on load).
    m2 = pickle.loads(pickle.dumps(fastmel.MFCC(n_mfcc=13, **W1)))
    assert np.array_equal(m2(speech16_f32), fastmel.MFCC(n_mfcc=13, **W1)(speech16_f32))


@pytest.mark.parametrize(
    "make",
    [
        lambda dt: fastmel.MelSpectrogram(dtype=dt, **W1),
        lambda dt: fastmel.MelSpectrogram(dtype=dt, to_db=True, **W1),
        lambda dt: fastmel.MFCC(dtype=dt, n_mfcc=13, **W1),
    ],
    ids=["mel", "logmel", "mfcc"],
)
def test_threads_same_results_as_sequential(make, dtype, speech):
    m = make(dtype)
    # Different inputs (and lengths) per thread, each called several times.
    inputs = [speech(16000, dtype, start=0.1 + 0.9 * i, dur=0.5 + 0.1 * i) for i in range(8)]
    expected = [m(y) for y in inputs]
    n_threads, rounds = 4, 5
    barrier = threading.Barrier(n_threads)
    results = [[None] * rounds for _ in range(n_threads)]
    errors = []

    def work(t):
        try:
            barrier.wait()
            for r in range(rounds):
                k = (t + r) % len(inputs)
                results[t][r] = (k, m(inputs[k]))
        except BaseException as e:  # reported below, in the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    for t in range(n_threads):
        for r in range(rounds):
            k, out = results[t][r]
            # same object, same input, same code path: bit-identical
            assert np.array_equal(out, expected[k]), f"thread {t} call {r} differs"


def test_threads_functions_same_results(speech):
    inputs = [speech(16000, np.float32, start=0.1 + 0.5 * i, dur=0.6) for i in range(4)]
    expected = [fastmel.feature.mfcc(y=y, **W1) for y in inputs]
    results = [None] * 4

    def work(i):
        for _ in range(3):
            results[i] = fastmel.feature.mfcc(y=inputs[i], **W1)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i in range(4):
        assert np.array_equal(results[i], expected[i])


def _count_during(calls):
    """Increments a Python counter thread makes while each of ``calls`` runs.

    The switch interval is set far above the length of any call, so the
    interpreter never forces a GIL hand-over during the measurement: the
    counter thread can only run while the main thread has released the GIL
    itself (or while the counter yields, via its sleep, to give it back). A call
    that holds the GIL therefore sees exactly zero increments, whatever the
    machine's speed or load, and no wall-clock value enters the assertion.
    """
    counter = [0]
    stop = threading.Event()
    started = threading.Event()

    def count():
        n = 0
        started.set()
        while not stop.is_set():
            n += 1
            counter[0] = n
            if n % 1000 == 0:
                time.sleep(1e-4)  # lets a finished call take the GIL back promptly

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    t = threading.Thread(target=count)
    during = []
    try:
        t.start()
        started.wait()
        for call in calls:
            c0 = counter[0]
            call()
            during.append(counter[0] - c0)
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old_interval)
    return during


def test_gil_released_during_long_call(speech_full):
    y60 = np.resize(speech_full[(22050, np.float32)], 60 * 22050)
    y = np.tile(y60, 5)  # 5 minutes per call
    m = fastmel.MelSpectrogram(sr=22050, to_db=True, dtype=np.float32)
    m(y[: 22050 * 5])  # plan and warm up outside the measurement
    outs = []
    control, *during = _count_during(
        [lambda: sum(range(3_000_000))] + [lambda: outs.append(m(y))] * 3
    )
    # The protocol is valid on this interpreter: a C loop that keeps the GIL
    # lets the counter make no progress at all.
    assert control == 0
    assert outs[0].shape == (128, 1 + len(y) // 512)
    # With the GIL released the counter runs for the whole call (hundreds of
    # thousands of increments here); holding it would give exactly 0.
    assert sum(during) >= 20_000, f"counter advanced only {during} times during the calls"
    assert all(d > 0 for d in during), during
