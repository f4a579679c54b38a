/* The complex STFT's output writing: a block of frames' spectra (frame j's
 * n_bins values at spec + j * spec_stride, interleaved re/im) stored
 * transposed into the (bins, frames) output.
 *
 * Values are moved as bits (a complex64 as one 64-bit word, a complex128 as
 * two), so the output holds the FFT's bits.  The time went into the stores,
 * not the loop: an output larger than the caches is written a few values
 * per row per block, and every store to a line not in cache first reads the
 * line from memory (read-for-ownership), doubling the memory traffic.  For
 * large outputs the stores are non-temporal (straight to memory through
 * write-combining buffers, no read); small ones (streams' chunks, short
 * signals, read again at once) stay in cache.
 */
#ifndef FASTMEL_SCATTER_H
#define FASTMEL_SCATTER_H

#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#define FASTMEL_STORE_NT(p, v) _mm_stream_si64((long long *)(p), (long long)(v))
#define FASTMEL_STORE_FENCE() _mm_sfence()
#else
#define FASTMEL_STORE_NT(p, v) (*(p) = (v))
#define FASTMEL_STORE_FENCE() ((void)0)
#endif

/* Outputs of at least this many bytes (per channel) take non-temporal stores:
 * above a core's L2 on current x86 CPUs, where regular stores miss anyway. */
#define FASTMEL_SCATTER_NT_BYTES (2 << 20)

/* spec_stride, row_stride and col_stride count complex values; words is 1
 * for complex64, 2 for complex128 (64-bit words per value). */
static void fastmel_scatter(const uint64_t *restrict spec, ptrdiff_t spec_stride, ptrdiff_t nb,
                            ptrdiff_t n_bins, uint64_t *restrict out, ptrdiff_t row_stride,
                            ptrdiff_t col_stride, int words)
{
    int nt = col_stride == 1 && n_bins * row_stride * words * 8 >= FASTMEL_SCATTER_NT_BYTES;
    for (ptrdiff_t b = 0; b < n_bins; b++) {
        uint64_t *o = out + words * b * row_stride;
        const uint64_t *s = spec + words * b;
        if (nt && words == 1) {
            for (ptrdiff_t j = 0; j < nb; j++)
                FASTMEL_STORE_NT(o + j, s[j * spec_stride]);
        } else if (nt) {
            for (ptrdiff_t j = 0; j < nb; j++) {
                FASTMEL_STORE_NT(o + 2 * j, s[2 * j * spec_stride]);
                FASTMEL_STORE_NT(o + 2 * j + 1, s[2 * j * spec_stride + 1]);
            }
        } else {
            for (ptrdiff_t j = 0; j < nb; j++)
                for (int w = 0; w < words; w++)
                    o[words * j * col_stride + w] = s[words * j * spec_stride + w];
        }
    }
    /* Non-temporal stores are weakly ordered: make them visible before the
     * output is handed on (to another thread, too). */
    if (nt)
        FASTMEL_STORE_FENCE();
}

#endif
