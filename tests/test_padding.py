"""The analysis pads a signal's ends by slicing (np.pad's generality costs more
than analysing a short clip): bit for bit what np.pad gives."""
import numpy as np
import pytest

from fastmel._spectral import pad_ends

MODES = ["constant", "edge", "reflect", "symmetric", "linear_ramp"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pad_ends_equals_np_pad(mode, dtype):
    rng = np.random.default_rng(1)
    for n in list(range(0, 12)) + [256, 257, 512]:
        seg = rng.standard_normal((3, n)).astype(dtype)
        for left, right in [(0, 0), (1, 0), (0, 1), (n // 2, 0), (0, n // 2), (n - 1, 0),
                            (0, n - 1), (n, 0), (0, n), (n + 3, 0), (0, 2 * n + 1)]:
            if left < 0 or right < 0:
                continue
            try:
                want = np.pad(seg, ((0, 0), (left, right)), mode=mode)
            except ValueError:
                with pytest.raises(ValueError):
                    pad_ends(seg, left, right, mode)
                continue
            got = pad_ends(seg, left, right, mode)
            assert got.flags.c_contiguous and got.dtype == want.dtype
            assert got.shape == want.shape and np.array_equal(got, want), (n, left, right)
            # the segment is copied, never aliased
            assert not np.shares_memory(got, seg)


def test_pad_ends_of_a_strided_segment():
    x = np.random.default_rng(2).standard_normal((2, 400)).astype(np.float32)
    seg = x[:, ::-3][:, :100]
    for mode in MODES:
        assert np.array_equal(pad_ends(seg, 50, 50, mode),
                              np.pad(seg, ((0, 0), (50, 50)), mode=mode))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_centred_analysis_of_a_long_signal_equals_padding_it_whole(dtype):
    # A long signal's ends are padded apart from it (both ends of every row at
    # once): the frames must be those of the whole signal padded by np.pad.
    import fastmel
    y = np.random.default_rng(3).standard_normal((2, 3, 4001)).astype(dtype)[..., ::2]
    for mode in MODES:
        centred = fastmel.STFT(n_fft=256, hop_length=96, pad_mode=mode, dtype=dtype)
        plain = fastmel.STFT(n_fft=256, hop_length=96, center=False, dtype=dtype)
        padded = np.pad(y, ((0, 0), (0, 0), (128, 128)), mode=mode)
        assert np.array_equal(centred(y), plain(padded)), mode
