import numpy as np
import numpy.typing as npt

from fastmel._streambase import Stream

class SosStream(Stream):
    sos: npt.NDArray[np.float64]
    def __init__(self, sos: npt.ArrayLike) -> None: ...
