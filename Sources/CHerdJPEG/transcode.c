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

#define HERDJPEG_INLINE __attribute__((always_inline))

// Hot per-block functions are built twice on x86-64 Linux, for AVX2+FMA (x86-64-v3) and for the
// baseline, and the loader picks one per machine (ifunc); elsewhere they are built once. Not under
// ThreadSanitizer: the loader runs an ifunc's resolver before the TSan runtime is up, and the
// instrumented resolver crashed every TSan test process at load.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HERDJPEG_NO_CLONES 1
#endif
#endif
#if defined(__x86_64__) && defined(__linux__) && defined(__clang__) && !defined(HERDJPEG_NO_CLONES)
#define HERDJPEG_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HERDJPEG_CLONES
#endif

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct herdjpeg_transcoder {
    struct jpeg_decompress_struct src;
    struct jpeg_compress_struct dst;
    herdjpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    herdjpeg_dest dest;
    herdjpeg_huffman_defaults huffman;
    jvirt_barray_ptr *coefficients;
    int have_image;
    int64_t stats[3];
};

// Fast separable DCTs after Arai, Agui and Nakajima (the factorisation libjpeg's float DCTs use):
// 5 multiplies and 29 additions per 8 points. Both leave a per-frequency scale on the coefficients,
// which herdjpeg_fill_tables measures once against the orthonormal DCT (JPEG's DCT is exactly the
// orthonormal 2-D DCT-II) and folds into the quantization step, so nothing hangs on remembered constants.
static float herdjpeg_basis[8][8];    // orthonormal DCT-II rows, for calibration
static float herdjpeg_fdct_scale[64];  // true coefficient = fast FDCT output * scale
static float herdjpeg_idct_scale[64];  // fast IDCT input = true coefficient * scale
static pthread_once_t herdjpeg_tables_once = PTHREAD_ONCE_INIT;

// 2-D transforms built so the compiler vectorizes them: each 1-D pass runs the butterflies of all 8
// columns in one loop (contiguous across columns), and the row pass is a column pass between transposes.
static inline HERDJPEG_INLINE void herdjpeg_transpose8(float *restrict out, const float *restrict in) {
    for (int r = 0; r < 8; r++)
        for (int c = 0; c < 8; c++) out[c * 8 + r] = in[r * 8 + c];
}

static inline HERDJPEG_INLINE void herdjpeg_fdct_columns(float *restrict d) {
    for (int c = 0; c < 8; c++) {
        float tmp0 = d[c] + d[56 + c], tmp7 = d[c] - d[56 + c];
        float tmp1 = d[8 + c] + d[48 + c], tmp6 = d[8 + c] - d[48 + c];
        float tmp2 = d[16 + c] + d[40 + c], tmp5 = d[16 + c] - d[40 + c];
        float tmp3 = d[24 + c] + d[32 + c], tmp4 = d[24 + c] - d[32 + c];
        float tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        d[c] = tmp10 + tmp11;
        d[32 + c] = tmp10 - tmp11;
        float z1 = (tmp12 + tmp13) * 0.707106781f;
        d[16 + c] = tmp13 + z1;
        d[48 + c] = tmp13 - z1;
        tmp10 = tmp4 + tmp5;
        tmp11 = tmp5 + tmp6;
        tmp12 = tmp6 + tmp7;
        float z5 = (tmp10 - tmp12) * 0.382683433f;
        float z2 = 0.541196100f * tmp10 + z5;
        float z4 = 1.306562965f * tmp12 + z5;
        float z3 = tmp11 * 0.707106781f;
        float z11 = tmp7 + z3, z13 = tmp7 - z3;
        d[40 + c] = z13 + z2;
        d[24 + c] = z13 - z2;
        d[8 + c] = z11 + z4;
        d[56 + c] = z11 - z4;
    }
}

static inline HERDJPEG_INLINE void herdjpeg_idct_columns(float *restrict d) {
    for (int c = 0; c < 8; c++) {
        float tmp0 = d[c], tmp1 = d[16 + c], tmp2 = d[32 + c], tmp3 = d[48 + c];
        float tmp10 = tmp0 + tmp2, tmp11 = tmp0 - tmp2;
        float tmp13 = tmp1 + tmp3, tmp12 = (tmp1 - tmp3) * 1.414213562f - tmp13;
        tmp0 = tmp10 + tmp13;
        tmp3 = tmp10 - tmp13;
        tmp1 = tmp11 + tmp12;
        tmp2 = tmp11 - tmp12;
        float tmp4 = d[8 + c], tmp5 = d[24 + c], tmp6 = d[40 + c], tmp7 = d[56 + c];
        float z13 = tmp6 + tmp5, z10 = tmp6 - tmp5, z11 = tmp4 + tmp7, z12 = tmp4 - tmp7;
        tmp7 = z11 + z13;
        tmp11 = (z11 - z13) * 1.414213562f;
        float z5 = (z10 + z12) * 1.847759065f;
        tmp10 = 1.082392200f * z12 - z5;
        tmp12 = -2.613125930f * z10 + z5;
        tmp6 = tmp12 - tmp7;
        tmp5 = tmp11 - tmp6;
        tmp4 = tmp10 + tmp5;
        d[c] = tmp0 + tmp7;
        d[56 + c] = tmp0 - tmp7;
        d[8 + c] = tmp1 + tmp6;
        d[48 + c] = tmp1 - tmp6;
        d[16 + c] = tmp2 + tmp5;
        d[40 + c] = tmp2 - tmp5;
        d[32 + c] = tmp3 + tmp4;
        d[24 + c] = tmp3 - tmp4;
    }
}

// In place: samples (row-major) -> scaled coefficients (natural order).
static inline HERDJPEG_INLINE void herdjpeg_fdct_fast(float *b) {
    float t[64];
    herdjpeg_fdct_columns(b);
    herdjpeg_transpose8(t, b);
    herdjpeg_fdct_columns(t);
    herdjpeg_transpose8(b, t);
}

// In place: scaled coefficients -> samples.
static inline HERDJPEG_INLINE void herdjpeg_idct_fast(float *b) {
    float t[64];
    herdjpeg_idct_columns(b);
    herdjpeg_transpose8(t, b);
    herdjpeg_idct_columns(t);
    herdjpeg_transpose8(b, t);
}

static void herdjpeg_fill_tables(void) {
    for (int u = 0; u < 8; u++) {
        double alpha = u == 0 ? sqrt(1.0 / 8.0) : sqrt(2.0 / 8.0);
        for (int x = 0; x < 8; x++) herdjpeg_basis[u][x] = (float)(alpha * cos((2.0 * x + 1.0) * u * M_PI / 16.0));
    }
    // 1-D scales, measured on column 0 of a block: the fast FDCT of basis row u yields f_u at index u;
    // the fast IDCT of e_u yields g_u times row u.
    double f[8], g[8];
    for (int u = 0; u < 8; u++) {
        float block[64] = {0};
        for (int x = 0; x < 8; x++) block[x * 8] = herdjpeg_basis[u][x];
        herdjpeg_fdct_columns(block);
        f[u] = block[u * 8];
        float impulse[64] = {0};
        impulse[u * 8] = 1.0f;
        herdjpeg_idct_columns(impulse);
        double dot = 0;
        for (int x = 0; x < 8; x++) dot += impulse[x * 8] * herdjpeg_basis[u][x];
        g[u] = dot;
    }
    for (int v = 0; v < 8; v++) {
        for (int u = 0; u < 8; u++) {
            herdjpeg_fdct_scale[v * 8 + u] = (float)(1.0 / (f[v] * f[u]));
            herdjpeg_idct_scale[v * 8 + u] = (float)(1.0 / (g[v] * g[u]));
        }
    }
}

static void herdjpeg_init_basis(void) { pthread_once(&herdjpeg_tables_once, herdjpeg_fill_tables); }

// Reference orthonormal transforms, used by herdjpeg_self_test.
static void herdjpeg_fdct_reference(const float *f, float *F) {
    for (int v = 0; v < 8; v++)
        for (int u = 0; u < 8; u++) {
            double s = 0;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++) s += (double)f[y * 8 + x] * herdjpeg_basis[v][y] * herdjpeg_basis[u][x];
            F[v * 8 + u] = (float)s;
        }
}

double herdjpeg_dct_self_test(void) {
    herdjpeg_init_basis();
    double worst = 0;
    unsigned seed = 12345;
    for (int trial = 0; trial < 64; trial++) {
        float f[64], F[64], fast[64];
        for (int k = 0; k < 64; k++) {
            seed = seed * 1103515245u + 12345u;
            f[k] = (float)((seed >> 16) % 256) - 128.0f;
            fast[k] = f[k];
        }
        herdjpeg_fdct_reference(f, F);
        herdjpeg_fdct_fast(fast);
        for (int k = 0; k < 64; k++) {
            double d = fabs(fast[k] * herdjpeg_fdct_scale[k] - F[k]);
            if (d > worst) worst = d;
        }
        for (int k = 0; k < 64; k++) fast[k] = F[k] * herdjpeg_idct_scale[k];
        herdjpeg_idct_fast(fast);
        for (int k = 0; k < 64; k++) {
            double d = fabs(fast[k] - f[k]);
            if (d > worst) worst = d;
        }
    }
    return worst;
}

// What an 8-bit baseline Huffman coder can write: AC magnitudes of at most 10 bits, DC values whose
// differences fit 11 bits. libjpeg-turbo's encoder does not check; a larger value is written with a
// code the table lacks and the output stops decoding there.
#define HERDJPEG_AC_MAX 1023.0f
#define HERDJPEG_DC_MIN -1024.0f
#define HERDJPEG_DC_MAX 1023.0f

// Clamps before converting (a float outside the integer's range, or NaN, converted is undefined);
// NaN compares false both ways and lands on 0.
static inline JCOEF herdjpeg_quantize_dc(float value) {
    if (!(value > HERDJPEG_DC_MIN)) return value != value ? 0 : (JCOEF)HERDJPEG_DC_MIN;
    if (!(value < HERDJPEG_DC_MAX)) return (JCOEF)HERDJPEG_DC_MAX;
    return (JCOEF)(long)(value + (value >= 0.0f ? 0.5f : -0.5f)); // inline cvttss2si, no libm call
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

// After the coefficients are read, everything apply_overlay and write will trust is checked once;
// libjpeg leaves some of it unset for files other decoders accept. A component that no scan covers has
// no latched quantization table (NULL) and a zero quantization step makes the re-quantization divide
// by zero; the pixel path renders both the way libjpeg does (the missing component reads as mid-grey,
// the zero step as a zero coefficient), so both answer HERDJPEG_ERR_UNSUPPORTED and the caller falls
// back to it. Structural impossibilities are HERDJPEG_ERR_CORRUPT. Longjmps on failure.
static void herdjpeg_transcoder_check(herdjpeg_transcoder *t) {
    struct jpeg_decompress_struct *s = &t->src;
    const char *why = NULL;
    int code = HERDJPEG_ERR_CORRUPT;
    if (t->coefficients == NULL || s->comp_info == NULL) why = "JPEG has no coefficients";
    else if (s->max_h_samp_factor < 1 || s->max_h_samp_factor > 4 || s->max_v_samp_factor < 1 || s->max_v_samp_factor > 4)
        why = "JPEG sampling factors out of range";
    for (int ci = 0; why == NULL && ci < s->num_components; ci++) {
        const jpeg_component_info *c = &s->comp_info[ci];
        int sx = c->h_samp_factor > 0 ? s->max_h_samp_factor / c->h_samp_factor : 0;
        int sy = c->v_samp_factor > 0 ? s->max_v_samp_factor / c->v_samp_factor : 0;
        if (t->coefficients[ci] == NULL) {
            why = "JPEG component has no coefficient array";
        } else if (sx < 1 || sy < 1 || c->h_samp_factor > s->max_h_samp_factor || c->v_samp_factor > s->max_v_samp_factor) {
            why = "JPEG sampling factors out of range";
        } else if ((int64_t)c->width_in_blocks * 8 * sx < (int64_t)s->image_width ||
                   (int64_t)c->height_in_blocks * 8 * sy < (int64_t)s->image_height) {
            why = "JPEG component is smaller than the image";
        } else if (c->quant_table == NULL) {
            code = HERDJPEG_ERR_UNSUPPORTED;
            why = "a JPEG component appears in no scan (no quantization table latched)";
        } else {
            for (int k = 0; k < DCTSIZE2; k++) {
                if (c->quant_table->quantval[k] == 0) {
                    code = HERDJPEG_ERR_UNSUPPORTED;
                    why = "JPEG quantization table has a zero step";
                    break;
                }
            }
        }
    }
    // Blocks the overlay leaves alone are written back as read, so each must be writable: a crafted
    // file can carry coefficients of up to 15 bits that decode but cannot be re-encoded. One pass over
    // the coefficients (about 0.1 ms for 720p); the pixel path renders such a file.
    for (int ci = 0; why == NULL && ci < s->num_components; ci++) {
        const jpeg_component_info *c = &s->comp_info[ci];
        for (JDIMENSION by = 0; why == NULL && by < c->height_in_blocks; by++) {
            JBLOCKROW row = (*s->mem->access_virt_barray)((j_common_ptr)s, t->coefficients[ci], by, 1, FALSE)[0];
            int bad = 0;
            for (JDIMENSION bx = 0; bx < c->width_in_blocks; bx++) {
                const JCOEF *b = row[bx];
                bad |= b[0] < (JCOEF)HERDJPEG_DC_MIN || b[0] > (JCOEF)HERDJPEG_DC_MAX;
                for (int k = 1; k < DCTSIZE2; k++) bad |= b[k] < -(JCOEF)HERDJPEG_AC_MAX || b[k] > (JCOEF)HERDJPEG_AC_MAX;
            }
            if (bad) {
                code = HERDJPEG_ERR_UNSUPPORTED;
                why = "JPEG coefficients out of the baseline range";
            }
        }
    }
    if (why != NULL) {
        herdjpeg_set_message(&t->err, code, why);
        longjmp(t->err.jump, 1);
    }
}

int herdjpeg_transcoder_read(herdjpeg_transcoder *t, const uint8_t *data, size_t length, int64_t max_pixels,
                             herdjpeg_info *info) {
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
    if ((int64_t)t->src.image_width * (int64_t)t->src.image_height > max_pixels) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_TOO_LARGE, "image has more pixels than the configured limit");
        longjmp(t->err.jump, 1);
    }
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
    herdjpeg_transcoder_check(t);
    herdjpeg_fill_info(&t->src, info);
    info->output_width = info->width;
    info->output_height = info->height;
    return HERDJPEG_OK;
}

static const float herdjpeg_to_ycc[3][3] = {
    {0.299f, 0.587f, 0.114f},
    {-0.168736f, -0.331264f, 0.5f},
    {0.5f, -0.418688f, -0.081312f},
};

// Level-shifted overlay sample of one premultiplied RGBA sum over n pixels: out = ov + (1 - a) * x.
static inline void herdjpeg_overlay_value(int component, uint32_t r, uint32_t g, uint32_t b, uint32_t al, float inv,
                                          float *ov, float *a) {
    const float *m = herdjpeg_to_ycc[component];
    float fa = (float)al * inv * (1.0f / 255.0f);
    *a = fa;
    *ov = (m[0] * (float)r + m[1] * (float)g + m[2] * (float)b) * inv - (component == 0 ? 128.0f * fa : 0.0f);
}

// The block's overlay when it is one premultiplied colour over every pixel (all its tiles drawn and
// equal); returns 1 and sets *pixel, else 0. Compares 32-bit words, no float work.
static int herdjpeg_uniform_pixel(const uint8_t *layer, size_t stride, const uint8_t *mask, int tiles_x, int width,
                                  int height, int x0, int y0, int bw, int bh, uint32_t *pixel) {
    if (x0 + bw > width || y0 + bh > height) return 0;
    for (int ty = y0 >> 3; ty < (y0 + bh) >> 3; ty++)
        for (int tx = x0 >> 3; tx < (x0 + bw) >> 3; tx++)
            if (!mask[(size_t)ty * tiles_x + tx]) return 0;
    uint32_t first;
    memcpy(&first, layer + (size_t)y0 * stride + (size_t)x0 * 4, 4);
    for (int y = 0; y < bh; y++) {
        const uint8_t *row = layer + (size_t)(y0 + y) * stride + (size_t)x0 * 4;
        uint32_t diff = 0;
        for (int x = 0; x < bw; x++) {
            uint32_t v;
            memcpy(&v, row + 4 * x, 4);
            diff |= v ^ first;
        }
        if (diff) return 0;
    }
    *pixel = first;
    return 1;
}

// Overlay of one block, level-shifted: out = ov[c][k] + (1 - a[k]) * x[k], for `ncomp` components that
// share the block's sampling (luma alone, or Cb and Cr together: one pass over the layer serves both).
// Only tiles flagged in `mask` hold this frame's overlay; any other tile of the layer holds stale data
// from earlier frames and reads as transparent. Returns 0 when the layer is transparent over the block.
static int herdjpeg_sample_overlay_general(const uint8_t *layer, size_t stride, const uint8_t *mask, int tiles_x, int width,
                                   int height, int x0, int y0, int sx, int sy, int first_component, int ncomp,
                                   float ov[][64], float *a) {
    const float inv = 1.0f / (float)(sx * sy);
    const float inva = inv * (1.0f / 255.0f);
    const int inside = x0 + 8 * sx <= width && y0 + 8 * sy <= height;
    uint32_t any = 0;
    // Each 8x8 tile of the layer covers (8/sx) x (8/sy) samples of the block.
    const int su = 8 / sx, sv = 8 / sy;
    for (int tv = 0; tv < sy; tv++) {
        for (int tu = 0; tu < sx; tu++) {
            int tile_x = (x0 >> 3) + tu, tile_y = (y0 >> 3) + tv;
            int clean = tile_x >= tiles_x || (tile_y << 3) >= height || !mask[(size_t)tile_y * tiles_x + tile_x];
            for (int v = tv * sv; v < (tv + 1) * sv; v++) {
                int py = y0 + v * sy;
                for (int u = tu * su; u < (tu + 1) * su; u++) {
                    int px = x0 + u * sx, k = v * 8 + u;
                    uint32_t r = 0, g = 0, b = 0, al = 0;
                    if (!clean) {
                        if (inside) {
                            for (int dy = 0; dy < sy; dy++) {
                                const uint8_t *p = layer + (size_t)(py + dy) * stride + (size_t)px * 4;
                                for (int dx = 0; dx < sx; dx++, p += 4) {
                                    r += p[0];
                                    g += p[1];
                                    b += p[2];
                                    al += p[3];
                                }
                            }
                        } else {
                            for (int dy = 0; dy < sy && py + dy < height; dy++) {
                                const uint8_t *p = layer + (size_t)(py + dy) * stride + (size_t)px * 4;
                                for (int dx = 0; dx < sx && px + dx < width; dx++, p += 4) {
                                    r += p[0];
                                    g += p[1];
                                    b += p[2];
                                    al += p[3];
                                }
                            }
                        }
                    }
                    any |= al;
                    float fa = (float)al * inva;
                    float fr = (float)r * inv, fg = (float)g * inv, fb = (float)b * inv;
                    a[k] = fa;
                    for (int c = 0; c < ncomp; c++) {
                        const float *m = herdjpeg_to_ycc[first_component + c];
                        ov[c][k] = m[0] * fr + m[1] * fg + m[2] * fb - (first_component + c == 0 ? 128.0f * fa : 0.0f);
                    }
                }
            }
        }
    }
    return any != 0;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the layer is read as little-endian 32-bit RGBA words"
#endif

// Fast path for blocks inside the image with 1x1 or 2x2 sampling: per-sample channel sums of the layer
// read as 32-bit words (two channels per add), then one vectorized pass to overlay values. Samples
// of tiles not drawn this frame are zeroed (their memory holds stale data).
static int herdjpeg_sample_overlay(const uint8_t *layer, size_t stride, const uint8_t *mask, int tiles_x, int width,
                                   int height, int x0, int y0, int sx, int sy, int first_component, int ncomp,
                                   float ov[][64], float *a) {
    if (sx != sy || (sx != 1 && sx != 2) || x0 + 8 * sx > width || y0 + 8 * sy > height)
        return herdjpeg_sample_overlay_general(layer, stride, mask, tiles_x, width, height, x0, y0, sx, sy,
                                               first_component, ncomp, ov, a);
    float r[64], g[64], b[64], al[64];
#if defined(__SSE2__)
    const __m128i low = _mm_set1_epi32(0xFF), pair = _mm_set1_epi32(0xFF00FF), half = _mm_set1_epi32(0xFFFF);
    if (sx == 1) {
        for (int v = 0; v < 8; v++) {
            const uint8_t *row = layer + (size_t)(y0 + v) * stride + (size_t)x0 * 4;
            for (int h = 0; h < 2; h++) {
                __m128i p = _mm_loadu_si128((const __m128i *)(row + 16 * h));
                int k = v * 8 + 4 * h;
                _mm_storeu_ps(r + k, _mm_cvtepi32_ps(_mm_and_si128(p, low)));
                _mm_storeu_ps(g + k, _mm_cvtepi32_ps(_mm_and_si128(_mm_srli_epi32(p, 8), low)));
                _mm_storeu_ps(b + k, _mm_cvtepi32_ps(_mm_and_si128(_mm_srli_epi32(p, 16), low)));
                _mm_storeu_ps(al + k, _mm_cvtepi32_ps(_mm_srli_epi32(p, 24)));
            }
        }
    } else {
        for (int v = 0; v < 8; v++) {
            const uint8_t *row0 = layer + (size_t)(y0 + 2 * v) * stride + (size_t)x0 * 4;
            const uint8_t *row1 = row0 + stride;
            for (int q = 0; q < 2; q++) {
                // 8 pixels of two rows -> 4 samples; channel pairs (R,B) and (G,A) share 32-bit lanes.
                __m128i rb[2], ga[2];
                for (int h = 0; h < 2; h++) {
                    __m128i p0 = _mm_loadu_si128((const __m128i *)(row0 + 32 * q + 16 * h));
                    __m128i p1 = _mm_loadu_si128((const __m128i *)(row1 + 32 * q + 16 * h));
                    __m128i x = _mm_add_epi32(_mm_and_si128(p0, pair), _mm_and_si128(p1, pair));
                    __m128i y = _mm_add_epi32(_mm_and_si128(_mm_srli_epi32(p0, 8), pair), _mm_and_si128(_mm_srli_epi32(p1, 8), pair));
                    // Horizontal neighbours: lanes 0 and 2 get (0+1) and (2+3).
                    rb[h] = _mm_add_epi32(x, _mm_srli_epi64(x, 32));
                    ga[h] = _mm_add_epi32(y, _mm_srli_epi64(y, 32));
                }
                __m128i rbs = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(rb[0]), _mm_castsi128_ps(rb[1]), _MM_SHUFFLE(2, 0, 2, 0)));
                __m128i gas = _mm_castps_si128(_mm_shuffle_ps(_mm_castsi128_ps(ga[0]), _mm_castsi128_ps(ga[1]), _MM_SHUFFLE(2, 0, 2, 0)));
                int k = v * 8 + 4 * q;
                _mm_storeu_ps(r + k, _mm_cvtepi32_ps(_mm_and_si128(rbs, half)));
                _mm_storeu_ps(b + k, _mm_cvtepi32_ps(_mm_srli_epi32(rbs, 16)));
                _mm_storeu_ps(g + k, _mm_cvtepi32_ps(_mm_and_si128(gas, half)));
                _mm_storeu_ps(al + k, _mm_cvtepi32_ps(_mm_srli_epi32(gas, 16)));
            }
        }
#else
    if (sx == 1) {
        for (int v = 0; v < 8; v++) {
            uint32_t px[8];
            memcpy(px, layer + (size_t)(y0 + v) * stride + (size_t)x0 * 4, sizeof px);
            for (int u = 0; u < 8; u++) {
                r[v * 8 + u] = (float)(px[u] & 0xFF);
                g[v * 8 + u] = (float)((px[u] >> 8) & 0xFF);
                b[v * 8 + u] = (float)((px[u] >> 16) & 0xFF);
                al[v * 8 + u] = (float)(px[u] >> 24);
            }
        }
    } else {
        for (int v = 0; v < 8; v++) {
            uint32_t p0[16], p1[16];
            memcpy(p0, layer + (size_t)(y0 + 2 * v) * stride + (size_t)x0 * 4, sizeof p0);
            memcpy(p1, layer + (size_t)(y0 + 2 * v + 1) * stride + (size_t)x0 * 4, sizeof p1);
            for (int u = 0; u < 8; u++) {
                uint32_t rb = (p0[2 * u] & 0xFF00FFu) + (p0[2 * u + 1] & 0xFF00FFu) + (p1[2 * u] & 0xFF00FFu) +
                              (p1[2 * u + 1] & 0xFF00FFu);
                uint32_t ga = ((p0[2 * u] >> 8) & 0xFF00FFu) + ((p0[2 * u + 1] >> 8) & 0xFF00FFu) +
                              ((p1[2 * u] >> 8) & 0xFF00FFu) + ((p1[2 * u + 1] >> 8) & 0xFF00FFu);
                r[v * 8 + u] = (float)(rb & 0xFFFF);
                b[v * 8 + u] = (float)(rb >> 16);
                g[v * 8 + u] = (float)(ga & 0xFFFF);
                al[v * 8 + u] = (float)(ga >> 16);
            }
        }
#endif
        // Quadrants over tiles not drawn this frame read as transparent.
        for (int tv = 0; tv < 2; tv++)
            for (int tu = 0; tu < 2; tu++) {
                if (mask[(size_t)((y0 >> 3) + tv) * tiles_x + (x0 >> 3) + tu]) continue;
                for (int v = 4 * tv; v < 4 * tv + 4; v++)
                    for (int u = 4 * tu; u < 4 * tu + 4; u++) r[v * 8 + u] = g[v * 8 + u] = b[v * 8 + u] = al[v * 8 + u] = 0.0f;
            }
    }
    const float inv = sx == 1 ? 1.0f : 0.25f;
    const float inva = inv * (1.0f / 255.0f);
    float any = 0.0f;
    for (int k = 0; k < 64; k++) {
        a[k] = al[k] * inva;
        any += al[k];
    }
    for (int c = 0; c < ncomp; c++) {
        const float *m = herdjpeg_to_ycc[first_component + c];
        const float m0 = m[0] * inv, m1 = m[1] * inv, m2 = m[2] * inv;
        const float shift = first_component + c == 0 ? -128.0f : 0.0f;
        float *o = ov[c];
        for (int k = 0; k < 64; k++) o[k] = m0 * r[k] + m1 * g[k] + m2 * b[k] + shift * a[k];
    }
    return any > 0.0f;
}

// Blends the sampled overlay into one block's coefficients through IDCT and FDCT. Branch-free loops,
// so they vectorize.
HERDJPEG_CLONES static void herdjpeg_blend_block(JCOEF *restrict coef, const float *restrict ov, const float *restrict a,
                                 const float *restrict dequant, const float *restrict requant) {
    float f[64];
    for (int k = 0; k < 64; k++) f[k] = (float)coef[k] * dequant[k];
    herdjpeg_idct_fast(f);
    for (int k = 0; k < 64; k++) {
        float x = f[k] < -128.0f ? -128.0f : (f[k] > 127.0f ? 127.0f : f[k]);
        // Transparent pixels keep their unclamped value so they round-trip exactly.
        f[k] = a[k] > 0.0f ? ov[k] + (1.0f - a[k]) * x : f[k];
    }
    herdjpeg_fdct_fast(f);
    for (int k = 0; k < 64; k++) {
        // fmaxf/fminf take the number when the other operand is NaN, so no NaN reaches the conversion.
        float v = fminf(fmaxf(f[k] * requant[k], -HERDJPEG_AC_MAX), HERDJPEG_AC_MAX);
        coef[k] = (JCOEF)(int)(v + copysignf(0.5f, v));
    }
    coef[0] = herdjpeg_quantize_dc(f[0] * requant[0]);
}

// Uniform overlay: the affine blend commutes with the DCT, so scale AC and move DC (DC = 8 x mean).
HERDJPEG_CLONES static void herdjpeg_blend_uniform(JCOEF *restrict coef, float ov, float a, float dc_step) {
    float keep = 1.0f - a;
    float dc = (8.0f * ov) * dc_step + keep * (float)coef[0];
    for (int k = 0; k < 64; k++) {
        float v = fminf(fmaxf(keep * (float)coef[k], -HERDJPEG_AC_MAX), HERDJPEG_AC_MAX);
        coef[k] = (JCOEF)(int)(v + copysignf(0.5f, v));
    }
    coef[0] = herdjpeg_quantize_dc(dc);
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
    if (layer == NULL || tile_mask == NULL || stride < (size_t)width * 4) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_USAGE, "overlay layer missing or narrower than the image");
        return t->err.code;
    }
    if (tiles_x != (width + 7) / 8 || tiles_y != (height + 7) / 8) {
        herdjpeg_set_message(&t->err, HERDJPEG_ERR_USAGE, "overlay tile grid does not match the image");
        return t->err.code;
    }
    if (setjmp(t->err.jump)) {
        herdjpeg_transcoder_reset(t);
        return t->err.code;
    }
    float ov[2][64], a[64];
    float dequant[4][64], requant[4][64], dc_step[4];
    int ncomp = t->src.num_components;
    for (int ci = 0; ci < ncomp; ci++) {
        // Quantization folded with the fast DCTs' scales: one multiply per coefficient each way.
        const UINT16 *q = t->src.comp_info[ci].quant_table->quantval;
        for (int k = 0; k < 64; k++) {
            dequant[ci][k] = (float)q[k] * herdjpeg_idct_scale[k];
            requant[ci][k] = herdjpeg_fdct_scale[k] / (float)q[k];
        }
        dc_step[ci] = 1.0f / (float)q[0];
    }
    // Cb and Cr with the same sampling are blended together from one pass over the layer.
    int paired = ncomp == 3 && t->src.comp_info[1].h_samp_factor == t->src.comp_info[2].h_samp_factor &&
                 t->src.comp_info[1].v_samp_factor == t->src.comp_info[2].v_samp_factor;
    // Walk MCU rows and, inside each, every component, so the overlay rows a row of MCUs reads stay in
    // cache while luma and chroma sample them.
    int mcu_h = 8 * t->src.max_v_samp_factor;
    int mcu_rows = (height + mcu_h - 1) / mcu_h;
    for (int mrow = 0; mrow < mcu_rows; mrow++) {
        if (!herdjpeg_tiles_dirty(tile_mask, tiles_x, tiles_y, 0, mrow * mcu_h, width, mcu_h)) {
            for (int ci = 0; ci < ncomp; ci++)
                t->stats[0] += (int64_t)t->src.comp_info[ci].width_in_blocks * t->src.comp_info[ci].v_samp_factor;
            continue;
        }
        for (int ci = 0; ci < ncomp; ci += (paired && ci == 1) ? 2 : 1) {
            int group = (paired && ci == 1) ? 2 : 1;
            jpeg_component_info *comp = &t->src.comp_info[ci];
            int sx = t->src.max_h_samp_factor / comp->h_samp_factor;
            int sy = t->src.max_v_samp_factor / comp->v_samp_factor;
            int bw = 8 * sx, bh = 8 * sy;
            for (int br = 0; br < comp->v_samp_factor; br++) {
                JDIMENSION by = (JDIMENSION)(mrow * comp->v_samp_factor + br);
                if (by >= comp->height_in_blocks) break;
                int y0 = (int)by * bh;
                if (y0 >= height) break;
                if (!herdjpeg_tiles_dirty(tile_mask, tiles_x, tiles_y, 0, y0, width, bh)) {
                    t->stats[0] += (int64_t)comp->width_in_blocks * group;
                    continue;
                }
                JBLOCKROW rows[2];
                for (int g = 0; g < group; g++)
                    rows[g] = (*t->src.mem->access_virt_barray)((j_common_ptr)&t->src, t->coefficients[ci + g], by, 1, TRUE)[0];
                for (JDIMENSION bx = 0; bx < comp->width_in_blocks; bx++) {
                    int x0 = (int)bx * bw;
                    if (x0 >= width) break;
                    if (!herdjpeg_tiles_dirty(tile_mask, tiles_x, tiles_y, x0, y0, bw, bh)) {
                        t->stats[0] += group;
                        continue;
                    }
                    uint32_t pixel;
                    if (herdjpeg_uniform_pixel(layer, stride, tile_mask, tiles_x, width, height, x0, y0, bw, bh, &pixel)) {
                        const uint8_t *p = (const uint8_t *)&pixel;
                        for (int g = 0; g < group; g++) {
                            if (p[3] == 0) {
                                t->stats[0]++;
                                continue;
                            }
                            float ov0, a0;
                            herdjpeg_overlay_value(ci + g, p[0], p[1], p[2], p[3], 1.0f, &ov0, &a0);
                            herdjpeg_blend_uniform(rows[g][bx], ov0, a0, dc_step[ci + g]);
                            t->stats[1]++;
                        }
                        continue;
                    }
                    if (!herdjpeg_sample_overlay(layer, stride, tile_mask, tiles_x, width, height, x0, y0, sx, sy, ci,
                                                 group, ov, a)) {
                        t->stats[0] += group;
                        continue;
                    }
                    for (int g = 0; g < group; g++) {
                        herdjpeg_blend_block(rows[g][bx], ov[g], a, dequant[ci + g], requant[ci + g]);
                        t->stats[2]++;
                    }
                }
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
    herdjpeg_huffman_reset(&t->dst, &t->huffman);
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
