/* Power to decibels over a short run of values: out = 10*log10(max(amin, v)) - offset.
 *
 * The float32 path carries its own logarithm because glibc's scalar log10f
 * costs as much as the FFT of a frame, and the loop must vectorise without
 * -ffast-math.  The function is branch-free, so the compiler maps it onto
 * SIMD lanes; every element goes through the same arithmetic whichever lane
 * or tail loop it lands in, so results never depend on how a signal is cut
 * into blocks.  Error: within 2 ulp of log(m) on the mantissa, i.e. about
 * 1e-6 dB, far inside the 0.01 dB contract.
 */
#ifndef FASTMEL_DB_H
#define FASTMEL_DB_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fastmel_math.h"

/* Every element-wise kernel gets AVX-512, AVX2 and baseline clones, chosen
 * at load time by the CPU.  The bits are the same in each: the kernels use
 * IEEE operations only, the build forbids FMA contraction, and vectorising
 * without -ffast-math never reorders a sum.  (On AVX-512 CPUs the float32
 * dB step ran 1.6x faster than its AVX2 clone.) */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FASTMEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default"))) \
    FASTMEL_MAYBE_UNUSED
/* Loops built around eight lanes (eight partial sums, 8-float vectors) get
 * no AVX-512 clone: on AVX-512 CPUs GCC's version of them ran 1.1-3x slower
 * than the AVX2 one (Kaldi's energy sums, the one-frame mel kernel). */
#define FASTMEL_CLONES_8 __attribute__((target_clones("avx2", "default"))) \
    FASTMEL_MAYBE_UNUSED
#else
#define FASTMEL_CLONES FASTMEL_MAYBE_UNUSED
#define FASTMEL_CLONES_8 FASTMEL_MAYBE_UNUSED
#endif

/* 10*log10(x) for finite positive x, subnormals included; +inf maps to +inf.
 * Written without branches (integer masks), so loops over it vectorise. */
static inline float fastmel_db_f32(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    /* A subnormal (an amin below FLT_MIN lets them through) has no implicit
     * leading bit: scale it by 2^24, exactly, into the normal range. */
    uint32_t sub = 0u - (uint32_t)((bits >> 23) == 0u);
    float scaled = x * 16777216.0f;
    uint32_t sbits;
    memcpy(&sbits, &scaled, sizeof sbits);
    bits = (sbits & sub) | (bits & ~sub);
    int32_t e = (int32_t)(bits >> 23) - 127 - (int32_t)(sub & 24u);
    uint32_t mbits = (bits & 0x007fffffu) | 0x3f800000u;
    /* Bring the mantissa into [sqrt(1/2), sqrt(2)) so the series stays short:
     * above sqrt(2) (0x3fb504f3) halve it and count one more in the exponent. */
    int32_t big = mbits > 0x3fb504f3u;
    mbits -= (uint32_t)big << 23;
    e += big;
    float m;
    memcpy(&m, &mbits, sizeof m);
    /* log(m) = 2 atanh(t), t = (m-1)/(m+1), |t| < 0.172. */
    float t = (m - 1.0f) / (m + 1.0f);
    float t2 = t * t;
    float series = 1.0f + t2 * (0.333333333f + t2 * (0.2f + t2 * (0.142857143f + t2 * 0.111111111f)));
    float ln_m = 2.0f * t * series;
    /* 10*log10(2) and 10*log10(e) */
    float db = (float)e * 3.01029996f + ln_m * 4.34294482f;
    /* +inf (exponent field 255) has no finite logarithm: pass it through. */
    uint32_t keep = 0u - (uint32_t)((bits >> 23) == 255u);
    uint32_t dbbits;
    memcpy(&dbbits, &db, sizeof dbbits);
    dbbits = (bits & keep) | (dbbits & ~keep);
    memcpy(&db, &dbbits, sizeof db);
    return db;
}

FASTMEL_CLONES
static void fastmel_power_to_db_f32(float *v, long n, float amin, float offset)
{
    /* Powers are >= 0, and non-negative floats order like their bit
     * patterns, so the floor at amin (> 0, possibly subnormal) is an integer
     * max (-0.0 is negative as an integer and is floored too). */
    int32_t floor;
    memcpy(&floor, &amin, sizeof floor);
    for (long i = 0; i < n; i++) {
        int32_t b;
        memcpy(&b, &v[i], sizeof b);
        b = b > floor ? b : floor;
        float x;
        memcpy(&x, &b, sizeof x);
        v[i] = fastmel_db_f32(x) - offset;
    }
}

/* The float64 path: fastmel_db_f64 (fastmel_math.h) instead of glibc's scalar
 * log10, which took a quarter of float64 log-mel time. */
FASTMEL_MATH_CLONES
static void fastmel_power_to_db_f64(double *v, long n, double amin, double offset)
{
    for (long i = 0; i < n; i++) {
        /* amin where v <= amin (a difference's sign: see fastmel_neg) */
        v[i] = fastmel_db_f64(fastmel_select(fastmel_neg(amin - v[i]), v[i], amin)) - offset;
    }
}

/* Reductions and clips over whole outputs.  Floats are compared through an
 * integer key that orders like the float values (finite ones, both signs),
 * which the compiler vectorises without -ffast-math. */

static inline int32_t fastmel_key_f32(float x)
{
    int32_t b;
    memcpy(&b, &x, sizeof b);
    return b ^ ((b >> 31) & 0x7fffffff);
}

static inline int64_t fastmel_key_f64(double x)
{
    int64_t b;
    memcpy(&b, &x, sizeof b);
    return b ^ ((b >> 63) & 0x7fffffffffffffffLL);
}

/* Largest of n finite values (n >= 1). */
FASTMEL_CLONES
static float fastmel_max_f32(const float *v, long n)
{
    int32_t best = fastmel_key_f32(v[0]);
    long at = 0;
    for (long i = 0; i < n; i++) {
        int32_t k = fastmel_key_f32(v[i]);
        best = k > best ? k : best;
    }
    for (; at < n; at++)
        if (fastmel_key_f32(v[at]) == best)
            break;
    return v[at];
}

FASTMEL_CLONES
static double fastmel_max_f64(const double *v, long n)
{
    int64_t best = fastmel_key_f64(v[0]);
    long at = 0;
    for (long i = 0; i < n; i++) {
        int64_t k = fastmel_key_f64(v[i]);
        best = k > best ? k : best;
    }
    for (; at < n; at++)
        if (fastmel_key_f64(v[at]) == best)
            break;
    return v[at];
}

/* The inverse of the keys above (each is its own inverse). */
static inline float fastmel_unkey_f32(int32_t k)
{
    int32_t b = k ^ ((k >> 31) & 0x7fffffff);
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static inline double fastmel_unkey_f64(int64_t k)
{
    int64_t b = k ^ ((k >> 63) & 0x7fffffffffffffffLL);
    double x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* Fold the smallest and the largest of n values (finite or infinite) into
 * lohi[0] and lohi[1] (start them at +inf and -inf).  Comparisons only, so
 * exact, and the same whichever piece of an output it is given first. */
/* ... of the first n of each of `rows` runs, `stride` values apart (one call
 * for a partial block's used lanes). */
FASTMEL_CLONES
static void fastmel_minmax_f32(const float *v, long rows, long stride, long n, float *lohi)
{
    int32_t lo = fastmel_key_f32(lohi[0]), hi = fastmel_key_f32(lohi[1]);
    for (long r = 0; r < rows; r++, v += stride) {
        for (long i = 0; i < n; i++) {
            int32_t k = fastmel_key_f32(v[i]);
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    }
    lohi[0] = fastmel_unkey_f32(lo);
    lohi[1] = fastmel_unkey_f32(hi);
}

FASTMEL_CLONES
static void fastmel_minmax_f64(const double *v, long rows, long stride, long n, double *lohi)
{
    int64_t lo = fastmel_key_f64(lohi[0]), hi = fastmel_key_f64(lohi[1]);
    for (long r = 0; r < rows; r++, v += stride) {
        for (long i = 0; i < n; i++) {
            int64_t k = fastmel_key_f64(v[i]);
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
    }
    lohi[0] = fastmel_unkey_f64(lo);
    lohi[1] = fastmel_unkey_f64(hi);
}

/* The same over the first n of the 16 lanes of each of `rows` rows of 16
 * (a partial block of frames, one per lane: the spare lanes hold stale values
 * and are masked out).  A quarter of the time a loop of n per row took; a
 * full block is cheaper still as one contiguous run. */
FASTMEL_CLONES
static void fastmel_minmax_lanes_f32(const float *v, long rows, long n, float *lohi)
{
    int32_t lo0 = fastmel_key_f32(lohi[0]), hi0 = fastmel_key_f32(lohi[1]);
    int32_t lo[16], hi[16], used[16];
    for (int j = 0; j < 16; j++) {
        lo[j] = lo0;
        hi[j] = hi0;
        used[j] = -(int32_t)(j < n);
    }
    for (long r = 0; r < rows; r++, v += 16) {
        for (int j = 0; j < 16; j++) {
            int32_t k = fastmel_key_f32(v[j]);
            int32_t kl = (k & used[j]) | (lo0 & ~used[j]);
            int32_t kh = (k & used[j]) | (hi0 & ~used[j]);
            lo[j] = kl < lo[j] ? kl : lo[j];
            hi[j] = kh > hi[j] ? kh : hi[j];
        }
    }
    for (int j = 1; j < 16; j++) {
        lo[0] = lo[j] < lo[0] ? lo[j] : lo[0];
        hi[0] = hi[j] > hi[0] ? hi[j] : hi[0];
    }
    lohi[0] = fastmel_unkey_f32(lo[0]);
    lohi[1] = fastmel_unkey_f32(hi[0]);
}

FASTMEL_CLONES
static void fastmel_minmax_lanes_f64(const double *v, long rows, long n, double *lohi)
{
    int64_t lo0 = fastmel_key_f64(lohi[0]), hi0 = fastmel_key_f64(lohi[1]);
    int64_t lo[16], hi[16], used[16];
    for (int j = 0; j < 16; j++) {
        lo[j] = lo0;
        hi[j] = hi0;
        used[j] = -(int64_t)(j < n);
    }
    for (long r = 0; r < rows; r++, v += 16) {
        for (int j = 0; j < 16; j++) {
            int64_t k = fastmel_key_f64(v[j]);
            int64_t kl = (k & used[j]) | (lo0 & ~used[j]);
            int64_t kh = (k & used[j]) | (hi0 & ~used[j]);
            lo[j] = kl < lo[j] ? kl : lo[j];
            hi[j] = kh > hi[j] ? kh : hi[j];
        }
    }
    for (int j = 1; j < 16; j++) {
        lo[0] = lo[j] < lo[0] ? lo[j] : lo[0];
        hi[0] = hi[j] > hi[0] ? hi[j] : hi[0];
    }
    lohi[0] = fastmel_unkey_f64(lo[0]);
    lohi[1] = fastmel_unkey_f64(hi[0]);
}

/* v[i] = max(v[i], floor) for finite values. */
FASTMEL_CLONES
static void fastmel_clip_below_f32(float *v, long n, float floor)
{
    int32_t fk = fastmel_key_f32(floor);
    for (long i = 0; i < n; i++) {
        int32_t k = fastmel_key_f32(v[i]);
        float x = v[i];
        int32_t xb, fb, keep = -(int32_t)(k >= fk);
        memcpy(&xb, &x, sizeof xb);
        memcpy(&fb, &floor, sizeof fb);
        xb = (xb & keep) | (fb & ~keep);
        memcpy(&v[i], &xb, sizeof xb);
    }
}

FASTMEL_CLONES
static void fastmel_clip_below_f64(double *v, long n, double floor)
{
    int64_t fk = fastmel_key_f64(floor);
    for (long i = 0; i < n; i++) {
        int64_t k = fastmel_key_f64(v[i]);
        double x = v[i];
        int64_t xb, fb, keep = -(int64_t)(k >= fk);
        memcpy(&xb, &x, sizeof xb);
        memcpy(&fb, &floor, sizeof fb);
        xb = (xb & keep) | (fb & ~keep);
        memcpy(&v[i], &xb, sizeof xb);
    }
}

/* 1 when all n values (stride apart) are finite. */
FASTMEL_CLONES
static int fastmel_all_finite_f32(const float *x, long n, long stride)
{
    uint32_t bad = 0;
    if (stride == 1) {
        for (long i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &x[i], sizeof b);
            bad |= ((b >> 23) & 0xffu) == 0xffu;
        }
    } else {
        for (long i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &x[i * stride], sizeof b);
            bad |= ((b >> 23) & 0xffu) == 0xffu;
        }
    }
    return !bad;
}

FASTMEL_CLONES
static int fastmel_all_finite_f64(const double *x, long n, long stride)
{
    uint64_t bad = 0;
    if (stride == 1) {
        for (long i = 0; i < n; i++) {
            uint64_t b;
            memcpy(&b, &x[i], sizeof b);
            bad |= ((b >> 52) & 0x7ffu) == 0x7ffu;
        }
    } else {
        for (long i = 0; i < n; i++) {
            uint64_t b;
            memcpy(&b, &x[i * stride], sizeof b);
            bad |= ((b >> 52) & 0x7ffu) == 0x7ffu;
        }
    }
    return !bad;
}

/* 1 when all n values (stride apart) have |x| <= limit (a finite limit >= 0):
 * the magnitude is compared as bits, so NaN and inf fail too. */
FASTMEL_CLONES
static int fastmel_all_within_f32(const float *x, long n, long stride, float limit)
{
    uint32_t lim, bad = 0;
    memcpy(&lim, &limit, sizeof lim);
    if (stride == 1) {
        for (long i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &x[i], sizeof b);
            bad |= (b & 0x7fffffffu) > lim;
        }
    } else {
        for (long i = 0; i < n; i++) {
            uint32_t b;
            memcpy(&b, &x[i * stride], sizeof b);
            bad |= (b & 0x7fffffffu) > lim;
        }
    }
    return !bad;
}

FASTMEL_CLONES
static int fastmel_all_within_f64(const double *x, long n, long stride, double limit)
{
    uint64_t lim, bad = 0;
    memcpy(&lim, &limit, sizeof lim);
    if (stride == 1) {
        for (long i = 0; i < n; i++) {
            uint64_t b;
            memcpy(&b, &x[i], sizeof b);
            bad |= (b & 0x7fffffffffffffffull) > lim;
        }
    } else {
        for (long i = 0; i < n; i++) {
            uint64_t b;
            memcpy(&b, &x[i * stride], sizeof b);
            bad |= (b & 0x7fffffffffffffffull) > lim;
        }
    }
    return !bad;
}

#endif
