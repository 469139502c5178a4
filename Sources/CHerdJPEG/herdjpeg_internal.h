// Internals shared by the shim's .c files; never imported by Swift.
#ifndef HERDJPEG_INTERNAL_H
#define HERDJPEG_INTERNAL_H

#include <setjmp.h>
#include <stdio.h>
#include <jpeglib.h>

#include "CHerdJPEG.h"

#define HERDJPEG_MAX_SCANS 500
#define HERDJPEG_MAX_MEMORY (768L * 1024L * 1024L)

typedef struct herdjpeg_error_mgr {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int code;
    char message[JMSG_LENGTH_MAX + 32];
} herdjpeg_error_mgr;

typedef struct herdjpeg_dest {
    struct jpeg_destination_mgr pub;
    uint8_t *buffer;
    size_t capacity;
    size_t length;
} herdjpeg_dest;

/// The standard Huffman tables, kept from a compressor's first jpeg_set_defaults. libjpeg-turbo's
/// jpeg_set_defaults installs them only into empty slots, so after an optimized encode the slots hold
/// that image's tables and a later non-optimized encode would write symbols they lack.
typedef struct herdjpeg_huffman_defaults {
    JHUFF_TBL dc[2];
    JHUFF_TBL ac[2];
    int saved;
} herdjpeg_huffman_defaults;

/// Call right after every jpeg_set_defaults (or jpeg_copy_critical_parameters): saves the standard
/// tables the first time, puts them back every later time.
void herdjpeg_huffman_reset(j_compress_ptr cinfo, herdjpeg_huffman_defaults *defaults);

void herdjpeg_init_error(herdjpeg_error_mgr *err);
void herdjpeg_set_message(herdjpeg_error_mgr *err, int code, const char *message);
void herdjpeg_progress(j_common_ptr cinfo);
void herdjpeg_fill_info(j_decompress_ptr cinfo, herdjpeg_info *info);
void herdjpeg_dest_attach(j_compress_ptr cinfo, herdjpeg_dest *dest);

#endif
