"""What the file-to-file commands (``features``, ``augment``) share.

Inputs are found by :func:`collect`: folders are walked recursively, following
symbolic links to folders (a link back to a folder above it is reported, not
followed), and everything that cannot be read -- a folder that cannot be
listed, a broken or looping link, a FIFO or device named like audio -- is
reported as a failure rather than skipped.  Every input must lie outside OUT
(OUT inside an input folder is fine: its contents are never taken as inputs).

A job maps input files to outputs under OUT, skips outputs a manifest
records with the same parameter hash for a source of the same size and
modification time, writes through a temporary folder beside OUT (renamed
into place, so OUT never holds a partial file), runs files on threads,
appends one manifest line per finished output and reports the files that
failed.  At the end of a run (finished or interrupted) the manifest is
rewritten with one line per output sorted by source path, and the run's
failures go to a sibling file, ``<manifest stem>.failures.jsonl``, one
``{"source", "error"}`` line per failure sorted by source (removed when a
run has none).  A manifest line that cannot be written (a full disk) is cut back
off, so the manifest stays whole JSON lines, the output it described is
removed and the run stops.  On Ctrl-C, files already running finish and are
recorded; the rest wait for the next run.
"""
from __future__ import annotations

import errno
import io
import json
import os
import re
import shutil
import stat
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Sequence

import soundfile as sf

# A path as the commands take it: a string from the command line, or a Path.
StrPath = str | os.PathLike[str]
# A manifest line (JSON): a finished output's record, or ``{"source", "error"}``.
Record = dict[str, Any]
# An input file and its output's path relative to OUT (before output_of).
Item = tuple[Path, Path]
# An input that failed and why, worded for the user.
Failure = tuple[Path, str]


class UsageError(Exception):
    """A problem with the command line or OUT found before any file is
    processed; the command prints it and exits with status 2."""


class FileFailure(Exception):
    """Why one file failed, worded for the user (printed as is)."""


class ManifestError(Exception):
    """The manifest could not be appended to; the run stops."""


def describe(err: BaseException, path: StrPath | None = None) -> str:
    """One line saying why ``err`` happened, for a ``failed: PATH: reason`` line
    (an OSError's file name is left out when it is ``path``)."""
    if isinstance(err, (FileFailure, UsageError, ManifestError)):
        return str(err)
    if isinstance(err, OSError) and err.strerror:
        # "permission denied" rather than a type name and an errno.
        text = err.strerror[:1].lower() + err.strerror[1:]
        if err.filename is None or (path is not None and Path(err.filename) == Path(path)):
            return text
        return f"{text}: {err.filename}"
    if isinstance(err, sf.LibsndfileError):
        return f"not readable as audio ({err.error_string.rstrip('.')})"
    if isinstance(err, MemoryError):
        return f"out of memory ({err})" if str(err) else "out of memory"
    text = " ".join(str(err).split())
    if isinstance(err, ValueError):  # ParameterError included: the message says it all
        return text or type(err).__name__
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def audio_extensions() -> set[str]:
    """Lower-case file extensions taken as audio when a folder is walked."""
    names = {name.lower() for name in sf.available_formats()}
    return names | {"aif", "oga", "opus", "snd"}


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device")):
        if test(mode):
            return name
    return "not a regular file"


def _unreadable(path: Path, err: OSError) -> str:
    """The reason a directory entry cannot even be looked at."""
    link = os.path.islink(path)
    if link and err.errno == errno.ENOENT:
        return f"broken symbolic link (its target {os.readlink(path)!r} does not exist)"
    if err.errno == errno.ELOOP:
        return "symbolic link loop"
    return describe(err, path)


def walk(root: StrPath, extensions: Collection[str]) -> tuple[list[Path], list[Failure]]:
    """Audio files under the folder ``root`` (recursively, sorted) and the
    problems met on the way, ``(path, reason)``.

    Symbolic links to folders are followed; one leading back to a folder
    above it is a problem (following it would never end).  Entries whose
    name is not audio are skipped, except those that cannot be looked at at
    all (a broken link could be a folder)."""
    files: list[Path] = []
    problems: list[Failure] = []
    root = Path(root)
    top = root.stat()
    # (folder, identities of the folders above it and itself): a loop shows as a
    # folder met again on its own path.  A stack, not recursion: trees can be deep.
    pending = [(root, frozenset({(top.st_dev, top.st_ino)}))]
    while pending:
        folder, above = pending.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as err:
            problems.append((folder, f"cannot list this folder: {describe(err, folder)}"))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                info = entry.stat()
            except OSError as err:
                problems.append((path, _unreadable(path, err)))
                continue
            if stat.S_ISDIR(info.st_mode):
                key = (info.st_dev, info.st_ino)
                if key in above:
                    problems.append((path, "symbolic link loop (it leads back to a folder "
                                           "above it)"))
                else:
                    pending.append((path, above | {key}))
            elif path.suffix.lower().lstrip(".") in extensions:
                if stat.S_ISREG(info.st_mode):
                    files.append(path)
                else:
                    problems.append((path, f"{_kind(info.st_mode)}, not an audio file"))
    return sorted(files), sorted(problems)


def collect(inputs: Sequence[StrPath], *, extensions: Collection[str] | None = None
            ) -> tuple[list[Item], list[Failure]]:
    """``(items, problems)``: ``(source, relative output path)`` for every input
    file, and ``(path, reason)`` for everything that cannot be read.

    A single folder maps onto OUT directly; with several inputs each keeps its
    own name at the top of OUT.  Folders are searched recursively for audio
    files (a folder without any is a problem); files named on the command
    line are taken whatever their extension.
    """
    extensions = extensions or audio_extensions()
    items: list[Item] = []
    problems: list[Failure] = []
    single_dir = len(inputs) == 1 and Path(inputs[0]).is_dir()
    for arg in inputs:
        root = Path(arg)
        try:
            mode = root.stat().st_mode
        except OSError as err:
            reason = ("no such file or folder" if err.errno == errno.ENOENT
                      and not os.path.islink(root) else _unreadable(root, err))
            problems.append((root, reason))
            continue
        if stat.S_ISDIR(mode):
            base = Path() if single_dir else Path(root.resolve().name)
            files, found_problems = walk(root, extensions)
            if not files and not found_problems:
                found_problems = [(root, "no audio files in this folder (none with an audio "
                                         "extension such as .wav, .flac or .ogg)")]
            items.extend((path, base / path.relative_to(root)) for path in files)
            problems.extend(found_problems)
        elif stat.S_ISREG(mode):
            items.append((root, Path(root.name)))
        else:
            problems.append((root, f"{_kind(mode)}, not an audio file"))
    return items, [(path.absolute(), reason) for path, reason in problems]


def check_output_folder(inputs: Iterable[StrPath], out: StrPath) -> None:
    """Refuse an OUT that is, or holds, one of the inputs: outputs would mix
    with (or, for ``augment``, replace) the inputs, and the inputs would be
    taken for earlier outputs.  Raises :class:`UsageError`."""
    # realpath, not Path.resolve: a symbolic link loop is an answer, not an error.
    target = Path(os.path.realpath(out))
    for arg in inputs:
        source = Path(os.path.realpath(arg))
        if source == target:
            raise UsageError(f"-o {out} is the input folder {arg}: outputs would mix with the "
                             f"inputs; write them to another folder")
        if target in source.parents:
            raise UsageError(f"-o {out} holds the input {arg}: outputs would mix with the "
                             f"inputs; write them to a folder outside the inputs")


def open_source(path: StrPath) -> io.BufferedReader:
    """An input file opened for reading; the OSError says why not ("permission
    denied" rather than libsndfile's "System error")."""
    return open(path, "rb")


# libsndfile's log line for a WAV/AIFF data chunk that declares more bytes than
# the file holds: "data : 32000 (should be 15979)".
_DECLARED = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# Writers that cannot seek back (pipes) leave a placeholder size this large or
# larger: the length is unknown, not cut short.
_UNKNOWN_LENGTH = 0x7FFFF000


def check_complete(snd: sf.SoundFile, frames_read: int) -> None:
    """Raise :class:`FileFailure` when the open ``soundfile.SoundFile`` ``snd``
    was cut short: its WAV/AIFF header declares more audio than the file holds,
    or fewer than its ``frames`` could be read (for MP3, whose frame count can
    be an estimate from the bit rate, fewer than 99% of them)."""
    for declared, present in _DECLARED.findall(snd.extra_info):
        declared, present = int(declared), int(present)
        if present < declared < _UNKNOWN_LENGTH:
            raise FileFailure(f"truncated: its header declares {declared} bytes of audio, the "
                              f"file holds {present}")
    expected = snd.frames * 0.99 if snd.format == "MP3" else snd.frames
    if frames_read < expected:
        raise FileFailure(f"truncated: {frames_read} of its {snd.frames} frames could be read")


def source_stamp(st: os.stat_result) -> dict[str, int]:
    """What identifies a source's content cheaply: its size and modification time."""
    return {"source_size": int(st.st_size), "source_mtime_ns": int(st.st_mtime_ns)}


def read_manifest(path: Path) -> tuple[dict[str, Record], int]:
    """output -> record of the manifest's last line for it (torn or foreign lines
    are ignored); also the number of lines read."""
    done: dict[str, Record] = {}
    lines = 0
    if not path.exists():
        return done, lines
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            lines += 1
            try:
                record = json.loads(line)
                done[record["output"]] = record
            except (ValueError, KeyError, TypeError):
                continue
    return done, lines


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _repair_manifest(path: Path) -> None:
    """Drop a torn last line left by a killed run, so appends start on a fresh line."""
    with open(path, "rb") as fh:
        data = fh.read()
    if data and not data.endswith(b"\n"):
        os.truncate(path, data.rfind(b"\n") + 1)


def _sort_key(record: Record) -> tuple[str, str]:
    return str(record.get("source", "")), str(record["output"])


def _replace_file(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` through a temporary file renamed over it; False
    when that failed (``path`` is then as it was)."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        return False
    return True


def _tidy_manifest(path: Path) -> None:
    """Keep one line per output (its latest), sorted by source, then output: lines
    are appended as files finish, and the finished manifest should not depend on
    the thread schedule.  A failure leaves the manifest as it was."""
    latest, lines = read_manifest(path)
    records = sorted(latest.values(), key=_sort_key)
    if lines == len(latest) and records == list(latest.values()):
        return
    _replace_file(path, "".join(json.dumps(record) + "\n" for record in records).encode())


def failures_path(manifest: Path) -> Path:
    """The sibling of ``manifest`` that lists the last run's failures
    (``manifest.jsonl`` -> ``manifest.failures.jsonl``)."""
    return manifest.with_name(f"{manifest.stem}.failures.jsonl")


def _write_failures(path: Path, failures: Iterable[Failure]) -> None:
    """One ``{"source", "error"}`` line per failure, sorted by source, in ``path``;
    no failures removes the file, so it never lists what a later run fixed."""
    lines = sorted((str(source), reason) for source, reason in failures)
    data = "".join(json.dumps({"source": source, "error": reason}) + "\n"
                   for source, reason in lines).encode()
    if not (data and _replace_file(path, data)):
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass  # the run's own report on stderr still lists its failures


def _inside(path: StrPath, folder: Path) -> bool:
    # realpath, not Path.resolve: a symbolic link loop is an answer, not an error.
    real = Path(os.path.realpath(path))
    return real == folder or folder in real.parents


class Job:
    """One run of a file-to-file command over ``items`` ((source, relative path) pairs).

    Parameters
    ----------
    items : list of (Path, Path)
    out : path-like
        The output folder (made if missing).
    manifest_name : str
    tag : str
        Names the temporary folder, ``.<OUT name>.<tag>`` beside OUT.
    digest : str
        Hash of the parameters; an output recorded with it, for a source of the
        same size and modification time, is up to date.
    output_of : callable
        Relative input path -> relative output path.
    problems : list of (path, reason)
        Inputs already known to have failed (from :func:`collect`).
    overwrite, quiet : bool

    Raises
    ------
    UsageError
        OUT, its manifest or the temporary folder cannot be made or used.
    """

    @classmethod
    def plan(cls, inputs: Sequence[StrPath], out: StrPath, **kwargs: Any
             ) -> tuple[Job | None, list[Failure]]:
        """Check OUT against the inputs, collect them and plan the job:
        ``(job, problems)``, job None when no input is audio (nothing is made)."""
        check_output_folder(inputs, out)
        items, problems = collect(inputs)
        if not items:
            return None, problems
        return cls(items, out, problems=problems, **kwargs), problems

    def __init__(self, items: Iterable[Item], out: StrPath, *, manifest_name: str,
                 tag: str, digest: str, output_of: Callable[[Path], Path],
                 problems: Iterable[Failure] = (), overwrite: bool = False,
                 quiet: bool = False) -> None:
        from fastmel.cli.progress import Progress

        # Absolute paths: workers elsewhere resolve nothing against our cwd, and
        # the temporary folder must sit beside OUT even for "-o .".
        given = out
        out = Path(out).absolute()
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"cannot make the output folder {given}: {describe(err, out)}") \
                from None
        self.out = out.resolve()
        self.tmp_dir = self.out.parent / f".{self.out.name}.{tag}"
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        try:
            self.tmp_dir.mkdir()
        except OSError as err:
            raise UsageError(f"cannot make the temporary folder {self.tmp_dir} beside the "
                             f"output folder: {describe(err, self.tmp_dir)}") from None
        self.manifest = self.out / manifest_name
        try:
            if self.manifest.exists() and not self.manifest.is_file():
                raise UsageError(f"{self.manifest} is not a regular file; move it away")
            if self.manifest.exists():
                _repair_manifest(self.manifest)
            done, _ = read_manifest(self.manifest)
            self._fd = os.open(self.manifest, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as err:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            raise UsageError(f"cannot use the manifest {self.manifest}: "
                             f"{describe(err, self.manifest)}") from None
        except UsageError:
            shutil.rmtree(self.tmp_dir, ignore_errors=True)
            raise
        self.failures: list[Failure] = []
        self.written: list[Record] = []
        self.todo: list[Item] = []
        self.skipped = 0
        # Problems inside OUT belong to earlier outputs, not to the inputs.
        self.failures.extend((path, reason) for path, reason in problems
                             if not (_inside(path, self.out) or _inside(path, self.tmp_dir)))
        self.stopped: ManifestError | None = None
        claimed: dict[str, Path] = {}
        for source, rel in items:
            # OUT inside an input folder: never take earlier outputs as inputs.
            if _inside(source, self.out) or _inside(source, self.tmp_dir):
                continue
            key = output_of(rel).as_posix()
            if key in claimed:
                self.failures.append((source.absolute(), (
                    f"its output {key} is also the output of {claimed[key]}, which was kept; "
                    f"rename one of the two")))
                continue
            claimed[key] = source.absolute()
            try:
                stamp = source_stamp(source.stat())
            except OSError as err:
                self.failures.append((source.absolute(), describe(err, source)))
                continue
            record = done.get(key)
            if (not overwrite and record is not None and record.get("params_hash") == digest
                    and all(record.get(k) == v for k, v in stamp.items())
                    and (self.out / key).exists()):
                self.skipped += 1
                continue
            self.todo.append((source.absolute(), rel))
        self.progress = Progress(len(self.todo), quiet=quiet)

    def __enter__(self) -> Job:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
        self.progress.close()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        _tidy_manifest(self.manifest)
        _write_failures(failures_path(self.manifest), self.failures)

    def record(self, result: Record) -> None:
        """Take one file's result: a manifest record, or ``{"source", "error"}``.

        Raises
        ------
        ManifestError
            Its line could not be appended; the manifest is cut back to whole
            lines and the output it described is removed.
        """
        if "error" in result:
            self.failures.append((Path(result["source"]), result["error"]))
            self.progress.update()
            return
        size = os.fstat(self._fd).st_size
        try:
            _write_all(self._fd, (json.dumps(result) + "\n").encode())
        except OSError as err:
            try:
                os.ftruncate(self._fd, size)
            except OSError:
                pass  # the next run drops a torn last line
            self.discard(result)
            raise ManifestError(f"cannot append to {self.manifest}: "
                                f"{describe(err, self.manifest)}; the run "
                                f"stopped here (run the same command again once that is "
                                f"fixed)") from None
        self.written.append(result)
        self.progress.update(audio_seconds=result.get("duration", 0.0))

    def discard(self, result: Record) -> None:
        """Remove the output of a result that will not be recorded."""
        if "error" not in result:
            (self.out / result["output"]).unlink(missing_ok=True)

    def stop(self, err: ManifestError) -> None:
        """Note that the run stopped on ``err`` (a :class:`ManifestError`); it is
        reported with the failures."""
        self.stopped = err
        self.failures.append((self.manifest, str(err)))

    def run_threads(self, task: Callable[[Path, Path], Record], jobs: int | None = None
                    ) -> None:
        """``task(source, rel)`` for every file to do, on ``jobs`` threads."""
        pool = ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1)
        futures = [pool.submit(task, s, r) for s, r in self.todo]
        consumed: set[Future[Record]] = set()
        try:
            for future in as_completed(futures):
                consumed.add(future)
                self.record(future.result())
        except KeyboardInterrupt:
            # Drop what has not started, let running files finish, and record them.
            pool.shutdown(wait=True, cancel_futures=True)
            for future in futures:
                if future not in consumed and future.done() and not future.cancelled():
                    self.record(future.result())
            raise
        except ManifestError as err:
            # Nothing more can be recorded: let running files finish, remove their outputs.
            pool.shutdown(wait=True, cancel_futures=True)
            for future in futures:
                if future not in consumed and future.done() and not future.cancelled():
                    self.discard(future.result())
            self.stop(err)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
