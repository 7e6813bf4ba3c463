/* Which kernel table runs: CPU features detected once (cpuid + xgetbv on x86, the
 * build target on aarch64), best ISA first. */
#ifndef FASTINIT_DISPATCH_H
#define FASTINIT_DISPATCH_H

#include "kernels/kernel_table.h"

enum { FI_ISA_SCALAR = 0, FI_ISA_AVX2 = 1, FI_ISA_AVX512 = 2, FI_ISA_NEON = 3, FI_N_ISAS = 4 };

/* Bit (1 << isa) is set for every ISA whose kernels are built in and that this CPU and
 * OS can run.  Detected on the first call; call it once before threads start (the
 * extension does so at import). */
unsigned fi_available_isas(void);

/* The best available ISA. */
int fi_best_isa(void);

/* The ISA's name ("scalar", "avx2", "avx512", "neon"), or NULL for an invalid index. */
const char *fi_isa_name(int isa);

/* The kernels of an available ISA, or NULL when it is not available. */
const fi_kernel_table *fi_kernels_for(int isa);

#endif
