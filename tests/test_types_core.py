"""Typed public API of the feature modules: every public function, method and
property written in Python carries annotations for all its parameters and its
return, every read-only setting of an extractor has a declared type, and a
type checker (when one is installed) accepts ordinary use and refuses misuse."""

import pytest

import fastmel
from _mypy import (assert_annotated, assert_every_line_flagged_from, mypy_errors,
                   public_python_callables)
from fastmel.extractors import _Setting

# The Python modules whose public API is annotated here (the compiled ``_``
# modules are described by their ``.pyi`` stubs).
MODULES = ("cepstral", "convert", "extractors", "feature", "filters", "spectrum", "util")


CALLABLES = public_python_callables(MODULES)


def test_the_api_is_found():
    # the walk above must reach the API, or the checks below check nothing
    names = {name for name, _ in CALLABLES}
    for expected in ("fastmel.spectrum.stft", "fastmel.feature.mfcc", "fastmel.filters.mel",
                     "fastmel.util.frame", "fastmel.convert.times_like",
                     "fastmel.extractors.MelSpectrogram.__call__",
                     "fastmel.extractors.MelSpectrogram.stream",
                     "fastmel.extractors.MFCC.melspec", "fastmel.extractors.ISTFT.kernel"):
        assert expected in names


@pytest.mark.parametrize("name, func", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_public_callable_is_annotated(name, func):
    assert_annotated(name, func)


@pytest.mark.parametrize("cls", [fastmel.STFT, fastmel.ISTFT, fastmel.MelSpectrogram,
                                 fastmel.MFCC])
def test_every_setting_has_a_declared_type(cls):
    settings = {name for klass in cls.__mro__ for name, value in vars(klass).items()
                if isinstance(value, _Setting)}
    declared = {name for klass in cls.__mro__
                for name in vars(klass).get("__annotations__", {})}
    assert settings, cls
    assert settings <= declared, f"{cls.__name__}: settings without a type: {settings - declared}"


_USE = '''
    from typing import Any

    import numpy as np
    import numpy.typing as npt
    import fastmel

    y = np.zeros(16000, dtype=np.float32)
    m = fastmel.MelSpectrogram(sr=16000, n_fft=512, n_mels=40, to_db=True)
    n_fft: int = m.n_fft
    top_db: float | None = m.top_db
    S: npt.NDArray[np.floating[Any]] = m(y)
    D: npt.NDArray[np.complexfloating[Any, Any]] = fastmel.stft(y, n_fft=512, hop_length=128)
    frames: npt.NDArray[np.float32] = fastmel.util.frame(y, frame_length=400, hop_length=160)
    dB = fastmel.power_to_db(np.abs(D) ** 2, ref=np.max, top_db=None)
    M = fastmel.feature.mfcc(y=y, sr=16000, n_mfcc=13, n_mels=40, hop_length=160)
    W = fastmel.filters.mel(sr=16000, n_fft=512, n_mels=40, fmax=None)
    chunk_out = m.stream().process(y[:160])
'''

# Each line is misuse a type checker must report (the examples first).
_MISUSE = '''
    import numpy as np
    import fastmel

    y = np.zeros(16000, dtype=np.float32)
    m = fastmel.MelSpectrogram(sr="16000")
    fastmel.MelSpectrogram(n_fft=512.5)
    m.n_fft = 1024
    fastmel.feature.melspectrogram(y=y, n_mel=40)
    fastmel.stft(y, hop=128)
    fastmel.filters.mel(sr=16000, n_fft=512, htk="yes")
    fastmel.feature.mfcc(y=y, top_db=80.0)
'''


def test_type_checker_accepts_ordinary_use(tmp_path):
    assert mypy_errors(tmp_path, _USE) == []


def test_type_checker_refuses_misuse(tmp_path):
    assert_every_line_flagged_from(tmp_path, _MISUSE, "sr=\"16000\"")
