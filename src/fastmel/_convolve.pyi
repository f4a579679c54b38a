from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

from fastmel._streambase import Stream

@disjoint_base
class PartitionedConvolver(Stream):
    @property
    def ir(self) -> npt.NDArray[np.floating[Any]]: ...
    @property
    def levels(self) -> tuple[tuple[int, int], ...]: ...
    @property
    def head_length(self) -> int: ...
    def __init__(self, ir: npt.NDArray[np.floating[Any]], head: int,
                 levels: Sequence[tuple[int, int]]) -> None: ...
    def process(self, chunk: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]: ...
    def flush(self) -> npt.NDArray[np.floating[Any]]: ...
