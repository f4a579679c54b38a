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
#include <stdint.h>

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

FASTMEL_DEFINE_KERNELS(float, f32)
FASTMEL_DEFINE_KERNELS(double, f64)

/* mel[m * lane_stride] = sum over the filter's span of w * p, as 8 partial sums
 * folded in a fixed order.  Returns 1 when every mel value is finite (an
 * overflowed power must not reach the dB floor as if it were silence). */
FASTMEL_CLONES static int fastmel_mel_f64(const double *restrict p, const double *restrict w,
                                            const ptrdiff_t *restrict lo,
                                            const ptrdiff_t *restrict len,
                                            const ptrdiff_t *restrict woff,
                                            ptrdiff_t n_mels, double *restrict mel,
                                            ptrdiff_t lane_stride)
{
    uint64_t bad = 0;
    for (ptrdiff_t m = 0; m < n_mels; m++) {
        const double *pm = p + lo[m];
        const double *wm = w + woff[m];
        double acc[FASTMEL_LANES] = {0};
        for (ptrdiff_t b = 0; b < len[m]; b += FASTMEL_LANES)
            for (int i = 0; i < FASTMEL_LANES; i++)
                acc[i] += wm[b + i] * pm[b + i];
        double v = ((acc[0] + acc[4]) + (acc[1] + acc[5]))
                 + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        bad |= (bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull;
        mel[m * lane_stride] = v;
    }
    return !bad;
}

/* The float32 mel projection, as above, but the eight partial sums of eight
 * filters at a time are folded together with shuffles (three pairwise levels),
 * instead of one horizontal sum per filter.  Each filter's value is still
 * summed in one fixed order, so results never depend on the frame's company.
 * scratch holds 8 * round_up(n_mels, 8) floats. */
typedef float fastmel_v8f __attribute__((vector_size(32)));
typedef int fastmel_v8i __attribute__((vector_size(32)));

static inline fastmel_v8f fastmel_pairsum(fastmel_v8f a, fastmel_v8f b)
{
    /* [a0+a1, a2+a3, b0+b1, b2+b3, a4+a5, a6+a7, b4+b5, b6+b7] */
    const fastmel_v8i even = {0, 2, 8, 10, 4, 6, 12, 14};
    const fastmel_v8i odd = {1, 3, 9, 11, 5, 7, 13, 15};
    return __builtin_shuffle(a, b, even) + __builtin_shuffle(a, b, odd);
}

FASTMEL_CLONES static int fastmel_mel_f32(const float *restrict p, const float *restrict w,
                                          const ptrdiff_t *restrict lo,
                                          const ptrdiff_t *restrict runs, ptrdiff_t n_runs,
                                          ptrdiff_t n_mels, float *restrict mel,
                                          ptrdiff_t lane_stride, float *restrict scratch)
{
    /* scratch is 64-byte aligned; rows past n_mels stay zero (set up once).
     * Filters come in runs of equal span length with consecutive weights
     * (see mel_runs in _spectral.pyx): a run of one-lane filters, most of a
     * mel bank, then goes through a loop with no per-filter branch, which
     * bounded this kernel by its loop overhead, not its arithmetic.  Every
     * filter still sums 0 + w*p over its lanes in ascending order. */
    fastmel_v8f *rows = (fastmel_v8f *)scratch;
    for (ptrdiff_t r = 0; r < n_runs; r++) {
        const ptrdiff_t *run = runs + 4 * r;
        ptrdiff_t m_end = run[0] + run[1], n = run[2];
        const float *wm = w + run[3];
        if (n == 8) {
            for (ptrdiff_t m = run[0]; m < m_end; m++, wm += 8) {
                fastmel_v8f acc = {0}, pv, wv;
                memcpy(&pv, p + lo[m], sizeof pv);
                memcpy(&wv, wm, sizeof wv);
                rows[m] = acc + wv * pv;
            }
            continue;
        }
        for (ptrdiff_t m = run[0]; m < m_end; m++, wm += n) {
            fastmel_v8f acc = {0}, pv, wv;
            const float *pm = p + lo[m];
            for (ptrdiff_t b = 0; b < n; b += 8) {
                memcpy(&pv, pm + b, sizeof pv);
                memcpy(&wv, wm + b, sizeof wv);
                acc = acc + wv * pv;
            }
            rows[m] = acc;
        }
    }
    const fastmel_v8i lo_idx = {0, 1, 2, 3, 8, 9, 10, 11};
    const fastmel_v8i hi_idx = {4, 5, 6, 7, 12, 13, 14, 15};
    const fastmel_v8i exponent = {0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000,
                                  0x7f800000, 0x7f800000, 0x7f800000, 0x7f800000};
    fastmel_v8i bad = {0};
    for (ptrdiff_t g = 0; 8 * g < n_mels; g++) {
        const fastmel_v8f *r = rows + 8 * g;
        fastmel_v8f h01 = fastmel_pairsum(r[0], r[1]), h23 = fastmel_pairsum(r[2], r[3]);
        fastmel_v8f h45 = fastmel_pairsum(r[4], r[5]), h67 = fastmel_pairsum(r[6], r[7]);
        fastmel_v8f q0 = fastmel_pairsum(h01, h23), q1 = fastmel_pairsum(h45, h67);
        /* q0 holds filters 0-3 (first halves, then second halves of their sums),
         * q1 filters 4-7: add the halves. */
        fastmel_v8f sums = __builtin_shuffle(q0, q1, lo_idx) + __builtin_shuffle(q0, q1, hi_idx);
        /* Rows past n_mels are zero: their lanes never flag. */
        fastmel_v8i bits;
        memcpy(&bits, &sums, sizeof bits);
        bad |= (bits & exponent) == exponent;
        float out[8];
        memcpy(out, &sums, sizeof out);
        for (int j = 0; j < 8 && 8 * g + j < n_mels; j++)
            mel[(8 * g + j) * lane_stride] = out[j];
    }
    int any = 0;
    for (int j = 0; j < 8; j++)
        any |= bad[j];
    return !any;
}

#endif
