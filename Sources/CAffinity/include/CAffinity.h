// The process's CPU affinity. sched_getaffinity and CPU_COUNT need _GNU_SOURCE, which Swift's
// Glibc module does not define, so they are wrapped here.
#pragma once
#include <stdint.h>

/// How many cores the calling thread may run on (0 if the call failed).
int cores_allowed(void);
/// FNV-1a of the allowed-core mask: equal for processes allowed the same cores.
uint64_t cores_allowed_fingerprint(void);
/// 1 when the calling thread may run on exactly the cores its parent process may (nothing bound
/// it to fewer), 0 when not or when either call failed.
int cores_allowed_as_parent(void);
