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

/* The float32 mel projection.  Each filter's value is 0 + w*p summed over its
 * span in ascending bins, each operation rounded (no FMA), so every path
 * below gives the same bits:
 *
 * - a block of frames goes 8 at a time, one per SIMD lane: their power
 *   spectra are transposed (bins x 8 frames), then each weight multiplies a
 *   whole vector of 8 frames' powers.  Nothing is wasted on the zeros that
 *   pad a narrow filter's span, and no horizontal sums are needed: 4.5x
 *   faster than one frame at a time (80 filters over 257 bins, AVX2/AVX-512);
 * - one frame alone (a stream's usual call) goes through the filters 8 at a
 *   time in scalar registers, for parallel dependency chains.
 *
 * A span padded with zero weights adds +0 terms, which leave a sum of
 * non-negative powers unchanged, so spans may be read padded or not. */
typedef float fastmel_v8f __attribute__((vector_size(32)));
typedef int fastmel_v8i __attribute__((vector_size(32)));

#define FASTMEL_MEL_EXP 0x7f800000

/* T[b * 8 + j] = R[j * rs + b] for the 8 rows j and b < n (n a multiple of 8). */
static void fastmel_transpose8_plain(const float *restrict R, ptrdiff_t rs, ptrdiff_t n,
                                     float *restrict T)
{
    for (ptrdiff_t b = 0; b < n; b++)
        for (int j = 0; j < 8; j++)
            T[b * 8 + j] = R[j * rs + b];
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FASTMEL_HAVE_AVX2_TRANSPOSE 1
/* The same with AVX2 shuffles (8x8 blocks: unpack, shuffle, lane swap); the
 * compiler cannot lower these for SSE2, where they cost 30x the plain loop. */
__attribute__((target("avx2")))
static void fastmel_transpose8_avx2(const float *restrict R, ptrdiff_t rs, ptrdiff_t n,
                                    float *restrict T)
{
    const fastmel_v8i ulo = {0, 8, 1, 9, 4, 12, 5, 13}, uhi = {2, 10, 3, 11, 6, 14, 7, 15};
    const fastmel_v8i slo = {0, 1, 8, 9, 4, 5, 12, 13}, shi = {2, 3, 10, 11, 6, 7, 14, 15};
    const fastmel_v8i plo = {0, 1, 2, 3, 8, 9, 10, 11}, phi = {4, 5, 6, 7, 12, 13, 14, 15};
    for (ptrdiff_t b0 = 0; b0 < n; b0 += 8) {
        /* named registers: written with arrays, GCC kept them in memory (8x slower) */
        fastmel_v8f r0, r1, r2, r3, r4, r5, r6, r7;
        memcpy(&r0, R + 0 * rs + b0, sizeof r0);
        memcpy(&r1, R + 1 * rs + b0, sizeof r1);
        memcpy(&r2, R + 2 * rs + b0, sizeof r2);
        memcpy(&r3, R + 3 * rs + b0, sizeof r3);
        memcpy(&r4, R + 4 * rs + b0, sizeof r4);
        memcpy(&r5, R + 5 * rs + b0, sizeof r5);
        memcpy(&r6, R + 6 * rs + b0, sizeof r6);
        memcpy(&r7, R + 7 * rs + b0, sizeof r7);
        fastmel_v8f t0 = __builtin_shuffle(r0, r1, ulo), t1 = __builtin_shuffle(r0, r1, uhi);
        fastmel_v8f t2 = __builtin_shuffle(r2, r3, ulo), t3 = __builtin_shuffle(r2, r3, uhi);
        fastmel_v8f t4 = __builtin_shuffle(r4, r5, ulo), t5 = __builtin_shuffle(r4, r5, uhi);
        fastmel_v8f t6 = __builtin_shuffle(r6, r7, ulo), t7 = __builtin_shuffle(r6, r7, uhi);
        fastmel_v8f s0 = __builtin_shuffle(t0, t2, slo), s1 = __builtin_shuffle(t0, t2, shi);
        fastmel_v8f s2 = __builtin_shuffle(t1, t3, slo), s3 = __builtin_shuffle(t1, t3, shi);
        fastmel_v8f s4 = __builtin_shuffle(t4, t6, slo), s5 = __builtin_shuffle(t4, t6, shi);
        fastmel_v8f s6 = __builtin_shuffle(t5, t7, slo), s7 = __builtin_shuffle(t5, t7, shi);
        r0 = __builtin_shuffle(s0, s4, plo);
        r4 = __builtin_shuffle(s0, s4, phi);
        r1 = __builtin_shuffle(s1, s5, plo);
        r5 = __builtin_shuffle(s1, s5, phi);
        r2 = __builtin_shuffle(s2, s6, plo);
        r6 = __builtin_shuffle(s2, s6, phi);
        r3 = __builtin_shuffle(s3, s7, plo);
        r7 = __builtin_shuffle(s3, s7, phi);
        float *o = T + b0 * 8;
        memcpy(o + 0, &r0, sizeof r0);
        memcpy(o + 8, &r1, sizeof r1);
        memcpy(o + 16, &r2, sizeof r2);
        memcpy(o + 24, &r3, sizeof r3);
        memcpy(o + 32, &r4, sizeof r4);
        memcpy(o + 40, &r5, sizeof r5);
        memcpy(o + 48, &r6, sizeof r6);
        memcpy(o + 56, &r7, sizeof r7);
    }
}
#endif

/* how: 0 the CPU's best, 1 the plain loop (tests compare the two) */
static void fastmel_transpose8_how(const float *restrict R, ptrdiff_t rs, ptrdiff_t n,
                                   float *restrict T, int how)
{
#ifdef FASTMEL_HAVE_AVX2_TRANSPOSE
    if (how == 0 && __builtin_cpu_supports("avx2")) {
        fastmel_transpose8_avx2(R, rs, n, T);
        return;
    }
#endif
    fastmel_transpose8_plain(R, rs, n, T);
}

static void fastmel_transpose8(const float *restrict R, ptrdiff_t rs, ptrdiff_t n,
                               float *restrict T)
{
    fastmel_transpose8_how(R, rs, n, T, 0);
}

/* mel[m * mel_stride + j], j < 8: filter m of the 8 frames whose powers T
 * holds transposed (T[b * 8 + j]).  Four filters at a time, for four
 * independent dependency chains. */
FASTMEL_CLONES static void fastmel_mel_lanes_f32(const float *restrict T, const float *restrict w,
                                                 const ptrdiff_t *restrict lo,
                                                 const ptrdiff_t *restrict span,
                                                 const ptrdiff_t *restrict woff,
                                                 ptrdiff_t n_mels, float *restrict mel,
                                                 ptrdiff_t mel_stride)
{
    ptrdiff_t m = 0;
    for (; m + 4 <= n_mels; m += 4) {
        fastmel_v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, t;
        const ptrdiff_t s0 = span[m], s1 = span[m + 1], s2 = span[m + 2], s3 = span[m + 3];
        ptrdiff_t most = s0 > s1 ? s0 : s1;
        most = most > s2 ? most : s2;
        most = most > s3 ? most : s3;
        const float *t0 = T + 8 * lo[m], *t1 = T + 8 * lo[m + 1];
        const float *t2 = T + 8 * lo[m + 2], *t3 = T + 8 * lo[m + 3];
        const float *w0 = w + woff[m], *w1 = w + woff[m + 1];
        const float *w2 = w + woff[m + 2], *w3 = w + woff[m + 3];
        for (ptrdiff_t b = 0; b < most; b++) {
            if (b < s0) { memcpy(&t, t0 + 8 * b, sizeof t); a0 = a0 + w0[b] * t; }
            if (b < s1) { memcpy(&t, t1 + 8 * b, sizeof t); a1 = a1 + w1[b] * t; }
            if (b < s2) { memcpy(&t, t2 + 8 * b, sizeof t); a2 = a2 + w2[b] * t; }
            if (b < s3) { memcpy(&t, t3 + 8 * b, sizeof t); a3 = a3 + w3[b] * t; }
        }
        memcpy(mel + m * mel_stride, &a0, sizeof a0);
        memcpy(mel + (m + 1) * mel_stride, &a1, sizeof a1);
        memcpy(mel + (m + 2) * mel_stride, &a2, sizeof a2);
        memcpy(mel + (m + 3) * mel_stride, &a3, sizeof a3);
    }
    for (; m < n_mels; m++) {
        fastmel_v8f a = {0}, t;
        const float *tm = T + 8 * lo[m], *wm = w + woff[m];
        for (ptrdiff_t b = 0; b < span[m]; b++) {
            memcpy(&t, tm + 8 * b, sizeof t);
            a = a + wm[b] * t;
        }
        memcpy(mel + m * mel_stride, &a, sizeof a);
    }
}

/* One frame: mel[m * mel_stride] for the power spectrum p, filters 8 at a
 * time in scalar registers (the same operations, in the same order, as a
 * lane of fastmel_mel_lanes_f32).  Returns 1 when every value is finite. */
FASTMEL_CLONES static int fastmel_mel_one_f32(const float *restrict p, const float *restrict w,
                                              const ptrdiff_t *restrict lo,
                                              const ptrdiff_t *restrict span,
                                              const ptrdiff_t *restrict woff,
                                              ptrdiff_t n_mels, float *restrict mel,
                                              ptrdiff_t mel_stride)
{
    uint32_t bad = 0;
    for (ptrdiff_t m0 = 0; m0 < n_mels; m0 += 8) {
        const int g = n_mels - m0 < 8 ? (int)(n_mels - m0) : 8;
        float acc[8] = {0};
        ptrdiff_t most = 0;
        for (int i = 0; i < g; i++)
            most = span[m0 + i] > most ? span[m0 + i] : most;
        for (ptrdiff_t b = 0; b < most; b++)
            for (int i = 0; i < g; i++)
                if (b < span[m0 + i])
                    acc[i] = acc[i] + w[woff[m0 + i] + b] * p[lo[m0 + i] + b];
        for (int i = 0; i < g; i++) {
            uint32_t bits;
            memcpy(&bits, &acc[i], sizeof bits);
            bad |= (bits & FASTMEL_MEL_EXP) == FASTMEL_MEL_EXP;
            mel[(m0 + i) * mel_stride] = acc[i];
        }
    }
    return !bad;
}

/* 1 when the first n of each of `rows` rows of `stride` values are finite. */
FASTMEL_CLONES static int fastmel_finite_rows_f32(const float *restrict v, ptrdiff_t rows,
                                                  ptrdiff_t stride, ptrdiff_t n)
{
    uint32_t bad = 0;
    for (ptrdiff_t r = 0; r < rows; r++, v += stride)
        for (ptrdiff_t i = 0; i < n; i++) {
            uint32_t bits;
            memcpy(&bits, &v[i], sizeof bits);
            bad |= (bits & FASTMEL_MEL_EXP) == FASTMEL_MEL_EXP;
        }
    return !bad;
}

#endif
