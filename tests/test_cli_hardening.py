"""``fastmel features`` / ``augment`` on hostile inputs, options and outputs (issue 8).

Most runs call ``fastmel.cli.main`` in this process (fast, and faults can be injected
with monkeypatch); runs that could hang before the fixes (FIFOs, Dask peers) are
subprocesses with a timeout.  Network tests use local sockets on 127.0.0.1 only.
Tests run as root, so "permission denied" cannot come from chmod: it is injected by
replacing ``open`` / ``os.scandir`` / ``Path.mkdir`` for one path.
"""
import errno
import json
import os
import socket
import subprocess
import sys
import threading
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr

import fastmel
from fastmel import cli
from fastmel.cli import features as cli_features
from fastmel.cli.augment import AugmentParams, augment
from fastmel.cli.features import MANIFEST, FeatureParams, extract

SR = 16000
FAILURES = "manifest.failures.jsonl"  # beside the manifest, when a run had failures


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #


def speech(sr=SR, seconds=1.0, level=0.5):
    with (files("fastmel") / "data" / f"speech_{sr}.flac").open("rb") as fh:
        y, rate = sf.read(fh, dtype="float32")
    assert rate == sr
    start = sr // 2
    return level * y[start:start + int(seconds * sr)]


def main(capsys, *argv):
    """``fastmel ARGV`` in this process: (exit status, stderr lines)."""
    status = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return status, [line for line in err.splitlines() if line.strip()]


def subprocess_cli(*argv, timeout=120):
    return subprocess.run([sys.executable, "-m", "fastmel", *map(str, argv)],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def one_line(lines, prefix):
    """The single stderr line of a refused command, which must start with ``prefix``."""
    assert len(lines) == 1, lines
    assert lines[0].startswith(prefix), lines
    return lines[0]


def failed(lines):
    """{path: reason} from the ``failed: PATH: reason`` lines."""
    out = {}
    for line in lines:
        if line.startswith("failed: "):
            path, reason = line[len("failed: "):].split(": ", 1)
            out[path] = reason
    return out


def manifest_records(path):
    """Every manifest line parsed; each must be whole JSON ending in a newline."""
    text = Path(path).read_text(encoding="utf-8")
    assert text == "" or text.endswith("\n"), "torn last manifest line"
    return [json.loads(line) for line in text.splitlines()]


def files_under(folder):
    return sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*")
                  if p.is_file())


@pytest.fixture
def good(tmp_path):
    """Three short readable files in a folder."""
    folder = tmp_path / "good"
    (folder / "sub").mkdir(parents=True)
    y = speech()
    sf.write(folder / "a.wav", y, SR, subtype="PCM_16")
    sf.write(folder / "b.flac", y[::-1].copy(), SR)
    sf.write(folder / "sub" / "c.wav", y[:8000], SR, subtype="FLOAT")
    return folder


# --------------------------------------------------------------------------- #
# Finding 2 and 11: never write non-finite audio or features
# --------------------------------------------------------------------------- #


def test_augment_refuses_a_bandpass_order_beyond_its_limit_up_front(capsys, good, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        cli.main(["augment", str(good), "-o", str(out), "--bandpass", "100:7000",
                  "--bandpass-order", "200"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --bandpass-order: expected an integer from 1 to 32, got '200'" in err
    assert not out.exists()


class _BrokenBandpass:
    """A band-pass stage that breaks mid-file: finite input, NaN output (what an
    unstable high-order design gave before the library refused such orders)."""

    def __init__(self, *args, **kwargs):
        self._inner = _REAL_BANDPASS(*args, **kwargs)

    def process(self, chunk):
        out = self._inner.process(chunk)
        out[..., out.shape[-1] // 2:] = np.nan
        return out

    def flush(self):
        return self._inner.flush()

    def reset(self):
        self._inner.reset()

    @property
    def latency(self):
        return self._inner.latency


_REAL_BANDPASS = fastmel.Bandpass


@pytest.mark.parametrize("name, subtype", [("pcm.wav", "PCM_16"), ("float.wav", "FLOAT"),
                                           ("lossless.flac", "PCM_16")])
def test_augment_never_writes_non_finite_audio(tmp_path, monkeypatch, name, subtype):
    """Whatever a stage returns, non-finite audio is a failure with a one-line reason
    and nothing is written (it used to become NaN, -1.0 in PCM, or a bare
    AssertionError for FLAC)."""
    monkeypatch.setattr(fastmel, "Bandpass", _BrokenBandpass)
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / name, speech(), SR, subtype=subtype)
    out = tmp_path / "out"
    written, skipped, failures, _ = augment(
        [str(folder)], out, AugmentParams(bandpass=(100.0, 7000.0), order=4), jobs=1,
        quiet=True)
    assert (written, skipped) == ([], 0)
    [(source, reason)] = failures
    assert Path(source) == (folder / name).absolute()
    assert reason.strip() and "\n" not in reason and not reason.startswith("AssertionError")
    assert "non-finite" in reason
    assert files_under(out) == ["augment.failures.jsonl", "augment.jsonl"]
    assert manifest_records(out / "augment.jsonl") == []


def test_library_refuses_or_keeps_finite_high_order_bandpass():
    """The Python entry point has no option limit on the order: the library either
    refuses an order with a ParameterError or gives finite output for finite input."""
    x = speech()
    for order in (158, 200, 300, 501):
        try:
            bp = fastmel.Bandpass(SR, 100.0, 7000.0, order=order)
        except fastmel.ParameterError as err:
            assert "order" in str(err)
            continue
        assert np.isfinite(bp.process(x)).all(), order


@pytest.fixture
def too_loud(tmp_path):
    """A float WAV at +-3e38: finite samples whose power overflows float32."""
    folder = tmp_path / "loud"
    folder.mkdir()
    y = np.where(np.arange(SR) < SR // 2, 3e38, -3e38).astype(np.float32)
    sf.write(folder / "loud.wav", y, SR, subtype="FLOAT")
    assert np.isfinite(sf.read(folder / "loud.wav", dtype="float32")[0]).all()
    return folder / "loud.wav"


def test_features_never_records_non_finite_features(capsys, too_loud, good, tmp_path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.link(too_loud, inputs / "loud.wav")
    os.link(good / "a.wav", inputs / "a.wav")
    out = tmp_path / "feats"
    status, lines = main(capsys, "features", inputs, "-o", out)
    assert status == 1
    reasons = failed(lines)
    assert list(reasons) == [str(inputs / "loud.wav")]
    # The library refuses samples whose power would overflow; the command's own
    # check of the features catches whatever might still get through.
    reason = reasons[str(inputs / "loud.wav")]
    assert "non-finite" in reason or "scale the signal down" in reason, reason
    assert files_under(out) == sorted([MANIFEST, FAILURES, "a.wav.npy"])
    assert [r["output"] for r in manifest_records(out / MANIFEST)] == ["a.wav.npy"]


def test_augment_never_records_non_finite_audio(capsys, too_loud, tmp_path):
    rir = tmp_path / "rir.wav"
    sf.write(rir, np.array([1.0, 0.5], np.float32), SR, subtype="FLOAT")
    out = tmp_path / "aug"
    status, lines = main(capsys, "augment", too_loud, "-o", out, "--rir", rir)
    assert status == 1
    assert "non-finite" in failed(lines)[str(too_loud)]
    assert files_under(out) == ["augment.failures.jsonl", "augment.jsonl"]


# --------------------------------------------------------------------------- #
# Finding 4: the room's level does not depend on the input's rate
# --------------------------------------------------------------------------- #


def power(y):
    return float(np.mean(np.square(y, dtype=np.float64)))


@pytest.fixture(scope="module")
def room(tmp_path_factory):
    """Band-limited speech at 16, 22.05 and 48 kHz (content below 6 kHz, so every rate
    holds all of it) and a peak-normalised 16 kHz RIR with a strong direct path."""
    root = tmp_path_factory.mktemp("room")
    y = soxr.resample(soxr.resample(speech(seconds=3.0, level=0.25), SR, 12000), 12000, SR)
    for rate in (16000, 22050, 48000):
        folder = root / f"in{rate}"
        folder.mkdir()
        sf.write(folder / "x.wav", y if rate == SR else soxr.resample(y, SR, rate), rate,
                 subtype="FLOAT")
    rng = np.random.default_rng(5)
    h = rng.standard_normal(4000) * np.exp(-np.arange(4000) / 600.0)
    h[0] = 3.0
    h /= np.max(np.abs(h))
    sf.write(root / "rir.wav", h.astype(np.float32), SR, subtype="FLOAT")
    return root, h


@pytest.mark.parametrize("norm", ["energy", "none"])
def test_room_level_does_not_depend_on_the_input_rate(capsys, room, norm):
    root, h = room
    change, scales = {}, {}
    for rate in (16000, 22050, 48000):
        out = root / f"out_{norm}_{rate}"
        status, _ = main(capsys, "augment", root / f"in{rate}", "-o", out, "--rir",
                         root / "rir.wav", "--rir-norm", norm)
        assert status == 0
        x, _ = sf.read(root / f"in{rate}" / "x.wav")
        y, _ = sf.read(out / "x.wav")
        change[rate] = 10 * np.log10(power(y) / power(x))
        [record] = manifest_records(out / "augment.jsonl")
        scales[rate] = record["rir_scale"]
    # What remains is soxr's band edge and the 0.5 ms of resampler ringing kept before a
    # resampled RIR (measured below 0.005 dB); before the rate correction 48 kHz input
    # got +4.8 dB more than 16 kHz input.
    assert max(change.values()) - min(change.values()) <= 0.02, change
    energy = 1.0 / np.sqrt(np.sum(h.astype(np.float32).astype(np.float64) ** 2))
    for rate, scale in scales.items():
        expected = (energy if norm == "energy" else 1.0) * SR / rate
        # the command forms the same float64 product from the same float32 taps, in
        # another order: rounding only (1e-9 is far above float64's 1e-16)
        assert scale == pytest.approx(expected, rel=1e-9), rate


def test_energy_normalised_room_keeps_speech_from_clipping(capsys, room, tmp_path):
    root, _ = room
    folder = tmp_path / "pcm"
    folder.mkdir()
    sf.write(folder / "x.wav", speech(level=0.5), SR, subtype="PCM_16")
    status, lines = main(capsys, "augment", folder, "-o", tmp_path / "default", "--rir",
                         root / "rir.wav")
    assert status == 0 and "0 clipped;" in lines[-1], lines
    status, lines = main(capsys, "augment", folder, "-o", tmp_path / "as_is", "--rir",
                         root / "rir.wav", "--rir-norm", "none")
    [record] = manifest_records(tmp_path / "as_is" / "augment.jsonl")
    assert status == 0 and record["clipped_samples"] > 0
    assert (f"1 clipped ({record['clipped_samples']} samples hard-clipped at full scale"
            in lines[-1]), lines


# --------------------------------------------------------------------------- #
# Finding 5: nothing in a folder is skipped in silence
# --------------------------------------------------------------------------- #


@pytest.fixture
def odd_tree(tmp_path, good):
    """A folder with a symlinked subfolder, a broken link, a self-loop, a link to a
    folder above it and a FIFO named like audio."""
    root = tmp_path / "tree"
    root.mkdir()
    os.link(good / "a.wav", root / "a.wav")
    (root / "linked").symlink_to(good / "sub", target_is_directory=True)
    (root / "broken.wav").symlink_to(tmp_path / "missing.wav")
    (root / "loop").symlink_to(root / "loop")
    (root / "deep").mkdir()
    (root / "deep" / "up").symlink_to(root, target_is_directory=True)
    os.mkfifo(root / "pipe.wav")
    return root


@pytest.mark.parametrize("command", ["features", "augment"])
def test_folders_are_followed_and_unreadable_entries_reported(odd_tree, tmp_path, command):
    out = tmp_path / "out"
    extra = ("--bandpass", "100:4000") if command == "augment" else ()
    # A subprocess: reading the FIFO would block forever.
    proc = subprocess_cli(command, odd_tree, "-o", out, *extra, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    reasons = failed(proc.stderr.splitlines())
    assert set(reasons) == {str(odd_tree / n) for n in ("broken.wav", "loop", "deep/up",
                                                        "pipe.wav")}, proc.stderr
    assert "broken symbolic link" in reasons[str(odd_tree / "broken.wav")]
    assert "symbolic link loop" in reasons[str(odd_tree / "loop")]
    assert "leads back to a folder above it" in reasons[str(odd_tree / "deep/up")]
    assert "FIFO" in reasons[str(odd_tree / "pipe.wav")]
    outputs = {"a.wav", "linked/c.wav"}
    if command == "features":
        outputs = {f"{o}.npy" for o in outputs}
    assert set(files_under(out)) - {MANIFEST, FAILURES, "augment.jsonl",
                                    "augment.failures.jsonl"} == outputs
    assert "2 written, 0 up to date, 4 failed" in proc.stderr


def test_folder_that_cannot_be_listed_is_a_failure(good, tmp_path, monkeypatch):
    """As root every folder can be listed: os.scandir is made to refuse one."""
    blocked = good / "sub"
    real_scandir = os.scandir

    def scandir(path="."):
        if not isinstance(path, int) and Path(path) == blocked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    written, _, failures, _ = extract([str(good)], tmp_path / "out", FeatureParams(),
                                      jobs=1, quiet=True)
    assert sorted(r["output"] for r in written) == ["a.wav.npy", "b.flac.npy"]
    assert failures == [(blocked.absolute(), "cannot list this folder: permission denied")]


# --------------------------------------------------------------------------- #
# Finding 6: a Dask scheduler that is not one fails fast, in one line
# --------------------------------------------------------------------------- #


class _Peer:
    """A local TCP server on 127.0.0.1 that accepts and then stays silent, or sends
    ``reply`` (another protocol) and keeps the connection open."""

    def __init__(self, reply=None):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.reply, self.conns = reply, []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.reply:
                conn.sendall(self.reply)

    def close(self):
        for conn in self.conns:
            conn.close()
        self.sock.close()


def _refusing_socket():
    """A socket bound to a free port but not listening: connections to it are
    refused, and no other process can take the port while it stays open."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s


@pytest.mark.parametrize("peer, expected", [
    ("silent", "no answer within 5 s"),
    ("http", "speaks another protocol"),
    ("refused", "connection refused"),
    ("not-an-address", "not a scheduler address"),
    ("inproc://x", "inproc:// addresses cannot be reached"),
])
def test_dask_scheduler_that_is_not_one_fails_in_one_line(good, tmp_path, peer, expected):
    pytest.importorskip("distributed", reason="--dask-scheduler needs dask[distributed]")
    server = None
    if peer in ("silent", "http"):
        server = _Peer(b"HTTP/1.1 400 Bad Request\r\n\r\n" * 8 if peer == "http" else None)
        address = f"tcp://127.0.0.1:{server.port}"
    elif peer == "refused":
        server = _refusing_socket()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    else:
        address = peer
    out = tmp_path / "out"
    try:
        # Before the fix the silent peer hung the command for good: the timeout fails it.
        proc = subprocess_cli("features", good, "-o", out, "--dask-scheduler", address,
                              timeout=60)
    finally:
        if server is not None:
            server.close()
    assert proc.returncode == 2, proc.stderr
    line = one_line(proc.stderr.splitlines(), "fastmel features: ")
    assert expected in line
    assert not out.exists()


# --------------------------------------------------------------------------- #
# Finding 7: output-side faults
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("case", ["existing file", "under a file", "name too long"])
def test_unusable_output_folder_is_one_line(capsys, good, tmp_path, case):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    out = {"existing file": a_file, "under a file": a_file / "feats",
           "name too long": tmp_path / ("x" * 300)}[case]
    before = files_under(tmp_path)
    status, lines = main(capsys, "features", good, "-o", out)
    assert status == 2
    one_line(lines, f"fastmel features: cannot make the output folder {out}: ")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("blocked", ["out", "temporary folder"])
def test_output_folder_under_a_read_only_parent_is_one_line(capsys, good, tmp_path,
                                                            monkeypatch, blocked):
    """As root every folder is writable: Path.mkdir is made to refuse one."""
    out = tmp_path / "feats"
    target = out if blocked == "out" else tmp_path / ".feats.fastmel-partial"
    if blocked != "out":
        out.mkdir()
    real_mkdir = Path.mkdir

    def mkdir(self, *args, **kwargs):
        if self == target:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    status, lines = main(capsys, "features", good, "-o", out)
    assert status == 2
    assert "permission denied" in one_line(lines, "fastmel features: cannot make the ")
    assert not target.exists()


def test_manifest_that_is_a_folder_is_one_line(capsys, good, tmp_path):
    out = tmp_path / "feats"
    (out / MANIFEST).mkdir(parents=True)
    status, lines = main(capsys, "features", good, "-o", out)
    assert status == 2
    one_line(lines, f"fastmel features: {out / MANIFEST} is not a regular file")
    assert files_under(tmp_path / "feats") == []
    assert not (tmp_path / ".feats.fastmel-partial").exists()


def test_disk_full_on_the_manifest_keeps_it_whole_and_leaves_nothing_partial(
        capsys, good, tmp_path, monkeypatch):
    """The second manifest line gets half written, then the disk is full."""
    out = tmp_path / "feats"
    real_write = os.write
    calls = []

    def write(fd, data):
        if not os.readlink(f"/proc/self/fd/{fd}").endswith(MANIFEST):
            return real_write(fd, data)
        calls.append(len(data))
        if len(calls) == 2:
            return real_write(fd, bytes(data[:len(data) // 2]))
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    status, lines = main(capsys, "features", good, "-o", out, "--jobs", "1")
    monkeypatch.undo()
    assert status == 1
    reasons = failed(lines)
    assert list(reasons) == [str(out / MANIFEST)], lines
    assert "no space left on device" in reasons[str(out / MANIFEST)]
    records = manifest_records(out / MANIFEST)
    assert len(records) == 1
    # Only recorded outputs remain; no temporary file or folder.
    assert files_under(out) == sorted([MANIFEST, FAILURES, records[0]["output"]])
    assert not (tmp_path / ".feats.fastmel-partial").exists()
    status, lines = main(capsys, "features", good, "-o", out)
    assert status == 0 and "2 written, 1 up to date, 0 failed" in lines[-1], lines
    assert len(manifest_records(out / MANIFEST)) == 3


def test_disk_full_on_an_output_leaves_nothing_partial(capsys, good, tmp_path, monkeypatch):
    out = tmp_path / "feats"

    def save(fh, array):
        fh.write(b"\x93NUMPY partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cli_features.np, "save", save)
    status, lines = main(capsys, "features", good, "-o", out)
    monkeypatch.undo()
    assert status == 1
    reasons = failed(lines)
    assert len(reasons) == 3 and all("no space left on device" in r for r in reasons.values())
    assert files_under(out) == sorted([MANIFEST, FAILURES])
    assert not (tmp_path / ".feats.fastmel-partial").exists()


# --------------------------------------------------------------------------- #
# Finding 8: resume, empty inputs, OUT among the inputs
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("change", ["same size, new time", "new size, old time"])
def test_changed_source_is_recomputed(capsys, good, tmp_path, change):
    out = tmp_path / "feats"
    assert main(capsys, "features", good, "-o", out)[0] == 0
    source = good / "a.wav"
    old = os.stat(source)
    y = -speech() if change.startswith("same") else speech(seconds=0.5)
    sf.write(source, y, SR, subtype="PCM_16")
    if change.startswith("same"):
        assert os.stat(source).st_size == old.st_size
        os.utime(source, ns=(old.st_atime_ns, old.st_mtime_ns + 10**9))
    else:
        os.utime(source, ns=(old.st_atime_ns, old.st_mtime_ns))
    status, lines = main(capsys, "features", good, "-o", out)
    assert status == 0 and "1 written, 2 up to date, 0 failed" in lines[-1], lines
    x, _ = sf.read(source, dtype="float32")
    ref = fastmel.MelSpectrogram(sr=SR, n_fft=512, win_length=512, hop_length=160, n_mels=80,
                                 to_db=True, top_db=80.0)(x)
    assert np.array_equal(np.load(out / "a.wav.npy"), ref)


def test_augment_recomputes_a_changed_source(capsys, good, tmp_path):
    out = tmp_path / "aug"
    assert main(capsys, "augment", good, "-o", out, "--bandpass", "100:4000")[0] == 0
    sf.write(good / "b.flac", speech(seconds=0.25), SR)
    status, lines = main(capsys, "augment", good, "-o", out, "--bandpass", "100:4000")
    assert status == 0 and "1 written, 2 up to date, 0 failed" in lines[-1], lines
    assert sf.info(out / "b.flac").frames == SR // 4


@pytest.mark.parametrize("command", ["features", "augment"])
def test_folder_without_audio_fails_and_makes_nothing(capsys, tmp_path, command):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "notes.txt").write_text("no audio here")
    out = tmp_path / "out"
    status, lines = main(capsys, command, folder, "-o", out)
    assert status == 1
    assert failed(lines) == {str(folder): "no audio files in this folder (none with an audio "
                                          "extension such as .wav, .flac or .ogg)"}
    assert not out.exists()


@pytest.mark.parametrize("command", ["features", "augment"])
@pytest.mark.parametrize("where", ["the input", "its parent"])
def test_output_folder_among_the_inputs_is_refused(capsys, good, command, where):
    out = good if where == "the input" else good.parent
    before = {p: p.stat().st_mtime_ns for p in good.rglob("*")}
    status, lines = main(capsys, command, good, "-o", out)
    assert status == 2
    line = one_line(lines, f"fastmel {command}: -o {out} ")
    assert "outputs would mix with the inputs" in line
    assert {p: p.stat().st_mtime_ns for p in good.rglob("*")} == before
    assert not any(p.name.startswith(".") for p in good.parent.iterdir())


def test_output_folder_inside_an_input_folder_still_works(capsys, good):
    status, lines = main(capsys, "features", good, "-o", good / "feats")
    assert status == 0 and "3 written, 0 up to date, 0 failed" in lines[-1], lines
    status, lines = main(capsys, "features", good, "-o", good / "feats")
    assert status == 0 and "0 written, 3 up to date, 0 failed" in lines[-1], lines


# --------------------------------------------------------------------------- #
# Finding 9: impossible sizes refused up front
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("command, option, value, message", [
    ("features", "--sr", "1000000000", "expected an integer from 1000 to 384000"),
    ("features", "--sr", "999", "expected an integer from 1000 to 384000"),
    ("features", "--n-fft", str(2 ** 40), "expected an integer from 1 to 65536"),
    ("features", "--hop", str(2 ** 63), "expected an integer from 1 to 1048576"),
    ("features", "--n-mels", str(10 ** 7), "expected an integer from 1 to 1024"),
    ("features", "--fmin", "nan", "expected a finite number"),
    ("show", "--sr", "1000000000", "expected an integer from 1000 to 384000"),
    ("show", "--n-fft", str(2 ** 40), "expected an integer from 1 to 65536"),
])
def test_impossible_sizes_are_refused_up_front(capsys, good, tmp_path, command, option, value,
                                               message):
    out = tmp_path / "out"
    target = (good / "a.wav") if command == "show" else good
    with pytest.raises(SystemExit) as exc:
        cli.main([command, str(target), "-o", str(out), option, value])
    assert exc.value.code == 2
    assert f"argument {option}: {message}, got '{value}'" in capsys.readouterr().err
    assert not out.exists()


def test_mfcc_beyond_n_mels_is_refused_up_front(capsys, good, tmp_path):
    status, lines = main(capsys, "features", good, "-o", tmp_path / "out", "--mfcc", "81")
    assert status == 2
    one_line(lines, "fastmel features: --mfcc must be an integer from 0 to 80, got 81")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- #
# Finding 11: truncated files, permission denied, name collisions
# --------------------------------------------------------------------------- #


@pytest.fixture
def truncated(tmp_path):
    """A PCM WAV and an AIFF cut in half (headers promise twice what the files hold)."""
    folder = tmp_path / "cut"
    folder.mkdir()
    for name in ("cut.wav", "cut.aiff"):
        sf.write(folder / name, speech(), SR, subtype="PCM_16")
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[:len(data) // 2])
        assert sf.info(folder / name).frames > 0  # soundfile reads the rest without a word
    return folder


@pytest.mark.parametrize("command", ["features", "augment"])
def test_truncated_files_are_failures(capsys, truncated, tmp_path, command):
    out = tmp_path / "out"
    extra = ("--bandpass", "100:4000") if command == "augment" else ()
    status, lines = main(capsys, command, truncated, "-o", out, *extra)
    assert status == 1
    reasons = failed(lines)
    assert set(reasons) == {str(truncated / "cut.wav"), str(truncated / "cut.aiff")}
    assert all(r.startswith("truncated: its header declares ") for r in reasons.values())
    assert files_under(out) == ([FAILURES, MANIFEST] if command == "features"
                                else ["augment.failures.jsonl", "augment.jsonl"])


@pytest.mark.parametrize("command", ["features", "augment"])
def test_unreadable_file_says_permission_denied(capsys, good, tmp_path, monkeypatch, command):
    import builtins

    blocked = good / "a.wav"
    real_open = builtins.open

    def fake_open(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file) == blocked.absolute():
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    extra = ("--bandpass", "100:4000") if command == "augment" else ()
    status, lines = main(capsys, command, good, "-o", tmp_path / "out", *extra)
    monkeypatch.undo()
    assert status == 1
    assert failed(lines) == {str(blocked): "permission denied"}


def test_name_collision_names_both_files(capsys, tmp_path):
    folder = tmp_path / "pair"
    folder.mkdir()
    sf.write(folder / "x.flac", speech(), SR)
    sf.write(folder / "x.wav", speech(), SR, subtype="PCM_16")
    status, lines = main(capsys, "augment", folder, "-o", tmp_path / "out", "--format", "wav",
                         "--bandpass", "100:4000")
    assert status == 1
    assert failed(lines) == {str(folder / "x.wav"): (
        f"its output x.wav is also the output of {folder / 'x.flac'}, which was kept; "
        f"rename one of the two")}
