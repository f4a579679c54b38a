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

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FASTMEL_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FASTMEL_CLONES
#endif

/* 10*log10(x) for finite positive normal x; +inf maps to +inf.
 * Written without branches (integer masks), so loops over it vectorise. */
static inline float fastmel_db_f32(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    int32_t e = (int32_t)(bits >> 23) - 127;
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
     * patterns, so the floor at amin is an integer max (-0.0 is negative
     * as an integer and is floored too). */
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

static void fastmel_power_to_db_f64(double *v, long n, double amin, double offset)
{
    for (long i = 0; i < n; i++) {
        double x = v[i] > amin ? v[i] : amin;
        v[i] = 10.0 * log10(x) - offset;
    }
}

#endif
