from typing import Any

import numpy as np

from fastmel._streambase import Stream

class KaldiKernel:
    is_double: bool
    snip_edges: bool
    frame_length: int
    frame_shift: int
    n_fft: int
    n_bins: int
    n_mels: int
    n_out: int
    n_ceps: int
    max_amplitude: float
    dither: float
    def __init__(self, *, is_double: bool, frame_length: int, frame_shift: int, n_fft: int,
                 snip_edges: bool, window: np.ndarray, mel_lo: np.ndarray,
                 mel_len: np.ndarray, mel_w: np.ndarray, preemph: float, remove_dc: bool,
                 dither: float, energy: int, log_floor: float, use_power: bool,
                 use_log: bool, dct: np.ndarray | None, lifter: np.ndarray | None,
                 plan: Any, max_amplitude: float) -> None: ...

def offline(k: KaldiKernel, x: np.ndarray, rng: np.random.Generator | None) -> np.ndarray: ...

class KaldiStream(Stream):
    extractor: Any
    def __init__(self, owner: Any, kernel: KaldiKernel, rng_source: Any) -> None: ...
    @property
    def n_out(self) -> int: ...
