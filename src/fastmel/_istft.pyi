import numpy as np
import numpy.typing as npt

from fastmel._streambase import Stream

MAX_POSITION: int

class InverseKernel:
    n_fft: int
    n_bins: int
    hop: int
    pad: int
    lag: int
    is_double: bool
    max_value: float
    acc_scale: float
    def __init__(self, n_fft: int, hop_length: int, window: npt.NDArray[np.float64],
                 center: bool, is_double: bool) -> None: ...
    def total(self, T: int, trim_end: bool = ...) -> int: ...

def synthesize(kernel: InverseKernel, S: npt.NDArray[np.complexfloating], n_frames: int,
               out: npt.NDArray[np.floating], trim_end: bool = ...) -> bool: ...

class InverseStream(Stream):
    extractor: object
    def __init__(self, owner: object, kernel: InverseKernel) -> None: ...
