"""End-to-end tests of ``fastmel features`` (the command in a subprocess, captured, no TTY).

Inputs are built from the bundled speech clips: mixed formats (WAV PCM_16, FLAC, Ogg
Vorbis when libsndfile has it) and rates (8, 16, 22.05, 44.1 kHz), nested folders, one
stereo file, and three unreadable files (random bytes, 0 bytes, a header with 0 frames).

Outputs must equal the library bit for bit, in this process and across processes (the
command, a resumed run, Dask workers): FFT plans come from the wisdom fastmel ships, not
from timing, so every process runs the same FFT algorithms.
"""
import json
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import time
from importlib.resources import files
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
import soxr

import fastmel
from fastmel.cli import features as cli_features
from fastmel.cli.features import MANIFEST, FeatureParams

SR = 16000
# The command's defaults: W1's framing with librosa's window length (n_fft).
W1 = dict(sr=SR, n_fft=512, win_length=512, hop_length=160, n_mels=80)
RECORD_KEYS = {"source", "source_size", "source_mtime_ns", "duration", "source_sample_rate",
               "sample_rate", "output", "shape", "dtype", "params", "params_hash", "timing"}
TIMING_KEYS = {"read_s", "features_s", "write_s"}
SUMMARY = re.compile(r"fastmel features: (\d+) written, (\d+) up to date, (\d+) failed")

# name -> (command-line options, FeatureParams / reference keyword arguments)
VARIANTS = {
    "logmel": ((), {}),
    "mfcc13": (("--mfcc", "13"), {"mfcc": 13}),
    "float16": (("--dtype", "float16"), {"dtype": "float16"}),
    "mono": (("--mono",), {"mono": True}),
}

# The interrupted-run folder: many hard links to a few 8.6 s clips at 44.1 kHz (decoding and
# resampling make each file take a few ms, so a --jobs 1 run lasts about a second).
BIG_FILES = 150
BIG_OPTIONS = ("--n-mels", "40")  # half the output bytes; still the W1 front end
INTERRUPT_AFTER = 5  # manifest lines before the signal is sent


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def fastmel_features(*args, cwd=None, stderr=subprocess.PIPE, timeout=180):
    """Run ``python -m fastmel features ARGS`` with no terminal attached."""
    return subprocess.run(
        [sys.executable, "-m", "fastmel", "features", *map(str, args)], cwd=cwd,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, text=True,
        timeout=timeout)


def _default_sigint():
    # A shell without job control starts background commands with SIGINT
    # ignored, and children inherit that (Python then never raises
    # KeyboardInterrupt); the run under test gets Ctrl-C as a terminal would.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_features(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "fastmel", "features", *map(str, args)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_default_sigint)


def summary(stderr):
    """(written, up to date, failed) from the summary line."""
    found = SUMMARY.findall(stderr)
    assert len(found) == 1, f"expected one summary line in:\n{stderr}"
    return tuple(int(n) for n in found[0])


def failed_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("failed: ")]


def manifest_lines(out):
    """Complete manifest lines as dicts (a torn last line of a killed run is left out)."""
    path = Path(out) / MANIFEST
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def latest_records(out):
    """output -> the last manifest record for it (the one a re-run trusts)."""
    return {r["output"]: r for r in manifest_lines(out)}


def npy_files(out):
    return {p.relative_to(out).as_posix() for p in Path(out).rglob("*.npy")}


def temp_dir_of(out):
    out = Path(out)
    return out.parent / f".{out.name}.fastmel-partial"


def read_like_features(path, sr=SR, mono=False):
    """The signal ``fastmel features`` analyses: float32, resampled with soxr, channels first."""
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    frames = data.shape[0]
    if rate != sr:
        data = soxr.resample(data, rate, sr)
    if data.shape[1] == 1:
        y = data[:, 0]
    elif mono:
        y = data.mean(axis=1)
    else:
        y = np.ascontiguousarray(data.T)
    return y, rate, frames


def reference(path, *, mfcc=0, dtype="float32", mono=False):
    """The library's features of one input file."""
    y, _, _ = read_like_features(path, mono=mono)
    if mfcc:
        extractor = fastmel.MFCC(n_mfcc=mfcc, top_db=80.0, **W1)
    else:
        extractor = fastmel.MelSpectrogram(to_db=True, top_db=80.0, **W1)
    return extractor(y).astype(dtype)


def assert_same_features(got, ref, *, mfcc=False):
    """Bit-identical: every process plans its FFTs from the same shipped wisdom."""
    assert got.shape == ref.shape and got.dtype == ref.dtype, (got.shape, got.dtype, ref.shape,
                                                               ref.dtype)
    assert np.array_equal(got, ref), "features differ between processes"


def assert_same_trees(out, expected_out):
    """Two OUT folders hold the same outputs (equal arrays) and the same manifest records
    (all fields but timing), one manifest record per output."""
    assert npy_files(out) == npy_files(expected_out)
    for rel in sorted(npy_files(out)):
        assert_same_features(np.load(out / rel), np.load(expected_out / rel))
    got, want = latest_records(out), latest_records(expected_out)
    assert set(got) == set(want) == npy_files(out)
    for key in want:
        a = {k: v for k, v in got[key].items() if k != "timing"}
        b = {k: v for k, v in want[key].items() if k != "timing"}
        assert a == b, key


def assert_clean_out(out):
    """OUT holds only finished outputs and the manifest: every .npy loads, and matches its
    manifest record when it has one.  Returns the outputs without a record."""
    out = Path(out)
    for path in out.rglob("*"):
        rel = path.relative_to(out).as_posix()
        assert not path.name.startswith("."), f"hidden entry under OUT: {rel}"
        if path.is_file():
            assert rel == MANIFEST or rel.endswith(".npy"), f"stray file under OUT: {rel}"
    records = latest_records(out)
    assert set(records) <= npy_files(out), "manifest lists outputs that do not exist"
    for rel in sorted(npy_files(out)):
        arr = np.load(out / rel)  # a truncated or half-written .npy raises here
        if rel in records:
            assert list(arr.shape) == records[rel]["shape"], rel
            assert str(arr.dtype) == records[rel]["dtype"], rel
    return npy_files(out) - set(records)


def stat_outputs(out):
    return {rel: (os.stat(out / rel).st_ino, os.stat(out / rel).st_mtime_ns)
            for rel in npy_files(out)}


# --------------------------------------------------------------------------- #
# Input folders
# --------------------------------------------------------------------------- #


def _bundled(sr):
    with (files("fastmel") / "data" / f"speech_{sr}.flac").open("rb") as fh:
        y, rate = sf.read(fh, dtype="float32")
    assert rate == sr
    return y


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """``good/`` (6 readable files) and ``mixed/`` (the same plus 3 unreadable ones)."""
    root = tmp_path_factory.mktemp("small")
    y16, y22 = _bundled(16000), _bundled(22050)
    y8 = soxr.resample(y16, 16000, 8000)
    y44 = soxr.resample(y22, 22050, 44100)
    if "VORBIS" in sf.available_subtypes("OGG"):
        c8 = ("sub/c_8k.ogg", y8[4000:16000], 8000, dict(format="OGG", subtype="VORBIS"))
    else:
        c8 = ("sub/c_8k.flac", y8[4000:16000], 8000, {})
    good = [
        ("a_16k.wav", y16[3200:19200], 16000, dict(subtype="PCM_16")),
        ("sub/b_22k.flac", y22[:33075], 22050, {}),
        c8,
        ("sub/deep/d_44k.wav", y44[:44100], 44100, dict(subtype="PCM_16")),
        ("sub/deep/e_16k.flac", y16[-40000:], 16000, {}),
        ("stereo_22k.wav", np.stack([y22[:22050], y22[44100:66150]], axis=1), 22050,
         dict(subtype="PCM_16")),
    ]
    for rel, y, rate, kwargs in good:
        path = root / "good" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(path), y, rate, **kwargs)
    shutil.copytree(root / "good", root / "mixed")
    bad = ["bad/corrupt.wav", "empty.flac", "sub/zero_frames.wav"]
    (root / "mixed" / "bad").mkdir()
    (root / "mixed" / bad[0]).write_bytes(np.random.default_rng(7).bytes(4096))
    (root / "mixed" / bad[1]).write_bytes(b"")
    sf.write(str(root / "mixed" / bad[2]), np.zeros((0, 1), np.float32), 16000,
             subtype="PCM_16")
    assert sf.info(str(root / "mixed" / bad[2])).frames == 0
    return SimpleNamespace(root=root, good_dir=root / "good", mixed=root / "mixed",
                           good=[g[0] for g in good], bad=bad)


@pytest.fixture(scope="module")
def cli_run(small, tmp_path_factory):
    """``cli_run(*options, source="mixed")``: one cached command run per option set."""
    cache = {}

    def get(*options, source="mixed"):
        key = (source, options)
        if key not in cache:
            out = tmp_path_factory.mktemp("run") / "feats"
            folder = small.mixed if source == "mixed" else small.good_dir
            cache[key] = SimpleNamespace(proc=fastmel_features(folder, "-o", out, *options),
                                         out=out)
        return cache[key]

    return get


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """BIG_FILES hard links (copies where links fail) to 3 FLAC clips, in 5 subfolders."""
    root = tmp_path_factory.mktemp("big")
    y44 = soxr.resample(_bundled(22050), 22050, 44100)
    sources = []
    for k in range(3):
        path = root / "sources" / f"clip{k}.flac"
        path.parent.mkdir(exist_ok=True)
        sf.write(str(path), np.roll(y44, 10000 * k), 44100)
        sources.append(path)
    folder = root / "audio"
    for i in range(BIG_FILES):
        link = folder / f"g{i % 5}" / f"c{i:03d}.flac"
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(sources[i % 3], link)
        except OSError:
            shutil.copyfile(sources[i % 3], link)
    return folder


@pytest.fixture(scope="module")
def big_clean(big, tmp_path_factory):
    """An uninterrupted run over the big folder (2 threads)."""
    out = tmp_path_factory.mktemp("big_clean") / "feats"
    proc = fastmel_features(big, "-o", out, "--jobs", "2", *BIG_OPTIONS)
    assert proc.returncode == 0, proc.stderr
    assert summary(proc.stderr) == (BIG_FILES, 0, 0)
    return out


def interrupt(big, out, sig):
    """Start a --jobs 1 run, send ``sig`` once INTERRUPT_AFTER outputs are in the manifest."""
    proc = start_features(big, "-o", out, "--jobs", "1", *BIG_OPTIONS)
    manifest = out / MANIFEST
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if manifest.exists() and manifest.read_bytes().count(b"\n") >= INTERRUPT_AFTER:
            break
        time.sleep(0.002)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0, (
        f"the run finished before it could be interrupted; make BIG_FILES larger\n{stderr}")
    return proc.returncode, stderr


@pytest.fixture(scope="module")
def sigint_snapshot(big, tmp_path_factory):
    """A run stopped by SIGINT, with OUT as the interruption left it."""
    out = tmp_path_factory.mktemp("sigint") / "feats"
    returncode, stderr = interrupt(big, out, signal.SIGINT)
    return SimpleNamespace(out=out, returncode=returncode, stderr=stderr,
                           npy=npy_files(out), recorded=set(latest_records(out)))


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip(
        "distributed", reason="--dask-scheduler needs dask[distributed] (the 'dask' extra)")
    # Port 0 everywhere: other clusters on this machine must not collide (or warn).
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  scheduler_port=0, dashboard_address=":0") as cluster:
        yield cluster


# --------------------------------------------------------------------------- #
# Outputs
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_outputs_equal_the_library(small, cli_run, variant):
    options, kwargs = VARIANTS[variant]
    run = cli_run(*options)
    assert npy_files(run.out) == {rel + ".npy" for rel in small.good}
    for rel in small.good:
        got = np.load(run.out / (rel + ".npy"))
        assert_same_features(got, reference(small.mixed / rel, **kwargs),
                             mfcc="mfcc" in kwargs)
    stereo = np.load(run.out / "stereo_22k.wav.npy")
    assert stereo.ndim == (2 if kwargs.get("mono") else 3)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_extract_in_process_equals_the_library_exactly(small, tmp_path, variant):
    """The Python entry point, two threads, in this process: same plans, same bytes."""
    _, kwargs = VARIANTS[variant]
    out = tmp_path / "feats"
    written, skipped, failures, _ = cli_features.extract(
        [str(small.mixed)], out, FeatureParams(**kwargs), jobs=2, quiet=True)
    assert (len(written), skipped, len(failures)) == (len(small.good), 0, len(small.bad))
    for rel in small.good:
        got = np.load(out / (rel + ".npy"))
        ref = reference(small.mixed / rel, **kwargs)
        assert got.dtype == ref.dtype and got.shape == ref.shape
        assert np.array_equal(got, ref), rel


def test_manifest_records(small, cli_run):
    run = cli_run()
    lines = manifest_lines(run.out)
    assert sorted(r["output"] for r in lines) == sorted(rel + ".npy" for rel in small.good)
    for record in lines:
        assert set(record) == RECORD_KEYS
        rel = record["output"][: -len(".npy")]
        source = small.mixed / rel
        assert Path(record["source"]).is_absolute()
        assert os.path.samefile(record["source"], source)
        st = os.stat(source)
        assert (record["source_size"], record["source_mtime_ns"]) == (st.st_size,
                                                                      st.st_mtime_ns)
        _, rate, frames = read_like_features(source)
        assert record["source_sample_rate"] == rate == sf.info(str(source)).samplerate
        assert record["sample_rate"] == SR
        assert record["duration"] == pytest.approx(frames / rate, abs=1e-6)
        arr = np.load(run.out / record["output"])
        assert record["shape"] == list(arr.shape)
        assert record["dtype"] == str(arr.dtype) == "float32"
        assert record["params_hash"] == FeatureParams().digest()
        assert set(record["timing"]) == TIMING_KEYS
        assert all(isinstance(v, float) and v >= 0 for v in record["timing"].values())
    rates = {r["source_sample_rate"] for r in lines}
    assert {16000, 22050, 44100, 8000} <= rates


def test_params_hash_follows_the_parameters(cli_run):
    hashes = {}
    for name, (options, kwargs) in VARIANTS.items():
        lines = manifest_lines(cli_run(*options).out)
        assert {r["params_hash"] for r in lines} == {FeatureParams(**kwargs).digest()}, name
        assert {r["dtype"] for r in lines} == {kwargs.get("dtype", "float32")}
        hashes[name] = lines[0]["params_hash"]
    assert len(set(hashes.values())) == len(VARIANTS), hashes


# --------------------------------------------------------------------------- #
# Failures, exit status, terminal
# --------------------------------------------------------------------------- #


def test_unreadable_files_are_reported_and_the_rest_complete(small, cli_run):
    run = cli_run()
    assert run.proc.returncode == 1, run.proc.stderr
    failed = failed_lines(run.proc.stderr)
    assert len(failed) == len(small.bad), run.proc.stderr
    for rel in small.bad:
        prefix = f"failed: {(small.mixed / rel).resolve()}: "
        [line] = [line for line in failed if line.startswith(prefix)]
        assert line[len(prefix):].strip(), f"no reason given for {rel}"
    assert summary(run.proc.stderr) == (len(small.good), 0, len(small.bad))
    assert npy_files(run.out) == {rel + ".npy" for rel in small.good}
    assert not temp_dir_of(run.out).exists()


def test_only_good_files_exit_zero(small, cli_run):
    run = cli_run(source="good")
    assert run.proc.returncode == 0, run.proc.stderr
    assert failed_lines(run.proc.stderr) == []
    assert summary(run.proc.stderr) == (len(small.good), 0, 0)
    assert npy_files(run.out) == {rel + ".npy" for rel in small.good}


def test_no_progress_bar_without_a_terminal(cli_run):
    run = cli_run()
    assert run.proc.stdout == ""
    assert "\r" not in run.proc.stderr
    for line in run.proc.stderr.splitlines():
        assert line.startswith("failed: ") or SUMMARY.match(line), line


def test_progress_bar_on_a_terminal(small, tmp_path):
    """The control for the test above: the same command with stderr on a pty draws the bar."""
    master, slave = pty.openpty()
    try:
        proc = fastmel_features(small.good_dir, "-o", tmp_path / "feats", stderr=slave)
    finally:
        os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the child's end is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    shown = b"".join(chunks).decode()
    assert proc.returncode == 0, shown
    assert "\r[" in shown and f"{len(small.good)}/{len(small.good)} files" in shown


# --------------------------------------------------------------------------- #
# Re-runs
# --------------------------------------------------------------------------- #


def test_rerun_skips_overwrite_and_new_parameters_recompute(small, tmp_path):
    out, n = tmp_path / "feats", len(small.good)
    first = fastmel_features(small.good_dir, "-o", out)
    assert first.returncode == 0 and summary(first.stderr) == (n, 0, 0), first.stderr
    stats, manifest = stat_outputs(out), (out / MANIFEST).read_bytes()

    again = fastmel_features(small.good_dir, "-o", out)
    assert again.returncode == 0 and summary(again.stderr) == (0, n, 0), again.stderr
    assert stat_outputs(out) == stats, "a re-run rewrote outputs"
    assert (out / MANIFEST).read_bytes() == manifest

    forced = fastmel_features(small.good_dir, "-o", out, "--overwrite")
    assert forced.returncode == 0 and summary(forced.stderr) == (n, 0, 0), forced.stderr
    new_stats = stat_outputs(out)
    assert set(new_stats) == set(stats)
    assert all(new_stats[rel][0] != stats[rel][0] for rel in stats), "outputs not rewritten"
    for rel in small.good:
        assert_same_features(np.load(out / (rel + ".npy")), reference(small.good_dir / rel))

    changed = fastmel_features(small.good_dir, "-o", out, "--n-mels", "40")
    assert changed.returncode == 0 and summary(changed.stderr) == (n, 0, 0), changed.stderr
    records = latest_records(out)
    assert {r["params_hash"] for r in records.values()} == {FeatureParams(n_mels=40).digest()}
    for rel, record in records.items():
        assert record["shape"][-2] == 40 == np.load(out / rel).shape[-2]

    same_again = fastmel_features(small.good_dir, "-o", out, "--n-mels", "40")
    assert summary(same_again.stderr) == (0, n, 0), same_again.stderr
    assert not temp_dir_of(out).exists()


def test_manifest_keeps_one_line_per_output_after_overwrite(small, tmp_path):
    out = tmp_path / "feats"
    for overwrite in (False, True):
        cli_features.extract([str(small.good_dir)], out, FeatureParams(), jobs=1,
                             overwrite=overwrite, quiet=True)
    assert len(manifest_lines(out)) == len(small.good)


def test_manifest_source_is_the_input_path_not_a_symlink_target(small, tmp_path):
    links = tmp_path / "links"
    links.mkdir()
    for name in ("one.wav", "two.wav"):
        (links / name).symlink_to(small.good_dir / "a_16k.wav")
    out = tmp_path / "feats"
    cli_features.extract([str(links)], out, FeatureParams(), jobs=1, quiet=True)
    sources = {r["output"]: r["source"] for r in manifest_lines(out)}
    assert sources == {"one.wav.npy": str((links / "one.wav").absolute()),
                       "two.wav.npy": str((links / "two.wav").absolute())}


def test_temp_files_stay_outside_out_when_out_is_the_current_folder(small, tmp_path,
                                                                    monkeypatch):
    out = tmp_path / "feats"
    out.mkdir()
    monkeypatch.chdir(out)
    temp_dirs = []
    process_file = cli_features.process_file

    def spy(source, rel, out_dir, tmp_dir, *args, **kwargs):
        temp_dirs.append(Path(tmp_dir).resolve())
        return process_file(source, rel, out_dir, tmp_dir, *args, **kwargs)

    monkeypatch.setattr(cli_features, "process_file", spy)
    cli_features.extract([str(small.good_dir)], ".", FeatureParams(), jobs=1, quiet=True)
    assert temp_dirs
    assert all(out.resolve() not in d.parents for d in temp_dirs), temp_dirs[0]


# --------------------------------------------------------------------------- #
# Interrupted runs
# --------------------------------------------------------------------------- #


def test_killed_run_leaves_no_partial_file_and_resumes(big, big_clean, tmp_path):
    out = tmp_path / "feats"
    returncode, stderr = interrupt(big, out, signal.SIGKILL)
    assert returncode == -signal.SIGKILL, stderr
    recorded = set(latest_records(out))
    assert INTERRUPT_AFTER <= len(recorded) < BIG_FILES
    # SIGKILL can land between a file's rename and its manifest line: such an output is
    # complete (checked by the load) and is recomputed by the next run.
    unrecorded = assert_clean_out(out)
    assert len(unrecorded) <= 2, unrecorded

    resumed = fastmel_features(big, "-o", out, "--jobs", "2", *BIG_OPTIONS)
    assert resumed.returncode == 0, resumed.stderr
    assert summary(resumed.stderr) == (BIG_FILES - len(recorded), len(recorded), 0)
    assert not temp_dir_of(out).exists()
    assert assert_clean_out(out) == set()
    assert_same_trees(out, big_clean)


def test_ctrl_c_exits_130_cleanly_and_resumes(big, big_clean, sigint_snapshot):
    snap = sigint_snapshot
    assert snap.returncode == 130, snap.stderr
    assert "interrupted" in snap.stderr
    assert "Traceback" not in snap.stderr
    assert not temp_dir_of(snap.out).exists(), "Ctrl-C left the temp folder behind"
    assert INTERRUPT_AFTER <= len(snap.recorded) < BIG_FILES
    assert_clean_out(snap.out)

    resumed = fastmel_features(big, "-o", snap.out, "--jobs", "2", *BIG_OPTIONS)
    assert resumed.returncode == 0, resumed.stderr
    assert summary(resumed.stderr) == (BIG_FILES - len(snap.recorded), len(snap.recorded), 0)
    assert assert_clean_out(snap.out) == set()
    assert_same_trees(snap.out, big_clean)


def test_ctrl_c_records_every_output_it_leaves(sigint_snapshot):
    assert sigint_snapshot.npy == sigint_snapshot.recorded


# --------------------------------------------------------------------------- #
# Dask
# --------------------------------------------------------------------------- #


def test_dask_scheduler_matches_the_threaded_run(small, cli_run, dask_cluster, tmp_path):
    local = cli_run()
    out = tmp_path / "feats"
    proc = fastmel_features(small.mixed, "-o", out, "--dask-scheduler",
                            dask_cluster.scheduler_address)
    assert proc.returncode == 1, proc.stderr
    assert summary(proc.stderr) == (len(small.good), 0, len(small.bad))
    failed = {line.split(": ")[1] for line in failed_lines(proc.stderr)}
    assert failed == {line.split(": ")[1] for line in failed_lines(local.proc.stderr)}
    assert not temp_dir_of(out).exists()
    assert_same_trees(out, local.out)
    assert len(manifest_lines(out)) == len(small.good)

    again = fastmel_features(small.mixed, "-o", out, "--dask-scheduler",
                             dask_cluster.scheduler_address)
    assert again.returncode == 1, again.stderr
    assert summary(again.stderr) == (0, len(small.good), len(small.bad))
    assert len(failed_lines(again.stderr)) == len(small.bad)


def test_dask_scheduler_with_relative_paths(small, dask_cluster):
    out = "dask_relative_feats"
    try:
        proc = fastmel_features("mixed", "-o", out, "--dask-scheduler",
                                dask_cluster.scheduler_address, cwd=small.root)
        assert len(failed_lines(proc.stderr)) == len(small.bad), proc.stderr
        assert npy_files(small.root / out) == {rel + ".npy" for rel in small.good}
    finally:
        shutil.rmtree(small.root / out, ignore_errors=True)
