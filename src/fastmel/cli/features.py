"""``fastmel features IN... -o OUT``: a folder of audio to a folder of features.

One ``.npy`` per input (``OUT/<relative path>.npy``, mirroring the input
tree) and a ``manifest.jsonl`` with a line per output, sorted by source path:
the source (absolute path, size in bytes and modification time in ns, which
identify it; no content hash), its duration and sample rate, the features'
sample rate (``sample_rate``), shape and dtype, and every parameter
(``params``, and their hash, ``params_hash``).  The files that failed are
listed in ``manifest.failures.jsonl`` (source, reason; a run without failures
removes it).  Outputs are written under a temporary name beside OUT and
renamed into place, so OUT never holds a partial file; a re-run skips
inputs whose output exists with the same parameter hash and whose source has
the size and modification time the manifest recorded, which is also how an
interrupted run is finished.  Files
that cannot be read (unlistable folders, broken links, FIFOs, truncated WAV or
AIFF files, NaN samples, ...) are reported and the others still complete;
features that come out non-finite (float audio near the float32 limit) are a
failure, never written.  The exit status is 1 when anything failed (a folder
without audio included), 2 for bad options or an unusable OUT (OUT must lie
outside the inputs).

Limits: --sr 1000..384000 Hz, --n-fft and --win-length 1..65536, --hop
1..1048576, --n-mels 1..1024, --mfcc 0..N_MELS.

The work spreads over threads (the feature core releases the GIL), or over
a Dask cluster with ``--dask-scheduler`` (the Python entry point is
:func:`extract`); a scheduler that cannot be reached, or does not answer as
one within 5 s, is reported in one line.
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import os
import socket
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import numpy.typing as npt
import soundfile as sf

from fastmel.cli import options
from fastmel.cli.jobs import (Failure, FileFailure, Job, ManifestError, Record, StrPath,
                              UsageError, check_complete, check_output_folder, describe,
                              open_source, source_stamp)

if TYPE_CHECKING:
    from distributed import Client

    from fastmel.cli.options import Subparsers
    from fastmel.extractors import MFCC, MelSpectrogram

MANIFEST = "manifest.jsonl"
# Seconds a Dask scheduler gets to accept a connection and answer who it is.
DASK_TIMEOUT = 5.0


@dataclasses.dataclass(frozen=True)
class FeatureParams:
    """What ``fastmel features`` computes for every file."""

    sr: int = 16000
    n_fft: int = 512
    win_length: int | None = None  # None: n_fft, as librosa
    hop_length: int = 160
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float | None = None
    mfcc: int = 0
    db: bool = True
    top_db: float | None = 80.0
    dtype: str = "float32"
    mono: bool = False

    def __post_init__(self) -> None:
        # Resolved here so that the hash and the manifest say what was computed,
        # whether the window length was given or defaulted.
        if self.win_length is None:
            object.__setattr__(self, "win_length", self.n_fft)

    def digest(self) -> str:
        """A hash of every parameter that shapes the output (and the output format)."""
        text = json.dumps(dict(dataclasses.asdict(self), format=1), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def check(self) -> None:
        """Refuse values the command does not take (see the module's limits) with
        :class:`UsageError`, before anything is allocated."""
        assert self.win_length is not None  # resolved by __post_init__
        for name, value, (lo, hi) in (("--sr", self.sr, options.SR_RANGE),
                                      ("--n-fft", self.n_fft, options.N_FFT_RANGE),
                                      ("--win-length", self.win_length, options.N_FFT_RANGE),
                                      ("--hop", self.hop_length, options.HOP_RANGE),
                                      ("--n-mels", self.n_mels, options.N_MELS_RANGE),
                                      ("--mfcc", self.mfcc, (0, self.n_mels))):
            if not lo <= value <= hi:
                raise UsageError(f"{name} must be an integer from {lo} to {hi}, got {value}")

    def extractor(self) -> MelSpectrogram | MFCC:
        import fastmel

        if self.mfcc:
            return fastmel.MFCC(n_mfcc=self.mfcc, top_db=self.top_db, sr=self.sr,
                                n_fft=self.n_fft, win_length=self.win_length,
                                hop_length=self.hop_length, n_mels=self.n_mels,
                                fmin=self.fmin, fmax=self.fmax)
        return fastmel.MelSpectrogram(to_db=self.db, top_db=self.top_db if self.db else None,
                                      sr=self.sr, n_fft=self.n_fft, win_length=self.win_length,
                                      hop_length=self.hop_length, n_mels=self.n_mels,
                                      fmin=self.fmin, fmax=self.fmax)


def output_path(rel: Path) -> Path:
    """OUT-relative output for an input's relative path: the name plus .npy
    (``a.wav`` -> ``a.wav.npy``, so ``a.wav`` and ``a.flac`` never collide)."""
    return rel.with_name(rel.name + ".npy")


def load(path: StrPath, sr: int, mono: bool) -> tuple[npt.NDArray[np.float32], int, float]:
    """Audio as float32 (channels, n) or (n,) at ``sr``; also the source rate and duration.

    Raises
    ------
    OSError
        The file cannot be opened (the reason, e.g. permission denied).
    FileFailure
        It holds no samples, non-finite samples, or was cut short.
    soundfile.LibsndfileError
        It is not audio soundfile can decode.
    """
    with open_source(path) as fh, sf.SoundFile(fh) as snd:
        rate = snd.samplerate
        data = snd.read(dtype="float32", always_2d=True)
        check_complete(snd, data.shape[0])
    if data.shape[0] == 0:
        raise FileFailure("empty audio (no samples)")
    if not np.isfinite(data).all():
        raise FileFailure("the file holds non-finite samples (NaN or inf)")
    duration = data.shape[0] / rate
    if rate != sr:
        import soxr

        resampled = soxr.resample(data, rate, sr)
        if not np.isfinite(resampled).all():
            raise FileFailure(f"resampling to {sr} Hz overflows float32 (the audio peaks at "
                              f"{float(np.max(np.abs(data))):.3g})")
        data = resampled
    if mono or data.shape[1] == 1:
        data = data.mean(axis=1) if data.shape[1] > 1 else data[:, 0]
    else:
        data = np.ascontiguousarray(data.T)
    return data, rate, duration


def _compute(y: npt.NDArray[np.float32], params: FeatureParams,
             extractor: MelSpectrogram | MFCC | None) -> npt.NDArray[Any]:
    """The features of ``y`` in the output dtype, refused when not all finite."""
    with np.errstate(over="ignore", invalid="ignore"):  # reported just below
        features: npt.NDArray[Any] = (extractor or params.extractor())(y).astype(
            params.dtype, copy=False)
    if not np.isfinite(features).all():
        raise FileFailure(f"the features would hold non-finite values (NaN or inf) in "
                          f"{params.dtype}, nothing written (the audio peaks at "
                          f"{float(np.max(np.abs(y))):.3g})")
    return features


def process_file(source: StrPath, rel: StrPath, out_dir: StrPath, tmp_dir: StrPath,
                 params: FeatureParams, extractor: MelSpectrogram | MFCC | None = None
                 ) -> Record:
    """Compute and atomically write one file's features; returns its manifest record,
    or ``{"source": ..., "error": reason}``.  Runs in threads and on Dask workers."""
    source, rel, out_dir, tmp_dir = Path(source), Path(rel), Path(out_dir), Path(tmp_dir)
    timing: dict[str, float] = {}
    tmp: Path | None = None
    try:
        # Taken before reading: a file changed meanwhile looks changed to the next run.
        stamp = source_stamp(os.stat(source))
        t0 = time.perf_counter()
        y, rate, duration = load(source, params.sr, params.mono)
        t1 = time.perf_counter()
        features = _compute(y, params, extractor)
        t2 = time.perf_counter()
        final = out_dir / output_path(rel)
        tmp = tmp_dir / f"{uuid.uuid4().hex}.npy"
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                np.save(fh, features)
            os.replace(tmp, final)
        except OSError as err:
            raise FileFailure(f"cannot write {final}: {describe(err, final)}") from None
        tmp = None
        t3 = time.perf_counter()
        timing = dict(read_s=round(t1 - t0, 6), features_s=round(t2 - t1, 6),
                      write_s=round(t3 - t2, 6))
    except Exception as err:  # reported per file; the run goes on
        return {"source": str(source.absolute()), "error": describe(err, source)}
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return {
        "source": str(source.absolute()),
        **stamp,
        "duration": round(duration, 6),
        "source_sample_rate": int(rate),
        "sample_rate": params.sr,
        "output": output_path(rel).as_posix(),
        "shape": list(features.shape),
        "dtype": params.dtype,
        "params": dataclasses.asdict(params),
        "params_hash": params.digest(),
        "timing": timing,
    }


def extract(inputs: Sequence[StrPath], out: StrPath, params: FeatureParams, *,
            jobs: int | None = None, overwrite: bool = False, quiet: bool = False,
            client: Client | None = None) -> tuple[list[Record], int, list[Failure], float]:
    """Run the features job; returns (records written, skipped count, failures, seconds).

    ``client`` is a ``distributed.Client``: files are then processed on its
    workers (which must see the same file system) instead of local threads.
    On KeyboardInterrupt, files already running are finished and recorded,
    the rest are left for the next run, and the interrupt is re-raised.
    When the manifest cannot be appended to, the run stops and the reason is
    the last failure.  Nothing is made under OUT when no input is audio.

    Raises
    ------
    UsageError
        OUT is or holds an input, or cannot be made or used.
    """
    job, problems = Job.plan(inputs, out, manifest_name=MANIFEST, tag="fastmel-partial",
                             digest=params.digest(), output_of=output_path,
                             overwrite=overwrite, quiet=quiet)
    if job is None:
        return [], 0, problems, 0.0
    with job:
        if client is not None:
            _run_dask(job, params, client)
        else:
            extractor = params.extractor()
            job.run_threads(lambda s, r: process_file(s, r, job.out, job.tmp_dir, params,
                                                      extractor), jobs)
    return job.written, job.skipped, job.failures, job.progress.elapsed


def _run_dask(job: Job, params: FeatureParams, client: Client) -> None:
    from distributed import as_completed as dask_completed

    futures = [client.submit(process_file, str(s), str(r), str(job.out), str(job.tmp_dir),
                             params, pure=False) for s, r in job.todo]
    try:
        for future in dask_completed(futures):
            job.record(future.result())
    except ManifestError as err:
        job.stop(err)
    finally:
        client.cancel(futures)


def dask_client(address: str, timeout: float = DASK_TIMEOUT) -> Client:
    """A ``distributed.Client`` connected to the scheduler at ``address``.

    The address is checked, a TCP connection made and the peer asked who it
    is, all within about ``timeout`` seconds, before the client is made: the
    client itself waits forever on a peer that accepts and never answers.

    Raises
    ------
    UsageError
        The address is not a scheduler's, or no scheduler answers there.
    ImportError
        dask[distributed] is missing.
    """
    from distributed import Client
    from distributed.comm.core import connect
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.security import Security

    where = f"--dask-scheduler {address}"
    scheme, location = parse_address(address, strict=False)
    if scheme not in ("tcp", "tls"):
        raise UsageError(f"{where}: {scheme}:// addresses cannot be reached from the command "
                         f"line; expected tcp://HOST:PORT (or tls://)")
    try:
        host, port = parse_host_port(location)
    except ValueError as err:
        raise UsageError(f"{where}: not a scheduler address ({err}); expected "
                         f"tcp://HOST:PORT") from None
    if not 0 < port < 65536:
        raise UsageError(f"{where}: port {port} is outside 1..65535")
    unreachable = f"cannot reach the Dask scheduler at {address}"
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except socket.timeout:
        raise UsageError(f"{unreachable}: no connection within {timeout:g} s") from None
    except OSError as err:
        raise UsageError(f"{unreachable}: {describe(err)}") from None

    async def identity() -> object:
        args = Security().get_connection_args("client")
        comm = await connect(address, timeout=timeout, **args)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    try:
        answer = asyncio.run(asyncio.wait_for(identity(), timeout))
    except (asyncio.TimeoutError, TimeoutError):
        raise UsageError(f"{unreachable}: no answer within {timeout:g} s (is it a Dask "
                         f"scheduler?)") from None
    except MemoryError:
        # It sent bytes that, read as a Dask frame header, ask for exabytes.
        raise UsageError(f"{unreachable}: the peer speaks another protocol, not Dask's") \
            from None
    except Exception as err:
        raise UsageError(f"{unreachable}: it does not answer as a Dask scheduler "
                         f"({describe(err)})") from None
    kind = answer.get("type") if isinstance(answer, dict) else None
    if kind != "Scheduler":
        raise UsageError(f"{unreachable}: the peer answers as {kind or 'something else'}, "
                         f"not as a Dask scheduler")
    try:
        return Client(address, timeout=f"{timeout * 2:g}s")
    except Exception as err:
        raise UsageError(f"{unreachable}: {describe(err)}") from None


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    paragraphs = options.plain(__doc__).split("\n\n")
    p = sub.add_parser(
        "features", help="compute log-mel / MFCC features for files and folders",
        description="\n\n".join(paragraphs[:3]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="IN", help="audio files or folders (recursive)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output folder (outside the inputs)")
    p.add_argument("--sr", type=options.sample_rate, default=16000,
                   help="resample to this rate (Hz), 1000..384000; the features' rate "
                        "(default: 16000)")
    p.add_argument("--n-fft", type=options.n_fft, default=512,
                   help="FFT size in samples, 1..65536 (default: 512)")
    p.add_argument("--win-length", type=options.n_fft, default=None,
                   help="Hann window length in samples, 1..N_FFT (default: N_FFT, as "
                        "librosa; 400 is the 25 ms window of Kaldi-style speech features)")
    p.add_argument("--hop", type=options.hop_length, default=160,
                   help="hop length in samples, 1..1048576 (default: 160)")
    options.add_mel_bands(p)
    p.add_argument("--mfcc", type=int, default=0, metavar="N",
                   help="N MFCCs (1..N_MELS) instead of the mel spectrogram (default: 0, "
                        "the mel spectrogram)")
    p.add_argument("--db", action=argparse.BooleanOptionalAction, default=True,
                   help="log-power (dB) mel spectrogram (default: on)")
    p.add_argument("--top-db", type=options.finite_float, default=80.0,
                   help="floor each channel at its own maximum - TOP_DB dB (default: 80; "
                        "negative disables)")
    p.add_argument("--dtype", choices=("float32", "float16"), default="float32",
                   help="dtype of the .npy files (default: float32)")
    p.add_argument("--mono", action="store_true", help="average channels")
    p.add_argument("--jobs", "-j", type=options.positive_int, default=None,
                   help="worker threads (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="recompute existing outputs")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or summary")
    p.add_argument("--dask-scheduler", metavar="ADDRESS",
                   help="run on a Dask distributed cluster, tcp://HOST:PORT (extra 'dask'; "
                        "default: threads on this machine)")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    params = FeatureParams(
        sr=args.sr, n_fft=args.n_fft, win_length=args.win_length, hop_length=args.hop,
        n_mels=args.n_mels, fmin=args.fmin, fmax=args.fmax, mfcc=args.mfcc, db=args.db,
        top_db=None if args.top_db < 0 else args.top_db, dtype=args.dtype, mono=args.mono)
    client: Client | None = None
    try:
        params.check()
        try:
            params.extractor()
        except ValueError as err:
            raise UsageError(str(err)) from None
        check_output_folder(args.inputs, args.output)
        if args.dask_scheduler is not None:
            try:
                client = dask_client(args.dask_scheduler)
            except ImportError:
                raise UsageError("--dask-scheduler needs the 'dask' extra "
                                 "(pip install 'fastmel[dask]')") from None
        written, skipped, failures, elapsed = extract(
            args.inputs, args.output, params, jobs=args.jobs, overwrite=args.overwrite,
            quiet=args.quiet, client=client)
    except UsageError as err:
        print(f"fastmel features: {err}", file=sys.stderr)
        return 2
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
