"""Offline log-mel benchmark report for fastmel (SPEC.md section 3) as a Markdown table.

Reproduce (from the repository root, after ``/work/venv/bin/pip install -e /work/main``):

    /work/venv/bin/python benchmarks/report.py                # W1 and W2, min of 20 runs
    /work/venv/bin/python benchmarks/report.py --repeats 50   # more repeats on a noisy machine
    /work/venv/bin/python benchmarks/report.py --workloads W1

The same workloads and timed calls are benchmarked with pytest-benchmark by:

    /work/venv/bin/pytest benchmarks/ --benchmark-only \
        --benchmark-columns=min,median,mean,stddev,rounds --benchmark-sort=min

What is timed, per workload (parameters in ``benchmarks/conftest.py: WORKLOADS``; audio =
bundled speech clip tiled to 60 s, float32):

* librosa:              ``librosa.power_to_db(librosa.feature.melspectrogram(y=y, ...), top_db=80)``
* fastmel extractor:    ``m(y)`` with ``m = fastmel.MelSpectrogram(..., to_db=True, top_db=80.0,
                        dtype=np.float32)`` built once, outside the timing
* fastmel functions:    ``fastmel.power_to_db(fastmel.feature.melspectrogram(y=y, ...), top_db=80)``
* FFT floor (i):        one pyfftw.FFTW r2c plan over an aligned (n_frames, n_fft) float32 array,
                        axis -1, FFTW_MEASURE, threads=1; ``execute()`` timed
                        (n_frames = 1 + len(y) // hop, as for center=True)
* FFT floor (ii):       the same number of single-frame r2c transforms on one hot aligned n_fft
                        buffer, run by FFTW itself (batched plan with stride-0 distance between
                        transforms), so no Python per-frame loop

Method: each candidate is warmed up (``--warmup`` calls, default 3: FFTW plans, numba JIT,
caches) and then called ``--repeats`` times back to back (default 20) with
``time.perf_counter`` and the garbage collector off, like ``timeit``; the table shows the
minimum. The median/min spread is printed below the table to show the noise.

Targets (SPEC section 3): fastmel >= 5x librosa's throughput, and <= 1.3x the FFT floor.
The ratio-to-floor target is judged against floor (i), the batched plan (the spec's
"about 3.3 ms and 7 ms"); floor (ii) is the compute-only limit with the data in L1/L2.

Threads: pyfftw plans use ``threads=1`` and fastmel's offline call is single-threaded.
This script does NOT change the numpy/BLAS thread count (librosa's mel projection is a
BLAS matrix product, so it may use the BLAS default thread count); it sets no environment
variables at all (in particular nothing that changes the OpenBLAS core type).

fastmel outputs are compared with librosa's (max dB difference where librosa is above
max - 80 dB; SPEC tolerance 0.01 dB). If ``import fastmel`` fails, the script says why,
still prints the librosa and floor columns, and exits with status 2.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from conftest import (  # noqa: E402  (shared workload table and timed callables)
    DB_TOLERANCE,
    WORKLOADS,
    blas_thread_info,
    import_fastmel,
    load_audio,
    make_fastmel_extractor,
    make_fastmel_functions,
    make_fft_floor_batched,
    make_fft_floor_hot,
    make_librosa,
    max_db_error,
)

TARGET_SPEEDUP = 5.0  # >= 5x librosa
TARGET_FLOOR_RATIO = 1.3  # <= 1.3x FFT floor (i)


def measure(fn, repeats: int, warmup: int) -> list[float]:
    """Times of ``repeats`` back-to-back calls of fn (seconds), after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


def _ms(times) -> str:
    return "n/a" if not times else f"{min(times) * 1e3:.2f}"


def _ratio(num, den, fmt="{:.2f}x") -> str:
    if not num or not den:
        return "n/a"
    return fmt.format(min(num) / min(den))


def _verdict(value: float, ok: bool) -> str:
    return f"{value:.2f}x {'PASS' if ok else 'FAIL'}"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=20, help="timed calls per candidate (min is reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated, e.g. W1,W2")
    args = ap.parse_args(argv)

    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    for n in names:
        if n not in WORKLOADS:
            ap.error(f"unknown workload {n!r}; choose from {', '.join(WORKLOADS)}")

    import librosa
    import pyfftw

    fastmel = None
    fastmel_error = None
    try:
        fastmel = import_fastmel()
    except ImportError as exc:
        fastmel_error = str(exc)
        print(f"WARNING: fastmel not benchmarked: {fastmel_error}\n", file=sys.stderr)

    fm_version = getattr(fastmel, "__version__", "?") if fastmel else "NOT IMPORTABLE"
    print("## fastmel offline log-mel benchmark\n")
    print(
        f"- {_cpu_model()}, {os.cpu_count()} CPUs; Python {platform.python_version()}; "
        f"numpy {np.__version__}; librosa {librosa.__version__}; pyfftw {pyfftw.__version__}; "
        f"fastmel {fm_version}"
    )
    print(
        f"- min of {args.repeats} runs after {args.warmup} warm-up runs, time.perf_counter, GC off; "
        "pyfftw threads=1; numpy/BLAS thread count left as is "
        f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})"
    )
    print(f"- {blas_thread_info()} (reported, not changed)")
    for n in names:
        print(f"- {WORKLOADS[n].label}, {WORKLOADS[n].n_frames} frames, float32")
    print()

    rows = []
    spreads = []
    checks = []
    for n in names:
        wl = WORKLOADS[n]
        y = load_audio(wl)
        t = {}
        t["librosa"] = measure(make_librosa(wl, y), args.repeats, args.warmup)
        ref = make_librosa(wl, y)()
        if fastmel is not None:
            for key, maker in (("extractor", make_fastmel_extractor), ("functions", make_fastmel_functions)):
                try:
                    fn = maker(fastmel, wl, y)
                    out = fn()
                    err = max_db_error(out, ref, wl.top_db)
                    checks.append(
                        f"{n} fastmel {key}: shape {np.shape(out)} dtype {getattr(out, 'dtype', '?')}, "
                        f"max |dB diff| vs librosa {err:.2g} "
                        f"({'ok' if err <= DB_TOLERANCE else 'EXCEEDS ' + str(DB_TOLERANCE) + ' dB'})"
                    )
                    t[key] = measure(fn, args.repeats, args.warmup)
                except Exception as exc:  # keep going: report what works
                    checks.append(f"{n} fastmel {key}: FAILED: {type(exc).__name__}: {exc}")
                    t[key] = []
        else:
            t["extractor"] = t["functions"] = []
        t["floor_i"] = measure(make_fft_floor_batched(wl, y), args.repeats, args.warmup)
        t["floor_ii"] = measure(make_fft_floor_hot(wl, y), args.repeats, args.warmup)

        ext, fun, lib, fl1, fl2 = t["extractor"], t["functions"], t["librosa"], t["floor_i"], t["floor_ii"]
        if ext:
            sp = min(lib) / min(ext)
            speed = _verdict(sp, sp >= TARGET_SPEEDUP)
            r1 = min(ext) / min(fl1)
            ratio1 = _verdict(r1, r1 <= TARGET_FLOOR_RATIO)
        else:
            speed = ratio1 = "n/a"
        rows.append(
            [
                n,
                _ms(lib),
                _ms(ext),
                _ms(fun),
                _ms(fl1),
                _ms(fl2),
                speed,
                _ratio(lib, fun),
                ratio1,
                _ratio(ext, fl2),
            ]
        )
        spreads.append(
            f"{n}: "
            + ", ".join(
                f"{k} {statistics.median(v) / min(v):.2f}" for k, v in t.items() if v
            )
        )

    header = [
        "workload",
        "librosa ms",
        "fastmel extractor ms",
        "fastmel functions ms",
        "FFT floor (i) batched ms",
        "FFT floor (ii) hot ms",
        f"speed-up vs librosa, extractor (target >= {TARGET_SPEEDUP:g}x)",
        "speed-up vs librosa, functions",
        f"ratio to floor (i), extractor (target <= {TARGET_FLOOR_RATIO:g}x)",
        "ratio to floor (ii), extractor",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" if i == 0 else "--:" for i in range(len(header))) + "|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()
    print("Noise (median / min, 1.00 = no spread): " + "; ".join(spreads))
    if checks:
        print()
        print("Output checks vs librosa (SPEC: 0.01 dB above max - 80 dB):")
        for c in checks:
            print(f"- {c}")
    if fastmel_error:
        print(f"\nfastmel columns are n/a: {fastmel_error}")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
