"""fastmel_math.h: the vectorised float64 ln, 10*log10, log1p, exp and expm1 behind
the float64 dB step and PCEN, measured against long double references."""
import math
import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from fastmel._pcen import math_f64, pcen_step_f64

pytestmark = pytest.mark.skipif(
    np.finfo(np.longdouble).nmant < 60,
    reason="needs an extended-precision long double for the reference")


def _ulps(got, ref):
    """|got - ref| in units of the last place of ref rounded to float64."""
    spacing = np.spacing(np.abs(ref.astype(np.float64))).astype(np.longdouble)
    return np.abs((got.astype(np.longdouble) - ref) / spacing).astype(np.float64)


@pytest.fixture(scope="module")
def positives():
    """Positive finite doubles: random bit patterns (every exponent, subnormals
    included), powers of 2 and 10, the neighbourhoods of 1, sqrt(2) and sqrt(1/2)
    (where the reduction switches), and typical powers."""
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.integers(1, 0x7ff0000000000000, 1_000_000, dtype=np.uint64).view(np.float64),
        rng.integers(1, 0x0010000000000000, 20_000, dtype=np.uint64).view(np.float64),
        2.0 ** np.arange(-1074, 1024), 10.0 ** np.arange(-323, 309),
        1.0 + np.arange(-200, 200) * 2.0 ** -52, 1.0 + rng.standard_normal(100_000) * 1e-3,
        np.sqrt(2) * (1 + np.arange(-100, 100) * 2.0 ** -52),
        np.sqrt(0.5) * (1 + np.arange(-100, 100) * 2.0 ** -52),
        [5e-324, np.finfo(np.float64).tiny, np.nextafter(np.finfo(np.float64).tiny, 0),
         np.finfo(np.float64).max],
        rng.uniform(1e-10, 1e3, 100_000),
    ])
    return x[x > 0]


@pytest.mark.parametrize("name", ["log", "log_par"])
def test_log_within_one_ulp(positives, name):
    # "log_par": the same series summed in another order (PCEN's)
    got = math_f64(name, positives)
    # 0.78 ulp measured (both): within 1 ulp, as a good libm's log
    assert _ulps(got, np.log(positives.astype(np.longdouble))).max() <= 1.0


@pytest.mark.parametrize("name", ["db", "power_to_db"])
def test_db_within_two_ulp(positives, name):
    # "power_to_db" is the dB kernel's loop (vectorised, amin and offset 0)
    got = math_f64(name, positives)
    # 1.53 ulp measured (10 * np.log10 itself: 1.19): the scaling by 10/ln(10)
    # adds a rounding to the logarithm's
    assert _ulps(got, 10 * np.log10(positives.astype(np.longdouble))).max() <= 2.0


def test_log1p_within_one_and_a_half_ulp(positives):
    rng = np.random.default_rng(1)
    u = np.concatenate([positives[positives < 1e10], [0.0], rng.uniform(0, 1e-3, 100_000),
                        2.0 ** -np.arange(0, 1075.0)])
    got = math_f64("log1p", u)
    assert got[-1] == 2.0 ** -1074 and got[u == 0] == 0   # exact where 1 + u rounds to 1
    # 1.07 ulp measured: ln(1 + u rounded) plus the rounding's correction d / w
    assert _ulps(got, np.log1p(u.astype(np.longdouble))).max() <= 1.5


@pytest.fixture(scope="module")
def exponents():
    rng = np.random.default_rng(2)
    tiny = 2.0 ** -np.arange(0, 1075.0)
    return np.concatenate([rng.uniform(-750, 710, 1_000_000), rng.standard_normal(300_000),
                           rng.standard_normal(100_000) * 1e-8, np.arange(-1100, 1100) * np.log(2),
                           tiny, -tiny, [0.0, 709.78, -708.39, -745.1]])


@pytest.mark.parametrize("name", ["exp", "exp_par"])
def test_exp_within_one_ulp_and_its_edges(exponents, name):
    got = math_f64(name, exponents)
    ref = np.exp(exponents.astype(np.longdouble))
    normal = (ref > np.finfo(np.float64).tiny) & (ref <= np.finfo(np.float64).max)
    # 0.94 ulp measured ("exp_par", the series in Estrin's order: 0.97)
    assert _ulps(got[normal], ref[normal]).max() <= 1.0
    below = ref <= np.finfo(np.float64).tiny
    # gradual underflow: within one subnormal unit of the exact value
    assert np.all(np.abs(got[below] - ref[below]) <= 2.0 ** -1074)
    assert np.all(np.isposinf(got[ref > np.finfo(np.float64).max]))
    assert list(math_f64(name, [-np.inf, np.inf, 0.0, 800.0, -800.0])) == [0, np.inf, 1, np.inf, 0]


def test_expm1_within_two_ulp(exponents):
    got = math_f64("expm1", exponents)
    ref = np.expm1(exponents.astype(np.longdouble))
    finite = np.abs(ref) <= np.finfo(np.float64).max
    # 1.90 ulp measured: (2^n - 1) + 2^n q rounds twice where n = 1
    assert _ulps(got[finite], ref[finite]).max() <= 2.0
    assert np.all(np.isposinf(got[~finite]))
    assert list(math_f64("expm1", [-np.inf, np.inf, 0.0, -800.0])) == [-1, np.inf, 0, -1]


def test_logs_of_zero_and_inf():
    assert list(math_f64("log", [0.0, np.inf, 1.0])) == [-np.inf, np.inf, 0.0]
    assert list(math_f64("log_par", [0.0, np.inf, 1.0])) == [-np.inf, np.inf, 0.0]
    assert list(math_f64("log1p", [0.0, np.inf])) == [0.0, np.inf]


def test_every_lane_and_tail_gives_the_same_bits(positives):
    # The same values through the vectorised kernel at every alignment and length
    # (SIMD lanes, tail loop) and through the scalar per-value calls: same bits.
    x = positives[:4099]
    whole = math_f64("power_to_db", x)
    assert whole.tobytes() == math_f64("db", x).tobytes()
    for start in range(1, 9):
        part = math_f64("power_to_db", x[start:start + 1 + 3 * start])
        assert part.tobytes() == whole[start:start + 1 + 3 * start].tobytes()


def _pcen_step_one_by_one(x, t, gain, bias, power):
    """PCEN's float64 step from fastmel_math.h's functions called one value at a
    time (the portable build, outside any clone) and numpy's IEEE arithmetic,
    in fastmel_pcen.h's order of operations."""
    v = x * math_f64("exp_par", math_f64("log_par", t) * -gain)
    if power == 0:
        return math_f64("log1p", v)
    if bias == 0:
        return math_f64("exp_par", math_f64("log_par", v) * power)
    u = v * (1.0 / bias)
    if power == 0.5:
        return bias ** power * (u / (1.0 + np.sqrt(1.0 + u)))
    return bias ** power * math_f64("expm1", math_f64("log1p", u) * power)


@pytest.mark.parametrize("gain, bias, power", [(0.98, 2.0, 0.5), (0.98, 2.0, 0.0),
                                               (0.8, 0.0, 0.25), (0.8, 10.0, 0.25)],
                         ids=["sqrt", "log", "pow", "general"])
def test_pcen_step_gives_the_same_bits_in_every_lane_and_tail(gain, bias, power):
    # fastmel_pcen_f64's loops (the CPU's SIMD clone, its lanes and tail loops)
    # against the scalar calls, and at every alignment and length: same bits.
    rng = np.random.default_rng(3)
    n = 1031
    x = rng.gamma(0.5, 1.0, n) * 10.0 ** rng.uniform(-8, 8, n)
    x[::17] = 0.0                                  # silence
    t = 1e-6 + rng.gamma(0.5, 1.0, n) * 10.0 ** rng.uniform(-8, 8, n)
    t[::13] = 1e-6                                 # eps + 0
    whole = pcen_step_f64(x, t, gain, bias, power)
    assert np.all(np.isfinite(whole))
    assert whole.tobytes() == _pcen_step_one_by_one(x, t, gain, bias, power).tobytes()
    for start in range(1, 9):
        stop = start + 1 + 3 * start
        part = pcen_step_f64(x[start:stop], t[start:stop], gain, bias, power)
        assert part.tobytes() == whole[start:stop].tobytes()


def _c_function(name):
    """The body of fastmel_math.h's C function ``name`` (from the checkout)."""
    header = Path(__file__).resolve().parents[1] / "src" / "fastmel" / "_include" / "fastmel_math.h"
    if not header.exists():
        pytest.skip("needs the source checkout's fastmel_math.h")
    text = header.read_text()
    start = text.index(f"{name}(")
    return text[start:text.index("\n}\n", start)]


def _coefficients(body):
    """The hexadecimal constants of a function body, in order: the polynomial's
    coefficients, lowest degree first (as fastmel_math.h writes them)."""
    return [Fraction(float.fromhex(c)) for c in re.findall(r"0x1\.[0-9a-f]+p-?\d+", body)]


@pytest.mark.parametrize("name, series, lo, hi, bound", [
    # R(z) / z = sum 2 z^k / (2k + 3) for z = s^2, |s| <= (sqrt(2) - 1) / (sqrt(2) + 1)
    ("fastmel_log_tail_par", lambda z: sum(Fraction(2, 2 * k + 3) * z ** k for k in range(40)),
     Fraction(0), Fraction(2947, 100000), 3.3e-16),
    # (expm1(r) - r) / r^2 = sum r^k / (k + 2)! for |r| <= ln(2) / 2 (rounded up)
    ("fastmel_exp_par_f64", lambda r: sum(r ** k / math.factorial(k + 2) for k in range(40)),
     Fraction(-35, 100), Fraction(35, 100), 2.3e-18),
])
def test_par_polynomials_stay_within_their_stated_error(name, series, lo, hi, bound):
    # The polynomials replacing the series (interpolated at Chebyshev nodes,
    # coefficients rounded to double), evaluated exactly on a grid over their
    # ranges: within the bound stated beside them, which is what keeps the
    # functions within an ulp (measured above).
    coefficients = _coefficients(_c_function(name))
    assert len(coefficients) == (7 if "log" in name else 11)
    grid = [lo + (hi - lo) * Fraction(i, 400) for i in range(401)]
    worst = max(abs(float(sum(c * x ** k for k, c in enumerate(coefficients)) - series(x)))
                for x in grid)
    assert worst <= bound
