"""``fastmel augment``, run as a subprocess on a small folder of real audio.

The corpus: the bundled speech clips cut short and written as FLAC PCM_16
(16 kHz), stereo WAV PCM_16 and mono WAV FLOAT (22.05 kHz) and AIFF PCM_24
(16 kHz), plus a corrupt file and an empty one; a synthetic RIR and white
noise at 16 kHz (so 22.05 kHz inputs exercise the resampling).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import fastmel
from fastmel.cli.augment import band_range, snr_range

GOOD = ("a.flac", "d.aiff", "sub/b.wav", "sub/c.wav")
BAD = ("bad/corrupt.wav", "bad/empty.wav")
RIR_LEN = 1600
LSB = {"PCM_16": 2.0 ** -15, "PCM_24": 2.0 ** -23, "FLOAT": 0.0}


def fastmel_augment(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "fastmel", "augment", *map(str, args)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=timeout)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("augment")
    data = Path(fastmel.__file__).parent / "data"
    # Halved so that reverberation and noise stay below full scale.
    y16 = 0.5 * sf.read(data / "speech_16000.flac", dtype="float32")[0]
    y22 = 0.5 * sf.read(data / "speech_22050.flac", dtype="float32")[0]
    src = root / "in"
    (src / "sub").mkdir(parents=True)
    (src / "bad").mkdir()
    sf.write(src / "a.flac", y16[:32000], 16000, subtype="PCM_16")
    sf.write(src / "d.aiff", y16[40000:56000], 16000, subtype="PCM_24")
    sf.write(src / "sub/b.wav", np.stack([y22[:33075], y22[60000:93075]], axis=1), 22050,
             subtype="PCM_16")
    sf.write(src / "sub/c.wav", y22[100000:130000], 22050, subtype="FLOAT")
    (src / "bad/corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" + bytes(range(256)))
    sf.write(src / "bad/empty.wav", np.zeros(0, np.float32), 16000, subtype="PCM_16")
    rng = np.random.default_rng(1234)
    rir = 0.05 * rng.standard_normal(RIR_LEN) * np.exp(-np.arange(RIR_LEN) / 250.0)
    rir[0] = 0.5
    sf.write(root / "rir.wav", rir.astype(np.float32), 16000, subtype="FLOAT")
    # Shorter than some inputs, so the noise is looped.
    noise = 0.1 * rng.standard_normal(24000)
    sf.write(root / "noise.wav", noise.astype(np.float32), 16000, subtype="FLOAT")
    return root


def manifest(out):
    with open(out / "augment.jsonl", encoding="utf-8") as fh:
        return {r["output"]: r for r in map(json.loads, fh)}


def tree(out):
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())


def read(path, dtype="float64"):
    y, sr = sf.read(path, dtype=dtype, always_2d=True)
    return y.T, sr


def full_args(corpus, out, seed=7, jobs=2):
    return [corpus / "in", "-o", out, "--rir", corpus / "rir.wav", "--noise",
            corpus / "noise.wav", "--snr", "0:20", "--bandpass", "100:6000",
            "--seed", seed, "--jobs", jobs]


@pytest.fixture(scope="module")
def full_run(corpus):
    out = corpus / "out_full"
    return out, fastmel_augment(*full_args(corpus, out))


def test_outputs_mirror_inputs(corpus, full_run):
    out, proc = full_run
    assert proc.returncode == 1, proc.stderr
    for bad in BAD:
        assert f"failed: {(corpus / 'in' / bad).resolve()}" in proc.stderr
    assert "4 written, 0 up to date, 2 failed" in proc.stderr
    # Only finished outputs and the manifest: nothing partial, nothing for bad inputs.
    assert tree(out) == sorted(GOOD + ("augment.jsonl", "augment.failures.jsonl"))
    assert not (corpus / ".out_full.fastmel-augment-partial").exists()
    records = manifest(out)
    assert sorted(records) == sorted(GOOD)
    for rel in GOOD:
        src, dst = sf.info(corpus / "in" / rel), sf.info(out / rel)
        assert (dst.format, dst.subtype, dst.samplerate, dst.channels, dst.frames) == \
            (src.format, src.subtype, src.samplerate, src.channels, src.frames)
        r = records[rel]
        assert r["source"] == str((corpus / "in" / rel).resolve())
        assert r["rir"] == str((corpus / "rir.wav").resolve())
        assert r["noise"] == str((corpus / "noise.wav").resolve())
        assert 0.0 <= r["snr_db"] <= 20.0 and r["gain"] > 0
        assert r["bandpass"] == [100.0, 6000.0] and r["seed"] == 7
        assert r["sample_rate"] == src.samplerate
        assert r["duration"] == pytest.approx(src.frames / src.samplerate)
        assert r["clipped_samples"] == 0


def test_same_seed_bit_identical_across_runs_and_jobs(corpus, full_run):
    out, _ = full_run
    again = corpus / "out_jobs1"
    proc = fastmel_augment(*full_args(corpus, again, jobs=1))
    assert proc.returncode == 1, proc.stderr
    for rel in GOOD:
        assert (again / rel).read_bytes() == (out / rel).read_bytes(), rel
    other = corpus / "out_seed8"
    proc = fastmel_augment(*full_args(corpus, other, seed=8))
    assert proc.returncode == 1, proc.stderr
    first, second = manifest(out), manifest(other)
    for rel in GOOD:
        assert first[rel]["snr_db"] != second[rel]["snr_db"]
        assert not np.array_equal(read(out / rel)[0], read(other / rel)[0]), rel


def test_rerun_skips_everything(corpus, full_run):
    out, _ = full_run
    before = {rel: (out / rel).stat().st_mtime_ns for rel in GOOD}
    lines = (out / "augment.jsonl").read_text()
    proc = fastmel_augment(*full_args(corpus, out))
    # The two bad inputs are retried and fail again.
    assert proc.returncode == 1, proc.stderr
    assert "0 written, 4 up to date, 2 failed" in proc.stderr
    assert {rel: (out / rel).stat().st_mtime_ns for rel in GOOD} == before
    assert (out / "augment.jsonl").read_text() == lines

    forced = corpus / "out_forced"
    shutil.copytree(out, forced)
    proc = fastmel_augment(*full_args(corpus, forced), "--overwrite")
    assert "4 written, 0 up to date" in proc.stderr
    for rel in GOOD:
        assert (forced / rel).read_bytes() == (out / rel).read_bytes(), rel
    changed = fastmel_augment(*full_args(corpus, forced, seed=9))
    assert "4 written, 0 up to date" in changed.stderr


def test_bandpass_only_equals_offline_bandpass(corpus):
    out = corpus / "out_bandpass"
    proc = fastmel_augment(corpus / "in", "-o", out, "--bandpass", "150:3400")
    assert proc.returncode == 1, proc.stderr
    for rel in GOOD:
        x, sr = read(corpus / "in" / rel, "float32")
        ref = fastmel.Bandpass(sr, 150, 3400)(x).astype(np.float64)
        got, _ = read(out / rel)
        assert got.shape == ref.shape
        subtype = sf.info(out / rel).subtype
        # Writing quantises to the subtype: libsndfile rounds to 16 bits, and for
        # 24 bits rounds to 32 and drops the low byte, so one step at most (FLOAT
        # holds the float32 result exactly).
        tol = LSB[subtype]
        assert np.max(np.abs(got - ref)) <= tol, (rel, subtype)


@pytest.mark.parametrize("room", [True, False], ids=["rir", "dry"])
def test_snr_matches_manifest(corpus, room):
    """Output minus the same run without noise is the noise alone."""
    rir = ["--rir", corpus / "rir.wav"] if room else []
    clean_out = corpus / f"out_clean_{room}"
    noisy_out = corpus / f"out_noisy_{room}"
    if room:
        assert fastmel_augment(corpus / "in", "-o", clean_out, *rir, "--seed", 3).returncode == 1
    proc = fastmel_augment(corpus / "in", "-o", noisy_out, *rir, "--noise", corpus / "noise.wav",
                           "--snr=-5:15", "--seed", 3)
    assert proc.returncode == 1, proc.stderr
    records = manifest(noisy_out)
    for rel in GOOD:
        clean, _ = read((clean_out if room else corpus / "in") / rel)
        noisy, _ = read(noisy_out / rel)
        added = noisy - clean
        measured = 10 * np.log10(np.mean(clean ** 2) / np.mean(added ** 2))
        r = records[rel]
        assert r["clipped_samples"] == 0 and -5 <= r["snr_db"] <= 15
        # The CLI measures the signal (reverberant, when there is a RIR) and the
        # noise segment exactly, so only the quantisation of both outputs to the
        # file's subtype (>= 60 dB below the noise here) and float32 rounding remain;
        # 0.05 dB is far above those and far below any misuse of the power estimate.
        assert abs(measured - r["snr_db"]) <= 0.05, (rel, measured, r["snr_db"])


def test_keep_tail_and_format(corpus):
    import soxr

    out = corpus / "out_tail"
    proc = fastmel_augment(corpus / "in", "-o", out, "--rir", corpus / "rir.wav",
                           "--keep-tail", "--format", "wav")
    assert proc.returncode == 1, proc.stderr
    expect = {"a.wav": "PCM_16", "d.wav": "PCM_24", "sub/b.wav": "PCM_16", "sub/c.wav": "FLOAT"}
    assert tree(out) == sorted(list(expect) + ["augment.jsonl", "augment.failures.jsonl"])
    # Resampled, the RIR gains a 0.5 ms lead (8 samples at its 16 kHz) before the change of rate.
    resampled = soxr.resample(np.zeros((RIR_LEN + 8, 1)), 16000, 22050).shape[0]
    for rel, src_rel in zip(expect, ("a.flac", "d.aiff", "sub/b.wav", "sub/c.wav")):
        src, dst = sf.info(corpus / "in" / src_rel), sf.info(out / rel)
        tail = (RIR_LEN if src.samplerate == 16000 else resampled) - 1
        assert (dst.format, dst.subtype, dst.channels) == ("WAV", expect[rel], src.channels)
        assert dst.frames == src.frames + tail
        assert manifest(out)[rel]["frames"] == dst.frames


def test_clipping_is_counted(corpus):
    out = corpus / "out_loud"
    loud = corpus / "loud_rir.wav"
    sf.write(loud, np.array([8.0, 0.0, 2.0], np.float32), 16000, subtype="FLOAT")
    # Taken as it is: unit energy would tame it.
    proc = fastmel_augment(corpus / "in" / "a.flac", corpus / "in" / "sub" / "c.wav",
                           "-o", out, "--rir", loud, "--rir-norm", "none")
    assert proc.returncode == 0, proc.stderr
    assert "2 written, 0 up to date, 0 failed, 1 clipped (" in proc.stderr
    records = manifest(out)
    # PCM_16 is clipped at full scale; FLOAT keeps the loud values.
    assert records["a.flac"]["clipped_samples"] > 0
    assert np.max(np.abs(read(out / "a.flac")[0])) <= 1.0
    assert records["c.wav"]["clipped_samples"] == 0
    assert np.max(np.abs(read(out / "c.wav")[0])) > 1.0


def test_bandpass_edge_above_nyquist_fails_that_file(corpus):
    out = corpus / "out_nyquist"
    proc = fastmel_augment(corpus / "in", "-o", out, "--bandpass", "100:9000")
    assert proc.returncode == 1
    for rel in ("a.flac", "d.aiff"):
        assert f"failed: {(corpus / 'in' / rel).resolve()}: --bandpass 100:9000 Hz " \
               f"is outside (0, 8000) Hz" in proc.stderr
    assert "2 written, 0 up to date, 4 failed" in proc.stderr
    assert tree(out) == ["augment.failures.jsonl", "augment.jsonl", "sub/b.wav", "sub/c.wav"]


@pytest.mark.parametrize("args, message", [
    (["--snr", "5:"], "expected two numbers"),
    (["--snr", "loud"], "argument --snr: expected LO:HI or one number"),
    (["--snr", "10:5"], "need LO <= HI"),
    (["--snr", "a:b"], "expected two numbers"),
    (["--bandpass", "300"], "argument --bandpass: expected LO:HI"),
    (["--bandpass", "3000:300"], "need 0 < LOW < HIGH"),
    (["--bandpass", "0:300"], "need 0 < LOW < HIGH"),
])
def test_bad_range_syntax_is_a_usage_error(corpus, args, message):
    proc = fastmel_augment(corpus / "in", "-o", corpus / "out_never", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (corpus / "out_never").exists()


def test_range_parsers():
    assert snr_range("-5:5") == (-5.0, 5.0)
    assert snr_range("10:10") == (10.0, 10.0)
    assert snr_range("-3") == (-3.0, -3.0)
    assert band_range("80.5:7600") == (80.5, 7600.0)


def test_bad_rir_or_noise_is_a_usage_error(corpus):
    out = corpus / "out_never"
    empty_dir = corpus / "no_audio"
    empty_dir.mkdir(exist_ok=True)
    garbage = corpus / "garbage.wav"
    garbage.write_bytes(os.urandom(64))
    cases = [
        (["--rir", corpus / "missing.wav"], "--rir"),
        (["--noise", corpus / "missing", "--snr", "0:10"], "no such file or folder"),
        (["--noise", empty_dir, "--snr", "0:10"], "no audio files in this folder"),
        (["--rir", garbage], "cannot read it as audio"),
        (["--noise", corpus / "noise.wav"], "--noise and --snr go together"),
    ]
    for args, message in cases:
        proc = fastmel_augment(corpus / "in", "-o", out, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
    assert not out.exists()
