// CRC32C, reflected polynomial 0x82F63B78 (iSCSI, ext4, LevelDB's framing).
#include "herdcrc.h"

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

static void herdcrc_ieee_init(void) {
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

uint32_t herdcrc_crc32(uint32_t crc, const uint8_t *data, size_t length) {
    pthread_once(&herdcrc_ieee_once, herdcrc_ieee_init);
    uint32_t c = ~crc;
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
    return ~c;
}
