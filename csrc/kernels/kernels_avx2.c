/* The avx2 kernels: this file alone is compiled with the avx2 flags (CMakeLists.txt). */
#include "isa_avx2.h"
#include "kernel_template.h"
