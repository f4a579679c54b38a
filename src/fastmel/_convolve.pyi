import numpy as np
import numpy.typing as npt

from fastmel._streambase import Stream

class PartitionedConvolver(Stream):
    ir: npt.NDArray[np.floating]
    levels: tuple[tuple[int, int], ...]
    head_length: int
    def __init__(self, ir: npt.ArrayLike, head: int, levels: object) -> None: ...
