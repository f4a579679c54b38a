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
