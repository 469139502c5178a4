// C shim over FreeType for HerdText. Every symbol is prefixed `herdft_`; no FreeType type appears here.
// A face is not thread-safe: HerdText serialises access to each one.
#ifndef CHERDFREETYPE_H
#define CHERDFREETYPE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct herdft_library herdft_library;
typedef struct herdft_face herdft_face;

/// One rendered glyph: an 8-bit coverage bitmap plus placement, in pixels (advance in 1/64 px).
typedef struct herdft_glyph {
    int32_t width;
    int32_t rows;
    int32_t pitch;
    int32_t left;
    int32_t top;
    int32_t advance_x;
    const uint8_t *buffer; ///< valid until the next render on the same face
} herdft_glyph;

/// Line metrics at the current pixel size, in 1/64 px.
typedef struct herdft_metrics {
    int32_t ascender;
    int32_t descender;
    int32_t height;
} herdft_metrics;

herdft_library *herdft_library_create(int *error);
void herdft_library_destroy(herdft_library *library);
herdft_face *herdft_face_open(herdft_library *library, const char *path, int32_t index, int *error);
void herdft_face_destroy(herdft_face *face);
int herdft_face_set_pixel_size(herdft_face *face, int32_t pixels);
uint32_t herdft_face_glyph_index(herdft_face *face, uint32_t codepoint);
int herdft_face_render(herdft_face *face, uint32_t glyph_index, herdft_glyph *glyph);
void herdft_face_metrics(herdft_face *face, herdft_metrics *metrics);
/// Horizontal kerning between two glyphs in 1/64 px (0 when the face has none).
int32_t herdft_face_kerning(herdft_face *face, uint32_t left, uint32_t right);
const char *herdft_face_family(herdft_face *face);
const char *herdft_error_string(int error);

#ifdef __cplusplus
}
#endif

#endif
