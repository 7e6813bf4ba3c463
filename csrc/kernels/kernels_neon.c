/* The NEON kernels (AArch64 only; NEON is baseline there, so no extra flags). */
#include "isa_neon.h"
#include "kernel_template.h"
