import numpy as np
import numpy.typing as npt

def overlap_add(
    x: npt.NDArray[np.floating],
    ir: npt.NDArray[np.floating],
    n_fft: int,
    out: npt.NDArray[np.floating],
) -> None: ...
