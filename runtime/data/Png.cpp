#include "data/Png.h"

#include <png.h>

#include <cstdlib>
#include <cstring>

namespace cnnc::rt {

bool is_png(const unsigned char* data, size_t size) { return size >= 8 && png_sig_cmp(data, 0, 8) == 0; }

namespace {

// What libpng's callbacks share: the bytes still to read and the first error's message. Plain
// data only: libpng reports errors by longjmp, which skips C++ destructors.
struct Source {
    const unsigned char* data;
    size_t size, at;
    char why[256];
};

void on_error(png_structp png, png_const_charp msg) {
    auto* s = static_cast<Source*>(png_get_error_ptr(png));
    std::snprintf(s->why, sizeof s->why, "%s", msg);
    png_longjmp(png, 1);
}

void on_warning(png_structp, png_const_charp) {}  // ancillary-chunk trouble: the pixels are still right

void on_read(png_structp png, png_bytep out, size_t n) {
    auto* s = static_cast<Source*>(png_get_io_ptr(png));
    if (n > s->size - s->at) png_error(png, "truncated file");
    std::memcpy(out, s->data + s->at, n);
    s->at += n;
}

// The decode proper, free of C++ objects with destructors because of the longjmp. Returns the
// pixels (8-bit, `*channels` as stored, after expanding palettes and transparency) or null.
unsigned char* decode(Source* src, int* width, int* height, int* channels) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, src, on_error, on_warning);
    if (!png) return nullptr;
    png_infop info = png_create_info_struct(png);
    unsigned char* volatile pixels = nullptr;
    png_bytep* volatile rows = nullptr;
    if (!info || setjmp(png_jmpbuf(png))) {
        std::free(pixels);
        std::free(rows);
        png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
        return nullptr;
    }
    png_set_read_fn(png, src, on_read);
    png_set_user_limits(png, 1u << 24, 1u << 24);
    png_read_info(png, info);
    if (uint64_t(png_get_image_width(png, info)) * png_get_image_height(png, info) > kMaxImagePixels)
        png_error(png, "the image declares more pixels than cnnc decodes (a decompression bomb?)");
    png_set_expand(png);     // palette to RGB, gray below 8 bits to 8, tRNS to alpha
    png_set_strip_16(png);   // 16 bits to 8 by the high byte, as stb_image and TF do
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    size_t stride = png_get_rowbytes(png, info);
    *channels = png_get_channels(png, info);
    pixels = static_cast<unsigned char*>(std::malloc(stride * h));
    rows = static_cast<png_bytep*>(std::malloc(sizeof(png_bytep) * h));
    if (!pixels || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < h; ++y) rows[y] = pixels + y * stride;
    png_read_image(png, rows);
    png_read_end(png, nullptr);  // the chunks after the image data: their CRCs too
    std::free(rows);
    png_destroy_read_struct(&png, &info, nullptr);
    *width = static_cast<int>(w), *height = static_cast<int>(h);
    return pixels;
}

}  // namespace

unsigned char* decode_png(const unsigned char* data, size_t size, int channels, int& width, int& height, std::string& why) {
    Source src{data, size, 0, {}};
    int stored = 0;
    unsigned char* px = decode(&src, &width, &height, &stored);
    if (!px) {
        why = src.why[0] ? src.why : "out of memory";
        return nullptr;
    }
    return convert_channels(px, stored, channels, width, height, why);
}

}  // namespace cnnc::rt
