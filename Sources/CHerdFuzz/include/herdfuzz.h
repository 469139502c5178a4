#ifndef HERDFUZZ_H
#define HERDFUZZ_H
#include <stddef.h>
#include <stdint.h>

/// One input to a harness; returns 0 (libFuzzer's contract).
typedef int (*herdfuzz_callback)(const uint8_t *data, size_t size);

/// Runs libFuzzer's driver over `cb` when the binary was linked with -sanitize=fuzzer; returns -1
/// when it was not (a plain build), so the caller can replay inputs itself.
int herdfuzz_run_driver(int *argc, char ***argv, herdfuzz_callback cb);

#endif
