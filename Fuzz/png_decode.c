// PNG header read, then decode to each pixel format (grey, grey+alpha, RGB, RGBA) on one reused
// decoder. The first byte picks the format; the rest is the PNG.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "CHerdPNG.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static herdpng_decoder *decoder;
    if (decoder == NULL) decoder = herdpng_decoder_create();
    if (size < 1) return 0;
    static const int formats[] = {HERDPNG_PIXEL_GRAY, HERDPNG_PIXEL_GRAY_ALPHA, HERDPNG_PIXEL_RGB, HERDPNG_PIXEL_RGBA};
    int format = formats[data[0] & 3];
    int header_only = (data[0] >> 2) & 1;
    herdpng_info info;
    int rc = herdpng_decoder_read_header(decoder, data + 1, size - 1, &info);
    if (rc != HERDPNG_OK) {
        HERDFUZZ_CHECK(herdpng_decoder_message(decoder)[0] != 0, "failure without a message");
        return 0;
    }
    HERDFUZZ_CHECK(info.width > 0 && info.height > 0, "header OK with an empty image");
    if (header_only || (int64_t)info.width * info.height > HERDFUZZ_MAX_PIXELS) {
        herdpng_decoder_abort(decoder);
        return 0;
    }
    size_t stride = (size_t)info.width * (size_t)format + ((data[0] >> 3) & 7);
    uint8_t *out = malloc(stride * (size_t)info.height);
    if (out == NULL) {
        herdpng_decoder_abort(decoder);
        return 0;
    }
    rc = herdpng_decoder_decode(decoder, format, out, stride);
    HERDFUZZ_CHECK(rc == HERDPNG_OK || herdpng_decoder_message(decoder)[0] != 0, "failure without a message");
    free(out);
    return 0;
}
