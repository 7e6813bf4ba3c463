/* The portable reference kernels: baseline C, built for every target. */
#include "isa_scalar.h"
#include "kernel_template.h"
