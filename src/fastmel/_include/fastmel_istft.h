/* Inner loops of the inverse STFT (see _istft.pyx): the gather of a block of
 * frames, the windowed overlap-add, and the division by the envelope.
 *
 * In C for `restrict` and target_clones (AVX2 with an SSE2 fallback), like
 * fastmel_kernels.h.  No FMA: every clone, lane and tail loop does the same
 * IEEE operations, so a sample's value never depends on how the frames were
 * cut into calls.
 */
#ifndef FASTMEL_ISTFT_H
#define FASTMEL_ISTFT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fastmel_db.h"   /* FASTMEL_CLONES */

#define FASTMEL_DEFINE_ISTFT(T, U, SUF)                                                    \
                                                                                          \
/* nb frames of n_bins complex values (src: frame f, bin k at src + 2 (k xs_b + f xs_f)) \
 * into spectra slot values apart, bin k at 2 k.  Whichever of bins and frames lies      \
 * closer in memory is read in the inner loop: a frame's bins at once (librosa's         \
 * Fortran-ordered STFT), or each bin's run of frames (C order; the run of the `ahead`   \
 * frames that follow is then prefetched into L2: the rows lie far apart and no          \
 * hardware prefetcher follows hundreds of them).  Returns 1 when a real or imaginary    \
 * part is beyond limit (>= 0) in magnitude or not finite, compared as bit patterns      \
 * (NaN's lie above infinity's), else 0. */                                              \
FASTMEL_CLONES static int fastmel_gather_##SUF(const T *restrict src, ptrdiff_t xs_b,      \
                                               ptrdiff_t xs_f, ptrdiff_t n_bins,           \
                                               ptrdiff_t nb, T *restrict spec,             \
                                               ptrdiff_t slot, T limit, ptrdiff_t ahead)   \
{                                                                                         \
    const U magnitude = ~((U)1 << (8 * sizeof(U) - 1));                                   \
    U lim, bad = 0;                                                                       \
    int bins_inner = (xs_b < 0 ? -xs_b : xs_b) <= (xs_f < 0 ? -xs_f : xs_f);              \
    /* bytes to prefetch per outer step: the next block's run of this bin (C order),   \
     * or the bins of the frame a block later (Fortran order) */                         \
    ptrdiff_t next = ahead <= 0 ? 0 : bins_inner ? (xs_b == 1 ? 2 * n_bins : 0)          \
                                                 : (xs_f == 1 ? 2 * ahead : 0);          \
    ptrdiff_t n_outer = bins_inner ? nb : n_bins, n_inner = bins_inner ? n_bins : nb;     \
    ptrdiff_t so = bins_inner ? xs_f : xs_b, si = bins_inner ? xs_b : xs_f;               \
    ptrdiff_t d_outer = bins_inner ? slot : 2, d_inner = bins_inner ? 2 : slot;           \
    memcpy(&lim, &limit, sizeof lim);                                                     \
    for (ptrdiff_t o = 0; o < n_outer; o++) {                                             \
        const T *s = src + 2 * o * so;                                                    \
        T *d = spec + o * d_outer;                                                        \
        const char *p = (const char *)(bins_inner ? s + 2 * nb * xs_f : s + 2 * nb);      \
        if (!bins_inner || o < ahead)                                                     \
            for (ptrdiff_t line = 0; line < next * (ptrdiff_t)sizeof(T); line += 64)      \
                __builtin_prefetch(p + line, 0, 2);                                       \
        for (ptrdiff_t i = 0; i < n_inner; i++) {                                         \
            U v[2];                                                                       \
            memcpy(v, s + 2 * i * si, sizeof v);                                          \
            bad |= ((v[0] & magnitude) > lim) | ((v[1] & magnitude) > lim);               \
            memcpy(d + i * d_inner, v, sizeof v);                                         \
        }                                                                                 \
    }                                                                                     \
    return bad != 0;                                                                      \
}                                                                                         \
                                                                                          \
/* acc[i] = acc[i] + w[i] * x[i] */                                                       \
FASTMEL_CLONES static void fastmel_ola_##SUF(T *restrict acc, const T *restrict w,         \
                                             const T *restrict x, ptrdiff_t n)             \
{                                                                                         \
    for (ptrdiff_t i = 0; i < n; i++)                                                     \
        acc[i] = acc[i] + w[i] * x[i];                                                    \
}                                                                                         \
                                                                                          \
/* acc[i] = acc[i] + w[i] */                                                              \
FASTMEL_CLONES static void fastmel_accumulate_##SUF(T *restrict acc, const T *restrict w,  \
                                                    ptrdiff_t n)                           \
{                                                                                         \
    for (ptrdiff_t i = 0; i < n; i++)                                                     \
        acc[i] = acc[i] + w[i];                                                           \
}                                                                                         \
                                                                                          \
/* y[i] = acc[i] / env[i] where env[i] > tiny, else acc[i] (librosa's rule) */           \
FASTMEL_CLONES static void fastmel_normalize_##SUF(const T *restrict acc,                  \
                                                   const T *restrict env, T *restrict y,   \
                                                   ptrdiff_t n, T tiny)                    \
{                                                                                         \
    for (ptrdiff_t i = 0; i < n; i++) {                                                   \
        T e = env[i] > tiny ? env[i] : (T)1;                                              \
        y[i] = acc[i] / e;                                                                \
    }                                                                                     \
}

FASTMEL_DEFINE_ISTFT(float, uint32_t, f32)
FASTMEL_DEFINE_ISTFT(double, uint64_t, f64)

#endif
