from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

class SpectralKernel:
    mode: int
    is_double: bool
    n_fft: int
    n_bins: int
    n_out: int
    n_mels: int
    max_amplitude: float
    def __init__(
        self,
        mode: int,
        n_fft: int,
        window: npt.NDArray[np.floating],
        win_off: int,
        power: float = ...,
        mel_rows: tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp],
                        npt.NDArray[np.floating]] | None = ...,
        amin: float = ...,
        db_offset: float = ...,
        dct: npt.NDArray[np.floating] | None = ...,
    ) -> None: ...

def pack_mel_rows(
    blocks: Iterable[tuple[int, int, npt.NDArray[np.floating]]],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp],
           npt.NDArray[np.floating]]: ...
def mel_runs(length: npt.NDArray[np.intp], woff: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]: ...
def _transpose8(rows: npt.NDArray[np.float32], how: int) -> npt.NDArray[np.float32]: ...
def floor_below_max(values: npt.NDArray[np.floating], top_db: float, group: int) -> None: ...
def run_offline(
    kernel: SpectralKernel,
    x: npt.NDArray[np.floating],
    head: npt.NDArray[np.floating],
    tail: npt.NDArray[np.floating],
    pad: int,
    hop: int,
    n_frames: int,
    out: npt.NDArray[np.generic],
    workers: int = ...,
    top_db: float | None = ...,
) -> int: ...
PARALLEL_MIN_WORK: int
class _OfflineJob:
    def __init__(self, kernel: SpectralKernel, x: npt.NDArray[np.floating],
                 head: npt.NDArray[np.floating], tail: npt.NDArray[np.floating], pad: int,
                 hop: int, n_frames: int, out: npt.NDArray[np.generic],
                 track: bool = ...) -> None: ...
    def work(self) -> None: ...
    def stop(self) -> None: ...
def run(kernel: SpectralKernel, framing: object, y: npt.NDArray[np.floating],
        workers: int = ..., top_db: float | None = ...) -> npt.NDArray[np.inexact]: ...
def pad_ends(seg: npt.NDArray[np.floating], left: int, right: int,
             mode: str) -> npt.NDArray[np.floating]: ...
