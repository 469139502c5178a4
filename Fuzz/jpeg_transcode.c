// The coefficient path end to end: transcoder read, apply_overlay with an overlay and tile mask derived
// from the input, write; then the output must decode. Input: 8 control bytes, then the JPEG.
//
// Control: [0] overlay kind (uniform rectangles, per-pixel noise, a translucent gradient, or none),
// [1] mask density, [2] optimize coding, [3..7] seed. Tiles left out of the mask are filled with
// garbage: the layer's memory there is stale by contract and must read as transparent.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "CHerdJPEG.h"
#include "fuzz_common.h"

static void premultiplied(uint8_t *p, uint32_t r, uint32_t g, uint32_t b, uint32_t a) {
    p[0] = (uint8_t)(r * a / 255);
    p[1] = (uint8_t)(g * a / 255);
    p[2] = (uint8_t)(b * a / 255);
    p[3] = (uint8_t)a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static herdjpeg_transcoder *transcoder;
    static herdjpeg_decoder *check;
    if (transcoder == NULL) transcoder = herdjpeg_transcoder_create();
    if (check == NULL) check = herdjpeg_decoder_create();
    if (size < 8) return 0;
    const uint8_t *control = data;
    uint64_t seed = 0;
    memcpy(&seed, control + 3, 5);
    herdjpeg_info info;
    int rc = herdjpeg_transcoder_read(transcoder, data + 8, size - 8, 2 * 1024 * 1024, &info);
    if (rc != HERDJPEG_OK) {
        HERDFUZZ_CHECK(herdjpeg_transcoder_message(transcoder)[0] != 0, "failure without a message");
        return 0;
    }
    HERDFUZZ_CHECK(info.width > 0 && info.height > 0, "read OK with an empty image");
    int w = info.width, h = info.height;
    int tiles_x = (w + 7) / 8, tiles_y = (h + 7) / 8;
    size_t stride = (size_t)w * 4 + 4 * (control[0] >> 7);
    uint8_t *layer = malloc(stride * (size_t)h);
    uint8_t *mask = calloc((size_t)tiles_x * tiles_y, 1);
    if (layer == NULL || mask == NULL) goto done;
    memset(layer, (int)(herdfuzz_next(&seed) | 1), stride * (size_t)h); // stale bytes, never transparent
    int kind = control[0] & 3;
    uint32_t density = control[1];
    for (int ty = 0; ty < tiles_y; ty++)
        for (int tx = 0; tx < tiles_x; tx++) mask[(size_t)ty * tiles_x + tx] = (herdfuzz_next(&seed) & 255) < density;
    uint32_t r = herdfuzz_next(&seed) & 255, g = herdfuzz_next(&seed) & 255, b = herdfuzz_next(&seed) & 255;
    uint32_t a = herdfuzz_next(&seed) & 255;
    for (int ty = 0; ty < tiles_y; ty++) {
        for (int tx = 0; tx < tiles_x; tx++) {
            if (!mask[(size_t)ty * tiles_x + tx]) continue;
            for (int y = ty * 8; y < ty * 8 + 8 && y < h; y++) {
                for (int x = tx * 8; x < tx * 8 + 8 && x < w; x++) {
                    uint8_t *p = layer + (size_t)y * stride + (size_t)x * 4;
                    switch (kind) {
                    case 0: premultiplied(p, r, g, b, a); break; // uniform: the coefficient-domain blend
                    case 1: premultiplied(p, herdfuzz_next(&seed) & 255, herdfuzz_next(&seed) & 255,
                                          herdfuzz_next(&seed) & 255, herdfuzz_next(&seed) & 255); break;
                    case 2: premultiplied(p, r, g, b, (uint32_t)((x * 255) / (w > 1 ? w - 1 : 1))); break;
                    default: memset(p, 0, 4); break; // drawn but transparent
                    }
                }
            }
        }
    }
    rc = herdjpeg_transcoder_apply_overlay(transcoder, layer, stride, mask, tiles_x, tiles_y);
    if (rc == HERDJPEG_OK) {
        rc = herdjpeg_transcoder_write(transcoder, control[2] & 1);
        if (rc == HERDJPEG_OK) {
            size_t length = 0;
            const uint8_t *out = herdjpeg_transcoder_output(transcoder, &length);
            HERDFUZZ_CHECK(out != NULL && length > 0, "write OK without output");
            // What the coefficient path writes must be a JPEG of the same size that decodes.
            herdjpeg_info again;
            HERDFUZZ_CHECK(herdjpeg_decoder_read_header(check, out, length, 8, &again) == HERDJPEG_OK, "output header unreadable");
            HERDFUZZ_CHECK(again.width == w && again.height == h, "output size differs");
            uint8_t *pixels = malloc((size_t)again.output_width * again.output_height * 3);
            if (pixels) {
                int decoded = herdjpeg_decoder_decode(check, HERDJPEG_PIXEL_RGB, pixels, (size_t)again.output_width * 3);
                if (decoded != HERDJPEG_OK) fprintf(stderr, "herdfuzz: %s\n", herdjpeg_decoder_message(check));
                HERDFUZZ_CHECK(decoded == HERDJPEG_OK, "output does not decode");
                free(pixels);
            } else {
                herdjpeg_decoder_abort(check);
            }
        }
    }
done:
    herdjpeg_transcoder_reset(transcoder);
    free(layer);
    free(mask);
    return 0;
}
