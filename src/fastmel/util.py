"""Array utilities."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, overload

import numpy as np

from fastmel import _checks
from fastmel._analysis import MAX_HOP
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["frame"]

_Scalar = TypeVar("_Scalar", bound=np.generic)


@overload
def frame(x: npt.NDArray[_Scalar], *, frame_length: int, hop_length: int,
          axis: int = -1) -> npt.NDArray[_Scalar]: ...


@overload
def frame(x: npt.ArrayLike, *, frame_length: int, hop_length: int,
          axis: int = -1) -> npt.NDArray[Any]: ...


def frame(x: npt.ArrayLike, *, frame_length: int, hop_length: int,
          axis: int = -1) -> npt.NDArray[Any]:
    """Slice ``x`` into overlapping frames, as a read-only view (``librosa.util.frame``).

    Parameters
    ----------
    x : np.ndarray
    frame_length : int > 0
    hop_length : int, 0 < hop_length <= 2**48
    axis : int
        The axis to frame.  For ``axis=-1`` the result is
        ``(..., frame_length, n_frames)``; for ``axis=0``,
        ``(n_frames, frame_length, ...)``.

    Returns
    -------
    np.ndarray, with ``n_frames = 1 + (x.shape[axis] - frame_length) // hop_length``

    Raises
    ------
    ParameterError
        ``x`` shorter than ``frame_length`` along ``axis``, or a bad length.
    """
    x = np.asarray(x)
    frame_length = _checks.positive_int(frame_length, "frame_length")
    hop_length = _checks.positive_int(hop_length, "hop_length", maximum=MAX_HOP)
    if x.ndim == 0:
        raise ParameterError("x must have at least one dimension")
    if not -x.ndim <= axis < x.ndim:
        raise ParameterError(f"axis={axis} is out of range for an array of {x.ndim} dimensions")
    if x.shape[axis] < frame_length:
        raise ParameterError(
            f"Input is too short (n={x.shape[axis]}) for frame_length={frame_length}")
    windows = np.lib.stride_tricks.sliding_window_view(x, frame_length, axis=axis)
    # The window axis comes out last; librosa puts it just before a negative
    # frame axis or just after a non-negative one.
    windows = np.moveaxis(windows, -1, axis - 1 if axis < 0 else axis + 1)
    sel = [slice(None)] * windows.ndim
    sel[axis] = slice(0, None, hop_length)
    return windows[tuple(sel)]


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
