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

/* The float32 mel projection.  Each filter's value is summed in one fixed
 * order: eight partial sums s_i, s_i = 0 + w*p over the span's bins
 * i, i + 8, i + 16, ... in ascending order, folded as
 * ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)), each operation rounded
 * (no FMA).  Two paths give those bits:
 *
 * - one frame (fastmel_mel_f32, a stream's usual call): each filter's span
 *   in 8-bin vectors, eight filters' sums folded together with shuffles;
 * - a block of frames, 8 at a time (fastmel_mel_lanes_f32): their power
 *   spectra transposed (bins x 8 frames), each weight multiplies a vector of
 *   8 frames' powers, and each s_i is a vector of 8 frames' partial sums.
 *   The zeros that pad a narrow filter to whole lanes cost nothing there:
 *   1.7x faster than one frame at a time (80 filters over 257 bins).
 *
 * Zero-weight terms and zero partial sums add +0 to sums of non-negative
 * powers, so skipping them leaves the bits as they are. */
/* One frame: the eight partial sums of eight filters at a time are folded
 * together with shuffles (three pairwise levels) instead of one horizontal
 * sum per filter.  scratch holds 8 * round_up(n_mels, 8) floats. */
typedef float fastmel_v8f __attribute__((vector_size(32)));
typedef int fastmel_v8i __attribute__((vector_size(32)));

/* [a0+a1, a2+a3, b0+b1, b2+b3, a4+a5, a6+a7, b4+b5, b6+b7].  A macro: a
 * function passing 32-byte vectors has an ABI that changes with AVX, which
 * GCC flags (-Wpsabi) in the baseline clone even where the call is inlined. */
#define fastmel_pairsum(a, b)                                                   \
    (__builtin_shuffle((a), (b), (fastmel_v8i){0, 2, 8, 10, 4, 6, 12, 14})      \
     + __builtin_shuffle((a), (b), (fastmel_v8i){1, 3, 9, 11, 5, 7, 13, 15}))

FASTMEL_CLONES_8 static int fastmel_mel_f32(const float *restrict p, const float *restrict w,
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
     * filter still sums over its lanes in ascending order; each partial sum
     * starts at its first product w*p, not 0 + w*p: the same bits for the
     * non-negative weights and powers it takes (0 + x is x for x >= +0, and
     * a NaN is flagged either way), one addition fewer per filter. */
    fastmel_v8f *rows = (fastmel_v8f *)scratch;
    for (ptrdiff_t r = 0; r < n_runs; r++) {
        const ptrdiff_t *run = runs + 4 * r;
        ptrdiff_t m_end = run[0] + run[1], n = run[2];
        const float *wm = w + run[3];
        if (n == 8) {
            for (ptrdiff_t m = run[0]; m < m_end; m++, wm += 8) {
                fastmel_v8f pv, wv;
                memcpy(&pv, p + lo[m], sizeof pv);
                memcpy(&wv, wm, sizeof wv);
                rows[m] = wv * pv;
            }
            continue;
        }
        if (n == 0) {
            /* empty filters (more mels than bins can separate): 0 */
            for (ptrdiff_t m = run[0]; m < m_end; m++)
                rows[m] = (fastmel_v8f){0};
            continue;
        }
        for (ptrdiff_t m = run[0]; m < m_end; m++, wm += n) {
            fastmel_v8f acc, pv, wv;
            const float *pm = p + lo[m];
            memcpy(&pv, pm, sizeof pv);
            memcpy(&wv, wm, sizeof wv);
            acc = wv * pv;
            for (ptrdiff_t b = 8; b < n; b += 8) {
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
        if (lane_stride == 1 && 8 * g + 8 <= n_mels) {
            memcpy(mel + 8 * g, &sums, sizeof sums);
            continue;
        }
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



/* T[b * ts + j] = R[j * rs + b] for the 8 rows j and b < n (n a multiple of 8). */
FASTMEL_MAYBE_UNUSED static void fastmel_transpose8_plain(const float *restrict R, ptrdiff_t rs, ptrdiff_t n,
                                     float *restrict T, ptrdiff_t ts)
{
    for (ptrdiff_t b = 0; b < n; b++)
        for (int j = 0; j < 8; j++)
            T[b * ts + j] = R[j * rs + b];
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FASTMEL_HAVE_AVX2_TRANSPOSE 1
/* The same with AVX2 shuffles (8x8 blocks: unpack, shuffle, lane swap); the
 * compiler cannot lower these for SSE2, where they cost 30x the plain loop. */
__attribute__((target("avx2"))) FASTMEL_MAYBE_UNUSED
static void fastmel_transpose8_avx2(const float *restrict R, ptrdiff_t rs, ptrdiff_t n,
                                    float *restrict T, ptrdiff_t ts)
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
        float *o = T + b0 * ts;
        memcpy(o + 0 * ts, &r0, sizeof r0);
        memcpy(o + 1 * ts, &r1, sizeof r1);
        memcpy(o + 2 * ts, &r2, sizeof r2);
        memcpy(o + 3 * ts, &r3, sizeof r3);
        memcpy(o + 4 * ts, &r4, sizeof r4);
        memcpy(o + 5 * ts, &r5, sizeof r5);
        memcpy(o + 6 * ts, &r6, sizeof r6);
        memcpy(o + 7 * ts, &r7, sizeof r7);
    }
}
#endif

/* how: 0 the CPU's best, 1 the plain loop (tests compare the two) */
FASTMEL_MAYBE_UNUSED static void fastmel_transpose8_how(const float *restrict R, ptrdiff_t rs, ptrdiff_t n,
                                   float *restrict T, ptrdiff_t ts, int how)
{
#ifdef FASTMEL_HAVE_AVX2_TRANSPOSE
    if (how == 0 && __builtin_cpu_supports("avx2")) {
        fastmel_transpose8_avx2(R, rs, n, T, ts);
        return;
    }
#endif
    fastmel_transpose8_plain(R, rs, n, T, ts);
}

/* mel[m * mel_stride + j], j < LANES: filter m of the frames whose powers T
 * holds transposed (T[b * LANES + j]), in the order above. */
#define FASTMEL_MEL_LANES(NAME, ATTR, VEC, LANES)                                      \
ATTR static void NAME(const float *restrict T, const float *restrict w,                \
                      const ptrdiff_t *restrict lo, const ptrdiff_t *restrict span,    \
                      const ptrdiff_t *restrict woff, ptrdiff_t n_mels,                \
                      float *restrict mel, ptrdiff_t mel_stride)                       \
{                                                                                      \
    for (ptrdiff_t m = 0; m < n_mels; m++) {                                           \
        const ptrdiff_t n = span[m];                                                   \
        const float *t = T + LANES * lo[m], *wm = w + woff[m];                         \
        VEC s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0},      \
            s7 = {0}, x, v;                                                            \
        for (ptrdiff_t b = 0; b < n; b += 8) {                                         \
            FASTMEL_TERM(s0, 0, LANES) FASTMEL_TERM(s1, 1, LANES) FASTMEL_TERM(s2, 2, LANES)                \
            FASTMEL_TERM(s3, 3, LANES) FASTMEL_TERM(s4, 4, LANES) FASTMEL_TERM(s5, 5, LANES)                \
            FASTMEL_TERM(s6, 6, LANES) FASTMEL_TERM(s7, 7, LANES)                                    \
        }                                                                              \
        /* the fold, without the additions of partial sums that are still +0 */        \
        if (n <= 2)                                                                    \
            v = s0 + s1;                                                               \
        else if (n <= 4)                                                               \
            v = (s0 + s1) + (s2 + s3);                                                 \
        else                                                                           \
            v = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));                     \
        memcpy(mel + m * mel_stride, &v, sizeof v);                                    \
    }                                                                                  \
}
#define FASTMEL_TERM(sv, i, LANES)                                                     \
            if (b + i < n) {                                                           \
                memcpy(&x, t + LANES * (b + i), sizeof x);                             \
                sv = sv + wm[b + i] * x;                                               \
            }

FASTMEL_MEL_LANES(fastmel_mel_lanes_f32, FASTMEL_CLONES, fastmel_v8f, 8)

#ifdef FASTMEL_HAVE_AVX2_TRANSPOSE
/* 16 frames per vector where the CPU has AVX-512: 1.7x faster than two
 * passes of 8 (the same operations per lane, so the same bits). */
typedef float fastmel_v16f __attribute__((vector_size(64)));
FASTMEL_MEL_LANES(fastmel_mel_lanes16_f32, __attribute__((target("avx512f"))) FASTMEL_MAYBE_UNUSED,
                  fastmel_v16f, 16)
#endif

/* The mel block of nb <= 16 frames whose power spectra are the rows of R
 * (rs apart, n_cols a multiple of 8 covering every filter): mel[m * 16 + j]
 * for frame j.  T is scratch of 16 * n_cols floats.  (The rows past nb hold
 * earlier frames' powers, or zeros: finite, and their lanes are not read.) */
FASTMEL_MAYBE_UNUSED static void fastmel_mel_block_f32(const float *restrict R, ptrdiff_t rs, ptrdiff_t n_cols,
                                  ptrdiff_t nb, float *restrict T, const float *restrict w,
                                  const ptrdiff_t *restrict lo, const ptrdiff_t *restrict span,
                                  const ptrdiff_t *restrict woff, ptrdiff_t n_mels,
                                  float *restrict mel)
{
#ifdef FASTMEL_HAVE_AVX2_TRANSPOSE
    if (nb > 8 && __builtin_cpu_supports("avx512f")) {
        fastmel_transpose8_how(R, rs, n_cols, T, 16, 0);
        fastmel_transpose8_how(R + 8 * rs, rs, n_cols, T + 8, 16, 0);
        fastmel_mel_lanes16_f32(T, w, lo, span, woff, n_mels, mel, 16);
        return;
    }
#endif
    for (ptrdiff_t h = 0; h < nb; h += 8) {
        fastmel_transpose8_how(R + h * rs, rs, n_cols, T, 8, 0);
        fastmel_mel_lanes_f32(T, w, lo, span, woff, n_mels, mel + h, 16);
    }
}

#endif
