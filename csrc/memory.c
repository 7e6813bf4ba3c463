/* Paging advice (memory.h).  Only Linux has transparent huge pages to ask for. */
#include "memory.h"

#include <stdint.h>

#if defined(__linux__)
#  include <sys/mman.h>
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
