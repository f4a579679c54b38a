"""fastmel.util.frame against librosa.util.frame.

Framing only copies or views samples, so equality is exact (np.array_equal).
"""
import numpy as np
import pytest

import librosa

import fastmel


def _x(shape, dtype=np.float64, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize(
    "shape, frame_length, hop_length, axis",
    [
        ((1000,), 400, 160, -1),
        ((1000,), 400, 160, 0),
        ((1000,), 1000, 1, -1),  # exactly one frame
        ((1000,), 1, 1, -1),
        ((1000,), 64, 100, -1),  # hop longer than the frame
        ((1001,), 10, 7, 0),
        ((3, 500), 64, 16, -1),
        ((3, 500), 64, 16, 1),
        ((500, 3), 64, 16, 0),
        ((500, 3), 64, 16, -2),
        ((2, 3, 300), 50, 25, -1),
        ((300, 2, 3), 50, 25, 0),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64])
def test_frame_parity(shape, frame_length, hop_length, axis, dtype):
    x = _x(shape, dtype)
    ref = librosa.util.frame(x, frame_length=frame_length, hop_length=hop_length, axis=axis)
    got = fastmel.util.frame(x, frame_length=frame_length, hop_length=hop_length, axis=axis)
    assert got.shape == ref.shape
    assert got.dtype == ref.dtype
    # framing moves samples without arithmetic: exact
    assert np.array_equal(got, ref)


def test_frame_default_axis_is_last():
    x = _x((2, 400))
    got = fastmel.util.frame(x, frame_length=100, hop_length=50)
    assert got.shape == (2, 100, 7)
    assert np.array_equal(got, librosa.util.frame(x, frame_length=100, hop_length=50))


@pytest.mark.parametrize(
    "make",
    [lambda x: x[::3], lambda x: x[::-1], lambda x: np.stack([x, x]).T[:, 0]],
    ids=["step3", "reversed", "column"],
)
def test_frame_non_contiguous(make):
    x = make(_x(3000))
    ref = librosa.util.frame(x, frame_length=64, hop_length=20)
    got = fastmel.util.frame(x, frame_length=64, hop_length=20)
    # exact: no arithmetic
    assert np.array_equal(got, ref)


def test_frame_read_only_input():
    x = _x(1000)
    x.setflags(write=False)
    got = fastmel.util.frame(x, frame_length=100, hop_length=10)
    assert np.array_equal(got, librosa.util.frame(x, frame_length=100, hop_length=10))


def test_frame_keeps_non_finite_values():
    # frame is a pure re-indexing (librosa does not validate finiteness here)
    x = _x(100)
    x[7] = np.nan
    x[50] = np.inf
    got = fastmel.util.frame(x, frame_length=10, hop_length=5)
    ref = librosa.util.frame(x, frame_length=10, hop_length=5)
    assert np.array_equal(got, ref, equal_nan=True)


def test_frame_does_not_mutate_input():
    x = _x(500)
    before = x.copy()
    fastmel.util.frame(x, frame_length=50, hop_length=25)
    assert np.array_equal(x, before)


@pytest.mark.parametrize("hop_length", [0, -1])
def test_frame_bad_hop_length(hop_length):
    with pytest.raises(fastmel.ParameterError, match="hop_length"):
        fastmel.util.frame(_x(100), frame_length=10, hop_length=hop_length)


@pytest.mark.parametrize("frame_length", [0, -1])
def test_frame_bad_frame_length(frame_length):
    # librosa 0.11 returns a degenerate (0, n + 1) array for 0 and raises a
    # numpy ValueError for -1; fastmel treats both as a bad parameter.
    with pytest.raises(fastmel.ParameterError, match="frame_length"):
        fastmel.util.frame(_x(100), frame_length=frame_length, hop_length=1)


@pytest.mark.parametrize("axis", [0, -1])
def test_frame_too_short(axis):
    # librosa raises ParameterError: "Input is too short (n=5) for frame_length=10"
    with pytest.raises(fastmel.ParameterError, match="frame_length"):
        fastmel.util.frame(_x(5), frame_length=10, hop_length=1, axis=axis)


def test_frame_too_short_along_axis_0():
    with pytest.raises(fastmel.ParameterError):
        fastmel.util.frame(_x((5, 100)), frame_length=10, hop_length=1, axis=0)


def test_frame_axis_out_of_range():
    # librosa raises IndexError; numpy's AxisError is both an IndexError and a
    # ValueError (as is ParameterError's base), so either family is accepted.
    with pytest.raises((IndexError, ValueError)):
        fastmel.util.frame(_x(100), frame_length=10, hop_length=1, axis=5)
