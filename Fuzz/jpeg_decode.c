// Decode to each pixel format (grey, RGB, RGBA) at each scale. The first byte picks format and scale; the
// rest is the JPEG. A failed decode must leave the decoder usable for the next image.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "CHerdJPEG.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static herdjpeg_decoder *decoder;
    if (decoder == NULL) decoder = herdjpeg_decoder_create();
    if (size < 1) return 0;
    static const int formats[] = {HERDJPEG_PIXEL_GRAY, HERDJPEG_PIXEL_RGB, HERDJPEG_PIXEL_RGBA};
    static const int scales[] = {1, 2, 4, 8};
    int format = formats[data[0] % 3], scale = scales[(data[0] >> 2) & 3];
    int padded = (data[0] >> 4) & 1; // rows with slack, as a canvas stride may have
    herdjpeg_info info;
    if (herdjpeg_decoder_read_header(decoder, data + 1, size - 1, scale, &info) != HERDJPEG_OK) return 0;
    if ((int64_t)info.output_width * info.output_height > HERDFUZZ_MAX_PIXELS) {
        herdjpeg_decoder_abort(decoder);
        return 0;
    }
    size_t stride = (size_t)info.output_width * (size_t)format + (padded ? 13 : 0);
    uint8_t *out = malloc(stride * (size_t)info.output_height);
    if (out == NULL) {
        herdjpeg_decoder_abort(decoder);
        return 0;
    }
    int rc = herdjpeg_decoder_decode(decoder, format, out, stride);
    HERDFUZZ_CHECK(rc == HERDJPEG_OK || herdjpeg_decoder_message(decoder)[0] != 0, "failure without a message");
    free(out);
    return 0;
}
