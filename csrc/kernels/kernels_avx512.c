/* The avx512 kernels: this file alone is compiled with the avx512 flags (CMakeLists.txt). */
#include "isa_avx512.h"
#include "kernel_template.h"
