"""Throughput of the ``fastmel features`` job (folder of audio -> folder of .npy + manifest).

Run by hand (pytest does not collect it):

    python benchmarks/bench_features_cli.py
    python benchmarks/bench_features_cli.py --files 400 --repeats 5 --jobs 1 2 4

What it does:

* writes ``--files`` clips of ``--seconds`` s (default 200 x 5 s) as 16-bit FLAC into a
  temporary folder (10 subfolders), once at 16 kHz and once at 44.1 kHz; each clip is the
  bundled speech, offset per clip and tiled to length (``np.resize``);
* runs the whole job with the W1 parameters (the command's defaults: 16 kHz, n_fft 512,
  win 400, hop 160, 80 mels, dB, top_db 80, float32) through
  ``fastmel.cli.features.extract(..., jobs=J, quiet=True)`` for every ``--jobs`` value,
  into a fresh output folder each time, after one untimed warm-up run (FFTW plans, page
  cache); the wall time of the whole call is timed, and the fastest of ``--repeats`` runs
  is reported with the manifest of that run;
* sums the manifest's per-file timing fields: ``read_s`` (decode, plus soxr resampling for
  44.1 kHz sources), ``features_s``, ``write_s``; "other" is what is left of
  ``wall x jobs`` (thread time) after those: collecting files, the thread pool, manifest
  lines, and waiting for the GIL or a core;
* measures single-threaded, outside the job, on the same files: decoding alone, soxr
  resampling alone (44.1 kHz sources) and the extractor alone (``m(y)`` with ``m`` built
  once), so the job's per-file overhead can be read against the bare feature computation.

Nothing in the environment is changed (thread counts, OpenBLAS settings).
"""
import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

import fastmel
from fastmel.cli.features import MANIFEST, FeatureParams, extract, load

SOURCE_RATES = (16000, 44100)


def bundled_speech(rate):
    with (files("fastmel") / "data" / "speech_16000.flac").open("rb") as fh:
        y16, sr = sf.read(fh, dtype="float32")
    if rate == sr:
        return y16
    with (files("fastmel") / "data" / "speech_22050.flac").open("rb") as fh:
        y22, sr = sf.read(fh, dtype="float32")
    return soxr.resample(y22, sr, rate).astype(np.float32)


def write_clips(folder, rate, n_files, seconds):
    """``n_files`` FLAC clips of ``seconds`` s at ``rate``: the speech offset per clip, tiled."""
    speech = bundled_speech(rate)
    n = int(round(seconds * rate))
    step = max(1, len(speech) // n_files)
    for i in range(n_files):
        y = np.resize(np.roll(speech, -i * step), n)
        path = folder / f"part{i % 10}" / f"clip{i:04d}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), y, rate, subtype="PCM_16")
    return sorted(folder.rglob("*.flac"))


def run_job(folder, scratch, params, jobs):
    """One timed ``extract`` call into a fresh folder: (wall seconds, manifest records)."""
    out = Path(tempfile.mkdtemp(dir=scratch)) / "feats"
    start = time.perf_counter()
    written, skipped, failures, _ = extract([str(folder)], out, params, jobs=jobs, quiet=True)
    wall = time.perf_counter() - start
    if failures or skipped:
        raise SystemExit(f"benchmark run failed: {failures[:3]} ({skipped} skipped)")
    with open(out / MANIFEST, encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    shutil.rmtree(out.parent)
    assert len(records) == len(written)
    return wall, records


def single_thread_parts(paths, params):
    """Seconds to decode, to resample and to compute the features of all files, one thread."""
    extractor = params.extractor()
    decode = resample = feats = 0.0
    for path in paths:
        t0 = time.perf_counter()
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        t1 = time.perf_counter()
        if rate != params.sr:
            data = soxr.resample(data, rate, params.sr)
        t2 = time.perf_counter()
        y = data[:, 0]
        t3 = time.perf_counter()
        extractor(y)
        t4 = time.perf_counter()
        decode, resample, feats = decode + t1 - t0, resample + t2 - t1, feats + t4 - t3
    return decode, resample, feats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per row (min)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)

    params = FeatureParams(win_length=400)  # W1: the command's defaults, W1's window
    audio_s = args.files * args.seconds
    print(f"fastmel {fastmel.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}")
    print(f"{args.files} clips x {args.seconds:g} s = {audio_s / 3600:.3f} h of audio per run "
          f"(FLAC, PCM_16, mono); W1 parameters {params}; min of {args.repeats} runs\n")

    rows, parts = [], {}
    with tempfile.TemporaryDirectory(prefix="fastmel-bench-") as tmp:
        scratch = Path(tmp)
        for rate in SOURCE_RATES:
            folder = scratch / f"audio{rate}"
            paths = write_clips(folder, rate, args.files, args.seconds)
            load(paths[0], params.sr, params.mono)  # soxr and soundfile warm
            parts[rate] = single_thread_parts(paths, params)
            for jobs in args.jobs:
                run_job(folder, scratch, params, jobs)  # warm-up
                best = min((run_job(folder, scratch, params, jobs)
                            for _ in range(args.repeats)), key=lambda r: r[0])
                rows.append((rate, jobs) + best)

    header = ("| source | jobs | wall s | files/s | audio h/s | read_s | features_s | write_s "
              "| other s | per file: features ms | per file: overhead ms |")
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    for rate, jobs, wall, records in rows:
        n = len(records)
        read = sum(r["timing"]["read_s"] for r in records)
        feats = sum(r["timing"]["features_s"] for r in records)
        write = sum(r["timing"]["write_s"] for r in records)
        thread_time = wall * jobs
        other = thread_time - read - feats - write
        overhead = (thread_time - feats) / n
        print(f"| {rate / 1000:g} kHz FLAC | {jobs} | {wall:.3f} | {n / wall:.0f} "
              f"| {audio_s / 3600 / wall:.3f} | {read:.3f} | {feats:.3f} | {write:.3f} "
              f"| {other:.3f} | {1e3 * feats / n:.3f} | {1e3 * overhead:.3f} |")

    print("\nSingle thread, outside the job, same files (seconds for all files):\n")
    print("| source | decode | soxr resample | extractor m(y) | per file: m(y) ms "
          "| per file: decode + resample ms |")
    print("|---|---|---|---|---|---|")
    for rate in SOURCE_RATES:
        decode, resample, feats = parts[rate]
        n = args.files
        print(f"| {rate / 1000:g} kHz FLAC | {decode:.3f} | {resample:.3f} | {feats:.3f} "
              f"| {1e3 * feats / n:.3f} | {1e3 * (decode + resample) / n:.3f} |")
    print("\nread_s = decode (+ resample for 44.1 kHz); other = wall x jobs - read_s - "
          "features_s - write_s;\nper-file overhead = (wall x jobs - features_s) / files, "
          "i.e. thread time per file not spent in the feature computation.")


if __name__ == "__main__":
    main()
