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

/* 1 if [p, p + bytes) looks never touched: none of three pages (the second, the middle
 * one and the one before the last: an allocator's header may share the first) is in
 * memory yet (Linux's mincore), as in a large torch.empty or malloc that the OS maps
 * lazily.  fi_fill fills such memory as a new output (huge pages asked for, plain stores
 * into the pages its faults have just zeroed into cache).  0 for less than 4 pages and
 * where it cannot tell (another OS).  Reads nothing, writes nothing. */
int fi_looks_untouched(const void *p, size_t bytes);

#endif
