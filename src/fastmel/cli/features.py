"""``fastmel features IN... -o OUT``: a folder of audio to a folder of features.

One ``.npy`` per input (``OUT/<relative path>.npy``, mirroring the input
tree) and a ``manifest.jsonl`` with a line per output.  Outputs are written
under a temporary name beside OUT and renamed into place, so OUT never holds
a partial file; a re-run skips inputs whose output exists with the same
parameter hash, which is also how an interrupted run is finished.  Files
that cannot be read are reported and the others still complete; the exit
status is 1 when anything failed.

The work spreads over threads (the feature core releases the GIL), or over
a Dask cluster with ``--dask-scheduler`` (the Python entry point is
:func:`extract`).
"""
import argparse
import dataclasses
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

from fastmel.cli.jobs import Job
from fastmel.cli.options import positive_int

MANIFEST = "manifest.jsonl"


def _audio_extensions():
    names = {name.lower() for name in sf.available_formats()}
    return names | {"aif", "oga", "opus", "snd"}


@dataclasses.dataclass(frozen=True)
class FeatureParams:
    """What ``fastmel features`` computes for every file."""

    sr: int = 16000
    n_fft: int = 512
    win_length: int = 400
    hop_length: int = 160
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = None
    mfcc: int = 0
    db: bool = True
    top_db: float = 80.0
    dtype: str = "float32"
    mono: bool = False

    def digest(self):
        """A hash of every parameter that shapes the output (and the output format)."""
        text = json.dumps(dict(dataclasses.asdict(self), format=1), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def extractor(self):
        import fastmel

        common = dict(sr=self.sr, n_fft=self.n_fft, win_length=self.win_length,
                      hop_length=self.hop_length, n_mels=self.n_mels, fmin=self.fmin,
                      fmax=self.fmax)
        if self.mfcc:
            return fastmel.MFCC(n_mfcc=self.mfcc, top_db=self.top_db, **common)
        return fastmel.MelSpectrogram(to_db=self.db, top_db=self.top_db if self.db else None,
                                      **common)


def collect(inputs, *, extensions=None):
    """``(source, relative output path)`` for every input file.

    A single folder maps onto OUT directly; with several inputs each keeps its
    own name at the top of OUT.  Folders are searched recursively for audio
    files; files named on the command line are taken whatever their extension.
    """
    extensions = extensions or _audio_extensions()
    items, missing = [], []
    single_dir = len(inputs) == 1 and Path(inputs[0]).is_dir()
    for arg in inputs:
        root = Path(arg)
        if root.is_dir():
            base = Path() if single_dir else Path(root.resolve().name)
            for path in sorted(root.rglob("*")):
                if path.is_file() and path.suffix.lower().lstrip(".") in extensions:
                    items.append((path, base / path.relative_to(root)))
        elif root.is_file():
            items.append((root, Path(root.name)))
        else:
            missing.append((root, "no such file or folder"))
    return items, missing


def output_path(rel):
    """OUT-relative output for an input's relative path: the name plus .npy
    (``a.wav`` -> ``a.wav.npy``, so ``a.wav`` and ``a.flac`` never collide)."""
    return rel.with_name(rel.name + ".npy")


def load(path, sr, mono):
    """Audio as float32 (channels, n) or (n,) at ``sr``; also the source rate and duration."""
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    if data.shape[0] == 0:
        raise ValueError("empty audio (no samples)")
    duration = data.shape[0] / rate
    if rate != sr:
        import soxr

        data = soxr.resample(data, rate, sr)
    if mono or data.shape[1] == 1:
        data = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    else:
        data = np.ascontiguousarray(data.T)
    return data, rate, duration


def process_file(source, rel, out_dir, tmp_dir, params, extractor=None):
    """Compute and atomically write one file's features; returns its manifest record,
    or ``{"source": ..., "error": reason}``.  Runs in threads and on Dask workers."""
    source, rel, out_dir, tmp_dir = Path(source), Path(rel), Path(out_dir), Path(tmp_dir)
    timing = {}
    try:
        t0 = time.perf_counter()
        y, rate, duration = load(source, params.sr, params.mono)
        t1 = time.perf_counter()
        features = (extractor or params.extractor())(y).astype(params.dtype, copy=False)
        t2 = time.perf_counter()
        final = out_dir / output_path(rel)
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = tmp_dir / f"{uuid.uuid4().hex}.npy"
        with open(tmp, "wb") as fh:
            np.save(fh, features)
        os.replace(tmp, final)
        t3 = time.perf_counter()
        timing = dict(read_s=round(t1 - t0, 6), features_s=round(t2 - t1, 6),
                      write_s=round(t3 - t2, 6))
    except Exception as err:  # reported per file; the run goes on
        return {"source": str(source.absolute()), "error": f"{type(err).__name__}: {err}"}
    return {
        "source": str(source.absolute()),
        "duration": round(duration, 6),
        "sample_rate": int(rate),
        "output": output_path(rel).as_posix(),
        "shape": list(features.shape),
        "dtype": params.dtype,
        "params_hash": params.digest(),
        "timing": timing,
    }


def extract(inputs, out, params, *, jobs=None, overwrite=False, quiet=False, client=None):
    """Run the features job; returns (records written, skipped count, failures, seconds).

    ``client`` is a ``distributed.Client``: files are then processed on its
    workers (which must see the same file system) instead of local threads.
    On KeyboardInterrupt, files already running are finished and recorded,
    the rest are left for the next run, and the interrupt is re-raised.
    """
    items, missing = collect(inputs)
    job = Job(items, out, manifest_name=MANIFEST, tag="fastmel-partial",
              digest=params.digest(), output_of=output_path, overwrite=overwrite, quiet=quiet)
    job.failures[:0] = missing
    with job:
        if client is not None:
            _run_dask(job, params, client)
        else:
            extractor = params.extractor()
            job.run_threads(lambda s, r: process_file(s, r, job.out, job.tmp_dir, params,
                                                      extractor), jobs)
    return job.written, job.skipped, job.failures, job.progress.elapsed


def _run_dask(job, params, client):
    from distributed import as_completed as dask_completed

    futures = [client.submit(process_file, str(s), str(r), str(job.out), str(job.tmp_dir),
                             params, pure=False) for s, r in job.todo]
    try:
        for future in dask_completed(futures):
            job.record(future.result())
    finally:
        client.cancel(futures)


def add_parser(sub):
    p = sub.add_parser(
        "features", help="compute log-mel / MFCC features for files and folders",
        description=__doc__.split("\n\n")[0] + "\n\n" + __doc__.split("\n\n")[1],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="IN", help="audio files or folders (recursive)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output folder")
    p.add_argument("--sr", type=int, default=16000, help="resample to this rate (default 16000)")
    p.add_argument("--n-fft", type=int, default=512)
    p.add_argument("--win-length", type=int, default=400)
    p.add_argument("--hop", type=int, default=160, help="hop length in samples (default 160)")
    p.add_argument("--n-mels", type=int, default=80)
    p.add_argument("--fmin", type=float, default=0.0)
    p.add_argument("--fmax", type=float, default=None)
    p.add_argument("--mfcc", type=int, default=0, metavar="N",
                   help="N MFCCs instead of the mel spectrogram")
    p.add_argument("--db", action=argparse.BooleanOptionalAction, default=True,
                   help="log-power (dB) mel spectrogram (default: on)")
    p.add_argument("--top-db", type=float, default=80.0,
                   help="floor at max - TOP_DB per file (default 80; negative disables)")
    p.add_argument("--dtype", choices=("float32", "float16"), default="float32")
    p.add_argument("--mono", action="store_true", help="average channels")
    p.add_argument("--jobs", "-j", type=positive_int, default=None,
                   help="worker threads (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="recompute existing outputs")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or summary")
    p.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed cluster (extra 'dask')")
    p.set_defaults(run=run)
    return p


def run(args):
    params = FeatureParams(
        sr=args.sr, n_fft=args.n_fft, win_length=args.win_length, hop_length=args.hop,
        n_mels=args.n_mels, fmin=args.fmin, fmax=args.fmax, mfcc=args.mfcc, db=args.db,
        top_db=None if args.top_db < 0 else args.top_db, dtype=args.dtype, mono=args.mono)
    try:
        params.extractor()
    except ValueError as err:
        print(f"fastmel features: {err}", file=sys.stderr)
        return 2
    client = None
    if args.dask_scheduler:
        try:
            from distributed import Client
        except ImportError:
            print("fastmel features: --dask-scheduler needs the 'dask' extra "
                  "(pip install 'fastmel[dask]')", file=sys.stderr)
            return 2
        try:
            client = Client(args.dask_scheduler, timeout="10s")
        except OSError as err:
            print(f"fastmel features: cannot reach the Dask scheduler at "
                  f"{args.dask_scheduler}: {err}", file=sys.stderr)
            return 2
    try:
        written, skipped, failures, elapsed = extract(
            args.inputs, args.output, params, jobs=args.jobs, overwrite=args.overwrite,
            quiet=args.quiet, client=client)
    except KeyboardInterrupt:
        print("fastmel features: interrupted; run the same command again to finish",
              file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    for source, reason in failures:
        print(f"failed: {source}: {reason}", file=sys.stderr)
    if not args.quiet:
        hours = sum(r["duration"] for r in written) / 3600.0
        rate = hours / elapsed if elapsed > 0 else 0.0
        print(f"fastmel features: {len(written)} written, {skipped} up to date, "
              f"{len(failures)} failed; {hours * 3600:.1f} s of audio in {elapsed:.2f} s "
              f"({rate:.3f} h/s)", file=sys.stderr)
    return 1 if failures else 0
