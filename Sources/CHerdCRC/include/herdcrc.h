// CRC32C (Castagnoli) for HerdRecording's record framing. Every symbol is prefixed `herdcrc_`.
// Uses the SSE 4.2 crc32 instruction when the CPU has it (checked once at run time), a table
// otherwise; both give the same value.
#ifndef HERDCRC_H
#define HERDCRC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Extends `crc` (0 to start) over `length` bytes; pass the result back to continue a running CRC.
uint32_t herdcrc_crc32c(uint32_t crc, const uint8_t *data, size_t length);

/// CRC-32 (IEEE, as in ZIP and PNG): extends `crc` (0 to start) over `length` bytes.
/// Folds with PCLMULQDQ when the CPU has it (checked once at run time), slicing by 8 otherwise.
uint32_t herdcrc_crc32(uint32_t crc, const uint8_t *data, size_t length);

/// The same CRC by slicing by 8 alone (the reference the folding is tested and measured against).
uint32_t herdcrc_crc32_portable(uint32_t crc, const uint8_t *data, size_t length);

/// 1 when `herdcrc_crc32` folds with PCLMULQDQ on this CPU.
int herdcrc_crc32_folds(void);

/// 1 when the hardware path is in use (for benchmarks and the docs).
int herdcrc_hardware(void);

#ifdef __cplusplus
}
#endif

#endif
