"""FFTW plan cache for fastmel's compiled core.

A plan is made once per (size, precision, direction), under a lock (FFTW's
planner is not thread-safe), and then executed with FFTW's new-array
interface on per-call buffers.  Those buffers must share the planning
arrays' alignment: every buffer in fastmel comes from :func:`aligned_alloc`,
which aligns to 64 bytes, and the planning arrays are aligned the same way.

Which plan FFTW makes follows the process's plan mode, the policy below
(documented for users in fastmel.plans, which re-exports its public names):
tuned once per machine and cached on disk, or shipped and portable.  Either
way a size gets one plan per process, shared by every object, so a stream and
the offline function round identically.
"""
import hashlib
import json
import os
import platform
import tempfile
import threading
import time
import warnings
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path

import numpy as np
import pyfftw

from fastmel._checks import ParameterError

from libc.math cimport INFINITY
from libc.stdlib cimport free
from libc.string cimport memcpy
from posix.stdlib cimport posix_memalign
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from pyfftw cimport FFTW, fftw_exe

DEF ALIGNMENT = 64

#: Version of the cache file layout and of the tuning recipe; part of the key.
PLAN_FORMAT = 2
#: Seconds FFTW_MEASURE may spend on one (size, precision, direction): the
#: first search gets all of it, later ones what the earlier left.
TUNE_TIME_LIMIT = 1.0
#: FFTW_MEASURE searches per transform, each from empty wisdom.  One search
#: on a busy machine can keep a plan that is slower when the machine is quiet;
#: of the plans the searches found and the portable plan, the one fastmel's
#: own timing (the best of several runs) finds fastest is kept.  A search is
#: repeated only while the searches so far took under TUNE_REPEAT_BUDGET
#: seconds (small transforms), so large ones cost one search.
TUNE_SEARCHES = 3
TUNE_REPEAT_BUDGET = 0.25
#: Larger transforms are planned by FFTW_ESTIMATE instead of timed.
TUNE_MAX_SIZE = 32768

MODES = ("machine", "portable")

# The SIMD features FFTW builds may dispatch on (any of them changes which
# codelets the planner can pick, so it is part of the machine key).
_SIMD_FLAGS = ("sse2", "sse3", "ssse3", "sse4_1", "sse4_2", "avx", "avx2", "fma",
               "avx512f", "avx512dq", "avx512bw", "avx512vl", "asimd", "neon", "sve")


class PlanCacheWarning(UserWarning):
    """The machine plan cache could not be used, or a plan is less portable
    than the mode promises; the message says which and what fastmel did."""


_state_lock = threading.RLock()
_mode = None            # fixed by the first plan made in this process
_requested = None       # set_plan_mode's choice before that
_machine_cache = {}     # plan name -> entry, as read from or written to the file
_fallback_reason = None  # why this process stopped using the machine cache
_warned = set()


def _warn_once(key, message):
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, PlanCacheWarning, stacklevel=4)


def _check_mode(mode):
    if not isinstance(mode, str):
        raise TypeError(f"plan mode must be a str, got {type(mode).__name__}")
    if mode not in MODES:
        raise ParameterError(f"plan mode must be one of {MODES}, got {mode!r}")
    return mode


def set_plan_mode(mode):
    """Choose how this process plans its FFTs: ``"machine"`` or ``"portable"``.

    Call it before fastmel makes its first FFT plan (the first transform, or
    the first extractor, stream or convolver built).  Plans are shared by
    every object in the process, so the mode cannot change afterwards; the
    environment variable ``FASTMEL_PLANS`` sets the same choice for a process
    and the workers it starts.

    Parameters
    ----------
    mode : {"machine", "portable"}
        ``"machine"``: plans tuned once per machine and cached, identical in
        every process on the machine.  ``"portable"``: shipped plans,
        identical on every x86-64 machine with AVX.

    Raises
    ------
    ParameterError
        If ``mode`` is not one of the two modes.
    RuntimeError
        If this process already made plans in the other mode.
    """
    global _requested
    mode = _check_mode(mode)
    with _state_lock:
        if _mode is not None and _mode != mode:
            raise RuntimeError(
                f"fastmel already made FFT plans in {_mode!r} mode in this process; the plan "
                f"mode cannot change to {mode!r} afterwards: call set_plan_mode before the "
                f"first transform, or set FASTMEL_PLANS before starting Python")
        _requested = mode


def get_plan_mode():
    """The plan mode this process uses (or will use at its first plan).

    A process in ``"machine"`` mode whose cache directory cannot be written
    still reports ``"machine"``; it warned (:class:`PlanCacheWarning`) when
    it turned to portable plans.

    Returns
    -------
    str
        ``"machine"`` or ``"portable"``.
    """
    with _state_lock:
        if _mode is not None:
            return _mode
        return _resolve_mode()


def _resolve_mode():
    if _requested is not None:
        return _requested
    env = os.environ.get("FASTMEL_PLANS", "").strip().lower()
    if not env:
        return "machine"
    if env not in MODES:
        raise ParameterError(f"FASTMEL_PLANS must be one of {MODES}, got {env!r}")
    return env


def _fix_mode():
    global _mode
    with _state_lock:
        if _mode is None:
            _mode = _resolve_mode()
        return _mode


# ---------------------------------------------------------------- the key

def _cpu_description():
    model, ids, flags = platform.processor(), [], None
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                name, _, value = line.partition(":")
                name = name.strip()
                if name == "model name":
                    model = value.strip()
                elif name in ("cpu family", "model", "stepping", "CPU part") and len(ids) < 3:
                    ids.append(value.strip())
                elif name in ("flags", "Features") and flags is None:
                    flags = set(value.split())
    except OSError:
        pass  # not Linux: the model string and architecture are the key
    # A generic model name (as some VMs report) is refined by family/model.
    if ids:
        model = f"{model} ({'/'.join(ids)})"
    return model, sorted((flags or set()).intersection(_SIMD_FLAGS))


def _fftw_version():
    header = pyfftw.export_wisdom()[0].split(b"\n", 1)[0].decode("ascii", "replace")
    return header.lstrip("(").split(" ")[0]  # e.g. "fftw-3.3.5"


_key = None


def machine_key():
    """What identifies this machine's plans: CPU, its SIMD flags, FFTW build
    and plan format (a dict; its hash names the cache file)."""
    global _key
    if _key is None:
        model, flags = _cpu_description()
        # The shipped wisdom is in the key: an entry can name the portable plan.
        shipped = hashlib.sha256(json.dumps(_shipped_wisdom(), sort_keys=True).encode())
        _key = {"format": PLAN_FORMAT, "arch": platform.machine(), "cpu": model,
                "simd": flags, "fftw": _fftw_version(), "pyfftw": pyfftw.__version__,
                "shipped": shipped.hexdigest()[:16]}
    return _key


def _cache_dir():
    explicit = os.environ.get("FASTMEL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "fastmel"


def plan_cache_file():
    """Path of this machine's plan cache file (it may not exist yet).

    Returns
    -------
    pathlib.Path
    """
    key = machine_key()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return _cache_dir() / f"plans-{digest}.json"


# ---------------------------------------------------------------- FFTW

def _aligned_empty(n, dtype):
    dtype = np.dtype(dtype)
    raw = np.empty(n * dtype.itemsize + ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % ALIGNMENT
    return raw[offset:offset + n * dtype.itemsize].view(dtype)


def plan_name(n, is_double, inverse):
    return f"{'f64' if is_double else 'f32'}:{'c2r' if inverse else 'r2c'}:{n}"


@contextmanager
def _own_wisdom():
    """Plan with nothing but what the caller imports; give the process back
    the wisdom it had."""
    saved = pyfftw.export_wisdom()
    pyfftw.forget_wisdom()
    try:
        yield
    finally:
        pyfftw.forget_wisdom()
        pyfftw.import_wisdom(saved)


def _import(wisdom, is_double):
    """Import one precision's wisdom; True if FFTW accepted it."""
    triple = (wisdom.encode(), b"", b"") if is_double else (b"", wisdom.encode(), b"")
    return bool(pyfftw.import_wisdom(triple)[0 if is_double else 1])


def _fftw(n, is_double, inverse, flags, timelimit=None):
    real = np.float64 if is_double else np.float32
    cplx = np.complex128 if is_double else np.complex64
    # Out-of-place r2c plans leave their input intact (FFTW default), which
    # the spectral kernel relies on for the zero padding around a short
    # window; c2r plans may overwrite theirs.
    if inverse:
        arrays = (_aligned_empty(n // 2 + 1, cplx), _aligned_empty(n, real))
        direction = "FFTW_BACKWARD"
    else:
        arrays = (_aligned_empty(n, real), _aligned_empty(n // 2 + 1, cplx))
        direction = "FFTW_FORWARD"
    return pyfftw.FFTW(*arrays, direction=direction, flags=flags, threads=1,
                       planning_timelimit=timelimit)


_FROM_WISDOM = ("FFTW_MEASURE", "FFTW_WISDOM_ONLY")


def _estimate(n, is_double, inverse):
    """FFTW_ESTIMATE with no wisdom loaded: no timing, so the choice depends
    only on the FFTW build and the CPU's instruction sets."""
    pyfftw.forget_wisdom()
    return _fftw(n, is_double, inverse, ("FFTW_ESTIMATE",))


def _from_entry(entry, n, is_double, inverse):
    """The plan an entry describes, or None if FFTW cannot rebuild it."""
    if entry["how"] == "estimate":
        return _estimate(n, is_double, inverse)
    if entry["how"] == "portable":
        return _shipped_plan(n, is_double, inverse)
    pyfftw.forget_wisdom()
    if not _import(entry["wisdom"], is_double):
        return None
    try:
        return _fftw(n, is_double, inverse, _FROM_WISDOM)
    except RuntimeError:
        return None


# ---------------------------------------------------------------- portable

_shipped = None


def _shipped_wisdom():
    global _shipped
    if _shipped is None:
        try:
            data = json.loads((files("fastmel") / "data" / "fftw_wisdom.json").read_text())
            _shipped = {"double": str(data["double"]), "single": str(data["single"])}
        except (OSError, ValueError, KeyError, TypeError):
            _shipped = {}
    return _shipped


def _shipped_loads(is_double):
    """Load the shipped wisdom of one precision alone; False where FFTW refuses it."""
    wisdom = _shipped_wisdom().get("double" if is_double else "single")
    pyfftw.forget_wisdom()
    return bool(wisdom) and _import(wisdom, is_double)


def _shipped_plan(n, is_double, inverse):
    """The plan the shipped wisdom gives, or None (it does not load here, or
    does not cover the size)."""
    if not _shipped_loads(is_double):
        return None
    try:
        return _fftw(n, is_double, inverse, _FROM_WISDOM)
    except RuntimeError:
        return None


def _portable(n, is_double, inverse):
    plan = _shipped_plan(n, is_double, inverse)
    if plan is not None:
        return plan
    if not _shipped_loads(is_double):
        # FFTW signs wisdom with the set of solvers it registered, and it
        # registers its AVX codelets only on CPUs with AVX.
        _warn_once("portable-cpu",
                   "fastmel: the shipped portable FFT plans do not load on this CPU (FFTW "
                   "accepts them only where AVX is available); FFTW_ESTIMATE plans are used, "
                   "whose results match only machines with the same SIMD instruction sets")
    else:
        _warn_once(("portable", n, is_double, inverse),
                   f"fastmel: no portable FFT plan ships for {plan_name(n, is_double, inverse)}; "
                   f"it is planned by FFTW_ESTIMATE, whose results are identical only on "
                   f"machines with the same SIMD instruction sets")
    return _estimate(n, is_double, inverse)


# ---------------------------------------------------------------- machine

def _entry_digest(name, entry):
    text = json.dumps([name, entry.get("how"), entry.get("wisdom")])
    return hashlib.sha256(text.encode()).hexdigest()


def _read_cache(path, key):
    """The valid entries of the cache file ({} if absent); damaged entries
    or a damaged file are left out, with a warning."""
    try:
        text = path.read_bytes()
    except OSError:
        # Absent or unreachable: tuning will write it, or fail to and fall back.
        return {}
    try:
        data = json.loads(text.decode("utf-8"))
        if data["format"] != PLAN_FORMAT or data["key"] != key:
            raise ValueError("made for another machine key")
        plans = data["plans"]
        if not isinstance(plans, dict):
            raise ValueError("no plan table")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        _warn_once(("damaged", str(path)), f"fastmel: the plan cache {path} is damaged "
                                           f"({exc}); its plans will be tuned again")
        return {}
    good = {}
    for name, entry in plans.items():
        if (isinstance(entry, dict) and entry.get("how") in ("wisdom", "estimate", "portable")
                and isinstance(entry.get("wisdom"), str)
                and entry.get("sha256") == _entry_digest(name, entry)):
            good[name] = entry
        else:
            _warn_once(("entry", str(path), name),
                       f"fastmel: the plan cache {path} has a damaged entry for {name}; "
                       f"it will be tuned again")
    return good


def _write_cache(path, key, plans):
    payload = json.dumps({"format": PLAN_FORMAT, "key": key, "plans": plans}, indent=1,
                         sort_keys=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # atomic: readers see the old file or the new one
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


@contextmanager
def _file_lock(path):
    import fcntl  # POSIX; on other systems the OSError path falls back to portable
    with open(path, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


cdef double _now() noexcept nogil:
    cdef timespec t
    clock_gettime(CLOCK_MONOTONIC, &t)
    return t.tv_sec + 1e-9 * t.tv_nsec


cdef double _seconds(FFTW plan, Py_ssize_t n, object fresh):
    """One transform's best time by ``plan``: the least, over 7 runs, of a
    run's mean.  Each execute starts from ``fresh`` (a c2r plan overwrites
    its input), so every candidate times the same work."""
    cdef fftw_exe exe = plan.get_fftw_exe()
    cdef char* inp = <char*><size_t>plan.input_array.ctypes.data
    cdef char* out = <char*><size_t>plan.output_array.ctypes.data
    cdef const char* src = <const char*><size_t>fresh.ctypes.data
    cdef size_t nbytes = fresh.nbytes
    cdef Py_ssize_t reps = max(1, (1 << 18) // n), i, r
    cdef double best = INFINITY, t0
    with nogil:
        for r in range(7):
            t0 = _now()
            for i in range(reps):
                memcpy(inp, src, nbytes)
                exe._fftw_execute(exe._plan, inp, out)
            best = min(best, (_now() - t0) / reps)
    return best


def _tune(n, is_double, inverse):
    """A new cache entry for one transform (timed unless it is too large)."""
    if n > TUNE_MAX_SIZE:
        return {"how": "estimate", "wisdom": ""}
    candidates = []
    start = time.perf_counter()
    for _ in range(TUNE_SEARCHES):
        spent = time.perf_counter() - start
        left = TUNE_TIME_LIMIT - spent
        if candidates and (spent >= TUNE_REPEAT_BUDGET or left <= 0):
            break
        pyfftw.forget_wisdom()
        # (a negative limit would mean none to FFTW)
        _fftw(n, is_double, inverse, ("FFTW_MEASURE",),
              timelimit=left if candidates else TUNE_TIME_LIMIT)
        wisdom = pyfftw.export_wisdom()[0 if is_double else 1].decode("ascii")
        entry = {"how": "wisdom", "wisdom": wisdom}
        if _from_entry(entry, n, is_double, inverse) is None:
            if not candidates:
                # The first search hit the time limit: FFTW then returns
                # FFTW_ESTIMATE's plan and leaves wisdom it cannot rebuild
                # from.  Recording that choice keeps every process on the
                # plan the tuner got.
                return {"how": "estimate", "wisdom": ""}
            break
        if entry not in candidates:
            candidates.append(entry)
    candidates.append({"how": "portable", "wisdom": ""})
    fresh = np.random.default_rng(0).standard_normal(2 * (n // 2 + 1) if inverse else n)
    fresh = fresh.astype(np.float64 if is_double else np.float32)
    if inverse:
        fresh = fresh.view(np.complex128 if is_double else np.complex64)
    best, best_time = candidates[0], INFINITY
    for entry in candidates:
        plan = _from_entry(entry, n, is_double, inverse)
        if plan is None:
            continue                # the portable plan may not load or cover n
        t = _seconds(plan, n, fresh)
        if t < best_time:
            best, best_time = entry, t
    return best


def _machine(n, is_double, inverse):
    name = plan_name(n, is_double, inverse)
    entry = _machine_cache.get(name)
    if entry is not None:
        return _from_entry(entry, n, is_double, inverse)
    key, path = machine_key(), plan_cache_file()
    entry = _read_cache(path, key).get(name)
    plan = None if entry is None else _from_entry(entry, n, is_double, inverse)
    if plan is None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(path.with_suffix(".lock")):
            # Another process may have tuned it while this one waited: its
            # plan wins, so that every process on the machine agrees.
            plans = _read_cache(path, key)
            entry = plans.get(name)
            plan = None if entry is None else _from_entry(entry, n, is_double, inverse)
            if plan is None:
                entry = _tune(n, is_double, inverse)
                entry["sha256"] = _entry_digest(name, entry)
                plans[name] = entry
                _write_cache(path, key, plans)
                plan = _from_entry(entry, n, is_double, inverse)
    _machine_cache[name] = entry
    return plan


def make_fftw(n, is_double, inverse):
    """A pyfftw.FFTW object for one real transform, planned by this process's
    mode (called once per transform by fastmel._plan, under its lock)."""
    global _fallback_reason
    mode = _fix_mode()
    with _state_lock, _own_wisdom():
        if mode == "machine" and _fallback_reason is None:
            try:
                return _machine(n, is_double, inverse)
            except (OSError, ImportError) as exc:
                _fallback_reason = str(exc)
                _warn_once("fallback", f"fastmel: the machine plan cache cannot be used "
                                       f"({exc}); this process uses portable FFT plans")
        return _portable(n, is_double, inverse)


_lock = threading.Lock()
_plans = {}


cdef void* aligned_alloc(size_t nbytes) noexcept nogil:
    """64-byte aligned memory (NULL on failure); release with aligned_free."""
    cdef void* ptr = NULL
    if nbytes == 0:
        nbytes = ALIGNMENT
    if posix_memalign(&ptr, ALIGNMENT, nbytes) != 0:
        return NULL
    return ptr


cdef void aligned_free(void* ptr) noexcept nogil:
    free(ptr)


cdef class RealPlan:
    """An unnormalised real FFT of ``n_fft`` points in one precision: real to
    complex (``n_fft // 2 + 1`` bins), or with ``inverse`` complex to real."""

    def __cinit__(self, Py_ssize_t n_fft, bint is_double, bint inverse=False):
        self.n_fft = n_fft
        self.n_bins = n_fft // 2 + 1
        self.is_double = is_double
        self.inverse = inverse
        self._fftw = make_fftw(n_fft, is_double, inverse)
        self._exe = self._fftw.get_fftw_exe()

    def __reduce__(self):
        return (get_plan, (self.n_fft, self.is_double, self.inverse))

    cdef void execute(self, void* src, void* dst) noexcept nogil:
        self._exe._fftw_execute(self._exe._plan, src, dst)


def get_plan(Py_ssize_t n_fft, bint is_double, bint inverse=False):
    """The shared plan for an ``n_fft``-point real FFT (made on first use)."""
    key = (n_fft, bool(is_double), bool(inverse))
    plan = _plans.get(key)
    if plan is None:
        with _lock:
            plan = _plans.get(key)
            if plan is None:
                plan = RealPlan(n_fft, is_double, inverse)
                _plans[key] = plan
    return plan
