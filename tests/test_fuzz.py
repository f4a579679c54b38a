"""Property-based fuzz test of the public API (issue 8, SPEC section 1 "Errors and misuse").

Every public function, extractor and recording stage is driven by hypothesis
with ordinary and extreme parameters (zero, negative, NaN, 2**40, 2**63, wrong
types) and extreme signals: lengths 0, 1, below n_fft and primes; leading
shapes up to 4-D, soundfile's transposed ``(n, channels)`` layout; float16,
float32, float64 and non-float dtypes; strided, reversed, odd-stride
(a float field of a structured array), unaligned, read-only, Fortran-ordered,
broadcast and list input; NaN, inf, denormals, values near the float32 and
float64 limits.  Each example must end in one of two ways:

* a ``fastmel.ParameterError`` or ``TypeError`` with a non-empty message, or
* finite output, equal to librosa/scipy within SPEC section 2's tolerances
  wherever the input is finite and the reference defines a result; streams
  must give the offline result bit for bit for random chunkings, a rejected
  chunk must leave the stream as it was.

Anything else fails: another exception type, a RuntimeWarning (numpy overflow
or invalid arithmetic), non-finite output, non-finite input accepted, output
finite where the exact result overflows the output type, or a crash.

Isolation: every fastmel call runs in one long-lived worker process (numpy and
fastmel only) under a 4 GiB address-space limit, so an attempted huge
allocation surfaces as a ``MemoryError`` (a failure) instead of swapping the
machine, and a segfault or abort fails the example that caused it (the worker
is restarted for the next one).  The worker builds the memory layouts itself
(pickling would make them contiguous) and sends results back; reference
computations run here, in the test process.

Running more examples
---------------------
The normal run draws a few hundred examples in total, derandomized (the same
examples on every run, no example database), so CI is reproducible.  For a
long fuzzing session ask for a total number of examples::

    FASTMEL_FUZZ_EXAMPLES=5000 python -m pytest tests/test_fuzz.py
    python -m pytest tests/test_fuzz.py --fuzz-examples 5000

A long run draws fresh random examples every time (``--hypothesis-seed=N``
makes it repeatable).  A failure shows the job that failed, each input as a
``Signal(...)`` call that rebuilds it, and a ``@reproduce_failure`` blob.
``--hypothesis-show-statistics`` lists what happened to the examples
(refused, compared, not compared and why).

Hypothesis stops each test at its first failure.  To see every failing
example of a run instead, set ``FASTMEL_FUZZ_SURVEY=failures.jsonl``: failures
are appended to that file (test, message, job) and the tests pass.
"""
import functools
import json
import math
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import scipy.signal
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import librosa

from conftest import (
    DB_RANGE,
    DB_TOL,
    assert_bits_equal,
    assert_close_rel,
    cut,
    librosa_quiet,
    per_channel,
    rtol_for,
)

# --- budget ---------------------------------------------------------------------------------------

#: Examples over all fuzz tests in the normal run; FASTMEL_FUZZ_EXAMPLES (or
#: --fuzz-examples, see conftest.py) replaces it.
DEFAULT_TOTAL = 804
_requested = os.environ.get("FASTMEL_FUZZ_EXAMPLES", "").strip()
TOTAL = int(_requested) if _requested else DEFAULT_TOTAL
LONG_RUN = bool(_requested)

#: Relative share of the examples per test (normalised below).
_WEIGHTS = {
    "stft": 5, "melspectrogram": 5, "mel_filters": 3, "db": 5, "mfcc": 4, "frame": 2,
    "extractor": 7, "convolve": 4, "convolver": 4, "bandpass": 4, "noise": 4, "chain": 3,
    "istft": 4, "delta": 4, "pcen": 4, "get_window": 3, "whisper": 2, "kaldi": 4,
    "torchaudio": 3,
}

settings.register_profile(
    "fastmel-fuzz",
    deadline=None,
    database=None,
    derandomize=not LONG_RUN,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                           HealthCheck.filter_too_much],
)


SURVEY = os.environ.get("FASTMEL_FUZZ_SURVEY", "").strip()


def fuzz_test(name):
    """``@given(data=...)`` with the shared fuzz profile and this test's share of
    the examples; in a survey run failures are recorded instead of raised."""
    share = TOTAL * _WEIGHTS[name] / sum(_WEIGHTS.values())
    chosen = settings(settings.get_profile("fastmel-fuzz"), max_examples=max(1, math.ceil(share)))

    def decorate(test):
        inner = test
        if SURVEY:
            @functools.wraps(test)
            def inner(*args, **kwargs):
                try:
                    test(*args, **kwargs)
                except AssertionError as e:
                    with open(SURVEY, "a") as fh:
                        fh.write(json.dumps(dict(test=test.__name__, message=str(e))) + "\n")

        return chosen(given(data=st.data())(inner))

    return decorate


# --- code shared with the worker ------------------------------------------------------------------
#
# Executed here and in the worker, so both sides build the same layouts and
# call the same named callables.

_SHARED_SOURCE = r'''
import numpy as np


def make_layout(data, layout):
    """``data``'s values in the memory layout called ``layout``."""
    if layout == "contiguous" or data.ndim == 0 or (layout == "broadcast" and data.size == 0):
        return data
    if layout == "list":
        return data.tolist()
    if layout == "readonly":
        view = data.copy()
        view.setflags(write=False)
        return view
    if layout == "strided":
        wide = np.zeros(data.shape[:-1] + (2 * data.shape[-1],), dtype=data.dtype)
        wide[..., ::2] = data
        return wide[..., ::2]
    if layout == "reversed":
        return np.ascontiguousarray(data[..., ::-1])[..., ::-1]
    if layout == "field":
        # A packed record: the float sits after a 1- or 2-byte tag, so its
        # stride is not a multiple of its size and its start is unaligned.
        tag = "u1" if data.dtype.itemsize <= 2 else "u2"
        rec = np.zeros(data.shape, dtype=[("tag", tag), ("y", data.dtype)])
        rec["y"] = data
        return rec["y"]
    if layout == "unaligned":
        raw = np.zeros(data.nbytes + 1, dtype=np.uint8)
        view = raw[1:].view(data.dtype).reshape(data.shape)
        view[...] = data
        return view
    if layout == "fortran":
        return np.asfortranarray(data)
    if layout == "broadcast":
        # zero strides on the leading axes (the caller made every channel equal)
        return np.broadcast_to(data[(0,) * (data.ndim - 1)], data.shape)
    raise ValueError(layout)


def nan_window(n):
    return np.full(n, np.nan)


def scalar_window(n):
    return 1.0


def long_window(n):
    return np.ones(n + 1)


def symmetric_hann(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / max(n - 1, 1))


def nan_ref(S):
    return np.nan


def zero_ref(S):
    return 0.0


def short_window(n):
    return np.ones(max(n - 1, 0))


def matrix_window(n):
    return np.ones((2, n))


def complex_window(n):
    return np.ones(n, dtype=complex)


def zero_window(n):
    return np.zeros(n)


def huge_window(n):
    return np.full(n, 1e308)


def name_window(n):
    return "hann"


FUNCS = {f.__name__: f for f in (nan_window, scalar_window, long_window, symmetric_hann,
                                  nan_ref, zero_ref, short_window, matrix_window,
                                  complex_window, zero_window, huge_window, name_window)}
'''

_WORKER_SOURCE = _SHARED_SOURCE + r'''
import faulthandler
import importlib
import os
import pickle
import resource
import struct
import sys
import traceback
import warnings

faulthandler.enable()
_limit = int(os.environ["FASTMEL_FUZZ_WORKER_AS"])
resource.setrlimit(resource.RLIMIT_AS, (_limit, _limit))
# Replies go to a private copy of stdout; anything printed goes to stderr.
_reply = os.fdopen(os.dup(1), "wb")
os.dup2(2, 1)

import fastmel  # noqa: E402


def resolve(value, results):
    if isinstance(value, tuple) and value and isinstance(value[0], str) and value[0][:2] == "__":
        tag = value[0]
        if tag == "__array__":
            return make_layout(value[1], value[2])
        if tag == "__ref__":
            return results[value[1]]
        if tag == "__fn__":
            return FUNCS[value[1]]
    if isinstance(value, tuple):
        return tuple(resolve(v, results) for v in value)
    if isinstance(value, list):
        return [resolve(v, results) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, results) for k, v in value.items()}
    return value


def callee(target, results):
    if isinstance(target, str):
        module, _, name = target.rpartition(".")
        return getattr(importlib.import_module(module), name)
    return getattr(results[target[1]], target[2])


def summary(value):
    if isinstance(value, np.ndarray) or value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return ("__object__", type(value).__name__)


def run(steps):
    """Run the steps in order; a failing step ends the job unless it may fail."""
    results, errors, warned = [], {}, []
    for i, (target, args, kwargs, may_fail) in enumerate(steps):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                f = callee(target, results)
                if args is None:
                    value = f
                else:
                    value = f(*resolve(args, results), **resolve(kwargs, results))
            except BaseException as e:
                errors[i] = dict(type=type(e).__name__, module=type(e).__module__, message=str(e),
                                 parameter=isinstance(e, fastmel.ParameterError),
                                 type_error=isinstance(e, TypeError),
                                 traceback=traceback.format_exc(limit=-6))
                value = None
        warned += [(i, w.category.__name__, issubclass(w.category, RuntimeWarning),
                    str(w.message)) for w in caught]
        results.append(value)
        if i in errors and not may_fail:
            break
    return dict(results=[summary(r) for r in results], errors=errors, warnings=warned)


def main():
    stdin = sys.stdin.buffer
    send(("ready", os.getpid()))
    while True:
        head = stdin.read(8)
        if len(head) < 8:
            return
        (size,) = struct.unpack("<Q", head)
        steps = pickle.loads(stdin.read(size))
        try:
            send(run(steps))
        except MemoryError:
            send(dict(results=[], errors={0: dict(
                type="MemoryError", module="builtins", message="replying", parameter=False,
                type_error=False, traceback="MemoryError while pickling the results")},
                warnings=[]))


def send(obj):
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    _reply.write(struct.pack("<Q", len(payload)))
    _reply.write(payload)
    _reply.flush()


main()
'''

_shared = {}
exec(_SHARED_SOURCE, _shared)
make_layout = _shared["make_layout"]
FUNCS = _shared["FUNCS"]

#: Address-space limit of the worker: far above what any bounded example
#: needs, far below what an unchecked absurd size would try to allocate.
WORKER_ADDRESS_SPACE = 4 << 30
#: Seconds one job may take before the worker counts as hung.
JOB_TIMEOUT = 120.0


# --- the worker -----------------------------------------------------------------------------------

class WorkerFailure(AssertionError):
    """The worker died or hung on a job."""


class Worker:
    """One long-lived subprocess that runs jobs (lists of steps) and replies."""

    def __init__(self):
        self.proc = None
        self.stderr = None

    def start(self):
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ, FASTMEL_FUZZ_WORKER_AS=str(WORKER_ADDRESS_SPACE),
                   OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER_SOURCE],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env)
        hello = self._receive(60.0, "starting")
        assert hello[0] == "ready", hello

    def close(self):
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def run(self, steps, what):
        """Run ``steps`` in the worker; returns the reply (see ``run`` in the worker)."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        payload = pickle.dumps(steps, protocol=pickle.HIGHEST_PROTOCOL)
        self.stderr.seek(0)
        self.stderr.truncate()
        try:
            self.proc.stdin.write(struct.pack("<Q", len(payload)) + payload)
            self.proc.stdin.flush()
        except BrokenPipeError:
            pass  # it died: _receive reports how
        return self._receive(JOB_TIMEOUT, what)

    def _receive(self, timeout, what):
        head = self._read(8, timeout, what)
        (size,) = struct.unpack("<Q", head)
        return pickle.loads(self._read(size, timeout, what))

    def _read(self, size, timeout, what):
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < size:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                self.proc.kill()
                self._died(f"hung: no reply within {timeout:g} s", what)
            block = os.read(fd, min(size - got, 1 << 20))
            if not block:
                self._died("died", what)
            chunks.append(block)
            got += len(block)
        return b"".join(chunks)

    def _died(self, how, what):
        code = self.proc.wait()
        self.proc = None
        if code < 0:
            try:
                how += f" ({signal.Signals(-code).name})"
            except ValueError:
                how += f" (signal {-code})"
        else:
            how += f" (exit status {code})"
        self.stderr.seek(0)
        tail = self.stderr.read().decode(errors="replace")[-3000:]
        raise WorkerFailure(f"worker process {how} running {what}\n--- worker stderr ---\n{tail}")


@pytest.fixture(scope="module")
def worker():
    w = Worker()
    yield w
    w.close()


# --- jobs -----------------------------------------------------------------------------------------

def ref(i):
    """The result of step ``i``, as an argument."""
    return ("__ref__", i)


def fn(name):
    """A named callable from FUNCS (defined on both sides, so it crosses the pipe)."""
    return ("__fn__", name)


def step(target, *args, may_fail=False, **kwargs):
    """Call ``target`` (a dotted name, or ``(i, method)`` on step i's result)."""
    if isinstance(target, tuple):
        target = ("__ref__",) + target
    return (target, list(args), kwargs, may_fail)


def attribute(i, name):
    return (("__ref__", i, name), None, None, False)


def local(value):
    """A job argument as the test process sees it (markers resolved)."""
    if isinstance(value, tuple) and value and isinstance(value[0], str) and value[0][:2] == "__":
        if value[0] == "__fn__":
            return FUNCS[value[1]]
        if value[0] == "__array__":
            return value[1]
    if isinstance(value, tuple):
        return tuple(local(v) for v in value)
    if isinstance(value, list):
        return [local(v) for v in value]
    return value


def describe(value):
    """A short readable form of a job argument (arrays summarised)."""
    if isinstance(value, tuple) and value and value[0] == "__array__":
        return value[3]
    if isinstance(value, tuple) and value and value[0] == "__fn__":
        return f"<{value[1]}>"
    if isinstance(value, tuple) and value and value[0] == "__ref__":
        return f"[{value[1]}]"
    if isinstance(value, np.ndarray):
        return f"<ndarray {value.dtype} {value.shape}>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={describe(v)}" for k, v in value.items()) + "}"
    if callable(value):
        return getattr(value, "__name__", repr(value))
    return repr(value)


def describe_steps(steps):
    lines = []
    for i, (target, args, kwargs, may_fail) in enumerate(steps):
        name = target if isinstance(target, str) else f"[{target[1]}].{target[2]}"
        call = "" if args is None else "(" + ", ".join(
            [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]) + ")"
        lines.append(f"  [{i}] {name}{call}{'  # may fail' if may_fail else ''}")
    return "\n".join(lines)


class Outcome:
    """What a job did: results per step, errors, warnings."""

    def __init__(self, steps, reply):
        self.steps = steps
        self.results = reply["results"]
        self.errors = reply["errors"]
        self.warnings = reply["warnings"]

    @property
    def refusal(self):
        """The error that stopped the job (None if every required step ran)."""
        for i, err in self.errors.items():
            if not self.steps[i][3]:
                return err
        return None

    def __getitem__(self, i):
        return self.results[i]

    def fail(self, message):
        raise AssertionError(f"{message}\njob:\n{describe_steps(self.steps)}")


def _is_float_array(value):
    return isinstance(value, np.ndarray) and value.dtype.kind in "fc"


def run_job(worker, steps, *, nonfinite_input=False, finite_output=True):
    """Run ``steps`` and apply the outcome rules common to every example.

    Returns the Outcome; ``outcome.refusal`` is set when fastmel refused (a
    ParameterError or TypeError with a message).  Fails on a crash, a hang,
    another exception type, a RuntimeWarning, non-finite output, or
    ``nonfinite_input`` that came through without an error.
    """
    out = Outcome(steps, worker.run(steps, "\n" + describe_steps(steps)))
    for i, err in out.errors.items():
        if not (err["parameter"] or err["type_error"]):
            out.fail(f"step {i} raised {err['module']}.{err['type']} (expected ParameterError or "
                     f"TypeError): {err['message']}\n{err['traceback']}")
        if not err["message"].strip():
            out.fail(f"step {i} raised {err['type']} with an empty message\n{err['traceback']}")
    if out.refusal is not None:
        event(f"refused: {out.refusal['type']}")
        return out
    if nonfinite_input:
        out.fail("non-finite input was accepted (expected ParameterError)")
    for i, category, runtime, message in out.warnings:
        if runtime and i not in out.errors:
            out.fail(f"step {i} warned {category}: {message}")
    if finite_output:
        for i, value in enumerate(out.results):
            if _is_float_array(value) and not np.all(np.isfinite(value)):
                bad = int(np.sum(~np.isfinite(value)))
                out.fail(f"step {i} returned {bad} non-finite values of {value.size} "
                         f"({value.dtype} {value.shape})")
    event("accepted")
    return out


# --- signals --------------------------------------------------------------------------------------

# hypothesis draws the first and last entries of a sampled list most often:
# ordinary values sit there, extreme ones in between
FLOAT_DTYPES = ["float32", "float64", "float16", "float64", "float32"]
OTHER_DTYPES = ["int16", "complex64", "bool", "longdouble", "object"]
KINDS = ["noise", "sine", "zeros", "impulse", "const", "dtype-max", "f32-max", "denormal", "mixed",
         "clipped-speechlike"]
SCALES = [1.0, 1e-3, 1e-20, 1e-38, 1e-42, 1e-160, 1e-300, 1e10, 1e18, 1e20, 1e30, 1e150, 1e200,
          0.5]
LAYOUTS = ["contiguous", "strided", "reversed", "field", "unaligned", "readonly", "fortran",
           "broadcast", "list", "contiguous"]
SPECIAL_LENGTHS = [0, 1, 2, 3, 5, 7, 13, 61, 127, 509, 1021, 2003]
LEADS = [(), (1,), (2,), (0,), (3,), (2, 1), (1, 2, 2), ()]
#: soundfile's (n, channels) layout taken as n signals of `channels` samples
TRANSPOSED = (160,)


class Signal:
    """A drawn signal: its spec, its contiguous values, and the layout to pass."""

    def __init__(self, dtype, lead, n, kind, scale, special, layout, seed):
        self.spec = dict(dtype=dtype, lead=lead, n=n, kind=kind, scale=scale, special=special,
                         layout=layout, seed=seed)
        self.dtype = np.dtype(dtype)
        self.layout = layout
        rng = np.random.default_rng(seed)
        shape = tuple(lead) + (n,)
        v = _values(kind, shape, scale, self.dtype, rng)
        if layout == "broadcast" and v.ndim > 1 and v.size:
            v = np.broadcast_to(v[(0,) * (v.ndim - 1)], shape).copy()
        with np.errstate(over="ignore", invalid="ignore"):
            if self.dtype.kind == "b":
                data = v > 0
            elif self.dtype.kind in "iu":
                info = np.iinfo(self.dtype)
                data = np.clip(np.nan_to_num(v), info.min, info.max).astype(self.dtype)
            else:
                data = v.astype(self.dtype)
        if special is not None and data.size and self.dtype.kind in "fc":
            data.flat[int(rng.integers(0, data.size))] = {"nan": np.nan, "inf": np.inf,
                                                          "-inf": -np.inf}[special]
        self.data = data
        #: exactly what fastmel receives, as an array
        self.values = np.asarray(make_layout(data, layout))

    def arg(self, part=None):
        """This signal as a job argument (``part`` = (start, stop) on the last axis:
        a chunk, in the same layout)."""
        if part is None:
            return ("__array__", self.data, self.layout, self.describe())
        a, b = part
        return ("__array__", self.data[..., a:b], self.layout, f"{self.describe()}[..., {a}:{b}]")

    @property
    def shape(self):
        return self.data.shape

    @property
    def n(self):
        return self.data.shape[-1] if self.data.ndim else 0

    def is_float(self):
        return self.values.dtype.kind == "f"

    def converted(self, dtype=None):
        """The values as fastmel computes on them: float16 widened to float32,
        longdouble narrowed to float64, then cast to ``dtype`` when given."""
        v = self.values
        if v.dtype.kind != "f":
            return None
        if v.dtype not in (np.float32, np.float64):
            v = v.astype(np.float32 if v.dtype.itemsize < 4 else np.float64)
        if dtype is not None:
            with np.errstate(over="ignore"):
                v = v.astype(dtype)
        return v

    def finite(self, dtype=None):
        """False when the input fastmel will see is not all finite (None if not float)."""
        v = self.converted(dtype)
        return None if v is None else bool(np.all(np.isfinite(v)))

    def describe(self):
        """A constructor call that rebuilds this signal (``Signal(...).values``)."""
        s = self.spec
        return ("Signal({dtype!r}, {lead!r}, {n}, {kind!r}, {scale!r}, {special!r}, {layout!r}, "
                "{seed})".format(**s))


def _values(kind, shape, scale, dtype, rng):
    """float64 values of one kind (cast to the signal's dtype afterwards)."""
    size = int(np.prod(shape))
    big = np.finfo(dtype).max if dtype.kind in "fc" else 3e4
    tiny = np.finfo(dtype).smallest_subnormal if dtype.kind in "fc" else 1.0
    if kind == "noise":
        v = rng.standard_normal(size) * scale
    elif kind == "sine":
        t = np.arange(size)
        v = np.sin(2 * np.pi * rng.uniform(0, 0.5) * t + rng.uniform(0, 6)) * scale
    elif kind == "zeros":
        v = np.zeros(size)
    elif kind == "impulse":
        v = np.zeros(size)
        if size:
            v[int(rng.integers(0, size))] = scale
    elif kind == "const":
        v = np.full(size, scale)
    elif kind == "dtype-max":
        v = rng.choice([-1.0, 1.0], size) * rng.uniform(0.5, 1.0, size) * float(big)
    elif kind == "f32-max":
        v = rng.choice([-1.0, 1.0], size) * rng.uniform(0.9, 1.0, size) * 3.4028234e38
    elif kind == "denormal":
        v = rng.integers(-2000, 2001, size) * float(tiny)
    elif kind == "mixed":  # spans 83 decades on its own: no scale
        v = rng.standard_normal(size) * 10.0 ** rng.uniform(-45, 38, size)
    elif kind == "clipped-speechlike":
        v = np.clip(np.cumsum(rng.standard_normal(size)) * 0.05, -1, 1) * scale
    else:
        raise AssertionError(kind)
    return v.reshape(shape)


SPECIALS = (None,) * 6 + ("nan", "inf", "-inf") + (None,) * 6


def draw_signal(data, name="y", *, lengths=(), max_n=2500, leads=LEADS, transposed=False,
                dtypes=None, kinds=KINDS, specials=SPECIALS, layouts=LAYOUTS):
    """Draw a Signal; ``lengths`` adds lengths that matter for the test (around n_fft)."""
    label = lambda what: f"{name}.{what}"  # noqa: E731
    if dtypes is None:
        dtypes = FLOAT_DTYPES + OTHER_DTYPES if data.draw(
            st.integers(0, 7), label=label("exotic dtype?")) == 7 else FLOAT_DTYPES
    dtype = data.draw(st.sampled_from(dtypes), label=label("dtype"))
    lead_choices = list(leads) + (["transposed"] if transposed else [])
    lead = data.draw(st.sampled_from(lead_choices), label=label("lead"))
    if lead == "transposed":
        lead = TRANSPOSED
        n = data.draw(st.sampled_from([1, 2]), label=label("n"))
    else:
        extra = sorted({int(k) for k in lengths if 0 <= k <= max_n})
        choices = [st.sampled_from(SPECIAL_LENGTHS), st.integers(0, max_n)]
        if extra:
            choices.insert(1, st.sampled_from(extra))
        n = data.draw(st.one_of(*choices), label=label("n"))
    kind = data.draw(st.sampled_from(kinds), label=label("kind"))
    scale = data.draw(st.sampled_from(SCALES), label=label("scale"))
    special = data.draw(st.sampled_from(specials), label=label("special"))
    if np.dtype(dtype).kind == "O":
        layouts = ["contiguous"]
    layout = data.draw(st.sampled_from(layouts), label=label("layout"))
    seed = data.draw(st.integers(0, 2 ** 16), label=label("seed"))
    return Signal(dtype, lead, n, kind, scale, special, layout, seed)


# --- parameters -----------------------------------------------------------------------------------

NAN, INF = float("nan"), float("inf")
#: Absurd integers for sizes: must be refused before anything is allocated.
HUGE_INTS = [0, -1, 2 ** 31, 2 ** 40, 2 ** 62, 2 ** 63, 2 ** 64, 10 ** 30]
NOT_INTS = [1.5, 512.0, True, "512", None, NAN, INF, np.float64(3.0), [512]]
BAD_REALS = [0.0, -1.0, NAN, INF, -INF, 1e308, 5e-324, True, "1", None, 1j]

WINDOWS = ["hann", "window-array", "hamming", "blackman", "boxcar", "ones", "triang", "bartlett",
           "cosine", "nuttall", "blackmanharris", ("kaiser", 8.6), ("kaiser", 0.0),
           ("gaussian", 3.0), fn("symmetric_hann"), "hann", ("tukey", 0.5), 7, "flattop",
           ("chebwin", 100), ("dpss", 2.5), ("taylor", 5, 40)]
BAD_WINDOWS = [("kaiser", NAN), ("kaiser", INF), ("kaiser", 1e308), ("kaiser", -5.0),
               ("gaussian", 0.0), ("gaussian", -1.0), ("gaussian", NAN), ("gaussian", 1e-320),
               "bogus", "kaiser", None, ("kaiser",), ("hann", 3), ("dpss", -1.0),
               ("chebwin", 1e4), fn("nan_window"),
               fn("scalar_window"), fn("long_window"), "window-array-nan", "window-array-short",
               "window-array-2d"]
PAD_MODES = ["constant", "constant", "reflect", "edge", "symmetric", "linear_ramp"]
BAD_PAD_MODES = ["wrap", "mean", "maximum", "bogus", None, 3]


class Params:
    """Draws parameters; at most one per example is taken from its absurd values.

    ``absurd`` maps a parameter name to the extreme values it may take; about
    one example in four picks one such parameter, the others stay ordinary so
    the comparison with the reference gets exercised.
    """

    def __init__(self, data, absurd):
        self.data = data
        self.absurd = absurd
        self.chosen = None
        if data.draw(st.integers(0, 3), label="extreme parameter?") == 3:
            self.chosen = data.draw(st.sampled_from(sorted(absurd)), label="extreme parameter")

    def __call__(self, name, ordinary):
        if name == self.chosen:
            return self.data.draw(st.sampled_from(self.absurd[name]), label=name)
        return self.data.draw(ordinary, label=name)


def is_int(v, lo=1, hi=None):
    return (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
            and lo <= v and (hi is None or v <= hi))


def concrete_window(window, win_length):
    """Turn the array-window placeholders into arrays (other windows pass through)."""
    if not isinstance(window, str) or not window.startswith("window-array"):
        return window
    n = win_length if is_int(win_length, 1, 1 << 16) else 16
    w = np.random.default_rng(n).uniform(0.1, 1.0, n)
    if window == "window-array-nan":
        w[n // 2] = np.nan
    elif window == "window-array-short":
        w = w[:-1]
    elif window == "window-array-2d":
        w = np.stack([w, w])
    return w


FRAMING_ABSURD = {
    "n_fft": HUGE_INTS + NOT_INTS,
    "hop_length": HUGE_INTS + NOT_INTS,
    "win_length": HUGE_INTS + NOT_INTS,
    "window": BAD_WINDOWS,
    "center": [None, "yes", 2, np.bool_(True), [True]],
    "pad_mode": BAD_PAD_MODES,
}
MEL_ABSURD = {
    "sr": BAD_REALS + [1e9, 1e300, 1e-300, -16000],
    "n_mels": HUGE_INTS + NOT_INTS + [10 ** 7],
    "fmin": [-1.0, NAN, INF, 1e308, "0", None],
    "fmax": [0.0, -1.0, NAN, INF, 1e308, 1e6, "8000"],
    "htk": [None, "yes", 2],
    "norm": [0, -1, NAN, "bogus", "Slaney", [1]],
    "power": BAD_REALS + [1e-300, 500.0],
}


def draw_framing(p, *, default_hop=None):
    """n_fft, hop_length, win_length, window, center, pad_mode (librosa's names)."""
    n_fft = p("n_fft", st.one_of(st.sampled_from([512, 256, 64, 16, 2, 1, 31, 127, 400, 1024]),
                                 st.integers(1, 1100)))
    nf = n_fft if is_int(n_fft, 1, 4096) else 512
    win_length = p("win_length", st.one_of(st.none(), st.sampled_from([nf, 1, nf - 1 or 1]),
                                           st.integers(1, nf)))
    wl = win_length if is_int(win_length, 1, nf) else nf
    hops = [1, max(wl // 4, 1), nf, nf + 1, 160, 2 * nf + 3]
    hop = p("hop_length", st.one_of(st.just(default_hop), st.sampled_from(hops),
                                    st.integers(1, 2 * nf)))
    window = concrete_window(p("window", st.sampled_from(WINDOWS)), wl)
    center = p("center", st.sampled_from([True, True, False]))
    pad_mode = p("pad_mode", st.sampled_from(PAD_MODES))
    return dict(n_fft=n_fft, hop_length=hop, win_length=win_length, window=window,
                center=center, pad_mode=pad_mode), nf


def draw_mel(p):
    sr = p("sr", st.one_of(st.sampled_from([22050, 16000, 8000, 44100, 48000, 1000, 100]),
                           st.floats(50, 200000)))
    nyq = sr / 2 if isinstance(sr, (int, float)) and not isinstance(sr, bool) and 0 < sr < 1e7 \
        else 8000.0
    n_mels = p("n_mels", st.one_of(st.sampled_from([128, 80, 40, 1, 2, 13]), st.integers(1, 200)))
    fmin = p("fmin", st.one_of(st.sampled_from([0.0, 20.0, 300.0]), st.floats(0, nyq * 0.9)))
    fmin_ok = fmin if isinstance(fmin, float) and 0 <= fmin < nyq else 0.0
    fmax = p("fmax", st.one_of(st.none(), st.sampled_from([nyq, nyq * 2]),
                               st.floats(fmin_ok + 1.0, nyq + 1.0)))
    htk = p("htk", st.booleans())
    norm = p("norm", st.sampled_from(["slaney", "slaney", None, 1, 2, 1.5, np.inf]))
    return dict(sr=sr, n_mels=n_mels, fmin=fmin, fmax=fmax, htk=htk, norm=norm)


# --- reference comparisons ------------------------------------------------------------------------

def _precision(dtype):
    """float32 or float64: the precision of a real or complex dtype."""
    dtype = np.dtype(dtype)
    return np.dtype(np.float32) if dtype in (np.float32, np.complex64) else np.dtype(np.float64)


class NotComparable(Exception):
    """Raised by a reference function: SPEC 2 makes no claim for this result."""


def _working(dtype):
    """The working precision a ``dtype=`` argument asks for (None if it names none)."""
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        return None
    return dtype if dtype in (np.float32, np.float64) else None


def _reference(reference, precision):
    """reference(precision), or None (with an event) when the reference refuses."""
    try:
        return reference(precision)
    except NotComparable as e:
        event(f"not compared: {e}")
        raise
    except Exception as e:  # the reference library refusing leaves nothing to compare
        event(f"reference undefined: {type(e).__name__}")
        return None


def _as_tuple(r):
    return r if isinstance(r, tuple) else (r,)


def check_values(out, got, reference, work, what):
    """Compare ``got`` (finite, computed by fastmel in precision ``work``) with
    ``reference(precision)``, relative to the reference's largest magnitude.

    Where the reference in ``work`` overflows, a float64 reference decides: if
    it fits the output type it is the one to equal, otherwise fastmel's finite
    output hides an overflow.  Results whose largest magnitude is below
    ``tiny / rtol`` of ``work`` (where subnormal rounding alone exceeds the
    relative tolerance) only have to stay below that floor.
    """
    try:
        _check_values(out, got, reference, np.dtype(work), what)
    except NotComparable:
        pass


def _check_values(out, got, reference, work, what):
    r = _reference(reference, work)
    if r is None:
        return
    check_dtype, against = True, f"the {work} reference"
    limit = np.finfo(_precision(got.dtype)).max
    if not _fits(r, limit):
        r64 = _reference(reference, np.dtype(np.float64)) if work == np.float32 else None
        if r64 is None or not _fits(r64, limit):
            out.fail(f"{what}: the exact result is not finite in {got.dtype} (reference peak "
                     f"{_peak(r):.3g}, float64 reference peak "
                     f"{None if r64 is None else _peak(r64)}) but fastmel returned finite "
                     f"output (peak {_peak(got):.3g}): an overflow passed as a result")
        r, check_dtype = r64.astype(got.dtype), False
        against = "a float64 reference (the float32 one overflows)"
        event("compared with a float64 reference")
    if r.shape != got.shape:
        out.fail(f"{what}: shape {got.shape} != reference {r.shape}")
    if check_dtype and r.dtype != got.dtype:
        out.fail(f"{what}: dtype {got.dtype} != reference {r.dtype}")
    if r.size == 0:
        return
    # the coarser of the working and the output precision (stft(dtype=complex64)
    # of float64 audio computes in float64 and rounds to float32)
    rtol = max(rtol_for(work), rtol_for(_precision(got.dtype)))
    floor = np.finfo(work).tiny / rtol_for(work)
    if _peak(r) < floor:
        # Relative precision is lost in the subnormal range by every
        # implementation: only check that fastmel stays as small.
        event("result in the subnormal range: compared to an absolute floor")
        if _peak(got) > floor:
            out.fail(f"{what}: the reference peaks at {_peak(r):.3g} but fastmel's output at "
                     f"{_peak(got):.3g}")
        return
    try:
        # SPEC section 2: 1e-10 (float64) / 1e-5 (float32) of the largest magnitude.
        assert_close_rel(got, r, rtol, f"SPEC 2 tolerance for {work} ({what}), against {against}",
                         check_dtype=False)
    except AssertionError as e:
        out.fail(str(e))
    event("compared")


def _peak(a):
    a = np.asarray(a)
    if a.size == 0:
        return 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        return float(np.max(np.abs(a.astype(np.complex128 if a.dtype.kind == "c" else np.float64))))


def _fits(a, limit):
    a = np.asarray(a)
    return bool(np.all(np.isfinite(a))) and _peak(a) <= limit


def db_mask(db):
    """Where SPEC 2 compares dB values: above max - 80 dB (per channel beyond 2-D)."""
    if db.ndim > 2:
        peak = db.max(axis=(-2, -1), keepdims=True)
    else:
        peak = db.max()
    return db >= peak - DB_RANGE


def check_db(out, got, reference, work, what, *, amin):
    """Compare dB values within DB_TOL over the top DB_RANGE dB of the reference.

    ``reference(precision)`` returns the dB array, or ``(dB, power)`` when the
    power was itself computed from audio: then bins whose power (floored at
    ``amin``) is in the subnormal range of ``work`` are not compared, as their
    relative precision is lost in every implementation.
    """
    try:
        _check_db(out, got, reference, np.dtype(work), what, amin)
    except NotComparable:
        pass


def _check_db(out, got, reference, work, what, amin):
    r = _reference(reference, work)
    if r is None:
        return
    r = _as_tuple(r)
    check_dtype = True
    if not np.all(np.isfinite(r[0])):
        r64 = _reference(reference, np.dtype(np.float64)) if work == np.float32 else None
        r64 = None if r64 is None else _as_tuple(r64)
        if r64 is None or not np.all(np.isfinite(r64[0])):
            out.fail(f"{what}: the reference is not finite but fastmel returned finite dB "
                     f"values (range {got.min() if got.size else 0:.4g} .. "
                     f"{got.max() if got.size else 0:.4g})")
        r, check_dtype = r64, False
        event("compared with a float64 reference")
    db = r[0]
    if db.shape != got.shape:
        out.fail(f"{what}: shape {got.shape} != reference {db.shape}")
    if check_dtype and db.dtype != got.dtype:
        out.fail(f"{what}: dtype {got.dtype} != reference {db.dtype}")
    if db.size == 0:
        return
    mask = db_mask(db)
    if len(r) > 1 and r[1] is not None:
        mask &= np.maximum(r[1], amin) >= np.finfo(work).tiny / rtol_for(work)
    if not np.any(mask):
        event("not compared: dB of subnormal powers")
        return
    err = np.abs(got.astype(np.float64) - db.astype(np.float64))[mask]
    worst = float(np.max(err))
    if worst > DB_TOL:
        where = tuple(int(i) for i in np.argwhere(mask)[int(np.argmax(err))])
        # SPEC 2: 0.01 dB wherever the reference is within 80 dB of its maximum.
        out.fail(f"{what}: dB error {worst:.4g} > {DB_TOL} dB at {where} "
                 f"(got {got[where]:.6g}, reference {db[where]:.6g})")
    event("compared")


def check_stream(out, offline, parts, what):
    """The stream's outputs concatenated equal the offline result bit for bit."""
    parts = [p for p in parts if p is not None]
    try:
        assert all(isinstance(p, np.ndarray) for p in parts), [type(p) for p in parts]
        joined = np.concatenate(parts, axis=-1)
        assert_bits_equal(joined, offline, what)
    except (AssertionError, ValueError) as e:
        out.fail(f"{what}: {e}\nshapes: {[p.shape for p in parts]} vs offline {offline.shape}")


# --- librosa references ---------------------------------------------------------------------------

def _audio_floor(y):
    """Features of audio whose peak is subnormal carry only the few bits of its
    samples: SPEC 2's relative tolerance cannot hold there."""
    y = np.asarray(y)
    if y.size and _peak(y) < np.finfo(y.dtype).tiny / rtol_for(y.dtype):
        raise NotComparable("audio in the subnormal range")


def _padded_whole(y, kw):
    """``y`` and librosa keywords with the centre padding applied to the whole
    signal by numpy.pad, which is what librosa documents and fastmel computes.
    librosa pads its last frames from a short slice of the signal's end instead;
    with hop_length > n_fft // 2 that slice can be shorter than the padding, and
    reflect padding then differs (README, Parity with librosa)."""
    if not kw.get("center", True) or kw.get("pad_mode", "constant") == "constant" or y.ndim < 1:
        return y, kw
    pad = [(0, 0)] * (y.ndim - 1) + [(kw["n_fft"] // 2, kw["n_fft"] // 2)]
    try:
        padded = np.pad(y, pad, mode=kw["pad_mode"])
    except ValueError:  # numpy cannot pad it (an empty signal): librosa decides
        return y, kw
    return padded, dict(kw, center=False)


def librosa_stft(y, kw, out_dtype=None):
    _audio_floor(y)
    kw = dict(kw, window=local(kw["window"]))
    y, kw = _padded_whole(y, kw)
    return librosa_quiet(librosa.stft, y, dtype=out_dtype, **kw)


def librosa_mel_power(y, sr, framing, mel, power):
    _audio_floor(y)
    if isinstance(power, (int, float)) and power < 1:
        # d(x**p)/dx is unbounded at 0 for p < 1: a rounding error e in a bin
        # near zero becomes e**p, far beyond a relative tolerance of the peak.
        raise NotComparable(f"power={power} < 1")
    kw = dict(framing, window=local(framing["window"]))
    y, kw = _padded_whole(y, kw)
    basis = _librosa_mel_basis(sr, kw["n_fft"], mel)
    if y.dtype in (np.float32, np.float64) and power != 2.0:
        # The kernel forms |X|**p from |X|**2 in the working precision (as the
        # power spectrum every mel path shares): where |X|**2 is subnormal, its
        # few bits are all a power p != 2 has.  README: spectra whose squares
        # fall below the normal range.
        spec = librosa_quiet(librosa.stft, y.astype(np.float64), **kw)
        if spec.size and _peak(spec) ** 2 < np.finfo(y.dtype).tiny / rtol_for(y.dtype):
            raise NotComparable("power spectrum in the subnormal range")
    result = librosa_quiet(librosa.feature.melspectrogram, y=y, sr=sr, power=power, **kw, **mel)
    empty = ~basis.any(axis=1)
    if empty.any() and np.isnan(result[..., empty, :]).any():
        # librosa forms 0 x inf where an empty filter meets a bin whose power
        # overflowed; the band integrates nothing, exactly 0
        result = result.copy()
        result[..., empty, :] = 0
    _rounding_noise_only(y, kw, basis, power, result)
    return result


def _librosa_mel_basis(sr, n_fft, mel):
    """librosa's dense mel matrix in float64, where this (unlimited) process can
    afford it and librosa's normalisation defines it."""
    if not isinstance(n_fft, int) or mel.get("n_mels", 128) * (n_fft // 2 + 1) * 8 > 2 ** 29:
        # fastmel builds large banks a block at a time; librosa's dense
        # reference would take gigabytes here, outside the worker's limit
        raise NotComparable("librosa's dense mel matrix would exceed 512 MiB")
    basis = librosa_quiet(librosa.filters.mel, sr=sr, n_fft=n_fft, dtype=np.float64, **mel)
    if not np.all(np.isfinite(basis)):
        # librosa divides an empty filter by its zero norm (norm=inf, 1, 2, ...);
        # fastmel keeps it zero
        raise NotComparable("librosa's mel filters are NaN (an empty filter normalised)")
    return basis


def _rounding_noise_only(y, framing, basis, power, result):
    """An FFT's rounding error in every bin is relative to the spectrum's peak,
    not to the bin: mel bands that miss the peak (fmin/fmax away from it) and
    hold less than 16 eps / rtol of what the peak would give them are mostly
    that rounding, in fastmel and librosa alike.  SPEC 2's tolerance, relative
    to the largest band, is not a claim there."""
    if not isinstance(power, (int, float)) or result.size == 0 or y.size == 0:
        return
    work = np.dtype(y.dtype)
    with np.errstate(over="ignore"):  # an infinite reach compares nothing
        spec = np.abs(librosa_quiet(librosa.stft, y.astype(np.float64), **framing)) ** power
    reach = _peak(spec) * float(np.max(np.sum(np.abs(basis), axis=1), initial=0.0))
    if _peak(result) < 16 * np.finfo(work).eps / rtol_for(work) * reach:
        raise NotComparable("mel bands hold only rounding noise of a spectral peak outside them")


def librosa_db(S, *, ref, amin, top_db, amplitude=False):
    """power_to_db / amplitude_to_db, per channel beyond 2-D (librosa 1.0 / fastmel)."""
    func = librosa.amplitude_to_db if amplitude else librosa.power_to_db
    ref = local(ref)
    if np.ndim(S) > 2:
        return per_channel(lambda s: librosa_quiet(func, s, ref=ref, amin=amin, top_db=top_db),
                           S, 2)
    return librosa_quiet(func, S, ref=ref, amin=amin, top_db=top_db)


# --- tests: functions -----------------------------------------------------------------------------

@fuzz_test("stft")
def test_fuzz_stft(data, worker):
    absurd = dict(FRAMING_ABSURD, dtype=[np.int16, np.float32, "complex256", "bogus", np.complex64])
    p = Params(data, absurd)
    framing, nf = draw_framing(p)
    out_dtype = p("dtype", st.sampled_from([None, None, np.complex64, np.complex128]))
    y = draw_signal(data, lengths=[nf - 1, nf, nf + 1, nf // 2], transposed=True)
    out = run_job(worker, [step("fastmel.stft", y.arg(), dtype=out_dtype, **framing)],
                  nonfinite_input=y.finite() is False)
    if out.refusal or not y.is_float():
        return
    work = y.converted().dtype
    check_values(out, out[0], lambda prec: librosa_stft(y.converted(prec), framing, out_dtype),
                 work, "stft")


@fuzz_test("melspectrogram")
def test_fuzz_melspectrogram(data, worker):
    p = Params(data, dict(FRAMING_ABSURD, **MEL_ABSURD))
    framing, nf = draw_framing(p, default_hop=512)
    mel = draw_mel(p)
    sr = mel.pop("sr")
    power = p("power", st.sampled_from([2.0, 1.0, 0.5, 3.0]))
    from_S = data.draw(st.integers(0, 4), label="from S?") == 4
    if from_S:
        S = draw_signal(data, "S", leads=[(9,), (257,), (1,), (2, 5), (2, 1, 3)], max_n=300)
        job = [step("fastmel.feature.melspectrogram", S=S.arg(), sr=sr, **mel)]
        out = run_job(worker, job, nonfinite_input=S.finite() is False)
        if out.refusal or not S.is_float() or S.values.ndim < 2:
            return
        check_values(out, out[0], lambda prec: librosa_quiet(
            librosa.feature.melspectrogram, S=S.converted(prec), sr=sr, **mel),
            S.converted().dtype, "melspectrogram(S=...)")
        return
    y = draw_signal(data, lengths=[nf - 1, nf, nf + 1], transposed=True)
    job = [step("fastmel.feature.melspectrogram", y=y.arg(), sr=sr, power=power, **framing, **mel)]
    out = run_job(worker, job, nonfinite_input=y.finite() is False)
    if out.refusal or not y.is_float():
        return
    check_values(out, out[0], lambda prec: librosa_mel_power(y.converted(prec), sr, framing, mel,
                                                             power),
                 y.converted().dtype, "melspectrogram")


@fuzz_test("mel_filters")
def test_fuzz_mel_filters(data, worker):
    p = Params(data, dict(MEL_ABSURD, n_fft=HUGE_INTS + NOT_INTS,
                          dtype=[np.float16, np.int32, np.complex64, "float32", None, "bogus"]))
    mel = draw_mel(p)
    n_fft = p("n_fft", st.one_of(st.sampled_from([2048, 512, 1, 2, 3, 31]), st.integers(1, 4096)))
    dtype = p("dtype", st.sampled_from([np.float32, np.float64]))
    out = run_job(worker, [step("fastmel.filters.mel", n_fft=n_fft, dtype=dtype, **mel)])
    if out.refusal:
        return
    got = out[0]
    if got.dtype not in (np.float32, np.float64):
        event("mel filters of a dtype without a tolerance: not compared")
        return
    check_values(out, got, lambda prec: librosa_quiet(librosa.filters.mel, n_fft=n_fft,
                                                      dtype=dtype, **mel),
                 np.dtype(dtype), "filters.mel")


DB_ABSURD = {
    "ref": [NAN, INF, -INF, fn("nan_ref"), "max", None, 1j],
    "amin": [0.0, -1.0, NAN, INF, 5e-324, 1e-45, 1e-40, 1e-320, "1e-10", None],
    "top_db": [-1.0, NAN, INF, -INF, "80", 1e308],
}


@fuzz_test("db")
def test_fuzz_db(data, worker):
    amplitude = data.draw(st.booleans(), label="amplitude_to_db?")
    p = Params(data, DB_ABSURD)
    ref = p("ref", st.sampled_from([1.0, 1.0, np.max, 0.5, 1e-20, 1e20, 0.0, -1.0, np.median,
                                    fn("zero_ref")]))
    amin = p("amin", st.sampled_from([1e-10, 1e-5, 1e-10, 1e-20, 1e-30, 1e-37, 1e-38, 1.0, 100.0,
                                      1e-300]))
    top_db = p("top_db", st.sampled_from([80.0, None, 0.0, 120.0, 40.0, 1e-3]))
    S = draw_signal(data, "S", leads=[(9,), (129,), (1,), (2, 5), (3, 2, 4), (2, 1, 2, 3), ()],
                    max_n=300)
    name = "amplitude_to_db" if amplitude else "power_to_db"
    out = run_job(worker, [step(f"fastmel.{name}", S.arg(), ref=ref, amin=amin, top_db=top_db)],
                  nonfinite_input=S.finite() is False)
    if out.refusal or not S.is_float():
        return
    check_db(out, out[0], lambda prec: librosa_db(S.converted(prec), ref=ref, amin=amin,
                                                  top_db=top_db, amplitude=amplitude),
             S.converted().dtype, name, amin=0.0)


MFCC_ABSURD = {
    "n_mfcc": HUGE_INTS + NOT_INTS,
    "dct_type": [0, 4, None, "2", 2.0],
    "norm": ["bogus", "ORTHO", 1],
    "lifter": [-1, NAN, INF, 1e308, "22", 1e-300],
    "mel_norm": [0, -1, NAN, "bogus"],
}


def draw_mfcc(p):
    return dict(n_mfcc=p("n_mfcc", st.sampled_from([20, 13, 1, 40, 200])),
                dct_type=p("dct_type", st.sampled_from([2, 1, 3])),
                norm=p("norm", st.sampled_from(["ortho", None])),
                lifter=p("lifter", st.sampled_from([0, 0, 22, 1.5, 1000])))


def librosa_mfcc(y, sr, framing, mel, power, cep, *, top_db=80.0, ref=1.0, amin=1e-10):
    """librosa.feature.mfcc with a mel normalisation and dB options (the steps
    librosa's mfcc takes), per channel as the top_db floor is per channel.
    Returns (mfcc, dB mel, mel power)."""
    lead = y.shape[:-1]
    results = None
    for idx in np.ndindex(*lead):
        P = librosa_mel_power(y[idx], sr, framing, mel, power)
        S_db = librosa_quiet(librosa.power_to_db, P, ref=local(ref), amin=amin, top_db=top_db)
        M = librosa_quiet(librosa.feature.mfcc, S=S_db, **cep)
        if results is None:
            results = [np.empty(lead + a.shape, dtype=a.dtype) for a in (M, S_db, P)]
        for r, a in zip(results, (M, S_db, P)):
            r[idx] = a
    if results is None:
        raise NotComparable("no channels")
    return tuple(results)


def mfcc_reference(y, sr, framing, mel, power, cep, *, top_db=80.0, ref=1.0, amin=1e-10):
    """The reference MFCC as a function of the precision, raising NotComparable
    where SPEC 2 makes no claim: dB mel values spanning more than 80 dB (per
    channel) or powers in the subnormal range."""
    def reference(prec):
        M, db, P = librosa_mfcc(y(prec), sr, framing, mel, power, cep, top_db=top_db, ref=ref,
                                amin=amin)
        if db.size and np.all(np.isfinite(P)):
            lowest = db.min(axis=(-2, -1)) if db.ndim > 2 else db.min()
            highest = db.max(axis=(-2, -1)) if db.ndim > 2 else db.max()
            if np.any(lowest < highest - DB_RANGE):
                raise NotComparable("mfcc of dB values spanning more than 80 dB")
            if np.any(np.maximum(P, amin) < np.finfo(prec).tiny / rtol_for(prec)):
                raise NotComparable("mfcc of subnormal powers")
        return M

    return reference


@fuzz_test("mfcc")
def test_fuzz_mfcc(data, worker):
    p = Params(data, {**FRAMING_ABSURD, **MEL_ABSURD, **MFCC_ABSURD})
    cep = draw_mfcc(p)
    mel_norm = p("mel_norm", st.sampled_from(["slaney", None, 1, 2]))
    framing, nf = draw_framing(p, default_hop=512)
    mel = draw_mel(p)
    sr = mel.pop("sr")
    mel.pop("norm")
    power = p("power", st.sampled_from([2.0, 1.0]))
    if data.draw(st.integers(0, 4), label="from S?") == 4:
        S = draw_signal(data, "S", leads=[(40,), (1,), (2, 13), (2, 1, 20)], max_n=200,
                        kinds=["noise", "const", "zeros", "mixed", "dtype-max", "denormal"])
        out = run_job(worker, [step("fastmel.feature.mfcc", S=S.arg(), sr=sr, **cep)],
                      nonfinite_input=S.finite() is False)
        if out.refusal or not S.is_float() or S.values.ndim < 2:
            return
        check_values(out, out[0], lambda prec: librosa_quiet(librosa.feature.mfcc,
                                                             S=S.converted(prec), **cep),
                     S.converted().dtype, "mfcc(S=...)")
        return
    y = draw_signal(data, lengths=[nf - 1, nf, nf + 1], transposed=True)
    mel_full = dict(mel, norm=mel_norm)
    out = run_job(worker, [step("fastmel.feature.mfcc", y=y.arg(), sr=sr, mel_norm=mel_norm,
                                power=power, **cep, **framing, **mel)],
                  nonfinite_input=y.finite() is False)
    if out.refusal or not y.is_float():
        return
    reference = mfcc_reference(y.converted, sr, framing, mel_full, power, cep)
    got = out[0]
    if cep.get("lifter") and isinstance(got, np.ndarray) and got.ndim >= 2:
        # Liftering scales coefficient k by 1 + (L/2) sin(pi (k+1) / L), up to
        # 501x for L = 1000: the rounding of the dB values it multiplies is
        # scaled with it.  The tolerance applies before that exact scaling.
        gain = _lifter_gain(cep["lifter"], got.shape[-2])
        got = got / gain.astype(got.dtype)
        reference = (lambda ref: lambda prec: ref(prec) / gain.astype(prec))(reference)
    check_values(out, got, reference, y.converted().dtype, "mfcc")


def _lifter_gain(lifter, n_mfcc):
    """The liftering factors where they amplify (|factor| >= 1), else 1 (a factor
    near 0 would turn the comparison into one of rounding noise)."""
    k = np.arange(n_mfcc, dtype=np.float64)
    gain = 1 + (lifter / 2) * np.sin(np.pi * (k + 1) / lifter)
    return np.where(np.abs(gain) >= 1, gain, 1.0)[:, None]


@fuzz_test("frame")
def test_fuzz_frame(data, worker):
    p = Params(data, {"frame_length": HUGE_INTS + NOT_INTS, "hop_length": HUGE_INTS + NOT_INTS,
                      "axis": [5, -6, 1.0, None, "0", 2 ** 63]})
    x = draw_signal(data, "x", leads=[(), (3,), (2, 1), (1, 2, 2)], max_n=400,
                    dtypes=FLOAT_DTYPES + ["int16", "complex64", "bool"])
    frame_length = p("frame_length", st.one_of(st.sampled_from([1, 2, 16, 400]),
                                               st.integers(1, 64)))
    hop_length = p("hop_length", st.one_of(st.sampled_from([1, 2, 160]), st.integers(1, 64)))
    axis = p("axis", st.sampled_from([-1, -1, 0, 1, -2, -x.values.ndim]))
    out = run_job(worker, [step("fastmel.util.frame", x.arg(), frame_length=frame_length,
                                hop_length=hop_length, axis=axis)], finite_output=False)
    if out.refusal:
        return
    got = out[0]
    try:
        expected = librosa.util.frame(x.values, frame_length=frame_length, hop_length=hop_length,
                                      axis=axis)
    except Exception as e:  # the reference refuses: nothing to compare
        event(f"reference undefined: {type(e).__name__}")
        return
    if got.shape != expected.shape or got.dtype != expected.dtype or not np.array_equal(
            got, expected, equal_nan=got.dtype.kind in "fc"):
        out.fail(f"frame: {got.dtype} {got.shape} differs from librosa's "
                 f"{expected.dtype} {expected.shape}")
    event("compared")


# --- tests: extractors and their streams ----------------------------------------------------------

#: Chunks per stream; the rest of the signal goes in one last chunk.
MAX_CHUNKS = 64


def draw_chunking(data, n, nf, hop, name="chunks"):
    """(start, stop) chunks: sizes drawn around the hop and n_fft, used cyclically."""
    sizes = data.draw(st.lists(st.one_of(
        st.sampled_from([0, 1, 2, 3, 7, 13, hop, hop - 1, hop + 1, nf, nf - 1, 160]),
        st.integers(0, 700)), min_size=1, max_size=8), label=name)
    bounds = cut(n, [max(int(s), 0) for s in sizes])
    if len(bounds) > MAX_CHUNKS:
        bounds = bounds[:MAX_CHUNKS - 1] + [(bounds[MAX_CHUNKS - 1][0], n)]
    return bounds


BAD_CHUNKS = [None, None, "nan", "int16", "complex", "channels"]


def draw_bad_chunk(data, x, n_chunks):
    """Maybe a chunk the stream must reject, and where it goes (before chunk i).

    A chunk of another channel layout is only wrong once a first chunk has
    fixed the layout; signals without channels carry no samples to reject."""
    kind = data.draw(st.sampled_from(BAD_CHUNKS), label="rejected chunk")
    at = data.draw(st.integers(0, n_chunks - 1), label="rejected chunk before")
    if kind == "channels":
        at = max(at, 1)
        if at >= n_chunks:
            kind = None
    if 0 in x.shape[:-1]:
        kind = None
    if kind is None:
        return None, 0
    lead = x.values.shape[:-1]
    dtype = x.values.dtype if x.values.dtype.kind == "f" else np.dtype(np.float32)
    chunk = {"nan": lambda: np.full(lead + (3,), np.nan, dtype=dtype),
             "int16": lambda: np.zeros(lead + (3,), dtype=np.int16),
             "complex": lambda: np.zeros(lead + (3,), dtype=np.complex64),
             "channels": lambda: np.zeros(lead + (2, 3), dtype=dtype)}[kind]()
    return ("__array__", chunk, "contiguous", f"<{kind} chunk {chunk.dtype} {chunk.shape}>"), at


def stream_steps(first, x, bounds, bad=None, bad_at=0):
    """Steps after step ``first`` (the stream, the last step so far): process
    every chunk of ``x``, the rejected chunk ``bad`` before chunk ``bad_at``, flush.
    Returns the steps, the step indices whose results make up the output and
    the index of the rejected chunk's step (None without one)."""
    steps, parts, bad_step = [], [], None
    for j, (a, b) in enumerate(bounds):
        if bad is not None and j == bad_at:
            bad_step = first + 1 + len(steps)
            steps.append(step((first, "process"), bad, may_fail=True))
        parts.append(first + 1 + len(steps))
        steps.append(step((first, "process"), x.arg((a, b))))
    parts.append(first + 1 + len(steps))
    steps.append(step((first, "flush")))
    return steps, parts, bad_step


def check_rejected(out, bad_step):
    """The rejected chunk raised (ParameterError/TypeError, checked by run_job)."""
    if bad_step is not None and bad_step < len(out.results) and bad_step not in out.errors:
        out.fail(f"step {bad_step}: the stream accepted a chunk it must reject")


def check_offline_and_stream(out, offline_step, stream_steps_from, parts, what):
    """Offline (a may-fail step) and stream agree: both refuse, or both give the same bits."""
    offline_error = out.errors.get(offline_step)
    if out.refusal is not None:
        refused_at = min(i for i, e in out.errors.items() if not out.steps[i][3])
        # A stream decides its layout from its first chunk, which is short by
        # nature: it refuses a first chunk shaped like soundfile's (frames,
        # channels) by a stricter rule than the offline call (README, Streaming).
        layout_rule = "(frames, channels) layout" in out.errors[refused_at]["message"]
        if refused_at >= stream_steps_from and offline_error is None and not layout_rule:
            out.fail(f"{what}: the stream refused step {refused_at} of a signal the offline call "
                     f"accepts: {out.errors[refused_at]['message']}")
        return False
    if offline_error is not None:
        produced = [out[i] for i in parts]
        if "(frames, channels) layout" in offline_error["message"]:
            # an empty first chunk fixes a stream's layout (README, Streaming)
            event("offline refused the layout, the stream took it from an empty chunk")
            return False
        if any(isinstance(p, np.ndarray) and p.size for p in produced):
            out.fail(f"{what}: the offline call refused ({offline_error['message']}) but the "
                     f"stream returned {[p.shape for p in produced]}")
        event("offline refused, stream returned nothing")
        return False
    check_stream(out, out[offline_step], [out[i] for i in parts], what)
    return True


def fuzz_stage(data, worker, y, maker, name, *, chunk, nonfinite, function=None):
    """The fuzz test of a stream stage against its offline call: step ``maker``
    makes the stage, called on ``y``; ``function`` (a step computing the same
    offline, or None) must agree with that call; a stream fed ``y`` in drawn
    chunks (``chunk``: the size that matters), maybe with a chunk it must
    reject, then flushed, must give the offline bits."""
    bounds = draw_chunking(data, y.n, chunk, 1)
    bad, bad_at = draw_bad_chunk(data, y, len(bounds))
    steps = [maker, step((0, "__call__"), y.arg(), may_fail=True)]
    if function is not None:
        steps.append(function)
    steps.append(step((0, "stream")))
    more, parts, bad_step = stream_steps(len(steps) - 1, y, bounds, bad, bad_at)
    out = run_job(worker, steps + more, nonfinite_input=nonfinite)
    check_rejected(out, bad_step)
    if not check_offline_and_stream(out, 1, len(steps), parts, f"{name} stream"):
        return
    if function is not None:
        if 2 in out.errors:
            out.fail(f"{function[0]} refused what {name} accepts: {out.errors[2]['message']}")
        check_stream(out, out[2], [out[1]], f"{name} offline vs {function[0]}")


EXTRACTOR_ABSURD = dict({**FRAMING_ABSURD, **MEL_ABSURD, **MFCC_ABSURD, **DB_ABSURD},
                        dtype=[np.float16, np.int16, np.complex64, "float32", None, "bogus"],
                        to_db=[None, "no", 2])


@fuzz_test("extractor")
def test_fuzz_extractor(data, worker):
    which = data.draw(st.sampled_from(["MelSpectrogram", "STFT", "MFCC"]), label="extractor")
    p = Params(data, EXTRACTOR_ABSURD)
    framing, nf = draw_framing(p, default_hop=512 if which != "STFT" else None)
    dtype = p("dtype", st.sampled_from([np.float32, np.float64]))
    kw = dict(framing, dtype=dtype)
    mel = power = cep = None
    amin, ref, top_db, to_db = 1e-10, 1.0, None, False
    if which != "STFT":
        mel = draw_mel(p)
        power = p("power", st.sampled_from([2.0, 1.0, 0.5]))
        amin = p("amin", st.sampled_from([1e-10, 1e-5, 1e-20, 1e-38]))
        ref = p("ref", st.sampled_from([1.0, 1.0, 1e-3, 10.0]))
        top_db = p("top_db", st.sampled_from([None, None, 80.0, 40.0]))
        kw.update(mel, power=power, amin=amin, ref=ref, top_db=top_db)
        if which == "MelSpectrogram":
            to_db = p("to_db", st.booleans())
            kw["to_db"] = to_db
        else:
            cep = draw_mfcc(p)
            kw.update(cep, mel_norm=kw.pop("norm"))
    y = draw_signal(data, lengths=[nf - 1, nf, nf + 1, nf // 2], transposed=True)
    hop = framing["hop_length"] if is_int(framing["hop_length"], 1, 1 << 16) else 1
    bounds = draw_chunking(data, y.n, nf, hop)
    bad, bad_at = draw_bad_chunk(data, y, len(bounds))
    work = _working(dtype)
    nonfinite = y.finite(work) is False if work is not None else False
    if top_db is not None and (which == "MFCC" or to_db):
        # a floor relative to the whole signal's maximum cannot stream: stream()
        # must refuse, and the offline call is checked alone
        steps = [step(f"fastmel.{which}", **kw), step((0, "stream"), may_fail=True),
                 step((0, "__call__"), y.arg())]
        out = run_job(worker, steps, nonfinite_input=nonfinite)
        if out.refusal:
            return
        if 1 not in out.errors:
            out.fail(f"stream() accepted top_db={top_db}, which needs the whole signal")
        offline = out[2]
    else:
        steps = [step(f"fastmel.{which}", **kw), step((0, "__call__"), y.arg(), may_fail=True),
                 step((0, "stream"))]
        more, parts, bad_step = stream_steps(2, y, bounds, bad, bad_at)
        steps += more
        out = run_job(worker, steps, nonfinite_input=nonfinite)
        check_rejected(out, bad_step)
        if not check_offline_and_stream(out, 1, 3, parts, f"{which} stream"):
            return
        offline = out[1]
    if work is None or not y.is_float():
        return
    x = lambda prec: y.converted(work).astype(prec)  # noqa: E731
    if which == "STFT":
        check_values(out, offline, lambda prec: librosa_stft(x(prec), framing), work, "STFT")
    elif which == "MelSpectrogram" and not to_db:
        check_values(out, offline, lambda prec: librosa_mel_power(x(prec), mel["sr"], framing,
                                                                  _mel_only(mel), power),
                     work, "MelSpectrogram")
    elif which == "MelSpectrogram":
        def reference(prec):
            P = per_channel(lambda y1: librosa_mel_power(y1, mel["sr"], framing, _mel_only(mel),
                                                         power), x(prec), 1)
            return librosa_db(P, ref=ref, amin=amin, top_db=top_db), P

        check_db(out, offline, reference, work, "MelSpectrogram(to_db=True)", amin=amin)
    else:
        mel_full = dict(_mel_only(mel), norm=mel["norm"])
        check_values(out, offline, mfcc_reference(x, mel["sr"], framing, mel_full, power, cep,
                                                  top_db=top_db, ref=ref, amin=amin),
                     work, "MFCC")


def _mel_only(mel):
    return {k: v for k, v in mel.items() if k != "sr"}


# --- tests: recording simulation ------------------------------------------------------------------

CONVOLVE_ABSURD = {"mode": ["bogus", None, 1, "FULL"], "block_size": HUGE_INTS + NOT_INTS,
                   "dtype": [np.float16, np.int16, "bogus", None, np.complex64]}


def draw_ir(data, x_lead):
    channels = int(np.prod(x_lead)) if x_lead else 1
    shape = data.draw(st.sampled_from(["mono", "per-channel", "wrong-channels", "3-D",
                                       "per-channel", "mono"]), label="ir.shape")
    leads = {"mono": [()], "per-channel": [(channels,)], "wrong-channels": [(channels + 1,)],
             "3-D": [(1, 1)]}[shape]
    return draw_signal(data, "ir", leads=leads, max_n=700,
                       lengths=[1, 2, 16, 17, 64, 255, 256, 257, 4097])


def scipy_convolve(x, ir, mode, prec):
    """fftconvolve per channel in float64, from the values fastmel computes on
    (``ir`` rounded to x's precision first)."""
    x64 = x.astype(np.float64)
    ir64 = np.asarray(ir).astype(prec).astype(np.float64)
    floor = np.finfo(prec).tiny / rtol_for(prec)
    if (x64.size and _peak(x64) < floor) or (ir64.size and _peak(ir64) < floor):
        # a subnormal operand carries only a few bits: its rounding is relative
        # to the other operand's peak, so no relative tolerance can hold
        raise NotComparable("convolution of an operand in the subnormal range")
    rows = x64.reshape(-1, x64.shape[-1])
    irs = ir64.reshape(-1, ir64.shape[-1])
    if irs.shape[0] not in (1, rows.shape[0]):
        raise ValueError("channels")
    if rows.shape[0] == 0:
        raise NotComparable("no channels")
    res = [_scaled_fftconvolve(r, irs[i if irs.shape[0] > 1 else 0], mode)
           for i, r in enumerate(rows)]
    if mode != "full":
        # An FFT's rounding is relative to the whole convolution's peak: a "same"
        # or "valid" window that misses it can hold nothing but that rounding.
        full = max(_peak(_scaled_fftconvolve(r, irs[i if irs.shape[0] > 1 else 0], "full"))
                   for i, r in enumerate(rows))
        if max(_peak(r) for r in res) < 16 * np.finfo(prec).eps / rtol_for(prec) * full:
            raise NotComparable("the mode's window holds only rounding noise of the full result")
    return np.array(res).reshape(x64.shape[:-1] + (res[0].shape[-1],))


def _scaled_fftconvolve(a, b, mode):
    """fftconvolve of the operands scaled to peaks near 1 by powers of two (exact),
    the result scaled back: an FFT's inner sums near float64's limit overflow to
    NaN where the convolution itself is finite."""
    ea = np.frexp(_peak(a))[1] if a.size and _peak(a) > 0 else 0
    eb = np.frexp(_peak(b))[1] if b.size and _peak(b) > 0 else 0
    r = scipy.signal.fftconvolve(np.ldexp(a, -ea), np.ldexp(b, -eb), mode=mode)
    with np.errstate(over="ignore"):  # a result beyond float64 is inf, as it should be
        return np.ldexp(r, ea + eb)


@fuzz_test("convolve")
def test_fuzz_convolve(data, worker):
    p = Params(data, CONVOLVE_ABSURD)
    mode = p("mode", st.sampled_from(["full", "full", "same", "valid"]))
    x = draw_signal(data, "x")
    ir = draw_ir(data, x.shape[:-1])
    # the impulse response is converted to the audio's precision
    work = x.converted().dtype if x.is_float() else None
    out = run_job(worker, [step("fastmel.convolve", x.arg(), ir.arg(), mode=mode)],
                  nonfinite_input=(x.finite() is False) or (ir.finite(work) is False))
    if out.refusal or not (x.is_float() and ir.is_float()):
        return
    got = out[0]
    check_values(out, got, lambda prec: scipy_convolve(x.converted(), ir.converted(), mode, work)
                 .astype(prec), work, "convolve")


@fuzz_test("convolver")
def test_fuzz_convolver(data, worker):
    p = Params(data, CONVOLVE_ABSURD)
    block_size = p("block_size", st.one_of(st.sampled_from([256, 1, 64, 1024]),
                                           st.integers(1, 3000)))
    dtype = p("dtype", st.sampled_from([np.float32, np.float64]))
    x = draw_signal(data, "x", leads=LEADS)
    ir = draw_ir(data, x.shape[:-1])
    bounds = draw_chunking(data, x.n, 256, block_size if is_int(block_size, 1, 4096) else 256)
    bad, bad_at = draw_bad_chunk(data, x, len(bounds))
    steps = [step("fastmel.Convolver", ir.arg(), block_size=block_size, dtype=dtype),
             step((0, "__call__"), x.arg(), may_fail=True),
             step("fastmel.Convolver", ir.arg(), block_size=block_size, dtype=dtype)]
    more, parts, bad_step = stream_steps(2, x, bounds, bad, bad_at)
    steps += more
    work = _working(dtype)
    nonfinite = (ir.finite(work) is False) or (work is not None and x.finite(work) is False)
    out = run_job(worker, steps, nonfinite_input=nonfinite)
    check_rejected(out, bad_step)
    if not check_offline_and_stream(out, 1, 3, parts, "Convolver stream"):
        return
    work = _precision(out[1].dtype)
    if x.is_float() and ir.is_float():
        check_values(out, out[1], lambda prec: scipy_convolve(
            x.converted(work), ir.converted(), "full", work).astype(prec), work, "Convolver")


BANDPASS_ABSURD = {
    "sr": BAD_REALS + [1e9, 1e300, -16000],
    "low_hz": [0.0, -1.0, NAN, INF, 8000.0, 1e308, None, "100"],
    "high_hz": [0.0, -1.0, NAN, INF, 8000.0, 1e308, None, "7000"],
    "order": HUGE_INTS + NOT_INTS + [50, 100, 158, 200, 500],
    "num_taps": HUGE_INTS + NOT_INTS + [10 ** 7],
}


#: Narrower bands (relative to sr) put the poles so close together and to the
#: unit circle that the output's sensitivity to pole rounding (~ sr / bandwidth)
#: exceeds 1 / RTOL_F64: two correct designs (scipy's, fastmel's) then differ by
#: more than 1e-10 and neither is the reference.
NARROWEST_COMPARED_BAND = 1e-4


@fuzz_test("bandpass")
def test_fuzz_bandpass(data, worker):
    p = Params(data, BANDPASS_ABSURD)
    sr = p("sr", st.sampled_from([16000, 16000, 48000, 8000, 22050, 1000, 44100.0]))
    nyq = sr / 2 if isinstance(sr, (int, float)) and not isinstance(sr, bool) and 1 <= sr < 1e8 \
        else 8000.0
    low = p("low_hz", st.one_of(st.sampled_from([100.0, 300.0, 1.0, 0.01]),
                                st.floats(0.001, nyq * 0.99)))
    low_ok = low if isinstance(low, float) and 0 < low < nyq else 100.0
    high = p("high_hz", st.one_of(st.sampled_from([nyq * 0.875, nyq * 0.999999, low_ok * 1.01,
                                                   low_ok * (1 + 1e-9)]),
                                  st.floats(low_ok, nyq)))
    if data.draw(st.integers(0, 4), label="bandpass_fir?") == 4:
        num_taps = p("num_taps", st.one_of(st.sampled_from([255, 1, 2, 3, 101]),
                                           st.integers(1, 600)))
        out = run_job(worker, [step("fastmel.filters.bandpass_fir", sr, low, high,
                                    num_taps=num_taps)])
        if out.refusal:
            return
        check_values(out, out[0], lambda prec: scipy.signal.firwin(
            num_taps, [low, high], pass_zero=False, fs=sr).astype(prec), np.dtype(np.float64),
            "bandpass_fir")
        return
    order = p("order", st.one_of(st.sampled_from([4, 1, 2, 8, 12]), st.integers(1, 30)))
    x = draw_signal(data, "x", leads=LEADS)
    bounds = draw_chunking(data, x.n, 160, 160)
    bad, bad_at = draw_bad_chunk(data, x, len(bounds))
    steps = [step("fastmel.Bandpass", sr, low, high, order=order),
             step((0, "__call__"), x.arg(), may_fail=True), step((0, "stream"))]
    more, parts, bad_step = stream_steps(2, x, bounds, bad, bad_at)
    steps += more
    out = run_job(worker, steps, nonfinite_input=x.finite() is False)
    check_rejected(out, bad_step)
    if not check_offline_and_stream(out, 1, 3, parts, "Bandpass stream"):
        return
    if not x.is_float():
        return
    if (high - low) / sr < NARROWEST_COMPARED_BAND:
        event("Bandpass not compared: band too narrow to be well conditioned")
        return
    if min(low, sr / 2 - high) / sr < NARROWEST_COMPARED_BAND:
        # The bilinear transform's prewarping tan(pi f / sr) is unbounded at
        # Nyquist and flat at 0: edges that close round the poles differently
        # in any two designs (README, Simulating the recording).
        event("Bandpass not compared: an edge too close to 0 Hz or Nyquist")
        return

    def reference(prec):
        if order <= 30:
            sos = scipy.signal.butter(order, [low, high], btype="bandpass", fs=sr, output="sos")
        else:
            # Beyond order 30 scipy's design loses accuracy and then overflows
            # (NaN gain from 158 on at 16 kHz, OverflowError at 300), while the
            # output's sensitivity to 1e-16 coefficient rounding grows past 1e-10:
            # the filtering is checked against scipy on fastmel's sections, the
            # design against Butterworth's analog response in test_hardening_simulation.
            from fastmel.design import butter_bandpass  # numpy only, safe in this process
            sos = butter_bandpass(sr, low, high, order=order)
        # float64 state, as Bandpass keeps it for every input precision
        return scipy.signal.sosfilt(sos, x.converted().astype(np.float64), axis=-1).astype(prec)

    check_values(out, out[1], reference, x.converted().dtype, "Bandpass")


NOISE_ABSURD = {
    "snr_db": [4000.0, -4000.0, 400.0, -400.0, NAN, INF, -INF, None, "10", 1e308],
    "rng": [-1, "seed", 2 ** 70, 1.5],
    "gain": [1e300, -1e300, 1e39, NAN, INF, None, "1", 1e-320],
    "signal_power": [-1.0, NAN, INF, 1e308, 0.0, None],
    "offset": [-1, 2 ** 63, 2 ** 70, 1.5, None, True],
}


def _noise_reference(x, noise, gain, offset, prec):
    """NoiseMixer's documented arithmetic: gain * noise formed in float64, rounded
    to the audio's dtype, looped from ``offset`` and added."""
    scaled = (gain * noise.astype(np.float64)).astype(x.dtype)
    idx = (offset % noise.shape[-1] + np.arange(x.shape[-1])) % noise.shape[-1]
    return (x + np.broadcast_to(scaled[..., idx], x.shape)).astype(prec)


@fuzz_test("noise")
def test_fuzz_noise(data, worker):
    p = Params(data, NOISE_ABSURD)
    x = draw_signal(data, "x", leads=LEADS)
    per_channel_noise = data.draw(st.booleans(), label="noise per channel?")
    noise = draw_signal(data, "noise", leads=[x.shape[:-1]] if per_channel_noise else [()],
                        max_n=3000, lengths=[1, x.n, x.n + 1])
    finite = x.finite() is not False and noise.finite() is not False
    if data.draw(st.booleans(), label="add_noise?"):
        snr = p("snr_db", st.one_of(st.sampled_from([10.0, 0.0, -20.0, 60.0]),
                                    st.floats(-60, 60)))
        seed = p("rng", st.integers(0, 2 ** 32))
        job = [step("fastmel.add_noise", x.arg(), noise.arg(), snr_db=snr, rng=seed),
               step("fastmel.add_noise", x.arg(), noise.arg(), snr_db=snr, rng=seed)]
        out = run_job(worker, job, nonfinite_input=not finite)
        if out.refusal:
            return
        check_stream(out, out[0], [out[1]], "add_noise with the same seed")
        if not (x.is_float() and noise.is_float()):
            return
        xv = x.converted()
        got = out[0]
        if got.shape != xv.shape or got.dtype != xv.dtype:
            out.fail(f"add_noise: {got.dtype} {got.shape} for input {xv.dtype} {xv.shape}")
        with np.errstate(over="ignore"):
            added = got.astype(np.float64) - xv.astype(np.float64)
            p_x = float(np.mean(np.square(xv, dtype=np.float64))) if xv.size else 0.0
            p_n = float(np.mean(np.square(added))) if xv.size else 0.0
        if p_x == 0.0:
            if not np.array_equal(got, xv):
                out.fail("add_noise changed a silent signal (documented: gain 0)")
            return
        floor = float(np.finfo(xv.dtype).tiny) / rtol_for(xv.dtype)
        if not (floor <= p_n < math.inf and p_x < math.inf) or abs(snr) > 60:
            event("add_noise SNR not checked: power beyond float64 or below the output precision")
            return
        measured = 10 * math.log10(p_x / p_n)
        # The sum rounds at the output's precision: at |SNR| <= 60 dB that moves the
        # measured SNR by < 1e-3 dB in float32 and < 1e-9 dB in float64.
        tol = 0.01 if xv.dtype == np.float32 else 1e-6
        if abs(measured - snr) > tol:
            out.fail(f"add_noise: measured SNR {measured:.6g} dB, asked {snr:g} dB")
        event("compared")
        return
    gain_mode = data.draw(st.booleans(), label="NoiseMixer gain=?")
    offset = p("offset", st.sampled_from([0, 1, 7, 10 ** 6]))
    if gain_mode:
        gain = p("gain", st.sampled_from([0.1, 1.0, 0.0, -0.5, 1e-30, 1e30]))
        kw = dict(gain=gain, offset=offset)
    else:
        kw = dict(snr_db=p("snr_db", st.sampled_from([10.0, 0.0, -20.0])),
                  signal_power=p("signal_power", st.sampled_from([0.01, 1.0, 1e-12])),
                  offset=offset)
    bounds = draw_chunking(data, x.n, 160, 160)
    bad, bad_at = draw_bad_chunk(data, x, len(bounds))
    steps = [step("fastmel.NoiseMixer", noise.arg(), **kw),
             step((0, "__call__"), x.arg(), may_fail=True),
             step("fastmel.NoiseMixer", noise.arg(), **kw)]
    more, parts, bad_step = stream_steps(2, x, bounds, bad, bad_at)
    steps += more + [attribute(0, "gain")]
    out = run_job(worker, steps, nonfinite_input=not finite)
    check_rejected(out, bad_step)
    if not check_offline_and_stream(out, 1, 3, parts, "NoiseMixer stream"):
        return
    if not (x.is_float() and noise.is_float()):
        return
    gain_used = out.results[-1]
    xv, nv = x.converted(), noise.converted()
    with np.errstate(over="ignore", invalid="ignore"):
        expected = _noise_reference(xv, nv, gain_used, offset, xv.dtype)
    if not np.all(np.isfinite(expected)):
        out.fail("NoiseMixer: the documented sum overflows but the output is finite")
    try:
        assert_bits_equal(out[1], expected, "NoiseMixer vs its documented arithmetic")
    except AssertionError as e:
        out.fail(str(e))
    event("compared")


@fuzz_test("chain")
def test_fuzz_chain(data, worker):
    x = draw_signal(data, "x", leads=[(), (2,), (1, 2)], max_n=3000,
                    dtypes=["float32", "float64", "float16"])
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    names = data.draw(st.lists(st.sampled_from(["Convolver", "NoiseMixer", "Bandpass"]),
                               min_size=0, max_size=4), label="stages")
    last = data.draw(st.sampled_from([None, "MelSpectrogram", "STFT", "MFCC"]), label="features")
    stages = []
    for k, name in enumerate(names):
        if name == "Convolver":
            ir = draw_signal(data, f"ir{k}", leads=[()], max_n=600, lengths=[1, 300],
                             dtypes=["float32", "float64"], kinds=["noise", "impulse", "sine"],
                             specials=[None], layouts=["contiguous"])
            stages.append(("fastmel.Convolver", (ir.arg(),), dict(block_size=data.draw(
                st.sampled_from([256, 64, 1]), label=f"block{k}"), dtype=dtype)))
        elif name == "NoiseMixer":
            noise = draw_signal(data, f"noise{k}", leads=[()], max_n=500, lengths=[1],
                                dtypes=["float32", "float64"], kinds=["noise", "sine", "const"],
                                specials=[None], layouts=["contiguous"])
            stages.append(("fastmel.NoiseMixer", (noise.arg(),),
                           dict(gain=data.draw(st.sampled_from([0.1, 0.0, 2.0]),
                                               label=f"gain{k}"))))
        else:
            order = data.draw(st.sampled_from([4, 1, 8]), label=f"order{k}")
            stages.append(("fastmel.Bandpass", (16000, 100.0, 7000.0), dict(order=order)))
    if last is not None:
        feature_kw = dict(n_fft=256, hop_length=data.draw(st.sampled_from([64, 100, 256, 300]),
                                                          label="hop"), dtype=dtype)
        if last != "STFT":
            feature_kw.update(sr=16000, n_mels=20, top_db=None)
        if last == "MFCC":
            feature_kw["n_mfcc"] = 8
        stages.append((f"fastmel.{last}", (), feature_kw))
    if not stages:
        stages.append(("fastmel.Bandpass", (16000, 100.0, 7000.0), {}))
    # Offline: each stage's own offline call, in turn.
    steps = []
    prev = x.arg()
    for target, args, kw in stages:
        steps.append(step(target, *args, **kw))
        steps.append(step((len(steps) - 1, "__call__"), prev))
        prev = ref(len(steps) - 1)
    offline_at = len(steps) - 1
    stream_refs = []
    for target, args, kw in stages:
        steps.append(step(target, *args, **kw))
        stream_refs.append(ref(len(steps) - 1))
        if target.endswith(("MelSpectrogram", "STFT", "MFCC")):
            steps.append(step((len(steps) - 1, "stream")))
            stream_refs[-1] = ref(len(steps) - 1)
    steps.append(step("fastmel.Chain", stream_refs))
    chain_at = len(steps) - 1
    bounds = draw_chunking(data, x.n, 256, 160)
    more, parts, _ = stream_steps(chain_at, x, bounds)
    steps += more
    out = run_job(worker, steps, nonfinite_input=x.finite() is False)
    if out.refusal:
        return
    check_stream(out, out[offline_at], [out[i] for i in parts], "Chain stream vs offline stages")


# --- tests: inverse STFT, deltas, PCEN, windows, Whisper ------------------------------------------

class Frames:
    """Drawn frames ``(..., bins, n_frames)`` (complex spectra or real features):
    a stand-in for Signal where the last axis counts frames."""

    def __init__(self, data, layout, text):
        if layout == "broadcast" and data.ndim > 1 and data.size:
            data = np.broadcast_to(data[(0,) * (data.ndim - 1)], data.shape).copy()
        self.data = data
        self.layout = layout
        self.text = text
        self.values = np.asarray(make_layout(data, layout))

    def arg(self, part=None):
        if part is None:
            return ("__array__", self.data, self.layout, self.text)
        a, b = part
        return ("__array__", self.data[..., a:b], self.layout, f"{self.text}[..., {a}:{b}]")

    @property
    def shape(self):
        return self.data.shape

    @property
    def n(self):
        return self.data.shape[-1]

    def finite(self):
        return bool(np.all(np.isfinite(self.values))) if self.values.dtype.kind in "fc" else None


SPECTRUM_SCALES = [1.0, 1e-3, 1e3, 1e-30, 1e30, 1e36, 3e37, 1e38, 1e100, 1e300, 1e-300, 0.0]


def draw_spectrum(data, n_bins, *, leads=((), (1,), (2,), (0,), (2, 1))):
    """Complex frames: noise at a drawn scale, maybe a NaN/inf, in a drawn layout."""
    dtype = data.draw(st.sampled_from(["complex64", "complex128", "complex64", "float32",
                                       "clongdouble", "complex128"]), label="S.dtype")
    lead = data.draw(st.sampled_from(list(leads)), label="S.lead")
    n_frames = data.draw(st.one_of(st.sampled_from([0, 1, 2, 3, 5, 17, 61]), st.integers(0, 80)),
                         label="S.frames")
    scale = data.draw(st.sampled_from(SPECTRUM_SCALES), label="S.scale")
    special = data.draw(st.sampled_from(SPECIALS), label="S.special")
    # no "list": an empty chunk of a list loses its complex dtype (the stream refuses it)
    layout = data.draw(st.sampled_from([x for x in LAYOUTS if x != "list"]), label="S.layout")
    seed = data.draw(st.integers(0, 2 ** 16), label="S.seed")
    rng = np.random.default_rng(seed)
    shape = tuple(lead) + (n_bins, n_frames)
    v = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) * scale
    with np.errstate(over="ignore", invalid="ignore"):
        v = v.real.astype(dtype) if dtype == "float32" else v.astype(dtype)
    if special is not None and v.size:
        v.flat[int(rng.integers(0, v.size))] = {"nan": np.nan, "inf": np.inf,
                                                "-inf": -np.inf}[special]
    text = (f"spectrum({dtype!r}, {shape}, scale={scale!r}, special={special!r}, "
            f"layout={layout!r}, seed={seed})")
    return Frames(v, layout, text)


ISTFT_ABSURD = {
    "n_fft": HUGE_INTS + NOT_INTS + [2 ** 24 + 1],
    "hop_length": HUGE_INTS + NOT_INTS,
    "win_length": HUGE_INTS + NOT_INTS,
    "window": BAD_WINDOWS,
    "center": [None, "yes", 2, [True]],
    "length": [0, -1, 2 ** 40, 2 ** 63, 1.5, "10", NAN],
    "dtype": [np.float16, np.int16, np.complex64, "bogus", None],
    "bins": ["plus one", "minus one", "one"],
}


def _bad_spectrum_chunk(data, S, n_bins):
    """Maybe a chunk the ISTFT stream (of ``n_bins`` bins) must reject, and where it goes."""
    kind = data.draw(st.sampled_from([None, None, "nan", "real", "bins", "int16"]),
                     label="rejected chunk")
    lead = S.shape[:-1]
    if kind is None or 0 in lead:
        return None, 0
    chunk = {"nan": lambda: np.full(lead + (2,), np.nan + 0j, dtype=np.complex64),
             "real": lambda: np.zeros(lead + (2,), dtype=np.float32),
             "bins": lambda: np.zeros(lead[:-1] + (n_bins + 1, 2), dtype=np.complex64),
             "int16": lambda: np.zeros(lead + (2,), dtype=np.int16)}[kind]()
    return ("__array__", chunk, "contiguous", f"<{kind} chunk {chunk.dtype} {chunk.shape}>"), 0


@fuzz_test("istft")
def test_fuzz_istft(data, worker):
    p = Params(data, ISTFT_ABSURD)
    framing, nf = draw_framing(p)
    framing.pop("pad_mode")
    bins = p("bins", st.just("right"))
    n_bins = {"right": 1 + nf // 2, "plus one": 2 + nf // 2, "minus one": nf // 2,
              "one": 1}[bins]
    S = draw_spectrum(data, n_bins)
    nonfinite = S.finite() is False
    if data.draw(st.booleans(), label="function?"):
        length = p("length", st.one_of(st.none(), st.integers(1, 3000)))
        dtype = p("dtype", st.sampled_from([None, np.float32, np.float64]))
        hop = framing["hop_length"] if framing["hop_length"] is not None else \
            (framing["win_length"] or nf) // 4
        if is_int(length) and is_int(hop) and framing["center"] in (True, False):
            # istft's docstring: frames beyond ``length`` are not computed (nor read)
            pad = nf // 2 if framing["center"] else 0
            used = -(-(length + 2 * pad) // hop)
            nonfinite = not np.all(np.isfinite(S.values[..., :used]))
        out = run_job(worker, [step("fastmel.istft", S.arg(), **framing, length=length,
                                    dtype=dtype)], nonfinite_input=nonfinite)
        if out.refusal:
            return
        y = out[0]
        if length is not None and y.shape[-1] != length:
            out.fail(f"istft(length={length}) returned {y.shape[-1]} samples")
        return
    dtype = p("dtype", st.sampled_from([np.float32, np.float64]))
    bounds = draw_chunking(data, S.n, 4, 1)
    bad, bad_at = _bad_spectrum_chunk(data, S, 1 + nf // 2)
    steps = [step("fastmel.ISTFT", **framing, dtype=dtype),
             step((0, "__call__"), S.arg(), may_fail=True), step((0, "stream"))]
    more, parts, bad_step = stream_steps(2, S, bounds, bad, bad_at)
    steps += more
    out = run_job(worker, steps, nonfinite_input=nonfinite)
    check_rejected(out, bad_step)
    check_offline_and_stream(out, 1, 3, parts, "ISTFT stream")


DELTA_ABSURD = {
    "width": HUGE_INTS + NOT_INTS + [2, 4, -3, 10 ** 6 + 1],
    "order": [0, -1, 3, 1.5, NAN, None, "1", True, 2 ** 63],
    "mode": ["bogus", None, 3, "INTERP", "wrap"],
    "polyorder": [-1, 0, 100, 1.5, NAN, "2", 2 ** 63],
    "delta": [0.0, -1.0, NAN, INF, 5e-324, 1e-300, 1e308, "1", None, 1j],
    "cval": [NAN, INF, -INF, 1e308, -1e308, "0", None, 1j],
}
FEATURE_LEADS = [(13,), (1,), (2, 5), (0,), (40,), (3, 1), (1, 0)]


@fuzz_test("delta")
def test_fuzz_delta(data, worker):
    p = Params(data, DELTA_ABSURD)
    width = p("width", st.sampled_from([9, 3, 5, 7, 1, 11, 21]))
    order = p("order", st.sampled_from([1, 2, 1]))
    mode = p("mode", st.sampled_from(["interp", "nearest", "mirror", "constant", "interp"]))
    extra = {}
    if data.draw(st.booleans(), label="savgol keywords?"):
        extra = dict(polyorder=p("polyorder", st.sampled_from([None, 1, 2, 3])),
                     delta=p("delta", st.sampled_from([1.0, 0.5, 2.0, 1e-3])),
                     cval=p("cval", st.sampled_from([0.0, 1.0, -3.5])))
    w = width if is_int(width, 1, 100) else 9
    y = draw_signal(data, "data", leads=FEATURE_LEADS, max_n=300,
                    lengths=[w - 1, w, w + 1, w // 2, 2 * w])
    nonfinite = y.finite() is False
    if mode == "wrap" or mode not in ("interp", "nearest", "mirror", "constant"):
        run_job(worker, [step("fastmel.feature.delta", y.arg(), width=width, order=order,
                              mode=mode, **extra)], nonfinite_input=nonfinite)
        return
    fuzz_stage(data, worker, y,
               step("fastmel.Delta", width=width, order=order, mode=mode, **extra), "Delta",
               chunk=w, nonfinite=nonfinite,
               function=step("fastmel.feature.delta", y.arg(), width=width, order=order,
                             mode=mode, may_fail=True, **extra))


PCEN_ABSURD = {
    "sr": BAD_REALS + [1e300, 1e-300],
    "hop_length": HUGE_INTS + NOT_INTS + [1e300],
    "gain": [-1.0, NAN, INF, 1e308, 2.0, "1", None, 1j],
    "bias": [-1.0, NAN, INF, 1e308, 1e-320, "1", None],
    "power": [-1.0, NAN, INF, 1e308, 1e-320, 0.0, "1", None],
    "time_constant": [0.0, -1.0, NAN, INF, 1e308, 1e-320, "1", None],
    "eps": [0.0, -1.0, NAN, INF, 1e308, 5e-324, "1", None],
    "b": [0.0, -0.5, 1.5, NAN, INF, 1e-320, "0.1", 1j],
    "max_size": HUGE_INTS + NOT_INTS + [10 ** 6],
    "zi": ["scalar", "wrong shape", "nan", "complex", "list", "huge"],
}


def _magnitudes(y):
    """The signal's absolute values (PCEN takes magnitudes), in its layout."""
    if y.data.dtype.kind in "fc":
        y.data = np.abs(y.data)
        y.values = np.asarray(make_layout(y.data, y.layout))
        y.spec["kind"] = "abs " + y.spec["kind"]
    return y


@fuzz_test("pcen")
def test_fuzz_pcen(data, worker):
    p = Params(data, PCEN_ABSURD)
    kw = dict(sr=p("sr", st.sampled_from([22050, 16000, 8000])),
              hop_length=p("hop_length", st.sampled_from([512, 160, 1])),
              gain=p("gain", st.sampled_from([0.98, 0.8, 0.0, 1.0])),
              bias=p("bias", st.sampled_from([2.0, 10.0, 0.0, 1e-3])),
              power=p("power", st.sampled_from([0.5, 0.25, 1.0, 2.0])),
              time_constant=p("time_constant", st.sampled_from([0.4, 0.06, 10.0])),
              eps=p("eps", st.sampled_from([1e-6, 1e-10, 1.0])),
              b=p("b", st.sampled_from([None, 0.025, 1.0, 1e-6])),
              max_size=p("max_size", st.sampled_from([1, 1, 3, 2])))
    y = draw_signal(data, "S", leads=FEATURE_LEADS, max_n=400)
    if data.draw(st.integers(0, 4), label="signed?") != 0:
        y = _magnitudes(y)
    nonfinite = y.finite() is False
    if data.draw(st.integers(0, 2), label="pcen with zi?") == 0:
        lead = y.shape[:-1]
        zi_kind = p("zi", st.sampled_from(["none", "ones", "ones"]))
        zi = {"none": None, "ones": np.ones(lead + (1,)), "scalar": np.float64(1.0),
              "wrong shape": np.ones(lead + (2,)), "nan": np.full(lead + (1,), np.nan),
              "complex": np.ones(lead + (1,), dtype=complex), "list": [[1.0]],
              "huge": np.full(lead + (1,), 1e308)}[zi_kind]
        if isinstance(zi, np.ndarray):
            zi = ("__array__", zi, "contiguous", f"<zi {zi_kind} {zi.dtype} {zi.shape}>")
        steps = [step("fastmel.pcen", y.arg(), **kw, zi=zi, return_zf=True),
                 step((0, "__getitem__"), 0), step((0, "__getitem__"), 1)]
        run_job(worker, steps, nonfinite_input=nonfinite or zi_kind == "nan")
        return
    fuzz_stage(data, worker, y, step("fastmel.PCEN", **kw), "PCEN", chunk=8,
               nonfinite=nonfinite,
               function=step("fastmel.pcen", y.arg(), **kw, max_axis=-2, may_fail=True))


GOOD_WINDOW_SPECS = [
    "hann", "tukey", "flattop", "parzen", "bohman", "barthann", "exponential", "lanczos",
    "taylor", "hamming", "blackmanharris", "nuttall", "cosine", "triang", "bartlett",
    ("tukey", 0.0), ("tukey", 1.0), ("tukey", 0.25), ("general_gaussian", 1.5, 7.0),
    ("general_cosine", [0.5, 0.5]), ("general_cosine", [1.0]), ("general_hamming", 0.54),
    ("exponential", None, 3.0), ("taylor", 4, 30, True), ("taylor", 1, 0), ("dpss", 3.0),
    ("chebwin", 100), ("chebwin", 50.0), ("kaiser", 14.0), ("kaiser_bessel_derived", 5.0),
    ("gaussian", 7.0), 8.6, 0.0, "HANN", "hann_symmetric", "hamming_periodic"]
BAD_WINDOW_SPECS = [
    ("tukey", NAN), ("tukey", INF), ("general_gaussian", 1.5, 0.0), ("general_gaussian", NAN, 1.0),
    ("general_gaussian", 1e308, 1e-308), ("general_cosine", []), ("general_cosine", [NAN]),
    ("general_cosine", 1.0), ("general_cosine", [1e308, -1e308]), ("general_hamming", INF),
    ("exponential", 3.0, 0.0), ("exponential", NAN, 1.0), ("exponential", None, 1e-320),
    ("taylor", 0), ("taylor", 10 ** 9), ("taylor", 4, NAN), ("taylor", 4, 1e308),
    ("taylor", 4, 30, "yes"), ("dpss", 0.0), ("dpss", NAN), ("dpss", 1e308), ("chebwin", NAN),
    ("chebwin", -1e308), ("kaiser", 709.0), ("kaiser", 710.0), ("kaiser_bessel_derived", NAN),
    (), ("tukey", 0.5, 1, 2), "hann_bogus", "dpss", "chebwin", "", NAN, INF, -1.0, 1e308, True,
    1j, b"hann", ["hann"], ("hann",), fn("short_window"), fn("matrix_window"),
    fn("complex_window"), fn("zero_window"), fn("huge_window"), fn("name_window"),
    fn("nan_window"), fn("scalar_window"), fn("long_window")]


def _scipy_spec(window):
    """The spec as scipy takes it (a bare number is a kaiser beta in librosa only)."""
    if isinstance(window, float):
        return ("kaiser", window)
    if isinstance(window, str) and window.isupper():
        return window.lower()
    return window


@fuzz_test("get_window")
def test_fuzz_get_window(data, worker):
    hostile = data.draw(st.integers(0, 2), label="hostile spec?") == 0
    window = data.draw(st.sampled_from(BAD_WINDOW_SPECS if hostile else GOOD_WINDOW_SPECS),
                       label="window")
    Nx = data.draw(st.one_of(st.sampled_from([1, 2, 3, 16, 400, 512, 1023]),
                             st.integers(1, 5000),
                             st.sampled_from(HUGE_INTS + NOT_INTS + [2 ** 24, 2 ** 24 + 1])),
                   label="Nx")
    fftbins = data.draw(st.sampled_from([True, False, True, None, "no", 1]), label="fftbins")
    steps = [step("fastmel.filters.get_window", window, Nx, fftbins=fftbins, may_fail=True)]
    n_fft = data.draw(st.sampled_from([512, 64, 1, 400]), label="n_fft")
    y = draw_signal(data, leads=[(), (2,)], max_n=2000, lengths=[n_fft])
    steps.append(step("fastmel.melspectrogram", y=y.arg(), sr=16000, n_fft=n_fft,
                      hop_length=max(n_fft // 4, 1), window=window, may_fail=True))
    out = run_job(worker, steps)
    finite = y.finite() is not False
    if 1 not in out.errors and not finite:
        out.fail("melspectrogram accepted non-finite audio")
    if 0 in out.errors or not is_int(Nx, 1, 1 << 14) or not isinstance(fftbins, bool):
        return
    got = out[0]
    try:
        r = librosa_quiet(scipy.signal.get_window, local(_scipy_spec(window)), Nx,
                          fftbins=fftbins)
    except Exception as e:  # scipy refusing leaves nothing to compare
        event(f"reference undefined: {type(e).__name__}")
        return
    r = np.asarray(r, dtype=np.float64)
    if got.shape != r.shape:
        out.fail(f"get_window: shape {got.shape} != scipy's {r.shape}")
    # get_window's documented accuracy: 1e-12 absolute; dpss (scipy's eigensolver)
    # 1e-16 * Nx**2.
    tol = 1e-12 if not (isinstance(window, tuple) and window[:1] == ("dpss",)) \
        else max(1e-12, 1e-16 * Nx ** 2)
    err = float(np.max(np.abs(got - r))) if r.size else 0.0
    if err > tol:
        out.fail(f"get_window: differs from scipy by {err:.3g} > {tol:.3g}")
    event("compared")


WHISPER_ABSURD = {
    "n_mels": [0, 40, 81, 127, None, "80", 80.0, True, 2 ** 63, NAN],
    "pad_or_trim": [None, 1, "yes", np.bool_(True)],
    "dtype": [np.float16, np.int16, np.complex64, "bogus", None],
}


@fuzz_test("whisper")
def test_fuzz_whisper(data, worker):
    p = Params(data, WHISPER_ABSURD)
    n_mels = p("n_mels", st.sampled_from([80, 128]))
    pad = p("pad_or_trim", st.booleans())
    dtype = p("dtype", st.sampled_from([np.float32, np.float64]))
    y = draw_signal(data, leads=[(), (1,), (2,), (0,)], max_n=480001,
                    lengths=[0, 1, 159, 160, 161, 400, 479999, 480000, 480001], transposed=True)
    work = _working(dtype)
    # samples beyond 30 s, which pad_or_trim cuts off, are checked too
    nonfinite = y.finite(work) is False if work is not None else False
    with_stream = y.n <= 20000
    steps = [step("fastmel.frontends.WhisperLogMel", n_mels=n_mels, pad_or_trim=pad, dtype=dtype),
             step((0, "__call__"), y.arg(), may_fail=with_stream)]
    if with_stream:
        steps += [attribute(0, "melspec"), step((2, "__call__"), y.arg(), may_fail=True),
                  step((2, "stream"))]
        bounds = draw_chunking(data, y.n, 400, 160)
        more, parts, _ = stream_steps(4, y, bounds)
        steps += more
    out = run_job(worker, steps, nonfinite_input=nonfinite)
    if out.refusal:
        return
    if 1 in out.errors:
        if y.finite(work) and y.n and pad is True and 0 not in y.shape[:-1] \
                and y.shape[:-1] != TRANSPOSED:
            out.fail(f"WhisperLogMel refused finite audio: {out.errors[1]['message']}")
    elif pad is True:
        got = out[1]
        if got.shape != y.shape[:-1] + (n_mels, 3000):
            out.fail(f"WhisperLogMel(pad_or_trim=True) returned shape {got.shape}")
    if with_stream:
        check_offline_and_stream(out, 3, 4, parts, "WhisperLogMel.melspec stream")


KALDI_ABSURD = {
    "sr": BAD_REALS + [1e300, 1e-300, 1.0],
    "frame_length": BAD_REALS + [1e300, 0.01, 1e7],
    "frame_shift": BAD_REALS + [1e300, 1e7, 100.0],
    "window_type": ["kaiser", None, 3, "Povey", ("povey",)],
    "snip_edges": [None, 1, "yes"],
    "dither": [-1.0, NAN, INF, 1e308, 1e30, "0", None],
    "preemph_coeff": [-0.1, 1.5, NAN, INF, "0.97", None],
    "num_mel_bins": HUGE_INTS + NOT_INTS + [2, 500],
    "low_freq": [-1.0, NAN, INF, 1e308, 8000.0, None],
    "high_freq": [NAN, INF, -INF, 1e308, -1e308, -8000.0, 9000.0, None],
    "energy_floor": [-1.0, NAN, INF, 1e308, None],
    "num_ceps": HUGE_INTS + NOT_INTS + [24],
    "cepstral_lifter": [NAN, INF, -INF, 1e308, None, "22"],
    "dtype": [np.float16, np.int16, np.complex64, "bogus", None],
}


@fuzz_test("kaldi")
def test_fuzz_kaldi(data, worker):
    p = Params(data, KALDI_ABSURD)
    mfcc = data.draw(st.booleans(), label="MFCC?")
    kw = dict(sr=p("sr", st.sampled_from([16000, 8000, 44100, 16000])),
              frame_length=p("frame_length", st.sampled_from([25.0, 10.0, 50.0, 1.0])),
              frame_shift=p("frame_shift", st.sampled_from([10.0, 2.5, 25.0])),
              window_type=p("window_type", st.sampled_from(
                  ["povey", "hamming", "hanning", "hann", "sine", "rectangular", "blackman"])),
              snip_edges=p("snip_edges", st.booleans()),
              dither=p("dither", st.sampled_from([0.0, 0.0, 1e-5, 1.0])), rng=3,
              preemph_coeff=p("preemph_coeff", st.sampled_from([0.97, 0.0, 1.0])),
              num_mel_bins=p("num_mel_bins", st.sampled_from([23, 3, 40, 80])),
              low_freq=p("low_freq", st.sampled_from([20.0, 0.0, 300.0])),
              high_freq=p("high_freq", st.sampled_from([0.0, -400.0, 3900.0])),
              use_energy=data.draw(st.booleans(), label="use_energy"),
              energy_floor=p("energy_floor", st.sampled_from([0.0, 1.0, 1e-10])),
              dtype=p("dtype", st.sampled_from([np.float32, np.float64])))
    if mfcc:
        kw.update(num_ceps=p("num_ceps", st.sampled_from([13, 1, 3])),
                  cepstral_lifter=p("cepstral_lifter", st.sampled_from([22.0, 0.0, -5.0])))
    work = _working(kw["dtype"])
    y = draw_signal(data, leads=[(), (1,), (2,), (0,), (2, 1)], max_n=3000,
                    lengths=[0, 1, 79, 80, 81, 159, 160, 399, 400, 401, 560], transposed=True)
    nonfinite = y.finite(work) is False if work is not None else False
    name = "KaldiMFCC" if mfcc else "KaldiFbank"
    fuzz_stage(data, worker, y, step(f"fastmel.frontends.{name}", **kw), name, chunk=400,
               nonfinite=nonfinite)


TORCHAUDIO_ABSURD = {
    "sample_rate": BAD_REALS + [1e300, 1.0],
    "n_fft": HUGE_INTS + NOT_INTS + [1],
    "win_length": HUGE_INTS + NOT_INTS + [1000],
    "hop_length": HUGE_INTS + NOT_INTS,
    "f_min": [-1.0, NAN, INF, 1e308, 9000.0, None],
    "f_max": [NAN, INF, -1.0, 0.0, 1e308, "8000"],
    "n_mels": HUGE_INTS + NOT_INTS,
    "power": [0.0, -1.0, NAN, INF, 1e308, None, "2"],
    "pad_mode": ["circular", "wrap", None, 3, "REFLECT"],
    "norm": ["ortho", 1, "Slaney"],
    "mel_scale": ["kaldi", None, 1],
    "n_mfcc": HUGE_INTS + NOT_INTS + [129],
    "top_db": [-1.0, NAN, INF, "80"],
    "dtype": [np.float16, np.int16, np.complex64, "bogus", None],
}


@fuzz_test("torchaudio")
def test_fuzz_torchaudio(data, worker):
    p = Params(data, TORCHAUDIO_ABSURD)
    mfcc = data.draw(st.booleans(), label="MFCC?")
    mel = dict(sample_rate=p("sample_rate", st.sampled_from([16000, 8000, 22050, 11025])),
               n_fft=p("n_fft", st.sampled_from([400, 512, 64, 201])),
               win_length=p("win_length", st.sampled_from([None, 400, 32])),
               hop_length=p("hop_length", st.sampled_from([None, 160, 1, 500])),
               f_min=p("f_min", st.sampled_from([0.0, 50.0])),
               f_max=p("f_max", st.sampled_from([None, 4000.0])),
               n_mels=p("n_mels", st.sampled_from([128, 40, 1])),
               power=p("power", st.sampled_from([2.0, 1.0, 0.5])),
               center=data.draw(st.booleans(), label="center"),
               pad_mode=p("pad_mode", st.sampled_from(["reflect", "constant", "replicate"])),
               norm=p("norm", st.sampled_from([None, "slaney"])),
               mel_scale=p("mel_scale", st.sampled_from(["htk", "slaney"])))
    dtype = p("dtype", st.sampled_from([np.float32, np.float64]))
    if mfcc:
        kw = dict(sample_rate=mel.pop("sample_rate"), melkwargs=mel, dtype=dtype,
                  n_mfcc=p("n_mfcc", st.sampled_from([40, 1, 13])),
                  log_mels=data.draw(st.booleans(), label="log_mels"),
                  top_db=p("top_db", st.sampled_from([80.0, None, 0.0])))
    else:
        kw = dict(mel, dtype=dtype)
    work = _working(dtype)
    y = draw_signal(data, leads=[(), (1,), (2,), (0,), (2, 1)], max_n=3000,
                    lengths=[0, 1, 199, 200, 201, 399, 400, 401, 560], transposed=True)
    nonfinite = y.finite(work) is False if work is not None else False
    name = "TorchaudioMFCC" if mfcc else "TorchaudioMelSpectrogram"
    fuzz_stage(data, worker, y, step(f"fastmel.frontends.{name}", **kw), name, chunk=200,
               nonfinite=nonfinite)
