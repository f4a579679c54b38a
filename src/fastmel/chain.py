"""Chains of streaming stages: sound -> room -> noise -> microphone -> features."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastmel._chain import ChainStream

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fastmel._chain import _Stage

__all__ = ["Chain"]


class Chain(ChainStream):
    """Streaming stages run one after another, as one stream.

    Each ``process`` output feeds the next stage; ``flush()`` flushes the
    first stage, pushes what it owes through the rest, then flushes the next,
    and so on, so the chain's total output equals running each stage
    offline in turn.  A feature stream (``MelSpectrogram(...).stream()``), or
    a chain ending in one, turns samples into frames: only stages that take
    frames (:class:`fastmel.Delta`, :class:`fastmel.PCEN`) can follow it, and those can follow
    nothing else.  ``latency`` is in the chain's input units (samples, or
    frames for a chain that starts with a stage taking frames): a stage after
    a feature stream counts ``hop_length`` samples per frame of its latency.
    Each stage appears once, nested chains' stages included.  A stream that takes
    spectra (``ISTFT(...).stream()``) cannot be a stage: feed its output to
    the chain.

    A chunk is checked once, at the chain's input (dtype, finite samples, the
    chain's leading shape, fixed by its first chunk like any stream's); the
    stages take it from there unchecked.  A chunk that any stage rejects (a
    channel count its impulse responses do not fit, or an overflow) leaves
    every stage as it was: the chain goes on as if the call never happened;
    so does a ``flush()`` that a stage cannot complete.  Stages other than
    fastmel's streams are only taken back on a first chunk, by ``reset()``.

    Parameters
    ----------
    stages : sequence of streams
        fastmel streams, or objects with ``process``, ``flush``, ``reset``
        (and ``latency``); each at most once.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> rir = (rng.standard_normal(1000) * np.exp(-np.arange(1000) / 200)).astype(np.float32)
    >>> noise = rng.standard_normal(16000).astype(np.float32)
    >>> x = rng.standard_normal(16000).astype(np.float32)
    >>> chain = fastmel.Chain([fastmel.Convolver(rir), fastmel.NoiseMixer(noise, gain=0.1),
    ...                        fastmel.Bandpass(16000, 100, 7000),
    ...                        fastmel.MelSpectrogram(sr=16000, n_fft=512, hop_length=160).stream()])
    >>> frames = [chain.process(c) for c in np.array_split(x, 10)] + [chain.flush()]
    >>> np.concatenate(frames, axis=-1).shape   # 128 mel bands of 16999 samples' frames
    (128, 107)
    """

    def __init__(self, stages: Iterable[_Stage]) -> None:
        # Defined here for its signature: the compiled base's __init__ has none
        # that inspect, help() or the documentation can read.
        super().__init__(stages)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
