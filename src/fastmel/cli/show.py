"""``fastmel show FILE -o OUT.png``: a log-mel picture of one audio file.

Any format soundfile reads; ``--sr`` resamples (soxr) first.  Each channel
gets its own panel unless ``--mono`` mixes them down.  The picture is drawn
with matplotlib's Agg backend (no display needed); matplotlib comes with the
``plot`` extra: pip install 'fastmel[plot]'.

Exit status: 0 on success, 1 when the file cannot be read or the picture
cannot be written, 2 for bad parameters or a missing matplotlib.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import numpy.typing as npt

from fastmel.cli import options

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from fastmel.cli.jobs import StrPath
    from fastmel.cli.options import Subparsers

# A picture's panel: a label and a dB spectrogram, shape (n_mels, n_frames).
Panel = tuple[str, npt.NDArray[Any]]

PLOT_HINT = "pip install 'fastmel[plot]'"

# The pictures' log-mels use amin 1e-10 (with ref 1.0): digital silence comes out as
# 10 * log10(1e-10) = -100 dB.
AMIN = 1e-10
SILENCE_DB = 10.0 * math.log10(AMIN)

# Frequencies (Hz) worth a tick on a mel axis; those inside the band are used.
_TICKS_HZ = (0, 125, 250, 500, 1000, 2000, 4000, 8000, 16000)


def import_matplotlib() -> tuple[type[Figure], type[FigureCanvasAgg]]:
    """matplotlib's ``Figure`` and Agg canvas classes.

    Raises
    ------
    ImportError
        matplotlib is missing; the message says how to get it.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(f"matplotlib is needed to draw pictures ({err}); "
                          f"install it with: {PLOT_HINT}") from err
    return Figure, FigureCanvasAgg


def colour_range(panels: Sequence[Panel], top_db: float, silence_db: float = SILENCE_DB
                 ) -> tuple[float, float]:
    """``(vmin, vmax)`` of the colour scale: ``top_db`` down from the loudest value
    of all panels, but with the top never less than ``top_db`` above ``silence_db``,
    so digital silence (and anything near it) draws in the darkest colour rather
    than filling a scale of its own."""
    vmax = max(max(float(np.max(S)) for _, S in panels), silence_db + top_db)
    return vmax - top_db, vmax


def drawable(text: str) -> str:
    """``text`` with the characters the default font has no glyph for written as
    escapes (``\\u58f0``) and dollar signs escaped (``a$x$`` is not mathtext), so any
    file name can go into a title as it is, without matplotlib warning about
    missing glyphs, drawing empty boxes or failing on mathtext it cannot parse."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    charmap = FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap()
    text = "".join(c if ord(c) in charmap or c == "\n"
                   else c.encode("ascii", "backslashreplace").decode("ascii") for c in text)
    return text.replace("$", r"\$")


def save_logmel(path: StrPath, panels: Sequence[Panel], *, sr: int, hop_length: int,
                fmin: float = 0.0, fmax: float | None = None, htk: bool = False,
                top_db: float = 80.0, silence_db: float = SILENCE_DB,
                title: str | None = None) -> None:
    """Draw log-mel spectrograms, one panel each, on one colour scale, into ``path``.

    Parameters
    ----------
    path : str or Path
        Output file; the format follows the extension (png, pdf, svg, ...).
    panels : sequence of (str, np.ndarray [shape=(n_mels, n_frames)])
        A label and a dB spectrogram per panel, drawn top to bottom.
    sr, hop_length : int
        Give the time axis in seconds.
    fmin, fmax, htk
        The mel band layout, to label the frequency axis in Hz.
    top_db : float
        The colour scale spans the loudest value of all panels down to ``top_db`` below it.
    silence_db : float
        The value digital silence has in ``panels``; the top of the colour scale is
        at least ``top_db`` above it (see :func:`colour_range`).
    title : str or None
        Characters the font lacks are escaped (see :func:`drawable`).

    Raises
    ------
    ImportError
        matplotlib is missing.
    """
    from fastmel.convert import mel_frequencies

    Figure, FigureCanvasAgg = import_matplotlib()
    fmax = sr / 2.0 if fmax is None else float(fmax)
    vmin, vmax = colour_range(panels, top_db, silence_db)
    n_mels = panels[0][1].shape[0]
    seconds = max(S.shape[-1] for _, S in panels) * hop_length / sr
    # Band centres on the mel scale: band i's row spans [i, i + 1) on the y axis.
    centres = mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax, htk=htk)[1:-1]
    ticks: list[int] = []
    tick_rows: list[float] = []
    for f in reversed(_TICKS_HZ):  # from the top, skipping ticks that would crowd the last one
        row = float(np.interp(f, centres, np.arange(n_mels))) + 0.5
        crowded = tick_rows and tick_rows[-1] - row < 0.08 * n_mels
        if centres[0] <= f <= centres[-1] and not crowded:
            ticks.append(f)
            tick_rows.append(row)

    fig = Figure(figsize=(10, 1.0 + 2.6 * len(panels)), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (label, S) in zip(axes, panels):
        extent = (0.0, S.shape[-1] * hop_length / sr, 0.0, n_mels)
        image = ax.imshow(S, origin="lower", aspect="auto", extent=extent, cmap="magma",
                          vmin=vmin, vmax=vmax, interpolation="nearest")
        ax.set_xlim(0.0, seconds)
        ax.set_yticks(tick_rows, [f"{f:g}" for f in ticks])
        ax.set_ylabel("frequency (Hz)")
        ax.set_title(drawable(label), loc="left", fontsize="medium")
    axes[-1].set_xlabel("time (s)")
    fig.colorbar(image, ax=list(axes), label="power (dB)", format="%+.0f")
    if title:
        fig.suptitle(drawable(title))
    fig.savefig(path)


def _default_n_fft(sr: int) -> int:
    """The power of two nearest 25 ms (512 at 16 and 22.05 kHz, 1024 at 44.1 and 48 kHz)."""
    return int(2 ** max(1, round(math.log2(0.025 * sr))))


def read_audio(path: StrPath, sr: int | None = None) -> tuple[npt.NDArray[np.float32], int]:
    """``(data [shape=(channels, n)] float32, rate)`` of a file, resampled to ``sr`` if given.

    Raises
    ------
    OSError
        The file is missing or soundfile cannot decode it; the message says why.
    """
    import soundfile as sf

    from fastmel.cli.jobs import describe, open_source

    path = Path(path)
    if not path.exists():
        raise OSError("no such file")
    if path.is_dir():
        raise OSError("is a folder, not an audio file")
    if not path.is_file():  # opening a FIFO would wait for a writer
        raise OSError("not a regular file")
    try:
        with open_source(path) as fh:
            data, rate = sf.read(fh, dtype="float32", always_2d=True)
    except OSError as err:
        raise OSError(describe(err, path)) from err
    except (sf.SoundFileError, RuntimeError, ValueError, TypeError) as err:
        raise OSError(f"not readable as audio ({err})") from err
    if data.shape[0] == 0:
        raise OSError("the file holds no samples")
    if not np.isfinite(data).all():
        raise OSError("the file holds non-finite samples (NaN or inf)")
    if sr is not None and sr != rate:
        import soxr

        data = soxr.resample(data, rate, sr)
        rate = sr
    return np.ascontiguousarray(data.T), int(rate)


def add_parser(sub: Subparsers) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "show", help="draw the log-mel spectrogram of an audio file (PNG)",
        description=options.plain("\n\n".join(__doc__.split("\n\n")[:2])),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file", metavar="FILE", help="audio file (any format soundfile reads)")
    p.add_argument("-o", "--output", metavar="OUT",
                   help="picture to write (default: FILE's name + .png, in the current folder)")
    p.add_argument("--sr", type=options.sample_rate, default=None,
                   help="resample to this rate first, 1000..384000 (default: the file's own)")
    p.add_argument("--n-fft", type=options.n_fft, default=None,
                   help="FFT size, 1..65536 (default: the power of two nearest 25 ms)")
    p.add_argument("--win-length", type=options.n_fft, default=None,
                   help="Hann window length in samples, 1..N_FFT (default: N_FFT)")
    p.add_argument("--hop", type=options.hop_length, default=None,
                   help="hop length in samples (default: 10 ms)")
    options.add_mel_bands(p)
    p.add_argument("--top-db", type=options.finite_float, default=80.0,
                   help="colour range in dB below the loudest value, and at least that far "
                        "above digital silence, so silence draws dark (default: 80)")
    p.add_argument("--mono", action="store_true", help="one panel of the channels' average")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.set_defaults(run=run)
    return p


def run(args: argparse.Namespace) -> int:
    import fastmel

    try:
        import_matplotlib()
    except ImportError as err:
        print(f"fastmel show: {err}", file=sys.stderr)
        return 2
    if not args.top_db > 0:
        print(f"fastmel show: --top-db must be > 0, got {args.top_db}", file=sys.stderr)
        return 2
    try:
        y, sr = read_audio(args.file, args.sr)
    except OSError as err:
        print(f"fastmel show: cannot read {args.file}: {err}", file=sys.stderr)
        return 1
    if args.mono and y.shape[0] > 1:
        y = y.mean(axis=0, keepdims=True)
    n_fft = args.n_fft or _default_n_fft(sr)
    hop = args.hop or max(1, round(sr / 100))
    try:
        logmel = fastmel.MelSpectrogram(
            sr=sr, n_fft=n_fft, win_length=args.win_length, hop_length=hop, n_mels=args.n_mels,
            fmin=args.fmin, fmax=args.fmax, to_db=True, amin=AMIN, top_db=None)
        S = logmel(y)
    except ValueError as err:
        print(f"fastmel show: {err}", file=sys.stderr)
        return 2
    if y.shape[0] == 1:
        panels = [("mono" if args.mono else "log-mel", S[0])]
    else:
        panels = [(f"channel {i + 1}", S[i]) for i in range(S.shape[0])]
    output = Path(args.output) if args.output else Path(Path(args.file).name + ".png")
    seconds = y.shape[-1] / sr
    title = (f"{Path(args.file).name}: {seconds:.2f} s at {sr} Hz; n_fft {n_fft}, "
             f"hop {hop}, {logmel.n_mels} mels")
    try:
        save_logmel(output, panels, sr=sr, hop_length=hop, fmin=args.fmin, fmax=args.fmax,
                    top_db=args.top_db, title=title)
    except (OSError, ValueError) as err:
        print(f"fastmel show: cannot write {output}: {err}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"fastmel show: wrote {output}: {len(panels)} panel{'s' * (len(panels) > 1)}, "
              f"{seconds:.2f} s at {sr} Hz, n_fft {n_fft}, hop {hop}, "
              f"{logmel.n_mels} mels x {S.shape[-1]} frames")
    return 0
