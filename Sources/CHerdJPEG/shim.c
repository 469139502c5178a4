// libjpeg-turbo shim. libjpeg reports fatal errors by calling error_exit, which must not return;
// we longjmp back to the shim function that called into libjpeg, always a frame in this file, and
// turn the failure into a result code plus a message. Warnings that mean damaged data (premature end,
// bad Huffman code) are promoted to errors so a truncated frame is rejected rather than padded grey.
#include "CHerdJPEG.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jerror.h>

#include "herdjpeg_internal.h"


static int herdjpeg_classify(int msg_code) {
    switch (msg_code) {
    case JWRN_JPEG_EOF:
    case JERR_INPUT_EMPTY:
    case JERR_INPUT_EOF:
        return HERDJPEG_ERR_TRUNCATED;
    case JERR_IMAGE_TOO_BIG:
    case JERR_WIDTH_OVERFLOW:
        return HERDJPEG_ERR_TOO_LARGE;
    case JERR_OUT_OF_MEMORY:
    case JERR_NO_BACKING_STORE:
    case JERR_TFILE_CREATE:
        return HERDJPEG_ERR_NO_MEMORY;
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
    case JERR_ARITH_NOTIMPL:
    case JERR_BAD_J_COLORSPACE:
    case JERR_CCIR601_NOTIMPL:
        return HERDJPEG_ERR_UNSUPPORTED;
    default:
        return HERDJPEG_ERR_CORRUPT;
    }
}

static void herdjpeg_error_exit(j_common_ptr cinfo) {
    herdjpeg_error_mgr *err = (herdjpeg_error_mgr *)cinfo->err;
    err->code = herdjpeg_classify(err->pub.msg_code);
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void herdjpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    herdjpeg_error_mgr *err = (herdjpeg_error_mgr *)cinfo->err;
    if (msg_level != -1) return; // trace messages
    err->pub.num_warnings++;
    switch (err->pub.msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
        err->code = err->pub.msg_code == JWRN_JPEG_EOF || err->pub.msg_code == JWRN_HIT_MARKER
                        ? HERDJPEG_ERR_TRUNCATED
                        : HERDJPEG_ERR_CORRUPT;
        (*cinfo->err->format_message)(cinfo, err->message);
        longjmp(err->jump, 1);
    default:
        return; // benign: extraneous bytes, unknown JFIF revision, odd Adobe marker, bad ICC
    }
}

static void herdjpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

void herdjpeg_init_error(herdjpeg_error_mgr *err) {
    jpeg_std_error(&err->pub);
    err->pub.error_exit = herdjpeg_error_exit;
    err->pub.emit_message = herdjpeg_emit_message;
    err->pub.output_message = herdjpeg_output_message;
    err->code = HERDJPEG_OK;
    err->message[0] = 0;
}

void herdjpeg_set_message(herdjpeg_error_mgr *err, int code, const char *message) {
    err->code = code;
    snprintf(err->message, sizeof err->message, "%s", message);
}

// A progressive JPEG with thousands of tiny scans costs seconds of CPU; refuse it.
void herdjpeg_progress(j_common_ptr cinfo) {
    if (cinfo->is_decompressor) {
        j_decompress_ptr d = (j_decompress_ptr)cinfo;
        if (d->input_scan_number > HERDJPEG_MAX_SCANS) {
            herdjpeg_error_mgr *err = (herdjpeg_error_mgr *)cinfo->err;
            herdjpeg_set_message(err, HERDJPEG_ERR_CORRUPT, "JPEG has more than 500 scans");
            longjmp(err->jump, 1);
        }
    }
}

static int herdjpeg_color_space(J_COLOR_SPACE cs) {
    switch (cs) {
    case JCS_GRAYSCALE: return HERDJPEG_CS_GRAY;
    case JCS_YCbCr: return HERDJPEG_CS_YCBCR;
    case JCS_RGB: return HERDJPEG_CS_RGB;
    case JCS_CMYK: return HERDJPEG_CS_CMYK;
    case JCS_YCCK: return HERDJPEG_CS_YCCK;
    default: return HERDJPEG_CS_UNKNOWN;
    }
}

static uint32_t herdjpeg_read16(const uint8_t *p, int le) { return le ? (uint32_t)(p[0] | (p[1] << 8)) : (uint32_t)((p[0] << 8) | p[1]); }
static uint32_t herdjpeg_read32(const uint8_t *p, int le) {
    return le ? ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24))
              : (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

// EXIF orientation from an APP1 "Exif\0\0" marker: TIFF header, IFD0, tag 0x0112. Bounds-checked.
static int herdjpeg_exif_orientation(j_decompress_ptr cinfo) {
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next) {
        if (m->marker != JPEG_APP0 + 1 || m->data_length < 14) continue;
        const uint8_t *d = m->data;
        if (memcmp(d, "Exif\0\0", 6) != 0) continue;
        const uint8_t *t = d + 6;
        size_t n = m->data_length - 6;
        int le;
        if (t[0] == 'I' && t[1] == 'I') le = 1;
        else if (t[0] == 'M' && t[1] == 'M') le = 0;
        else continue;
        uint32_t ifd = herdjpeg_read32(t + 4, le);
        if (ifd < 8 || (size_t)ifd + 2 > n) continue;
        uint32_t count = herdjpeg_read16(t + ifd, le);
        for (uint32_t i = 0; i < count; i++) {
            size_t e = (size_t)ifd + 2 + (size_t)i * 12;
            if (e + 12 > n) break;
            if (herdjpeg_read16(t + e, le) == 0x0112) {
                uint32_t v = herdjpeg_read16(t + e + 8, le);
                return (v >= 1 && v <= 8) ? (int)v : 1;
            }
        }
    }
    return 1;
}

void herdjpeg_fill_info(j_decompress_ptr cinfo, herdjpeg_info *info) {
    memset(info, 0, sizeof *info);
    info->width = (int32_t)cinfo->image_width;
    info->height = (int32_t)cinfo->image_height;
    info->output_width = (int32_t)cinfo->output_width;
    info->output_height = (int32_t)cinfo->output_height;
    info->components = cinfo->num_components;
    info->color_space = herdjpeg_color_space(cinfo->jpeg_color_space);
    info->progressive = cinfo->progressive_mode ? 1 : 0;
    info->orientation = herdjpeg_exif_orientation(cinfo);
    for (int i = 0; i < cinfo->num_components && i < 4; i++) {
        info->h_samp[i] = cinfo->comp_info[i].h_samp_factor;
        info->v_samp[i] = cinfo->comp_info[i].v_samp_factor;
    }
}

// MARK: - Decoder

struct herdjpeg_decoder {
    struct jpeg_decompress_struct cinfo;
    herdjpeg_error_mgr err;
    struct jpeg_progress_mgr progress;
    int header_read;
};

herdjpeg_decoder *herdjpeg_decoder_create(void) {
    herdjpeg_decoder *d = calloc(1, sizeof *d);
    if (d == NULL) return NULL;
    herdjpeg_init_error(&d->err);
    d->cinfo.err = &d->err.pub;
    if (setjmp(d->err.jump)) {
        free(d);
        return NULL;
    }
    jpeg_create_decompress(&d->cinfo);
    d->cinfo.mem->max_memory_to_use = HERDJPEG_MAX_MEMORY;
    d->progress.progress_monitor = herdjpeg_progress;
    return d;
}

void herdjpeg_decoder_destroy(herdjpeg_decoder *d) {
    if (d == NULL) return;
    jpeg_destroy_decompress(&d->cinfo);
    free(d);
}

int herdjpeg_decoder_read_header(herdjpeg_decoder *d, const uint8_t *data, size_t length, int scale_denom,
                                 herdjpeg_info *info) {
    herdjpeg_init_error(&d->err);
    if (d->header_read) {
        jpeg_abort_decompress(&d->cinfo);
        d->header_read = 0;
    }
    if (length == 0) {
        herdjpeg_set_message(&d->err, HERDJPEG_ERR_TRUNCATED, "empty JPEG data");
        return d->err.code;
    }
    if (scale_denom != 1 && scale_denom != 2 && scale_denom != 4 && scale_denom != 8) {
        herdjpeg_set_message(&d->err, HERDJPEG_ERR_USAGE, "scale must be 1, 2, 4 or 8");
        return d->err.code;
    }
    if (setjmp(d->err.jump)) {
        jpeg_abort_decompress(&d->cinfo);
        d->header_read = 0;
        return d->err.code;
    }
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, data, (unsigned long)length);
    jpeg_save_markers(&d->cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&d->cinfo, TRUE);
    d->header_read = 1;
    d->cinfo.scale_num = 1;
    d->cinfo.scale_denom = (unsigned int)scale_denom;
    jpeg_calc_output_dimensions(&d->cinfo);
    herdjpeg_fill_info(&d->cinfo, info);
    return HERDJPEG_OK;
}

int herdjpeg_decoder_decode(herdjpeg_decoder *d, int pixel_format, uint8_t *out, size_t stride) {
    if (!d->header_read) {
        herdjpeg_set_message(&d->err, HERDJPEG_ERR_USAGE, "decode called before read_header");
        return d->err.code;
    }
    herdjpeg_init_error(&d->err);
    if (setjmp(d->err.jump)) {
        jpeg_abort_decompress(&d->cinfo);
        d->header_read = 0;
        return d->err.code;
    }
    switch (pixel_format) {
    case HERDJPEG_PIXEL_GRAY: d->cinfo.out_color_space = JCS_GRAYSCALE; break;
    case HERDJPEG_PIXEL_RGB: d->cinfo.out_color_space = JCS_EXT_RGB; break;
    case HERDJPEG_PIXEL_RGBA: d->cinfo.out_color_space = JCS_EXT_RGBA; break;
    default:
        herdjpeg_set_message(&d->err, HERDJPEG_ERR_USAGE, "unknown pixel format");
        longjmp(d->err.jump, 1);
    }
    if (d->cinfo.jpeg_color_space == JCS_CMYK || d->cinfo.jpeg_color_space == JCS_YCCK) {
        herdjpeg_set_message(&d->err, HERDJPEG_ERR_UNSUPPORTED, "CMYK/YCCK JPEG is not supported");
        longjmp(d->err.jump, 1);
    }
    d->cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&d->cinfo);
    while (d->cinfo.output_scanline < d->cinfo.output_height) {
        JSAMPROW row = out + (size_t)d->cinfo.output_scanline * stride;
        jpeg_read_scanlines(&d->cinfo, &row, 1);
    }
    jpeg_finish_decompress(&d->cinfo);
    d->header_read = 0;
    return HERDJPEG_OK;
}

void herdjpeg_decoder_abort(herdjpeg_decoder *d) {
    if (d->header_read) jpeg_abort_decompress(&d->cinfo);
    d->header_read = 0;
}

const char *herdjpeg_decoder_message(const herdjpeg_decoder *d) { return d->err.message; }

// MARK: - Growable memory destination (owned buffer, reused across frames)

static void herdjpeg_dest_init(j_compress_ptr cinfo) {
    herdjpeg_dest *dest = (herdjpeg_dest *)cinfo->dest;
    if (dest->buffer == NULL) {
        dest->capacity = 256 * 1024;
        dest->buffer = malloc(dest->capacity);
        if (dest->buffer == NULL) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
    }
    dest->pub.next_output_byte = dest->buffer;
    dest->pub.free_in_buffer = dest->capacity;
    dest->length = 0;
}

static boolean herdjpeg_dest_empty(j_compress_ptr cinfo) {
    herdjpeg_dest *dest = (herdjpeg_dest *)cinfo->dest;
    size_t grown = dest->capacity * 2;
    uint8_t *next = realloc(dest->buffer, grown);
    if (next == NULL) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
    dest->pub.next_output_byte = next + dest->capacity;
    dest->pub.free_in_buffer = grown - dest->capacity;
    dest->buffer = next;
    dest->capacity = grown;
    return TRUE;
}

static void herdjpeg_dest_term(j_compress_ptr cinfo) {
    herdjpeg_dest *dest = (herdjpeg_dest *)cinfo->dest;
    dest->length = dest->capacity - dest->pub.free_in_buffer;
}

void herdjpeg_dest_attach(j_compress_ptr cinfo, herdjpeg_dest *dest) {
    dest->pub.init_destination = herdjpeg_dest_init;
    dest->pub.empty_output_buffer = herdjpeg_dest_empty;
    dest->pub.term_destination = herdjpeg_dest_term;
    cinfo->dest = &dest->pub;
}

void herdjpeg_huffman_reset(j_compress_ptr cinfo, herdjpeg_huffman_defaults *d) {
    for (int i = 0; i < 2; i++) {
        JHUFF_TBL *dc = cinfo->dc_huff_tbl_ptrs[i], *ac = cinfo->ac_huff_tbl_ptrs[i];
        if (dc == NULL || ac == NULL) ERREXIT(cinfo, JERR_BAD_HUFF_TABLE);
        if (d->saved) {
            *dc = d->dc[i];
            *ac = d->ac[i];
        } else {
            d->dc[i] = *dc;
            d->ac[i] = *ac;
        }
        dc->sent_table = FALSE;
        ac->sent_table = FALSE;
    }
    d->saved = 1;
}

// MARK: - Encoder

struct herdjpeg_encoder {
    struct jpeg_compress_struct cinfo;
    herdjpeg_error_mgr err;
    herdjpeg_dest dest;
    herdjpeg_huffman_defaults huffman;
};

herdjpeg_encoder *herdjpeg_encoder_create(void) {
    herdjpeg_encoder *e = calloc(1, sizeof *e);
    if (e == NULL) return NULL;
    herdjpeg_init_error(&e->err);
    e->cinfo.err = &e->err.pub;
    if (setjmp(e->err.jump)) {
        free(e);
        return NULL;
    }
    jpeg_create_compress(&e->cinfo);
    herdjpeg_dest_attach(&e->cinfo, &e->dest);
    return e;
}

void herdjpeg_encoder_destroy(herdjpeg_encoder *e) {
    if (e == NULL) return;
    jpeg_destroy_compress(&e->cinfo);
    free(e->dest.buffer);
    free(e);
}

static void herdjpeg_set_sampling(j_compress_ptr cinfo, int subsampling) {
    if (cinfo->num_components != 3) return;
    int h = subsampling == 444 ? 1 : 2;
    int v = subsampling == 420 ? 2 : 1;
    cinfo->comp_info[0].h_samp_factor = h;
    cinfo->comp_info[0].v_samp_factor = v;
    for (int i = 1; i < 3; i++) {
        cinfo->comp_info[i].h_samp_factor = 1;
        cinfo->comp_info[i].v_samp_factor = 1;
    }
}

int herdjpeg_encoder_encode(herdjpeg_encoder *e, const uint8_t *pixels, int32_t width, int32_t height,
                            size_t stride, int pixel_format, int quality, int subsampling, int progressive,
                            int optimize_coding) {
    herdjpeg_init_error(&e->err);
    e->dest.length = 0;
    if (width <= 0 || height <= 0 || width > JPEG_MAX_DIMENSION || height > JPEG_MAX_DIMENSION) {
        herdjpeg_set_message(&e->err, HERDJPEG_ERR_TOO_LARGE, "image dimensions out of range for JPEG");
        return e->err.code;
    }
    if (setjmp(e->err.jump)) {
        jpeg_abort_compress(&e->cinfo);
        return e->err.code;
    }
    e->cinfo.image_width = (JDIMENSION)width;
    e->cinfo.image_height = (JDIMENSION)height;
    switch (pixel_format) {
    case HERDJPEG_PIXEL_GRAY: e->cinfo.input_components = 1; e->cinfo.in_color_space = JCS_GRAYSCALE; break;
    case HERDJPEG_PIXEL_RGB: e->cinfo.input_components = 3; e->cinfo.in_color_space = JCS_EXT_RGB; break;
    case HERDJPEG_PIXEL_RGBA: e->cinfo.input_components = 4; e->cinfo.in_color_space = JCS_EXT_RGBX; break;
    default:
        herdjpeg_set_message(&e->err, HERDJPEG_ERR_USAGE, "unknown pixel format");
        return e->err.code;
    }
    jpeg_set_defaults(&e->cinfo);
    herdjpeg_huffman_reset(&e->cinfo, &e->huffman);
    jpeg_set_quality(&e->cinfo, quality < 1 ? 1 : (quality > 100 ? 100 : quality), TRUE);
    herdjpeg_set_sampling(&e->cinfo, subsampling);
    e->cinfo.dct_method = JDCT_ISLOW;
    e->cinfo.optimize_coding = optimize_coding ? TRUE : FALSE;
    if (progressive) jpeg_simple_progression(&e->cinfo);
    jpeg_start_compress(&e->cinfo, TRUE);
    while (e->cinfo.next_scanline < e->cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)e->cinfo.next_scanline * stride);
        jpeg_write_scanlines(&e->cinfo, &row, 1);
    }
    jpeg_finish_compress(&e->cinfo);
    return HERDJPEG_OK;
}

const uint8_t *herdjpeg_encoder_output(const herdjpeg_encoder *e, size_t *length) {
    *length = e->dest.length;
    return e->dest.buffer;
}

const char *herdjpeg_encoder_message(const herdjpeg_encoder *e) { return e->err.message; }
