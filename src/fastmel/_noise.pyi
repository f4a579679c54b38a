import numpy as np
import numpy.typing as npt

from fastmel._streambase import Stream

class NoiseAdder(Stream):
    noise: npt.NDArray[np.floating]
    gain: float
    offset: int
    def __init__(self, noise: npt.NDArray[np.floating], gain: float, offset: int) -> None: ...
