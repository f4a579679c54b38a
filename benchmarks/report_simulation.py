"""Recording-simulation benchmark report for fastmel (SPEC.md section 3): Markdown tables.

Reproduce (from the repository root, after ``python -m pip install -e '.[bench]'``,
which brings scipy and pedalboard; on an otherwise idle machine, check ``uptime`` first):

    python benchmarks/report_simulation.py                  # all three tables
    python benchmarks/report_simulation.py --repeats 40     # more repeats on a noisy machine
    python benchmarks/report_simulation.py --only bandpass  # or: convolver, offline

The same calls on the same data are benchmarked with pytest-benchmark by:

    python -m pytest benchmarks/test_bench_simulation.py --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

This module also holds the workloads and timed callables that ``test_bench_simulation.py``
imports, so both time exactly the same thing.

Workloads (all float32, seeded, single-threaded: fastmel and pedalboard process on the calling
thread, scipy.fft uses ``workers=1`` by default; the CPU-time / wall-time ratio of every
candidate is printed to show it):

* Room impulse response: 1 s at 48 kHz, white Gaussian noise (seed 1) times an exponential
  envelope falling 60 dB in ``RT60`` = 0.6 s, peak-normalised to 1.
* Convolution input: 10 s of white Gaussian noise at 48 kHz (seed 2, sigma 0.1).
* Band-pass input: the bundled 16 kHz speech clip tiled to 10 s; the "silence" signal is its
  first 1 s followed by 10 s of digital silence (zeros).

What is timed (chunks are pre-sliced views made outside the timing; objects and FFTW plans are
built outside the timing; every timed run starts from rest, the reset done outside the timing):

* fastmel Convolver[B]:  ``c.process(chunk)`` for each B-sample chunk of the 10 s
                         (``c = fastmel.Convolver(ir, block_size=B)``; ``c.reset()`` untimed)
* pedalboard[B]:         ``p.process(chunk, sample_rate=48000, buffer_size=B, reset=False)`` for
                         each (1, B) chunk (``p = pedalboard.Convolution(ir, mix=1.0,
                         sample_rate=48000)``; ``p.reset()`` untimed)
* scipy fftconvolve:     ``scipy.signal.fftconvolve(x, ir)`` on the whole 10 s (full output)
* fastmel convolve:      ``fastmel.convolve(x, ir)`` on the whole 10 s (full output)
* fastmel Bandpass:      ``bp.process(chunk)`` for each 160-sample chunk
                         (``bp = fastmel.Bandpass(16000, 300, 3400)``; ``bp.reset()`` untimed)
* scipy sosfilt:         ``y, zi = scipy.signal.sosfilt(sos, chunk, zi=zi)`` for each chunk, zi carried,
                         starting from ``np.zeros((4, 2), np.float32)``; ``sos = scipy.signal.butter(4,
                         [300, 3400], btype="bandpass", fs=16000, output="sos")``. scipy computes in
                         ``np.result_type(sos, x, zi)``: float64 with butter's float64 sos, so the table
                         also has a row with ``sos.astype(np.float32)``, scipy's float32 path.
* silence rows:          the first 1 s is fed untimed (setup), then the 10 s of zeros is timed.

Real-time factor (RTF) = seconds of audio / seconds of compute. Each candidate is warmed up
(``--warmup`` runs, default 2) and then timed ``--repeats`` times (default 20) with
``time.perf_counter``, GC off; the tables show the minimum, the median/min spread is printed below.

Targets (SPEC section 3): Convolver >= 600x real time at B=64, 900x at 256, 1200x at 1024;
``convolve`` >= 1.5x ``fftconvolve``; Bandpass in 160-sample chunks >= 5x scipy's sosfilt with
carried zi (judged against the default, float64-sos call).

Checks (printed; the pytest file asserts them): fastmel's outputs match a float64 scipy reference
within 1e-5 of the reference's peak. pedalboard (JUCE) normalises the impulse response, so its
output is compared after a least-squares gain; the gain is printed.

Sets no environment variables (nothing about threads or the OpenBLAS core type).
"""

from __future__ import annotations

import argparse
import gc
import os
import pathlib
import platform
import statistics
import sys
import time

import numpy as np

try:
    from fastmel.cli.bench import cpu_model
except ImportError:  # fastmel not built: the report says so below
    def cpu_model():
        return platform.processor() or "unknown CPU"

# --------------------------------------------------------------------------- #
# Workloads
# --------------------------------------------------------------------------- #

CONV_SR = 48000
IR_SECONDS = 1.0
RT60 = 0.6  # seconds for the envelope to fall 60 dB
CONV_SECONDS = 10.0
CONV_BLOCKS = (64, 256, 1024)
TARGET_CONVOLVER_RTF = {64: 600.0, 256: 900.0, 1024: 1200.0}
TARGET_CONVOLVE_SPEEDUP = 1.5  # fastmel.convolve vs scipy.signal.fftconvolve, at least

BP_SR = 16000
BP_LOW, BP_HIGH, BP_ORDER = 300.0, 3400.0, 4
BP_CHUNK = 160
BP_SECONDS = 10.0
SILENCE_LEAD_SECONDS = 1.0
SILENCE_SECONDS = 10.0
TARGET_BANDPASS_SPEEDUP = 5.0  # fastmel Bandpass vs scipy sosfilt with carried zi, at least

REL_TOL = 1e-5  # max |out - ref| / max |ref|, float32 outputs vs float64 reference

_REPO_DATA = pathlib.Path(__file__).resolve().parent.parent / "src" / "fastmel" / "data"


def make_rir(sr: int = CONV_SR, seconds: float = IR_SECONDS, rt60: float = RT60, seed: int = 1) -> np.ndarray:
    """Synthetic room impulse response: seeded white noise under a 60 dB / rt60 exponential decay."""
    n = int(round(sr * seconds))
    t = np.arange(n) / sr
    env = 10.0 ** (-3.0 * t / rt60)  # amplitude -60 dB at t = rt60
    ir = np.random.default_rng(seed).standard_normal(n) * env
    ir /= np.abs(ir).max()
    return np.ascontiguousarray(ir, dtype=np.float32)


def make_noise(n: int, seed: int = 2, sigma: float = 0.1) -> np.ndarray:
    return np.ascontiguousarray(sigma * np.random.default_rng(seed).standard_normal(n), dtype=np.float32)


def conv_input() -> np.ndarray:
    return make_noise(int(round(CONV_SR * CONV_SECONDS)))


def load_speech_16k(n: int) -> np.ndarray:
    """The bundled 16 kHz speech clip, mono float32, tiled (np.resize) to n samples."""
    import soundfile as sf

    p = _REPO_DATA / "speech_16000.flac"
    if not p.exists():
        import importlib.resources

        p = pathlib.Path(str(importlib.resources.files("fastmel") / "data" / "speech_16000.flac"))
    clip, sr = sf.read(str(p), dtype="float32", always_2d=False)
    if sr != BP_SR:
        raise ValueError(f"{p}: sr={sr}, expected {BP_SR}")
    if clip.ndim != 1:
        clip = clip.mean(axis=-1, dtype=np.float32)
    return np.ascontiguousarray(np.resize(clip, n), dtype=np.float32)


def bandpass_inputs() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(speech 10 s, silence lead 1 s, silence 10 s of zeros), float32 at 16 kHz."""
    speech = load_speech_16k(int(round(BP_SR * BP_SECONDS)))
    lead = np.ascontiguousarray(speech[: int(round(BP_SR * SILENCE_LEAD_SECONDS))])
    zeros = np.zeros(int(round(BP_SR * SILENCE_SECONDS)), dtype=np.float32)
    return speech, lead, zeros


def split_chunks(y: np.ndarray, chunk: int) -> list[np.ndarray]:
    """Consecutive views ``y[..., i:i+chunk]`` (the last may be shorter); no copies."""
    return [y[..., i : i + chunk] for i in range(0, y.shape[-1], chunk)]


def butter_sos() -> np.ndarray:
    import scipy.signal

    return scipy.signal.butter(BP_ORDER, [BP_LOW, BP_HIGH], btype="bandpass", fs=BP_SR, output="sos")


def rel_error(out, ref) -> float:
    """max |out - ref| / max |ref| in float64 (inf on a shape mismatch)."""
    out = np.asarray(out, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    if out.shape != ref.shape:
        return float("inf")
    return float(np.abs(out - ref).max() / max(np.abs(ref).max(), 1e-300))


def gain_fit_error(out, ref) -> tuple[float, float]:
    """(g, rel error of out vs g*ref) with g the least-squares gain (for pedalboard's normalised IR)."""
    out = np.asarray(out, dtype=np.float64).reshape(-1)
    ref = np.asarray(ref, dtype=np.float64).reshape(-1)
    if out.shape != ref.shape:
        return float("nan"), float("inf")
    g = float(np.dot(out, ref) / np.dot(ref, ref))
    return g, rel_error(out, g * ref)


def count_subnormal(a) -> int:
    """Number of nonzero values below the smallest normal number of a's own dtype."""
    a = np.asarray(a)
    tiny = np.finfo(a.dtype).tiny
    m = np.abs(a)
    return int(np.count_nonzero((m > 0) & (m < tiny)))


# --------------------------------------------------------------------------- #
# Imports with clear reasons
# --------------------------------------------------------------------------- #


def import_fastmel_sim():
    """Import fastmel and check the recording-simulation API; ImportError with the reason."""
    try:
        import fastmel
    except Exception as exc:
        raise ImportError(
            f"cannot import fastmel ({type(exc).__name__}: {exc}); "
            "build/install it first: python -m pip install -e ."
        ) from exc
    missing = [n for n in ("Convolver", "convolve", "Bandpass") if not hasattr(fastmel, n)]
    if missing:
        raise ImportError(f"fastmel ({fastmel.__file__}) lacks: {', '.join('fastmel.' + n for n in missing)}")
    return fastmel


def import_pedalboard():
    try:
        import pedalboard
    except Exception as exc:
        raise ImportError(
            f"pedalboard not installed ({type(exc).__name__}: {exc}); "
            "install the bench extra: python -m pip install -e '.[bench]'"
        ) from exc
    return pedalboard


# --------------------------------------------------------------------------- #
# Timed candidates: setup() is untimed, run() is timed, outputs() is for the checks
# --------------------------------------------------------------------------- #


class Candidate:
    """A timed callable with an untimed setup (returns the state to a fixed start)."""

    def __init__(self, run, setup=None, outputs=None):
        self.run = run
        self.setup = setup
        self._outputs = outputs

    def outputs(self):
        if self.setup is not None:
            self.setup()
        return self._outputs()


def fastmel_convolver(fastmel, ir, chunks, block_size) -> Candidate:
    """``c.process`` on each pre-sliced chunk; ``c.reset()`` before each run (untimed).

    outputs(): the concatenated process outputs followed by ``flush()`` (the full convolution).
    """
    conv = fastmel.Convolver(ir, block_size=block_size, dtype=np.float32)

    def run():
        process = conv.process
        for c in chunks:
            process(c)

    def outputs():
        process = conv.process
        return np.concatenate([process(c) for c in chunks] + [conv.flush()], axis=-1)

    cand = Candidate(run, conv.reset, outputs)
    cand.obj = conv
    return cand


def pedalboard_convolver(pedalboard, ir, chunks2d, block_size, sr=CONV_SR) -> Candidate:
    """pedalboard's streaming convolution fed (1, B) chunks with ``reset=False``.

    The impulse response is passed as a float32 array (supported since pedalboard 0.9.10; the
    output equals the one with the same IR loaded from a wav file). ``p.reset()`` before each
    run (untimed). outputs(): the concatenated (1, n) outputs, flattened.
    """
    plugin = pedalboard.Convolution(ir, mix=1.0, sample_rate=sr)

    def run():
        process = plugin.process
        for c in chunks2d:
            process(c, sample_rate=sr, buffer_size=block_size, reset=False)

    def outputs():
        process = plugin.process
        outs = [process(c, sample_rate=sr, buffer_size=block_size, reset=False) for c in chunks2d]
        return np.concatenate(outs, axis=-1).reshape(-1)

    cand = Candidate(run, plugin.reset, outputs)
    cand.obj = plugin
    return cand


def scipy_fftconvolve(x, ir) -> Candidate:
    import scipy.signal

    def run():
        return scipy.signal.fftconvolve(x, ir)

    return Candidate(run, None, run)


def fastmel_convolve(fastmel, x, ir) -> Candidate:
    def run():
        return fastmel.convolve(x, ir)

    return Candidate(run, None, run)


def fastmel_bandpass(fastmel, chunks, lead_chunks=()) -> Candidate:
    """``bp.process`` per chunk; setup: ``bp.reset()`` then the lead chunks (untimed)."""
    bp = fastmel.Bandpass(BP_SR, BP_LOW, BP_HIGH, order=BP_ORDER)

    def setup():
        bp.reset()
        process = bp.process
        for c in lead_chunks:
            process(c)

    def run():
        process = bp.process
        for c in chunks:
            process(c)

    def outputs():
        process = bp.process
        return np.concatenate([process(c) for c in chunks])

    cand = Candidate(run, setup, outputs)
    cand.obj = bp
    return cand


def scipy_sosfilt_stream(sos, chunks, lead_chunks=()) -> Candidate:
    """``y, zi = sosfilt(sos, chunk, zi=zi)`` per chunk, zi from float32 zeros, then carried.

    setup: zi back to zeros, then the lead chunks (untimed); the timed run starts from that zi.
    The dtype scipy computes in is ``np.result_type(sos, chunk, zi)``.
    """
    from scipy.signal import sosfilt

    zi0 = np.zeros((sos.shape[0], 2), dtype=np.float32)
    state = {"zi": zi0}

    def setup():
        zi = zi0
        for c in lead_chunks:
            _, zi = sosfilt(sos, c, zi=zi)
        state["zi"] = zi

    def run():
        zi = state["zi"]
        for c in chunks:
            _, zi = sosfilt(sos, c, zi=zi)
        state["zi_end"] = zi

    def outputs():
        zi = state["zi"]
        outs = []
        for c in chunks:
            y, zi = sosfilt(sos, c, zi=zi)
            outs.append(y)
        state["zi_end"] = zi
        return np.concatenate(outs)

    cand = Candidate(run, setup, outputs)
    cand.state = state
    return cand


# --------------------------------------------------------------------------- #
# Measurement
# --------------------------------------------------------------------------- #


def measure(cand: Candidate, repeats: int, warmup: int) -> tuple[list[float], float]:
    """(wall times of ``repeats`` timed runs, CPU-time/wall-time ratio over them)."""
    for _ in range(warmup):
        if cand.setup is not None:
            cand.setup()
        cand.run()
    times = []
    cpu = wall = 0.0
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            if cand.setup is not None:
                cand.setup()
            c0 = time.process_time()
            t0 = time.perf_counter()
            cand.run()
            t1 = time.perf_counter()
            cpu += time.process_time() - c0
            wall += t1 - t0
            times.append(t1 - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return times, (cpu / wall if wall > 0 else float("nan"))


def _load() -> str:
    try:
        return "/".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def _table(header, rows) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


def _spread(label, times) -> str:
    return f"{label} {statistics.median(times) / min(times):.2f}"


def _pf(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --------------------------------------------------------------------------- #
# Sections
# --------------------------------------------------------------------------- #


def convolver_section(args, fastmel, pedalboard, ir, x, ref_full) -> None:
    n = x.shape[-1]
    audio_s = n / CONV_SR
    print(f"### Streaming convolution: 1 s IR at {CONV_SR} Hz, {audio_s:g} s of audio, float32\n")
    rows, spreads, checks = [], [], []
    for B in CONV_BLOCKS:
        chunks = split_chunks(x, B)
        t_fm = t_pb = []
        cpu_fm = cpu_pb = float("nan")
        if fastmel is not None:
            try:
                t0 = time.perf_counter()
                cand = fastmel_convolver(fastmel, ir, chunks, B)
                build = time.perf_counter() - t0
                err = rel_error(cand.outputs(), ref_full)
                checks.append(
                    f"fastmel Convolver B={B}: partitions {cand.obj.partitions}, built in {build:.2f} s "
                    f"(untimed); process+flush vs float64 fftconvolve: rel err {err:.2g} "
                    f"({'ok' if err <= REL_TOL else 'EXCEEDS ' + str(REL_TOL)})"
                )
                t_fm, cpu_fm = measure(cand, args.repeats, args.warmup)
            except Exception as exc:
                checks.append(f"fastmel Convolver B={B}: FAILED: {type(exc).__name__}: {exc}")
        if pedalboard is not None:
            try:
                chunks2d = split_chunks(x[None, :], B)
                cand = pedalboard_convolver(pedalboard, ir, chunks2d, B)
                g, err = gain_fit_error(cand.outputs(), ref_full[:n])
                checks.append(
                    f"pedalboard B={B}: output length {n}, vs float64 fftconvolve after a gain of {g:.6g} "
                    f"(JUCE normalises the IR): rel err {err:.2g}"
                )
                t_pb, cpu_pb = measure(cand, args.repeats, args.warmup)
            except Exception as exc:
                checks.append(f"pedalboard B={B}: FAILED: {type(exc).__name__}: {exc}")
        n_chunks = len(chunks)
        target = TARGET_CONVOLVER_RTF[B]
        fm_rtf = audio_s / min(t_fm) if t_fm else None
        pb_rtf = audio_s / min(t_pb) if t_pb else None
        rows.append(
            [
                str(B),
                str(n_chunks),
                f"{min(t_fm) * 1e3:.2f}" if t_fm else "n/a",
                f"{min(t_fm) / n_chunks * 1e6:.2f}" if t_fm else "n/a",
                f"{fm_rtf:.0f}x (>= {target:g}x) {_pf(fm_rtf >= target)}" if fm_rtf else "n/a",
                f"{min(t_pb) * 1e3:.2f}" if t_pb else "n/a",
                f"{min(t_pb) / n_chunks * 1e6:.2f}" if t_pb else "n/a",
                f"{pb_rtf:.0f}x" if pb_rtf else "n/a",
                f"{min(t_pb) / min(t_fm):.1f}x" if (t_fm and t_pb) else "n/a",
                f"{cpu_fm:.2f} / {cpu_pb:.2f}",
            ]
        )
        if t_fm:
            spreads.append(_spread(f"fastmel {B}", t_fm))
        if t_pb:
            spreads.append(_spread(f"pedalboard {B}", t_pb))
    _table(
        [
            "block B",
            "chunks",
            "fastmel Convolver ms",
            "fastmel µs/block",
            "fastmel real-time factor (target)",
            "pedalboard ms",
            "pedalboard µs/block",
            "pedalboard real-time factor",
            "fastmel speed-up vs pedalboard",
            "CPU/wall fastmel / pedalboard",
        ],
        rows,
    )
    print()
    print("Noise (median / min, 1.00 = no spread): " + "; ".join(spreads))
    print("\nChecks:")
    for c in checks:
        print(f"- {c}")
    print()


def offline_section(args, fastmel, ir, x, ref_full) -> None:
    n = x.shape[-1]
    audio_s = n / CONV_SR
    print(f"### Offline convolution: {audio_s:g} s at {CONV_SR} Hz with the 1 s IR, float32, full output\n")
    checks = []
    cand = scipy_fftconvolve(x, ir)
    out = cand.outputs()
    checks.append(f"scipy fftconvolve: dtype {out.dtype}, vs float64 reference: rel err {rel_error(out, ref_full):.2g}")
    t_sp, cpu_sp = measure(cand, args.repeats, args.warmup)
    t_fm, cpu_fm = [], float("nan")
    if fastmel is not None:
        try:
            cand = fastmel_convolve(fastmel, x, ir)
            out = cand.outputs()
            err = rel_error(out, ref_full)
            checks.append(
                f"fastmel convolve: dtype {out.dtype}, vs float64 reference: rel err {err:.2g} "
                f"({'ok' if err <= REL_TOL else 'EXCEEDS ' + str(REL_TOL)})"
            )
            t_fm, cpu_fm = measure(cand, args.repeats, args.warmup)
        except Exception as exc:
            checks.append(f"fastmel convolve: FAILED: {type(exc).__name__}: {exc}")
    sp = min(t_sp) / min(t_fm) if t_fm else None
    _table(
        [
            "candidate",
            "ms",
            "real-time factor",
            f"speed-up vs fftconvolve (target >= {TARGET_CONVOLVE_SPEEDUP:g}x)",
            "CPU/wall",
        ],
        [
            ["scipy.signal.fftconvolve(x, ir)", f"{min(t_sp) * 1e3:.2f}", f"{audio_s / min(t_sp):.0f}x", "1.00x", f"{cpu_sp:.2f}"],
            [
                "fastmel.convolve(x, ir)",
                f"{min(t_fm) * 1e3:.2f}" if t_fm else "n/a",
                f"{audio_s / min(t_fm):.0f}x" if t_fm else "n/a",
                f"{sp:.2f}x {_pf(sp >= TARGET_CONVOLVE_SPEEDUP)}" if sp else "n/a",
                f"{cpu_fm:.2f}",
            ],
        ],
    )
    print()
    spreads = [_spread("fftconvolve", t_sp)] + ([_spread("fastmel", t_fm)] if t_fm else [])
    print("Noise (median / min, 1.00 = no spread): " + "; ".join(spreads))
    print("\nChecks:")
    for c in checks:
        print(f"- {c}")
    print()


def bandpass_section(args, fastmel) -> None:
    import scipy.signal

    speech, lead, zeros = bandpass_inputs()
    sos = butter_sos()
    sos32 = sos.astype(np.float32)
    print(
        f"### Band-pass: Butterworth order {BP_ORDER}, {BP_LOW:g}-{BP_HIGH:g} Hz at {BP_SR} Hz, "
        f"{BP_CHUNK}-sample chunks, float32 input\n"
    )
    signals = {
        "speech": (split_chunks(speech, BP_CHUNK), (), speech),
        "silence": (split_chunks(zeros, BP_CHUNK), split_chunks(lead, BP_CHUNK), np.concatenate([lead, zeros])),
    }
    makers = [("fastmel Bandpass `bp.process(c)`", "fastmel", None)]
    makers.append(("scipy sosfilt, butter's float64 sos (computes in float64)", "scipy", sos))
    makers.append(("scipy sosfilt, sos.astype(float32) (computes in float32)", "scipy", sos32))
    results = {}
    checks, spreads = [], []
    for sig_name, (chunks, lead_chunks, full) in signals.items():
        n_lead = sum(c.shape[-1] for c in lead_chunks)
        ref = scipy.signal.sosfilt(sos, full.astype(np.float64))[n_lead:]
        for label, kind, s in makers:
            times, cpu = [], float("nan")
            try:
                if kind == "fastmel":
                    if fastmel is None:
                        raise RuntimeError("fastmel not importable")
                    cand = fastmel_bandpass(fastmel, chunks, lead_chunks)
                else:
                    cand = scipy_sosfilt_stream(s, chunks, lead_chunks)
                out = cand.outputs()
                err = rel_error(out, ref)
                sub = count_subnormal(out)
                extra = ""
                if kind == "scipy":
                    extra = f", subnormal values in the final zi: {count_subnormal(cand.state['zi_end'])}/{cand.state['zi_end'].size}"
                judged = kind == "fastmel"
                checks.append(
                    f"{sig_name}, {label}: output dtype {out.dtype}, rel err vs float64 sosfilt {err:.2g}"
                    + (f" ({'ok' if err <= REL_TOL else 'EXCEEDS ' + str(REL_TOL)})" if judged else "")
                    + f"; subnormal outputs {sub}{extra}"
                )
                times, cpu = measure(cand, args.bp_repeats, args.warmup)
            except Exception as exc:
                checks.append(f"{sig_name}, {label}: FAILED: {type(exc).__name__}: {exc}")
            results[(sig_name, label)] = (times, len(chunks), cpu)
            if times:
                spreads.append(_spread(f"{sig_name} {kind}{'' if s is None else '-' + str(s.dtype)}", times))

    fm_label = makers[0][0]
    rows = []
    for sig_name, (chunks, lead_chunks, _) in signals.items():
        desc = (
            f"{BP_SECONDS:g} s speech"
            if sig_name == "speech"
            else f"{SILENCE_SECONDS:g} s zeros after {SILENCE_LEAD_SECONDS:g} s speech (untimed)"
        )
        fm_t = results[(sig_name, fm_label)][0]
        for label, kind, s in makers:
            times, n_chunks, cpu = results[(sig_name, label)]
            us = min(times) / n_chunks * 1e6 if times else None
            speed = ""
            if kind == "scipy" and times and fm_t:
                r = min(times) / min(fm_t)
                judged = sig_name == "speech" and s is sos
                speed = f"{r:.1f}x" + (f" (>= {TARGET_BANDPASS_SPEEDUP:g}x) {_pf(r >= TARGET_BANDPASS_SPEEDUP)}" if judged else "")
            rows.append(
                [
                    label,
                    desc,
                    str(n_chunks),
                    f"{min(times) * 1e3:.2f}" if times else "n/a",
                    f"{us:.2f}" if us else "n/a",
                    f"{(n_chunks * BP_CHUNK / BP_SR) / min(times):.0f}x" if times else "n/a",
                    speed,
                    f"{cpu:.2f}",
                ]
            )
    _table(
        [
            "candidate",
            "signal",
            "chunks",
            "total ms",
            "µs per chunk",
            "real-time factor",
            "fastmel speed-up on this row (target)",
            "CPU/wall",
        ],
        rows,
    )
    print()
    print(
        "The target is judged on the speech row against the default call (butter's float64 sos); "
        "silence rows time only the 10 s of zeros, the 1 s of speech before them being fed in the untimed setup."
    )

    # Context: the same filters on whole signals (no per-call overhead), to show the per-sample
    # cost of subnormal arithmetic, which the ~µs Python call overhead per chunk hides.
    whole_rows = []
    long_speech = load_speech_16k(lead.size + zeros.size)
    silence_sig = np.concatenate([lead, zeros])
    bp_whole = fastmel.Bandpass(BP_SR, BP_LOW, BP_HIGH, order=BP_ORDER) if fastmel else None
    for sig_name, sig in (("speech", long_speech), ("silence", silence_sig)):
        for label, cand in (
            (
                "fastmel `bp.process(x)` (after an untimed `bp.reset()`)",
                Candidate(lambda sig=sig: bp_whole.process(sig), bp_whole.reset) if fastmel else None,
            ),
            ("scipy `sosfilt(sos, x)`, float64 sos", Candidate(lambda sig=sig: scipy.signal.sosfilt(sos, sig))),
            ("scipy `sosfilt(sos32, x)`, float32 sos", Candidate(lambda sig=sig: scipy.signal.sosfilt(sos32, sig))),
        ):
            if cand is None:
                whole_rows.append([label, sig_name, "n/a", "n/a"])
                continue
            t, _ = measure(cand, args.bp_repeats, args.warmup)
            whole_rows.append([label, sig_name, f"{min(t) * 1e3:.3f}", f"{min(t) / sig.size * 1e9:.2f}"])
    print(
        f"\nContext, whole signals in one call ({(lead.size + zeros.size) / BP_SR:g} s: speech, or "
        f"{SILENCE_LEAD_SECONDS:g} s speech + {SILENCE_SECONDS:g} s zeros), no per-call overhead:\n"
    )
    _table(["candidate", "signal", "ms", "ns per sample"], whole_rows)
    print()
    print("Noise (median / min, 1.00 = no spread): " + "; ".join(spreads))
    print("\nChecks:")
    for c in checks:
        print(f"- {c}")
    print()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=20, help="timed runs per convolution candidate (min is reported)")
    ap.add_argument("--bp-repeats", type=int, default=30, help="timed runs per band-pass candidate (min)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed runs before timing")
    ap.add_argument(
        "--only", choices=("convolver", "offline", "bandpass"), action="append", help="run only these sections (repeatable)"
    )
    args = ap.parse_args(argv)
    sections = args.only or ["convolver", "offline", "bandpass"]

    import scipy
    import scipy.signal

    fastmel = pedalboard = None
    errors = []
    try:
        fastmel = import_fastmel_sim()
    except ImportError as exc:
        errors.append(str(exc))
    try:
        pedalboard = import_pedalboard()
    except ImportError as exc:
        errors.append(str(exc))
    for e in errors:
        print(f"WARNING: {e}", file=sys.stderr)

    load_start = _load()
    print("## fastmel recording-simulation benchmark\n")
    print(
        f"- {cpu_model()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; numpy {np.__version__}; "
        f"scipy {scipy.__version__}; pedalboard {getattr(pedalboard, '__version__', 'NOT INSTALLED')}; "
        f"fastmel {getattr(fastmel, '__version__', 'NOT IMPORTABLE')}"
    )
    print(
        f"- min of {args.repeats} (convolution) / {args.bp_repeats} (band-pass) timed runs after {args.warmup} "
        "warm-up runs, time.perf_counter, GC off; setup (reset, lead-in) untimed; single-threaded "
        "(CPU/wall columns ~1.00 confirm)"
    )
    print(
        f"- IR: {IR_SECONDS:g} s at {CONV_SR} Hz, seeded noise with a {RT60:g} s RT60 envelope; convolution input "
        f"{CONV_SECONDS:g} s of seeded noise; band-pass input: bundled speech tiled to {BP_SECONDS:g} s"
    )
    print(f"- load average (1/5/15 min) at start: {load_start}")
    print()

    if "convolver" in sections or "offline" in sections:
        ir = make_rir()
        x = conv_input()
        ref_full = scipy.signal.fftconvolve(x.astype(np.float64), ir.astype(np.float64))
        if "convolver" in sections:
            convolver_section(args, fastmel, pedalboard, ir, x, ref_full)
        if "offline" in sections:
            offline_section(args, fastmel, ir, x, ref_full)
    if "bandpass" in sections:
        bandpass_section(args, fastmel)

    print(f"Load average (1/5/15 min) at end: {_load()} (start: {load_start})")
    for e in errors:
        print(f"\nn/a cells: {e}")
    return 2 if fastmel is None else 0


if __name__ == "__main__":
    sys.exit(main())
