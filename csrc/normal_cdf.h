/* The standard normal CDF Phi(x) and its complement 1 - Phi(x), computed with fastinit's
 * own code (normal_cdf.c) so that the truncated normal's parameters, and with them its
 * values, are the same bits on every libc, architecture and compiler. */
#ifndef FASTINIT_NORMAL_CDF_H
#define FASTINIT_NORMAL_CDF_H

/* Phi(x) for any x but NaN (Phi(-inf) = 0, Phi(+inf) = 1). */
double fi_normal_cdf(double x);
/* 1 - Phi(x) = Phi(-x), without cancellation. */
double fi_normal_sf(double x);

#endif
