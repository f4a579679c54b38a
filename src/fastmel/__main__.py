"""``python -m fastmel [FILE]``: log-mel and MFCC features of an audio file.

With no FILE, runs on the bundled speech clip.  Prints what it computed and
how long it took; ``-o OUT.npy`` saves the log-mel spectrogram.
"""
import argparse
import time
from importlib.resources import files

import numpy as np
import soundfile as sf

import fastmel


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m fastmel", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", help="audio file (default: the bundled speech clip)")
    parser.add_argument("--n-mels", type=int, default=80)
    parser.add_argument("--n-fft", type=int, default=512)
    parser.add_argument("--win-length", type=int, default=400)
    parser.add_argument("--hop", type=int, default=160)
    parser.add_argument("--n-mfcc", type=int, default=13)
    parser.add_argument("-o", "--output", help="save the log-mel spectrogram to this .npy file")
    args = parser.parse_args(argv)

    path = args.file or str(files("fastmel") / "data" / "speech_16000.flac")
    y, sr = sf.read(path, dtype="float32", always_2d=True)
    y = y.T if y.shape[1] > 1 else y[:, 0]
    params = dict(sr=sr, n_fft=args.n_fft, win_length=args.win_length, hop_length=args.hop,
                  n_mels=args.n_mels)
    logmel = fastmel.MelSpectrogram(to_db=True, top_db=80.0, **params)
    mfcc = fastmel.MFCC(n_mfcc=args.n_mfcc, **params)
    start = time.perf_counter()
    S = logmel(y)
    M = mfcc(y)
    elapsed = time.perf_counter() - start
    seconds = y.shape[-1] / sr
    channels = 1 if y.ndim == 1 else y.shape[0]
    print(f"{path}: {seconds:.2f} s at {sr} Hz, {channels} channel(s)")
    print(f"log-mel {S.shape} {S.dtype}, range {S.min():.1f} .. {S.max():.1f} dB")
    print(f"MFCC    {M.shape} {M.dtype}")
    print(f"both in {elapsed * 1e3:.2f} ms ({seconds / elapsed:.0f}x real time)")
    if args.output:
        np.save(args.output, S)
        print(f"saved log-mel to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
