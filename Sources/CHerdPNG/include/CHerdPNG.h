// C shim over libpng's simplified API for HerdCodecs. Every symbol is prefixed `herdpng_`; no libpng
// type appears here. libpng's own setjmp/longjmp stays inside libpng (png_safe_execute).
#ifndef CHERDPNG_H
#define CHERDPNG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes; the same values as CHerdJPEG's so HerdCodecs maps both alike.
enum {
    HERDPNG_OK = 0,
    HERDPNG_ERR_TRUNCATED = 1,
    HERDPNG_ERR_CORRUPT = 2,
    HERDPNG_ERR_UNSUPPORTED = 3,
    HERDPNG_ERR_TOO_LARGE = 4,
    HERDPNG_ERR_NO_MEMORY = 5,
    HERDPNG_ERR_USAGE = 6,
};

/// Pixel layouts (the value is the bytes per pixel).
enum { HERDPNG_PIXEL_GRAY = 1, HERDPNG_PIXEL_GRAY_ALPHA = 2, HERDPNG_PIXEL_RGB = 3, HERDPNG_PIXEL_RGBA = 4 };

typedef struct herdpng_info {
    int32_t width;
    int32_t height;
    int32_t has_alpha;   ///< alpha channel or tRNS
    int32_t is_color;
    int32_t is_palette;
    int32_t is_16bit;
} herdpng_info;

typedef struct herdpng_decoder herdpng_decoder;

herdpng_decoder *herdpng_decoder_create(void);
void herdpng_decoder_destroy(herdpng_decoder *decoder);
/// Reads the signature and IHDR; nothing image-sized is allocated.
int herdpng_decoder_read_header(herdpng_decoder *decoder, const uint8_t *data, size_t length, herdpng_info *info);
/// Decodes to 8-bit samples in `pixel_format` (16-bit and palette images are converted).
int herdpng_decoder_decode(herdpng_decoder *decoder, int pixel_format, uint8_t *out, size_t stride);
void herdpng_decoder_abort(herdpng_decoder *decoder);
const char *herdpng_decoder_message(const herdpng_decoder *decoder);

typedef struct herdpng_encoder herdpng_encoder;

herdpng_encoder *herdpng_encoder_create(void);
void herdpng_encoder_destroy(herdpng_encoder *encoder);
/// Encodes 8-bit pixels; `fast` trades size for speed. Output owned by the encoder until the next call.
int herdpng_encoder_encode(herdpng_encoder *encoder, const uint8_t *pixels, int32_t width, int32_t height,
                           size_t stride, int pixel_format, int fast);
const uint8_t *herdpng_encoder_output(const herdpng_encoder *encoder, size_t *length);
const char *herdpng_encoder_message(const herdpng_encoder *encoder);

#ifdef __cplusplus
}
#endif

#endif
