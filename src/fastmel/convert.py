"""Unit conversions: Hz <-> mel (Slaney or HTK), FFT bin frequencies."""
import numpy as np

__all__ = ["hz_to_mel", "mel_to_hz", "mel_frequencies", "fft_frequencies"]

# Slaney's Auditory Toolbox scale: linear below 1 kHz (200/3 Hz per mel),
# logarithmic above, with 27 mels per factor 6.4 in frequency.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(frequencies, *, htk=False):
    """Convert Hz to mels.

    Parameters
    ----------
    frequencies : number or np.ndarray [shape=(n,)]
    htk : bool
        Use the HTK formula ``2595 * log10(1 + f / 700)`` instead of Slaney's.

    Returns
    -------
    mels : number or np.ndarray [shape=(n,)]
    """
    f = np.asanyarray(frequencies, dtype=np.float64)
    if htk:
        return 2595.0 * np.log10(1.0 + f / 700.0)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(f, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOGSTEP
    return np.where(f >= _MIN_LOG_HZ, log_part, f / _F_SP)


def mel_to_hz(mels, *, htk=False):
    """Convert mels to Hz (the inverse of :func:`hz_to_mel`)."""
    m = np.asanyarray(mels, dtype=np.float64)
    if htk:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    log_part = _MIN_LOG_HZ * np.exp(_LOGSTEP * (np.maximum(m, _MIN_LOG_MEL) - _MIN_LOG_MEL))
    return np.where(m >= _MIN_LOG_MEL, log_part, _F_SP * m)


def mel_frequencies(n_mels=128, *, fmin=0.0, fmax=11025.0, htk=False):
    """``n_mels`` frequencies (Hz) evenly spaced on the mel scale from fmin to fmax."""
    mels = np.linspace(hz_to_mel(fmin, htk=htk), hz_to_mel(fmax, htk=htk), n_mels)
    return mel_to_hz(mels, htk=htk)


def fft_frequencies(*, sr=22050, n_fft=2048):
    """Centre frequency (Hz) of each of the ``1 + n_fft // 2`` real-FFT bins."""
    return np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
