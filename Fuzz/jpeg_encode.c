// The encoder over arbitrary sizes, pixel formats, qualities, subsamplings, progressive and optimized
// coding; whatever it writes must decode back to the same size. Input: 8 control bytes, then pixels
// (repeated to fill the image).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "CHerdJPEG.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static herdjpeg_encoder *encoder;
    static herdjpeg_decoder *check;
    if (encoder == NULL) encoder = herdjpeg_encoder_create();
    if (check == NULL) check = herdjpeg_decoder_create();
    if (size < 9) return 0;
    int width = 1 + (data[0] | ((data[1] & 1) << 8)) / 2;   // 1...256: every MCU edge case, fast runs
    int height = 1 + (data[2] | ((data[3] & 1) << 8)) / 2;  // 1...256
    static const int formats[] = {HERDJPEG_PIXEL_GRAY, HERDJPEG_PIXEL_RGB, HERDJPEG_PIXEL_RGBA, 2 /* invalid */};
    static const int samplings[] = {444, 422, 420, 411};
    int format = formats[data[4] & 3];
    int quality = (int)(int8_t)data[5];                 // -128...127: the shim clamps
    int subsampling = samplings[(data[6] >> 0) & 3];
    int progressive = (data[6] >> 2) & 1, optimize = (data[6] >> 3) & 1;
    int bpp = format == 2 ? 4 : format;
    size_t stride = (size_t)width * bpp + (data[7] & 7);
    uint8_t *pixels = malloc(stride * height);
    if (pixels == NULL) return 0;
    const uint8_t *src = data + 8;
    size_t n = size - 8;
    for (size_t i = 0; i < stride * height; i++) pixels[i] = src[i % n];
    int rc = herdjpeg_encoder_encode(encoder, pixels, width, height, stride, format, quality, subsampling, progressive, optimize);
    if (format == 2) {
        HERDFUZZ_CHECK(rc == HERDJPEG_ERR_USAGE, "invalid pixel format accepted");
    } else {
        HERDFUZZ_CHECK(rc == HERDJPEG_OK, "valid pixels refused");
        size_t length = 0;
        const uint8_t *out = herdjpeg_encoder_output(encoder, &length);
        herdjpeg_info info;
        HERDFUZZ_CHECK(herdjpeg_decoder_read_header(check, out, length, 1, &info) == HERDJPEG_OK, "output header unreadable");
        HERDFUZZ_CHECK(info.width == width && info.height == height, "output size differs");
        uint8_t *back = malloc((size_t)width * height * 3);
        if (back) {
            HERDFUZZ_CHECK(herdjpeg_decoder_decode(check, HERDJPEG_PIXEL_RGB, back, (size_t)width * 3) == HERDJPEG_OK, "output does not decode");
            free(back);
        } else {
            herdjpeg_decoder_abort(check);
        }
    }
    free(pixels);
    return 0;
}
