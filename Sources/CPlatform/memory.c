#include "cplatform.h"
#include <malloc.h>

void patrol_return_freed_memory_promptly(void) {
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
}
