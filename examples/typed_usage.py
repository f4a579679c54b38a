"""fastmel in a type-checked program.

fastmel is annotated (it ships ``py.typed``): mypy and pyright check calls
against its signatures and know what comes back.  CI runs
``python -m mypy`` (strict, see ``[tool.mypy]`` in pyproject.toml) on the
package and on this file, which uses the main public API as an application
would, and runs it: ``python examples/typed_usage.py``.
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import numpy.typing as npt

import fastmel
from fastmel.frontends import KaldiFbank

# What the features come back as: real arrays of the input's precision (float32
# in, float32 out; float64 in, float64 out), complex for an STFT.
Real = npt.NDArray[np.floating[Any]]
Complex = npt.NDArray[np.complexfloating[Any, Any]]
Audio = npt.NDArray[np.float32]

SR = 16000
HOP = 160  # 10 ms


def tone(seconds: float, hz: float = 440.0) -> Audio:
    """A quiet sine, float32 as audio files are usually read."""
    t = np.arange(int(seconds * SR)) / SR
    return (0.1 * np.sin(2.0 * np.pi * hz * t)).astype(np.float32)


def offline_features(y: Audio) -> dict[str, Real]:
    """librosa's names: STFT, mel spectrogram, dB, MFCC, deltas, PCEN."""
    D: Complex = fastmel.stft(y, n_fft=512, hop_length=HOP)
    power: Real = np.abs(D) ** 2
    mel: Real = fastmel.melspectrogram(y=y, sr=SR, n_fft=512, hop_length=HOP, n_mels=80)
    log_mel: Real = fastmel.power_to_db(mel, ref=1.0, top_db=80.0)
    mfcc: Real = fastmel.mfcc(y=y, sr=SR, n_mfcc=13, n_fft=512, hop_length=HOP)
    deltas: Real = fastmel.feature.delta(mfcc, order=1)
    pcen: Real = fastmel.pcen(mel * 2.0 ** 31, sr=SR, hop_length=HOP)
    return {"power": power, "mel": mel, "log_mel": log_mel, "mfcc": mfcc, "deltas": deltas,
            "pcen": pcen}


def streamed_log_mel(chunks: Iterable[Audio]) -> Real:
    """A configured extractor, offline and as a stream; the two agree bit for bit."""
    log_mel = fastmel.MelSpectrogram(sr=SR, n_fft=512, win_length=400, hop_length=HOP,
                                     n_mels=80, to_db=True, top_db=None)
    stream = log_mel.stream()
    frames = [stream.process(chunk) for chunk in chunks]
    frames.append(stream.flush())
    latency: int = stream.latency
    assert latency >= 0
    return np.concatenate(frames, axis=-1)


def simulate_recording(y: Audio, rir: Audio, noise: Audio) -> tuple[Real, Real]:
    """Room, noise at an SNR, a microphone's band: offline, then as one stream
    that ends in a log-mel and its deltas."""
    rng = np.random.default_rng(0)
    wet: Real = fastmel.convolve(y, rir, mode="full")
    noisy: Real = fastmel.add_noise(wet, noise, snr_db=10.0, rng=rng)
    mic = fastmel.Bandpass(SR, 200.0, 4000.0, order=4)
    recorded: Real = mic(noisy)

    mfcc = fastmel.MFCC(sr=SR, n_fft=512, hop_length=HOP, n_mfcc=13, top_db=None)
    chain = fastmel.Chain([fastmel.Convolver(rir, block_size=HOP),
                           fastmel.NoiseMixer(noise, gain=0.1),
                           fastmel.Bandpass(SR, 200.0, 4000.0, order=4),
                           mfcc.stream(),
                           fastmel.Delta(width=9)])
    blocks = [chain.process(y[i:i + HOP]) for i in range(0, y.shape[-1], HOP)]
    blocks.append(chain.flush())
    chain.reset()
    return recorded, np.concatenate(blocks, axis=-1)


def kaldi_and_pcen_streams(y: Audio) -> tuple[Real, Real]:
    """Kaldi's filterbank front end, and PCEN streamed after a mel spectrogram."""
    fbank: Real = KaldiFbank(sr=SR, num_mel_bins=80)(y)
    mel = fastmel.MelSpectrogram(sr=SR, n_fft=512, hop_length=HOP, n_mels=40)
    chain = fastmel.Chain([mel.stream(), fastmel.PCEN(sr=SR, hop_length=HOP)])
    out = [chain.process(y), chain.flush()]
    return fbank, np.concatenate(out, axis=-1)


def conversions(S: Real) -> None:
    """Unit conversions at the top level, as librosa's."""
    centres: npt.NDArray[np.float64] = fastmel.mel_frequencies(80, fmin=0.0, fmax=SR / 2)
    bins: npt.NDArray[np.float64] = fastmel.fft_frequencies(sr=SR, n_fft=512)
    mels = fastmel.hz_to_mel(centres, htk=False)
    hz = fastmel.mel_to_hz(mels)
    assert np.allclose(hz, centres)  # the round trip, to float64 rounding
    times = fastmel.times_like(S, sr=SR, hop_length=HOP)
    frames = fastmel.time_to_frames(times, sr=SR, hop_length=HOP)
    samples = fastmel.frames_to_samples(frames, hop_length=HOP)
    assert np.array_equal(fastmel.samples_to_frames(samples, hop_length=HOP), frames)
    assert np.allclose(fastmel.frames_to_time(frames, sr=SR, hop_length=HOP), times)
    power = fastmel.db_to_power(fastmel.power_to_db(S, top_db=None))
    amplitude = fastmel.db_to_amplitude(fastmel.amplitude_to_db(np.sqrt(S), top_db=None))
    assert power.shape == amplitude.shape == S.shape
    assert bins.shape == (257,)


def main() -> None:
    y = tone(1.0)
    features = offline_features(y)
    streamed = streamed_log_mel(np.array_split(y, 7))
    offline: Real = fastmel.MelSpectrogram(sr=SR, n_fft=512, win_length=400, hop_length=HOP,
                                           n_mels=80, to_db=True, top_db=None)(y)
    assert np.array_equal(streamed, offline)

    rir = np.zeros(800, dtype=np.float32)
    rir[0], rir[400] = 1.0, 0.3
    noise = np.random.default_rng(1).standard_normal(SR // 2).astype(np.float32)
    recorded, deltas = simulate_recording(y, rir, noise)
    fbank, pcen = kaldi_and_pcen_streams(y)
    conversions(features["mel"])
    try:
        fastmel.MelSpectrogram(sr=SR, n_fft=512, hop_length=0)
    except fastmel.ParameterError as err:  # a ValueError that names the parameter
        assert "hop_length" in str(err)
    print(f"log-mel {offline.shape}, MFCC deltas streamed {deltas.shape}, "
          f"Kaldi fbank {fbank.shape}, PCEN {pcen.shape}, recording {recorded.shape}")


if __name__ == "__main__":
    main()
