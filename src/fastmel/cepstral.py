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

    Parameters
    ----------
    n_out : int >= 0
        Coefficients kept (the matrix's rows): the first ``n_out`` of the DCT.
    n_in : int > 0
        Length of the transformed axis (the number of mel bands).
    dct_type : {1, 2, 3}
        The DCT type, as ``scipy.fft.dct`` means it.
    norm : {None, "ortho"}
        The normalisation, as ``scipy.fft.dct`` means it.
    dtype : numpy dtype
        The returned matrix's dtype (computed in float64, then converted).

    Returns
    -------
    np.ndarray [shape=(n_out, n_in), dtype=dtype]
        ``C @ x`` equals ``scipy.fft.dct(x, type=dct_type, norm=norm)[:n_out]``.

    Raises
    ------
    ParameterError
        ``dct_type=1`` with fewer than 2 input values.
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
    matrix: npt.NDArray[np.floating[Any]] = C.astype(dtype)
    return matrix


def check_mfcc_params(n_mfcc: int, dct_type: int, norm: str | None,
                      lifter: float) -> tuple[int, float]:
    """``n_mfcc`` as an int and ``lifter`` as a float, checked with ``dct_type`` and ``norm``.

    Parameters
    ----------
    n_mfcc : int > 0
        Coefficients per frame.
    dct_type : {1, 2, 3}
        The DCT type.
    norm : {None, "ortho"}
        The DCT normalisation.
    lifter : number >= 0
        The liftering parameter (0: no liftering).

    Returns
    -------
    n_mfcc : int
        ``n_mfcc`` as a Python int.
    lifter : float
        ``lifter`` as a Python float.

    Raises
    ------
    ParameterError
        Any of the four outside what is allowed above.
    """
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
    """Gain of each of n cepstral coefficients: 1 + (L/2) sin(pi k / L), k = 1..n (1 for L = 0).

    Parameters
    ----------
    n : int >= 0
        Number of coefficients.
    lifter : float >= 0
        The liftering parameter L, as :func:`check_mfcc_params` returns it.
    dtype : numpy floating dtype
        The dtype the gains are computed and returned in.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=dtype]
        The gain of coefficient k - 1 at index k - 1.
    """
    gains: npt.NDArray[np.floating[Any]]
    if lifter == 0:
        gains = np.ones(n, dtype=dtype)
    else:
        li = np.sin(np.pi * np.arange(1, 1 + n, dtype=dtype) / lifter)
        gains = 1 + (lifter / 2) * li
    return gains


def lifted_dct_matrix(n_out: int, n_in: int, dct_type: int, norm: str | None,
                      lifter: float) -> npt.NDArray[np.floating[Any]]:
    """:func:`dct_matrix` in float64 with liftering folded into its rows.

    One matrix taking a frame's dB mel values to its liftered MFCCs
    (liftering scales each coefficient).

    Parameters
    ----------
    n_out : int >= 0
        Coefficients kept (the matrix's rows).
    n_in : int > 0
        Length of the transformed axis (the number of mel bands).
    dct_type : {1, 2, 3}
        The DCT type, as ``scipy.fft.dct`` means it.
    norm : {None, "ortho"}
        The normalisation, as ``scipy.fft.dct`` means it.
    lifter : float >= 0
        The liftering parameter (0: none), as :func:`check_mfcc_params` returns it.

    Returns
    -------
    np.ndarray [shape=(n_out, n_in), dtype=float64]
        Row k is :func:`dct_matrix`'s row k times ``lifter_gains(n_out, lifter)[k]``.
    """
    dct = dct_matrix(n_out, n_in, dct_type, norm, np.float64)
    dct *= lifter_gains(n_out, lifter, np.float64)[:, None]
    return dct


def cepstrum(S_db: npt.NDArray[np.floating[Any]], dct: npt.NDArray[np.floating[Any]],
             lifter: float) -> npt.NDArray[np.floating[Any]]:
    """Compute the MFCCs of a dB mel spectrogram: DCT over mels, then liftering.

    Parameters
    ----------
    S_db : np.ndarray [shape=(..., n_mels, t)]
        The dB mel spectrogram (float32 or float64).
    dct : np.ndarray [shape=(n_mfcc, n_mels)]
        The DCT matrix (:func:`dct_matrix`), used in ``S_db``'s dtype.
    lifter : float >= 0
        The liftering parameter (0: none).

    Returns
    -------
    np.ndarray [shape=(..., n_mfcc, t), dtype=S_db.dtype]
        The coefficients of each frame.
    """
    # contiguous: numpy's matmul rounds differently for other layouts
    M: npt.NDArray[np.floating[Any]] = np.matmul(dct.astype(S_db.dtype, copy=False),
                                                 np.ascontiguousarray(S_db))
    if lifter > 0:
        M *= lifter_gains(M.shape[-2], lifter, M.dtype)[:, None]
    return M


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only, not the imports.
    return sorted(__all__)
