"""``fastmel demo``: the whole chain on the bundled speech clip.

The clip goes through a simulated recording -- a room (synthetic impulse
response), noise at 10 dB SNR, a cheap microphone's band limits -- and into a
log-mel spectrogram, once as a stream of 10 ms buffers through a
``fastmel.Chain`` and once offline; the two must agree bit for bit.  The
clean and degraded log-mels are drawn one above the other into a PNG when
matplotlib is installed (pip install 'fastmel[plot]'); without it, the
default picture is skipped with that hint, and an explicit -o fails.
"""
from __future__ import annotations

import argparse
import gc
import sys
import time
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypedDict, TypeVar

import numpy as np
import numpy.typing as npt

from fastmel.cli import options
from fastmel.cli.show import AMIN, PLOT_HINT, SILENCE_DB, Panel

if TYPE_CHECKING:
    from fastmel import Stream
    from fastmel.cli.options import Subparsers

_T = TypeVar("_T")

CLIP = "speech_16000.flac"
SR = 16000
BUFFER = 160  # 10 ms at 16 kHz
SEED = 0
REPEATS = 3
RIR_SECONDS = 0.5
RT60 = 0.4  # seconds for the room's tail to fall 60 dB
NOISE_SECONDS = 5.0
SNR_DB = 10.0
BAND_HZ = (200.0, 4000.0)
BAND_ORDER = 4


class _MelArgs(TypedDict):
    # Typed per key, so that **MEL type-checks against MelSpectrogram's parameters.
    sr: int
    n_fft: int
    win_length: int
    hop_length: int
    n_mels: int


MEL: _MelArgs = dict(sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=80)
DEFAULT_PICTURE = "fastmel-demo.png"


def load_clip() -> tuple[npt.NDArray[np.float32], int]:
    """The bundled speech clip as float32 mono samples and its rate."""
    import soundfile as sf

    with resources.as_file(resources.files("fastmel") / "data" / CLIP) as path:
        y, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(y.mean(axis=1, dtype=np.float32)), int(sr)


def synthetic_rir(sr: int, *, seconds: float = RIR_SECONDS, rt60: float = RT60,
                  seed: int = SEED) -> npt.NDArray[np.float32]:
    """A room impulse response: seeded Gaussian noise under an exponential envelope
    that falls 60 dB in ``rt60`` seconds, scaled to unit energy (so the room keeps
    the speech's level on average).  float32, ``round(seconds * sr)`` taps."""
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    h = np.random.default_rng(seed).standard_normal(n) * 10.0 ** (-3.0 * t / rt60)
    h /= np.sqrt(np.sum(h * h))
    return h.astype(np.float32)


def pink_noise(n: int, sr: int, *, seed: int = SEED) -> npt.NDArray[np.float32]:
    """``n`` samples of seeded pink noise (power falling 3 dB per octave, no DC),
    unit RMS, float32: white Gaussian noise shaped by 1/sqrt(f) in the frequency domain."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spectrum[0] = 0.0
    spectrum[1:] /= np.sqrt(f[1:])
    x = np.fft.irfft(spectrum, n)
    x /= np.sqrt(np.mean(x * x))
    return x.astype(np.float32)


def _power(x: npt.NDArray[Any]) -> float:
    return float(np.mean(np.square(x, dtype=np.float64)))


def _best_time(run: Callable[[], _T], setup: Callable[[], object], repeats: int
               ) -> tuple[float, _T]:
    """Least wall time of ``repeats`` calls of run (setup untimed before each), GC off;
    also run's last result."""
    best = float("inf")
    result: _T  # repeats >= 1
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            setup()
            t0 = time.perf_counter()
            result = run()
            best = min(best, time.perf_counter() - t0)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best, result


def _stream_through(stream: Stream, buffers: Sequence[npt.NDArray[np.float32]]
                    ) -> npt.NDArray[Any]:
    """Every buffer through ``stream`` then its flush, outputs joined along time."""
    process = stream.process
    outs = [process(b) for b in buffers]
    outs.append(stream.flush())
    return np.concatenate(outs, axis=-1)


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo", help="simulate a recording of the bundled clip and draw its log-mel",
        description=options.plain(__doc__.split("\n\n")[1]),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-o", "--output", default=None, metavar="PNG",
                   help=f"picture to write; needs matplotlib (default: {DEFAULT_PICTURE} in "
                        f"the current folder, skipped without matplotlib)")
    p.add_argument("--no-plot", action="store_true", help="do not draw the picture")
    p.add_argument("--quiet", "-q", action="store_true", help="print only errors")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    import fastmel
    from fastmel.noise import noise_gain

    say: Callable[..., None] = (lambda *a, **k: None) if args.quiet else print
    y, sr = load_clip()
    seconds = y.shape[-1] / sr
    buffers = [y[i:i + BUFFER] for i in range(0, y.shape[-1], BUFFER)]

    rir = synthetic_rir(sr)
    noise = pink_noise(int(NOISE_SECONDS * sr), sr)
    room = fastmel.Convolver(rir, block_size=BUFFER)
    # The stream cannot measure the clip's power before the clip ends, so the
    # level is calibrated offline on the reverberant clip (the mixer's input,
    # tail included) against the looped noise it will actually get.
    wet = room(y)
    looped = np.resize(noise, wet.shape[-1])
    gain = noise_gain(_power(wet), _power(looped), SNR_DB)
    mixer = fastmel.NoiseMixer(noise, gain=gain)
    mic = fastmel.Bandpass(sr, *BAND_HZ, order=BAND_ORDER)
    # top_db=None: a floor relative to the whole clip's maximum cannot stream.
    logmel = fastmel.MelSpectrogram(**MEL, to_db=True, amin=AMIN, top_db=None)
    chain = fastmel.Chain([room, mixer, mic, logmel.stream()])
    clean_stream = logmel.stream()

    t_chain, degraded_s = _best_time(lambda: _stream_through(chain, buffers), chain.reset,
                                     REPEATS)
    t_mel_stream, clean_s = _best_time(lambda: _stream_through(clean_stream, buffers),
                                       clean_stream.reset, REPEATS)
    t_mel, clean_o = _best_time(lambda: logmel(y), lambda: None, 2 * REPEATS)
    noisy = mixer(wet)
    degraded_o = logmel(mic(noisy))
    snr = 10.0 * np.log10(_power(wet) / _power(noisy.astype(np.float64) - wet))
    same_clean = clean_s.shape == clean_o.shape and np.array_equal(clean_s, clean_o)
    same_degraded = degraded_s.shape == degraded_o.shape and np.array_equal(degraded_s, degraded_o)

    head, levels = room.partitions
    say(f"fastmel demo: the bundled speech clip ({CLIP}), {seconds:.2f} s at {sr} Hz, "
        f"mono float32")
    say(f"Recording simulation and features, streamed as {len(buffers)} buffers of {BUFFER} "
        f"samples (10 ms) through fastmel.Chain:")
    say(f"  1. room      Convolver: synthetic impulse response, {RIR_SECONDS:g} s "
        f"({rir.size} taps), RT60 {RT60:g} s, seed {SEED}; block_size {BUFFER}, "
        f"head {head} taps + partitions {', '.join(f'{n}x{k}' for k, n in levels)}")
    say(f"  2. noise     NoiseMixer: pink noise, seed {SEED}, {NOISE_SECONDS:g} s looped; "
        f"gain {gain:.4g} for {SNR_DB:g} dB SNR over the clip (measured: {snr:.2f} dB)")
    say(f"  3. mic       Bandpass: Butterworth order {BAND_ORDER}, "
        f"{BAND_HZ[0]:g}-{BAND_HZ[1]:g} Hz")
    say(f"  4. features  MelSpectrogram(...).stream(): n_fft {MEL['n_fft']}, "
        f"win {MEL['win_length']} (hann), hop {MEL['hop_length']}, {MEL['n_mels']} mels "
        f"(slaney), power 2, dB (ref 1.0, top_db None)")
    say("Results:")
    for name, S, same, extra in (
            ("clean", clean_s, same_clean, "log-mel stream alone"),
            ("degraded", degraded_s, same_degraded,
             f"the chain; {rir.size - 1} samples of room tail flushed at the end")):
        verdict = "bit for bit" if same else "MISMATCH"
        say(f"  {name:<9} log-mel {S.shape[0]} mels x {S.shape[1]} frames ({extra}); "
            f"streamed == offline: {verdict}")
    say(f"Speed (least of {REPEATS} runs, one thread, this machine):")
    say(f"  streaming chain (room, noise, mic, log-mel): {t_chain / len(buffers) * 1e6:.1f} us "
        f"per 10 ms buffer, {seconds / t_chain:,.0f}x real time")
    say(f"  streaming log-mel alone: {t_mel_stream / len(buffers) * 1e6:.1f} us per buffer, "
        f"{seconds / t_mel_stream:,.0f}x real time")
    say(f"  offline log-mel: {t_mel * 1e3:.2f} ms for the clip, {seconds / t_mel:,.0f}x real time")

    status = 0
    if not (same_clean and same_degraded):
        print("fastmel demo: the streamed features differ from the offline ones", file=sys.stderr)
        status = 1
    if args.no_plot:
        return status
    from fastmel.cli.show import save_logmel

    output = args.output or DEFAULT_PICTURE
    try:
        save_logmel(output, picture_panels(clean_o, degraded_o), sr=sr,
                    hop_length=MEL["hop_length"], silence_db=SILENCE_DB,
                    title=f"fastmel demo: log-mel of {CLIP}, {MEL['n_mels']} mels")
    except ImportError:
        if args.output is None:
            print(f"fastmel demo: no picture, matplotlib is not installed; get it with: "
                  f"{PLOT_HINT}", file=sys.stderr)
            return status
        print(f"fastmel demo: cannot draw {args.output}: matplotlib is not installed; get it "
              f"with: {PLOT_HINT}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as err:
        print(f"fastmel demo: cannot write {output}: {err}", file=sys.stderr)
        return 1
    say(f"Wrote {Path(output)}: clean and degraded log-mel over the clip's duration (the "
        f"room's tail after it is not drawn), one colour scale (dB)")
    return status


def picture_panels(clean: npt.NDArray[Any], degraded: npt.NDArray[Any]) -> list[Panel]:
    """The picture's (label, log-mel) panels: the degraded one cropped to the clean
    clip's frames (the room's tail runs past the clip's end), so the two panels
    share a time axis without a blank strip after the shorter one."""
    frames = clean.shape[-1]
    return [("clean", clean),
            (f"degraded: room (RT60 {RT60:g} s) + pink noise ({SNR_DB:g} dB SNR) + "
             f"band-pass {BAND_HZ[0]:g}-{BAND_HZ[1]:g} Hz", degraded[..., :frames])]
