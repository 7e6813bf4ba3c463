/* Paging advice (memory.h).  Only Linux has transparent huge pages to ask for. */
#include "memory.h"

#include <stdint.h>

#if defined(__linux__)
#  include <sys/mman.h>
#  include <unistd.h>
#endif

int fi_advise_huge_pages(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t start = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t end = ((uintptr_t)p + bytes) & ~(huge - 1);
    if ((uintptr_t)p + bytes < (uintptr_t)p || end <= start) return 0;
    return madvise((void *)start, end - start, MADV_HUGEPAGE) == 0;
#else
    (void)p, (void)bytes;
    return 0;
#endif
}

int fi_looks_untouched(const void *p, size_t bytes)
{
#if defined(__linux__)
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || bytes == 0) return 0;
    const uintptr_t mask = ~((uintptr_t)page - 1), first = (uintptr_t)p;
    if (bytes < 4 * (size_t)page) return 0;
    /* not the first and last pages: an allocator's bookkeeping sits next to its blocks
     * (glibc's header in the page before a large block's data) */
    const uintptr_t probes[3] = {first + (size_t)page, first + bytes / 2,
                                 first + bytes - 1 - (size_t)page};
    for (int i = 0; i < 3; i++) {
        unsigned char in_memory = 0;
        if (mincore((void *)(probes[i] & mask), (size_t)page, &in_memory) != 0) return 0;
        if (in_memory & 1) return 0;
    }
    return 1;
#else
    (void)p, (void)bytes;
    return 0;
#endif
}
