#include "data/Jpeg.h"

#include <csetjmp>
#include <cstdint>
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first
#include <cstdlib>

#include <jpeglib.h>
#include <jerror.h>

#include "data/Png.h"

namespace cnnc::rt {

bool is_jpeg(const unsigned char* data, size_t size) { return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF; }

namespace {

// libjpeg reports errors by calling error_exit, which must not return: it longjmps back to decode(),
// so decode() holds no C++ objects with destructors.
struct Errors {
    jpeg_error_mgr mgr;  // first: libjpeg passes &mgr, which is also the Errors
    std::jmp_buf jump;
    char why[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr cinfo) {
    auto* e = reinterpret_cast<Errors*>(cinfo->err);
    cinfo->err->format_message(cinfo, e->why);
    std::longjmp(e->jump, 1);
}

// Level -1 is a warning. Most mean corrupt data that libjpeg decodes anyway (grey blocks for a
// truncated file): an error, as TensorFlow makes a truncated file. A few only concern metadata.
void on_message(j_common_ptr cinfo, int level) {
    if (level >= 0) return;  // trace messages
    switch (cinfo->err->msg_code) {
        case JWRN_EXTRANEOUS_DATA:  // bytes between segments, skipped
        case JWRN_JFIF_MAJOR:       // an unknown JFIF version number
        case JWRN_BOGUS_ICC:        // a damaged colour profile, which cnnc does not use
            return;
        default:
            on_error(cinfo);
    }
}

// A progressive JPEG may hold any number of scans, each a pass over the whole image: a small file
// with thousands of them is a decompression bomb of time. libjpeg-turbo's own limit (its
// TJFLAG_LIMITSCANS) is 500.
void on_progress(j_common_ptr cinfo) {
    auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (d->is_decompressor && d->input_scan_number > 500) {
        std::snprintf(reinterpret_cast<Errors*>(cinfo->err)->why, JMSG_LENGTH_MAX, "more than 500 progressive scans");
        std::longjmp(reinterpret_cast<Errors*>(cinfo->err)->jump, 1);
    }
}

// The decode proper. Returns the pixels (8-bit, `*channels` of them: 1 for a grayscale file, 3
// otherwise) or null with `errors->why` set.
unsigned char* decode(const unsigned char* data, size_t size, Errors* errors, int* width, int* height, int* channels) {
    jpeg_decompress_struct cinfo;
    jpeg_progress_mgr progress;
    unsigned char* volatile pixels = nullptr;
    cinfo.err = jpeg_std_error(&errors->mgr);
    errors->mgr.error_exit = on_error;
    errors->mgr.emit_message = on_message;
    if (setjmp(errors->jump)) {
        std::free(pixels);
        jpeg_destroy_decompress(&cinfo);
        return nullptr;
    }
    jpeg_create_decompress(&cinfo);
    progress.progress_monitor = on_progress;
    cinfo.progress = &progress;
    jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
    jpeg_read_header(&cinfo, TRUE);
    if (uint64_t(cinfo.image_width) * cinfo.image_height > kMaxImagePixels) {
        std::snprintf(errors->why, JMSG_LENGTH_MAX, "it declares %u x %u pixels, more than cnnc decodes (a decompression bomb?)",
                      cinfo.image_width, cinfo.image_height);
        std::longjmp(errors->jump, 1);
    }
    cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    const size_t stride = size_t(cinfo.output_width) * size_t(cinfo.output_components);
    pixels = static_cast<unsigned char*>(std::malloc(stride * cinfo.output_height));
    if (!pixels) ERREXIT(&cinfo, JERR_OUT_OF_MEMORY);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + stride * cinfo.output_scanline;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);  // reads to the end: a warning about what follows is an error too
    *width = static_cast<int>(cinfo.output_width), *height = static_cast<int>(cinfo.output_height);
    *channels = cinfo.output_components;
    jpeg_destroy_decompress(&cinfo);
    return pixels;
}

}  // namespace

unsigned char* decode_jpeg(const unsigned char* data, size_t size, int channels, int& width, int& height, std::string& why) {
    Errors errors{};
    int stored = 0;
    unsigned char* px = decode(data, size, &errors, &width, &height, &stored);
    if (!px) {
        why = errors.why[0] ? errors.why : "out of memory";
        return nullptr;
    }
    return convert_channels(px, stored, channels, width, height, why);
}

}  // namespace cnnc::rt
