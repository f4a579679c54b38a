/* float64 logarithm and exponential that vectorise: ln, 10*log10, log1p, exp
 * and expm1 of one double, for loops over arrays.
 *
 * glibc's scalar log10, log and exp cost several nanoseconds a call and stop
 * the loops around them from vectorising; numpy's vectorised ones pick their
 * code by CPU, so their last bit can change from machine to machine.  These
 * are written branch-free (selects, integer bit operations, and
 * floating-point operations the compiler maps onto SIMD lanes without
 * -ffast-math) and use only IEEE additions, multiplications and divisions,
 * each correctly rounded: with FMA contraction off (setup.py passes
 * -ffp-contract=off) every lane, tail loop, target clone and CPU computes the
 * same bits, so the results never depend on blocking or on the machine.
 *
 * Method (the classic one; the constants are derived in the comments):
 *  - ln(x): x = 2^e m with m in [sqrt(1/2), sqrt(2)); with f = m - 1 (exact)
 *    and s = f / (2 + f), ln(m) = 2 atanh(s) = 2s + s R(s^2), where
 *    R(z) = sum_{k>=1} 2 z^k / (2k + 1), and since 2s = f - s f,
 *    ln(m) = f - (h - s (h + R)) with h = f^2 / 2: the leading term f is
 *    exact and the rest is a small correction.  |s| <= 0.1716, so the series
 *    cut after z^10 leaves < 1e-18 relative.  e ln(2) is added as
 *    e LN2_HI (exact: LN2_HI has 12 zero low bits) + e LN2_LO.
 *  - exp(y): y = n ln(2) + r, n = round(y / ln 2), |r| <= ln(2) / 2 (r from
 *    the same split constant, exact but for the LN2_LO product); expm1(r) by
 *    its Taylor series to r^13 (< 1e-17 relative left out), then scaled by
 *    2^n in two steps, the first exact, so overflow gives inf and underflow
 *    a subnormal within one subnormal unit (or 0).
 * Measured (tests/test_fastlog.py, against long double references over dense
 * sweeps; numpy's own functions in brackets): ln 0.78 ulp (0.57), 10*log10
 * 1.53 ulp (10*np.log10: 1.19), log1p 1.07 ulp (0.59), exp 0.94 ulp (0.72),
 * expm1 1.90 ulp (0.51; the sum (2^n - 1) + 2^n q may lose a bit for n = 1).
 */
#ifndef FASTMEL_MATH_H
#define FASTMEL_MATH_H

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* The headers' kernels are static and each module calls only some of them:
 * the ones it never calls are dropped, and this attribute keeps GCC from
 * warning about each (-Wunused-function); it changes no code. */
#if defined(__GNUC__)
#define FASTMEL_MAYBE_UNUSED __attribute__((unused))
#else
#define FASTMEL_MAYBE_UNUSED
#endif

/* Loops over these functions are arithmetic-bound, so they get an AVX-512
 * build besides AVX2 and the SSE2 baseline (the float64 dB loop: 1.2x W1
 * float64 over AVX2 alone); without FMA contraction every clone computes the
 * same IEEE operations, so the same bits. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FASTMEL_MATH_CLONES __attribute__((target_clones("avx512f", "avx2", "default"))) \
    FASTMEL_MAYBE_UNUSED
#else
#define FASTMEL_MATH_CLONES FASTMEL_MAYBE_UNUSED
#endif

/* ln(2) = LN2_HI + LN2_LO; 10*log10(2) = DB2_HI + DB2_LO (the HI parts have 12
 * zero low bits, so multiples by exponents up to 2^11 are exact). */
#define FASTMEL_LN2_HI 0x1.62e42fefa3000p-1
#define FASTMEL_LN2_LO 0x1.3de6af278ece6p-42
#define FASTMEL_DB2_HI 0x1.8151824c75000p+1
#define FASTMEL_DB2_LO 0x1.0fd5facdaec06p-40
#define FASTMEL_DB_PER_NEPER 0x1.15f2ced384f29p+2   /* 10*log10(e) = 10 / ln(10) */
#define FASTMEL_INV_LN2 0x1.71547652b82fep+0
#define FASTMEL_SQRT2 0x1.6a09e667f3bcdp+0
/* Adding 1.5 * 2^52 rounds a double of magnitude < 2^51 to an integer held in
 * the low bits of the sum: the integer <-> double conversions of 64-bit lanes
 * without SIMD conversion instructions (SSE2 and AVX2 have none). */
#define FASTMEL_ROUNDER 0x1.8p52

static inline uint64_t fastmel_bits_f64(double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline double fastmel_from_bits_f64(uint64_t b)
{
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* Selects without branches or comparisons.  The compiler will not if-convert
 * a floating-point select (an arm might trap), and SSE2, the baseline, has no
 * 64-bit comparison to build a lane mask from; the sign bit of a difference
 * is one: fastmel_neg(d) is all ones when d < 0 (d = -0.0 too), else 0. */
static inline uint64_t fastmel_neg(double d)
{
    return 0 - (fastmel_bits_f64(d) >> 63);
}

/* mask ? a : b, bitwise */
static inline double fastmel_select(uint64_t mask, double a, double b)
{
    return fastmel_from_bits_f64((fastmel_bits_f64(a) & mask) | (fastmel_bits_f64(b) & ~mask));
}

/* x = 2^e m for finite x > 0 (subnormals included), m in [sqrt(1/2), sqrt(2));
 * returns f = m - 1 (exact) and e as a double. */
static inline double fastmel_log_split(double x, double *e_out)
{
    /* A subnormal has no implicit leading bit: scale it by 2^54, exactly. */
    uint64_t tiny = fastmel_neg(x - DBL_MIN);
    double xs = fastmel_select(tiny, x * 0x1p54, x);
    uint64_t bits = fastmel_bits_f64(xs);
    /* The biased exponent, held as the double 1.5 * 2^52 + exponent. */
    double e = fastmel_from_bits_f64(fastmel_bits_f64(FASTMEL_ROUNDER) + (bits >> 52))
             - (FASTMEL_ROUNDER + 1023.0);
    e = fastmel_select(tiny, e - 54.0, e);
    double m = fastmel_from_bits_f64((bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
    uint64_t big = fastmel_neg(FASTMEL_SQRT2 - m);
    m = fastmel_select(big, 0.5 * m, m);
    *e_out = fastmel_select(big, e + 1.0, e);
    return m - 1.0;
}

/* ln(1 + f) - f for f = m - 1 as above: -(h - s (h + R)). */
static inline double fastmel_log_tail(double f)
{
    double s = f / (2.0 + f);
    double z = s * s;
    /* R(z) = sum_{k=1..10} 2 z^k / (2k + 1) */
    double r = z * (2.0 / 3 + z * (2.0 / 5 + z * (2.0 / 7 + z * (2.0 / 9 + z * (2.0 / 11
             + z * (2.0 / 13 + z * (2.0 / 15 + z * (2.0 / 17 + z * (2.0 / 19
             + z * (2.0 / 21))))))))));
    double h = 0.5 * f * f;
    return s * (h + r) - h;
}

/* Values outside the open positive finite range: ln(0) = -inf, ln(inf) = inf
 * (the arithmetic above is meaningless there; NaN and negative x are never
 * passed). */
static inline double fastmel_log_edges(double x, double y)
{
    uint64_t bits = fastmel_bits_f64(x);
    y = fastmel_select(0 - ((bits - 1) >> 63), -HUGE_VAL, y);
    return fastmel_select(0 - ((0x7fefffffffffffffull - bits) >> 63), HUGE_VAL, y);
}

/* ln(x), x >= 0 */
static inline double fastmel_log_f64(double x)
{
    double e;
    double f = fastmel_log_split(x, &e);
    double y = e * FASTMEL_LN2_HI + (f + (fastmel_log_tail(f) + e * FASTMEL_LN2_LO));
    return fastmel_log_edges(x, y);
}

/* 10 * log10(x), x > 0 finite (the dB kernels floor powers at amin > 0 and
 * check them finite first, so the edges cost nothing here) */
static inline double fastmel_db_f64(double x)
{
    double e;
    double f = fastmel_log_split(x, &e);
    double ln_m = f + fastmel_log_tail(f);
    return e * FASTMEL_DB2_HI + (ln_m * FASTMEL_DB_PER_NEPER + e * FASTMEL_DB2_LO);
}

/* ln(1 + u), u >= 0: with w = 1 + u rounded, ln(1 + u) = ln(w) + ln(1 + d / w)
 * where d = u - (w - 1) is what the rounding lost (|d / w| <= 2^-53), so
 * ln(w) + d / w is within an ulp, and exactly u where w == 1. */
static inline double fastmel_log1p_f64(double u)
{
    double w = 1.0 + u;
    double d = u - (w - 1.0);
    double y = fastmel_log_f64(w) + d / w;
    return fastmel_select(fastmel_neg(DBL_MAX - u), HUGE_VAL, y);    /* d is NaN there */
}

/* Splits y (clamped to [-800, 800], beyond which exp under- or overflows
 * anyway) into n ln(2) + r; returns expm1(r) and n. */
static inline double fastmel_exp_split(double y, double *n_out)
{
    y = fastmel_select(fastmel_neg(y + 800.0), -800.0, y);
    y = fastmel_select(fastmel_neg(800.0 - y), 800.0, y);
    double n = (y * FASTMEL_INV_LN2 + FASTMEL_ROUNDER) - FASTMEL_ROUNDER;
    double r = (y - n * FASTMEL_LN2_HI) - n * FASTMEL_LN2_LO;
    /* expm1(r) = r + r^2 (1/2! + r/3! + ... + r^11/13!) */
    double p = 1.0 / 6227020800 /* 13! */;
    p = 1.0 / 479001600 + r * p;
    p = 1.0 / 39916800 + r * p;
    p = 1.0 / 3628800 + r * p;
    p = 1.0 / 362880 + r * p;
    p = 1.0 / 40320 + r * p;
    p = 1.0 / 5040 + r * p;
    p = 1.0 / 720 + r * p;
    p = 1.0 / 120 + r * p;
    p = 1.0 / 24 + r * p;
    p = 1.0 / 6 + r * p;
    p = 0.5 + r * p;
    *n_out = n;
    return r + (r * r) * p;
}

/* 2^k for an integer-valued double k in [-1022, 1023] */
static inline double fastmel_pow2i(double k)
{
    /* The rounder's low bits hold k; shifting them into the exponent field
     * (adding the bias) builds 2^k. */
    uint64_t kb = fastmel_bits_f64(k + FASTMEL_ROUNDER) - fastmel_bits_f64(FASTMEL_ROUNDER);
    return fastmel_from_bits_f64((kb + 1023) << 52);
}

/* exp(y), y finite or +-inf */
static inline double fastmel_exp_f64(double y)
{
    double n;
    double q = fastmel_exp_split(y, &n);
    /* |n| <= 1155: the two factors 2^n1 2^n2 stay normal; (1 + q) 2^n1 is
     * exact, the last product rounds to a subnormal, 0 or inf if it must. */
    double n1 = (0.5 * n + FASTMEL_ROUNDER) - FASTMEL_ROUNDER;
    return ((1.0 + q) * fastmel_pow2i(n1)) * fastmel_pow2i(n - n1);
}

/* exp(y) - 1, y finite or +-inf, within an ulp relative however small y is */
static inline double fastmel_expm1_f64(double y)
{
    double n;
    double q = fastmel_exp_split(y, &n);
    /* 2^n (1 + q) - 1 = (2^n - 1) + 2^n q: for -60 <= n <= 60, 2^n - 1 holds
     * the exact integer part (no cancellation: both terms have the sign of y
     * when n != 0).  Beyond, exp(y) - 1 rounds the same. */
    uint64_t low = fastmel_neg(n + 60.0), high = fastmel_neg(60.0 - n);
    double nc = fastmel_select(low, -60.0, fastmel_select(high, 60.0, n));
    double s = fastmel_pow2i(nc);
    double near = (s - 1.0) + s * q;
    double n1 = (0.5 * n + FASTMEL_ROUNDER) - FASTMEL_ROUNDER;
    double far = ((1.0 + q) * fastmel_pow2i(n1)) * fastmel_pow2i(n - n1) - 1.0;
    return fastmel_select(low | high, far, near);
}

/* ln and exp for loops that run one function over a block (PCEN's passes),
 * with fewer operations and a shorter dependency chain than fastmel_log_f64
 * and fastmel_exp_f64 (whose bits the dB step keeps), at the same accuracy:
 * their series are replaced by polynomials interpolating the same functions
 * at Chebyshev nodes (near-minimax: as accurate with 7 terms instead of 10
 * for ln, 11 instead of 12 for exp), summed in Estrin's order (pairs of
 * terms, then pairs of pairs: a chain of three or four multiply-adds in place
 * of Horner's seven to twelve).  The coefficients were computed in exact
 * rational arithmetic (interpolation at the nodes of the range, the
 * functions from their series to 40 terms) and rounded to double; the
 * polynomials' own error is below 2^-57 (ln) and 2^-61 (exp) relative in
 * the results, an ulp being 2^-53 to 2^-52.  Measured (tests/test_fastlog.py):
 * ln 0.78 ulp, exp 0.97 ulp. */
static inline double fastmel_log_tail_par(double f)
{
    double s = f / (2.0 + f);
    double z = s * s;
    double z2 = z * z;
    /* R(z) / z = sum_{k>=0} 2 z^k / (2k + 3) on z in [0, 0.02947] (|s| <=
     * (sqrt(2) - 1) / (sqrt(2) + 1), with a margin): interpolated at 7
     * Chebyshev nodes, within 3.2e-16 of the series */
    double p01 = 0x1.5555555555558p-1 + z * 0x1.9999999995273p-2;
    double p23 = 0x1.2492492dfd86cp-2 + z * 0x1.c71c62d5e53e0p-3;
    double p46 = (0x1.7462b91b8df65p-3 + z * 0x1.39fdcceb4bb44p-3) + z2 * 0x1.2b5f68a50d90dp-3;
    double r = z * ((p01 + z2 * p23) + (z2 * z2) * p46);
    double h = 0.5 * f * f;
    return s * (h + r) - h;
}

/* ln(x), x >= 0, as fastmel_log_f64 */
static inline double fastmel_log_par_f64(double x)
{
    double e;
    double f = fastmel_log_split(x, &e);
    double y = e * FASTMEL_LN2_HI + (f + (fastmel_log_tail_par(f) + e * FASTMEL_LN2_LO));
    return fastmel_log_edges(x, y);
}

/* exp(y), y finite or +-inf, as fastmel_exp_f64 */
static inline double fastmel_exp_par_f64(double y)
{
    y = fastmel_select(fastmel_neg(y + 800.0), -800.0, y);
    y = fastmel_select(fastmel_neg(800.0 - y), 800.0, y);
    double n = (y * FASTMEL_INV_LN2 + FASTMEL_ROUNDER) - FASTMEL_ROUNDER;
    double r = (y - n * FASTMEL_LN2_HI) - n * FASTMEL_LN2_LO;
    double r2 = r * r, r4 = r2 * r2;
    /* (expm1(r) - r) / r^2 = sum_{k>=0} r^k / (k + 2)! on r in [-0.35, 0.35]:
     * interpolated at 11 Chebyshev nodes, within 2.2e-18 of the series */
    double p01 = 0x1.0000000000000p-1 + r * 0x1.5555555555557p-3;
    double p23 = 0x1.5555555555556p-5 + r * 0x1.111111110ff8bp-7;
    double p45 = 0x1.6c16c16c16214p-10 + r * 0x1.a01a01ac9de9ep-13;
    double p67 = 0x1.a01a01a74077ap-16 + r * 0x1.71ddfff6573d6p-19;
    double p8a = (0x1.27e4da1e12fb1p-22 + r * 0x1.af5282aacdb2ep-26) + r2 * 0x1.1f75a3caadff5p-29;
    double q = r + r2 * ((p01 + r2 * p23) + r4 * ((p45 + r2 * p67) + r4 * p8a));
    /* scaled by 2^n as fastmel_exp_f64 */
    double n1 = (0.5 * n + FASTMEL_ROUNDER) - FASTMEL_ROUNDER;
    return ((1.0 + q) * fastmel_pow2i(n1)) * fastmel_pow2i(n - n1);
}

#endif
