from typing import Any

import numpy as np
import numpy.typing as npt

def overlap_add(
    x: npt.NDArray[np.floating[Any]],
    ir: npt.NDArray[np.floating[Any]],
    n_fft: int,
    out: npt.NDArray[np.floating[Any]],
) -> None: ...
