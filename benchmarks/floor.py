"""The FFT floor's worker process: ``python floor.py N_FFT N_TRANSFORMS``.

It imports numpy and pyfftw, never fastmel, so its plan is the one FFTW_MEASURE picks
on this machine, not one from wisdom fastmel ships or caches.  It plans one r2c
transform of N_FFT float32 samples repeated N_TRANSFORMS times over the same aligned
buffer (a batched plan whose distance between transforms is 0), so FFTW's own loop does
N_TRANSFORMS single transforms on data that stays in L1, with no Python per call.  A
batched transform over stored frames would stream memory and is not a floor.

Protocol on stdin/stdout, one line each: it prints ``ready`` once planned; then for
every ``run`` line it executes the plan and prints the seconds it took
(``time.perf_counter``); it exits at end of input.
"""
import sys
import time

import numpy as np
import pyfftw
from numpy.lib.stride_tricks import as_strided


def main(argv):
    n_fft, count = int(argv[1]), int(argv[2])
    pyfftw.forget_wisdom()
    a1 = pyfftw.empty_aligned(n_fft, dtype=np.float32)
    b1 = pyfftw.empty_aligned(n_fft // 2 + 1, dtype=np.complex64)
    a = as_strided(a1, shape=(count, n_fft), strides=(0, a1.itemsize), writeable=True)
    b = as_strided(b1, shape=(count, n_fft // 2 + 1), strides=(0, b1.itemsize), writeable=True)
    plan = pyfftw.FFTW(a, b, axes=(-1,), direction="FFTW_FORWARD", flags=("FFTW_MEASURE",),
                       threads=1)
    # Planning scribbles on the buffers: fill them afterwards, then check the transform.
    a1[:] = np.random.default_rng(0).standard_normal(n_fft, dtype=np.float32)
    plan.execute()
    ref = np.fft.rfft(a1.astype(np.float64))
    err = float(np.abs(b1 - ref).max() / np.abs(ref).max())
    if err > 1e-4:  # float32 FFT of unit-variance noise is good to ~1e-6 of the peak
        raise SystemExit(f"floor plan gave a wrong transform (relative error {err:g})")
    if "fastmel" in sys.modules:
        raise SystemExit("the floor process imported fastmel")
    print("ready", flush=True)
    execute = plan.execute
    for line in sys.stdin:
        if line.strip() != "run":
            continue
        t0 = time.perf_counter()
        execute()
        print(repr(time.perf_counter() - t0), flush=True)


if __name__ == "__main__":
    main(sys.argv)
