#include "cplatform.h"
#include <sys/timex.h>

int patrol_kernel_clock_synchronized(void) {
    struct timex tx = {0};
    int state = adjtimex(&tx);
    return state != TIME_ERROR && (tx.status & STA_UNSYNC) == 0;
}
