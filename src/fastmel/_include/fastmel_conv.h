/* Inner loops of partitioned convolution (see _convolve.pyx), also the
 * multiply-add of offline overlap-add (_overlap_add.pyx).
 *
 * In C for `restrict` and target_clones (AVX2 with an SSE2 fallback), like
 * fastmel_kernels.h.  No FMA: every clone, lane and tail loop does the same
 * IEEE operations, so an output sample's value never depends on how the
 * input was cut into calls.
 */
#ifndef FASTMEL_CONV_H
#define FASTMEL_CONV_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
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

/* The largest |x[i * stride]| of n values, or +inf when any of them is NaN or inf.
 * Absolute values of IEEE floats order like their bit patterns read as unsigned
 * integers, and every inf or NaN pattern lies above the largest finite one, so
 * one integer maximum (which vectorises) answers both questions. */
#define FASTMEL_DEFINE_PEAK(T, SUF, U, ABS_MASK, INF_BITS)                                   \
FASTMEL_CLONES static double fastmel_peak_##SUF(const T *x, ptrdiff_t n, ptrdiff_t stride)  \
{                                                                                          \
    U m = 0, b;                                                                            \
    T v;                                                                                   \
    if (stride == 1) {                                                                     \
        for (ptrdiff_t i = 0; i < n; i++) {                                                \
            memcpy(&b, x + i, sizeof b);                                                   \
            b &= ABS_MASK;                                                                 \
            m = b > m ? b : m;                                                             \
        }                                                                                  \
    } else {                                                                               \
        for (ptrdiff_t i = 0; i < n; i++) {                                                \
            memcpy(&b, x + i * stride, sizeof b);                                          \
            b &= ABS_MASK;                                                                 \
            m = b > m ? b : m;                                                             \
        }                                                                                  \
    }                                                                                      \
    if (m >= INF_BITS)                                                                     \
        return INFINITY;                                                                   \
    memcpy(&v, &m, sizeof v);                                                              \
    return (double)v;                                                                      \
}

FASTMEL_DEFINE_PEAK(float, f32, uint32_t, 0x7fffffffu, 0x7f800000u)
FASTMEL_DEFINE_PEAK(double, f64, uint64_t, 0x7fffffffffffffffull, 0x7ff0000000000000ull)

typedef float fastmel_v8sf __attribute__((vector_size(32)));
typedef double fastmel_v4df __attribute__((vector_size(32)));

FASTMEL_DEFINE_CONV(float, f32, fastmel_v8sf, 8)
FASTMEL_DEFINE_CONV(double, f64, fastmel_v4df, 4)

#endif
