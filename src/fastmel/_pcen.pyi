import numpy as np
import numpy.typing as npt

from fastmel._streambase import Stream

class PCENStream(Stream):
    b: float
    gain: float
    bias: float
    power: float
    eps: float
    max_size: int
    def __init__(self, b: float, gain: float, bias: float, power: float, eps: float,
                 max_size: int) -> None: ...

def pcen_rows(x: npt.NDArray[np.floating], ref: npt.NDArray[np.floating],
              z: npt.NDArray[np.float64], out: npt.NDArray[np.floating],
              work: npt.NDArray[np.floating], b: float, gain: float, bias: float,
              power: float, eps: float) -> None: ...
def magnitudes(x: npt.NDArray[np.floating]) -> bool: ...
def work_size(n_ch: int, k: int, dtype: npt.DTypeLike) -> int: ...
def _band_max(x: npt.NDArray[np.floating], size: int) -> npt.NDArray[np.floating]: ...
def math_f64(name: str, x: npt.ArrayLike) -> npt.NDArray[np.float64]: ...
def pcen_step_f64(x: npt.ArrayLike, t: npt.ArrayLike, gain: float, bias: float,
                  power: float) -> npt.NDArray[np.float64]: ...
