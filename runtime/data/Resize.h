// Image resizing as tf.image.resize does it (Keras' image_dataset_from_directory calls it), for
// the four methods Keras' `interpolation` names.
#pragma once

namespace cnnc::rt {

enum class Interpolation { bilinear, nearest, bicubic, area };
// Their names in the language (Keras'), in the enum's order: the data source's schema offers these
// choices, and the checked choice's position is the method (builtins/DataSources.cpp).
inline constexpr const char* kInterpolationNames[] = {"bilinear", "nearest", "bicubic", "area"};

// Resizes the crop box (crop_x, crop_y, crop_w, crop_h; -1: the whole image) of an interleaved
// 8-bit image (sw x sh, `channels`) into dst (dw x dh floats, not rounded or clamped, as TF's):
// - bilinear: half-pixel centres (TF's ResizeBilinear, half_pixel_centers);
// - nearest: the pixel under each output centre;
// - bicubic: Keys' cubic (a = -0.5), half-pixel centres, taps outside the image weighted 0 and the
//   rest renormalised (TF's ResizeBicubic with half_pixel_centers, its 1024-step weight table);
// - area: each output pixel the mean of the input area it covers (TF's ResizeArea).
void resize_image(const unsigned char* src, int sw, int sh, int channels, float* dst, int dw, int dh, Interpolation method,
                  int crop_x = 0, int crop_y = 0, int crop_w = -1, int crop_h = -1);

}  // namespace cnnc::rt
