// Header read at every scale (1/1, 1/2, 1/4, 1/8), on one reused decoder as HerdCodecs uses it.
#include <stddef.h>
#include <stdint.h>

#include "CHerdJPEG.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static herdjpeg_decoder *decoder;
    if (decoder == NULL) decoder = herdjpeg_decoder_create();
    static const int scales[] = {1, 2, 4, 8};
    for (int i = 0; i < 4; i++) {
        herdjpeg_info info;
        int rc = herdjpeg_decoder_read_header(decoder, data, size, scales[i], &info);
        if (rc == HERDJPEG_OK) {
            HERDFUZZ_CHECK(info.width > 0 && info.height > 0, "header OK with an empty image");
            HERDFUZZ_CHECK(info.output_width > 0 && info.output_width <= info.width, "scaled width out of range");
            HERDFUZZ_CHECK(info.orientation >= 1 && info.orientation <= 8, "orientation out of range");
            herdjpeg_decoder_abort(decoder);
        } else {
            HERDFUZZ_CHECK(herdjpeg_decoder_message(decoder)[0] != 0, "failure without a message");
        }
    }
    return 0;
}
