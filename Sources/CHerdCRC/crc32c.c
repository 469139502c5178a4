// CRC32C, reflected polynomial 0x82F63B78 (iSCSI, ext4, LevelDB's framing), and CRC-32 (IEEE, ZIP).
#include "herdcrc.h"

#include <immintrin.h>
#include <pthread.h>
#include <string.h>

static uint32_t herdcrc_table[8][256];
static pthread_once_t herdcrc_once = PTHREAD_ONCE_INIT;
static int herdcrc_use_hw = 0;

static void herdcrc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
        herdcrc_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = herdcrc_table[t - 1][i];
            herdcrc_table[t][i] = (prev >> 8) ^ herdcrc_table[0][prev & 0xFF];
        }
    }
#if defined(__x86_64__)
    __builtin_cpu_init();
    herdcrc_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t herdcrc_software(uint32_t crc, const uint8_t *p, size_t n) {
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v ^= crc;
        crc = herdcrc_table[7][v & 0xFF] ^ herdcrc_table[6][(v >> 8) & 0xFF] ^ herdcrc_table[5][(v >> 16) & 0xFF] ^
              herdcrc_table[4][(v >> 24) & 0xFF] ^ herdcrc_table[3][(v >> 32) & 0xFF] ^ herdcrc_table[2][(v >> 40) & 0xFF] ^
              herdcrc_table[1][(v >> 48) & 0xFF] ^ herdcrc_table[0][v >> 56];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ herdcrc_table[0][(crc ^ *p++) & 0xFF];
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t herdcrc_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t herdcrc_crc32c(uint32_t crc, const uint8_t *data, size_t length) {
    pthread_once(&herdcrc_once, herdcrc_init);
    crc = ~crc;
    if (data == NULL || length == 0) return ~crc;
#if defined(__x86_64__)
    if (herdcrc_use_hw) return ~herdcrc_hw(crc, data, length);
#endif
    return ~herdcrc_software(crc, data, length);
}

int herdcrc_hardware(void) {
    pthread_once(&herdcrc_once, herdcrc_init);
    return herdcrc_use_hw;
}

// CRC-32 (IEEE 802.3, reflected 0xEDB88320), as ZIP archives carry it: slicing by 8 tables.
static uint32_t herdcrc_ieee_table[8][256];
static pthread_once_t herdcrc_ieee_once = PTHREAD_ONCE_INIT;
static int herdcrc_ieee_use_fold = 0;

static void herdcrc_ieee_init(void) {
    __builtin_cpu_init();
    herdcrc_ieee_use_fold = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        herdcrc_ieee_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = herdcrc_ieee_table[0][i];
        for (int t = 1; t < 8; t++) {
            c = herdcrc_ieee_table[0][c & 0xFF] ^ (c >> 8);
            herdcrc_ieee_table[t][i] = c;
        }
    }
}

// Carry-less multiplication folding (Gopal et al., "Fast CRC Computation for Generic Polynomials Using
// PCLMULQDQ", Intel 2009), in the bit-reflected domain of 0xEDB88320. Four 128-bit lanes are folded
// 64 bytes at a time, then into one lane, then 16 bytes at a time; the lane is reduced to 32 bits by
// Barrett reduction. Takes and returns the uninverted register; `length` is at least 64 and a
// multiple of 16.
// The paper's reflected-domain constants: folding across 4 lanes, across 1 lane, 64 to 32 bits, and the
// Barrett pair (the polynomial P' and mu).
static const uint64_t herdcrc_fold4[2] __attribute__((aligned(16))) = {0x0154442bd4ull, 0x01c6e41596ull};
static const uint64_t herdcrc_fold1[2] __attribute__((aligned(16))) = {0x01751997d0ull, 0x00ccaa009eull};
static const uint64_t herdcrc_fold64[2] __attribute__((aligned(16))) = {0x0163cd6124ull, 0};
static const uint64_t herdcrc_barrett[2] __attribute__((aligned(16))) = {0x01db710641ull, 0x01f7011641ull};

__attribute__((target("pclmul,sse4.1"))) static uint32_t herdcrc_ieee_fold(uint32_t c, const uint8_t *p, size_t length) {
    __m128i lane[4];
    for (int i = 0; i < 4; i++) lane[i] = _mm_loadu_si128((const __m128i *)(p + 16 * i));
    lane[0] = _mm_xor_si128(lane[0], _mm_cvtsi32_si128((int)c));
    p += 64;
    length -= 64;
    const __m128i k4 = _mm_load_si128((const __m128i *)herdcrc_fold4);
    for (; length >= 64; p += 64, length -= 64) {
        for (int i = 0; i < 4; i++) {
            __m128i low = _mm_clmulepi64_si128(lane[i], k4, 0x00);
            __m128i high = _mm_clmulepi64_si128(lane[i], k4, 0x11);
            lane[i] = _mm_xor_si128(_mm_xor_si128(low, high), _mm_loadu_si128((const __m128i *)(p + 16 * i)));
        }
    }
    const __m128i k1 = _mm_load_si128((const __m128i *)herdcrc_fold1);
    __m128i x = lane[0];
    for (int i = 1; i < 4; i++) {
        x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k1, 0x00), _mm_clmulepi64_si128(x, k1, 0x11)), lane[i]);
    }
    for (; length >= 16; p += 16, length -= 16) {
        x = _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(x, k1, 0x00), _mm_clmulepi64_si128(x, k1, 0x11)), _mm_loadu_si128((const __m128i *)p));
    }
    const __m128i low32 = _mm_setr_epi32(-1, 0, -1, 0);
    // 128 to 64 bits.
    x = _mm_xor_si128(_mm_srli_si128(x, 8), _mm_clmulepi64_si128(x, k1, 0x10));
    // 64 to 32 bits (above the low word).
    const __m128i k64 = _mm_loadl_epi64((const __m128i *)herdcrc_fold64);
    x = _mm_xor_si128(_mm_srli_si128(x, 4), _mm_clmulepi64_si128(_mm_and_si128(x, low32), k64, 0x00));
    // Barrett: q = (low 32 bits * mu) mod x^32, then x ^= q * P'.
    const __m128i b = _mm_load_si128((const __m128i *)herdcrc_barrett);
    __m128i q = _mm_and_si128(_mm_clmulepi64_si128(_mm_and_si128(x, low32), b, 0x10), low32);
    x = _mm_xor_si128(x, _mm_clmulepi64_si128(q, b, 0x00));
    return (uint32_t)_mm_extract_epi32(x, 1);
}

// Slicing by 8 over the uninverted register.
static uint32_t herdcrc_ieee_tables(uint32_t c, const uint8_t *data, size_t length) {
    while (length >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, data, 4);
        memcpy(&hi, data + 4, 4);
        lo ^= c;
        c = herdcrc_ieee_table[7][lo & 0xFF] ^ herdcrc_ieee_table[6][(lo >> 8) & 0xFF] ^ herdcrc_ieee_table[5][(lo >> 16) & 0xFF]
            ^ herdcrc_ieee_table[4][lo >> 24] ^ herdcrc_ieee_table[3][hi & 0xFF] ^ herdcrc_ieee_table[2][(hi >> 8) & 0xFF]
            ^ herdcrc_ieee_table[1][(hi >> 16) & 0xFF] ^ herdcrc_ieee_table[0][hi >> 24];
        data += 8;
        length -= 8;
    }
    while (length--) c = herdcrc_ieee_table[0][(c ^ *data++) & 0xFF] ^ (c >> 8);
    return c;
}

uint32_t herdcrc_crc32(uint32_t crc, const uint8_t *data, size_t length) {
    pthread_once(&herdcrc_ieee_once, herdcrc_ieee_init);
    uint32_t c = ~crc;
    if (herdcrc_ieee_use_fold && length >= 64) {
        size_t folded = length & ~(size_t)15;
        c = herdcrc_ieee_fold(c, data, folded);
        data += folded;
        length -= folded;
    }
    return ~herdcrc_ieee_tables(c, data, length);
}

uint32_t herdcrc_crc32_portable(uint32_t crc, const uint8_t *data, size_t length) {
    pthread_once(&herdcrc_ieee_once, herdcrc_ieee_init);
    return ~herdcrc_ieee_tables(~crc, data, length);
}

int herdcrc_crc32_folds(void) {
    pthread_once(&herdcrc_ieee_once, herdcrc_ieee_init);
    return herdcrc_ieee_use_fold;
}
