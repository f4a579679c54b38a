"""Extractors' settings: readable, read-only attributes and a repr that rebuilds them.

Every value ``repr(m)`` shows is the attribute of that name (resolved:
defaults such as ``hop_length=None`` or ``fmax=None`` applied), the
configuration cannot be changed after the extractor is made, and
``eval(repr(m))`` with the names of ``from fastmel import *`` builds an
extractor with the same settings and the same output.
"""
import ast
import inspect
import pickle

import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal

NAMES = {name: getattr(fastmel, name) for name in fastmel.__all__}  # from fastmel import *

CONFIGS = {
    "stft-defaults": lambda: fastmel.STFT(),
    "stft-hop-none": lambda: fastmel.STFT(n_fft=512, win_length=400, window="hamming",
                                          pad_mode="reflect", dtype=np.complex128),
    "stft-uncentred-kaiser": lambda: fastmel.STFT(n_fft=256, hop_length=100, center=False,
                                                  window=("kaiser", 8.0)),
    "mel-defaults": lambda: fastmel.MelSpectrogram(),
    "mel-db": lambda: fastmel.MelSpectrogram(sr=16000, n_fft=512, win_length=400, hop_length=160,
                                             n_mels=80, fmin=20, fmax=7600, htk=True, to_db=True,
                                             ref=2, amin=1e-8, top_db=70, dtype=np.float64),
    "mel-p-norm": lambda: fastmel.MelSpectrogram(sr=np.float64(8000), n_fft=np.int64(256),
                                                 n_mels=20, norm=np.inf, power=1,
                                                 hop_length=None),
    "mfcc-defaults": lambda: fastmel.MFCC(),
    "mfcc-stream": lambda: fastmel.MFCC(n_mfcc=13, dct_type=3, norm=None, lifter=22,
                                        mel_norm=None, top_db=None, sr=16000, n_fft=512,
                                        hop_length=160, n_mels=40, fmax=None, dtype="float64"),
}


def shown(m):
    """The (name, source text) of every argument in ``repr(m)``, in order."""
    call = ast.parse(repr(m), mode="eval").body
    assert isinstance(call, ast.Call) and call.func.id == type(m).__name__ and not call.args
    return [(kw.arg, ast.get_source_segment(repr(m), kw.value)) for kw in call.keywords]


def parameters(cls):
    """The keyword parameters an extractor class takes (MFCC's **kwargs are
    MelSpectrogram's, but for the dB switch and the mel norm it names itself)."""
    names = [p for p in inspect.signature(cls).parameters if p != "kwargs"]
    if cls is fastmel.MFCC:
        names += [p for p in inspect.signature(fastmel.MelSpectrogram).parameters
                  if p not in ("to_db", "norm", "top_db")]
    return names


@pytest.mark.parametrize("config", list(CONFIGS))
def test_every_shown_value_is_an_attribute_equal_to_it(config):
    m = CONFIGS[config]()
    fields = shown(m)
    assert sorted(name for name, _ in fields) == sorted(parameters(type(m)))
    for name, text in fields:
        value = eval(text, NAMES)
        assert getattr(m, name) == value, (name, text, getattr(m, name))


@pytest.mark.parametrize("config", list(CONFIGS))
def test_settings_cannot_be_changed(config):
    m = CONFIGS[config]()
    before = repr(m)
    for name, _ in shown(m):
        with pytest.raises(AttributeError, match=f"{name} is read-only"):
            setattr(m, name, getattr(m, name))
        with pytest.raises(AttributeError, match=f"{name} is read-only"):
            delattr(m, name)
    assert repr(m) == before


@pytest.mark.parametrize("config", list(CONFIGS))
def test_repr_rebuilds_the_same_extractor(config, speech16_f64):
    m = CONFIGS[config]()
    again = eval(repr(m), NAMES)
    assert type(again) is type(m) and repr(again) == repr(m)
    for name, _ in shown(m):
        assert getattr(again, name) == getattr(m, name), name
    y = speech16_f64[:4000].astype(m.dtype)
    assert_bits_equal(again(y), m(y), "rebuilt from its repr")


def test_settings_are_resolved():
    s = fastmel.STFT(n_fft=512, win_length=400, dtype=np.complex64)
    assert (s.hop_length, s.win_length, s.dtype) == (100, 400, np.dtype(np.float32))
    m = fastmel.MelSpectrogram(sr=16000, n_fft=np.int64(512), hop_length=160, fmin=20)
    assert (m.win_length, m.fmax, m.fmin, m.sr) == (512, 8000.0, 20.0, 16000.0)
    assert type(m.n_fft) is int and type(m.sr) is float and type(m.n_mels) is int
    c = fastmel.MFCC(sr=16000, dct_type=np.int64(2), lifter=22)
    assert (c.dct_type, c.lifter, c.fmax) == (2, 22.0, 8000.0)
    assert type(c.dct_type) is int and c.melspec.to_db


def test_array_window_is_shown_by_its_shape():
    window = np.hanning(400)
    m = fastmel.MelSpectrogram(n_fft=512, win_length=400, window=window)
    assert "window=<array of shape (400,)>" in repr(m)
    assert m.window is window


@pytest.mark.parametrize("config", ["stft-hop-none", "mel-db", "mfcc-stream"])
def test_pickle_keeps_the_settings(config):
    m = CONFIGS[config]()
    again = pickle.loads(pickle.dumps(m))
    assert repr(again) == repr(m)
