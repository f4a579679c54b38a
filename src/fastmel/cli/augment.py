"""``fastmel augment IN... -o OUT``: simulate the room, the noise and the microphone.

Every input is streamed in blocks through a :class:`fastmel.Chain` of
``Convolver`` (a room impulse response, ``--rir``) -> ``NoiseMixer`` (a noise
file at an SNR, ``--noise`` with ``--snr``) -> ``Bandpass`` (``--bandpass``),
each stage present only when its option is given, and written as audio to
``OUT/<relative path>`` in the input's format and subtype (``--format`` /
``--subtype`` change that).  Memory stays bounded however long a file is;
RIR and noise files are read whole, resampled with soxr to each input's rate
where they differ, and cached.  Outputs are written beside OUT (which must
lie outside the inputs) and renamed into place, so OUT never holds a partial
file.  ``OUT/augment.jsonl`` gets a line per output, sorted by source path,
with the source's identity (absolute path, size, modification time), the
parameters and every random choice; a re-run skips inputs done with the same
parameters whose source has the size and modification time recorded
(``--overwrite`` redoes them).  Files that fail are reported, and listed in
``OUT/augment.failures.jsonl`` (folders that cannot be listed, broken links, FIFOs,
truncated WAV/AIFF files, NaN samples, an output that would hold NaN or inf),
the others complete, and the exit status is 1; bad options or an unusable
OUT exit with 2 before anything is done.

Randomness.  Each file's choices come from a generator seeded with
``--seed`` and a hash of the file's relative path, so they depend on neither
the thread schedule nor the other inputs; the RIR and the noise draw from
separate child streams, so adding or dropping one stage leaves the other's
choices alone.  The same seed gives bit-identical outputs on the same
machine (fastmel's FFT plans come from shipped wisdom, not from timing, and
float WAV/AIFF files get no time-stamped PEAK chunk; Ogg files still carry a
random stream serial number from libsndfile, so there only the samples are
identical).  A mono RIR (the first channel of a multichannel one) is applied
to every channel.  Noise with the input's channel count is added channel by
channel; otherwise its channels are averaged and the result added to every
channel.  The noise is looped from a random offset; the SNR is drawn
uniformly from LO:HI (one value DB fixes it).

Room level.  The RIR is a filter, so its effect must not depend on the
rate it is applied at: resampled from its own rate r to an input's rate sr,
its taps are scaled by r / sr (the same frequency response, not sr / r times
louder).  ``--rir-norm energy`` (the default, as torchaudio's augmentation
tutorial does) first scales the RIR to unit energy at its own rate, so the
room keeps the level of broadband sound and a peak-normalised RIR file no
longer adds 10-20 dB; ``--rir-norm none`` takes its samples as they are.  The manifest records the factor applied to the file's samples
(``rir_scale``).  A resampled RIR starts 0.5 ms later than the original
(room for the resampler's ringing before the first tap, part of the direct
sound); on band-limited speech the level then differs by less than 0.01 dB
between input rates.

SNR.  The SNR compares the signal entering the noise stage (after the room,
if any) with the noise segment actually added, both as mean square over every
sample and channel of the output's span.  Whole-clip power is not causal, so
a first read-only pass streams the file (through its own Convolver when there
is an RIR) and accumulates the mean square block by block; the noise
segment's power comes from the cached noise.  The gain is then
``noise_gain(signal_power, noise_power, snr_db)``, so the drawn SNR holds
exactly, not just approximately.  The price is a second read (and
convolution) of each input.

Length.  Outputs keep the input's length: the RIR's ``len(rir) - 1`` tail is
cropped, as a recording of the same duration would be.  ``--keep-tail``
flushes the chain and writes the tail too (noise continues over it).

Clipping.  Subtypes with a full scale (everything but FLOAT and DOUBLE) are
hard-clipped at +-1.0.  Scaling down instead would need the peak before the
first block is written; clipping keeps one write pass, and the recorded gain
and SNR still describe the mix before clipping.  The manifest records
``clipped_samples`` per file and the summary counts the files and samples
that clipped (``--rir-norm energy`` keeps a room from clipping speech that
was not already near full scale).  Every block is checked before it is
written: an output that would hold NaN or inf (an unstable ``--bandpass-order``,
float audio near the float32 limit) fails that file and nothing is written.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import threading
import uuid
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterator, Sequence, TypeVar, cast

import numpy as np
import numpy.typing as npt
import soundfile as sf

from fastmel.cli import options
from fastmel.cli.jobs import (Failure, FileFailure, Job, Record, StrPath, UsageError,
                              audio_extensions, check_complete, check_output_folder, describe,
                              open_source, source_stamp, walk)

if TYPE_CHECKING:
    from fastmel import Bandpass, Convolver, Stream
    from fastmel.cli.options import Subparsers

# An RIR or noise file: (absolute path, size in bytes, modification time in ns).
Candidate = tuple[str, int, int]
_T = TypeVar("_T")

MANIFEST = "augment.jsonl"
# Frames per read: bounds memory (a block of each stage's output) while keeping
# per-call overhead negligible.  Fixed, because the power pass sums per block.
BLOCK = 1 << 16
# Distinct (file, rate, layout) RIRs / noises kept in memory.
CACHE_ITEMS = 8
# Output extension for a --format whose lower-cased name is not its usual one.
_EXTENSIONS = {"WAVEX": ".wav", "RF64": ".wav", "OGG": ".ogg", "MP3": ".mp3", "AIFF": ".aiff"}
_UNBOUNDED = ("FLOAT", "DOUBLE")
# sndfile.h; python-soundfile has no name for it.
_SFC_SET_ADD_PEAK_CHUNK = 0x1050
# Butterworth orders --bandpass-order takes: far steeper than any microphone,
# and low enough for the sections to stay numerically sound.
MAX_BANDPASS_ORDER = 32
RIR_NORMS = ("energy", "none")
# Silence put before an RIR that is resampled (seconds); see Library.rir.
RIR_LEAD_S = 0.0005


def _range(text: str, *, positive: bool) -> tuple[float, float]:
    parts = text.split(":")
    if len(parts) != 2:
        raise argparse.ArgumentTypeError(f"expected LO:HI, got {text!r}")
    try:
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers LO:HI, got {text!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise argparse.ArgumentTypeError(f"LO and HI must be finite, got {text!r}")
    if positive and not 0 < lo < hi:
        raise argparse.ArgumentTypeError(f"need 0 < LOW < HIGH (Hz), got {text!r}")
    if lo > hi:
        raise argparse.ArgumentTypeError(f"need LO <= HI, got {text!r}")
    return lo, hi


def snr_range(text: str) -> tuple[float, float]:
    """``LO:HI`` in dB (LO <= HI), or one value ``DB`` for ``DB:DB``."""
    if ":" not in text:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected LO:HI or one number, got {text!r}") \
                from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"the SNR must be finite, got {text!r}")
        return value, value
    return _range(text, positive=False)


def band_range(text: str) -> tuple[float, float]:
    """``LOW:HIGH`` in Hz with 0 < LOW < HIGH; HIGH < sr/2 is checked per file."""
    return _range(text, positive=True)


def candidates(arg: str, option: str) -> tuple[Candidate, ...]:
    """Audio files for ``--rir`` / ``--noise``: the file, or a folder's (recursive,
    sorted); each must open as non-empty audio, else :class:`UsageError`."""
    root = Path(arg)
    if root.is_dir():
        files, problems = walk(root, audio_extensions())
        if problems:
            path, reason = problems[0]
            raise UsageError(f"{option} {path}: {reason}")
        if not files:
            raise UsageError(f"{option} {arg}: no audio files in this folder")
    elif root.is_file():
        files = [root]
    else:
        raise UsageError(f"{option} {arg}: no such file or folder")
    found: list[Candidate] = []
    for path in files:
        try:
            with open_source(path) as fh, sf.SoundFile(fh) as snd:
                frames = snd.frames
            stat = path.stat()
        except Exception as err:
            raise UsageError(f"{option} {path}: cannot read it as audio "
                             f"({describe(err, path)})") from None
        if frames == 0:
            raise UsageError(f"{option} {path}: empty audio (no samples)")
        found.append((str(path.resolve()), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


@dataclasses.dataclass(frozen=True)
class AugmentParams:
    """What ``fastmel augment`` does to every file.  ``rir`` and ``noise`` are
    ``(path, size, mtime_ns)`` triples, so an edited RIR or noise file counts as
    a change of parameters."""

    rir: tuple[Candidate, ...] = ()
    rir_norm: str = "energy"
    noise: tuple[Candidate, ...] = ()
    snr: tuple[float, float] | None = None
    bandpass: tuple[float, float] | None = None
    order: int = 4
    seed: int = 0
    keep_tail: bool = False
    format: str | None = None
    subtype: str | None = None

    def digest(self) -> str:
        """A hash of every parameter that shapes the outputs."""
        text = json.dumps(dict(dataclasses.asdict(self), version=1), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def output_path(self, rel: Path) -> Path:
        """OUT-relative output: the input's relative path, with the extension of
        ``--format`` when that format's usual extension differs."""
        if self.format is None:
            return rel
        ext = _EXTENSIONS.get(self.format, "." + self.format.lower())
        same = {".wav", ".wave"} if ext == ".wav" else {".aif", ".aiff", ".aifc"} \
            if ext == ".aiff" else {ext}
        return rel if rel.suffix.lower() in same else rel.with_suffix(ext)


def file_rngs(seed: int, rel: StrPath) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent generators (rir, noise) for one file, from the seed and a hash
    of its relative path, so nothing depends on scheduling or on other files."""
    digest = hashlib.sha256(Path(rel).as_posix().encode()).digest()
    words = np.frombuffer(digest[:16], dtype="<u4").tolist()
    rir_ss, noise_ss = np.random.SeedSequence([seed, *words]).spawn(2)
    return np.random.default_rng(rir_ss), np.random.default_rng(noise_ss)


class _Noise:
    """A noise signal at one rate and layout, with the running sum of its
    per-sample mean square over channels (for the power of any looped segment)."""

    def __init__(self, data: npt.NDArray[np.float32]) -> None:
        self.data = data
        power = np.square(data, dtype=np.float64)
        power = power.mean(axis=0) if data.ndim > 1 else power
        self._csum = np.concatenate([[0.0], np.cumsum(power)])

    @property
    def length(self) -> int:
        return int(self.data.shape[-1])

    def power(self, offset: int, n: int) -> float:
        """Mean square of samples offset .. offset + n - 1 of the noise looped end to end."""
        csum, m = self._csum, self.length
        loops, rest = divmod(n, m)
        end = offset + rest
        part = csum[min(end, m)] - csum[offset] + (csum[end - m] if end > m else 0.0)
        return float((loops * csum[m] + part) / n)


class Library:
    """RIR and noise files, loaded on demand at each rate needed and cached
    (a few at a time); shared by the worker threads."""

    def __init__(self, rirs: Sequence[Candidate], noises: Sequence[Candidate],
                 rir_norm: str = "energy") -> None:
        self.rirs = [p for p, _, _ in rirs]
        self.noises = [p for p, _, _ in noises]
        self.rir_norm = rir_norm
        # Values of both kinds, by key: see rir() and noise().
        self._cache: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def _get(self, key: Hashable, make: Callable[[], _T]) -> _T:
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                # The key's first element names the kind, so its value is what make() gives.
                return cast(_T, self._cache[key])
        # Built outside the lock: two threads may both load an item, and get equal results.
        value = make()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > CACHE_ITEMS:
                self._cache.popitem(last=False)
        return value

    @staticmethod
    def _read(path: str) -> tuple[npt.NDArray[np.float32], int]:
        """(channels, n) float32 samples of an RIR or noise file, and its rate."""
        with open_source(path) as fh, sf.SoundFile(fh) as snd:
            data = snd.read(dtype="float32", always_2d=True)
            check_complete(snd, data.shape[0])
        if data.shape[0] == 0:
            raise FileFailure(f"{path}: empty audio (no samples)")
        if not np.isfinite(data).all():
            raise FileFailure(f"{path}: holds non-finite samples (NaN or inf)")
        return np.ascontiguousarray(data.T), snd.samplerate

    @staticmethod
    def _resample(data: npt.NDArray[Any], rate: int, sr: int) -> npt.NDArray[Any]:
        if rate == sr:
            return data
        import soxr

        return np.ascontiguousarray(soxr.resample(data.T, rate, sr).T)

    def rir(self, index: int, sr: int) -> tuple[npt.NDArray[np.float32], float]:
        """The first channel of RIR ``index`` at ``sr``, shape (m,), and the factor
        its file's samples were scaled by (see "Room level")."""
        path = self.rirs[index]

        def make() -> tuple[npt.NDArray[np.float32], float]:
            data, rate = self._read(path)
            h = data[0].astype(np.float64)
            scale = 1.0
            if self.rir_norm == "energy":
                energy = float(np.dot(h, h))
                if not energy > 0:
                    raise FileFailure(f"RIR {path} is silent (all zeros)")
                scale = 1.0 / math.sqrt(energy)
            if rate != sr:
                # The same filter at another rate: sr / rate times the taps, each
                # scaled by rate / sr, so the frequency response (and the level)
                # stays.  A resampled first tap rings before itself, and that
                # ringing carries part of the direct sound: cut off at the start
                # it costs 0.1 dB on speech, so the RIR starts RIR_LEAD_S later.
                scale *= rate / sr
                lead = np.zeros(math.ceil(RIR_LEAD_S * rate))
                h = self._resample(np.concatenate([lead, h * scale])[None, :], rate, sr)[0]
            else:
                h = h * scale
            return np.ascontiguousarray(h, dtype=np.float32), scale

        return self._get(("rir", path, sr), make)

    def noise(self, index: int, sr: int, channels: int) -> _Noise:
        """Noise ``index`` at ``sr``: (channels, m) when it has the input's channel
        count (more than one), else its channels averaged, (m,)."""
        path = self.noises[index]

        def make() -> _Noise:
            data, rate = self._read(path)
            data = self._resample(data, rate, sr)
            if channels > 1 and data.shape[0] == channels:
                return _Noise(data)
            return _Noise(np.ascontiguousarray(data.mean(axis=0, dtype=np.float32)))

        return self._get(("noise", path, sr, channels), make)


def _no_peak_chunk(fh: sf.SoundFile) -> None:
    """Leave out the PEAK chunk libsndfile adds to float WAV/AIFF files: it holds
    the time of writing, which would make outputs differ from run to run."""
    try:
        sf._snd.sf_command(fh._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, sf._snd.SF_FALSE)
    except AttributeError:  # soundfile internals moved: only that time stamp then differs
        pass


def _blocks(path: Path, dtype: str) -> Iterator[npt.NDArray[Any]]:
    """The file as (channels, k) blocks of ``dtype``; raises :class:`FileFailure`
    at a non-finite sample or, after the last block, when the file was cut short."""
    frames = 0
    with open_source(path) as fh, sf.SoundFile(fh) as snd:
        for block in snd.blocks(blocksize=BLOCK, dtype=dtype, always_2d=True):
            if not np.isfinite(block).all():
                raise FileFailure("the file holds non-finite samples (NaN or inf)")
            frames += block.shape[0]
            yield np.ascontiguousarray(block.T)
        check_complete(snd, frames)


def _signal_power(path: Path, dtype: str, convolver: Convolver | None, keep_tail: bool
                  ) -> tuple[int, float]:
    """First pass: (frames, mean square of what enters the noise stage over the
    output's span), accumulated block by block."""
    total, count, frames = 0.0, 0, 0
    for block in _blocks(path, dtype):
        frames += block.shape[-1]
        if convolver is not None:
            block = convolver.process(block)
        total += float(np.sum(np.square(block, dtype=np.float64)))
        count += block.size
    if convolver is not None and keep_tail and frames:
        tail = convolver.flush()
        total += float(np.sum(np.square(tail, dtype=np.float64)))
        count += tail.size
    return frames, (total / count if count else 0.0)


def _info(source: Path) -> tuple[int, int, str, str]:
    """(rate, channels, format, subtype) of an input file."""
    with open_source(source) as fh, sf.SoundFile(fh) as snd:
        return int(snd.samplerate), int(snd.channels), snd.format, snd.subtype


def augment_file(source: StrPath, rel: StrPath, out_dir: StrPath, tmp_dir: StrPath,
                 params: AugmentParams, library: Library) -> Record:
    """Augment one file and write it atomically; returns its manifest record, or
    ``{"source": ..., "error": reason}``.  Runs in worker threads."""
    import fastmel
    from fastmel.noise import noise_gain

    source, rel = Path(source), Path(rel)
    out_rel = params.output_path(rel)
    tmp: Path | None = None
    try:
        # Taken before reading: a file changed meanwhile looks changed to the next run.
        stamp = source_stamp(os.stat(source))
        sr, channels, in_format, in_subtype = _info(source)
        fmt = params.format or in_format
        subtype = params.subtype or (in_subtype if sf.check_format(fmt, in_subtype)
                                     else sf.default_subtype(fmt))
        if not sf.check_format(fmt, subtype):
            raise FileFailure(f"format {fmt} cannot hold subtype {subtype}")
        wide = {"DOUBLE", "PCM_32"} & {in_subtype, subtype}
        dtype = "float64" if wide else "float32"
        rir_rng, noise_rng = file_rngs(params.seed, rel)
        record: Record = {
            "source": str(source.absolute()), **stamp, "output": out_rel.as_posix(),
            "rir": None, "rir_norm": params.rir_norm if params.rir else None,
            "rir_scale": None, "noise": None, "noise_offset": None, "snr_db": None,
            "gain": None, "signal_power": None, "noise_power": None,
            "bandpass": list(params.bandpass) if params.bandpass else None,
            "bandpass_order": params.order if params.bandpass else None,
            "keep_tail": params.keep_tail, "seed": params.seed}

        stages: list[Stream] = []
        rir: npt.NDArray[np.float32] | None = None
        if params.rir:
            index = int(rir_rng.integers(len(library.rirs)))
            rir, rir_scale = library.rir(index, sr)
            record.update(rir=library.rirs[index], rir_scale=rir_scale)
        bandpass: Bandpass | None = None
        if params.bandpass:
            low, high = params.bandpass
            if not high < sr / 2:
                raise FileFailure(f"--bandpass {low:g}:{high:g} Hz is outside (0, {sr / 2:g}) "
                                  f"Hz, the band of this {sr} Hz file")
            bandpass = fastmel.Bandpass(sr, low, high, order=params.order)

        def convolver(h: npt.NDArray[np.float32]) -> Convolver:
            return fastmel.Convolver(h, block_size=4096, dtype=dtype)

        tail = rir.shape[-1] - 1 if rir is not None and params.keep_tail else 0
        frames: int | None = None
        if params.noise:
            frames, signal_power = _signal_power(
                source, dtype, convolver(rir) if rir is not None else None, params.keep_tail)
            if frames == 0:
                raise FileFailure("empty audio (no samples)")
            if not math.isfinite(signal_power):
                raise FileFailure("the room's output overflows (NaN or inf); nothing written")
            n_out = frames + tail

        if rir is not None:
            stages.append(convolver(rir))
        if params.noise:
            assert params.snr is not None  # _params takes --noise only with --snr
            index = int(noise_rng.integers(len(library.noises)))
            snr_db = float(noise_rng.uniform(*params.snr))
            noise = library.noise(index, sr, channels)
            offset = int(noise_rng.integers(noise.length))
            noise_power = noise.power(offset, n_out)
            gain = noise_gain(signal_power, noise_power, snr_db)
            stages.append(fastmel.NoiseMixer(noise.data, gain=gain, offset=offset))
            record.update(noise=library.noises[index], noise_offset=offset, snr_db=snr_db,
                          gain=gain, signal_power=signal_power, noise_power=noise_power)
        if bandpass is not None:
            stages.append(bandpass)
        chain = fastmel.Chain(stages) if stages else None

        clip = subtype not in _UNBOUNDED
        clipped, written, read = 0, 0, 0
        tmp = Path(tmp_dir) / f"{uuid.uuid4().hex}{out_rel.suffix}"
        with sf.SoundFile(str(tmp), "w", samplerate=sr, channels=channels, format=fmt,
                          subtype=subtype) as out:
            _no_peak_chunk(out)

            def write(y: npt.NDArray[Any]) -> None:
                nonlocal clipped, written
                # Before clipping: NaN would otherwise become full scale in PCM files.
                if not np.isfinite(y).all():
                    raise FileFailure(
                        "the output would hold non-finite samples (NaN or inf), nothing "
                        "written" + (f" (--bandpass-order {params.order} may be unstable "
                                     f"for this band)" if bandpass is not None else ""))
                if clip:
                    over = np.abs(y) > 1.0
                    clipped += int(np.count_nonzero(over))
                    np.clip(y, -1.0, 1.0, out=y)
                out.write(np.ascontiguousarray(y.T))
                written += y.shape[-1]

            for block in _blocks(source, dtype):
                read += block.shape[-1]
                # Every stage has zero latency: a block out for each block in.
                write(chain.process(block) if chain is not None else block)
            if read == 0:
                raise FileFailure("empty audio (no samples)")
            # The chain owes only the RIR's tail, which the default crops.
            if chain is not None and params.keep_tail:
                write(chain.flush())
        if (frames is not None and read != frames) or written != read + tail:
            raise FileFailure(f"the file changed while it was read ({read} frames, "
                              f"{frames} in the first pass)")
        final = Path(out_dir) / out_rel
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, final)
        except OSError as err:
            raise FileFailure(f"cannot write {final}: {describe(err, final)}") from None
        tmp = None
    except Exception as err:  # reported per file; the run goes on
        return {"source": str(source.absolute()), "error": describe(err, source)}
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    record.update(duration=read / sr, sample_rate=sr, channels=channels, frames=written,
                  format=fmt, subtype=subtype, clipped_samples=clipped,
                  snr_range=list(params.snr) if params.snr else None,
                  params_hash=params.digest())
    return record


def augment(inputs: Sequence[StrPath], out: StrPath, params: AugmentParams, *,
            jobs: int | None = None, overwrite: bool = False, quiet: bool = False
            ) -> tuple[list[Record], int, list[Failure], float]:
    """Run the augment job; returns (records written, skipped count, failures, seconds).

    Raises
    ------
    UsageError
        OUT is or holds an input, or cannot be made or used.
    """
    job, problems = Job.plan(inputs, out, manifest_name=MANIFEST, tag="fastmel-augment-partial",
                             digest=params.digest(), output_of=params.output_path,
                             overwrite=overwrite, quiet=quiet)
    if job is None:
        return [], 0, problems, 0.0
    library = Library(params.rir, params.noise, params.rir_norm)
    with job:
        job.run_threads(lambda s, r: augment_file(s, r, job.out, job.tmp_dir, params, library),
                        jobs)
    return job.written, job.skipped, job.failures, job.progress.elapsed


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "augment", help="simulate room, noise and microphone on files and folders",
        description=options.plain(__doc__), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="IN", help="audio files or folders (recursive)")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output folder (outside the inputs)")
    p.add_argument("--rir", metavar="FILE_OR_DIR",
                   help="room impulse response(s); one is chosen at random per input "
                        "(default: no room)")
    p.add_argument("--rir-norm", choices=RIR_NORMS, default="energy",
                   help="scale each RIR to unit energy at its own rate (energy) or take it "
                        "as it is (none); see 'Room level' (default: energy)")
    p.add_argument("--noise", metavar="FILE_OR_DIR",
                   help="noise file(s); one is chosen at random per input (needs --snr; "
                        "default: no noise)")
    p.add_argument("--snr", type=snr_range, metavar="LO:HI",
                   help="SNR in dB, drawn uniformly from LO..HI per input, or one value DB "
                        "for all; negative values are fine (--snr -5:5, --snr -3) "
                        "(default: none, needed with --noise)")
    p.add_argument("--bandpass", type=band_range, metavar="LOW:HIGH",
                   help="Butterworth band-pass edges in Hz, HIGH below each file's sr/2 "
                        "(default: no band-pass)")
    p.add_argument("--bandpass-order", type=options.int_in(1, MAX_BANDPASS_ORDER), default=4,
                   metavar="N",
                   help=f"Butterworth order, as scipy's butter, 1..{MAX_BANDPASS_ORDER} "
                        f"(default: 4)")
    p.add_argument("--seed", type=int, default=0,
                   help="random seed, >= 0; the same seed gives the same outputs (default: 0)")
    p.add_argument("--keep-tail", action="store_true",
                   help="append the RIR's tail (len(rir) - 1 samples) instead of cropping "
                        "to the input's length")
    p.add_argument("--format", type=str.upper, choices=sorted(sf.available_formats()),
                   metavar="FORMAT", help="output format, e.g. wav (default: the input's)")
    p.add_argument("--subtype", type=str.upper, metavar="SUBTYPE",
                   help="output subtype, e.g. PCM_16 or FLOAT (default: the input's, or the "
                        "format's default when it cannot hold it)")
    p.add_argument("--jobs", "-j", type=options.positive_int, default=None,
                   help="worker threads (default: all cores)")
    p.add_argument("--overwrite", action="store_true", help="redo existing outputs")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress or summary")
    p.set_defaults(run=run)
    return p


def _params(args: argparse.Namespace) -> AugmentParams:
    if (args.noise is None) != (args.snr is None):
        raise UsageError("--noise and --snr go together: give both or neither")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")
    if args.subtype is not None:
        if args.subtype not in sf.available_subtypes():
            raise UsageError(f"--subtype {args.subtype}: unknown; one of "
                             f"{', '.join(sorted(sf.available_subtypes()))}")
        if args.format is not None and not sf.check_format(args.format, args.subtype):
            raise UsageError(f"--format {args.format} cannot hold --subtype {args.subtype}")
    check_output_folder(args.inputs, args.output)
    return AugmentParams(
        rir=candidates(args.rir, "--rir") if args.rir is not None else (),
        rir_norm=args.rir_norm,
        noise=candidates(args.noise, "--noise") if args.noise is not None else (),
        snr=args.snr, bandpass=args.bandpass, order=args.bandpass_order, seed=args.seed,
        keep_tail=args.keep_tail, format=args.format, subtype=args.subtype)


def run(args: argparse.Namespace) -> int:
    try:
        params = _params(args)
        written, skipped, failures, elapsed = augment(
            args.inputs, args.output, params, jobs=args.jobs, overwrite=args.overwrite,
            quiet=args.quiet)
    except UsageError as err:
        print(f"fastmel augment: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastmel augment: interrupted; run the same command again to finish",
              file=sys.stderr)
        return 130
    for source, reason in failures:
        print(f"failed: {source}: {reason}", file=sys.stderr)
    if not args.quiet:
        clipped = [r["clipped_samples"] for r in written if r["clipped_samples"]]
        seconds = sum(r["duration"] for r in written)
        rate = seconds / 3600.0 / elapsed if elapsed > 0 else 0.0
        detail = (f" ({sum(clipped)} samples hard-clipped at full scale, see clipped_samples "
                  f"in {MANIFEST})" if clipped else "")
        print(f"fastmel augment: {len(written)} written, {skipped} up to date, "
              f"{len(failures)} failed, {len(clipped)} clipped{detail}; {seconds:.1f} s of "
              f"audio in {elapsed:.2f} s ({rate:.3f} h/s)", file=sys.stderr)
    return 1 if failures else 0
