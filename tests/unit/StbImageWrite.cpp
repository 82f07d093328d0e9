// stb_image_write's implementation (Debian's libstb-dev header): the tests write real JPEG/PNG
// files for the image loaders to read.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
