/* Paging advice for memory that fastinit is about to fill for the first time. */
#ifndef FASTINIT_MEMORY_H
#define FASTINIT_MEMORY_H

#include <stddef.h>

/* Asks the kernel to back the 2 MiB-aligned part of [p, p + bytes) with transparent huge
 * pages (Linux's madvise MADV_HUGEPAGE, as numpy does for its own arrays of 4 MiB and
 * more), so that first touching it takes one fault per 2 MiB instead of per 4 KiB.
 * Returns 1 if advice was given, 0 where there is none to give (another OS, no such
 * range, or the kernel refused).  Never changes the memory's contents. */
int fi_advise_huge_pages(void *p, size_t bytes);

#endif
