"""Shared fixtures and comparison helpers for the fastmel test suite.

Tolerances come from SPEC.md section 2 and are the only ones used in the suite:
float64 results within 1e-10 and float32 results within 1e-5 of librosa, both
relative to the reference array's largest magnitude; dB values within 0.01 dB
wherever the reference is within 80 dB of its maximum.
"""
import atexit
import os
import shutil
import sys
import tempfile
import warnings
from importlib.resources import files

import numpy as np
import pytest
import soundfile as sf

import librosa

# FFT plans: the session tunes into its own empty cache, as on a fresh CI
# machine, and never reads or writes the user's (subprocesses inherit this).
_PLAN_CACHE = tempfile.mkdtemp(prefix="fastmel-plans-")
os.environ["FASTMEL_CACHE_DIR"] = _PLAN_CACHE
atexit.register(shutil.rmtree, _PLAN_CACHE, ignore_errors=True)

# float64 runs the float64 FFTW path; only rounding-order differences remain.
RTOL_F64 = 1e-10
# float32 runs a float32 FFT while librosa transforms in float64 and casts, so
# single-precision rounding (eps ~ 6e-8, grown by log2(n_fft)) is expected.
RTOL_F32 = 1e-5
# dB outputs are compared in absolute dB, as the spec states them.
DB_TOL = 0.01
# Only the top 80 dB of a dB array is compared: below that, log10 amplifies
# the rounding of near-zero powers and the spec makes no claim.
DB_RANGE = 80.0

SAMPLE_RATES = (16000, 22050)


def rtol_for(dtype):
    """The spec tolerance that applies to an output of ``dtype``."""
    dtype = np.dtype(dtype)
    if dtype in (np.dtype(np.float32), np.dtype(np.complex64)):
        return RTOL_F32
    if dtype in (np.dtype(np.float64), np.dtype(np.complex128)):
        return RTOL_F64
    raise AssertionError(f"no tolerance defined for dtype {dtype}")


def complex_of(dtype):
    """complex64 for float32 input, complex128 for float64 input."""
    return np.result_type(np.dtype(dtype), np.complex64)


def _check_array(got, ref, check_dtype):
    assert isinstance(got, np.ndarray), f"expected ndarray, got {type(got).__name__}"
    assert got.shape == ref.shape, f"shape {got.shape} != reference {ref.shape}"
    if check_dtype:
        assert got.dtype == ref.dtype, f"dtype {got.dtype} != reference {ref.dtype}"


def assert_close_rel(got, ref, rtol_of_max, reason, *, check_dtype=True):
    """Assert ``max|got - ref| <= rtol_of_max * max|ref|`` (shapes and dtypes equal).

    ``reason`` says why this tolerance applies; it is shown when the check fails.
    """
    ref = np.asarray(ref)
    _check_array(got, ref, check_dtype)
    if ref.size == 0:
        return
    assert np.all(np.isfinite(got)), f"non-finite values in result ({reason})"
    ref128 = ref.astype(np.complex128) if np.iscomplexobj(ref) else ref.astype(np.float64)
    got128 = got.astype(np.complex128) if np.iscomplexobj(got) else got.astype(np.float64)
    scale = float(np.max(np.abs(ref128)))
    err = float(np.max(np.abs(got128 - ref128)))
    where = np.unravel_index(int(np.argmax(np.abs(got128 - ref128))), ref.shape)
    assert err <= rtol_of_max * scale, (
        f"max abs error {err:.3e} at {where} exceeds {rtol_of_max:g} x max|ref| "
        f"({scale:.3e}); tolerance reason: {reason}"
    )


def assert_close_dtype(got, ref, reason):
    """assert_close_rel with the spec tolerance for the reference's dtype."""
    assert_close_rel(got, ref, rtol_for(np.asarray(ref).dtype), reason)


def assert_db_close(got, ref, reason, *, tol_db=DB_TOL, range_db=DB_RANGE, check_dtype=True):
    """Assert dB arrays agree within ``tol_db`` wherever ``ref >= max(ref) - range_db``."""
    ref = np.asarray(ref)
    _check_array(got, ref, check_dtype)
    if ref.size == 0:
        return
    mask = ref >= np.max(ref) - range_db
    assert np.any(mask)
    assert np.all(np.isfinite(got[mask])), f"non-finite dB values ({reason})"
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))[mask]
    err = float(np.max(diff))
    assert err <= tol_db, (
        f"max dB error {err:.4g} exceeds {tol_db} dB over the top {range_db} dB; "
        f"tolerance reason: {reason}"
    )


def per_channel(func, x, core_ndim, *args, **kwargs):
    """Apply a single-channel reference ``func`` to every leading index of ``x``.

    The last ``core_ndim`` axes of ``x`` are one channel (1 for audio, 2 for a
    spectrogram); results are stacked back into the leading shape.
    """
    lead = x.shape[: x.ndim - core_ndim]
    out = None
    for idx in np.ndindex(*lead):
        r = np.asarray(func(x[idx], *args, **kwargs))
        if out is None:
            out = np.empty(lead + r.shape, dtype=r.dtype)
        out[idx] = r
    return out


def librosa_quiet(func, *args, **kwargs):
    """Call a librosa function with its UserWarnings/RuntimeWarnings silenced.

    librosa warns for legitimate edge cases (signals shorter than n_fft, empty
    mel filters); the tests compare values and do not require fastmel to warn.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _read_speech(sr):
    resource = files("fastmel") / "data" / f"speech_{sr}.flac"
    with resource.open("rb") as fh:
        y, file_sr = sf.read(fh, dtype="float64", always_2d=False)
    assert file_sr == sr
    assert y.ndim == 1
    return y


@pytest.fixture(scope="session")
def speech_full():
    """Full bundled clips: {(sr, dtype): 1-D array}, float64 and float32."""
    clips = {}
    for sr in SAMPLE_RATES:
        y = _read_speech(sr)
        clips[(sr, np.float64)] = y
        clips[(sr, np.float32)] = y.astype(np.float32)
    for arr in clips.values():
        arr.setflags(write=False)
    return clips


@pytest.fixture(scope="session")
def speech(speech_full):
    """Factory for short excerpts: ``speech(sr, dtype, start=0.2, dur=1.0)``.

    Returns a fresh, writeable, C-contiguous copy. The default excerpt is
    continuous speech; ``start=2.9`` gives an excerpt that contains a pause of
    near-digital silence (useful for dB floors).
    """

    def get(sr=16000, dtype=np.float64, start=0.2, dur=1.0):
        y = speech_full[(sr, dtype)]
        a = int(round(start * sr))
        b = a + int(round(dur * sr))
        assert b <= len(y), "excerpt beyond the end of the clip"
        return np.array(y[a:b], dtype=dtype, copy=True)

    return get


@pytest.fixture(scope="session")
def speech16_f64(speech):
    return speech(16000, np.float64)


@pytest.fixture(scope="session")
def speech16_f32(speech):
    return speech(16000, np.float32)


@pytest.fixture(scope="session")
def speech22_f64(speech):
    return speech(22050, np.float64)


@pytest.fixture(scope="session")
def speech22_f32(speech):
    return speech(22050, np.float32)


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request):
    return request.param


def multichannel(speech, sr, dtype, shape, dur=0.5, quiet_factor=None):
    """A (shape..., n) signal built from different speech excerpts.

    With ``quiet_factor``, every second channel is scaled down, so per-channel
    and whole-array dB floors differ.
    """
    n_ch = int(np.prod(shape))
    chans = []
    for i in range(n_ch):
        y = speech(sr, dtype, start=0.1 + 0.6 * i, dur=dur)
        if quiet_factor is not None and i % 2 == 1:
            y = (y * quiet_factor).astype(dtype)
        chans.append(y)
    return np.stack(chans).reshape(tuple(shape) + (chans[0].shape[0],))


# The test extra installs librosa 0.11 below Python 3.12 and 1.0 from 3.12 on
# (setup.cfg); the two agree on everything fastmel computes except multichannel
# dB scaling, where fastmel follows 1.0 and the tests say which reference they use.
LIBROSA_1 = librosa.__version__.startswith("1.")
_expected = "1." if sys.version_info >= (3, 12) else "0.11"
assert librosa.__version__.startswith(_expected), (
    f"the test extra pins librosa {_expected}* on Python {sys.version_info[:2]}, "
    f"found {librosa.__version__}")


def assert_bits_equal(got, ref, what="stream"):
    """Same type, dtype, shape and bytes (stricter than np.array_equal: -0.0 != +0.0);
    real or complex."""
    assert isinstance(got, np.ndarray)
    assert got.dtype == ref.dtype, f"{what}: dtype {got.dtype} != {ref.dtype}"
    assert got.shape == ref.shape, f"{what}: shape {got.shape} != {ref.shape}"
    if not np.array_equal(got, ref):
        diff = np.abs(got.astype(np.complex128) - ref.astype(np.complex128))
        bad = np.argwhere(diff > 0) if np.all(np.isfinite(diff)) else np.argwhere(~(got == ref))
        raise AssertionError(f"{what}: {len(bad)} values differ, first at {tuple(bad[0])}, "
                             f"max |diff| {np.nanmax(diff):.3e}")
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(ref).tobytes(), \
        f"{what}: equal values but different bits (signed zeros)"


def cut(n, sizes):
    """(start, stop) pairs: ``sizes`` applied cyclically until n samples are used;
    every listed size is used at least once (so listed empty chunks always occur)."""
    if sum(sizes) == 0:
        sizes = list(sizes) + [max(n, 1)]
    bounds, pos, i = [], 0, 0
    while pos < n or i < len(sizes):
        k = sizes[i % len(sizes)]
        bounds.append((min(pos, n), min(pos + k, n)))
        pos += k
        i += 1
    return bounds


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz-examples", type=int, default=None, metavar="N",
        help="total hypothesis examples for tests/test_fuzz.py (a long, randomized fuzzing run; "
             "same as FASTMEL_FUZZ_EXAMPLES=N)")


def pytest_configure(config):
    # test_fuzz.py reads its budget when imported, after this hook runs.
    n = config.getoption("--fuzz-examples")
    if n is not None:
        os.environ["FASTMEL_FUZZ_EXAMPLES"] = str(n)


# --- memory layouts: every one must give its contiguous copy's result --------

def _field(x):
    """A float field of a structured array: 2 + itemsize bytes apart, unaligned."""
    rec = np.zeros(x.shape, [("tag", "<u2"), ("y", x.dtype)])
    rec["y"] = x
    y = rec["y"]
    assert y.strides[-1] == 2 + x.dtype.itemsize and not y.flags.aligned
    return y


def _unaligned(x):
    """Whole-element strides from an odd address."""
    raw = np.zeros(x.size * x.dtype.itemsize + 1, np.uint8)
    y = raw[1:].view(x.dtype).reshape(x.shape)
    y[...] = x
    assert not y.flags.aligned
    return y


def _negative(x):
    y = np.ascontiguousarray(x[..., ::-1])[..., ::-1]
    assert y.shape[-1] < 2 or y.strides[-1] < 0
    return y


def _transposed(x):
    """A (channels, n) view of an (n, channels) array."""
    y = np.swapaxes(np.ascontiguousarray(np.swapaxes(x, -1, -2)), -1, -2)
    assert y.shape[-1] < 2 or not y.flags.c_contiguous
    return y


def _readonly(x):
    y = x.copy()
    y.setflags(write=False)
    return y


def _every_other(x):
    y = np.repeat(x, 2, axis=-1)[..., ::2]
    assert y.shape[-1] < 2 or y.strides[-1] == 2 * x.dtype.itemsize
    return y


def _byteswapped(x):
    y = x.astype(x.dtype.newbyteorder())
    assert not y.dtype.isnative
    return y


#: name -> function making that layout of an array (same values, same dtype
#: but for "byteswapped", whose byte order differs)
LAYOUTS = {"field": _field, "unaligned": _unaligned, "negative": _negative,
           "transposed": _transposed, "readonly": _readonly, "every-other": _every_other,
           "fortran": np.asfortranarray, "byteswapped": _byteswapped}


def layout(name, x):
    """``x`` in the memory layout ``name`` (see LAYOUTS), checked equal to ``x``."""
    y = LAYOUTS[name](x)
    assert np.array_equal(y, x)
    return y
