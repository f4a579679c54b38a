"""Cepstral maths of MFCCs: the DCT matrix, liftering, and the checks of their parameters.

Shared by :class:`fastmel.MFCC`, whose per-frame kernel folds the DCT and
the lifter into one matrix, and :func:`fastmel.feature.mfcc` on a dB mel
spectrogram.  The DCT matches ``scipy.fft.dct`` as librosa calls it.
"""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from fastmel import _checks
from fastmel.exceptions import ParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["dct_matrix", "lifted_dct_matrix", "check_mfcc_params", "lifter_gains", "cepstrum"]


def dct_matrix(n_out: int, n_in: int, dct_type: int, norm: str | None,
               dtype: npt.DTypeLike) -> npt.NDArray[np.floating[Any]]:
    """The (n_out, n_in) matrix of scipy.fft.dct(x, type=dct_type, norm=norm)[:n_out].

    ``dct_type`` and ``norm`` come checked by :func:`check_mfcc_params` (every
    caller's boundary); only what depends on ``n_in`` is checked here.
    """
    k = np.arange(n_out, dtype=np.float64)[:, None]
    n = np.arange(n_in, dtype=np.float64)[None, :]
    N = n_in
    if dct_type == 2:
        C = 2.0 * np.cos(np.pi * k * (2 * n + 1) / (2 * N))
        if norm == "ortho":
            C *= np.where(k == 0, np.sqrt(1.0 / (4 * N)), np.sqrt(1.0 / (2 * N)))
    elif dct_type == 3:
        C = 2.0 * np.cos(np.pi * (2 * k + 1) * n / (2 * N))
        C[:, 0] = 1.0
        if norm == "ortho":
            C[:, 0] /= np.sqrt(N)
            C[:, 1:] *= np.sqrt(1.0 / (2 * N))
    else:
        if N < 2:
            raise ParameterError("dct_type=1 needs at least 2 mel bands")
        C = 2.0 * np.cos(np.pi * k * n / (N - 1))
        C[:, 0] = 1.0
        C[:, -1] = (-1.0) ** k[:, 0]
        if norm == "ortho":
            C[:, 0] *= np.sqrt(2.0)
            C[:, -1] *= np.sqrt(2.0)
            C *= np.sqrt(1.0 / (2 * (N - 1)))
            C[k[:, 0] == 0] /= np.sqrt(2.0)
            C[k[:, 0] == N - 1] /= np.sqrt(2.0)
    return C.astype(dtype)


def check_mfcc_params(n_mfcc: int, dct_type: int, norm: str | None,
                      lifter: float) -> tuple[int, float]:
    """``n_mfcc`` as an int and ``lifter`` as a float, checked with ``dct_type`` and ``norm``."""
    n_mfcc = _checks.positive_int(n_mfcc, "n_mfcc")
    if isinstance(lifter, bool) or not isinstance(lifter, numbers.Real) or not lifter >= 0 \
            or not np.isfinite(cast(float, lifter)):
        raise ParameterError(f"lifter must be a non-negative number, got {lifter!r}")
    if dct_type not in (1, 2, 3):
        raise ParameterError(f"dct_type must be 1, 2 or 3, got {dct_type!r}")
    if norm not in (None, "ortho"):
        raise ParameterError(f"norm must be None or 'ortho', got {norm!r}")
    return n_mfcc, float(lifter)


def lifter_gains(n: int, lifter: float, dtype: npt.DTypeLike) -> npt.NDArray[np.floating[Any]]:
    """Gain of each of n cepstral coefficients: 1 + (L/2) sin(pi k / L), k = 1..n (1 for L = 0)."""
    if lifter == 0:
        return np.ones(n, dtype=dtype)
    li = np.sin(np.pi * np.arange(1, 1 + n, dtype=dtype) / lifter)
    return 1 + (lifter / 2) * li


def lifted_dct_matrix(n_out: int, n_in: int, dct_type: int, norm: str | None,
                      lifter: float) -> npt.NDArray[np.floating[Any]]:
    """:func:`dct_matrix` in float64 with liftering folded into its rows: one
    matrix taking a frame's dB mel values to its liftered MFCCs (liftering
    scales each coefficient)."""
    dct = dct_matrix(n_out, n_in, dct_type, norm, np.float64)
    dct *= lifter_gains(n_out, lifter, np.float64)[:, None]
    return dct


def cepstrum(S_db: npt.NDArray[np.floating[Any]], dct: npt.NDArray[np.floating[Any]],
             lifter: float) -> npt.NDArray[np.floating[Any]]:
    """MFCCs of a dB mel spectrogram ``(..., n_mels, t)``: DCT over mels, then liftering."""
    # contiguous: numpy's matmul rounds differently for other layouts
    M: npt.NDArray[np.floating[Any]] = np.matmul(dct.astype(S_db.dtype, copy=False),
                                                 np.ascontiguousarray(S_db))
    if lifter > 0:
        M *= lifter_gains(M.shape[-2], lifter, M.dtype)[:, None]
    return M


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
