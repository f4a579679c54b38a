"""Stream outputs: whatever the caller can still reach stays as it was returned.

A stream hands a small output out again once nothing but the stream holds it
(``Stream.new_out``), so that a stream whose one-frame outputs are dropped at
once makes no arrays.  These tests pin down that an output the caller can
reach in any way is never written again, that one the caller changed is not
handed out again, and that a reused output is indistinguishable from a new one.
"""
import weakref

import numpy as np
import pytest

import fastmel
from conftest import assert_bits_equal
from fastmel.frontends import KaldiFbank

SR = 16000
MEL = dict(sr=SR, n_fft=512, win_length=400, hop_length=160, n_mels=80, to_db=True,
           top_db=None, dtype=np.float32)

STREAMS = {
    "mel": lambda: fastmel.MelSpectrogram(**MEL).stream(),
    "mel-f64": lambda: fastmel.MelSpectrogram(**dict(MEL, dtype=np.float64)).stream(),
    "stft": lambda: fastmel.STFT(n_fft=512, hop_length=160).stream(),
    "mfcc": lambda: fastmel.MFCC(sr=SR, n_mfcc=13, n_fft=512, hop_length=160,
                                 top_db=None).stream(),
    "bandpass": lambda: fastmel.Bandpass(SR, 100, 7000),
    "chain": lambda: fastmel.Chain([fastmel.Bandpass(SR, 100, 7000),
                                    fastmel.MelSpectrogram(**MEL).stream()]),
    "delta-after-mel": lambda: fastmel.Chain([fastmel.MelSpectrogram(**MEL).stream(),
                                              fastmel.Delta(width=3, mode="nearest")]),
    "pcen-after-mel": lambda: fastmel.Chain([
        fastmel.MelSpectrogram(**dict(MEL, to_db=False)).stream(),
        fastmel.PCEN(sr=SR, hop_length=160)]),
    "kaldi-fbank": lambda: KaldiFbank().stream(),
    "convolver": lambda: fastmel.Convolver(np.array([1.0, 0.9, 0.5, 0.25]), block_size=64),
    "noise": lambda: fastmel.NoiseMixer(_signal((3000,), seed=9), gain=0.1, offset=7),
}


def _signal(shape, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(shape)).astype(np.float32)


@pytest.mark.parametrize("lead", [(), (2,)], ids=["mono", "2-channel"])
@pytest.mark.parametrize("name", list(STREAMS))
def test_dropped_outputs_come_back_as_new_ones(name, lead):
    """One chunk of 160 samples at a time, each output checked, scribbled on
    and dropped: every output equals the one of a stream whose outputs are all
    kept (so never handed out again), and is a new array in every respect."""
    y = _signal(lead + (160 * 40 + 77,), seed=1)
    kept, ref, tried = [], STREAMS[name](), STREAMS[name]()
    for i in range(0, y.shape[-1], 160):
        c = y[..., i:i + 160]
        kept.append(ref.process(c))
        got = tried.process(c)
        assert_bits_equal(got, kept[-1], f"{name} at sample {i}")
        assert got.base is None
        assert got.flags.owndata and got.flags.writeable and got.flags.c_contiguous
        got[...] = 7      # the caller's to write: the next output is still right
        del got
    assert_bits_equal(tried.flush(), ref.flush(), f"{name} flush")


def test_dropped_istft_outputs_come_back_as_new_ones():
    """The inverse STFT fed one frame of spectrum at a time, as above."""
    S = fastmel.STFT(n_fft=512, hop_length=160)(_signal((2, 160 * 30), seed=4))
    kept, ref, tried = [], fastmel.ISTFT(n_fft=512, hop_length=160).stream(), \
        fastmel.ISTFT(n_fft=512, hop_length=160).stream()
    for t in range(S.shape[-1]):
        kept.append(ref.process(S[..., t:t + 1]))
        got = tried.process(S[..., t:t + 1])
        assert_bits_equal(got, kept[-1], f"istft at frame {t}")
        got[...] = 7
        del got
    assert_bits_equal(tried.flush(), ref.flush(), "istft flush")


def test_empty_outputs_are_right_too():
    """Empty chunks give (n_mels, 0) outputs, each a new array; then a frame."""
    s, y = STREAMS["mel"](), _signal((800,), seed=5)
    s.process(y[:480])
    for _ in range(3):
        got = s.process(y[:0])
        assert got.shape == (80, 0) and got.dtype == np.float32 and got.flags.owndata
        del got
    assert s.process(y[480:640]).shape == (80, 1)


def _hold(out, how):
    """Something that keeps ``out`` reachable, and how to read the array back."""
    if how == "reference":
        return [out], lambda h: h[0]
    if how == "view":
        return out[..., :], lambda h: h
    if how == "memoryview":
        return memoryview(out), lambda h: np.asarray(h)
    if how == "weakref":
        # the stream may drop it once it cannot reuse it: then there is nothing to read
        return weakref.ref(out), lambda h: h()
    raise AssertionError(how)


@pytest.mark.parametrize("how", ["reference", "view", "memoryview", "weakref"])
@pytest.mark.parametrize("name", ["mel", "bandpass", "chain"])
def test_an_output_the_caller_can_reach_is_never_written_again(name, how):
    y = _signal(160 * 20, seed=2)
    s = STREAMS[name]()
    s.process(y[:480])
    out = s.process(y[480:640])
    saved = out.copy()
    holder, read = _hold(out, how)
    del out
    for i in range(640, y.size, 160):
        s.process(y[i:i + 160])
        held = read(holder)
        if held is not None:
            assert_bits_equal(held, saved, f"{name}: an output held by a {how}")


@pytest.mark.parametrize("change", ["read-only", "reshaped", "retyped"])
@pytest.mark.parametrize("name", ["mel", "bandpass"])
def test_an_output_changed_by_its_caller_is_not_handed_out_again(name, change):
    y = _signal(160 * 10, seed=3)
    ref, s = STREAMS[name](), STREAMS[name]()
    for c in (y[:480], y[480:640]):
        want = ref.process(c)
        out = s.process(c)
    if change == "read-only":
        out.flags.writeable = False
    elif change == "reshaped":
        out.shape = (-1,)
    else:
        out.dtype = np.int32           # same item size: the same bytes seen as integers
    del out
    want = ref.process(y[640:800])
    got = s.process(y[640:800])
    assert_bits_equal(got, want, f"{name} after the caller's output was {change}")
    assert got.flags.writeable and got.flags.c_contiguous and got.flags.owndata
