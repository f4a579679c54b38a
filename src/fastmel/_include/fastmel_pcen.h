/* PCEN's element-wise step in float64 (see _pcen.pyx):
 *
 *     smooth = exp(-gain * ln(t)),  t = eps + M (the smoother's output)
 *     v = x * smooth
 *     out = log1p(v)                                  (power == 0)
 *           exp(power * ln(v))                        (bias == 0)
 *           bias**power * expm1(power * log1p(v / bias))   (otherwise)
 *
 * (v / bias as v * (1 / bias): a rounding more, a division less)
 * with fastmel_math.h's functions (ln and exp in their _par form), so every
 * CPU and every blocking gives the same bits.  For power == 1/2 (librosa's
 * default) expm1(log1p(u) / 2) is sqrt(1 + u) - 1 = u / (1 + sqrt(1 + u)): a correctly rounded square root in
 * place of two transcendental functions, and no cancellation (1 + u rounded
 * moves the square root by at most 2^-54 relative).
 */
#ifndef FASTMEL_PCEN_H
#define FASTMEL_PCEN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastmel_math.h"

/* The step's form, chosen once per call. */
enum { FASTMEL_PCEN_LOG = 0, FASTMEL_PCEN_POW = 1, FASTMEL_PCEN_GENERAL = 2,
       FASTMEL_PCEN_SQRT = 3 };

/* What fastmel_pcen_f64 found (bits, or'ed over blocks): a t <= 0, whose
 * logarithm is undefined (only a negative initial state gives one), and an
 * output that is not finite. */
enum { FASTMEL_PCEN_T_NOT_POSITIVE = 1, FASTMEL_PCEN_NOT_FINITE = 2 };

/* The step in passes over the block, one function each: a loop whose body is
 * one function keeps many elements in flight, where ln then exp then the
 * square root in one body is a chain too long for the CPU to overlap
 * (128x6001: 3.5 -> 2 ns an element).  t (the smoother's output, scratch)
 * holds the intermediate values; each pass has no branch and vectorises.
 * Returns the FASTMEL_PCEN_T_NOT_POSITIVE and FASTMEL_PCEN_NOT_FINITE bits
 * (checked here, while the block is in L1, rather than in passes over the
 * whole arrays); 0 when all is well. */
FASTMEL_MATH_CLONES
static int fastmel_pcen_f64(const double *restrict x, double *restrict t,
                            double *restrict out, ptrdiff_t n, int form, double neg_gain,
                            double inv_bias, double power, double bias_power)
{
    uint64_t low = 0;
    for (ptrdiff_t i = 0; i < n; i++) {
        uint64_t b = fastmel_bits_f64(t[i]);
        low |= b | (b - 1);               /* the sign bit: t negative, -0 or +0 */
        t[i] = fastmel_log_par_f64(t[i]) * neg_gain;
    }
    if (form == FASTMEL_PCEN_SQRT) {
        /* the square root and division are few enough operations to share
         * the exp's loop (1.03x) */
        for (ptrdiff_t i = 0; i < n; i++) {
            double u = (x[i] * fastmel_exp_par_f64(t[i])) * inv_bias;
            out[i] = bias_power * (u / (1.0 + sqrt(1.0 + u)));
        }
    } else {
        for (ptrdiff_t i = 0; i < n; i++)
            t[i] = x[i] * fastmel_exp_par_f64(t[i]);                      /* v */
        if (form == FASTMEL_PCEN_LOG) {
            for (ptrdiff_t i = 0; i < n; i++)
                out[i] = fastmel_log1p_f64(t[i]);
        } else if (form == FASTMEL_PCEN_POW) {
            for (ptrdiff_t i = 0; i < n; i++)
                t[i] = fastmel_log_par_f64(t[i]) * power;
            for (ptrdiff_t i = 0; i < n; i++)
                out[i] = fastmel_exp_par_f64(t[i]);
        } else {
            for (ptrdiff_t i = 0; i < n; i++)
                t[i] = fastmel_log1p_f64(t[i] * inv_bias) * power;
            for (ptrdiff_t i = 0; i < n; i++)
                out[i] = bias_power * fastmel_expm1_f64(t[i]);
        }
    }
    uint64_t bad = 0;
    for (ptrdiff_t i = 0; i < n; i++)
        bad |= ((fastmel_bits_f64(out[i]) >> 52) & 0x7ffu) == 0x7ffu;
    return (int)(low >> 63) * FASTMEL_PCEN_T_NOT_POSITIVE
           + (bad ? FASTMEL_PCEN_NOT_FINITE : 0);
}

/* PCEN's input check in one pass instead of a scan for finite values and a
 * minimum: 1 when all n values (stride apart) are finite and not negative (-0
 * passes, as it does numpy's minimum).  Each value's sign bit below is set
 * when its magnitude a is inf or NaN, or when it is negative and not -0. */
static inline uint64_t fastmel_pcen_bad_f64(double x)
{
    uint64_t b = fastmel_bits_f64(x);
    uint64_t a = b & 0x7fffffffffffffffull;
    return (a + 0x0010000000000000ull) | (b & (0 - a));
}

static inline uint32_t fastmel_pcen_bad_f32(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    uint32_t a = b & 0x7fffffffu;
    return (a + 0x00800000u) | (b & (0 - a));
}

FASTMEL_MATH_CLONES
static int fastmel_pcen_magnitudes_f64(const double *x, ptrdiff_t n, ptrdiff_t stride)
{
    uint64_t bad = 0;
    if (stride == 1) {
        for (ptrdiff_t i = 0; i < n; i++)
            bad |= fastmel_pcen_bad_f64(x[i]);
    } else {
        for (ptrdiff_t i = 0; i < n; i++)
            bad |= fastmel_pcen_bad_f64(x[i * stride]);
    }
    return !(bad >> 63);
}

FASTMEL_MATH_CLONES
static int fastmel_pcen_magnitudes_f32(const float *x, ptrdiff_t n, ptrdiff_t stride)
{
    uint32_t bad = 0;
    if (stride == 1) {
        for (ptrdiff_t i = 0; i < n; i++)
            bad |= fastmel_pcen_bad_f32(x[i]);
    } else {
        for (ptrdiff_t i = 0; i < n; i++)
            bad |= fastmel_pcen_bad_f32(x[i * stride]);
    }
    return !(bad >> 31);
}

#endif
