#include "cplatform.h"
#include <sys/timex.h>

int patrol_kernel_clock_synchronized(void) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    // -1: the call was refused (a seccomp filter): nothing says the clock is synchronised.
    return state != -1 && state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}
