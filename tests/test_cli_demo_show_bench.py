"""The ``fastmel demo``, ``fastmel show`` and ``fastmel bench`` commands, run as
the installed command in a subprocess (``python -m fastmel``) in a temporary folder.

Exit codes, what the commands print, the pictures they write (PNG signature,
size, decoded shape), the paths without matplotlib (a ``matplotlib`` module that
raises ImportError is put first on PYTHONPATH) and without the benchmark peers.
Timings are printed by bench but never asserted; bench runs the checkout's benchmark suite.
"""
import os
import pathlib
import subprocess
import sys
from importlib.resources import as_file, files

import numpy as np
import pytest
import soundfile as sf

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOT_HINT = "pip install 'fastmel[plot]'"
TIMEOUT = 120  # seconds per command; each takes a few


def fastmel_cmd(cwd, *args, blocked=(), blocked_dir=None):
    """Run ``python -m fastmel ARGS`` in cwd; modules named in ``blocked`` fail to import."""
    env = dict(os.environ)
    if blocked:
        for name in blocked:
            (blocked_dir / f"{name}.py").write_text(
                f'raise ImportError("No module named {name!r} (blocked by the test)")\n')
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(blocked_dir), env.get("PYTHONPATH")) if p)
    return subprocess.run([sys.executable, "-m", "fastmel", *args], cwd=cwd, env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=TIMEOUT)


def assert_png(path, min_height, min_width):
    """A real PNG that matplotlib decodes to an image of at least the given size."""
    import matplotlib.image

    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 10_000  # a drawn spectrogram, not an empty canvas
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4)
    assert image.shape[0] >= min_height and image.shape[1] >= min_width
    assert np.ptp(image[..., :3]) > 0.5  # not a blank picture
    return image


@pytest.fixture(scope="module")
def stereo_wav(tmp_path_factory):
    """2 s at 44.1 kHz: a 440 Hz tone on the left, seeded noise on the right."""
    path = tmp_path_factory.mktemp("audio") / "stereo.wav"
    sr = 44100
    t = np.arange(2 * sr) / sr
    noise = 0.1 * np.random.default_rng(0).standard_normal(t.size)
    sf.write(path, np.stack([0.5 * np.sin(2 * np.pi * 440 * t), noise], axis=1), sr)
    return path


# --------------------------------------------------------------------------- #
# demo
# --------------------------------------------------------------------------- #

def test_demo_runs_the_chain_and_writes_a_png(tmp_path):
    result = fastmel_cmd(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for stage in ("Convolver", "RT60 0.4 s", "NoiseMixer", "10 dB SNR", "Bandpass",
                  "200-4000 Hz", "MelSpectrogram", "n_fft 512", "win 400", "hop 160", "80 mels"):
        assert stage in out, stage
    # clean and degraded log-mel, each streamed in 10 ms buffers and checked against offline
    assert out.count("streamed == offline: bit for bit") == 2
    assert "MISMATCH" not in out
    assert out.count("x real time") >= 2
    assert "fastmel-demo.png" in out
    image = assert_png(tmp_path / "fastmel-demo.png", min_height=400, min_width=800)
    assert image.shape[0] < image.shape[1]  # two panels stacked on a wide figure


def test_demo_output_option_and_quiet(tmp_path):
    result = fastmel_cmd(tmp_path, "demo", "--quiet", "--output", "picture.png")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert_png(tmp_path / "picture.png", min_height=400, min_width=800)
    assert not (tmp_path / "fastmel-demo.png").exists()


def test_demo_without_matplotlib_gives_the_install_hint(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    result = fastmel_cmd(tmp_path, "demo", blocked=["matplotlib"], blocked_dir=blocked)
    assert result.returncode == 0, result.stderr
    assert PLOT_HINT in result.stdout + result.stderr
    assert "bit for bit" in result.stdout  # the chain itself still ran
    assert not (tmp_path / "fastmel-demo.png").exists()


def test_demo_unwritable_output_fails_cleanly(tmp_path):
    result = fastmel_cmd(tmp_path, "demo", "-q", "-o", str(tmp_path / "missing" / "x.png"))
    assert result.returncode == 1
    assert "cannot write" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- #
# show
# --------------------------------------------------------------------------- #

def test_show_one_panel_per_channel_or_mono(tmp_path, stereo_wav):
    result = fastmel_cmd(tmp_path, "show", str(stereo_wav), "-o", "both.png")
    assert result.returncode == 0, result.stderr
    assert "2 panels" in result.stdout and "44100 Hz" in result.stdout
    both = assert_png(tmp_path / "both.png", min_height=400, min_width=800)

    result = fastmel_cmd(tmp_path, "show", str(stereo_wav), "-o", "mono.png", "--mono",
                         "--sr", "16000", "--n-mels", "64", "--n-fft", "1024", "--hop", "200")
    assert result.returncode == 0, result.stderr
    assert "1 panel," in result.stdout and "16000 Hz" in result.stdout
    assert "n_fft 1024" in result.stdout and "hop 200" in result.stdout
    assert "64 mels" in result.stdout
    mono = assert_png(tmp_path / "mono.png", min_height=200, min_width=800)
    assert mono.shape[0] < both.shape[0]  # one panel is shorter than two


def test_show_bundled_clip_default_output_name(tmp_path):
    with as_file(files("fastmel") / "data" / "speech_22050.flac") as clip:
        result = fastmel_cmd(tmp_path, "show", str(clip))
    assert result.returncode == 0, result.stderr
    assert_png(tmp_path / "speech_22050.flac.png", min_height=200, min_width=800)


def test_show_corrupt_file(tmp_path):
    bad = tmp_path / "corrupt.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(range(256)) * 4)
    result = fastmel_cmd(tmp_path, "show", str(bad), "-o", "out.png")
    assert result.returncode == 1
    assert "cannot read" in result.stderr and "corrupt.wav" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.png").exists()


def test_show_missing_file(tmp_path):
    result = fastmel_cmd(tmp_path, "show", "no-such-file.flac", "-o", "out.png")
    assert result.returncode == 1
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def test_show_bad_parameters(tmp_path, stereo_wav):
    result = fastmel_cmd(tmp_path, "show", str(stereo_wav), "--fmin", "30000")
    assert result.returncode == 2
    assert "fmin" in result.stderr and "Traceback" not in result.stderr
    result = fastmel_cmd(tmp_path, "show", str(stereo_wav), "--n-fft", "0")
    assert result.returncode == 2  # argparse: outside the sizes the command takes
    assert "expected an integer from 1 to 65536, got '0'" in result.stderr


def test_show_without_matplotlib_exits_2_with_the_hint(tmp_path, stereo_wav):
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    result = fastmel_cmd(tmp_path, "show", str(stereo_wav), "-o", "out.png",
                         blocked=["matplotlib"], blocked_dir=blocked)
    assert result.returncode == 2
    assert PLOT_HINT in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out.png").exists()


# --------------------------------------------------------------------------- #
# bench
# --------------------------------------------------------------------------- #

# Run from the checkout's root: fastmel bench finds the suite there whether
# fastmel is imported from src/ or installed (CI installs it).
CHECKOUT = pathlib.Path(__file__).resolve().parents[1]


def test_bench_runs_the_suite_of_the_checkout():
    result = fastmel_cmd(CHECKOUT, "bench", "--quick", "-k",
                         "test_fastmel_convolve and not convolver")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Measured on " in out and "python -m benchmarks.report" in out
    rows = [line for line in out.splitlines() if line.startswith("| `convolve`")]
    assert len(rows) == 1 and " ms |" in rows[0]
    assert "1 passed" in result.stderr  # pytest's summary of the one selected benchmark


def test_bench_without_a_peer_skips_it_with_the_reason(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    result = fastmel_cmd(CHECKOUT, "bench", "--quick", "-k", "convolve and not convolver",
                         blocked=["scipy"], blocked_dir=blocked)
    assert result.returncode == 0, result.stderr
    assert "scipy not installed" in result.stderr
    assert "pip install -e '.[bench]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_bench_outside_a_checkout_says_how_to_get_the_suite(monkeypatch, capsys):
    from fastmel.cli import bench, main

    monkeypatch.setattr(bench, "benchmarks_dir", lambda: None)
    assert main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "source repository" in err and "python -m benchmarks.report" in err
