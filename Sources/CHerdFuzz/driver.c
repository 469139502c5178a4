#include "herdfuzz.h"

// Declared weak: a plain `swift build` links without libFuzzer, and the symbol is then null.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*cb)(const uint8_t *data, size_t size)) __attribute__((weak));

int herdfuzz_run_driver(int *argc, char ***argv, herdfuzz_callback cb) {
    if (!LLVMFuzzerRunDriver) return -1;
    return LLVMFuzzerRunDriver(argc, argv, cb);
}
