// stb_image's implementation, from Debian's libstb-dev header, compiled into the runtime so a
// `cnnc build` executable decodes images without a shared libstb.
#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>
