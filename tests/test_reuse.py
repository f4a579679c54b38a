"""Prepared work reused across calls: ``Convolver.__call__`` runs on the
convolver's own partition spectra.

SPEC "Recording simulation" / "Streaming protocol": ``Convolver(ir)(x)`` is the
full convolution of x through a fresh stream, bit for bit what a new
``Convolver(ir)`` streaming x and flushing returns.  The call has a state of
its own, sharing only the prepared (never written) impulse response: it leaves
a stream in progress on the same object alone and may run in several threads
at once.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal, multichannel
from fastmel import ParameterError

SR = 16000


def room_ir(n_taps, *, channels=None, seed=0, dtype=np.float64):
    """Exponentially decaying noise after a direct sound at tap 40."""
    rng = np.random.default_rng(seed)
    shape = (n_taps,) if channels is None else (channels, n_taps)
    ir = rng.standard_normal(shape) * 0.3 * 10.0 ** (-12.0 * np.arange(n_taps) / SR)
    d = min(40, n_taps - 1)
    ir[..., :d] = 0.0
    ir[..., d] = 1.0
    return ir.astype(dtype)


def through_fresh_stream(ir, x, **kw):
    """What ``__call__`` returned before it reused the spectra: a new Convolver,
    one process call, then flush."""
    c = fastmel.Convolver(ir, **kw)
    return np.concatenate([c.process(x), c.flush()], axis=-1)


CASES = {
    # name: (taps, per-channel IR rows, leading shape of x, block size)
    "head-only": (100, None, (), 256),
    "room-mono": (4800, None, (), 64),
    "one-second": (SR, None, (), 256),
    "stereo-per-channel": (3000, 2, (2,), 128),
    "batch-mono-ir": (3000, None, (2, 3), 256),
}


@pytest.mark.parametrize("case", list(CASES))
def test_call_bit_identical_to_a_fresh_stream(case, speech, dtype):
    n_taps, rows, lead, block = CASES[case]
    ir = room_ir(n_taps, channels=rows)
    x = (speech(SR, dtype, dur=0.4) if not lead
         else np.ascontiguousarray(multichannel(speech, SR, dtype, lead, dur=0.4)))
    conv = fastmel.Convolver(ir, block_size=block, dtype=dtype)
    want = through_fresh_stream(ir, x, block_size=block, dtype=dtype)
    assert_bits_equal(conv(x), want, "first call")
    # the object keeps no trace of a call: a second one is the same
    assert_bits_equal(conv(x), want, "second call")
    # non-contiguous and other-dtype input take the converting path
    assert_bits_equal(conv(np.repeat(x, 2, axis=-1)[..., ::2]), want, "strided input")


def test_call_past_the_safe_peak_and_overflow(speech):
    """Inputs beyond the no-overflow bound take the checked path; one that
    overflows raises the stream's error and leaves the object usable."""
    ir = room_ir(4800)
    conv = fastmel.Convolver(ir, block_size=64)
    loud = speech(SR, np.float32, dur=0.3) * np.float32(1e33)
    assert_bits_equal(conv(loud), through_fresh_stream(ir, loud, block_size=64), "loud")
    too_loud = loud * np.float32(1e4)
    with pytest.raises(ParameterError) as got:
        conv(too_loud)
    with pytest.raises(ParameterError) as want:
        through_fresh_stream(ir, too_loud, block_size=64)
    assert str(got.value) == str(want.value)
    x = speech(SR, np.float32, dur=0.3)
    assert_bits_equal(conv(x), through_fresh_stream(ir, x, block_size=64), "after an error")


def test_call_reuses_the_prepared_convolver(monkeypatch, speech):
    """No re-planning or re-checking of the impulse response per call: with the
    planner and the IR checks made to fail, a call still succeeds."""
    ir = room_ir(4800)
    conv = fastmel.Convolver(ir, block_size=64)
    x = speech(SR, np.float32, dur=0.3)
    want = conv(x)

    def refuse(*args, **kwargs):
        raise AssertionError("the impulse response was prepared again")

    for name in ("partition_plan", "_check_ir"):
        monkeypatch.setattr(fastmel.convolution, name, refuse)
    assert_bits_equal(conv(x), want, "with the planner disabled")


@pytest.mark.parametrize("lead", [(), (2,)])
def test_call_mid_stream_leaves_the_stream_alone(lead, speech, dtype):
    ir = room_ir(4800, channels=2 if lead else None)
    sig = (speech(SR, dtype, dur=0.5) if not lead
           else np.ascontiguousarray(multichannel(speech, SR, dtype, lead, dur=0.5)))
    other = speech(SR, dtype, start=1.5, dur=0.3)
    other = other if not lead else np.stack([other, -other])
    undisturbed = through_fresh_stream(ir, sig, block_size=64, dtype=dtype)
    conv = fastmel.Convolver(ir, block_size=64, dtype=dtype)
    half = sig.shape[-1] // 2 + 3
    first = conv.process(sig[..., :half])
    offline = conv(other)  # another signal, in the middle of the stream
    assert_bits_equal(offline, through_fresh_stream(ir, other, block_size=64, dtype=dtype),
              "call mid-stream")
    with pytest.raises(ParameterError):  # a rejected call, too, leaves the stream alone
        conv(np.full_like(other, np.nan))
    rest = [conv.process(sig[..., half:]), conv.flush()]
    assert_bits_equal(np.concatenate([first] + rest, axis=-1), undisturbed, "stream after the calls")


_THREADS = r"""
import sys, threading
import numpy as np
import fastmel

rng = np.random.default_rng(1)
n_taps = 8000
ir = rng.standard_normal(n_taps) * np.exp(-np.arange(n_taps) / 1500.0)
conv = fastmel.Convolver(ir, block_size=64)
signals = [rng.standard_normal(3000 + 517 * i).astype(np.float32) for i in range(6)]
want = []
for x in signals:
    c = fastmel.Convolver(ir, block_size=64)
    want.append(np.concatenate([c.process(x), c.flush()]))
bad = []
stream_x = rng.standard_normal(20000).astype(np.float32)
c = fastmel.Convolver(ir, block_size=64)
stream_want = np.concatenate([c.process(stream_x), c.flush()])
start = threading.Barrier(len(signals) + 1)

def call(i):
    start.wait()
    for _ in range(15):
        got = conv(signals[i])
        if got.tobytes() != want[i].tobytes():
            bad.append(i)

def stream():
    # the same object streams in its own thread meanwhile
    start.wait()
    parts = [conv.process(stream_x[a:a + 333]) for a in range(0, len(stream_x), 333)]
    got = np.concatenate(parts + [conv.flush()])
    if got.tobytes() != stream_want.tobytes():
        bad.append("stream")

threads = [threading.Thread(target=call, args=(i,)) for i in range(len(signals))]
threads.append(threading.Thread(target=stream))
for t in threads:
    t.start()
for t in threads:
    t.join()
print("bad", bad)
sys.exit(1 if bad else 0)
"""


def test_call_from_several_threads_at_once():
    """Threads calling one Convolver at once (while it also streams) each get
    their own exact result; run in a subprocess, so a crash fails the test."""
    for _ in range(3):
        proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_THREADS)],
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr[-2000:])


# --- checks once at the boundary: feature, stft, the extractors, convolve, add_noise ---

W1 = dict(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80)


def counting(monkeypatch, module, name, counts):
    """Replace module.name by a wrapper that counts its calls in counts[name]."""
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        counts[name] = counts.get(name, 0) + 1
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)


def test_mfcc_checks_its_parameters_once(monkeypatch, speech16_f32):
    import fastmel.extractors
    import fastmel.feature

    want = fastmel.MFCC(**W1)(speech16_f32)
    counts = {}
    # feature.mfcc and MFCC each hold their own reference to the function
    counting(monkeypatch, fastmel.feature, "check_mfcc_params", counts)
    counting(monkeypatch, fastmel.extractors, "check_mfcc_params", counts)
    got = fastmel.feature.mfcc(y=speech16_f32, **W1)
    assert sum(counts.values()) == 1, counts
    assert_bits_equal(got, want, "feature.mfcc against MFCC")
    # the checks that moved still reject, with the same messages
    for bad, text in [(dict(dct_type=5), "dct_type must be 1, 2 or 3, got 5"),
                      (dict(norm="forward"), "norm must be None or 'ortho', got 'forward'"),
                      (dict(n_mfcc=0), "n_mfcc must be a positive integer, got 0"),
                      (dict(lifter=-1), "lifter must be a non-negative number, got -1")]:
        for call in (lambda: fastmel.feature.mfcc(y=speech16_f32, **W1, **bad),
                     lambda: fastmel.feature.mfcc(S=np.zeros((80, 4)), **bad),
                     lambda: fastmel.MFCC(**W1, **bad)):
            with pytest.raises(ParameterError, match=f"^{text}"):
                call()


@pytest.mark.parametrize("func", ["melspectrogram", "mfcc", "stft"])
def test_offline_features_scan_the_signal_once(func, monkeypatch, speech16_f32):
    import fastmel._checks
    import fastmel.feature

    counts = {}
    for name in ("all_finite", "all_within"):
        counting(monkeypatch, fastmel._checks, name, counts)
    if func == "stft":
        fastmel.stft(speech16_f32, n_fft=512, win_length=400, hop_length=160)
    else:
        getattr(fastmel.feature, func)(y=speech16_f32, **W1)
    assert sum(counts.values()) == 1, counts


def counting_inputs(monkeypatch):
    """Record what the offline calls check: the name of every array
    ``_checks.real_float`` converts, and the shape of every array scanned for
    finiteness (``all_finite``/``all_within``, wherever a module holds them)."""
    import fastmel._checks
    import fastmel.convolution
    import fastmel.noise

    log = {"real_float": [], "scanned": []}
    real = fastmel._checks.real_float

    def real_float(x, name):
        log["real_float"].append(name)
        return real(x, name)

    monkeypatch.setattr(fastmel._checks, "real_float", real_float)
    for module in (fastmel._checks, fastmel.convolution, fastmel.noise):
        for name in ("all_finite", "all_within"):
            if hasattr(module, name):
                scan = getattr(module, name)

                def scanned(x, *args, _scan=scan):
                    log["scanned"].append(np.shape(x))
                    return _scan(x, *args)

                monkeypatch.setattr(module, name, scanned)
    return log


FEATURE_CALLS = {
    "feature.melspectrogram": lambda y: fastmel.feature.melspectrogram(y=y, **W1),
    "feature.mfcc": lambda y: fastmel.feature.mfcc(y=y, **W1),
    "stft": lambda y: fastmel.stft(y, n_fft=512, win_length=400, hop_length=160),
    "STFT()": lambda y: fastmel.STFT(n_fft=512, hop_length=160)(y),
    "MelSpectrogram()": lambda y: fastmel.MelSpectrogram(**W1)(y),
    "MelSpectrogram(to_db)": lambda y: fastmel.MelSpectrogram(**W1, to_db=True, top_db=80)(y),
    "MFCC()": lambda y: fastmel.MFCC(**W1)(y),
    "MFCC(top_db=None)": lambda y: fastmel.MFCC(**W1, top_db=None)(y),
}


@pytest.mark.parametrize("call", list(FEATURE_CALLS))
@pytest.mark.parametrize("convert", ["float32", "float64", "float16", "list"])
def test_offline_features_check_and_convert_their_input_once(call, convert, monkeypatch,
                                                             speech16_f32):
    """Each offline call converts its signal once and scans it once, whatever
    it has to convert (float16 widens, a list becomes an array)."""
    y = speech16_f32[:8000]
    y = y.tolist() if convert == "list" else y.astype(convert)
    log = counting_inputs(monkeypatch)
    FEATURE_CALLS[call](y)
    assert log == {"real_float": ["y"], "scanned": [(8000,)]}, log


@pytest.mark.parametrize("ir_dtype", [np.float32, np.float64])
def test_convolve_checks_each_input_once(ir_dtype, monkeypatch, speech16_f32):
    x = speech16_f32[:5000]
    ir = room_ir(300, dtype=ir_dtype)
    log = counting_inputs(monkeypatch)
    out = fastmel.convolve(x, ir)
    assert sorted(log["real_float"]) == ["ir", "x"], log
    # x and the impulse response once each (the IR in x's dtype), then the output
    assert log["scanned"] == [(5000,), (300,), (1, 5299)], log
    assert out.shape == (5299,)


def test_add_noise_checks_each_input_once(monkeypatch, speech16_f32):
    x = speech16_f32[:5000]
    noise = np.random.default_rng(3).standard_normal(1200).astype(np.float32)
    log = counting_inputs(monkeypatch)
    fastmel.add_noise(x, noise, snr_db=10.0, rng=0)
    assert log["real_float"] == ["x", "noise"], log
    # x and the noise once each, then the output
    assert log["scanned"] == [(5000,), (1200,), (5000,)], log


@pytest.mark.parametrize("make", [lambda ir: fastmel.convolve(np.ones(100, np.float32), ir),
                                  lambda ir: fastmel.Convolver(ir, dtype=np.float32)],
                         ids=["convolve", "Convolver"])
def test_impulse_response_checked_once_still_names_the_fault(make):
    """One scan of the impulse response in the working dtype still tells a
    non-finite IR from one that only overflows that dtype."""
    too_big = np.full(50, 1e300)
    with pytest.raises(ParameterError, match=r"^ir has values beyond the float32 range "
                                             r"\(largest magnitude 1e\+300\)"):
        make(too_big)
    for bad in (np.nan, np.inf):
        ir = np.ones(50)
        ir[7] = bad
        with pytest.raises(ParameterError, match=r"^ir contains non-finite values"):
            make(ir)
        with pytest.raises(ParameterError, match=r"^ir contains non-finite values"):
            make(ir.astype(np.float32))
