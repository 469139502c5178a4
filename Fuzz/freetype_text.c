// Glyph rendering for hostile strings: the input is taken as UTF-8 (invalid sequences, surrogates,
// code points past U+10FFFF, NULs and controls included) and every scalar is looked up, rendered and
// kerned against its neighbour in the faces HerdText uses (DejaVu Sans, then the CJK face), at a pixel
// size from the first byte over TextRenderer's clamp range (4...400).
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "CHerdFreeType.h"
#include "fuzz_common.h"

#define MAX_SCALARS 64

static herdft_face *open_first(herdft_library *library, const char *const *paths) {
    for (; *paths; paths++) {
        int error = 0;
        herdft_face *face = herdft_face_open(library, *paths, 0, &error);
        if (face) return face;
    }
    return NULL;
}

static uint32_t next_scalar(const uint8_t **p, const uint8_t *end) {
    uint32_t c = *(*p)++;
    int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
    if (extra) c &= 0x3F >> extra;
    while (extra-- > 0 && *p < end) c = (c << 6) | (*(*p)++ & 0x3F);
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static herdft_library *library;
    static herdft_face *faces[2];
    if (library == NULL) {
        int error = 0;
        library = herdft_library_create(&error);
        static const char *const latin[] = {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", NULL};
        static const char *const cjk[] = {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
                                          "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", NULL};
        faces[0] = open_first(library, latin);
        faces[1] = open_first(library, cjk);
        HERDFUZZ_CHECK(faces[0] != NULL, "DejaVu Sans not installed (fonts-dejavu-core)");
    }
    if (size < 1) return 0;
    int32_t px = 4 + (int32_t)(data[0] * 396 / 255);
    for (int f = 0; f < 2; f++)
        if (faces[f]) HERDFUZZ_CHECK(herdft_face_set_pixel_size(faces[f], px) == 0, "pixel size refused");
    const uint8_t *p = data + 1, *end = data + size;
    uint32_t previous[2] = {0, 0};
    for (int n = 0; p < end && n < MAX_SCALARS; n++) {
        uint32_t c = next_scalar(&p, end);
        for (int f = 0; f < 2; f++) {
            if (faces[f] == NULL) continue;
            uint32_t glyph = herdft_face_glyph_index(faces[f], c);
            if (glyph == 0) continue;
            (void)herdft_face_kerning(faces[f], previous[f], glyph);
            previous[f] = glyph;
            herdft_glyph g;
            if (herdft_face_render(faces[f], glyph, &g) == 0 && g.rows > 0 && g.width > 0) {
                HERDFUZZ_CHECK(g.buffer != NULL, "glyph without a bitmap");
                int pitch = g.pitch < 0 ? -g.pitch : g.pitch;
                HERDFUZZ_CHECK(pitch >= g.width, "pitch narrower than the glyph");
                volatile uint32_t sum = 0;
                for (int y = 0; y < g.rows; y++)
                    for (int x = 0; x < g.width; x++) sum += g.buffer[(size_t)y * pitch + x];
                (void)sum;
            }
            break; // the first face that has the character draws it, as TextRenderer does
        }
    }
    return 0;
}
