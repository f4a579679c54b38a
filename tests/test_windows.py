"""fastmel.filters.get_window against scipy.signal.get_window (what librosa calls).

fastmel computes every window itself with numpy; scipy is only the reference.
"""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.signal
import scipy.signal.windows

import librosa

import fastmel
from conftest import assert_bits_equal, assert_close_dtype, librosa_quiet
from fastmel import ParameterError
from fastmel._windows import MAX_DB
from fastmel.filters import WINDOWS, get_window

EPS = np.finfo(np.float64).eps

# Every length up to 70 (odd and even, the smallest cases of every formula),
# then lengths around powers of two and audio window sizes up to 4096.
LENGTHS = list(range(1, 71)) + [97, 127, 128, 255, 256, 400, 511, 512, 1000, 1023, 1024, 2047,
                                2048, 4095, 4096]

# Names without parameters (the last three with their default parameters) and
# tuples over the range of each parameter; the names are scipy's that every
# scipy >= 1.11 knows.
SPECS = [
    "barthann", "bartlett", "blackman", "blackmanharris", "bohman", "boxcar", "cosine",
    "flattop", "hamming", "hann", "lanczos", "nuttall", "parzen", "triang",
    "tukey", "exponential", "taylor",
    ("kaiser", 0.0), ("kaiser", 1.0), ("kaiser", 8.6), ("kaiser", 14.0),
    ("kaiser", 30.0),  # where fastmel's Bessel function changes from series to asymptotic
    ("kaiser", 100.0), ("kaiser", 709.0),
    8.6, 3, np.float32(5.0),  # a number is a Kaiser beta
    ("gaussian", 0.3), ("gaussian", 7), ("gaussian", 1e3),
    ("general_gaussian", 1.5, 7), ("general_gaussian", 0.5, 2.0), ("general_gaussian", 4, 100),
    ("general_cosine", [0.5, 0.5]), ("general_cosine", (0.3635819, 0.4891775, 0.1365995)),
    ("general_hamming", 0.6), ("general_hamming", 0.0),
    ("tukey", 0.25), ("tukey", 0.001), ("tukey", 0.999), ("tukey", 0.0), ("tukey", -1.0),
    ("tukey", 1.0), ("tukey", 3.0),
    ("exponential", None, 3.0), ("exponential", None, 0.05), ("exponential", 2.0, 3.0),
    ("taylor", 5, 40, False), ("taylor", 1), ("taylor", 4, 0.0), ("taylor", 400, 30),
    ("taylor", 10, 300),
    ("chebwin", 100), ("chebwin", 45), ("chebwin", 300), ("chebwin", -80), ("chebwin", 6000),
    ("kaiser bessel derived", 5.0), ("kaiser bessel derived", 0.0),
]
# scipy refuses these at every length (fastmel too, checked by _compare).
REFUSED = [("kaiser bessel derived", 5.0, True), ("kaiser bessel derived", 0.0, True),
           ("exponential", 2.0, 3.0, False)]  # symmetric only; periodic only with a center
DPSS = [("dpss", 0.01), ("dpss", 0.5), ("dpss", 3), ("dpss", 16)]


def _scipy(spec, n, fftbins):
    """scipy's window, or the error it raises (ValueError; before scipy 1.17,
    TypeError for parameters a window does not take)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # chebwin below 45 dB
            return scipy.signal.get_window(spec, n, fftbins=fftbins)
    except (ValueError, TypeError) as error:
        return error


def _compare(spec, fftbins, tolerance):
    """fastmel's window equals scipy's within ``tolerance(n)`` at every length;
    where scipy refuses or makes a window that is all zeros,
    fastmel raises ParameterError.  Returns how many windows were compared."""
    compared = 0
    for n in LENGTHS:
        ref = _scipy(spec, n, fftbins)
        if isinstance(ref, Exception) or not np.any(ref):
            with pytest.raises(ParameterError, match="window"):
                get_window(spec, n, fftbins=fftbins)
            continue
        if not np.all(np.isfinite(ref)):
            # scipy's sums overflow (chebwin from about 6000 - 20 log10(n) dB); fastmel's don't.
            assert np.all(np.isfinite(get_window(spec, n, fftbins=fftbins)))
            continue
        got = get_window(spec, n, fftbins=fftbins)
        assert got.dtype == np.float64 and got.shape == (n,)
        err = np.max(np.abs(got - ref))
        assert err <= tolerance(n), f"{spec!r}, n={n}, fftbins={fftbins}: max |diff| {err:.3g}"
        compared += 1
    return compared


@pytest.mark.filterwarnings("ignore::UserWarning")  # chebwin below 45 dB, as in scipy
@pytest.mark.parametrize("fftbins", [True, False], ids=["periodic", "symmetric"])
@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_windows_equal_scipy(spec, fftbins):
    # The same definitions in float64; the Kaiser window's Bessel function
    # (fastmel's series, scipy's Chebyshev expansion) agree within a few ulp,
    # the Chebyshev window's FFTs (numpy's, scipy's) and the Taylor window's
    # sums differ in rounding order only: measured below 2e-14.
    compared = _compare(spec, fftbins, lambda n: 1e-12)
    if isinstance(spec, tuple) and spec + (fftbins,) in REFUSED:
        assert compared == 0
    else:
        assert compared >= len(LENGTHS) // 2


@pytest.mark.parametrize("fftbins", [True, False], ids=["periodic", "symmetric"])
@pytest.mark.parametrize("spec", DPSS, ids=repr)
def test_dpss_equals_scipy(spec, fftbins):
    # Both solve the same float64 tridiagonal eigenproblem, whose top
    # eigenvector is only determined to eps * |T| / gap <= eps * n**2 / 2
    # (|T| ~ n**2 / 2; the top two eigenvalues are >= 1 apart for every NW).
    # scipy's LAPACK solve is off by up to 0.03 * eps * n**2 from an
    # extended-precision solve of its matrix (1.2e-10 at n = 4096, NW = 0.01);
    # half the bound leaves room for both, and is 1e-12 up to n = 100.
    compared = _compare(spec, fftbins, lambda n: max(1e-12, 0.25 * EPS * n * n))
    assert compared >= len(LENGTHS) // 2


def _scipy_names():
    """scipy.signal.get_window's table of names -> window function (private:
    ``_WIN_FUNCS`` from scipy 1.17, ``_win_equiv`` before)."""
    module = scipy.signal.windows._windows
    table = getattr(module, "_WIN_FUNCS", None)
    if table is not None:
        return {name: func for name, (func, _) in table.items()}
    table = getattr(module, "_win_equiv", None)
    if table is None:
        pytest.skip("this scipy keeps its window names elsewhere")
    return dict(table)


# Parameters for the names that need them, by scipy's function.
EXAMPLE_PARAMS = {"kaiser": (8.6,), "kaiser_bessel_derived": (5.0,), "gaussian": (7,),
                  "general_gaussian": (1.5, 7), "general_cosine": ([0.5, 0.3, 0.2],),
                  "general_hamming": (0.6,), "chebwin": (100,), "dpss": (3,)}


def test_every_scipy_name_and_alias_is_a_window():
    names = _scipy_names()
    assert set(names) <= set(WINDOWS)
    # scipy before 1.17 spells it only 'kaiser bessel derived' and 'kbd'.
    assert set(WINDOWS) - set(names) <= {"kaiser_bessel_derived"}
    for name, func in names.items():
        params = EXAMPLE_PARAMS.get(func.__name__, ())
        spec = (name,) + params if params else name
        for n, fftbins in ((64, False), (65, True)):
            if func.__name__ == "kaiser_bessel_derived" and fftbins:
                continue  # symmetric only (tested below)
            ref = scipy.signal.get_window(spec, n, fftbins=fftbins)
            got = get_window(spec, n, fftbins=fftbins)
            # as in test_windows_equal_scipy
            np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12, err_msg=repr(spec))


def test_aliases_give_the_window_of_their_name():
    names = _scipy_names()
    for name, func in names.items():
        params = EXAMPLE_PARAMS.get(func.__name__, ())
        canonical = get_window((func.__name__,) + params, 64, fftbins=False)
        assert_bits_equal(get_window((name,) + params, 64, fftbins=False), canonical, name)


@pytest.mark.parametrize("spec", ["hann", ("kaiser", 8.6), ("tukey", 0.3), "TUKEY",
                                  ("General_Gaussian", 1.5, 7), ("chebwin", 100)], ids=repr)
def test_suffixes_and_case(spec):
    name, params = (spec, ()) if isinstance(spec, str) else (spec[0], spec[1:])
    lower = (name.lower(),) + params if params else name.lower()
    for n in (1, 3, 9, 16, 400):
        periodic = get_window(lower, n, fftbins=True)
        symmetric = get_window(lower, n, fftbins=False)
        # Names are case-insensitive (a fastmel extension: scipy wants lower case).
        assert_bits_equal(get_window(spec, n), periodic)
        # scipy >= 1.17: a '_periodic' or '_symmetric' suffix overrides fftbins.
        for suffix, expected in (("_periodic", periodic), ("_symmetric", symmetric)):
            suffixed = (name + suffix,) + params if params else name + suffix
            for fftbins in (True, False):
                assert_bits_equal(get_window(suffixed, n, fftbins=fftbins), expected, suffixed)


def test_kaiser_bessel_derived_with_suffix():
    for n in (2, 8, 400):
        assert_bits_equal(get_window(("kbd_symmetric", 5.0), n),
                          get_window(("kbd", 5.0), n, fftbins=False))


def test_bessel_i0_matches_scipy():
    from fastmel._windows import bessel_i0
    special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(0, 40, 40001), np.linspace(40, 709.78, 10001)])
    # cephes' Chebyshev expansions are within 1 ulp or so; the series' ~60
    # rounded products add a few more: measured 2.6e-15.
    np.testing.assert_allclose(bessel_i0(x), special.i0(x), rtol=1e-14, atol=0)
    assert not np.isfinite(bessel_i0(np.array([710.0]))[0])  # e**710 overflows


def test_chebwin_warns_below_45_db_as_scipy():
    with pytest.warns(UserWarning, match="45 ?dB"):
        get_window(("chebwin", 30), 64)
    with pytest.warns(UserWarning, match="45 ?dB"):
        get_window(("chebwin", 30), 1)  # warned before the length-1 window, as scipy
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_window(("chebwin", 45), 64)


def test_extreme_levels_stay_finite():
    # scipy's Chebyshev window is NaN here (its transform's sums overflow).
    for n in (9, 400, 4096):
        w = get_window(("chebwin", MAX_DB), n)
        assert np.all(np.isfinite(w)) and np.max(w) == 1.0 and np.argmax(w) == n // 2
        assert np.all(np.isfinite(get_window(("taylor", 4, MAX_DB), n)))
    for spec in [("chebwin", MAX_DB + 1), ("taylor", 4, MAX_DB + 1)]:
        with pytest.raises(ParameterError, match="dB"):
            get_window(spec, 64)


def test_window_values_are_new_arrays():
    a = get_window(("dpss", 3), 64)
    a[:] = 0
    assert np.all(get_window(("dpss", 3), 64) > 0)


# --- errors -----------------------------------------------------------------

BAD = [
    ("hanning", 64, True, "hann"),  # not a scipy name; the message suggests one
    ("tky", 64, True, "known window"),
    ("kaiser", 64, True, "1 parameter (beta)"),
    (("kaiser",), 64, True, "1 parameter"),
    (("kaiser", 8.6, 1), 64, True, "got 2"),
    (("hann", 3), 64, True, "no parameters"),
    (("tukey", 0.5, True), 64, True, "up to 1 parameter"),
    (("general_gaussian", 1.5), 64, True, "p, sig"),
    (("kaiser", -1.0), 64, True, "beta"),
    (("kaiser", 710.0), 64, True, "overflows"),
    (("kaiser", float("nan")), 64, True, "beta"),
    (("kaiser", "8"), 64, True, "beta"),
    (("ksr", True), 64, True, "beta"),
    (("gaussian", 0.0), 64, True, "std"),
    (("gaussian", -2.0), 64, True, "std"),
    (("gaussian", 1e-200), 64, True, "underflows"),
    (("gaussian", 1e-5), 64, False, "zeros"),  # even and so narrow that every value is 0
    (("general_gaussian", 0.0, 7), 64, True, "p"),
    (("general_gaussian", 1.5, 0.0), 64, True, "sig"),
    (("general_cosine", []), 64, True, "coefficients"),
    (("general_cosine", 0.5), 64, True, "coefficients"),
    (("general_cosine", [0.5, float("inf")]), 64, True, "coefficients"),
    (("general_cosine", [[0.5, 0.5]]), 64, True, "coefficients"),
    (("general_hamming", float("inf")), 64, True, "alpha"),
    (("tukey", float("nan")), 64, True, "alpha"),
    (("exponential", None, 0.0), 64, True, "tau"),
    (("exponential", None, -1.0), 64, True, "tau"),
    (("exponential", 3.0, 1.0), 64, False, "center must be None"),
    (("exponential", 1e300, 1.0), 64, True, "zeros"),
    (("taylor", 0), 64, True, "nbar"),
    (("taylor", 401), 64, True, "nbar"),
    (("taylor", 4.0), 64, True, "nbar"),
    (("taylor", 4, -1.0), 64, True, "sll"),
    (("taylor", 4, 7000.0), 64, True, "sll"),
    (("taylor", 4, 30, 1), 64, True, "norm"),
    (("chebwin", 7000.0), 64, True, "attenuation"),
    (("chebwin", float("nan")), 64, True, "at"),
    (("dpss", 0.0), 64, True, "NW"),
    (("dpss", 32.0), 64, True, "half the window length"),
    (("dpss", -1.0), 1, True, "NW"),
    (("kaiser_bessel_derived", 5.0), 64, True, "symmetric"),
    (("kbd", 5.0), 63, False, "even length"),
    (("kbd", 5.0), 1, False, "even length"),
    ("hann", 2, False, "zeros"),  # scipy's symmetric Hann of 2 samples is [0, 0]
    ("bartlett", 2, False, "zeros"),
    (None, 64, True, "not a window"),
    (True, 64, True, "not a window"),
    (1j, 64, True, "not a window"),
    ((), 64, True, "not a window"),
    ((8.6, "kaiser"), 64, True, "not a window"),
    (float("nan"), 64, True, "beta"),
    (b"hann", 64, True, "not a window"),
]


@pytest.mark.parametrize("window, n, fftbins, words", BAD, ids=[repr(b[:3]) for b in BAD])
def test_bad_windows_raise_parameter_errors(window, n, fftbins, words):
    with pytest.raises(ParameterError) as info:
        get_window(window, n, fftbins=fftbins)
    message = str(info.value)
    assert words in message
    assert "window" in message


def test_what_scipy_refuses_stays_an_error():
    # The specifications scipy itself refuses stay errors.
    for spec, n, fftbins in [("kaiser", 64, True), (("hann", 3), 64, True),
                             (("dpss", 32.0), 64, True), (("kaiser bessel derived", 5.0), 64, True),
                             (("kbd", 5.0), 63, False), (("exponential", 3.0, 1.0), 64, False)]:
        assert isinstance(_scipy(spec, n, fftbins), Exception), spec
        with pytest.raises(ParameterError):
            get_window(spec, n, fftbins=fftbins)


@pytest.mark.parametrize("n", [0, -1, 2 ** 24 + 1, 1.5, True, None])
def test_bad_lengths(n):
    with pytest.raises(ParameterError, match="Nx"):
        get_window("hann", n)


@pytest.mark.parametrize("fftbins", [1, None, "yes"])
def test_fftbins_must_be_a_bool(fftbins):
    with pytest.raises(TypeError, match="fftbins"):
        get_window("hann", 64, fftbins=fftbins)


def test_long_parameter_arrays_are_not_printed():
    coefficients = np.full(5000, 0.1)
    coefficients[1] = np.nan
    with pytest.raises(ParameterError) as info:
        fastmel.stft(np.zeros(1000), n_fft=64, window=("general_cosine", coefficients))
    assert len(str(info.value)) < 1000


def test_no_scipy_at_run_time():
    code = (
        "import sys, warnings\n"
        "sys.modules['scipy'] = None  # as if scipy were not installed\n"
        "import numpy as np, fastmel\n"
        "warnings.simplefilter('ignore')\n"
        "for name in fastmel.filters.WINDOWS:\n"
        "    shape = fastmel._windows.BY_NAME[name]\n"
        f"    params = {EXAMPLE_PARAMS!r}.get(shape.name, ())\n"
        "    spec = (name,) + params if params else name\n"
        "    w = fastmel.filters.get_window(spec, 64, fftbins=False)\n"
        "    assert w.shape == (64,) and np.all(np.isfinite(w))\n"
        "y = np.random.default_rng(0).standard_normal(4000)\n"
        "fastmel.feature.melspectrogram(y=y, sr=16000, n_fft=512, window=('dpss', 3))\n"
        "assert 'scipy' not in [m.split('.')[0] for m in sys.modules if sys.modules[m]]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- the windows through the analysis, against librosa -----------------------------------------

PARITY = [("kaiser", 8.6), "tukey", ("tukey", 0.25), 8.6, "flattop", ("dpss", 3),
          ("chebwin", 100), ("taylor", 5, 40), ("gaussian", 50), ("general_cosine", [0.5, 0.5]),
          "lanczos", "parzen", ("exponential", None, 100.0)]


@pytest.mark.parametrize("window", PARITY, ids=repr)
def test_melspectrogram_equals_librosa(window, speech16_f64):
    kw = dict(sr=16000, n_fft=512, win_length=400, hop_length=160, window=window, n_mels=64)
    ref = librosa_quiet(librosa.feature.melspectrogram, y=speech16_f64, **kw)
    got = fastmel.feature.melspectrogram(y=speech16_f64, **kw)
    # float64 path: spec section 2's 1e-10 of the maximum (windows within 1e-12)
    assert_close_dtype(got, ref, "float64 path, window within 1e-12")


@pytest.mark.parametrize("window", [("kaiser", 8.6), "tukey", ("dpss", 3)], ids=repr)
def test_stft_and_extractors_take_every_window(window, speech16_f64, speech16_f32):
    kw = dict(n_fft=512, win_length=400, hop_length=160, window=window)
    ref = librosa.stft(speech16_f64, **kw)
    assert_close_dtype(fastmel.stft(speech16_f64, **kw), ref, "float64 path")
    assert_close_dtype(fastmel.STFT(dtype=np.float64, **kw)(speech16_f64), ref, "float64 path")
    mel_kw = dict(sr=16000, n_mels=40, **kw)
    ref_mfcc = librosa_quiet(librosa.feature.mfcc, y=speech16_f64, n_mfcc=13, **mel_kw)
    mfcc = fastmel.MFCC(n_mfcc=13, dtype=np.float64, **mel_kw)
    # float64 path through dB and the DCT (spec section 2, relative to the maximum)
    assert_close_dtype(mfcc(speech16_f64), ref_mfcc, "float64 path")
    extractor = fastmel.MelSpectrogram(to_db=True, **mel_kw)
    assert f"window={window!r}" in repr(extractor)
    offline = extractor(speech16_f32)
    stream = pickle.loads(pickle.dumps(extractor)).stream()
    chunks = [stream.process(speech16_f32[i:i + 173]) for i in range(0, len(speech16_f32), 173)]
    assert_bits_equal(np.concatenate(chunks + [stream.flush()], axis=-1), offline)


@pytest.mark.parametrize("good, bad", [
    (1, True), (0.0, False), (("gaussian", 1), ("gaussian", True)),
    (("taylor", 4, 30, True), ("taylor", 4, 30, 1)), (("taylor", 4), ("taylor", 4.0))])
def test_a_cached_window_does_not_stand_for_an_equal_bad_one(good, bad):
    # Extractors share kernels between equal configurations; 1 == True, but
    # True is no Kaiser beta.
    for extractor in (fastmel.MelSpectrogram, fastmel.MFCC):
        extractor(n_fft=256, n_mels=40, window=good)
        with pytest.raises(ParameterError, match="window"):
            extractor(n_fft=256, n_mels=40, window=bad)
