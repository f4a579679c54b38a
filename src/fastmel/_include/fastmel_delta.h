/* Inner loops of the delta (Savitzky-Golay) filter (see _delta.pyx).
 *
 * In C for `restrict` and target_clones (AVX2 with an SSE2 fallback), like
 * fastmel_conv.h.  No FMA: every clone, lane and tail loop does the same IEEE
 * operations, so an output's value never depends on which block, lane or call
 * computes it (what makes a stream equal to the offline call bit for bit).
 */
#ifndef FASTMEL_DELTA_H
#define FASTMEL_DELTA_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastmel_db.h"   /* FASTMEL_CLONES */

typedef double fastmel_delta_v4df __attribute__((vector_size(32)));

/* y[i] = sum_{k < width} c[k] * x[i + k] for i < n (x[0 .. n + width - 2]
 * readable), each output starting from c[0] * x[i] and adding its taps in
 * ascending k.  Outputs sit in the lanes of GCC vectors, eight vectors at a
 * time: eight independent addition chains hide the adder's latency.  The tail
 * loops do the same operations on fewer outputs at a time. */
#define FASTMEL_SAVGOL_STEP(A, J) memcpy(&v, xs + (J) * L, sizeof v); A = A + ck * v;
#define FASTMEL_SAVGOL_FIRST(A, J) memcpy(&v, xs + (J) * L, sizeof v); A = ck * v;
#define FASTMEL_SAVGOL_OUT(A, J) memcpy(y + i + (J) * L, &A, sizeof v);
#define FASTMEL_SAVGOL_EIGHT(OP) OP(a0, 0) OP(a1, 1) OP(a2, 2) OP(a3, 3) \
                                 OP(a4, 4) OP(a5, 5) OP(a6, 6) OP(a7, 7)
FASTMEL_CLONES static void fastmel_savgol(const double *restrict x, const double *restrict c,
                                          ptrdiff_t width, double *restrict y, ptrdiff_t n)
{
    enum { L = 4 };
    ptrdiff_t i = 0;
    for (; i + 8 * L <= n; i += 8 * L) {
        fastmel_delta_v4df a0, a1, a2, a3, a4, a5, a6, a7, v;
        const double *xs = x + i;
        double ck = c[0];
        FASTMEL_SAVGOL_EIGHT(FASTMEL_SAVGOL_FIRST)
        for (ptrdiff_t k = 1; k < width; k++) {
            ck = c[k];
            xs = x + i + k;
            FASTMEL_SAVGOL_EIGHT(FASTMEL_SAVGOL_STEP)
        }
        FASTMEL_SAVGOL_EIGHT(FASTMEL_SAVGOL_OUT)
    }
    for (; i + L <= n; i += L) {
        fastmel_delta_v4df a0, v;
        memcpy(&v, x + i, sizeof v);
        a0 = c[0] * v;
        for (ptrdiff_t k = 1; k < width; k++) {
            memcpy(&v, x + i + k, sizeof v);
            a0 = a0 + c[k] * v;
        }
        memcpy(y + i, &a0, sizeof v);
    }
    for (; i < n; i++) {
        double acc = c[0] * x[i];
        for (ptrdiff_t k = 1; k < width; k++) acc = acc + c[k] * x[i + k];
        y[i] = acc;
    }
}
#undef FASTMEL_SAVGOL_STEP
#undef FASTMEL_SAVGOL_FIRST
#undef FASTMEL_SAVGOL_OUT
#undef FASTMEL_SAVGOL_EIGHT

/* out[i] = x[i * stride], widened to double. */
FASTMEL_CLONES static void fastmel_widen_f32(const float *restrict x, ptrdiff_t stride,
                                             double *restrict out, ptrdiff_t n)
{
    if (stride == 1) {
        for (ptrdiff_t i = 0; i < n; i++) out[i] = (double)x[i];
    } else {
        for (ptrdiff_t i = 0; i < n; i++) out[i] = (double)x[i * stride];
    }
}

FASTMEL_CLONES static void fastmel_widen_f64(const double *restrict x, ptrdiff_t stride,
                                             double *restrict out, ptrdiff_t n)
{
    for (ptrdiff_t i = 0; i < n; i++) out[i] = x[i * stride];
}

/* y[i] = a[i] rounded to T; returns 1 when every y[i] is finite (a float32
 * result beyond float32's range rounds to inf). */
#define FASTMEL_DEFINE_NARROW(T, SUF, U, EXP_MASK)                                        \
FASTMEL_CLONES static int fastmel_narrow_##SUF(const double *restrict a, T *restrict y,  \
                                               ptrdiff_t n)                              \
{                                                                                        \
    U bad = 0, b;                                                                        \
    for (ptrdiff_t i = 0; i < n; i++) {                                                  \
        T v = (T)a[i];                                                                   \
        y[i] = v;                                                                        \
        memcpy(&b, &v, sizeof b);                                                        \
        bad |= (U)((b & EXP_MASK) == EXP_MASK);                                          \
    }                                                                                    \
    return !bad;                                                                         \
}

FASTMEL_DEFINE_NARROW(float, f32, uint32_t, 0x7f800000u)
FASTMEL_DEFINE_NARROW(double, f64, uint64_t, 0x7ff0000000000000ull)

#endif
