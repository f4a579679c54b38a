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

    # Every entry point at once: each call works or says the stream is busy.
    unexpected = []

    def chaos(t):
        r = np.random.default_rng(t)
        barrier.wait()
        for i in range(200):
            op = r.integers(5)
            try:
                if op == 0:
                    stream.flush()
                elif op == 1:
                    stream.reset()
                elif op == 2:
                    copy.deepcopy(stream)
                else:
                    stream.process(chunk[:int(r.integers(0, 700))])
            except RuntimeError as err:
                if "in use by another thread" not in str(err):
                    unexpected.append(repr(err))
            except fastmel.ParameterError as err:
                # an empty signal cannot be reflect-padded (flush right after reset)
                if "empty" not in str(err):
                    unexpected.append(repr(err))

    threads = [threading.Thread(target=chaos, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stream.reset()
    again = [stream.process(chunk), stream.flush()]
    fresh = STAGES[name]()
    want = [fresh.process(chunk), fresh.flush()]
    after = all(np.array_equal(a, b) for a, b in zip(again, want))
    print(json.dumps(dict(ok=len(outs), busy=len(other), same=same, tail=tail,
                          unexpected=unexpected[:5], after=after)))
"""


@pytest.mark.parametrize("name", ["mel", "mel-reflect", "stft", "mfcc", "bandpass", "convolver",
                                  "noise", "chain"])
def test_one_stream_hammered_from_threads(name):
    got = _run(_HAMMER, name)
    assert got["ok"] > 0
    assert got["same"] and got["tail"] and got["after"] and not got["unexpected"], got


def test_in_use_error_names_the_stream():
    """The flag is taken before anything else runs: a stream busy in one thread
    (here inside the conversion of a chunk whose ``__array__`` waits) refuses
    every entry point from another thread at once, and names itself (no timing
    luck needed)."""
    got = _run("""
        import json

        class Held:
            \"\"\"A chunk whose conversion waits until released.\"\"\"
            def __init__(self):
                self.inside, self.release = threading.Event(), threading.Event()
            def __array__(self, dtype=None, copy=None):
                self.inside.set()
                self.release.wait(30)
                return np.zeros(160, np.float32)

        out = {}
        for name, make in STAGES.items():
            s = make()
            s.process(np.zeros(160, np.float32))
            held = Held()
            th = threading.Thread(target=s.process, args=(held,))
            th.start()
            held.inside.wait(30)
            errors = []
            for call in (lambda: s.process(np.zeros(160, np.float32)), s.flush, s.reset,
                         lambda: pickle.dumps(s), lambda: copy.deepcopy(s)):
                try:
                    call()
                    errors.append(None)
                except RuntimeError as err:
                    errors.append(str(err))
            held.release.set()
            th.join()
            out[name] = errors
        print(json.dumps(out))
    """)
    names = dict(mel="FrameStream", bandpass="Bandpass", convolver="Convolver",
                 noise="NoiseMixer", chain="Chain")
    assert set(got) == {"mel", "mel-reflect", "stft", "mfcc", "bandpass", "convolver", "noise",
                        "chain"}
    for name, errors in got.items():
        assert all(e is not None for e in errors), (name, errors)
        kind = names.get(name, "FrameStream")
        assert all(f"this {kind} is in use by another thread" in e for e in errors), errors


_FUZZ = """
    import json
    name = sys.argv[1]
    rng = np.random.default_rng(5)
    stream = STAGES[name]()
    # far enough in that every buffer has moved (compactions), or, with
    # sys.argv[2] == "early", before a reflect-padded stream has started
    n = 100 if sys.argv[2] == "early" else 6000
    for piece in np.array_split(rng.standard_normal(n).astype(np.float32) * 0.1, 3):
        stream.process(piece)
    func, args = stream.__reduce__()
    rest = [rng.standard_normal(k).astype(np.float32) * 0.1 for k in (300, 5000, 1)]

    def leaf(v):
        \"\"\"Tampered versions of one field.\"\"\"
        yield from (None, "x", object())
        if isinstance(v, np.ndarray):
            yield v.ravel()
            yield v[None]
            yield v.tolist()
            yield v[..., :0]
            if v.ndim and v.shape[-1]:
                yield v[..., :-1]
            yield np.concatenate([v, v[..., :16]], axis=-1)
            yield v.astype(np.float32 if v.dtype == np.float64 else np.float64)
            yield v.astype(np.int32)
            for bad in (np.nan, np.inf, -np.inf):
                if v.size:
                    w = v.copy()
                    w.flat[v.size // 2] = bad
                    yield w
            yield np.asfortranarray(v)          # same values: must continue exactly
        elif isinstance(v, (bool, np.bool_)):
            yield from (not v, 1, 0)
        elif isinstance(v, (int, np.integer)):
            yield from (-1, -16, -10 ** 6, 10 ** 8, 2 ** 62, 2 ** 70, -2 ** 70, 1.5, float(v), True)
        elif isinstance(v, float):
            yield from (np.nan, -1.0, -np.inf, "1")
        elif isinstance(v, str):
            yield from ("int32", "foo", "")

    def tampered(v):
        \"\"\"(path, tampered copy of v) for every field of v, one at a time.\"\"\"
        if isinstance(v, dict):
            for key in v:
                yield f"drop {key}", {k: x for k, x in v.items() if k != key}
                for path, w in tampered(v[key]):
                    yield f"{key}/{path}", {**v, key: w}
            yield "extra key", {**v, "extra": 0}
        elif isinstance(v, (tuple, list)):
            yield "truncated", v[:-1]
            yield "longer", v + type(v)([0])
            yield "list", list(v) if isinstance(v, tuple) else tuple(v)
            for i, x in enumerate(v):
                for path, w in tampered(x):
                    yield f"{i}/{path}", v[:i] + type(v)([w]) + v[i + 1:]
        else:
            for w in leaf(v):
                yield type(w).__name__, w

    def run(s):
        return [s.process(c) for c in rest] + [s.flush()]

    want = run(func(*copy.deepcopy(args)))
    counts = dict(refused=0, exact=0, refused_later=0)
    bad = []
    # The state is the last argument; the others are the configuration, which the
    # constructors check (a valid other configuration is a valid other stream).
    cases = [("args truncated", args[:-1])] + [
        (path, args[:-1] + (w,)) for path, w in tampered(args[-1])]
    for path, targs in cases:
        targs = copy.deepcopy(targs)            # as unpickling makes new objects
        try:
            s = func(*targs)
        except (ValueError, TypeError):
            counts["refused"] += 1
            continue
        try:
            got = run(s)
        except (ValueError, TypeError):
            counts["refused_later"] += 1
            continue
        same = len(got) == len(want) and all(
            g.dtype == w.dtype and g.shape == w.shape and np.array_equal(g, w)
            for g, w in zip(got, want))
        if same:
            counts["exact"] += 1
        else:
            finite = all(np.all(np.isfinite(g)) for g in got)
            bad.append(f"{path}: finite={finite}")
    print(json.dumps(dict(counts=counts, bad=bad)))
"""


@pytest.mark.parametrize("name,when", [
    ("mel", "late"), ("mel-reflect", "early"), ("mel-reflect", "late"), ("stft", "late"),
    ("mfcc", "late"), ("bandpass", "late"), ("convolver", "late"), ("convolver", "early"),
    ("noise", "late"), ("chain", "late")])
def test_tampered_state_is_refused_or_continues_exactly(name, when):
    """Every field of a stream's reduced state, tampered one at a time (wrong type,
    shape, dtype, out-of-range integers, NaN/inf, truncated or extra fields), is
    restored as unpickling would: it raises ValueError/TypeError, or the stream
    continues exactly as the untampered one (never a crash, never other output)."""
    got = _run(_FUZZ, name, when)
    assert not got["bad"], got
    # a chain's own state is its leading shape (its stages' are fuzzed above)
    assert got["counts"]["refused"] > (0 if name == "chain" else 10), got


def test_chain_example_from_the_issue_continues_as_if_the_chunk_never_came():
    """Chain([Convolver([1, .9, .5]), Bandpass]): a chunk of 3e38 is refused, and
    the next good chunk is not, with the output of a chain that never saw it."""
    def chain():
        return fastmel.Chain([fastmel.Convolver([1, .9, .5]), fastmel.Bandpass(16000, 100, 7000)])
    rng = np.random.default_rng(4)
    good = [rng.standard_normal(500).astype(np.float32) for _ in range(2)]
    tried, ref = chain(), chain()
    outs = [tried.process(good[0])]
    with pytest.raises(fastmel.ParameterError):
        tried.process(np.full(160, 3e38, np.float32))
    outs += [tried.process(good[1]), tried.flush()]
    want = [ref.process(good[0]), ref.process(good[1]), ref.flush()]
    assert all(np.array_equal(a, b) for a, b in zip(outs, want))


@pytest.mark.parametrize("lead", [(), (2,)])
def test_chain_refused_by_a_later_stage_takes_every_stage_back(lead):
    """A chunk every stage but the last accepts (the feature stream refuses
    samples beyond its amplitude bound) leaves the convolver, the mixer and the
    filter as they were: the chain continues bit for bit as one that never saw
    it, at every point of the convolver's block schedule, on a first chunk, and
    for chunks larger than the convolver's input buffer (40000 samples: a whole
    snapshot instead of the log)."""
    rng = np.random.default_rng(6)
    ir = (rng.standard_normal(20000) * np.exp(-np.arange(20000) / 3000)).astype(np.float32)
    ir /= np.abs(ir).sum()
    noise = rng.standard_normal(lead + (777,)).astype(np.float32)
    mel = fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160, n_mels=40)

    def chain():
        return fastmel.Chain([fastmel.Convolver(ir, block_size=64),
                              fastmel.NoiseMixer(noise, gain=0.1),
                              fastmel.Bandpass(16000, 100, 7000), mel.stream()])
    tried, ref = chain(), chain()
    sizes = [0, 1, 7, 64, 160, 333, 1024, 4000, 9000, 40000]
    for i in range(120):
        if i == 0 or rng.random() < 0.4:
            bad = (rng.standard_normal(lead + (int(rng.choice(sizes[1:])),))
                   * 1e21).astype(np.float32)
            with pytest.raises(fastmel.ParameterError, match="magnitude"):
                tried.process(bad)
        k = int(rng.choice(sizes))
        x = (rng.standard_normal(lead + (k,)) * 0.1).astype(np.float32)
        got, want = tried.process(x), ref.process(x)
        assert got.shape == want.shape and np.array_equal(got, want), i
    assert np.array_equal(tried.flush(), ref.flush())


class _FailsHalfWay:
    """A stage of another kind that changes state, then raises, on its first chunk."""

    latency = 0

    def __init__(self):
        self.seen = 0

    def process(self, x):
        self.seen += x.shape[-1]
        if self.seen > 10:
            raise fastmel.ParameterError("too much")
        return x

    def flush(self):
        return np.zeros(0, np.float32)

    def reset(self):
        self.seen = 0


def test_chain_resets_a_foreign_stage_that_fails_on_the_first_chunk():
    stage = _FailsHalfWay()
    chain = fastmel.Chain([fastmel.Bandpass(16000, 100, 7000), stage])
    with pytest.raises(fastmel.ParameterError):
        chain.process(np.zeros(20, np.float32))
    assert stage.seen == 0  # reset, as the chain's other stages are taken back
    assert chain.process(np.zeros(5, np.float32)).shape == (5,)
