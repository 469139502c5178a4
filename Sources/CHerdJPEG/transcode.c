// Overlay composition in the DCT domain. The frame's coefficients are read without IDCT; only the 8x8
// blocks an overlay touches change, and every other block is written back exactly as received.
//
// For a block whose overlay is one colour at one opacity (a zone fill's interior, a solid plate),
// alpha blending is affine and the DCT is linear, so the blend is applied to the coefficients directly:
//   out = ov + (1 - a) * x   =>   DC' = 8 * ov + (1 - a) * DC,  AC' = (1 - a) * AC.
// Other touched blocks go through a float IDCT, the blend, and a float FDCT, then are re-quantized with
// the source's own tables. Pixels the overlay leaves transparent keep their unclamped IDCT values, so
// they round-trip to the same coefficients.
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>

#include "herdjpeg_internal.h"

struct herdjpeg_transcoder {
    struct jpeg_decompress_struct src;
    struct jpeg_compress_struct dst;
    herdjpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    herdjpeg_dest dest;
    jvirt_barray_ptr *coefficients;
    int have_image;
    int64_t stats[3];
};

// Orthonormal 8-point DCT-II basis; JPEG's 2-D DCT is exactly C f C^T with this matrix.
static float herdjpeg_basis[8][8];
static pthread_once_t herdjpeg_basis_once = PTHREAD_ONCE_INIT;

static void herdjpeg_fill_basis(void) {
    for (int u = 0; u < 8; u++) {
        double alpha = u == 0 ? sqrt(1.0 / 8.0) : sqrt(2.0 / 8.0);
        for (int x = 0; x < 8; x++) herdjpeg_basis[u][x] = (float)(alpha * cos((2.0 * x + 1.0) * u * M_PI / 16.0));
    }
}

static void herdjpeg_init_basis(void) { pthread_once(&herdjpeg_basis_once, herdjpeg_fill_basis); }

// f: 8x8 level-shifted samples, row-major. F: coefficients, natural order (row = vertical frequency).
static void herdjpeg_fdct(const float *f, float *F) {
    float t[64];
    for (int y = 0; y < 8; y++) {
        float *row = t + y * 8;
        for (int u = 0; u < 8; u++) row[u] = 0;
        for (int x = 0; x < 8; x++) {
            float s = f[y * 8 + x];
            for (int u = 0; u < 8; u++) row[u] += s * herdjpeg_basis[u][x];
        }
    }
    for (int v = 0; v < 8; v++) {
        float *out = F + v * 8;
        for (int u = 0; u < 8; u++) out[u] = 0;
        for (int y = 0; y < 8; y++) {
            float c = herdjpeg_basis[v][y];
            for (int u = 0; u < 8; u++) out[u] += c * t[y * 8 + u];
        }
    }
}

static void herdjpeg_idct(const float *F, float *f) {
    float t[64];
    for (int y = 0; y < 8; y++) {
        float *row = t + y * 8;
        for (int u = 0; u < 8; u++) row[u] = 0;
        for (int v = 0; v < 8; v++) {
            float c = herdjpeg_basis[v][y];
            for (int u = 0; u < 8; u++) row[u] += c * F[v * 8 + u];
        }
    }
    for (int y = 0; y < 8; y++) {
        float *out = f + y * 8;
        for (int x = 0; x < 8; x++) out[x] = 0;
        for (int u = 0; u < 8; u++) {
            float s = t[y * 8 + u];
            for (int x = 0; x < 8; x++) out[x] += s * herdjpeg_basis[u][x];
        }
    }
}

static JCOEF herdjpeg_quantize(float value, int q) {
    float r = roundf(value / (float)q);
    if (r > 32767.0f) r = 32767.0f;
    if (r < -32767.0f) r = -32767.0f;
    return (JCOEF)r;
}

herdjpeg_transcoder *herdjpeg_transcoder_create(void) {
    herdjpeg_init_basis();
    herdjpeg_transcoder *t = calloc(1, sizeof *t);
    if (t == NULL) return NULL;
    herdjpeg_init_error(&t->err);
    t->src.err = &t->err.pub;
    t->dst.err = &t->err.pub;
    if (setjmp(t->err.jump)) {
        free(t);
        return NULL;
    }
    jpeg_create_decompress(&t->src);
    jpeg_create_compress(&t->dst);
    t->src.mem->max_memory_to_use = HERDJPEG_MAX_MEMORY;
    t->progress.progress_monitor = herdjpeg_progress;
    herdjpeg_dest_attach(&t->dst, &t->dest);
    return t;
}

void herdjpeg_transcoder_destroy(herdjpeg_transcoder *t) {
    if (t == NULL) return;
    jpeg_destroy_compress(&t->dst);
    jpeg_destroy_decompress(&t->src);
    free(t->dest.buffer);
    free(t);
}

void herdjpeg_transcoder_reset(herdjpeg_transcoder *t) {
    if (t->have_image) jpeg_abort_decompress(&t->src);
    t->have_image = 0;
    t->coefficients = NULL;
}

int herdjpeg_transcoder_read(herdjpeg_transcoder *t, const uint8_t *data, size_t length, herdjpeg_info *info) {
    herdjpeg_transcoder_reset(t);
    herdjpeg_init_error(&t->err);
    if (length == 0) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_TRUNCATED, "empty JPEG data");
        return t->err.code;
    }
    if (setjmp(t->err.jump)) {
        herdjpeg_transcoder_reset(t);
        return t->err.code;
    }
    t->have_image = 1;
    t->src.progress = &t->progress;
    jpeg_mem_src(&t->src, data, (unsigned long)length);
    jpeg_save_markers(&t->src, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&t->src, TRUE);
    int ok_space = (t->src.jpeg_color_space == JCS_YCbCr && t->src.num_components == 3) ||
                   (t->src.jpeg_color_space == JCS_GRAYSCALE && t->src.num_components == 1);
    if (!ok_space) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_UNSUPPORTED, "coefficient path needs YCbCr or greyscale");
        longjmp(t->err.jump, 1);
    }
    for (int ci = 0; ci < t->src.num_components; ci++) {
        jpeg_component_info *c = &t->src.comp_info[ci];
        int sx = t->src.max_h_samp_factor / c->h_samp_factor, sy = t->src.max_v_samp_factor / c->v_samp_factor;
        int aligned = (sx == 1 || sx == 2 || sx == 4) && (sy == 1 || sy == 2 || sy == 4);
        if (t->src.max_h_samp_factor % c->h_samp_factor || t->src.max_v_samp_factor % c->v_samp_factor || !aligned) {
            herdjpeg_set_message(&t->err, HERDJPEG_ERR_UNSUPPORTED, "coefficient path needs integral subsampling");
            longjmp(t->err.jump, 1);
        }
    }
    t->coefficients = jpeg_read_coefficients(&t->src);
    herdjpeg_fill_info(&t->src, info);
    info->output_width = info->width;
    info->output_height = info->height;
    return HERDJPEG_OK;
}

// Overlay of one block for one component, level-shifted: out = ov[k] + (1 - a[k]) * x[k].
// Returns 0 when the layer is fully transparent over the block.
// Only tiles flagged in `mask` hold this frame's overlay; any other tile of the layer holds stale data
// from earlier frames and reads as transparent.
static int herdjpeg_sample_overlay(const uint8_t *layer, size_t stride, const uint8_t *mask, int tiles_x, int width,
                                   int height, int x0, int y0, int sx, int sy, int component, float *ov, float *a) {
    int any = 0;
    float inv = 1.0f / (float)(sx * sy);
    for (int v = 0; v < 8; v++) {
        for (int u = 0; u < 8; u++) {
            int px = x0 + u * sx, py = y0 + v * sy;
            uint32_t r = 0, g = 0, b = 0, al = 0;
            if (px >= width || py >= height || !mask[(size_t)(py >> 3) * tiles_x + (px >> 3)]) {
                a[v * 8 + u] = 0.0f;
                ov[v * 8 + u] = 0.0f;
                continue;
            }
            for (int dy = 0; dy < sy; dy++) {
                int yy = py + dy;
                if (yy >= height) break;
                const uint8_t *p = layer + (size_t)yy * stride + (size_t)px * 4;
                for (int dx = 0; dx < sx && px + dx < width; dx++, p += 4) {
                    r += p[0];
                    g += p[1];
                    b += p[2];
                    al += p[3];
                }
            }
            float fr = (float)r * inv, fg = (float)g * inv, fb = (float)b * inv;
            float fa = (float)al * inv * (1.0f / 255.0f);
            int k = v * 8 + u;
            a[k] = fa;
            if (al) any = 1;
            switch (component) {
            case 0: ov[k] = 0.299f * fr + 0.587f * fg + 0.114f * fb - 128.0f * fa; break;
            case 1: ov[k] = -0.168736f * fr - 0.331264f * fg + 0.5f * fb; break;
            default: ov[k] = 0.5f * fr - 0.418688f * fg - 0.081312f * fb; break;
            }
        }
    }
    return any;
}

static int herdjpeg_tiles_dirty(const uint8_t *mask, int tiles_x, int tiles_y, int x0, int y0, int w, int h) {
    int tx0 = x0 >> 3, ty0 = y0 >> 3;
    int tx1 = (x0 + w - 1) >> 3, ty1 = (y0 + h - 1) >> 3;
    if (tx1 >= tiles_x) tx1 = tiles_x - 1;
    if (ty1 >= tiles_y) ty1 = tiles_y - 1;
    for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++)
            if (mask[(size_t)ty * tiles_x + tx]) return 1;
    return 0;
}

int herdjpeg_transcoder_apply_overlay(herdjpeg_transcoder *t, const uint8_t *layer, size_t stride,
                                      const uint8_t *tile_mask, int32_t tiles_x, int32_t tiles_y) {
    herdjpeg_init_error(&t->err);
    memset(t->stats, 0, sizeof t->stats);
    if (!t->have_image || t->coefficients == NULL) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_USAGE, "apply_overlay called before read");
        return t->err.code;
    }
    int width = (int)t->src.image_width, height = (int)t->src.image_height;
    if (tiles_x != (width + 7) / 8 || tiles_y != (height + 7) / 8) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_USAGE, "overlay tile grid does not match the image");
        return t->err.code;
    }
    if (setjmp(t->err.jump)) {
        herdjpeg_transcoder_reset(t);
        return t->err.code;
    }
    float ov[64], a[64], F[64], f[64];
    for (int ci = 0; ci < t->src.num_components; ci++) {
        jpeg_component_info *comp = &t->src.comp_info[ci];
        int sx = t->src.max_h_samp_factor / comp->h_samp_factor;
        int sy = t->src.max_v_samp_factor / comp->v_samp_factor;
        int bw = 8 * sx, bh = 8 * sy;
        const UINT16 *q = comp->quant_table->quantval;
        for (JDIMENSION by = 0; by < comp->height_in_blocks; by++) {
            int y0 = (int)by * bh;
            if (y0 >= height) break;
            if (!herdjpeg_tiles_dirty(tile_mask, tiles_x, tiles_y, 0, y0, width, bh)) {
                t->stats[0] += comp->width_in_blocks;
                continue;
            }
            JBLOCKARRAY rows = (*t->src.mem->access_virt_barray)((j_common_ptr)&t->src, t->coefficients[ci], by, 1, TRUE);
            JBLOCKROW row = rows[0];
            for (JDIMENSION bx = 0; bx < comp->width_in_blocks; bx++) {
                int x0 = (int)bx * bw;
                if (x0 >= width) break;
                if (!herdjpeg_tiles_dirty(tile_mask, tiles_x, tiles_y, x0, y0, bw, bh) ||
                    !herdjpeg_sample_overlay(layer, stride, tile_mask, tiles_x, width, height, x0, y0, sx, sy, ci, ov, a)) {
                    t->stats[0]++;
                    continue;
                }
                JCOEF *coef = row[bx];
                int uniform = 1;
                for (int k = 1; k < 64 && uniform; k++) uniform = (a[k] == a[0] && ov[k] == ov[0]);
                if (uniform) {
                    float keep = 1.0f - a[0];
                    coef[0] = herdjpeg_quantize(8.0f * ov[0] + keep * (float)coef[0] * (float)q[0], q[0]);
                    for (int k = 1; k < 64; k++) {
                        if (coef[k]) coef[k] = (JCOEF)lroundf(keep * (float)coef[k]);
                    }
                    t->stats[1]++;
                    continue;
                }
                for (int k = 0; k < 64; k++) F[k] = (float)coef[k] * (float)q[k];
                herdjpeg_idct(F, f);
                for (int k = 0; k < 64; k++) {
                    if (a[k] > 0.0f) {
                        float x = f[k] < -128.0f ? -128.0f : (f[k] > 127.0f ? 127.0f : f[k]);
                        f[k] = ov[k] + (1.0f - a[k]) * x;
                    }
                }
                herdjpeg_fdct(f, F);
                for (int k = 0; k < 64; k++) coef[k] = herdjpeg_quantize(F[k], q[k]);
                t->stats[2]++;
            }
        }
    }
    return HERDJPEG_OK;
}

int herdjpeg_transcoder_write(herdjpeg_transcoder *t, int optimize_coding) {
    herdjpeg_init_error(&t->err);
    t->dest.length = 0;
    if (!t->have_image || t->coefficients == NULL) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_USAGE, "write called before read");
        return t->err.code;
    }
    if (setjmp(t->err.jump)) {
        jpeg_abort_compress(&t->dst);
        herdjpeg_transcoder_reset(t);
        return t->err.code;
    }
    jpeg_copy_critical_parameters(&t->src, &t->dst);
    t->dst.optimize_coding = optimize_coding ? TRUE : FALSE;
    jpeg_write_coefficients(&t->dst, t->coefficients);
    jpeg_finish_compress(&t->dst);
    jpeg_finish_decompress(&t->src);
    t->have_image = 0;
    t->coefficients = NULL;
    return HERDJPEG_OK;
}

const uint8_t *herdjpeg_transcoder_output(const herdjpeg_transcoder *t, size_t *length) {
    *length = t->dest.length;
    return t->dest.buffer;
}

const char *herdjpeg_transcoder_message(const herdjpeg_transcoder *t) { return t->err.message; }

void herdjpeg_transcoder_stats(const herdjpeg_transcoder *t, int64_t counts[3]) {
    memcpy(counts, t->stats, sizeof t->stats);
}
