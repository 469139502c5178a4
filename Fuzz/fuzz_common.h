// Helpers shared by the libFuzzer harnesses over the C shims (never built into HerdLens itself).
#ifndef HERDFUZZ_COMMON_H
#define HERDFUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/// Pixels a harness lets a decode allocate: the Swift side refuses larger images from the header
/// (DecodeLimits), so a harness refuses them too rather than measuring malloc.
#define HERDFUZZ_MAX_PIXELS (4096 * 4096)

/// Deterministic bytes from a seed (xorshift), for overlays and pixels derived from the input.
static inline uint32_t herdfuzz_next(uint64_t *state) {
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *state = x;
    return (uint32_t)(x >> 32);
}

/// A shim broke its own contract (not a hostile input being refused): stop with a report.
#define HERDFUZZ_CHECK(cond, what)                                                                    \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            fprintf(stderr, "herdfuzz: contract broken: %s (%s:%d)\n", what, __FILE__, __LINE__);     \
            abort();                                                                                  \
        }                                                                                             \
    } while (0)

#endif
