"""What the file-to-file commands (``features``, ``augment``) share.

A job maps input files to outputs under OUT, skips outputs a manifest
records with the same parameter hash, writes through a temporary folder
beside OUT (renamed into place, so OUT never holds a partial file), runs
files on threads, appends one manifest line per finished output and reports
the files that failed.  On Ctrl-C, files already running finish and are
recorded; the rest wait for the next run.
"""
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path


def read_manifest(path):
    """output -> record of the manifest's last line for it (a torn last line is ignored)."""
    done = {}
    if not path.exists():
        return done
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
                done[record["output"]] = record
            except (ValueError, KeyError):
                continue
    return done


def _repair_manifest(path):
    """Drop a torn last line left by a killed run, so appends start on a fresh line."""
    if not path.exists():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[:data.rfind(b"\n") + 1])


def _compact_manifest(path):
    """Keep one line per output (its latest), in order of first appearance."""
    if not path.exists():
        return
    latest = read_manifest(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for record in latest.values():
            fh.write(json.dumps(record) + "\n")
    os.replace(tmp, path)


def _inside(path, folder):
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


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
        Hash of the parameters; an output recorded with it is up to date.
    output_of : callable
        Relative input path -> relative output path.
    overwrite, quiet : bool
    """

    def __init__(self, items, out, *, manifest_name, tag, digest, output_of, overwrite=False,
                 quiet=False):
        from fastmel.cli.progress import Progress

        # Absolute paths: workers elsewhere resolve nothing against our cwd, and
        # the temporary folder must sit beside OUT even for "-o .".
        out = Path(out).absolute()
        out.mkdir(parents=True, exist_ok=True)
        self.out = out.resolve()
        self.tmp_dir = self.out.parent / f".{self.out.name}.{tag}"
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        self.tmp_dir.mkdir(parents=True)
        self.manifest = self.out / manifest_name
        _repair_manifest(self.manifest)
        done = read_manifest(self.manifest)
        self.failures, self.written, self.todo, self.skipped = [], [], [], 0
        seen = set()
        for source, rel in items:
            # OUT inside an input folder: never take earlier outputs as inputs.
            if _inside(source, self.out) or _inside(source, self.tmp_dir):
                continue
            key = output_of(rel).as_posix()
            if key in seen:
                self.failures.append((source, f"output {key} collides with another input's"))
                continue
            seen.add(key)
            record = done.get(key)
            if (not overwrite and record is not None and record.get("params_hash") == digest
                    and (self.out / key).exists()):
                self.skipped += 1
                continue
            self.todo.append((source.absolute(), rel))
        self.progress = Progress(len(self.todo), quiet=quiet)
        self._mf = None

    def __enter__(self):
        self._mf = open(self.manifest, "a", encoding="utf-8")
        return self

    def __exit__(self, *exc):
        self._mf.close()
        self.progress.close()
        shutil.rmtree(self.tmp_dir, ignore_errors=True)
        _compact_manifest(self.manifest)
        return False

    def record(self, result):
        """Take one file's result: a manifest record, or ``{"source", "error"}``."""
        if "error" in result:
            self.failures.append((Path(result["source"]), result["error"]))
            self.progress.update()
            return
        self._mf.write(json.dumps(result) + "\n")
        self._mf.flush()
        self.written.append(result)
        self.progress.update(audio_seconds=result.get("duration", 0.0))

    def run_threads(self, task, jobs=None):
        """``task(source, rel)`` for every file to do, on ``jobs`` threads."""
        pool = ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1)
        futures = [pool.submit(task, s, r) for s, r in self.todo]
        consumed = set()
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
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
