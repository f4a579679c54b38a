"""Safety the streams guarantee: one thread at a time, untrusted restored state,
atomic chains.  Anything that could crash runs in a subprocess, so a crash
fails the test instead of killing pytest."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastmel

# Stream factories shared by the subprocess scripts (each script defines STAGES).
_STAGES = textwrap.dedent("""
    import copy, pickle, sys, threading
    import numpy as np
    import fastmel

    rng = np.random.default_rng(0)
    IR = (rng.standard_normal(3000) * np.exp(-np.arange(3000) / 400)).astype(np.float32)
    NOISE = rng.standard_normal(1234).astype(np.float32)
    MEL = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40)
    STAGES = {
        "mel": lambda: MEL.stream(),
        "mel-reflect": lambda: fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160,
                                                      n_mels=40, pad_mode="reflect").stream(),
        "stft": lambda: fastmel.STFT(n_fft=256, hop_length=64).stream(),
        "mfcc": lambda: fastmel.MFCC(sr=16000, n_fft=400, hop_length=160, n_mels=40,
                                         top_db=None).stream(),
        "bandpass": lambda: fastmel.Bandpass(16000, 100, 7000),
        "convolver": lambda: fastmel.Convolver(IR, block_size=64),
        "noise": lambda: fastmel.NoiseMixer(NOISE, gain=0.1, offset=7),
        "chain": lambda: fastmel.Chain([fastmel.Convolver(IR, block_size=64),
                                        fastmel.NoiseMixer(NOISE, gain=0.1),
                                        fastmel.Bandpass(16000, 100, 7000), MEL.stream()]),
    }
""")


def _run(script, *args, timeout=120):
    """Run a script in a fresh interpreter; its last stdout line is JSON."""
    proc = subprocess.run([sys.executable, "-c", _STAGES + textwrap.dedent(script), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONFAULTHANDLER="1"))
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-3000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


_HAMMER = """
    import json
    name = sys.argv[1]
    sys.setswitchinterval(1e-6)
    stream = STAGES[name]()
    chunk = np.random.default_rng(1).standard_normal(700).astype(np.float32) * 0.1
    n_threads, rounds = 4, 300
    outs, other = [], []
    barrier = threading.Barrier(n_threads)

    def work(t):
        barrier.wait()
        for i in range(rounds):
            try:
                if t == 3 and i % 10 == 0:
                    # pickling and copying a stream in use are refused as well
                    copy.deepcopy(stream) if i % 20 else pickle.dumps(stream)
                else:
                    outs.append(stream.process(chunk))
            except RuntimeError as err:
                assert "in use by another thread" in str(err), err
                other.append("busy")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    # One thread at a time: the successful calls are a valid stream of len(outs)
    # chunks; their outputs, in some order, are the pieces of the offline result.
    ref = STAGES[name]()
    pieces = [ref.process(chunk) for _ in outs]
    key = lambda a: a.tobytes()
    same = sorted(map(key, outs)) == sorted(map(key, pieces))
    tail = np.array_equal(stream.flush(), ref.flush())
    print(json.dumps(dict(ok=len(outs), busy=len(other), same=same, tail=tail)))
"""


@pytest.mark.parametrize("name", ["mel", "mel-reflect", "stft", "mfcc", "bandpass", "convolver",
                                  "noise", "chain"])
def test_one_stream_hammered_from_threads(name):
    got = _run(_HAMMER, name)
    assert got["ok"] > 0
    assert got["same"] and got["tail"], got


def test_in_use_error_names_the_stream():
    """The flag is taken before the GIL is released: a stream busy in one thread
    refuses another at once (the check needs no timing luck)."""
    got = _run("""
        import json
        out = {}
        for name, make in STAGES.items():
            s = make()
            s.process(np.zeros(160, np.float32))
            if hasattr(s, "_in_use"):
                s._in_use.__enter__()       # as if another thread were inside
                try:
                    s.process(np.zeros(160, np.float32))
                except RuntimeError as err:
                    out[name] = str(err)
        print(json.dumps(out))
    """)
    assert set(got) == {"noise", "chain"}
    assert "this NoiseMixer is in use by another thread" in got["noise"]
    assert "this Chain is in use by another thread" in got["chain"]
