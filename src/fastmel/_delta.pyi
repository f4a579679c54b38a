import numpy as np
import numpy.typing as npt

from fastmel._streambase import Stream

MODES: tuple[str, ...]

def delta_rows(
    x: npt.NDArray[np.floating], poly: npt.NDArray[np.float64], mode: int, cval: float,
) -> npt.NDArray[np.floating]: ...

class DeltaStream(Stream):
    coeffs: npt.NDArray[np.float64]
    def __init__(self, poly: npt.NDArray[np.float64], mode: str, cval: float) -> None: ...
