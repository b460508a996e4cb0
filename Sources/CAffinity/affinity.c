#define _GNU_SOURCE
#include <sched.h>
#include <unistd.h>
#include "CAffinity.h"

int cores_allowed(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    return CPU_COUNT(&set);
}

uint64_t cores_allowed_fingerprint(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 0;
    const unsigned char *bytes = (const unsigned char *)&set;
    uint64_t hash = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < sizeof set; i++) hash = (hash ^ bytes[i]) * 0x00000100000001b3ULL;
    return hash;
}

int cores_allowed_as_parent(void) {
    cpu_set_t mine, parent;
    if (sched_getaffinity(0, sizeof mine, &mine) != 0 || sched_getaffinity(getppid(), sizeof parent, &parent) != 0) return 0;
    return CPU_EQUAL(&mine, &parent);
}
