/* Which kernel table runs: CPU features detected once (cpuid + xgetbv on x86, the
 * build target on aarch64), best ISA first. */
#ifndef FASTINIT_DISPATCH_H
#define FASTINIT_DISPATCH_H

#include "kernels/kernel_table.h"

enum { FI_ISA_SCALAR = 0, FI_ISA_AVX2 = 1, FI_ISA_AVX512 = 2, FI_ISA_NEON = 3, FI_N_ISAS = 4 };

/* Bit (1 << isa) is set for every ISA whose kernels are built in, that this CPU and OS
 * can run, and whose kernels reproduce the scalar reference bit for bit (checked once, on
 * a small input, so a miscompiled vector path is switched off instead of trusted).
 * Detected on the first call; call it once before threads start (the extension does so
 * at import). */
unsigned fi_available_isas(void);

/* Bit (1 << isa) is set for every ISA the CPU has but whose kernels failed the start-up
 * check against the scalar reference (and so are never used). */
unsigned fi_disabled_isas(void);

/* 1 if the scalar kernels' Philox words match the one-block definition in philox.h.
 * 0 means the build is miscompiled (seen with clang 22.1): the extension refuses to load. */
int fi_scalar_kernels_verified(void);

/* 1 if fills with this ISA write large existing outputs with non-temporal stores: its
 * kernels have them and this CPU gains from them (not AMD's or Hygon's x86 CPUs). */
int fi_nontemporal_stores(int isa);

/* The best available ISA. */
int fi_best_isa(void);

/* The ISA's name ("scalar", "avx2", "avx512", "neon"), or NULL for an invalid index. */
const char *fi_isa_name(int isa);

/* The kernels of an available ISA, or NULL when it is not available. */
const fi_kernel_table *fi_kernels_for(int isa);

#endif
