"""Offline calls allocate their output and O(n_fft) scratch, never a copy of the signal
or its frames (SPEC section 3, memory)."""
import tracemalloc

import numpy as np
import pytest

import fastmel

# Slack for per-call Python objects and numpy's small arrays (head/tail padding).
SLACK = 64 * 1024


def _peak_extra(fn):
    fn()  # plans and caches are made on the first call
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return out, peak


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("to_db", [False, True])
def test_melspectrogram_peak_memory_is_the_output(center, to_db):
    y = np.random.default_rng(0).standard_normal(16000 * 20).astype(np.float32)
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160,
                               n_mels=80, center=center, pad_mode="reflect", to_db=to_db,
                               top_db=80.0 if to_db else None)
    out, peak = _peak_extra(lambda: m(y))
    # the signal is 1.28 MB: a padded copy or a frame matrix would exceed the slack
    assert peak <= out.nbytes + SLACK, (peak, out.nbytes)


def test_stft_peak_memory_is_the_output():
    y = np.random.default_rng(1).standard_normal((2, 16000 * 5))
    out, peak = _peak_extra(lambda: fastmel.stft(y, n_fft=1024, hop_length=256))
    assert peak <= out.nbytes + SLACK, (peak, out.nbytes)


def _steady_state_growth(stream, chunks):
    """Traced memory after warm-up vs after many more chunks (outputs dropped)."""
    for c in chunks[:200]:
        stream.process(c)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        peak_call = 0
        for c in chunks[200:]:
            tracemalloc.reset_peak()
            start, _ = tracemalloc.get_traced_memory()
            out = stream.process(c)
            _, peak = tracemalloc.get_traced_memory()
            peak_call = max(peak_call, peak - start - out.nbytes)
            del out
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before, peak_call


def _signal_streams():
    rng = np.random.default_rng(2)
    ir = (rng.standard_normal(4000) * np.exp(-np.arange(4000) / 600)).astype(np.float32)
    noise = rng.standard_normal(3000).astype(np.float32)
    mel = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160,
                                 n_mels=40, to_db=True)
    return {
        "convolver": lambda: fastmel.Convolver(ir, block_size=160),
        "bandpass": lambda: fastmel.Bandpass(16000, 100, 7000),
        "noise": lambda: fastmel.NoiseMixer(noise, gain=0.1),
        "chain": lambda: fastmel.Chain([fastmel.Convolver(ir), fastmel.NoiseMixer(noise, gain=0.1),
                                        fastmel.Bandpass(16000, 100, 7000), mel.stream()]),
    }


@pytest.mark.parametrize("name", ["convolver", "bandpass", "noise", "chain"])
def test_signal_streams_allocate_only_their_output(name):
    y = np.random.default_rng(3).standard_normal(160 * 3000).astype(np.float32)
    chunks = [y[i:i + 160] for i in range(0, y.size, 160)]
    growth, peak_call = _steady_state_growth(_signal_streams()[name](), chunks)
    # 2800 steady-state calls: any per-call leak would add up far past 4 KiB
    assert growth <= 4096, growth
    # per call, beyond its output: array headers and small Python objects only (a
    # chain also holds its three inner stages' outputs, 160 float32 samples each)
    allowed = 2048 + (3 * 160 * 4 if name == "chain" else 0)
    assert peak_call <= allowed, peak_call


@pytest.mark.parametrize("noise_len", [16000 * 15, 1234], ids=["long-noise", "short-noise"])
def test_add_noise_peak_memory_is_near_the_output(noise_len):
    """No full-length index, noise segment or float64 copy: the output plus
    add_noise's fixed float64 scratch (a block for the powers, one for the scaled
    noise)."""
    from fastmel.noise import _BLOCK
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 16000 * 10)).astype(np.float32)
    noise = rng.standard_normal(noise_len).astype(np.float32)
    out, peak = _peak_extra(lambda: fastmel.add_noise(x, noise, snr_db=5.0, rng=0))
    # the output is 1.28 MB; the former segment and float64 copies were several times that
    assert peak <= out.nbytes + 2 * 8 * _BLOCK + SLACK, (peak, out.nbytes)
