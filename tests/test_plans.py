"""The plan policy (fastmel.plans, implemented in fastmel._plan): machine plans
cached per machine and shared by every process, portable plans shipped, and
what happens when the cache is missing, damaged, contended or unwritable."""
import json
import os
import subprocess
import sys
import time
import warnings
from importlib.resources import files

import numpy as np
import pyfftw
import pytest

import fastmel
from fastmel import _plan as plans

# Prints, per output, a hash of its bytes; then the plan entries this
# process used (name -> checksum) and how many sizes it tuned itself.
SCRIPT = r"""
import hashlib, json, os, sys, time
import numpy as np
import fastmel
from fastmel import _plan as plans
tuned = []
_tune = plans._tune
def counting(n, d, i):
    tuned.append(plans.plan_name(n, d, i))
    return _tune(n, d, i)
plans._tune = counting
go = os.environ.get("GO_FILE")
while go and not os.path.exists(go):
    time.sleep(0.001)
rng = np.random.default_rng(0)
x = rng.standard_normal(20000).astype(np.float32)
ir = (rng.standard_normal(3000) * np.exp(-np.arange(3000) / 500)).astype(np.float32)
m = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160, n_mels=80,
                           to_db=True)
s = m.stream()
streamed = np.concatenate([s.process(x[i:i + 160]) for i in range(0, len(x), 160)]
                          + [s.flush()], axis=-1)
parts = [m(x), streamed, fastmel.stft(x.astype(np.float64), n_fft=1000, hop_length=250),
         fastmel.Convolver(ir, block_size=256)(x)]
print(json.dumps({"hashes": [hashlib.sha256(np.ascontiguousarray(p).tobytes()).hexdigest()
                             for p in parts],
                  "entries": {k: v["sha256"] for k, v in plans._machine_cache.items()},
                  "tuned": tuned, "mode": plans.get_plan_mode()}))
"""


def _env(cache, mode="machine", **extra):
    env = dict(os.environ, FASTMEL_CACHE_DIR=str(cache), FASTMEL_PLANS=mode)
    env.update(extra)
    return env


def _run(env, script=SCRIPT):
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def _cache_file(cache):
    found = list(cache.glob("plans-*.json"))
    assert len(found) == 1
    return found[0]


def test_machine_plans_are_tuned_once_and_shared_by_later_processes(tmp_path):
    first, _ = _run(_env(tmp_path))
    second, _ = _run(_env(tmp_path))
    assert first["mode"] == second["mode"] == "machine"
    assert first["tuned"] and second["tuned"] == []       # the second only reads
    assert first["entries"] == second["entries"]
    assert first["hashes"] == second["hashes"]
    # within a process the stream equals the offline call bit for bit
    assert first["hashes"][0] == first["hashes"][1]
    data = json.loads(_cache_file(tmp_path).read_text())
    assert data["key"] == plans.machine_key()
    assert set(first["tuned"]) == set(data["plans"])


def test_racing_processes_on_an_empty_cache_use_one_plan(tmp_path):
    go = tmp_path / "go"
    cache = tmp_path / "cache"
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env=_env(cache, GO_FILE=str(go))) for _ in range(2)]
    time.sleep(1.0)  # both are imported and waiting: they start planning together
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    a, b = results
    assert a["hashes"] == b["hashes"]
    assert a["entries"] == b["entries"]
    # each size was tuned by exactly one of them; the other used its plan
    assert sorted(a["tuned"] + b["tuned"]) == sorted(a["entries"])
    assert not set(a["tuned"]) & set(b["tuned"])


RESUME = r"""
import pickle, sys
import numpy as np
import fastmel
x = np.random.default_rng(3).standard_normal(32000).astype(np.float32)
if sys.argv[1] == "start":
    s = fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160,
                               n_mels=80, to_db=True).stream()
    head = [s.process(x[i:i + 160]) for i in range(0, 16000, 160)]
    with open(sys.argv[2], "wb") as f:
        pickle.dump((s, head), f)
    rest = [s.process(x[i:i + 160]) for i in range(16000, len(x), 160)] + [s.flush()]
    np.save(sys.argv[3], np.concatenate(head + rest, axis=-1))
else:
    with open(sys.argv[2], "rb") as f:
        s, head = pickle.load(f)
    rest = [s.process(x[i:i + 160]) for i in range(16000, len(x), 160)] + [s.flush()]
    np.save(sys.argv[3], np.concatenate(head + rest, axis=-1))
"""


def test_a_stream_pickled_in_one_process_resumes_in_another_with_the_same_bits(tmp_path):
    env = _env(tmp_path / "cache")
    for args in (["start", "state.pkl", "here.npy"], ["resume", "state.pkl", "there.npy"]):
        done = subprocess.run([sys.executable, "-c", RESUME, *[str(tmp_path / a) if "." in a
                                                               else a for a in args]],
                              capture_output=True, text=True, env=env)
        assert done.returncode == 0, done.stderr
    here, there = np.load(tmp_path / "here.npy"), np.load(tmp_path / "there.npy")
    assert here.shape == there.shape and here.tobytes() == there.tobytes()


@pytest.fixture
def fresh_policy(tmp_path, monkeypatch):
    """plans' machine functions, in this process, on an empty cache dir."""
    monkeypatch.setenv("FASTMEL_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(plans, "_machine_cache", {})
    monkeypatch.setattr(plans, "_warned", set())
    return tmp_path


def _machine_plan(n, is_double=False, inverse=False):
    with plans._own_wisdom():
        return plans._machine(n, is_double, inverse)


def _transform(fftw):
    x = np.random.default_rng(5).standard_normal(fftw.input_shape[0])
    fftw.input_array[:] = x.astype(fftw.input_dtype)
    return x, fftw().copy()


def test_a_process_that_lost_the_race_uses_the_winners_plan(fresh_policy, monkeypatch):
    _machine_plan(512)                       # the "winner" writes the entry
    winner = json.loads(_cache_file(fresh_policy).read_text())["plans"]["f32:r2c:512"]
    monkeypatch.setattr(plans, "_machine_cache", {})
    # The loser read the cache before the winner wrote it, then waited for the lock.
    real_read = plans._read_cache
    reads = []

    def stale_first_read(path, key):
        reads.append(path)
        return {} if len(reads) == 1 else real_read(path, key)

    monkeypatch.setattr(plans, "_read_cache", stale_first_read)
    monkeypatch.setattr(plans, "_tune", lambda *a: pytest.fail("the loser tuned its own plan"))
    _machine_plan(512)
    assert len(reads) == 2                   # it re-read under the lock
    assert plans._machine_cache["f32:r2c:512"] == winner


def test_machine_plans_compute_the_fft(fresh_policy):
    for n, is_double in ((512, False), (400, True), (777, False)):
        x, y = _transform(_machine_plan(n, is_double))
        ref = np.fft.rfft(x)
        # float32 FFT vs numpy's float64 one: single-precision rounding, grown by log2(n)
        tol = 1e-10 if is_double else 1e-5
        assert np.max(np.abs(y - ref)) <= tol * np.max(np.abs(ref))


@pytest.mark.parametrize("damage", ["not json", "truncated", "edited wisdom", "other machine",
                                    "bad checksum", "wisdom FFTW rejects"])
def test_a_damaged_cache_is_detected_and_tuned_again(fresh_policy, monkeypatch, damage):
    # (an entry naming FFTW wisdom, not the portable plan, so that it can be edited)
    with monkeypatch.context() as m:
        m.setattr(plans, "_shipped_plan", lambda *a: None)
        _machine_plan(512)
    path = _cache_file(fresh_policy)
    text = path.read_text()
    data = json.loads(text)
    entry = data["plans"]["f32:r2c:512"]
    if damage == "not json":
        path.write_bytes(b"\x00\xff garbage")
    elif damage == "truncated":
        path.write_text(text[:len(text) // 2])
    else:
        if damage == "edited wisdom":
            entry["wisdom"] = entry["wisdom"].replace("r2cf_2", "r2cf_4", 1)
        elif damage == "other machine":
            data["key"]["cpu"] = "another CPU"
        elif damage == "bad checksum":
            entry["sha256"] = "0" * 64
        elif damage == "wisdom FFTW rejects":   # consistent checksum, unusable wisdom
            entry["wisdom"] = "(fftw-3.3.5 fftwf_wisdom #x0 #x0 #x0 #x0\n)"
            entry["sha256"] = plans._entry_digest("f32:r2c:512", entry)
        path.write_text(json.dumps(data))
    monkeypatch.setattr(plans, "_machine_cache", {})
    tuned = []
    real_tune = plans._tune
    monkeypatch.setattr(plans, "_tune", lambda *a: tuned.append(a) or real_tune(*a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", plans.PlanCacheWarning)
        x, y = _transform(_machine_plan(512))
    assert tuned == [(512, False, False)]
    ref = np.fft.rfft(x)
    # float32 FFT vs numpy's float64 one: single-precision rounding
    assert np.max(np.abs(y - ref)) <= 1e-5 * np.max(np.abs(ref))
    repaired = plans._read_cache(path, plans.machine_key())
    assert repaired["f32:r2c:512"] == plans._machine_cache["f32:r2c:512"]


def test_damage_is_reported_with_a_warning(fresh_policy, monkeypatch):
    _machine_plan(256)
    _cache_file(fresh_policy).write_text("{")
    monkeypatch.setattr(plans, "_machine_cache", {})
    with pytest.warns(plans.PlanCacheWarning, match="damaged"):
        _machine_plan(256)


def test_sizes_above_the_tuning_limit_are_estimated_not_timed(fresh_policy, monkeypatch):
    monkeypatch.setattr(plans, "TUNE_MAX_SIZE", 256)
    monkeypatch.setattr(plans, "_fftw", _no_measure(plans._fftw))
    _machine_plan(512)
    entry = json.loads(_cache_file(fresh_policy).read_text())["plans"]["f32:r2c:512"]
    assert entry["how"] == "estimate"


def test_a_search_that_runs_out_of_time_is_recorded_as_the_estimate(fresh_policy, monkeypatch):
    # FFTW 3.3.5 answers a timed-out search with FFTW_ESTIMATE's plan; the
    # entry must say so, or other processes could not rebuild that plan.
    monkeypatch.setattr(plans, "TUNE_TIME_LIMIT", 1e-6)
    x, y = _transform(_machine_plan(4096))
    entry = json.loads(_cache_file(fresh_policy).read_text())["plans"]["f32:r2c:4096"]
    assert entry["how"] == "estimate"
    with plans._own_wisdom():
        estimate = plans._estimate(4096, False, False)
    estimate.input_array[:] = x.astype(np.float32)
    assert np.array_equal(estimate(), y)


def _no_measure(fftw):
    def checked(n, is_double, inverse, flags, timelimit=None):
        assert flags != ("FFTW_MEASURE",), "a size above TUNE_MAX_SIZE was timed"
        return fftw(n, is_double, inverse, flags, timelimit)
    return checked


def test_fastmel_planning_leaves_the_process_wisdom_alone(fresh_policy):
    a = pyfftw.empty_aligned(300, np.float64)
    pyfftw.FFTW(a, pyfftw.empty_aligned(151, np.complex128), flags=("FFTW_MEASURE",))
    before = pyfftw.export_wisdom()
    _machine_plan(1024, True)
    assert pyfftw.export_wisdom() == before


UNWRITABLE = r"""
import hashlib, warnings
import numpy as np
import fastmel
x = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    a = fastmel.stft(x, n_fft=512)
    b = fastmel.stft(x, n_fft=1024)
print(hashlib.sha256(a.tobytes() + b.tobytes()).hexdigest(), fastmel.plans.get_plan_mode(),
      sum(issubclass(i.category, fastmel.plans.PlanCacheWarning) for i in w))
"""


def test_an_unwritable_cache_dir_falls_back_to_portable_plans_with_one_warning(tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a directory")
    fallback, _ = _run_text(_env(blocker / "cache"), UNWRITABLE)
    portable, _ = _run_text(_env(tmp_path / "unused", mode="portable"), UNWRITABLE)
    digest, mode, n_warnings = fallback.split()
    assert (mode, n_warnings) == ("machine", "1")
    assert digest == portable.split()[0]


def _run_text(env, script):
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def test_portable_mode_never_touches_the_cache(tmp_path):
    out, _ = _run(_env(tmp_path / "cache", mode="portable"))
    assert out["mode"] == "portable" and out["tuned"] == [] and out["entries"] == {}
    assert out["hashes"][0] == out["hashes"][1]    # stream == offline
    assert not (tmp_path / "cache").exists()


def _shipped():
    return json.loads((files("fastmel") / "data" / "fftw_wisdom.json").read_text())


def test_the_shipped_portable_plans_use_only_codelets_every_avx_cpu_runs():
    data = _shipped()
    names = {line.split()[0].lstrip("(") for p in ("single", "double")
             for line in data[p].splitlines()[1:] if line.strip() not in ("", ")")}
    assert any(n.endswith("_sse2") for n in names) and any(n.endswith("_avx") for n in names)
    assert not [n for n in names if any(s in n for s in ("avx2", "fma", "avx512", "kcvi"))]
    assert data["single"].startswith(f"({plans.machine_key()['fftw']} fftwf_wisdom")


@pytest.mark.skipif("avx" not in plans.machine_key()["simd"],
                    reason="FFTW loads them with AVX only")
def test_the_shipped_portable_plans_cover_the_usual_sizes(recwarn):
    with plans._own_wisdom():
        for is_double in (False, True):
            for n in (16, 512, 2048, 131072):      # powers of two: both directions
                plans._portable(n, is_double, False)
                plans._portable(n, is_double, True)
            for n in (400, 1000, 4410):             # frame lengths: forward
                plans._portable(n, is_double, False)
    assert not [w for w in recwarn if issubclass(w.category, plans.PlanCacheWarning)]


def test_uncovered_sizes_in_portable_mode_warn_once(tmp_path):
    script = ("import warnings, numpy as np, fastmel\n"
              "x = np.ones(4000, np.float32)\n"
              "with warnings.catch_warnings(record=True) as w:\n"
              "    warnings.simplefilter('always')\n"
              "    for n in (777, 777, 512):\n"
              "        fastmel.STFT(n_fft=n)(x)\n"
              "print([str(i.message) for i in w])\n")
    out, _ = _run_text(_env(tmp_path, mode="portable"), script)
    assert out.count("f32:r2c:777") == 1 and "512" not in out


def test_the_mode_cannot_change_after_the_first_plan():
    fastmel.stft(np.ones(2048, np.float32), n_fft=512)
    mode = fastmel.get_plan_mode()
    fastmel.set_plan_mode(mode)             # the same mode is fine
    other = "portable" if mode == "machine" else "machine"
    with pytest.raises(RuntimeError, match="set_plan_mode before the first transform"):
        fastmel.set_plan_mode(other)
    assert fastmel.get_plan_mode() == mode


def test_set_plan_mode_before_the_first_plan_chooses_the_mode(tmp_path):
    script = ("import fastmel, numpy as np\nfastmel.set_plan_mode('portable')\n"
              "fastmel.stft(np.ones(2048, np.float32), n_fft=512)\n"
              "print(fastmel.get_plan_mode())\n")
    out, _ = _run_text(_env(tmp_path / "cache", mode="machine"), script)
    assert out.split() == ["portable"]
    assert not (tmp_path / "cache").exists()


def test_bad_modes_are_refused(tmp_path):
    with pytest.raises(fastmel.ParameterError, match="'fast'"):
        fastmel.set_plan_mode("fast")
    with pytest.raises(TypeError, match="str"):
        fastmel.set_plan_mode(1)
    done = subprocess.run([sys.executable, "-c", "import fastmel, numpy as np\n"
                           "fastmel.stft(np.ones(2048), n_fft=512)"],
                          capture_output=True, text=True, env=_env(tmp_path, mode="bogus"))
    assert done.returncode != 0 and "FASTMEL_PLANS must be one of" in done.stderr


def test_tuning_keeps_one_of_its_candidates_and_the_portable_one_rebuilds(fresh_policy):
    # The tuner times the plans its searches found and the shipped portable
    # plan, and records the fastest; a "portable" entry must rebuild exactly
    # the plan portable mode uses.
    x, y = _transform(_machine_plan(512))
    entry = json.loads(_cache_file(fresh_policy).read_text())["plans"]["f32:r2c:512"]
    assert entry["how"] in ("wisdom", "portable")
    with plans._own_wisdom():
        portable = plans._from_entry({"how": "portable", "wisdom": ""}, 512, False, False)
        shipped = plans._portable(512, False, False)
    if portable is None:
        pytest.skip("the shipped wisdom does not load on this CPU")
    portable.input_array[:] = x.astype(np.float32)
    shipped.input_array[:] = x.astype(np.float32)
    assert np.array_equal(portable(), shipped())
