/* Inner loops of the per-frame spectral kernel (see _spectral.pyx).
 *
 * They live in C for two things Cython cannot say: `restrict` (so the
 * compiler knows outputs do not alias inputs and vectorises), and
 * target_clones (an AVX2 build of each loop chosen at load time, with the
 * portable SSE2 build as fallback).  No FMA is enabled, so every clone does
 * the same IEEE operations and a frame's result never depends on which lane,
 * block or call computes it.
 */
#ifndef FASTMEL_KERNELS_H
#define FASTMEL_KERNELS_H

#include <math.h>
#include <stddef.h>

#include "fastmel_db.h"   /* FASTMEL_CLONES */

/* Filters' weight spans are padded with zeros to a multiple of this many
 * bins, and the power spectrum with as many zeros past its end, so the dot
 * products below have no tail loop. */
#define FASTMEL_LANES 8

#define FASTMEL_DEFINE_KERNELS(T, SUF)                                                   \
                                                                                          \
/* out[i] = x[i * stride] * w[i] */                                                       \
FASTMEL_CLONES static void fastmel_window_##SUF(const T *restrict x, ptrdiff_t stride,     \
                                                const T *restrict w, T *restrict out,      \
                                                ptrdiff_t n)                               \
{                                                                                         \
    if (stride == 1) {                                                                    \
        for (ptrdiff_t i = 0; i < n; i++) out[i] = x[i] * w[i];                           \
    } else {                                                                              \
        for (ptrdiff_t i = 0; i < n; i++) out[i] = x[i * stride] * w[i];                  \
    }                                                                                     \
}                                                                                         \
                                                                                          \
/* p[b] = |X[b]|^2 from interleaved complex X */                                          \
FASTMEL_CLONES static void fastmel_power2_##SUF(const T *restrict spec, T *restrict p,     \
                                                ptrdiff_t n_bins)                          \
{                                                                                         \
    for (ptrdiff_t b = 0; b < n_bins; b++) {                                              \
        T re = spec[2 * b], im = spec[2 * b + 1];                                         \
        p[b] = re * re + im * im;                                                         \
    }                                                                                     \
}                                                                                         \
                                                                                          \
/* mel[m * lane_stride] = sum over the filter's span of w * p, as 8 partial sums          \
 * folded in a fixed order. */                                                            \
FASTMEL_CLONES static void fastmel_mel_##SUF(const T *restrict p, const T *restrict w,     \
                                             const ptrdiff_t *restrict lo,                 \
                                             const ptrdiff_t *restrict len,                \
                                             const ptrdiff_t *restrict woff,               \
                                             ptrdiff_t n_mels, T *restrict mel,            \
                                             ptrdiff_t lane_stride)                        \
{                                                                                         \
    for (ptrdiff_t m = 0; m < n_mels; m++) {                                              \
        const T *pm = p + lo[m];                                                          \
        const T *wm = w + woff[m];                                                        \
        T acc[FASTMEL_LANES] = {0};                                                       \
        for (ptrdiff_t b = 0; b < len[m]; b += FASTMEL_LANES)                             \
            for (int i = 0; i < FASTMEL_LANES; i++)                                       \
                acc[i] += wm[b + i] * pm[b + i];                                          \
        mel[m * lane_stride] = ((acc[0] + acc[4]) + (acc[1] + acc[5]))                    \
                             + ((acc[2] + acc[6]) + (acc[3] + acc[7]));                   \
    }                                                                                     \
}

FASTMEL_DEFINE_KERNELS(float, f32)
FASTMEL_DEFINE_KERNELS(double, f64)

#endif
