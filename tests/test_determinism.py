"""The same input gives the same bits in every process, in each plan mode.

In "machine" mode the plans are timed once per machine and cached on disk
(the test session's cache dir, see conftest), in "portable" mode they are
shipped: either way every process builds the same plans, so a stream pickled
in one process and resumed in another, a Dask worker and a local thread all
compute identical results (see tests/test_plans.py for the cache itself).
"""
import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest

import fastmel

SCRIPT = r"""
import hashlib, sys
import numpy as np
import fastmel
rng = np.random.default_rng(0)
x = rng.standard_normal(40000).astype(np.float32)
ir = (rng.standard_normal(6000) * np.exp(-np.arange(6000) / 900)).astype(np.float32)
mel = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80,
                             to_db=True)
stream = mel.stream()
streamed = np.concatenate([stream.process(x[i:i + 160]) for i in range(0, len(x), 160)]
                          + [stream.flush()], axis=-1)
assert np.array_equal(streamed, mel(x)), "stream != offline"
parts = [
    mel(x),
    fastmel.stft(x.astype(np.float64), n_fft=1000, hop_length=250),
    fastmel.stft(x, n_fft=777, hop_length=100),   # a size the shipped wisdom lacks
    fastmel.Convolver(ir)(x),
    fastmel.convolve(x, ir),
]
print(" ".join(hashlib.sha256(np.ascontiguousarray(p).tobytes()).hexdigest() for p in parts))
"""


def _run(mode):
    done = subprocess.run([sys.executable, "-W", "ignore", "-c", SCRIPT], capture_output=True,
                          text=True, env=dict(os.environ, FASTMEL_PLANS=mode))
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.parametrize("mode", ["machine", "portable"])
def test_results_are_identical_across_processes(mode):
    first, second = _run(mode), _run(mode)
    assert len(first) == 5
    # bit-identical across processes: the plans do not depend on timing
    assert first == second


def test_plans_do_not_depend_on_an_earlier_plan_in_the_process():
    # Planning other sizes first (different planner state) changes nothing.
    x = np.random.default_rng(1).standard_normal(9000).astype(np.float32)
    before = fastmel.stft(x, n_fft=512, hop_length=128)
    for n in (64, 300, 4096):
        fastmel.stft(x, n_fft=n, hop_length=64)
    after = fastmel.STFT(n_fft=512, hop_length=128)(x)
    assert hashlib.sha256(before.tobytes()).digest() == hashlib.sha256(after.tobytes()).digest()
