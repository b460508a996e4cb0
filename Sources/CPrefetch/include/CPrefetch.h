#ifndef CPREFETCH_H
#define CPREFETCH_H

/// Asks the CPU to bring the cache line holding `address` towards its caches, without waiting
/// for it and without faulting (a prefetch of any address is harmless). Swift has no spelling
/// for this instruction, hence this header.
static inline void prefetch_for_reading(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
