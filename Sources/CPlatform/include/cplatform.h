#ifndef PATROL_CPLATFORM_H
#define PATROL_CPLATFORM_H

/// 1 when the kernel reports the system clock as synchronised (NTP, chrony, timesyncd), else 0.
/// <sys/timex.h> is not part of Swift's Glibc module, hence this one-function shim.
int patrol_kernel_clock_synchronized(void);

#endif
