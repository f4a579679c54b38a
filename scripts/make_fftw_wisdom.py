"""Regenerate src/fastmel/data/fftw_wisdom.json, the plans of fastmel's portable mode.

With ``FASTMEL_PLANS=portable`` (see fastmel.plans) every FFT is planned
from this wisdom (FFTW_MEASURE | FFTW_WISDOM_ONLY, nothing else loaded), so
every machine that loads it runs the same plans and computes the same bits;
sizes it does not cover fall back to FFTW_ESTIMATE with a warning.  The
default "machine" mode does not use this file: it tunes on each machine.

What can be portable, with pyFFTW's FFTW 3.3.5 (SSE2 and AVX codelets only):
- the wisdom loads on every x86-64 CPU with AVX, and the plans it names run
  the same instructions there (AVX codelets without FMA, so Intel and AMD
  round alike);
- FFTW signs wisdom with the solvers it registered and registers the AVX
  codelets only where AVX exists, so no wisdom, not even one measured on a
  CPU without AVX (tried under ``qemu-x86_64 -cpu Nehalem``), loads on both
  kinds of CPU; FFTW_ESTIMATE picks AVX codelets where it can, so it is not
  CPU-independent either.  Only FFTW_NO_SIMD plans are (single precision
  gave the same bits natively and under emulated Nehalem and qemu64 CPUs),
  and pyFFTW does not expose that flag.

So measure on any x86-64 CPU with AVX, with the pinned pyFFTW (its bundled
FFTW must be the one users get), in a fresh process:

    python scripts/make_fftw_wisdom.py

and keep the codelets to SSE2 and AVX (tests/test_plans.py checks): a newer
FFTW build with AVX2/FMA or AVX-512 codelets would tie the file to CPUs that
have those.
"""
import json
import sys
from pathlib import Path

import numpy as np
import pyfftw

# Real FFT sizes: both directions for powers of two (STFT frames, convolution
# partitions and blocks), forward only for the usual non-power-of-two frames
# (10-100 ms at common sample rates).
POWERS_OF_TWO = [1 << k for k in range(4, 18)]
FRAME_SIZES = [200, 240, 300, 320, 400, 480, 551, 600, 640, 800, 882, 960, 1000, 1102, 1200,
               1323, 1600, 1764, 2000, 2205, 2400, 3000, 3200, 4000, 4410, 4800]


def _aligned(n, dtype):
    return pyfftw.empty_aligned(n, dtype=dtype, n=64)


def plan(n, real, inverse):
    cplx = np.complex64 if real == np.float32 else np.complex128
    if inverse:
        pyfftw.FFTW(_aligned(n // 2 + 1, cplx), _aligned(n, real), direction="FFTW_BACKWARD",
                    flags=("FFTW_MEASURE",), threads=1)
    else:
        pyfftw.FFTW(_aligned(n, real), _aligned(n // 2 + 1, cplx), direction="FFTW_FORWARD",
                    flags=("FFTW_MEASURE",), threads=1)


def main():
    pyfftw.forget_wisdom()
    for real in (np.float32, np.float64):
        for n in POWERS_OF_TWO:
            print(f"{np.dtype(real).name} {n}", file=sys.stderr)
            plan(n, real, False)
            plan(n, real, True)
        for n in FRAME_SIZES:
            plan(n, real, False)
    double, single, _ = pyfftw.export_wisdom()
    out = Path(__file__).resolve().parents[1] / "src" / "fastmel" / "data" / "fftw_wisdom.json"
    out.write_text(json.dumps({"fftw": "3.3.5", "pyfftw": pyfftw.__version__,
                               "double": double.decode(), "single": single.decode()},
                              indent=0) + "\n")
    print(f"wrote {out} ({out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
