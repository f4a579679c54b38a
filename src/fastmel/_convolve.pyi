import numpy as np
import numpy.typing as npt

def overlap_add(
    x: npt.NDArray[np.floating],
    ir: npt.NDArray[np.floating],
    n_fft: int,
    out: npt.NDArray[np.floating],
) -> None: ...

class PartitionedConvolver:
    ir: npt.NDArray[np.floating]
    levels: tuple[tuple[int, int], ...]
    latency: int
    head_length: int
    def __init__(self, ir: npt.ArrayLike, head: int, levels: object) -> None: ...
    def reset(self) -> None: ...
    def process(self, chunk: npt.ArrayLike) -> npt.NDArray[np.floating]: ...
    def flush(self) -> npt.NDArray[np.floating]: ...
