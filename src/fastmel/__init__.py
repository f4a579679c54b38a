"""fastmel: librosa-exact audio features and recording simulation, on a Cython + FFTW core.

The public functions live at librosa's paths (``fastmel.stft``,
``fastmel.feature.melspectrogram``, ``fastmel.filters.mel``, ...), so moving
from librosa is a rename.
"""
from fastmel import (cepstral, chain, convert, convolution, deltas, design, exceptions,
                     extractors, feature, filters, frontends, iir, noise, plans, spectrum, util)
from fastmel._streambase import Stream
from fastmel._version import __version__
from fastmel.exceptions import ParameterError
from fastmel.extractors import ISTFT, MFCC, STFT, MelSpectrogram
from fastmel.feature import melspectrogram, mfcc
from fastmel.convert import (db_to_amplitude, db_to_power, fft_frequencies, frames_to_samples,
                             frames_to_time, hz_to_mel, mel_frequencies, mel_to_hz,
                             samples_to_frames, time_to_frames, times_like)
from fastmel.convolution import Convolver, convolve
from fastmel.chain import Chain
from fastmel.deltas import Delta
from fastmel.iir import Bandpass
from fastmel.noise import NoiseMixer, add_noise
from fastmel.pcen import PCEN, pcen
from fastmel.plans import get_plan_mode, set_plan_mode
from fastmel.spectrum import amplitude_to_db, istft, power_to_db, stft

__all__ = [
    "__version__",
    "ParameterError",
    "stft",
    "istft",
    "power_to_db",
    "amplitude_to_db",
    "melspectrogram",
    "mfcc",
    "hz_to_mel",
    "mel_to_hz",
    "mel_frequencies",
    "fft_frequencies",
    "db_to_power",
    "db_to_amplitude",
    "frames_to_time",
    "time_to_frames",
    "frames_to_samples",
    "samples_to_frames",
    "times_like",
    "STFT",
    "ISTFT",
    "MelSpectrogram",
    "MFCC",
    "Bandpass",
    "convolve",
    "Convolver",
    "add_noise",
    "NoiseMixer",
    "Chain",
    "pcen",
    "PCEN",
    "Delta",
    "Stream",
    "set_plan_mode",
    "get_plan_mode",
    "feature",
    "filters",
    "frontends",
    "util",
    "convert",
]

# The public modules: dir(fastmel) lists them beside __all__ (which names only
# a few, so that a star import does not bind names such as ``noise`` or
# ``chain``); the compiled ``_`` modules are private.  The
# module fastmel.pcen is reached by its full name: ``fastmel.pcen`` is the
# function, as ``librosa.pcen`` is.
_MODULES = (cepstral, chain, convert, convolution, deltas, design, exceptions, extractors,
            feature, filters, frontends, iir, noise, plans, spectrum, util)


def __dir__() -> list[str]:
    # PEP 562: dir() and tab completion show the public names only.
    return sorted(set(__all__) | {module.__name__.rpartition(".")[2] for module in _MODULES})
