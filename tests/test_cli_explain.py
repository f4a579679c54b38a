"""The ``fastmel`` command explains itself (issue 12): help text with defaults and
no reST markup, librosa's default window, negative SNRs, a manifest that records
parameters, rates, identities and failures in a stable order, and pictures that
draw silence dark, any file name, and no blank strips.

Most commands run in this process (``fastmel.cli.main``); the ones that need a
missing matplotlib, or must show matplotlib's warnings, run in a subprocess.
"""
import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
from importlib.resources import as_file, files

import numpy as np
import pytest
import soundfile as sf

from fastmel import cli
from fastmel.cli.features import MANIFEST, FeatureParams

SR = 16000
PLOT_HINT = "pip install 'fastmel[plot]'"
REST_MARKUP = re.compile(r"``|:(?:func|class|meth|mod|attr|data|obj):`")


def main(capsys, *argv):
    """``fastmel ARGV`` in this process: (exit status, stderr)."""
    status = cli.main([str(a) for a in argv])
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    return status, err


def subprocess_cli(cwd, *argv, blocked_dir=None):
    env = dict(os.environ)
    if blocked_dir is not None:
        (blocked_dir / "matplotlib.py").write_text(
            'raise ImportError("No module named \'matplotlib\' (blocked by the test)")\n')
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(blocked_dir), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "fastmel", *map(str, argv)], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=180)


def speech(seconds=1.0, sr=SR):
    with as_file(files("fastmel") / "data" / "speech_16000.flac") as path:
        y, rate = sf.read(str(path), dtype="float32")
    assert rate == SR
    y = y[SR // 2:SR // 2 + int(seconds * SR)]
    return y if sr == SR else _resample(y, sr)


def _resample(y, sr):
    import soxr

    return soxr.resample(y, SR, sr).astype(np.float32)


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def subparsers():
    parser = cli.build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, action.choices


# --------------------------------------------------------------------------- #
# --help
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("command", cli.SUBCOMMANDS)
def test_every_option_has_help_and_shows_its_default(command):
    _, parsers = subparsers()
    for action in parsers[command]._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        name = action.option_strings[-1]
        assert action.help and action.help.strip(), f"{command} {name} has no help"
        takes_value = action.nargs != 0
        if takes_value and not action.required:
            assert "default: " in action.help, f"{command} {name}: {action.help!r}"


@pytest.mark.parametrize("command", (None,) + cli.SUBCOMMANDS)
def test_help_is_plain_text(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"] if command is None else [command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert text.strip()
    assert not REST_MARKUP.search(text), REST_MARKUP.search(text).group()


def test_top_db_help_says_per_channel(capsys):
    with pytest.raises(SystemExit):
        cli.main(["features", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "per file" not in text
    assert "each channel" in text


def test_top_db_floors_each_channel(capsys, tmp_path):
    loud = speech()
    sf.write(tmp_path / "st.wav", np.stack([loud, 0.1 * loud], axis=1), SR, subtype="FLOAT")
    out = tmp_path / "out"
    assert main(capsys, "features", tmp_path / "st.wav", "-o", out, "-q")[0] == 0
    S = np.load(out / "st.wav.npy")
    assert S.shape[0] == 2
    for channel in S:
        # the floor is the channel's own maximum - 80 dB (float32 dB values)
        assert channel.min() == pytest.approx(channel.max() - 80.0, abs=1e-3)


# --------------------------------------------------------------------------- #
# --win-length: librosa's default
# --------------------------------------------------------------------------- #


def test_default_window_is_librosa_s(capsys, tmp_path):
    librosa = pytest.importorskip("librosa")
    y = speech(2.0)
    sf.write(tmp_path / "a.wav", y, SR, subtype="FLOAT")
    out = tmp_path / "out"
    assert main(capsys, "features", tmp_path / "a.wav", "-o", out, "-q")[0] == 0
    got = np.load(out / "a.wav.npy")
    ref = librosa.power_to_db(librosa.feature.melspectrogram(
        y=y.astype(np.float64), sr=SR, n_fft=512, hop_length=160, n_mels=80), top_db=80.0)
    # float32 path against a float64 reference: 7e-4 dB seen; a 400-sample window is off by > 1 dB
    assert np.max(np.abs(got - ref)) < 0.01
    [record] = records(out / MANIFEST)
    assert record["params"]["win_length"] == record["params"]["n_fft"] == 512


def test_given_window_length_equal_to_n_fft_is_the_same_job():
    assert FeatureParams().digest() == FeatureParams(win_length=512).digest()
    assert FeatureParams().digest() != FeatureParams(win_length=400).digest()
    assert FeatureParams(n_fft=1024).win_length == 1024


# --------------------------------------------------------------------------- #
# Negative SNRs
# --------------------------------------------------------------------------- #


@pytest.fixture()
def augment_inputs(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    sf.write(folder / "a.wav", speech(0.5), SR, subtype="FLOAT")
    noise = tmp_path / "noise.wav"
    sf.write(noise, 0.1 * np.random.default_rng(0).standard_normal(SR).astype(np.float32), SR,
             subtype="FLOAT")
    return folder, noise


@pytest.mark.parametrize("snr, low, high", [
    (["--snr", "-5:5"], -5.0, 5.0),
    (["--snr=-5:5"], -5.0, 5.0),
    (["--snr", "-3"], -3.0, -3.0),
    (["--snr", "-7.5:-2.5"], -7.5, -2.5),
    (["--snr", "12"], 12.0, 12.0),
])
def test_negative_snr_parses(capsys, tmp_path, augment_inputs, snr, low, high):
    folder, noise = augment_inputs
    out = tmp_path / "out"
    status, err = main(capsys, "augment", folder, "-o", out, "--noise", noise, *snr, "-q")
    assert status == 0, err
    [record] = records(out / "augment.jsonl")
    assert low <= record["snr_db"] <= high
    assert record["snr_range"] == [low, high]


# --------------------------------------------------------------------------- #
# The manifest
# --------------------------------------------------------------------------- #


@pytest.fixture()
def two_folders(tmp_path):
    """b/ holds two good files at 44.1 kHz; a/ one good file at 16 kHz and a broken one."""
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    sf.write(a / "x.wav", speech(0.5), SR)
    (a / "broken.wav").write_bytes(b"RIFF not really audio")
    for name in ("y.flac", "z.flac"):
        sf.write(b / name, speech(0.5, 44100), 44100)
    return a, b


def test_manifest_records_parameters_rates_identity_in_input_order(capsys, tmp_path,
                                                                    two_folders):
    a, b = two_folders
    out = tmp_path / "out"
    # b before a on the command line, one thread: completion order is b's files first.
    status, err = main(capsys, "features", b, a, "-o", out, "-j", "1", "-q")
    assert status == 1, err
    lines = records(out / MANIFEST)
    sources = [r["source"] for r in lines]
    assert sources == sorted(sources) and len(sources) == 3
    for record in lines:
        assert record["params"] == dataclasses.asdict(FeatureParams())
        assert record["params_hash"] == FeatureParams().digest()
        assert record["sample_rate"] == SR  # the features' rate
        st = os.stat(record["source"])
        assert (record["source_size"], record["source_mtime_ns"]) == (st.st_size,
                                                                      st.st_mtime_ns)
        expected_rate = 44100 if record["source"].endswith(".flac") else SR
        assert record["source_sample_rate"] == expected_rate
    [failure] = records(out / "manifest.failures.jsonl")
    assert failure["source"] == str((a / "broken.wav").absolute())
    assert "not readable as audio" in failure["error"]


def test_failures_file_goes_once_nothing_fails(capsys, tmp_path, two_folders):
    a, _ = two_folders
    out = tmp_path / "out"
    assert main(capsys, "features", a, "-o", out, "-q")[0] == 1
    assert (out / "manifest.failures.jsonl").exists()
    (a / "broken.wav").unlink()
    assert main(capsys, "features", a, "-o", out, "-q")[0] == 0
    assert not (out / "manifest.failures.jsonl").exists()


def test_augment_failures_are_listed(capsys, tmp_path, two_folders):
    a, _ = two_folders
    out = tmp_path / "aug"
    assert main(capsys, "augment", a, "-o", out, "--bandpass", "100:4000", "-q")[0] == 1
    [failure] = records(out / "augment.failures.jsonl")
    assert failure["source"].endswith("broken.wav")


def test_a_manifest_of_the_old_format_still_resumes(capsys, tmp_path, two_folders):
    _, b = two_folders
    out = tmp_path / "out"
    assert main(capsys, "features", b, "-o", out, "-q")[0] == 0
    manifest = out / MANIFEST
    old = []
    for record in records(manifest):
        # The earlier format: no parameters, the source's rate as sample_rate.
        record["sample_rate"] = record.pop("source_sample_rate")
        del record["params"]
        old.append(json.dumps(record))
    manifest.write_text("\n".join(old) + "\n")
    status, err = main(capsys, "features", b, "-o", out)
    assert status == 0 and "0 written, 2 up to date, 0 failed" in err, err


# --------------------------------------------------------------------------- #
# demo and show pictures
# --------------------------------------------------------------------------- #


def test_demo_output_without_matplotlib_fails_with_the_hint(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    result = subprocess_cli(tmp_path, "demo", "-q", "-o", "d.png", blocked_dir=blocked)
    assert result.returncode == 2, result.stderr
    assert PLOT_HINT in result.stderr
    assert not (tmp_path / "d.png").exists()


def test_demo_panels_share_the_time_axis_without_a_strip():
    from fastmel.cli.demo import picture_panels

    clean, degraded = np.zeros((80, 540)), np.ones((80, 590))
    panels = picture_panels(clean, degraded)
    assert [S.shape for _, S in panels] == [(80, 540), (80, 540)]


def test_colour_scale_puts_silence_at_the_bottom():
    from fastmel.cli.show import SILENCE_DB, colour_range

    silent = [("x", np.full((4, 5), SILENCE_DB))]
    assert colour_range(silent, 80.0) == (SILENCE_DB, SILENCE_DB + 80.0)
    loud = [("x", np.array([[-90.0, 10.0]]))]
    assert colour_range(loud, 80.0) == (-70.0, 10.0)


def test_show_draws_a_silent_file_dark(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image

    sf.write(tmp_path / "silent.wav", np.zeros(SR, np.float32), SR)
    result = subprocess_cli(tmp_path, "show", "silent.wav", "-o", "s.png", "-q")
    assert result.returncode == 0, result.stderr
    image = matplotlib.image.imread(tmp_path / "s.png")[..., :3]
    h, w = image.shape[:2]
    # The middle of the one panel: magma's bottom colour is near black, its top near white.
    middle = image[h // 3:2 * h // 3, w // 4:w // 2]
    assert middle.mean() < 0.1


def test_show_any_file_name_draws_without_missing_glyphs(tmp_path):
    pytest.importorskip("matplotlib")
    name = "声音 录音 $\\x$.wav"  # CJK, and a dollar pair that is not valid mathtext
    sf.write(tmp_path / name, speech(0.5), SR)
    result = subprocess_cli(tmp_path, "show", name)
    assert result.returncode == 0, result.stderr
    assert "missing from" not in result.stderr and "Glyph" not in result.stderr
    assert (tmp_path / (name + ".png")).stat().st_size > 10_000


def test_drawable_escapes_only_what_the_font_lacks():
    pytest.importorskip("matplotlib")
    from fastmel.cli.show import drawable

    assert drawable("café.wav") == "café.wav"
    assert drawable("声.wav") == "\\u58f0.wav"
    assert drawable("a$x$.wav") == "a\\$x\\$.wav"


# --------------------------------------------------------------------------- #
# bench
# --------------------------------------------------------------------------- #


def test_bench_tables_speak_in_measured_ratios():
    pytest.importorskip("benchmarks.report", reason="needs the source checkout")
    from benchmarks import report

    def bench(group, name, seconds, **extra):
        return {"group": group, "name": name, "stats": {"min": seconds}, "extra_info": extra}

    data = {"benchmarks": [
        bench("logmel-W1", "librosa", 0.5), bench("logmel-W1", "fastmel_extractor", 0.05),
        bench("logmel-W1", "fastmel_functions", 0.06), bench("logmel-W1", "fft_floor", 0.04),
        bench("logmel-W3", "fastmel_clips", 0.06), bench("logmel-W3", "fastmel_long", 0.05),
        bench("stream-W1", "fastmel_offline", 0.05, n_chunks=6000),
        bench("stream-W1", "fastmel_stream[160]", 0.06, n_chunks=6000),
        bench("convolver-256", "fastmel_convolver", 0.01, audio_seconds=10.0),
        bench("convolve", "fastmel_convolve", 0.02),
        bench("convolve", "scipy_fftconvolve", 0.04),
    ]}
    text = report.render(data, "python -m benchmarks.report")
    assert "10.00x" in text  # librosa / fastmel, measured
    assert not re.search(r"(?i:\btarget)|\bSPEC\b|met:", text), text
