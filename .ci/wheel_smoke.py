"""Smoke test of an installed fastmel (a wheel, in a venv of its own).

Run from outside the source tree, so that ``import fastmel`` finds the
installed package: the compiled STFT and mel kernels against numpy's FFT and
a plain matrix product, computed here, in the same process.
"""
import sys
from pathlib import Path

import numpy as np

import fastmel

here = Path(fastmel.__file__).resolve()
if here.parent.parent.name != "site-packages":
    sys.exit(f"wheel smoke test: fastmel was imported from {here}, not an installed package")

sr, n_fft, hop = 16000, 512, 160
rng = np.random.default_rng(0)
y = rng.standard_normal(sr // 4)

D = fastmel.stft(y, n_fft=n_fft, hop_length=hop, center=False)
n_frames = 1 + (len(y) - n_fft) // hop
frames = np.stack([y[i * hop:i * hop + n_fft] for i in range(n_frames)], axis=1)
window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)   # periodic Hann
ref = np.fft.rfft(frames * window[:, None], axis=0)
# FFTW and numpy's FFT round differently: about 1e-15 of the largest value
assert D.shape == ref.shape, (D.shape, ref.shape)
assert np.abs(D - ref).max() <= 1e-12 * np.abs(ref).max(), np.abs(D - ref).max()

S = fastmel.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop, center=False,
                                   n_mels=40)
# librosa's filters: float32 weights, whatever the signal's dtype
mel_ref = fastmel.filters.mel(sr=sr, n_fft=n_fft, n_mels=40).astype(np.float64) @ np.abs(ref) ** 2
# the same FFT rounding, squared and summed with positive weights
assert S.shape == mel_ref.shape, (S.shape, mel_ref.shape)
assert np.abs(S - mel_ref).max() <= 1e-12 * np.abs(mel_ref).max(), np.abs(S - mel_ref).max()

print(f"wheel smoke test passed: fastmel {fastmel.__version__} from {here.parent}")
