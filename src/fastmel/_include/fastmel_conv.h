/* Inner loops of partitioned convolution (see _convolve.pyx).
 *
 * In C for `restrict` and target_clones (AVX2 with an SSE2 fallback), like
 * fastmel_kernels.h.  No FMA: every clone, lane and tail loop does the same
 * IEEE operations, so an output sample's value never depends on how the
 * input was cut into calls.
 */
#ifndef FASTMEL_CONV_H
#define FASTMEL_CONV_H

#include <stddef.h>
#include <string.h>

#include "fastmel_db.h"   /* FASTMEL_CLONES */

#define FASTMEL_DEFINE_CONV(T, SUF, V, L)                                                      \
                                                                                          \
/* acc[b] (+)= x[b] * h[b] over n interleaved complex values; first: acc = x * h */        \
FASTMEL_CLONES static void fastmel_cmac_##SUF(const T *restrict x, const T *restrict h,    \
                                              T *restrict acc, ptrdiff_t n, int first)     \
{                                                                                         \
    if (first) {                                                                          \
        for (ptrdiff_t b = 0; b < n; b++) {                                               \
            T xr = x[2 * b], xi = x[2 * b + 1], hr = h[2 * b], hi = h[2 * b + 1];         \
            acc[2 * b] = xr * hr - xi * hi;                                               \
            acc[2 * b + 1] = xr * hi + xi * hr;                                           \
        }                                                                                 \
    } else {                                                                              \
        for (ptrdiff_t b = 0; b < n; b++) {                                               \
            T xr = x[2 * b], xi = x[2 * b + 1], hr = h[2 * b], hi = h[2 * b + 1];         \
            acc[2 * b] = acc[2 * b] + (xr * hr - xi * hi);                                \
            acc[2 * b + 1] = acc[2 * b + 1] + (xr * hi + xi * hr);                        \
        }                                                                                 \
    }                                                                                     \
}                                                                                         \
                                                                                          \
/* y[i] = sum_{k < d} h[k] * x[i - k] + add[i] for i < n (x[-d+1 .. n-1] readable),    \
 * each output summing its taps in ascending k.  Outputs sit in the lanes of GCC      \
 * vectors (V holds L values); four vectors at a time keep four independent addition  \
 * chains in flight.  The tail loops do the same operations one output at a time. */  \
FASTMEL_CLONES static void fastmel_fir_##SUF(const T *restrict x, const T *restrict h,     \
                                             ptrdiff_t d, const T *restrict add,           \
                                             T *restrict y, ptrdiff_t n)                   \
{                                                                                         \
    ptrdiff_t i = 0;                                                                      \
    for (; i + 4 * L <= n; i += 4 * L) {                                                  \
        V a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, v;                                      \
        for (ptrdiff_t k = 0; k < d; k++) {                                               \
            const T *xs = x + i - k;                                                      \
            T c = h[k];                                                                   \
            memcpy(&v, xs, sizeof v);         a0 = a0 + c * v;                            \
            memcpy(&v, xs + L, sizeof v);     a1 = a1 + c * v;                            \
            memcpy(&v, xs + 2 * L, sizeof v); a2 = a2 + c * v;                            \
            memcpy(&v, xs + 3 * L, sizeof v); a3 = a3 + c * v;                            \
        }                                                                                 \
        memcpy(&v, add + i, sizeof v);         a0 = a0 + v;                               \
        memcpy(&v, add + i + L, sizeof v);     a1 = a1 + v;                               \
        memcpy(&v, add + i + 2 * L, sizeof v); a2 = a2 + v;                               \
        memcpy(&v, add + i + 3 * L, sizeof v); a3 = a3 + v;                               \
        memcpy(y + i, &a0, sizeof v);                                                     \
        memcpy(y + i + L, &a1, sizeof v);                                                 \
        memcpy(y + i + 2 * L, &a2, sizeof v);                                             \
        memcpy(y + i + 3 * L, &a3, sizeof v);                                             \
    }                                                                                     \
    for (; i + L <= n; i += L) {                                                          \
        V a0 = {0}, v;                                                                    \
        for (ptrdiff_t k = 0; k < d; k++) {                                               \
            memcpy(&v, x + i - k, sizeof v);                                              \
            a0 = a0 + h[k] * v;                                                           \
        }                                                                                 \
        memcpy(&v, add + i, sizeof v);                                                    \
        a0 = a0 + v;                                                                      \
        memcpy(y + i, &a0, sizeof v);                                                     \
    }                                                                                     \
    for (; i < n; i++) {                                                                  \
        T acc = 0;                                                                        \
        for (ptrdiff_t k = 0; k < d; k++) acc = acc + h[k] * x[i - k];                    \
        y[i] = acc + add[i];                                                              \
    }                                                                                     \
}

typedef float fastmel_v8sf __attribute__((vector_size(32)));
typedef double fastmel_v4df __attribute__((vector_size(32)));

FASTMEL_DEFINE_CONV(float, f32, fastmel_v8sf, 8)
FASTMEL_DEFINE_CONV(double, f64, fastmel_v4df, 4)

#endif
