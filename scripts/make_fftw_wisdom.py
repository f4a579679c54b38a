"""Regenerate src/fastmel/data/fftw_wisdom.json, the FFTW plans fastmel ships.

fastmel plans every FFT from this wisdom (FFTW_MEASURE | FFTW_WISDOM_ONLY)
and falls back to FFTW_ESTIMATE for sizes it does not cover.  Measuring at
run time instead would time candidate algorithms, and the winner (and with
it the last bits of every result) would change from process to process;
shipped wisdom gives the same plans, so the same bits, in every process and
on every machine with the same instruction sets.

Run with the pinned pyFFTW (its bundled FFTW must match the one users get):

    python scripts/make_fftw_wisdom.py
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
