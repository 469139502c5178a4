// FreeType shim: opaque handles and plain structs so Swift never sees FT_* types.
#include "CHerdFreeType.h"

#include <stdlib.h>

#include <ft2build.h>
#include FT_FREETYPE_H

struct herdft_library {
    FT_Library library;
};

struct herdft_face {
    FT_Face face;
};

herdft_library *herdft_library_create(int *error) {
    herdft_library *l = calloc(1, sizeof *l);
    if (l == NULL) {
        *error = FT_Err_Out_Of_Memory;
        return NULL;
    }
    *error = FT_Init_FreeType(&l->library);
    if (*error) {
        free(l);
        return NULL;
    }
    return l;
}

void herdft_library_destroy(herdft_library *l) {
    if (l == NULL) return;
    FT_Done_FreeType(l->library);
    free(l);
}

herdft_face *herdft_face_open(herdft_library *l, const char *path, int32_t index, int *error) {
    herdft_face *f = calloc(1, sizeof *f);
    if (f == NULL) {
        *error = FT_Err_Out_Of_Memory;
        return NULL;
    }
    *error = FT_New_Face(l->library, path, index, &f->face);
    if (*error) {
        free(f);
        return NULL;
    }
    FT_Select_Charmap(f->face, FT_ENCODING_UNICODE);
    return f;
}

void herdft_face_destroy(herdft_face *f) {
    if (f == NULL) return;
    FT_Done_Face(f->face);
    free(f);
}

int herdft_face_set_pixel_size(herdft_face *f, int32_t pixels) {
    return FT_Set_Pixel_Sizes(f->face, 0, (FT_UInt)(pixels < 1 ? 1 : pixels));
}

uint32_t herdft_face_glyph_index(herdft_face *f, uint32_t codepoint) {
    return FT_Get_Char_Index(f->face, codepoint);
}

int herdft_face_render(herdft_face *f, uint32_t glyph_index, herdft_glyph *g) {
    int error = FT_Load_Glyph(f->face, glyph_index, FT_LOAD_DEFAULT | FT_LOAD_TARGET_LIGHT);
    if (error) return error;
    error = FT_Render_Glyph(f->face->glyph, FT_RENDER_MODE_NORMAL);
    if (error) return error;
    FT_GlyphSlot slot = f->face->glyph;
    g->width = (int32_t)slot->bitmap.width;
    g->rows = (int32_t)slot->bitmap.rows;
    g->pitch = slot->bitmap.pitch;
    g->left = slot->bitmap_left;
    g->top = slot->bitmap_top;
    g->advance_x = (int32_t)slot->advance.x;
    g->buffer = slot->bitmap.buffer;
    return 0;
}

void herdft_face_metrics(herdft_face *f, herdft_metrics *m) {
    m->ascender = (int32_t)f->face->size->metrics.ascender;
    m->descender = (int32_t)f->face->size->metrics.descender;
    m->height = (int32_t)f->face->size->metrics.height;
}

int32_t herdft_face_kerning(herdft_face *f, uint32_t left, uint32_t right) {
    if (!FT_HAS_KERNING(f->face) || left == 0 || right == 0) return 0;
    FT_Vector k;
    if (FT_Get_Kerning(f->face, left, right, FT_KERNING_DEFAULT, &k)) return 0;
    return (int32_t)k.x;
}

const char *herdft_face_family(herdft_face *f) { return f->face->family_name ? f->face->family_name : ""; }

const char *herdft_error_string(int error) {
    const char *s = FT_Error_String(error);
    return s ? s : "FreeType error";
}
