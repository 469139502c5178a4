// C shim over libjpeg-turbo for HerdCodecs. Every symbol is prefixed `herdjpeg_`.
// No libjpeg type and no jmp_buf appears here: libjpeg's longjmp error recovery stays inside shim.c,
// so it never crosses a Swift frame. Every function reports failure through its return code and a
// message kept in the handle.
#ifndef CHERDJPEG_H
#define CHERDJPEG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Result codes; mirrored by `CodecError` in Swift.
enum {
    HERDJPEG_OK = 0,
    HERDJPEG_ERR_TRUNCATED = 1,
    HERDJPEG_ERR_CORRUPT = 2,
    HERDJPEG_ERR_UNSUPPORTED = 3,
    HERDJPEG_ERR_TOO_LARGE = 4,
    HERDJPEG_ERR_NO_MEMORY = 5,
    HERDJPEG_ERR_USAGE = 6,
};

/// Colour spaces as stored in the file.
enum {
    HERDJPEG_CS_UNKNOWN = 0,
    HERDJPEG_CS_GRAY = 1,
    HERDJPEG_CS_YCBCR = 2,
    HERDJPEG_CS_RGB = 3,
    HERDJPEG_CS_CMYK = 4,
    HERDJPEG_CS_YCCK = 5,
};

/// Pixel layouts for decode output and encode input (the value is the bytes per pixel).
enum {
    HERDJPEG_PIXEL_GRAY = 1,
    HERDJPEG_PIXEL_RGB = 3,
    HERDJPEG_PIXEL_RGBA = 4,
};

typedef struct herdjpeg_info {
    int32_t width;          ///< stored width
    int32_t height;         ///< stored height
    int32_t output_width;   ///< width after scaled decode
    int32_t output_height;  ///< height after scaled decode
    int32_t components;
    int32_t color_space;    ///< HERDJPEG_CS_*
    int32_t progressive;
    int32_t orientation;    ///< EXIF orientation 1...8, 1 when absent
    int32_t h_samp[4];
    int32_t v_samp[4];
} herdjpeg_info;

typedef struct herdjpeg_decoder herdjpeg_decoder;

herdjpeg_decoder *herdjpeg_decoder_create(void);
void herdjpeg_decoder_destroy(herdjpeg_decoder *decoder);
/// Parses the header only; nothing image-sized is allocated. `scale_denom` is 1, 2, 4 or 8.
int herdjpeg_decoder_read_header(herdjpeg_decoder *decoder, const uint8_t *data, size_t length,
                                 int scale_denom, herdjpeg_info *info);
/// Decodes the image whose header was just read into `out` (`output_height` rows of `stride` bytes).
int herdjpeg_decoder_decode(herdjpeg_decoder *decoder, int pixel_format, uint8_t *out, size_t stride);
/// Releases the current image after read_header when the caller decides not to decode it.
void herdjpeg_decoder_abort(herdjpeg_decoder *decoder);
const char *herdjpeg_decoder_message(const herdjpeg_decoder *decoder);

typedef struct herdjpeg_encoder herdjpeg_encoder;

herdjpeg_encoder *herdjpeg_encoder_create(void);
void herdjpeg_encoder_destroy(herdjpeg_encoder *encoder);
/// Encodes pixels; `subsampling` is 444, 422 or 420. The output stays owned by the encoder until the
/// next call.
int herdjpeg_encoder_encode(herdjpeg_encoder *encoder, const uint8_t *pixels, int32_t width, int32_t height,
                            size_t stride, int pixel_format, int quality, int subsampling, int progressive,
                            int optimize_coding);
const uint8_t *herdjpeg_encoder_output(const herdjpeg_encoder *encoder, size_t *length);
const char *herdjpeg_encoder_message(const herdjpeg_encoder *encoder);

/// Composes a premultiplied-RGBA overlay into a JPEG's DCT coefficients: blocks the overlay does not
/// touch are copied as coefficients (bit-exact), touched blocks are re-quantized with the source tables.
typedef struct herdjpeg_transcoder herdjpeg_transcoder;

herdjpeg_transcoder *herdjpeg_transcoder_create(void);
void herdjpeg_transcoder_destroy(herdjpeg_transcoder *transcoder);
/// Reads the header and every DCT coefficient (no IDCT). Fails with HERDJPEG_ERR_TOO_LARGE before
/// allocating anything image-sized when width x height exceeds `max_pixels`, and with
/// HERDJPEG_ERR_UNSUPPORTED for colour spaces or sampling layouts the coefficient path cannot compose
/// into (callers fall back to pixels).
int herdjpeg_transcoder_read(herdjpeg_transcoder *transcoder, const uint8_t *data, size_t length,
                             int64_t max_pixels, herdjpeg_info *info);
/// `layer` is image-sized premultiplied RGBA; `tile_mask` has one byte per 8x8 tile of the image
/// (non-zero where the layer may be non-transparent), `tiles_x` by `tiles_y`.
int herdjpeg_transcoder_apply_overlay(herdjpeg_transcoder *transcoder, const uint8_t *layer, size_t stride,
                                      const uint8_t *tile_mask, int32_t tiles_x, int32_t tiles_y);
/// Writes the (modified) coefficients as a baseline JPEG; output owned by the transcoder.
int herdjpeg_transcoder_write(herdjpeg_transcoder *transcoder, int optimize_coding);
const uint8_t *herdjpeg_transcoder_output(const herdjpeg_transcoder *transcoder, size_t *length);
/// Releases the coefficients of the current image (also done by the next read).
void herdjpeg_transcoder_reset(herdjpeg_transcoder *transcoder);
const char *herdjpeg_transcoder_message(const herdjpeg_transcoder *transcoder);
/// Blocks handled by the last apply_overlay: [0] untouched, [1] uniform (coefficient-domain blend),
/// [2] re-transformed through IDCT/FDCT.
void herdjpeg_transcoder_stats(const herdjpeg_transcoder *transcoder, int64_t counts[3]);

/// Largest difference between the fast DCTs and the orthonormal reference over random blocks; tests
/// assert it is tiny.
double herdjpeg_dct_self_test(void);

#ifdef __cplusplus
}
#endif

#endif
