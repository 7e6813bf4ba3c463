/* Phi(x) and 1 - Phi(x) from + - * / only, each operation rounded once in the order
 * written (the build passes -ffp-contract=off: no fused multiply-add), and no call into the
 * platform's math library: its erfc and exp differ between glibc, musl, macOS and Windows
 * in the last bits, and Phi(a), Phi(b) decide every value of a truncated normal draw.
 *
 * Method: the upper tail Q(x) = 1 - Phi(x) = erfc(x / sqrt 2) / 2, x >= 0, with erfc from
 * W. J. Cody's rational Chebyshev approximations ("Rational Chebyshev approximations for
 * the error function", Math. Comp. 23 (1969) 631-637; the coefficients of his CALERF):
 *   y = x / sqrt 2 <= 0.46875:  erfc y = 1 - y A(y^2) / B(y^2)
 *   0.46875 < y <= 4:         erfc y = exp(-y^2) C(y) / D(y)
 *   4 < y < 26.543:           erfc y = exp(-y^2) (1/sqrt(pi) - z P(z) / Q(z)) / y,  z = 1/y^2
 *   y >= 26.543:              0 (below the smallest subnormal)
 * Only exp(-y^2) is sensitive to the rounding of y, so it is taken as exp(-x^2 / 2) from x
 * itself, split Cody's way: x = s + d with s = trunc(16 x) / 16, x^2 / 2 = s^2 / 2 +
 * (x - s)(x + s) / 2, where s^2 / 2 and x - s are exact.  exp(t), t <= 0, reduces
 * t = k ln 2 + r, |r| <= ln 2 / 2, exactly enough (ln 2 in two parts, k ln2_hi exact) and
 * sums the Taylor series of exp(r) to r^13 / 13! (truncation below 2^-60).
 *
 * Accuracy (tests/test_normal_cdf.py, against mpmath at 50 digits): relative error of
 * Phi(x) and 1 - Phi(x) below 1e-15 wherever the value is a normal double. */
#include "normal_cdf.h"

#include <stdint.h>
#include <string.h>

/* 2^k for -1022 <= k <= 1023, built from its bits */
static double pow2(int k)
{
    uint64_t bits = (uint64_t)(k + 1023) << 52;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* exp(t) for -746 < t <= 0; 0 below. */
static double exp_nonpositive(double t)
{
    const double LN2_HI = 6.93147180369123816490e-01;  /* 0x3fe62e42fee00000: k LN2_HI exact */
    const double LN2_LO = 1.90821492927058770002e-10;
    const double INV_LN2 = 1.44269504088896338700e+00;
    if (!(t > -746.0)) return 0.0;
    int k = -(int)(0.5 - t * INV_LN2);          /* nearest integer to t / ln 2, t <= 0 */
    double r = (t - k * LN2_HI) - k * LN2_LO;   /* |r| <= ln 2 / 2 (plus rounding) */
    double p = 1.0 / 6227020800.0;              /* 1/13! */
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    double e = 1.0 + (r + r * (r * p));         /* exp(r) in [0.7, 1.42] */
    /* times 2^k in at most two exact-or-once-rounded steps (k down to -1077) */
    if (k >= -1022) return e * pow2(k);
    return (e * pow2(k + 200)) * pow2(-200);
}

/* exp(-x^2 / 2) for 0 <= x < 38 */
static double gauss(double x)
{
    double s = (double)(int)(x * 16.0) / 16.0;  /* at most 10 significant bits */
    double d = (x - s) * (x + s) * 0.5;
    return exp_nonpositive(-(s * s * 0.5)) * exp_nonpositive(-d);
}

/* 1 - Phi(x) for x >= 0 (or +inf) */
static double upper_tail(double x)
{
    static const double A[5] = {3.16112374387056560e00, 1.13864154151050156e02,
                                3.77485237685302021e02, 3.20937758913846947e03,
                                1.85777706184603153e-1};
    static const double B[4] = {2.36012909523441209e01, 2.44024637934444173e02,
                                1.28261652607737228e03, 2.84423683343917062e03};
    static const double C[9] = {5.64188496988670089e-1, 8.88314979438837594e00,
                                6.61191906371416295e01, 2.98635138197400131e02,
                                8.81952221241769090e02, 1.71204761263407058e03,
                                2.05107837782607147e03, 1.23033935479799725e03,
                                2.15311535474403846e-8};
    static const double D[8] = {1.57449261107098347e01, 1.17693950891312499e02,
                                5.37181101862009858e02, 1.62138957456669019e03,
                                3.29079923573345963e03, 4.36261909014324716e03,
                                3.43936767414372164e03, 1.23033935480374942e03};
    static const double P[6] = {3.05326634961232344e-1, 3.60344899949804439e-1,
                                1.25781726111229246e-1, 1.60837851487422766e-2,
                                6.58749161529837803e-4, 1.63153871373020978e-2};
    static const double Q[5] = {2.56852019228982242e00, 1.87295284992346047e00,
                                5.27905102951428412e-1, 6.05183413124413191e-2,
                                2.33520497626869185e-3};
    const double SQRT1_2 = 0.70710678118654752440;
    const double INV_SQRT_PI = 0.56418958354775628695;
    double y = x * SQRT1_2;
    if (y <= 0.46875) {
        double z = y * y, num = A[4] * z, den = z;
        for (int i = 0; i < 3; i++) {
            num = (num + A[i]) * z;
            den = (den + B[i]) * z;
        }
        return 0.5 - 0.5 * (y * (num + A[3]) / (den + B[3]));
    }
    if (y <= 4.0) {
        double num = C[8] * y, den = y;
        for (int i = 0; i < 7; i++) {
            num = (num + C[i]) * y;
            den = (den + D[i]) * y;
        }
        return 0.5 * (gauss(x) * ((num + C[7]) / (den + D[7])));
    }
    if (!(y < 26.543)) return 0.0;
    double z = 1.0 / (y * y), num = P[5] * z, den = z;
    for (int i = 0; i < 4; i++) {
        num = (num + P[i]) * z;
        den = (den + Q[i]) * z;
    }
    double r = (INV_SQRT_PI - z * (num + P[4]) / (den + Q[4])) / y;
    return 0.5 * (gauss(x) * r);
}

double fi_normal_cdf(double x) { return x < 0 ? upper_tail(-x) : 1.0 - upper_tail(x); }

double fi_normal_sf(double x) { return x > 0 ? upper_tail(x) : 1.0 - upper_tail(-x); }
