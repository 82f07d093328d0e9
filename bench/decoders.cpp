// Decode throughput, images per second on one core, of the decoders cnnc could use: JPEG with
// stb_image, libjpeg-turbo's libjpeg API (what runtime/data/Jpeg.cpp uses) and its TurboJPEG API;
// PNG with stb_image and libpng (runtime/data/Png.cpp, which verifies checksums). The images are
// generated at Kaggle cats-vs-dogs' size (500 x 375, RGB): smooth shapes plus noise, JPEG at
// quality 90, written with stb_image_write. Also the whole per-image path of a streamed member
// (decode, resize to 180 x 180 floats: data::decode_image). Usage: cnnc_decode_bench [--images N]
// [--seconds S]. `cnnc_decode_bench --make-folder DIR N` instead writes N such JPEGs (half in
// DIR/cats, half in DIR/dogs) once, the folder bench/stream measures training on.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#include <turbojpeg.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "data/ImageFolder.h"
#include "data/Jpeg.h"
#include "data/Png.h"

namespace {

using Bytes = std::vector<unsigned char>;

void append(void* ctx, void* data, int n) {
    auto* b = static_cast<Bytes*>(ctx);
    b->insert(b->end(), static_cast<unsigned char*>(data), static_cast<unsigned char*>(data) + n);
}

Bytes picture(int i, int w, int h, bool jpeg) {
    std::vector<unsigned char> px(size_t(w) * h * 3);
    unsigned s = 12345u + unsigned(i) * 7919u;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                s = s * 1103515245u + 12345u;
                double v = 128 + 90 * std::sin((x + 17 * i) * 0.02 * (c + 1)) * std::cos((y - 5 * i) * 0.015) + int(s >> 28) - 8;
                px[(size_t(y) * w + x) * 3 + c] = static_cast<unsigned char>(std::fmax(0, std::fmin(255, v)));
            }
    Bytes out;
    if (jpeg) stbi_write_jpg_to_func(append, &out, w, h, 3, px.data(), 90);
    else stbi_write_png_to_func(append, &out, w, h, 3, px.data(), w * 3);
    return out;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Images per second of `decode` over `files`, repeated for at least `seconds`.
double rate(const std::vector<Bytes>& files, double seconds, const std::function<void(const Bytes&)>& decode) {
    size_t done = 0;
    const double t0 = now();
    while (now() - t0 < seconds)
        for (const Bytes& f : files) decode(f), ++done;
    return double(done) / (now() - t0);
}

void check(unsigned char* px, const char* what) {
    if (!px) std::fprintf(stderr, "%s failed\n", what), std::exit(1);
    std::free(px);
}

}  // namespace

// N JPEGs of Kaggle's size in DIR/cats and DIR/dogs (skipping those already there): 1,000 distinct
// pictures, repeated under new names, so that making 25,000 takes a minute, not an hour of encoding.
int make_folder(const std::string& dir, int n) {
    for (const char* c : {"cats", "dogs"})
        if (std::system(("mkdir -p '" + dir + "/" + c + "'").c_str()) != 0) return 1;
    std::vector<Bytes> distinct;
    for (int i = 0; i < n; ++i) {
        std::string path = dir + (i % 2 ? "/dogs/dog." : "/cats/cat.") + std::to_string(i / 2) + ".jpg";
        if (access(path.c_str(), F_OK) == 0) continue;
        if (distinct.size() < 1000) distinct.push_back(picture(i, 500, 375, true));
        const Bytes& b = distinct[size_t(i) % distinct.size()];
        FILE* f = std::fopen(path.c_str(), "wb");
        if (!f || std::fwrite(b.data(), 1, b.size(), f) != b.size() || std::fclose(f) != 0) return 1;
    }
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 4 && !std::strcmp(argv[1], "--make-folder")) return make_folder(argv[2], std::atoi(argv[3]));
    int images = 20;
    double seconds = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--images")) images = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    }
    const int w = 500, h = 375;
    std::vector<Bytes> jpegs, pngs;
    for (int i = 0; i < images; ++i) jpegs.push_back(picture(i, w, h, true)), pngs.push_back(picture(i, w, h, false));
    double jbytes = 0, pbytes = 0;
    for (int i = 0; i < images; ++i) jbytes += double(jpegs[size_t(i)].size()), pbytes += double(pngs[size_t(i)].size());
    std::printf("%d images %dx%d RGB: JPEG q90 %.0f KB, PNG %.0f KB on average; one thread, images/s\n", images, w, h,
                jbytes / images / 1e3, pbytes / images / 1e3);
    tjhandle tj = tjInitDecompress();
    std::vector<unsigned char> out(size_t(w) * h * 3);
    std::string why;
    int ow = 0, oh = 0, oc = 0;
    auto row = [&](const char* name, const std::vector<Bytes>& files, const std::function<void(const Bytes&)>& f) {
        std::printf("%-34s %8.1f\n", name, rate(files, seconds, f));
        std::fflush(stdout);
    };
    row("jpeg stb_image", jpegs, [&](const Bytes& b) { check(stbi_load_from_memory(b.data(), int(b.size()), &ow, &oh, &oc, 3), "stb"); });
    row("jpeg libjpeg-turbo (libjpeg API)", jpegs, [&](const Bytes& b) { check(cnnc::rt::decode_jpeg(b.data(), b.size(), 3, ow, oh, why), "libjpeg"); });
    row("jpeg libjpeg-turbo (TurboJPEG API)", jpegs, [&](const Bytes& b) {
        if (tjDecompress2(tj, b.data(), (unsigned long)b.size(), out.data(), w, 0, h, TJPF_RGB, 0) != 0)
            std::fprintf(stderr, "tj: %s\n", tjGetErrorStr2(tj)), std::exit(1);
    });
    row("png stb_image", pngs, [&](const Bytes& b) { check(stbi_load_from_memory(b.data(), int(b.size()), &ow, &oh, &oc, 3), "stb"); });
    row("png libpng", pngs, [&](const Bytes& b) { check(cnnc::rt::decode_png(b.data(), b.size(), 3, ow, oh, why), "libpng"); });
    tjDestroy(tj);

    // The whole path of one streamed image: read the file, decode, resize to 180 x 180 floats.
    char dir[] = "/tmp/cnnc-decode-bench-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    std::vector<std::string> paths;
    for (int i = 0; i < images; ++i) {
        paths.push_back(std::string(dir) + "/" + std::to_string(i) + ".jpg");
        FILE* f = std::fopen(paths.back().c_str(), "wb");
        std::fwrite(jpegs[size_t(i)].data(), 1, jpegs[size_t(i)].size(), f);
        std::fclose(f);
    }
    cnnc::rt::ImageFolderOptions o;
    o.height = o.width = 180;
    std::vector<float> dst(size_t(180) * 180 * 3);
    size_t k = 0;
    row("file -> 180x180 floats (decode_image)", jpegs, [&](const Bytes&) {
        if (!cnnc::rt::decode_image(paths[k++ % paths.size()], o, dst.data(), why)) std::fprintf(stderr, "%s\n", why.c_str()), std::exit(1);
    });
    for (const auto& p : paths) std::remove(p.c_str());
    rmdir(dir);
    return 0;
}
