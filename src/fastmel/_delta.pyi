from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

from fastmel._streambase import Stream

MODES: tuple[str, ...]

def delta_rows(
    x: npt.NDArray[np.floating[Any]], poly: npt.NDArray[np.float64], mode: int, cval: float,
) -> npt.NDArray[np.floating[Any]]: ...

@disjoint_base
class DeltaStream(Stream):
    @property
    def coeffs(self) -> npt.NDArray[np.float64]: ...
    def __init__(self, poly: npt.NDArray[np.float64], mode: str, cval: float) -> None: ...
    def process(self, chunk: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]: ...
    def flush(self) -> npt.NDArray[np.floating[Any]]: ...
