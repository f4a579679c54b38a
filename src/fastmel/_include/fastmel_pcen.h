/* PCEN's element-wise step in float64, fused into one pass (see _pcen.pyx):
 *
 *     smooth = exp(-gain * ln(t)),  t = eps + M (the smoother's output)
 *     v = x * smooth
 *     out = log1p(v)                                  (power == 0)
 *           exp(power * ln(v))                        (bias == 0)
 *           bias**power * expm1(power * log1p(v / bias))   (otherwise)
 *
 * (v / bias as v * (1 / bias): a rounding more, a division less)
 * with fastmel_math.h's functions, so every CPU and every blocking gives the
 * same bits.  For power == 1/2 (librosa's default) expm1(log1p(u) / 2) is
 * sqrt(1 + u) - 1 = u / (1 + sqrt(1 + u)): a correctly rounded square root in
 * place of two transcendental functions, and no cancellation (1 + u rounded
 * moves the square root by at most 2^-54 relative).
 */
#ifndef FASTMEL_PCEN_H
#define FASTMEL_PCEN_H

#include <math.h>
#include <stddef.h>

#include "fastmel_math.h"

/* The step's form, chosen once per call. */
enum { FASTMEL_PCEN_LOG = 0, FASTMEL_PCEN_POW = 1, FASTMEL_PCEN_GENERAL = 2,
       FASTMEL_PCEN_SQRT = 3 };

/* The same loop for each form (the form is fixed per call, so each loop has
 * no branch and vectorises). */
#define FASTMEL_PCEN_LOOP(EXPR)                                                   \
    for (ptrdiff_t i = 0; i < n; i++) {                                           \
        double v = x[i] * fastmel_exp_f64(fastmel_log_f64(t[i]) * neg_gain);      \
        out[i] = (EXPR);                                                          \
    }

FASTMEL_MATH_CLONES
static void fastmel_pcen_f64(const double *restrict x, const double *restrict t,
                             double *restrict out, ptrdiff_t n, int form, double neg_gain,
                             double inv_bias, double power, double bias_power)
{
    if (form == FASTMEL_PCEN_LOG) {
        FASTMEL_PCEN_LOOP(fastmel_log1p_f64(v))
    } else if (form == FASTMEL_PCEN_POW) {
        FASTMEL_PCEN_LOOP(fastmel_exp_f64(fastmel_log_f64(v) * power))
    } else if (form == FASTMEL_PCEN_SQRT) {
        FASTMEL_PCEN_LOOP(bias_power * ((v * inv_bias) / (1.0 + sqrt(1.0 + v * inv_bias))))
    } else {
        FASTMEL_PCEN_LOOP(bias_power * fastmel_expm1_f64(fastmel_log1p_f64(v * inv_bias) * power))
    }
}

#undef FASTMEL_PCEN_LOOP

#endif
