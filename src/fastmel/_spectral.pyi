from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import Self, TypeAlias, disjoint_base

from fastmel._analysis import Framing

_Floats: TypeAlias = npt.NDArray[np.floating[Any]]
# A filter bank as pack_mel_rows packs it: first bin, length and weight
# offset of each filter, and the weights.
_MelRows: TypeAlias = tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp],
                            _Floats]

@disjoint_base
class SpectralKernel:
    @property
    def mode(self) -> int: ...
    @property
    def is_double(self) -> bool: ...
    @property
    def n_fft(self) -> int: ...
    @property
    def n_bins(self) -> int: ...
    @property
    def n_out(self) -> int: ...
    @property
    def n_mels(self) -> int: ...
    @property
    def max_amplitude(self) -> float: ...
    # Cython's __cinit__: the arguments are taken by tp_new.
    def __new__(
        cls,
        mode: int,
        n_fft: int,
        window: _Floats,
        win_off: int,
        power: float = 2.0,
        mel_rows: _MelRows | None = None,
        amin: float = 1e-10,
        db_offset: float = 0.0,
        dct: _Floats | None = None,
    ) -> Self: ...

def pack_mel_rows(blocks: Iterable[tuple[int, int, _Floats]]) -> _MelRows: ...
def mel_runs(length: npt.NDArray[np.intp], woff: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]: ...
def _transpose8(rows: npt.NDArray[np.float32], how: int) -> npt.NDArray[np.float32]: ...
def floor_below_max(values: _Floats, top_db: float, group: int) -> None: ...
def run_offline(
    kernel: SpectralKernel,
    x: _Floats,
    head: _Floats,
    tail: _Floats,
    pad: int,
    hop: int,
    n_frames: int,
    out: npt.NDArray[np.inexact[Any]],
    workers: int = 1,
    top_db: float | None = None,
) -> int: ...

PARALLEL_MIN_WORK: int

@disjoint_base
class _OfflineJob:
    # Cython's __cinit__: the arguments are taken by tp_new.
    def __new__(cls, kernel: SpectralKernel, x: _Floats, head: _Floats, tail: _Floats,
                pad: int, hop: int, n_frames: int, out: npt.NDArray[np.inexact[Any]],
                track: bool = False) -> Self: ...
    def work(self) -> None: ...
    def stop(self) -> None: ...

def run(kernel: SpectralKernel, framing: Framing, y: _Floats, workers: int = 1,
        top_db: float | None = None) -> npt.NDArray[np.inexact[Any]]: ...
def pad_ends(seg: _Floats, left: int, right: int, mode: str) -> _Floats: ...
