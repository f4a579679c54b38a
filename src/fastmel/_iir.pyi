from typing import Any

import numpy as np
import numpy.typing as npt
from typing_extensions import disjoint_base

from fastmel._streambase import Stream

@disjoint_base
class SosStream(Stream):
    @property
    def sos(self) -> npt.NDArray[np.float64]: ...
    def __init__(self, sos: npt.ArrayLike) -> None: ...
    def process(self, chunk: npt.ArrayLike) -> npt.NDArray[np.floating[Any]]: ...
    def flush(self) -> npt.NDArray[np.floating[Any]]: ...
