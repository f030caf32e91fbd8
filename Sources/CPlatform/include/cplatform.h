#ifndef PATROL_CPLATFORM_H
#define PATROL_CPLATFORM_H

/// 1 when the kernel reports the system clock as synchronised (NTP, chrony, timesyncd), else 0.
/// <sys/timex.h> is not part of Swift's Glibc module, hence this one-function shim.
int patrol_kernel_clock_synchronized(void);

/// Makes glibc give freed memory back to the system promptly: blocks over 256 KiB are mapped on
/// their own and unmapped when freed, and a heap's free top beyond 1 MiB is trimmed. glibc's
/// default raises both thresholds after each large free, so a server's RSS would stay at the peak
/// of its largest request in each of its arenas (malloc_trim does not trim the other arenas' tops).
/// <malloc.h> is not part of Swift's Glibc module either.
void patrol_return_freed_memory_promptly(void);

/// "0.15.0 (commit 3fec730)": the release version and the git commit built, for `--version`.
/// A board's binary is identified from this line, so it is compiled in, never read from a file.
const char *patrol_version(void);

#endif
