// libpng simplified-API shim. libpng reports failures as text in png_image.message; we map that text
// onto stable result codes once, here.
#include "CHerdPNG.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>

struct herdpng_decoder {
    png_image image;
    int header_read;
    char message[128];
};

struct herdpng_encoder {
    uint8_t *buffer;
    size_t capacity;
    size_t length;
    char message[128];
};

static int herdpng_classify(const char *message) {
    if (strstr(message, "beyond end") || strstr(message, "Not enough") || strstr(message, "Read Error") ||
        strstr(message, "unexpected end") || strstr(message, "truncated"))
        return HERDPNG_ERR_TRUNCATED;
    if (strstr(message, "too large") || strstr(message, "exceeds") || strstr(message, "too big"))
        return HERDPNG_ERR_TOO_LARGE;
    if (strstr(message, "memory") || strstr(message, "Out of"))
        return HERDPNG_ERR_NO_MEMORY;
    if (strstr(message, "unsupported") || strstr(message, "not supported"))
        return HERDPNG_ERR_UNSUPPORTED;
    return HERDPNG_ERR_CORRUPT;
}

static int herdpng_fail(char *dst, png_imagep image) {
    snprintf(dst, 128, "%s", image->message[0] ? image->message : "libpng error");
    int code = herdpng_classify(dst);
    png_image_free(image);
    return code;
}

herdpng_decoder *herdpng_decoder_create(void) { return calloc(1, sizeof(herdpng_decoder)); }

void herdpng_decoder_destroy(herdpng_decoder *d) {
    if (d == NULL) return;
    herdpng_decoder_abort(d);
    free(d);
}

void herdpng_decoder_abort(herdpng_decoder *d) {
    if (d->header_read) png_image_free(&d->image);
    d->header_read = 0;
}

int herdpng_decoder_read_header(herdpng_decoder *d, const uint8_t *data, size_t length, herdpng_info *info) {
    herdpng_decoder_abort(d);
    d->message[0] = 0;
    if (length < 8) {
        snprintf(d->message, sizeof d->message, "PNG data shorter than its signature (%zu bytes)", length);
        return HERDPNG_ERR_TRUNCATED;
    }
    if (png_sig_cmp(data, 0, 8) != 0) {
        snprintf(d->message, sizeof d->message, "not a PNG file: bad signature");
        return HERDPNG_ERR_CORRUPT;
    }
    memset(&d->image, 0, sizeof d->image);
    d->image.version = PNG_IMAGE_VERSION;
    // 16-bit files without gAMA/sRGB are almost always sRGB-encoded camera output, not linear light.
    d->image.flags = PNG_IMAGE_FLAG_16BIT_sRGB;
    if (!png_image_begin_read_from_memory(&d->image, data, length)) return herdpng_fail(d->message, &d->image);
    d->header_read = 1;
    memset(info, 0, sizeof *info);
    info->width = (int32_t)d->image.width;
    info->height = (int32_t)d->image.height;
    info->has_alpha = (d->image.format & PNG_FORMAT_FLAG_ALPHA) ? 1 : 0;
    info->is_color = (d->image.format & PNG_FORMAT_FLAG_COLOR) ? 1 : 0;
    info->is_palette = (d->image.format & PNG_FORMAT_FLAG_COLORMAP) ? 1 : 0;
    info->is_16bit = (d->image.format & PNG_FORMAT_FLAG_LINEAR) ? 1 : 0;
    return HERDPNG_OK;
}

int herdpng_decoder_decode(herdpng_decoder *d, int pixel_format, uint8_t *out, size_t stride) {
    if (!d->header_read) {
        snprintf(d->message, sizeof d->message, "decode called before read_header");
        return HERDPNG_ERR_USAGE;
    }
    switch (pixel_format) {
    case HERDPNG_PIXEL_GRAY: d->image.format = PNG_FORMAT_GRAY; break;
    case HERDPNG_PIXEL_GRAY_ALPHA: d->image.format = PNG_FORMAT_GA; break;
    case HERDPNG_PIXEL_RGB: d->image.format = PNG_FORMAT_RGB; break;
    case HERDPNG_PIXEL_RGBA: d->image.format = PNG_FORMAT_RGBA; break;
    default:
        snprintf(d->message, sizeof d->message, "unknown pixel format");
        herdpng_decoder_abort(d);
        return HERDPNG_ERR_USAGE;
    }
    if (stride > 0x7fffffff) {
        snprintf(d->message, sizeof d->message, "row stride too large");
        herdpng_decoder_abort(d);
        return HERDPNG_ERR_TOO_LARGE;
    }
    // Opaque background for formats without alpha: composite onto black, as decoders conventionally do.
    png_color background = {0, 0, 0};
    d->image.flags |= PNG_IMAGE_FLAG_16BIT_sRGB;
    int ok = png_image_finish_read(&d->image, &background, out, (png_int_32)stride, NULL);
    d->header_read = 0; // finish_read frees the image on success and on failure
    if (!ok) {
        snprintf(d->message, sizeof d->message, "%s", d->image.message[0] ? d->image.message : "libpng error");
        return herdpng_classify(d->message);
    }
    return HERDPNG_OK;
}

const char *herdpng_decoder_message(const herdpng_decoder *d) { return d->message; }

herdpng_encoder *herdpng_encoder_create(void) { return calloc(1, sizeof(herdpng_encoder)); }

void herdpng_encoder_destroy(herdpng_encoder *e) {
    if (e == NULL) return;
    free(e->buffer);
    free(e);
}

int herdpng_encoder_encode(herdpng_encoder *e, const uint8_t *pixels, int32_t width, int32_t height, size_t stride,
                           int pixel_format, int fast) {
    e->length = 0;
    e->message[0] = 0;
    if (width <= 0 || height <= 0 || stride > 0x7fffffff) {
        snprintf(e->message, sizeof e->message, "image dimensions out of range for PNG");
        return HERDPNG_ERR_TOO_LARGE;
    }
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    switch (pixel_format) {
    case HERDPNG_PIXEL_GRAY: image.format = PNG_FORMAT_GRAY; break;
    case HERDPNG_PIXEL_GRAY_ALPHA: image.format = PNG_FORMAT_GA; break;
    case HERDPNG_PIXEL_RGB: image.format = PNG_FORMAT_RGB; break;
    case HERDPNG_PIXEL_RGBA: image.format = PNG_FORMAT_RGBA; break;
    default:
        snprintf(e->message, sizeof e->message, "unknown pixel format");
        return HERDPNG_ERR_USAGE;
    }
    if (fast) image.flags |= PNG_IMAGE_FLAG_FAST;
    // The worst case (stored, uncompressed deflate blocks) bounds the output; size the buffer once.
    size_t needed = (size_t)PNG_IMAGE_PNG_SIZE_MAX(image);
    if (needed > e->capacity) {
        uint8_t *grown = realloc(e->buffer, needed);
        if (grown == NULL) {
            snprintf(e->message, sizeof e->message, "out of memory for a %zu-byte PNG buffer", needed);
            return HERDPNG_ERR_NO_MEMORY;
        }
        e->buffer = grown;
        e->capacity = needed;
    }
    png_alloc_size_t size = e->capacity;
    if (!png_image_write_to_memory(&image, e->buffer, &size, 0, pixels, (png_int_32)stride, NULL))
        return herdpng_fail(e->message, &image);
    e->length = size;
    return HERDPNG_OK;
}

const uint8_t *herdpng_encoder_output(const herdpng_encoder *e, size_t *length) {
    *length = e->length;
    return e->buffer;
}

const char *herdpng_encoder_message(const herdpng_encoder *e) { return e->message; }
