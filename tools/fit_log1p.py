"""Prints the float32 coefficients of log1p(f) ~ f * P(f) on [sqrt(1/2) - 1, sqrt(2) - 1] used
by log_f32 in csrc/kernels/kernel_template.h: a degree-9 Chebyshev least-squares fit of
log1p(f) / f, converted to the power basis and rounded to float32.  Re-run to check them:
    python tools/fit_log1p.py"""
import numpy as np
from numpy.polynomial import chebyshev

lo, hi = np.sqrt(0.5) - 1, np.sqrt(2) - 1
f = np.linspace(lo, hi, 400001)
f = f[f != 0]
g = np.log1p(f) / f
coef = chebyshev.cheb2poly(chebyshev.chebfit(f, g, 9)).astype(np.float32)

# error of the float32 Horner evaluation, as the kernels run it
x = f.astype(np.float32)
acc = np.full_like(x, coef[-1])
for c in coef[-2::-1]:
    acc = acc * x + c
err = np.abs((acc * x).astype(np.float64) - np.log1p(x.astype(np.float64)))
print("max abs error of log1p(f) in float32:", err.max())
for i, c in enumerate(coef):
    print(f"c{i} = {float(c).hex()}  /* {float(c):.9g} */")
